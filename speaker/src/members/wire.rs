//! The heartbeat datagram: its byte layout and its authentication tag (pure).
//!
//! Decides whether a datagram is a well-formed heartbeat signed with one of the cluster keys. It does
//! not decide whether the heartbeat is fresh, a replay, or from a configured member: that is the
//! [`super::table`]'s job.
//!
//! Layout (all integers big-endian), version 1 (48 to 300 bytes) and version 2 (with a report):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `FLBH` |
//! | 4 | 1 | version: [`VERSION_1`], or [`VERSION`] when a report follows the name |
//! | 5 | 1 | flags: bit 0 = the sender takes no part in ownership (stepping down); bit 1 = it does so because it is leaving on purpose (only meaningful with bit 0); bit 2 = the sender's process is restarting and keeps its addresses (only without bit 0); bit 3 = the sender reads version 2 (reports); other bits are ignored (authenticated, reserved) |
//! | 6 | 8 | boot id, random per sender process start |
//! | 14 | 8 | sequence number, increasing within one boot |
//! | 22 | 8 | send time, Unix milliseconds of the sender's clock |
//! | 30 | 1 | node name length `n`, 1..=253 |
//! | 31 | n | node name, UTF-8 |
//! | 31+n | 8 | version 2 only: roster digest, [`roster_digest`] of the member names the bitmaps index |
//! | 39+n | 2 | version 2 only: member count `c`, 1..=[`MAX_MEMBERS`] |
//! | 41+n | c | version 2 only: one byte per roster member `i`: bit 7 = the freshest news the sender has of it says it may own addresses; bit 6 = the sender holds it alive (heard, or vouched for); bits 0-5 = the age of that news in units of 20 ms, rounded up, 63 = none within 1.24 s |
//! | end-16 | 16 | HMAC-SHA256 over every byte before it, truncated to its first 16 bytes |
//!
//! "News" of a member is one of its heartbeats, heard directly or reported by a member heard
//! directly; its age grows with time and with every relay, so news of a dead member cannot
//! circulate forever. The report is what lets a member learn that the others cannot hear it, and
//! keep alive a member it cannot hear but others can (see [`super::table`]).
//!
//! Compatibility of the flags: a leaving sender sets bits 0 and 1, so a receiver that knows only bit 0
//! (the first release of version 1) still takes it out of the alive set at once; it only misses the
//! difference between "isolated" and "leaving", which changes log lines and counters, not ownership. A
//! restarting sender sets bit 2 alone: a receiver that does not know it reads a member, which then falls
//! silent and is found dead after `suspect_after`, as before restarts were announced. A new flag that older
//! receivers must not misread needs a new version.
//!
//! Rolling upgrades: a receiver that speaks only version 1 refuses version 2, so a sender sends version 2
//! to every member except those whose last heartbeat lacked bit 3 (an older speaker), which get version 1
//! (no report). A member never heard from gets version 2: that is the case reports exist for (a member
//! whose own heartbeats are lost must still learn it is unheard). Until an older speaker has been heard
//! once (one interval), it drops the version-2 datagrams it gets as malformed.
//!
//! A 128-bit tag leaves a forger a 2^-128 chance per try, ample for a datagram that is only worth
//! something for a few hundred milliseconds.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use thiserror::Error;

/// First four bytes of every heartbeat.
pub const MAGIC: [u8; 4] = *b"FLBH";
/// The wire version with a report; this code sends it to every member that reads it.
pub const VERSION: u8 = 2;
/// The first wire version (no report), still sent to members that do not read [`VERSION`].
pub const VERSION_1: u8 = 1;
/// Most members a report can describe.
pub const MAX_MEMBERS: usize = 1024;
/// Length of the truncated HMAC-SHA256 tag.
pub const TAG_LEN: usize = 16;
/// Longest node name (a Kubernetes node name is a DNS subdomain, at most 253 characters).
pub const MAX_NAME_LEN: usize = 253;
/// Shortest key accepted, in bytes: shorter shared secrets are guessable.
pub const MIN_KEY_LEN: usize = 16;
/// Bytes before the node name.
const HEADER_LEN: usize = 31;
/// Bytes of a report before its entries: roster digest and member count.
const REPORT_HEADER_LEN: usize = 10;
/// Largest datagram [`encode`] produces; a receive buffer of this size never truncates a valid one.
pub const MAX_DATAGRAM_LEN: usize = HEADER_LEN + MAX_NAME_LEN + REPORT_HEADER_LEN + MAX_MEMBERS + TAG_LEN;
/// The unit of a report entry's age.
pub const AGE_UNIT: Duration = Duration::from_millis(20);
/// A report entry's age meaning "no news within 63 units".
pub const AGE_NONE: u8 = 0x3f;
const ENTRY_ALIVE: u8 = 0x80;
const ENTRY_HELD: u8 = 0x40;

const FLAG_STEPPING_DOWN: u8 = 0b0000_0001;
const FLAG_LEAVING: u8 = 0b0000_0010;
const FLAG_RESTARTING: u8 = 0b0000_0100;
const FLAG_READS_REPORTS: u8 = 0b0000_1000;

type HmacSha256 = Hmac<Sha256>;

/// A sender's process incarnation: chosen at random when the speaker starts, so a restarted
/// speaker's sequence numbers start over without being mistaken for replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BootId(pub u64);

/// One heartbeat, as sent by `node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// The sender's Kubernetes node name.
    pub node: String,
    /// The sender's process incarnation.
    pub boot: BootId,
    /// Increases with every heartbeat round of one boot.
    pub seq: u64,
    /// When it was sent, Unix milliseconds of the sender's clock.
    pub sent_at_ms: u64,
    /// Whether the sender takes part in ownership, and if not, why.
    pub standing: Standing,
    /// Whether the sender reads version-2 heartbeats (flag bit 3).
    pub reads_reports: bool,
    /// Whom the sender hears (version 2); `None` in a version-1 heartbeat.
    pub report: Option<Report>,
}

/// What a sender knows of every member, indexed by the roster: every configured member's name,
/// sorted, the sender included. The digest lets a receiver whose roster differs (a member list still
/// changing) ignore the report instead of misreading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// [`roster_digest`] of the roster the entries index.
    pub roster: u64,
    /// One entry per roster member.
    pub entries: Vec<Entry>,
}

/// What a sender knows of one member: the freshest news of it, and whether it holds it alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// That news says the member may own addresses (a member, or restarting).
    pub alive: bool,
    /// The sender holds the member alive (in the alive set it ranks addresses over).
    pub held: bool,
    /// The news's age in [`AGE_UNIT`]s, [`AGE_NONE`] (or more, read as none) for no news.
    pub age: u8,
}

impl Entry {
    /// No news of the member, not held alive.
    pub const NONE: Entry = Entry { alive: false, held: false, age: AGE_NONE };

    /// News `age` old, rounded up to the unit (none if that is 63 units or more), and whether the
    /// member is held alive.
    pub fn new(age: Option<Duration>, alive: bool, held: bool) -> Self {
        let units = age.map(|age| age.as_nanos().div_ceil(AGE_UNIT.as_nanos()));
        match units.and_then(|u| u8::try_from(u).ok()).filter(|&u| u < AGE_NONE) {
            Some(age) => Self { alive, held, age },
            None => Self { held, ..Self::NONE },
        }
    }

    /// The age of the news, if there is any.
    pub fn age(self) -> Option<Duration> {
        (self.age < AGE_NONE).then(|| AGE_UNIT * u32::from(self.age))
    }

    fn byte(self) -> u8 {
        self.age.min(AGE_NONE) | if self.alive { ENTRY_ALIVE } else { 0 } | if self.held { ENTRY_HELD } else { 0 }
    }

    fn from_byte(byte: u8) -> Self {
        Self { alive: byte & ENTRY_ALIVE != 0, held: byte & ENTRY_HELD != 0, age: byte & AGE_NONE }
    }
}

/// The digest of a roster: the first 8 bytes of SHA-256 over each name followed by a zero byte, in
/// the order given (sorted by the caller).
pub fn roster_digest<'a>(names: impl IntoIterator<Item = &'a str>) -> u64 {
    use sha2::Digest;
    let mut hash = Sha256::new();
    for name in names {
        hash.update(name.as_bytes());
        hash.update([0u8]);
    }
    let full = hash.finalize();
    let mut first = [0u8; 8];
    for (out, byte) in first.iter_mut().zip(full.iter()) {
        *out = *byte;
    }
    u64::from_be_bytes(first)
}

/// What a sender says of its own part in ownership.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Standing {
    /// It may own addresses.
    #[default]
    Member,
    /// It found itself isolated (or its link down) and takes no part: it has stopped answering.
    SteppingDown,
    /// It is leaving on purpose (stopping, or its Node is excluded) and takes no part; it keeps
    /// answering for its addresses until their new owners have announced them.
    Leaving,
    /// Its process is stopping to start again at once (a pod restart or an upgrade) on a node that
    /// keeps forwarding: it keeps its addresses, and the others keep it as an owner for their
    /// restart window instead of taking them over.
    Restarting,
}

impl Standing {
    fn flags(self) -> u8 {
        match self {
            Standing::Member => 0,
            Standing::SteppingDown => FLAG_STEPPING_DOWN,
            Standing::Leaving => FLAG_STEPPING_DOWN | FLAG_LEAVING,
            Standing::Restarting => FLAG_RESTARTING,
        }
    }

    fn from_flags(flags: u8) -> Standing {
        match (flags & FLAG_STEPPING_DOWN != 0, flags & FLAG_LEAVING != 0, flags & FLAG_RESTARTING != 0) {
            (true, true, _) => Standing::Leaving,
            (true, false, _) => Standing::SteppingDown,
            (false, _, true) => Standing::Restarting,
            // Bit 1 alone is not something this version sends: read it as reserved.
            (false, _, false) => Standing::Member,
        }
    }
}

/// The shared keys: heartbeats are signed with the first and accepted under any, so a key can be
/// rotated by adding the new one second, then moving it first, then dropping the old one.
#[derive(Clone)]
pub struct KeyRing {
    /// Each key's HMAC state after absorbing the key, cloned per datagram.
    macs: Vec<HmacSha256>,
}

/// Why a set of keys was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// No key at all: heartbeats could be neither signed nor checked.
    #[error("no membership key was given")]
    NoKeys,
    /// A key is too short to be a secret.
    #[error("membership key {index} has {len} bytes, fewer than the {MIN_KEY_LEN} required")]
    TooShort {
        /// Position of the key in the list.
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
}

impl KeyRing {
    /// Builds a key ring; the first key signs, all keys verify.
    pub fn new<K: AsRef<[u8]>>(keys: impl IntoIterator<Item = K>) -> Result<Self, KeyError> {
        let mut macs = Vec::new();
        for (index, key) in keys.into_iter().enumerate() {
            let key = key.as_ref();
            if key.len() < MIN_KEY_LEN {
                return Err(KeyError::TooShort { index, len: key.len() });
            }
            // HMAC takes keys of any length (long ones are hashed first), so this cannot fail.
            let mac = HmacSha256::new_from_slice(key).map_err(|_| KeyError::TooShort { index, len: key.len() })?;
            macs.push(mac);
        }
        if macs.is_empty() {
            return Err(KeyError::NoKeys);
        }
        Ok(Self { macs })
    }

    /// How many keys are in the ring.
    pub fn len(&self) -> usize {
        self.macs.len()
    }

    /// Always false: a ring holds at least one key.
    pub fn is_empty(&self) -> bool {
        self.macs.is_empty()
    }

    fn sign(&self, body: &[u8]) -> [u8; TAG_LEN] {
        let mut tag = [0u8; TAG_LEN];
        if let Some(first) = self.macs.first() {
            let mut mac = first.clone();
            mac.update(body);
            let full = mac.finalize().into_bytes();
            for (out, byte) in tag.iter_mut().zip(full.iter()) {
                *out = *byte;
            }
        }
        tag
    }

    /// Whether `tag` is `body`'s tag under any key, each comparison in constant time.
    fn verifies(&self, body: &[u8], tag: &[u8]) -> bool {
        self.macs.iter().any(|mac| {
            let mut mac = mac.clone();
            mac.update(body);
            mac.verify_truncated_left(tag).is_ok()
        })
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyRing({} keys, redacted)", self.macs.len())
    }
}

/// Why a heartbeat could not be encoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// The node name is empty or longer than [`MAX_NAME_LEN`] bytes.
    #[error("node name of {len} bytes cannot be sent (1 to {MAX_NAME_LEN} bytes)")]
    BadNodeName {
        /// Length of the name in bytes.
        len: usize,
    },
    /// The report describes no member or more than [`MAX_MEMBERS`].
    #[error("a report of {members} members cannot be sent (1 to {MAX_MEMBERS})")]
    BadReport {
        /// Entries in the report.
        members: usize,
    },
}

/// Why a datagram is not a heartbeat we accept.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the fixed header plus tag.
    #[error("datagram of {len} bytes is too short for a heartbeat")]
    TooShort {
        /// Length received.
        len: usize,
    },
    /// Does not start with [`MAGIC`]: not a FerroLB heartbeat.
    #[error("datagram does not start with the heartbeat magic")]
    BadMagic,
    /// A wire version this code does not speak.
    #[error("heartbeat version {0} is not supported (only {VERSION_1} and {VERSION})")]
    UnsupportedVersion(u8),
    /// The length does not match the node name length it announces.
    #[error("heartbeat of {len} bytes should be {expected} bytes for its node name length")]
    LengthMismatch {
        /// Length received.
        len: usize,
        /// Length its name length field implies.
        expected: usize,
    },
    /// The node name length field is zero.
    #[error("heartbeat carries an empty node name")]
    EmptyNodeName,
    /// The tag matches none of the keys: forged, corrupted, or signed with a key we do not hold.
    #[error("heartbeat tag matches none of the membership keys")]
    BadTag,
    /// The report's member count is zero or above [`MAX_MEMBERS`].
    #[error("heartbeat carries a malformed report")]
    BadReport,
    /// Signed correctly, yet the node name is not UTF-8.
    #[error("heartbeat node name is not UTF-8")]
    NodeNameNotUtf8,
}

/// Encodes and signs `beat` with the ring's first key: version 2 when it carries a report, else 1.
pub fn encode(beat: &Heartbeat, keys: &KeyRing) -> Result<Vec<u8>, EncodeError> {
    let name = beat.node.as_bytes();
    let name_len = u8::try_from(name.len()).ok().filter(|&n| n != 0 && usize::from(n) <= MAX_NAME_LEN);
    let Some(name_len) = name_len else {
        return Err(EncodeError::BadNodeName { len: name.len() });
    };
    let report = match &beat.report {
        Some(report) => {
            let members = report.entries.len();
            let count = u16::try_from(members).ok().filter(|&c| c != 0 && usize::from(c) <= MAX_MEMBERS);
            let Some(count) = count else {
                return Err(EncodeError::BadReport { members });
            };
            Some((report, count))
        }
        None => None,
    };
    let mut out = Vec::with_capacity(MAX_DATAGRAM_LEN);
    out.extend_from_slice(&MAGIC);
    out.push(if report.is_some() { VERSION } else { VERSION_1 });
    out.push(beat.standing.flags() | if beat.reads_reports { FLAG_READS_REPORTS } else { 0 });
    out.extend_from_slice(&beat.boot.0.to_be_bytes());
    out.extend_from_slice(&beat.seq.to_be_bytes());
    out.extend_from_slice(&beat.sent_at_ms.to_be_bytes());
    out.push(name_len);
    out.extend_from_slice(name);
    if let Some((report, count)) = report {
        out.extend_from_slice(&report.roster.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend(report.entries.iter().map(|entry| entry.byte()));
    }
    let tag = keys.sign(&out);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Checks and decodes one datagram (version 1 or 2). Never panics, whatever the bytes.
pub fn decode(datagram: &[u8], keys: &KeyRing) -> Result<Heartbeat, DecodeError> {
    let len = datagram.len();
    let Some(&header) = datagram.first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::TooShort { len });
    };
    if len < HEADER_LEN + TAG_LEN {
        return Err(DecodeError::TooShort { len });
    }
    let [
        m0,
        m1,
        m2,
        m3,
        version,
        flags,
        b0,
        b1,
        b2,
        b3,
        b4,
        b5,
        b6,
        b7,
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        t0,
        t1,
        t2,
        t3,
        t4,
        t5,
        t6,
        t7,
        name_len,
    ] = header;
    if [m0, m1, m2, m3] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if version != VERSION && version != VERSION_1 {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let name_len = usize::from(name_len);
    if name_len == 0 {
        return Err(DecodeError::EmptyNodeName);
    }
    let name_end = HEADER_LEN + name_len;
    // Version 2: the report's length follows from its member count, read before the tag is checked
    // (the count is authenticated with the rest; a wrong one only fails the tag or the length).
    let count = if version == VERSION {
        let Some(&[c0, c1]) = datagram.get(name_end + 8..name_end + REPORT_HEADER_LEN) else {
            return Err(DecodeError::LengthMismatch { len, expected: name_end + REPORT_HEADER_LEN + TAG_LEN });
        };
        let count = usize::from(u16::from_be_bytes([c0, c1]));
        if count == 0 || count > MAX_MEMBERS {
            return Err(DecodeError::BadReport);
        }
        Some(count)
    } else {
        None
    };
    let body_len = name_end + count.map_or(0, |c| REPORT_HEADER_LEN + c);
    let expected = body_len + TAG_LEN;
    let mismatch = DecodeError::LengthMismatch { len, expected };
    if len != expected {
        return Err(mismatch);
    }
    let (body, tag) = datagram.split_at_checked(body_len).ok_or(mismatch.clone())?;
    if !keys.verifies(body, tag) {
        return Err(DecodeError::BadTag);
    }
    let name = body.get(HEADER_LEN..name_end).ok_or(mismatch.clone())?;
    let name = std::str::from_utf8(name).map_err(|_| DecodeError::NodeNameNotUtf8)?;
    let report = match count {
        Some(_) => {
            let roster = body.get(name_end..name_end + 8).and_then(|r| r.first_chunk::<8>()).ok_or(mismatch.clone())?;
            let entries = body.get(name_end + REPORT_HEADER_LEN..).ok_or(mismatch)?;
            let entries = entries.iter().map(|&byte| Entry::from_byte(byte)).collect();
            Some(Report { roster: u64::from_be_bytes(*roster), entries })
        }
        None => None,
    };
    Ok(Heartbeat {
        node: name.to_owned(),
        boot: BootId(u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7])),
        seq: u64::from_be_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
        sent_at_ms: u64::from_be_bytes([t0, t1, t2, t3, t4, t5, t6, t7]),
        standing: Standing::from_flags(flags),
        reads_reports: flags & FLAG_READS_REPORTS != 0,
        report,
    })
}
