//! A hostile BGP peer: a script on the router's segment that the speaker peers with, next to the
//! lab's FRR. The script speaks just enough BGP to get each case where it wants it, sends one bad
//! message, and reads what the speaker answers. Each error that RFC 4271 section 6 says resets the
//! session gets exactly its NOTIFICATION (code, subcode, data) and a closed connection; each that
//! RFC 7606 says to treat as withdraw (or RFC 4271 says to ignore) leaves the session up. All the
//! while, the session with FRR stays Established and the Service's route stays in FRR.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{host_prefix, ips, lb_service, ready, wait_accepted, wait_ingress, wait_nexthops};
use ferrolb_lab::{Lab, LabOptions, Mode};
use ferrolb_speaker::rawsock::enter_network_namespace;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Where the script listens: an address the test adds to the router's node-facing interface, and a
/// port of its own (FRR holds 179 on every address there).
const HOSTILE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 5);
const HOSTILE_PORT: u16 = 1179;
const HOSTILE_AS: u32 = 64513;
const NODE: &str = "198.51.100.11";

const CONFIG: &str = "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: hostile}\n\
    spec: {myASN: 64600, peerASN: 64513, peerAddress: 198.51.100.5, peerPort: 1179, holdTime: 9s, keepaliveTime: 3s, connectTime: 1s}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\nspec: {addresses: [203.0.113.0/24]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n";

const OPEN: u8 = 1;
const UPDATE: u8 = 2;
const NOTIFICATION: u8 = 3;
const KEEPALIVE: u8 = 4;

/// A whole message: marker, length, type, body.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xff; 16];
    out.extend_from_slice(&u16::try_from(19 + body.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
    out
}

/// An OPEN with the multiprotocol (IPv4 unicast) and 4-octet AS capabilities.
fn open(version: u8, asn: u32, hold: u16) -> Vec<u8> {
    let mut capabilities = vec![1, 4, 0, 1, 0, 1, 65, 4];
    capabilities.extend_from_slice(&asn.to_be_bytes());
    let two_octet = u16::try_from(asn).unwrap_or(23456);
    let mut body = vec![version];
    body.extend_from_slice(&two_octet.to_be_bytes());
    body.extend_from_slice(&hold.to_be_bytes());
    body.extend_from_slice(&HOSTILE.octets());
    body.push(u8::try_from(capabilities.len() + 2).unwrap_or(0));
    body.extend_from_slice(&[2, u8::try_from(capabilities.len()).unwrap_or(0)]);
    body.extend_from_slice(&capabilities);
    message(OPEN, &body)
}

/// An UPDATE announcing 192.0.2.0/24 with these path attributes (each flags, type, length, value).
fn update(attributes: &[&[u8]]) -> Vec<u8> {
    let attrs: Vec<u8> = attributes.concat();
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).unwrap_or(0).to_be_bytes());
    body.extend_from_slice(&attrs);
    body.extend_from_slice(&[24, 192, 0, 2]);
    message(UPDATE, &body)
}

const ORIGIN: &[u8] = &[0x40, 1, 1, 0];
const AS_PATH: &[u8] = &[0x40, 2, 6, 2, 1, 0, 0, 0xfb, 0xc1];
const NEXT_HOP: &[u8] = &[0x40, 3, 4, 198, 51, 100, 5];

/// What the speaker said last on a connection.
#[derive(Debug, PartialEq, Eq)]
enum Heard {
    /// A NOTIFICATION: code, subcode, data; the connection closed after it.
    Notification(u8, u8, Vec<u8>),
    /// Nothing but KEEPALIVEs and UPDATEs within the wait: the session is up.
    StillUp,
}

struct Conn(TcpStream);

impl Conn {
    fn send(&mut self, bytes: &[u8]) -> Result {
        self.0.write_all(bytes)?;
        Ok(())
    }

    /// The next message (type, body), or None when the connection closed or `wait` passed.
    fn next(&mut self, wait: Duration) -> Result<Option<(u8, Vec<u8>)>> {
        self.0.set_read_timeout(Some(wait))?;
        let mut header = [0u8; 19];
        match self.0.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Ok(None);
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let len = usize::from(u16::from_be_bytes([header[16], header[17]]));
        let mut body = vec![0u8; len.saturating_sub(19)];
        self.0.read_exact(&mut body)?;
        Ok(Some((header[18], body)))
    }

    /// Reads until a message of `kind` (skipping KEEPALIVEs and UPDATEs); fails on anything else.
    fn expect(&mut self, kind: u8) -> Result<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.next(Duration::from_secs(10))? {
                Some((k, body)) if k == kind => return Ok(body),
                Some((KEEPALIVE | UPDATE, _)) => {}
                Some((k, body)) => return Err(format!("wanted message type {kind}, got {k}: {body:?}").into()),
                None => return Err(format!("connection closed or silent while waiting for type {kind}").into()),
            }
        }
        Err(format!("no message of type {kind} within 10 s").into())
    }

    /// What the speaker answers within `wait`: a NOTIFICATION (then the close is checked), or
    /// nothing but KEEPALIVEs and UPDATEs.
    fn answer(&mut self, wait: Duration) -> Result<Heard> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Heard::StillUp);
            }
            match self.next(left)? {
                Some((NOTIFICATION, body)) => {
                    let (code, subcode) = (body.first().copied().unwrap_or(0), body.get(1).copied().unwrap_or(0));
                    let data = body.get(2..).unwrap_or_default().to_vec();
                    if self.next(Duration::from_secs(3))?.is_some() {
                        return Err("the speaker sent more after its NOTIFICATION".into());
                    }
                    return Ok(Heard::Notification(code, subcode, data));
                }
                Some((KEEPALIVE | UPDATE, _)) => {}
                Some((kind, body)) => return Err(format!("unexpected message type {kind}: {body:?}").into()),
                None if Instant::now() < deadline => return Err("the speaker closed without a NOTIFICATION".into()),
                None => return Ok(Heard::StillUp),
            }
        }
    }
}

/// The script's listening socket, bound inside the router's namespace.
struct Script(TcpListener);

impl Script {
    fn listen(lab: &Lab) -> Result<Self> {
        let ns = std::fs::File::open(format!("/run/netns/{}", lab.netns("router")?))?;
        let listener = std::thread::spawn(move || -> std::result::Result<TcpListener, String> {
            enter_network_namespace(ns.as_fd()).map_err(|e| format!("setns: {e}"))?;
            TcpListener::bind((HOSTILE, HOSTILE_PORT)).map_err(|e| format!("bind {HOSTILE}:{HOSTILE_PORT}: {e}"))
        })
        .join()
        .map_err(|_| "the listening thread panicked")??;
        listener.set_nonblocking(true)?;
        Ok(Self(listener))
    }

    /// The speaker's next connection, with its OPEN read.
    fn accept(&self) -> Result<Conn> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.0.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false)?;
                    let mut conn = Conn(stream);
                    conn.expect(OPEN)?;
                    return Ok(conn);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(format!("no connection from the speaker: {e}").into()),
            }
        }
    }

    /// A session brought to Established (our OPEN and KEEPALIVE sent, the speaker's KEEPALIVE read).
    fn established(&self) -> Result<Conn> {
        let mut conn = self.accept()?;
        conn.send(&open(4, HOSTILE_AS, 9))?;
        conn.send(&message(KEEPALIVE, &[]))?;
        conn.expect(KEEPALIVE)?;
        Ok(conn)
    }
}

/// FRR's count of sessions with the node that were established and dropped.
fn frr_session(lab: &Lab) -> Result<(String, u64, u64)> {
    let pathspace = format!("flb-{}", lab.name());
    let out = lab.exec_ok("router", &["vtysh", "-N", &pathspace, "-c", &format!("show bgp neighbors {NODE} json")])?;
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let peer = &v[NODE];
    Ok((
        peer["bgpState"].as_str().unwrap_or_default().to_owned(),
        peer["connectionsEstablished"].as_u64().unwrap_or_default(),
        peer["connectionsDropped"].as_u64().unwrap_or_default(),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_peer_gets_the_rfc_notifications_and_the_other_session_is_untouched() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 1, mode: Mode::Bgp, ..LabOptions::for_test() }).await?;
    // The script's address, on the router's node-facing interface (gone with the lab).
    let addrs: serde_json::Value = serde_json::from_str(&lab.exec_ok("router", &["ip", "-4", "-j", "addr", "show"])?)?;
    let interface = addrs
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["addr_info"].as_array().into_iter().flatten().any(|a| a["local"] == "198.51.100.1"))
        .and_then(|i| i["ifname"].as_str())
        .ok_or("no router interface with 198.51.100.1")?
        .to_owned();
    lab.exec_ok("router", &["ip", "addr", "add", &format!("{HOSTILE}/24"), "dev", &interface])?;
    let script = Script::listen(&lab)?;
    lab.apply(CONFIG)?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", Duration::from_secs(10)).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, Duration::from_secs(10)).await?.0[0];
    wait_nexthops(&lab, &host_prefix(ip), &ips(&[NODE]), Duration::from_secs(15)).await?;
    let (state, established_before, dropped_before) = frr_session(&lab)?;
    assert_eq!(state, "Established");

    let notification = |code: u8, subcode: u8, data: &[u8]| Heard::Notification(code, subcode, data.to_vec());
    let mut results = Vec::new();
    let mut check = |case: &str, got: Heard, want: Heard| {
        eprintln!("{case}: {got:?}");
        results.push((case.to_owned(), got == want, format!("{got:?}, wanted {want:?}")));
    };

    // Message header errors (RFC 4271 6.1), once Established.
    let mut conn = script.established()?;
    let mut bad_marker = message(KEEPALIVE, &[]);
    bad_marker[0] = 0;
    conn.send(&bad_marker)?;
    check("marker not all ones", conn.answer(Duration::from_secs(3))?, notification(1, 1, &[]));

    let mut conn = script.established()?;
    let mut short = message(KEEPALIVE, &[]);
    short[17] = 18;
    conn.send(&short)?;
    check("length 18", conn.answer(Duration::from_secs(3))?, notification(1, 2, &[0, 18]));

    let mut conn = script.established()?;
    conn.send(&message(200, &[]))?;
    check("type 200", conn.answer(Duration::from_secs(3))?, notification(1, 3, &[200]));

    // OPEN errors (RFC 4271 6.2).
    let mut conn = script.accept()?;
    conn.send(&open(3, HOSTILE_AS, 9))?;
    check("OPEN version 3", conn.answer(Duration::from_secs(3))?, notification(2, 1, &[0, 4]));

    let mut conn = script.accept()?;
    conn.send(&open(4, 64999, 9))?;
    check("OPEN from AS 64999 (64513 configured)", conn.answer(Duration::from_secs(3))?, notification(2, 2, &[]));

    let mut conn = script.accept()?;
    conn.send(&open(4, HOSTILE_AS, 1))?;
    check("OPEN hold time 1 s", conn.answer(Duration::from_secs(3))?, notification(2, 6, &[]));

    // UPDATE errors (RFC 4271 6.3 as revised by RFC 7606).
    let mut conn = script.established()?;
    let mut overlong = update(&[ORIGIN, AS_PATH, NEXT_HOP]);
    overlong[21..23].copy_from_slice(&200u16.to_be_bytes());
    conn.send(&overlong)?;
    check(
        "UPDATE whose attribute length runs past the message",
        conn.answer(Duration::from_secs(3))?,
        notification(3, 1, &[]),
    );

    // Treat-as-withdraw (RFC 7606 3.d, 3.c, 7.3, 7.4) and an ignored route (RFC 4271 6.3): the
    // session stays up through all of them, one after another.
    let mut conn = script.established()?;
    conn.send(&update(&[ORIGIN, AS_PATH, NEXT_HOP]))?;
    check("a valid UPDATE", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    conn.send(&update(&[AS_PATH, NEXT_HOP]))?;
    check("UPDATE without ORIGIN (well-known mandatory)", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    conn.send(&update(&[&[0xc0, 1, 1, 0], AS_PATH, NEXT_HOP]))?;
    check("ORIGIN flagged optional (flags conflict)", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    conn.send(&update(&[ORIGIN, AS_PATH, &[0x40, 3, 5, 198, 51, 100, 5, 0]]))?;
    check("NEXT_HOP of 5 octets", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    conn.send(&update(&[ORIGIN, AS_PATH, NEXT_HOP, &[0x80, 4, 3, 0, 0, 1]]))?;
    check("MULTI_EXIT_DISC of 3 octets", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    conn.send(&update(&[ORIGIN, AS_PATH, &[0x40, 3, 4, 0, 0, 0, 0]]))?;
    check("NEXT_HOP 0.0.0.0", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    conn.send(&message(KEEPALIVE, &[]))?;
    check("a KEEPALIVE after all that", conn.answer(Duration::from_secs(1))?, Heard::StillUp);
    drop(conn);

    // Finite state machine errors (RFC 4271 6.6, subcodes of RFC 6608).
    let mut conn = script.accept()?;
    conn.send(&open(4, HOSTILE_AS, 9))?;
    conn.send(&update(&[ORIGIN, AS_PATH, NEXT_HOP]))?;
    check("UPDATE in OpenConfirm", conn.answer(Duration::from_secs(3))?, notification(5, 2, &[]));

    // Hold timer (RFC 4271 6.5): OPEN with hold 3 s, one KEEPALIVE, then silence.
    let mut conn = script.accept()?;
    conn.send(&open(4, HOSTILE_AS, 3))?;
    conn.send(&message(KEEPALIVE, &[]))?;
    check("silence past a 3 s hold time", conn.answer(Duration::from_secs(6))?, notification(4, 0, &[]));

    // FRR's session never dropped, and the route is still there.
    let (state, established, dropped) = frr_session(&lab)?;
    eprintln!("FRR session: {state}, established {established} times, dropped {dropped} times");
    assert_eq!((state.as_str(), established, dropped), ("Established", established_before, dropped_before));
    wait_nexthops(&lab, &host_prefix(ip), &ips(&[NODE]), Duration::from_secs(1)).await?;
    lab.check_daemons()?;
    let failed: Vec<&(String, bool, String)> = results.iter().filter(|(_, ok, _)| !ok).collect();
    assert!(failed.is_empty(), "cases answered wrongly: {failed:#?}");
    Ok(())
}
