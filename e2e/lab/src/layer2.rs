//! Layer2 helpers: what a test does from the node segment. Ask who has an address (`arping`,
//! `ndisc6` from l2client), watch the ARP traffic there (`tcpdump`), cut a node off its segment,
//! kill a node's speaker, stop the control plane, and create the speakers' member key.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cmd;
use crate::error::{Error, Result};
use crate::lab::Lab;

/// The Secret the speakers authenticate member heartbeats with.
pub const MEMBERLIST_SECRET: &str = "ferrolb-memberlist";

/// 32 random bytes, hex-encoded.
pub fn random_key() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(Error::io("reading /dev/urandom"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The member key Secret, as YAML.
pub fn memberlist_secret(key: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {MEMBERLIST_SECRET}, namespace: ferrolb-system}}\n\
         type: Opaque\nstringData: {{secretkey: {key}}}\n"
    )
}

/// One ARP packet seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpSeen {
    /// When the kernel captured it.
    pub at: SystemTime,
    /// Its Ethernet source.
    pub source_mac: String,
    /// A reply (else a request).
    pub reply: bool,
    /// The sender protocol address (a reply: the address answered for).
    pub sender_ip: Option<IpAddr>,
    /// The target protocol address of a request.
    pub target_ip: Option<IpAddr>,
    /// Sent to the broadcast address.
    pub broadcast: bool,
}

impl ArpSeen {
    /// A gratuitous announcement of `ip`: a request for itself, or a broadcast reply.
    pub fn announces(&self, ip: IpAddr) -> bool {
        self.sender_ip == Some(ip) && (self.target_ip == Some(ip) || (self.reply && self.broadcast))
    }

    /// Says "`ip` is at my MAC": a reply or an announcement.
    pub fn claims(&self, ip: IpAddr) -> bool {
        self.sender_ip == Some(ip) && (self.reply || self.target_ip == Some(ip))
    }
}

/// Reads one line of `tcpdump -l -n -e -tt arp`.
pub fn parse_tcpdump_arp(line: &str) -> Option<ArpSeen> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let stamp: f64 = tokens.first()?.parse().ok()?;
    let at = UNIX_EPOCH + Duration::from_secs_f64(stamp);
    let source_mac = tokens.get(1)?.to_ascii_lowercase();
    let broadcast = tokens.get(3).is_some_and(|t| t.trim_end_matches(',') == "ff:ff:ff:ff:ff:ff");
    let after = |word: &str| {
        tokens
            .iter()
            .position(|t| *t == word)
            .and_then(|i| tokens.get(i + 1))
            .and_then(|t| t.trim_end_matches(',').parse::<IpAddr>().ok())
    };
    if tokens.contains(&"Reply") {
        return Some(ArpSeen { at, source_mac, reply: true, sender_ip: after("Reply"), target_ip: None, broadcast });
    }
    if tokens.contains(&"who-has") {
        return Some(ArpSeen {
            at,
            source_mac,
            reply: false,
            sender_ip: after("tell"),
            target_ip: after("who-has"),
            broadcast,
        });
    }
    None
}

/// Reads one line of `tcpdump -l -n -e -tt` showing Neighbor Discovery, as the IPv6 counterpart of an
/// ARP packet: a Neighbor Solicitation is a request (`sender_ip` its source, `target_ip` the address
/// asked about), a Neighbor Advertisement a reply for its target address; `broadcast` means sent
/// to all nodes (33:33:00:00:00:01), as an unsolicited advertisement is.
pub fn parse_tcpdump_ndp(line: &str) -> Option<ArpSeen> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let stamp: f64 = tokens.first()?.parse().ok()?;
    let at = UNIX_EPOCH + Duration::from_secs_f64(stamp);
    let source_mac = tokens.get(1)?.to_ascii_lowercase();
    let broadcast = tokens.get(3).is_some_and(|t| t.trim_end_matches(',') == "33:33:00:00:00:01");
    let address_after = |words: &[&str]| {
        tokens
            .windows(words.len() + 1)
            .find(|w| w.get(..words.len()) == Some(words))
            .and_then(|w| w.last())
            .and_then(|t| t.trim_end_matches(',').parse::<IpAddr>().ok())
    };
    let source = tokens
        .iter()
        .position(|t| *t == ">")
        .and_then(|first| tokens.iter().skip(first + 1).position(|t| *t == ">").map(|i| first + i))
        .and_then(|i| tokens.get(i))
        .and_then(|t| t.parse::<IpAddr>().ok());
    if line.contains("neighbor advertisement") {
        let target = address_after(&["tgt", "is"]);
        return Some(ArpSeen { at, source_mac, reply: true, sender_ip: target, target_ip: None, broadcast });
    }
    if line.contains("neighbor solicitation") {
        let target = address_after(&["who", "has"]);
        return Some(ArpSeen { at, source_mac, reply: false, sender_ip: source, target_ip: target, broadcast });
    }
    None
}

/// What became of the ARP requests one host sent for one address, read off a capture on that host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArpConversation {
    /// How many requests the host sent.
    pub requests: usize,
    /// When each request that got no reply was sent (see [`arp_conversation`]).
    pub unanswered: Vec<SystemTime>,
    /// The longest a request that was answered waited for its reply.
    pub slowest: Duration,
    /// Each MAC that replied, with its first and last reply, in the order of first replies.
    pub answered_by: Vec<(String, SystemTime, SystemTime)>,
}

impl ArpConversation {
    /// The first and last reply from `mac`, if it replied.
    pub fn replies_of(&self, mac: &str) -> Option<(SystemTime, SystemTime)> {
        self.answered_by.iter().find(|(m, _, _)| m.eq_ignore_ascii_case(mac)).map(|(_, first, last)| (*first, *last))
    }
}

/// Reads the requests `asker_mac` sent for `ip` and the (unicast) replies it got. Each reply answers
/// the latest request not yet answered that was sent at most `wait` before it (so a late reply still
/// counts, and a gap is found where it was); a request left without one is unanswered. (A host whose ARP request goes
/// unanswered asks again only after a second, so a reply within `wait` is as good as an instant one.)
pub fn arp_conversation(seen: &[ArpSeen], asker_mac: &str, ip: IpAddr, wait: Duration) -> ArpConversation {
    let mut sorted: Vec<&ArpSeen> = seen.iter().collect();
    sorted.sort_by_key(|p| p.at);
    let is_request = |p: &ArpSeen| !p.reply && p.target_ip == Some(ip) && p.source_mac.eq_ignore_ascii_case(asker_mac);
    let is_reply = |p: &ArpSeen| {
        p.reply && !p.broadcast && p.sender_ip == Some(ip) && !p.source_mac.eq_ignore_ascii_case(asker_mac)
    };
    let requests: Vec<SystemTime> = sorted.iter().filter(|p| is_request(p)).map(|p| p.at).collect();
    let replies: Vec<&ArpSeen> = sorted.iter().copied().filter(|p| is_reply(p)).collect();
    let mut conversation = ArpConversation { requests: requests.len(), ..ArpConversation::default() };
    let mut answered = vec![false; requests.len()];
    for reply in &replies {
        let pending = requests
            .iter()
            .zip(answered.iter_mut())
            .rev()
            .filter(|(asked, _)| **asked <= reply.at && reply.at.duration_since(**asked).is_ok_and(|d| d < wait))
            .find(|(_, done)| !**done);
        if let Some((asked, done)) = pending {
            *done = true;
            conversation.slowest = conversation.slowest.max(reply.at.duration_since(*asked).unwrap_or_default());
        }
    }
    conversation.unanswered = requests.iter().zip(&answered).filter(|(_, done)| !**done).map(|(at, _)| *at).collect();
    for reply in replies {
        match conversation.answered_by.iter_mut().find(|(m, _, _)| *m == reply.source_mac) {
            Some((_, _, last)) => *last = reply.at,
            None => conversation.answered_by.push((reply.source_mac.clone(), reply.at, reply.at)),
        }
    }
    conversation
}

/// A running capture of ARP on a host's eth0. Stops when dropped.
pub struct ArpCapture {
    child: Child,
    seen: mpsc::Receiver<ArpSeen>,
    kept: Vec<ArpSeen>,
}

impl ArpCapture {
    /// Waits up to `timeout` for a gratuitous announcement of `ip` and returns it.
    pub fn wait_announcement(&mut self, ip: IpAddr, timeout: Duration) -> Option<ArpSeen> {
        if let Some(found) = self.kept.iter().find(|p| p.announces(ip)) {
            return Some(found.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let packet = self.seen.recv_timeout(left).ok()?;
            self.kept.push(packet.clone());
            if packet.announces(ip) {
                return Some(packet);
            }
        }
    }

    /// Everything seen so far.
    pub fn all(&mut self) -> &[ArpSeen] {
        while let Ok(p) = self.seen.try_recv() {
            self.kept.push(p);
        }
        &self.kept
    }

    /// Forgets what was seen so far.
    pub fn clear(&mut self) {
        let _ = self.all();
        self.kept.clear();
    }
}

/// A running tcpdump on a host's eth0, its lines as printed (`-n -e -tt`). Stops when dropped.
pub struct LineCapture {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl LineCapture {
    /// Lets the last packets through, stops tcpdump and returns every line it printed.
    pub fn stop(mut self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.lines.try_iter().collect()
    }
}

impl Drop for LineCapture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ArpCapture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// MACs in lowercase, as the helpers return them.
fn mac_tokens(text: &str, after: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split(after).nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect()
}

impl Lab {
    /// The MAC address of a host's eth0 (lowercase).
    pub fn mac(&self, host: &str) -> Result<String> {
        let out = self.exec_ok(host, &["ip", "-o", "link", "show", "eth0"])?;
        mac_tokens(&out, "link/ether ")
            .into_iter()
            .next()
            .ok_or_else(|| Error::Failed(format!("no MAC on {host}: {out}")))
    }

    /// The node whose eth0 has `mac`.
    pub fn node_by_mac(&self, mac: &str) -> Result<String> {
        let nodes: Vec<String> = self.plan.nodes().map(|h| h.name.clone()).collect();
        for node in nodes {
            if self.mac(&node)?.eq_ignore_ascii_case(mac) {
                return Ok(node);
            }
        }
        Err(Error::Failed(format!("no node of lab {} has MAC {mac}", self.name())))
    }

    /// Sends `count` ARP requests for `ip` from a host's eth0, 200 ms apart, and returns the MAC
    /// of every reply (so two nodes answering one request show as two entries).
    pub fn arping(&self, host: &str, ip: IpAddr, count: u32) -> Result<Vec<String>> {
        let (count, ip) = (count.to_string(), ip.to_string());
        let out = self.exec(host, &["arping", "-i", "eth0", "-c", &count, "-W", "0.2", "-w", "1", &ip])?;
        Ok(mac_tokens(&String::from_utf8_lossy(&out.stdout), "bytes from "))
    }

    /// Sends a Neighbor Solicitation for `ip` from a host's eth0 and returns the target link-layer
    /// address of every advertisement received within a second.
    pub fn ndisc(&self, host: &str, ip: IpAddr) -> Result<Vec<String>> {
        let ip = ip.to_string();
        let out = self.exec(host, &["ndisc6", "-m", "-n", "-r", "1", "-w", "1000", &ip, "eth0"])?;
        Ok(mac_tokens(&String::from_utf8_lossy(&out.stdout), "link-layer address: "))
    }

    /// Starts `arping` for `ip` on a host's eth0 in the background: `count` requests, `interval` apart.
    /// Wait for it with [`Child::wait`]; what it saw is best read from a capture.
    pub fn arping_in_background(&self, host: &str, ip: IpAddr, interval: Duration, count: u32) -> Result<Child> {
        let netns = self.netns(host)?.to_owned();
        let (interval, count, ip) = (format!("{}", interval.as_secs_f64()), count.to_string(), ip.to_string());
        Command::new("ip")
            .args(["netns", "exec", &netns, "arping", "-i", "eth0", "-q", "-W", &interval, "-c", &count, &ip])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(Error::io(format!("starting arping in {host}")))
    }

    /// Sends a Neighbor Solicitation for `ip` from a host's eth0 `count` times, about `interval` apart
    /// (ndisc6 in a shell loop, each waiting at most `interval` for its answer), in the background.
    pub fn ndisc_in_background(&self, host: &str, ip: IpAddr, interval: Duration, count: u32) -> Result<Child> {
        let netns = self.netns(host)?.to_owned();
        let (wait_ms, pause) = (interval.as_millis().max(1), interval.as_secs_f64());
        let script = format!(
            "i=0; while [ $i -lt {count} ]; do ndisc6 -1 -r 1 -w {wait_ms} {ip} eth0; sleep {pause}; i=$((i+1)); done"
        );
        Command::new("ip")
            .args(["netns", "exec", &netns, "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(Error::io(format!("starting ndisc6 in {host}")))
    }

    /// Starts capturing ARP on a host's eth0; returns once the capture runs.
    pub fn capture_arp(&self, host: &str) -> Result<ArpCapture> {
        self.capture(host, "arp", parse_tcpdump_arp)
    }

    /// Starts capturing Neighbor Solicitations and Advertisements on a host's eth0, read as
    /// [`parse_tcpdump_ndp`] does; returns once the capture runs.
    pub fn capture_ndp(&self, host: &str) -> Result<ArpCapture> {
        self.capture(host, "icmp6 and (ip6[40] == 135 or ip6[40] == 136)", parse_tcpdump_ndp)
    }

    fn capture(&self, host: &str, filter: &str, parse: fn(&str) -> Option<ArpSeen>) -> Result<ArpCapture> {
        let (child, seen) = self.tcpdump(host, filter, parse)?;
        Ok(ArpCapture { child, seen, kept: Vec::new() })
    }

    /// Starts `tcpdump -e -tt` with `filter` on a host's eth0 and keeps its lines until
    /// [`LineCapture::stop`]; returns once the capture runs.
    pub fn capture_lines(&self, host: &str, filter: &str) -> Result<LineCapture> {
        let (child, lines) = self.tcpdump(host, filter, |l| Some(l.to_owned()))?;
        Ok(LineCapture { child, lines })
    }

    /// tcpdump on a host's eth0, each line read by `parse` on a thread of its own; returns once
    /// the capture runs.
    fn tcpdump<T: Send + 'static>(
        &self,
        host: &str,
        filter: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<(Child, mpsc::Receiver<T>)> {
        let netns = self.netns(host)?.to_owned();
        let mut child = Command::new("ip")
            .args(["netns", "exec", &netns, "tcpdump", "-i", "eth0", "-l", "-n", "-e", "-tt", "-U", filter])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(Error::io(format!("starting tcpdump in {host}")))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr?).lines().map_while(std::io::Result::ok) {
                if line.contains("listening on") {
                    let _ = ready_tx.send(());
                }
            }
            Some(())
        });
        let (tx, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout?).lines().map_while(std::io::Result::ok) {
                if let Some(packet) = parse(&line)
                    && tx.send(packet).is_err()
                {
                    break;
                }
            }
            Some(())
        });
        let started = ready_rx.recv_timeout(Duration::from_secs(5));
        if started.is_err() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Failed(format!("tcpdump in {host} did not start within 5 s")));
        }
        Ok((child, seen))
    }

    /// Sets a host's eth0 down, inside its namespace (the kernel also drops its routes and IPv6
    /// addresses); returns when the command returned.
    pub fn link_down(&self, host: &str) -> Result<()> {
        self.exec_ok(host, &["ip", "link", "set", "eth0", "down"]).map(|_| ())
    }

    /// Sets a host's eth0 up again and restores what going down removed.
    pub fn link_up(&self, host: &str) -> Result<()> {
        let h = self.plan.host(host).cloned().ok_or_else(|| Error::Failed(format!("no host {host}")))?;
        let netns = h.netns.clone();
        let mut lines = vec!["link set eth0 up".to_owned()];
        for i in &h.interfaces {
            lines.push(format!("address replace {}/{} dev {}", i.v4.0, i.v4.1, i.name));
            lines.push(format!("address replace {}/{} dev {} nodad", i.v6.0, i.v6.1, i.name));
        }
        if let Some((g4, g6)) = h.gateway {
            lines.push(format!("route replace default via {g4}"));
            lines.push(format!("route replace ::/0 via {g6}"));
        }
        cmd::ip_batch(&netns, &lines)
    }

    /// The pid of a lab process by name (`ferrolb-speaker-node1`, `apiserver`, ...).
    pub fn daemon_pid(&self, name: &str) -> Result<i32> {
        self.record
            .daemons
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.pid)
            .ok_or_else(|| Error::Failed(format!("lab {} has no process {name}", self.name())))
    }

    /// Kills a lab process with SIGKILL, as a crash would.
    pub fn kill9(&self, name: &str) -> Result<()> {
        let pid = self.daemon_pid(name)?;
        kill(Pid::from_raw(pid), Signal::SIGKILL).map_err(|e| Error::Failed(format!("kill -9 {name}: {e}")))?;
        let d = self.record.daemons.iter().find(|d| d.name == name).cloned();
        for _ in 0..200 {
            if !d.as_ref().is_some_and(crate::process::Daemon::alive) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Kills a node's speaker with SIGKILL.
    pub fn kill_speaker(&self, node: &str) -> Result<()> {
        self.kill9(&format!("ferrolb-speaker-{node}"))
    }

    /// Stops the control plane (the testcluster: kube-apiserver and etcd) with SIGKILL.
    pub fn stop_control_plane(&self) -> Result<()> {
        self.kill9("apiserver")
    }

    /// Resident memory of a lab process, in KiB.
    pub fn rss_kib(&self, name: &str) -> Result<u64> {
        let pid = self.daemon_pid(name)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(Error::io(format!("reading the status of {name}")))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::Failed(format!("no VmRSS for {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdump_lines_are_read() {
        let garp = "1732456789.250000 02:aa:bb:cc:dd:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: \
                    Request who-has 198.51.100.200 tell 198.51.100.200, length 28";
        let p = parse_tcpdump_arp(garp).unwrap();
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        assert!(p.announces(ip) && p.claims(ip) && !p.reply && p.broadcast);
        assert_eq!(p.source_mac, "02:aa:bb:cc:dd:01");
        assert_eq!(p.at.duration_since(UNIX_EPOCH).unwrap().as_millis(), 1_732_456_789_250);
        let reply = "1732456789.3 02:AA:bb:cc:dd:02 > 02:00:00:00:00:99, ethertype ARP (0x0806), length 42: \
                     Reply 198.51.100.200 is-at 02:aa:bb:cc:dd:02, length 28";
        let r = parse_tcpdump_arp(reply).unwrap();
        assert!(r.reply && r.claims(ip) && !r.announces(ip) && !r.broadcast);
        assert_eq!(r.source_mac, "02:aa:bb:cc:dd:02");
        let ask = "1732456789.3 02:00:00:00:00:99 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: \
                   Request who-has 198.51.100.200 tell 198.51.100.99, length 28";
        let a = parse_tcpdump_arp(ask).unwrap();
        assert!(!a.claims(ip) && !a.announces(ip));
        assert!(parse_tcpdump_arp("listening on eth0").is_none());
    }

    #[test]
    fn tcpdump_ndp_lines_are_read_like_arp() {
        let ip: IpAddr = "2001:db8:1::200".parse().unwrap();
        let ask = "1796287155.514833 3a:15:aa:2a:8c:e0 > 33:33:ff:00:02:00, ethertype IPv6 (0x86dd), length 86: \
                   fe80::3815:aaff:fe2a:8ce0 > ff02::1:ff00:200: ICMP6, neighbor solicitation, who has 2001:db8:1::200, length 32";
        let a = parse_tcpdump_ndp(ask).unwrap();
        assert!(!a.reply && !a.broadcast && !a.claims(ip));
        assert_eq!((a.source_mac.as_str(), a.target_ip), ("3a:15:aa:2a:8c:e0", Some(ip)));
        assert_eq!(a.sender_ip, "fe80::3815:aaff:fe2a:8ce0".parse().ok());
        let answer = "1796287155.514893 26:fd:6c:a7:2a:60 > 3a:15:aa:2a:8c:e0, ethertype IPv6 (0x86dd), length 86: \
                      2001:db8:1::200 > fe80::3815:aaff:fe2a:8ce0: ICMP6, neighbor advertisement, tgt is 2001:db8:1::200, length 32";
        let r = parse_tcpdump_ndp(answer).unwrap();
        assert!(r.reply && !r.broadcast && r.claims(ip) && !r.announces(ip));
        let unsolicited = "1796287155.6 26:fd:6c:a7:2a:60 > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: \
                           2001:db8:1::200 > ff02::1: ICMP6, neighbor advertisement, tgt is 2001:db8:1::200, length 32";
        let u = parse_tcpdump_ndp(unsolicited).unwrap();
        assert!(u.announces(ip) && u.broadcast);
        assert!(parse_tcpdump_ndp("listening on eth0").is_none());
    }

    fn seen(ms: u64, mac: &str, reply: bool, broadcast: bool) -> ArpSeen {
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        let asker: IpAddr = "198.51.100.99".parse().unwrap();
        ArpSeen {
            at: UNIX_EPOCH + Duration::from_millis(ms),
            source_mac: mac.to_owned(),
            reply,
            sender_ip: Some(if reply { ip } else { asker }),
            target_ip: (!reply).then_some(ip),
            broadcast,
        }
    }

    #[test]
    fn a_conversation_lists_unanswered_requests_and_who_answered_when() {
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        let (client, old, new) = ("02:00:00:00:00:99", "02:00:00:00:00:01", "02:00:00:00:00:02");
        let capture = vec![
            seen(0, client, false, true),
            seen(1, old, true, false),
            seen(50, client, false, true),
            seen(51, old, true, false),
            // A gratuitous reply is not an answer.
            seen(60, new, true, true),
            seen(100, client, false, true),
            seen(150, client, false, true),
            seen(152, new, true, false),
            seen(200, client, false, true),
            // Late, but within the wait: request 200 is answered.
            seen(290, new, true, false),
            seen(300, client, false, true),
            seen(400, client, false, true),
        ];
        let c = arp_conversation(&capture, client, ip, Duration::from_millis(100));
        assert_eq!(c.requests, 7);
        let at = |ms| UNIX_EPOCH + Duration::from_millis(ms);
        // The reply at 152 answers the request at 150; the one at 290 the request at 200, late.
        assert_eq!(c.unanswered, vec![at(100), at(300), at(400)]);
        assert_eq!(c.slowest, Duration::from_millis(90));
        assert_eq!(c.replies_of(old), Some((at(1), at(51))));
        assert_eq!(c.replies_of(new), Some((at(152), at(290))));
        assert_eq!(c.answered_by.len(), 2);
    }

    #[test]
    fn macs_are_found_after_their_marker() {
        let arping = "ARPING 198.51.100.200\n60 bytes from 02:AB:00:00:00:01 (198.51.100.200): index=0 time=1 ms\n";
        assert_eq!(mac_tokens(arping, "bytes from "), ["02:ab:00:00:00:01"]);
        let link = "2: eth0@if5: <BROADCAST,MULTICAST,UP> mtu 1500 link/ether 3a:1b:00:00:00:02 brd ff:ff:ff:ff:ff:ff";
        assert_eq!(mac_tokens(link, "link/ether "), ["3a:1b:00:00:00:02"]);
    }
}
