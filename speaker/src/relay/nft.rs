//! The relay's ruleset as nftables netlink messages (pure: bytes in, bytes out).
//!
//! One transaction (a netfilter batch) replaces FerroLB's tables whole: it creates each table if
//! it is missing, deletes it, and creates it again with its sets, chain and rules, so the kernel
//! switches from the old ruleset to the new one atomically and nothing is ever half applied. The
//! encoding follows `linux/netfilter/nf_tables.h`; the integration test in `tests/relay.rs` reads
//! what the kernel made of it back with `nft list`.

use std::net::IpAddr;

use super::ruleset::{Family, FamilyRules, Ruleset};

/// FerroLB's table in each family.
pub const TABLE: &str = "ferrolb";
/// The chain that relays and guards.
pub const CHAIN: &str = "relay";
/// After conntrack (-200) has looked the packet up, before NAT (-100) rewrites it: the mangle
/// priority.
pub const PRIORITY: i32 = -150;
/// The most packets a second one node relays (each to every peer), so that a flood of stray
/// segments is not multiplied inside the cluster; beyond it, packets take their usual way.
pub const RATE_PER_SECOND: u64 = 5_000;
/// The burst the rate allows.
pub const BURST: u32 = 1_000;
/// Set elements per message, so that no single message grows past what one netlink page holds.
const ELEMENTS_PER_MESSAGE: usize = 1_000;

// Netlink and nfnetlink.
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NLA_F_NESTED: u16 = 0x8000;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// The header length of a netlink message.
pub const NLMSG_HDRLEN: usize = 16;
/// The type of a netlink error (or acknowledgement) message.
pub const NLMSG_ERROR: u16 = 2;

// Message types.
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_NEWSET: u16 = 9;
const NFT_MSG_NEWSETELEM: u16 = 12;

// Attributes.
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_SET_TABLE: u16 = 1;
const NFTA_SET_NAME: u16 = 2;
const NFTA_SET_KEY_TYPE: u16 = 4;
const NFTA_SET_KEY_LEN: u16 = 5;
const NFTA_SET_ID: u16 = 10;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_PAYLOAD_DREG: u16 = 1;
const NFTA_PAYLOAD_BASE: u16 = 2;
const NFTA_PAYLOAD_OFFSET: u16 = 3;
const NFTA_PAYLOAD_LEN: u16 = 4;
const NFTA_META_DREG: u16 = 1;
const NFTA_META_KEY: u16 = 2;
const NFTA_CMP_SREG: u16 = 1;
const NFTA_CMP_OP: u16 = 2;
const NFTA_CMP_DATA: u16 = 3;
const NFTA_BITWISE_SREG: u16 = 1;
const NFTA_BITWISE_DREG: u16 = 2;
const NFTA_BITWISE_LEN: u16 = 3;
const NFTA_BITWISE_MASK: u16 = 4;
const NFTA_BITWISE_XOR: u16 = 5;
const NFTA_CT_DREG: u16 = 1;
const NFTA_CT_KEY: u16 = 2;
const NFTA_LOOKUP_SET: u16 = 1;
const NFTA_LOOKUP_SREG: u16 = 2;
const NFTA_LOOKUP_SET_ID: u16 = 4;
const NFTA_IMMEDIATE_DREG: u16 = 1;
const NFTA_IMMEDIATE_DATA: u16 = 2;
const NFTA_DUP_SREG_ADDR: u16 = 1;
const NFTA_DUP_SREG_DEV: u16 = 2;
const NFTA_LIMIT_RATE: u16 = 1;
const NFTA_LIMIT_UNIT: u16 = 2;
const NFTA_LIMIT_BURST: u16 = 3;
const NFTA_LIMIT_TYPE: u16 = 4;

// Values.
const NF_INET_PRE_ROUTING: u32 = 0;
const NF_ACCEPT: u32 = 1;
const NF_DROP: u32 = 0;
const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;
const NFT_REG_2: u32 = 2;
const NFT_PAYLOAD_LL_HEADER: u32 = 0;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFT_META_IIFTYPE: u32 = 8;
const NFT_META_L4PROTO: u32 = 16;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_CT_STATE: u32 = 0;
const NFT_LIMIT_PKTS: u32 = 0;
/// `ct state` bits (host order in registers): invalid, and new (`IP_CT_NEW` = 2, so bit 3).
const CT_STATE_INVALID: u32 = 1;
const CT_STATE_NEW: u32 = 1 << 3;
const TCP_FLAG_SYN: u8 = 0x02;
const IPPROTO_TCP: u8 = 6;
const ARPHRD_ETHER: u16 = 1;
/// nft's datatypes for set keys.
const TYPE_IPADDR: u32 = 7;
const TYPE_IP6ADDR: u32 = 8;
const TYPE_ETHERADDR: u32 = 9;

const SET_VIPS: &str = "vips";
const SET_PEERS: &str = "peers";
const SET_ID_VIPS: u32 = 1;
const SET_ID_PEERS: u32 = 2;

impl Family {
    fn nfproto(self) -> u8 {
        match self {
            Family::V4 => 2,
            Family::V6 => 10,
        }
    }

    /// Where the destination address sits in the network header, and its length.
    fn daddr(self) -> (u32, u32) {
        match self {
            Family::V4 => (16, 4),
            Family::V6 => (24, 16),
        }
    }

    fn address_type(self) -> u32 {
        match self {
            Family::V4 => TYPE_IPADDR,
            Family::V6 => TYPE_IP6ADDR,
        }
    }
}

/// A netlink attribute being written: its header is patched when it ends.
struct Nest(usize);

/// Builds the messages of one batch.
struct Batch {
    buf: Vec<u8>,
    seq: u32,
    /// Sequence numbers of the messages that ask for an acknowledgement.
    acked: Vec<u32>,
}

impl Batch {
    fn new(seq: u32) -> Self {
        let mut batch = Batch { buf: Vec::new(), seq, acked: Vec::new() };
        batch.control(NFNL_MSG_BATCH_BEGIN);
        batch
    }

    fn control(&mut self, kind: u16) {
        let start = self.header(kind, NLM_F_REQUEST, 0);
        // The batch is for nftables: res_id, big-endian.
        self.buf[start + NLMSG_HDRLEN + 2..start + NLMSG_HDRLEN + 4]
            .copy_from_slice(&NFNL_SUBSYS_NFTABLES.to_be_bytes());
        self.finish(start);
    }

    /// Writes a netlink header and the nfgenmsg header; returns where the message starts.
    fn header(&mut self, kind: u16, flags: u16, family: u8) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&self.seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        if flags & NLM_F_ACK != 0 {
            self.acked.push(self.seq);
        }
        self.seq = self.seq.wrapping_add(1);
        // nfgenmsg: family, version 0, res_id.
        self.buf.extend_from_slice(&[family, 0, 0, 0]);
        start
    }

    fn finish(&mut self, start: usize) {
        let len = u32::try_from(self.buf.len() - start).unwrap_or(u32::MAX);
        self.buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    /// Starts an nftables message.
    fn message(&mut self, kind: u16, flags: u16, family: Family) -> usize {
        self.header((NFNL_SUBSYS_NFTABLES << 8) | kind, NLM_F_REQUEST | NLM_F_ACK | flags, family.nfproto())
    }

    fn attr(&mut self, kind: u16, value: &[u8]) {
        let len = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn str(&mut self, kind: u16, value: &str) {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.attr(kind, &bytes);
    }

    fn be32(&mut self, kind: u16, value: u32) {
        self.attr(kind, &value.to_be_bytes());
    }

    fn begin(&mut self, kind: u16) -> Nest {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        Nest(at)
    }

    fn end(&mut self, nest: Nest) {
        let len = u16::try_from(self.buf.len() - nest.0).unwrap_or(u16::MAX);
        self.buf[nest.0..nest.0 + 2].copy_from_slice(&len.to_ne_bytes());
    }

    /// A nested `NFTA_DATA_VALUE` under `kind`.
    fn data(&mut self, kind: u16, value: &[u8]) {
        let nest = self.begin(kind);
        self.attr(NFTA_DATA_VALUE, value);
        self.end(nest);
    }

    fn table(&mut self, family: Family, kind: u16) {
        let start = self.message(kind, if kind == NFT_MSG_NEWTABLE { NLM_F_CREATE } else { 0 }, family);
        self.str(NFTA_TABLE_NAME, TABLE);
        self.finish(start);
    }

    fn set(&mut self, family: Family, name: &str, id: u32, key_type: u32, key_len: u32) {
        let start = self.message(NFT_MSG_NEWSET, NLM_F_CREATE, family);
        self.str(NFTA_SET_TABLE, TABLE);
        self.str(NFTA_SET_NAME, name);
        self.be32(NFTA_SET_KEY_TYPE, key_type);
        self.be32(NFTA_SET_KEY_LEN, key_len);
        self.be32(NFTA_SET_ID, id);
        self.finish(start);
    }

    fn elements(&mut self, family: Family, name: &str, id: u32, keys: &[Vec<u8>]) {
        for chunk in keys.chunks(ELEMENTS_PER_MESSAGE) {
            let start = self.message(NFT_MSG_NEWSETELEM, NLM_F_CREATE, family);
            self.str(NFTA_SET_ELEM_LIST_TABLE, TABLE);
            self.str(NFTA_SET_ELEM_LIST_SET, name);
            self.be32(NFTA_SET_ELEM_LIST_SET_ID, id);
            let list = self.begin(NFTA_SET_ELEM_LIST_ELEMENTS);
            for key in chunk {
                let elem = self.begin(NFTA_LIST_ELEM);
                self.data(NFTA_SET_ELEM_KEY, key);
                self.end(elem);
            }
            self.end(list);
            self.finish(start);
        }
    }

    fn chain(&mut self, family: Family) {
        let start = self.message(NFT_MSG_NEWCHAIN, NLM_F_CREATE, family);
        self.str(NFTA_CHAIN_TABLE, TABLE);
        self.str(NFTA_CHAIN_NAME, CHAIN);
        let hook = self.begin(NFTA_CHAIN_HOOK);
        self.be32(NFTA_HOOK_HOOKNUM, NF_INET_PRE_ROUTING);
        self.attr(NFTA_HOOK_PRIORITY, &PRIORITY.to_be_bytes());
        self.end(hook);
        self.be32(NFTA_CHAIN_POLICY, NF_ACCEPT);
        self.str(NFTA_CHAIN_TYPE, "filter");
        self.finish(start);
    }

    fn rule(&mut self, family: Family, expressions: &[Expr]) {
        let start = self.message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, family);
        self.str(NFTA_RULE_TABLE, TABLE);
        self.str(NFTA_RULE_CHAIN, CHAIN);
        let list = self.begin(NFTA_RULE_EXPRESSIONS);
        for expr in expressions {
            let elem = self.begin(NFTA_LIST_ELEM);
            self.expr(expr);
            self.end(elem);
        }
        self.end(list);
        self.finish(start);
    }

    fn expr(&mut self, expr: &Expr) {
        let name = match expr {
            Expr::Payload { .. } => "payload",
            Expr::Meta { .. } => "meta",
            Expr::Cmp { .. } => "cmp",
            Expr::Bitwise { .. } => "bitwise",
            Expr::CtState => "ct",
            Expr::Lookup { .. } => "lookup",
            Expr::Limit => "limit",
            Expr::Immediate { .. } | Expr::Verdict(_) => "immediate",
            Expr::Dup => "dup",
            Expr::Counter => "counter",
        };
        self.str(NFTA_EXPR_NAME, name);
        let data = self.begin(NFTA_EXPR_DATA);
        match expr {
            Expr::Payload { base, offset, len } => {
                self.be32(NFTA_PAYLOAD_DREG, NFT_REG_1);
                self.be32(NFTA_PAYLOAD_BASE, *base);
                self.be32(NFTA_PAYLOAD_OFFSET, *offset);
                self.be32(NFTA_PAYLOAD_LEN, *len);
            }
            Expr::Meta { key } => {
                self.be32(NFTA_META_DREG, NFT_REG_1);
                self.be32(NFTA_META_KEY, *key);
            }
            Expr::Cmp { op, value } => {
                self.be32(NFTA_CMP_SREG, NFT_REG_1);
                self.be32(NFTA_CMP_OP, *op);
                self.data(NFTA_CMP_DATA, value);
            }
            Expr::Bitwise { mask } => {
                self.be32(NFTA_BITWISE_SREG, NFT_REG_1);
                self.be32(NFTA_BITWISE_DREG, NFT_REG_1);
                self.be32(NFTA_BITWISE_LEN, u32::try_from(mask.len()).unwrap_or(0));
                self.data(NFTA_BITWISE_MASK, mask);
                self.data(NFTA_BITWISE_XOR, &vec![0; mask.len()]);
            }
            Expr::CtState => {
                self.be32(NFTA_CT_DREG, NFT_REG_1);
                self.be32(NFTA_CT_KEY, NFT_CT_STATE);
            }
            Expr::Lookup { set, id } => {
                self.str(NFTA_LOOKUP_SET, set);
                self.be32(NFTA_LOOKUP_SREG, NFT_REG_1);
                self.be32(NFTA_LOOKUP_SET_ID, *id);
            }
            Expr::Limit => {
                self.attr(NFTA_LIMIT_RATE, &RATE_PER_SECOND.to_be_bytes());
                self.attr(NFTA_LIMIT_UNIT, &1u64.to_be_bytes());
                self.be32(NFTA_LIMIT_BURST, BURST);
                self.be32(NFTA_LIMIT_TYPE, NFT_LIMIT_PKTS);
            }
            Expr::Immediate { register, value } => {
                self.be32(NFTA_IMMEDIATE_DREG, *register);
                self.data(NFTA_IMMEDIATE_DATA, value);
            }
            Expr::Verdict(code) => {
                self.be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
                let value = self.begin(NFTA_IMMEDIATE_DATA);
                let verdict = self.begin(NFTA_DATA_VERDICT);
                self.be32(NFTA_VERDICT_CODE, *code);
                self.end(verdict);
                self.end(value);
            }
            Expr::Dup => {
                self.be32(NFTA_DUP_SREG_ADDR, NFT_REG_1);
                self.be32(NFTA_DUP_SREG_DEV, NFT_REG_2);
            }
            Expr::Counter => {}
        }
        self.end(data);
    }

    fn done(mut self) -> Encoded {
        self.control(NFNL_MSG_BATCH_END);
        Encoded { bytes: self.buf, acked: self.acked }
    }
}

/// One expression of a rule (registers are fixed: results go to register 1, a relay's device to 2).
enum Expr {
    Payload { base: u32, offset: u32, len: u32 },
    Meta { key: u32 },
    Cmp { op: u32, value: Vec<u8> },
    Bitwise { mask: Vec<u8> },
    CtState,
    Lookup { set: &'static str, id: u32 },
    Limit,
    Immediate { register: u32, value: Vec<u8> },
    Verdict(u32),
    Dup,
    Counter,
}

/// A batch ready to send, and the sequence numbers the kernel acknowledges one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The messages.
    pub bytes: Vec<u8>,
    /// The sequence numbers of the messages that are acknowledged.
    pub acked: Vec<u32>,
}

/// The matches every rule starts with: a TCP segment to a Service address, without SYN, that
/// conntrack did not know (new: picked up in the middle; invalid: refused to pick up).
fn stray(family: Family) -> Vec<Expr> {
    let (offset, len) = family.daddr();
    vec![
        Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset, len },
        Expr::Lookup { set: SET_VIPS, id: SET_ID_VIPS },
        Expr::Meta { key: NFT_META_L4PROTO },
        Expr::Cmp { op: NFT_CMP_EQ, value: vec![IPPROTO_TCP] },
        Expr::Payload { base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 13, len: 1 },
        Expr::Bitwise { mask: vec![TCP_FLAG_SYN] },
        Expr::Cmp { op: NFT_CMP_EQ, value: vec![0] },
        Expr::CtState,
        Expr::Bitwise { mask: (CT_STATE_INVALID | CT_STATE_NEW).to_ne_bytes().to_vec() },
        Expr::Cmp { op: NFT_CMP_NEQ, value: 0u32.to_ne_bytes().to_vec() },
    ]
}

fn address_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn family_rules(batch: &mut Batch, family: Family, rules: &FamilyRules) {
    batch.table(family, NFT_MSG_NEWTABLE);
    batch.set(family, SET_VIPS, SET_ID_VIPS, family.address_type(), family.daddr().1);
    let vips: Vec<Vec<u8>> = rules.vips.iter().map(|ip| address_bytes(*ip)).collect();
    batch.elements(family, SET_VIPS, SET_ID_VIPS, &vips);
    batch.set(family, SET_PEERS, SET_ID_PEERS, TYPE_ETHERADDR, 6);
    let macs: Vec<Vec<u8>> = rules.peer_macs.iter().map(|m| m.octets().to_vec()).collect();
    batch.elements(family, SET_PEERS, SET_ID_PEERS, &macs);
    batch.chain(family);
    // A stray relayed here by a peer that this node does not know either: nobody here has it, so
    // drop it rather than let the proxy pick it up and reset the client's connection.
    let mut guard = stray(family);
    guard.extend([
        Expr::Meta { key: NFT_META_IIFTYPE },
        Expr::Cmp { op: NFT_CMP_EQ, value: ARPHRD_ETHER.to_ne_bytes().to_vec() },
        Expr::Payload { base: NFT_PAYLOAD_LL_HEADER, offset: 6, len: 6 },
        Expr::Lookup { set: SET_PEERS, id: SET_ID_PEERS },
        Expr::Counter,
        Expr::Verdict(NF_DROP),
    ]);
    batch.rule(family, &guard);
    if rules.targets.is_empty() {
        return;
    }
    // A stray from a client: its connection lives on another node; copy it to every peer (the
    // one that has it answers, the others drop it) and drop it here.
    let mut relay = stray(family);
    relay.push(Expr::Limit);
    for target in &rules.targets {
        relay.push(Expr::Immediate { register: NFT_REG_1, value: address_bytes(target.ip) });
        relay.push(Expr::Immediate { register: NFT_REG_2, value: target.ifindex.to_ne_bytes().to_vec() });
        relay.push(Expr::Dup);
    }
    relay.extend([Expr::Counter, Expr::Verdict(NF_DROP)]);
    batch.rule(family, &relay);
}

/// The batch that replaces FerroLB's tables with `ruleset`.
pub fn replace(ruleset: &Ruleset, seq: u32) -> Encoded {
    let mut batch = Batch::new(seq);
    for (family, rules) in [(Family::V4, &ruleset.v4), (Family::V6, &ruleset.v6)] {
        // Create (if missing) then delete: the table is gone whatever was there, in the same
        // transaction that builds it again.
        batch.table(family, NFT_MSG_NEWTABLE);
        batch.table(family, NFT_MSG_DELTABLE);
        family_rules(&mut batch, family, rules);
    }
    batch.done()
}

/// The batch that removes FerroLB's tables (and nothing else).
pub fn remove(seq: u32) -> Encoded {
    let mut batch = Batch::new(seq);
    for family in [Family::V4, Family::V6] {
        batch.table(family, NFT_MSG_NEWTABLE);
        batch.table(family, NFT_MSG_DELTABLE);
    }
    batch.done()
}

/// What one message the kernel sent back says: `Some(errno)` for an error, `None` for an
/// acknowledgement, with the sequence number it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The sequence number of the message it answers.
    pub seq: u32,
    /// The error number (positive), or `None` for success.
    pub error: Option<i32>,
}

/// Reads the netlink messages in `buf` (what one receive returned); messages that are neither
/// errors nor acknowledgements are skipped. Truncated input ends the reading.
pub fn replies(buf: &[u8]) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut at = 0;
    while buf.len() >= at + NLMSG_HDRLEN {
        let word = |i: usize| buf.get(i..i + 4).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes);
        let Some(len) = word(at).map(|l| l as usize) else { break };
        let kind = buf.get(at + 4..at + 6).and_then(|b| b.try_into().ok()).map(u16::from_ne_bytes);
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            break;
        }
        if kind == Some(NLMSG_ERROR) {
            // nlmsgerr: the error code, then the header of the message it answers.
            let code = buf.get(at + 16..at + 20).and_then(|b| b.try_into().ok()).map(i32::from_ne_bytes);
            if let (Some(code), Some(seq)) = (code, word(at + 20 + 8)) {
                out.push(Reply { seq, error: (code != 0).then_some(-code) });
            }
        }
        at += (len + 3) & !3;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::layer2::MacAddr;
    use crate::relay::ruleset::Target;

    fn ruleset() -> Ruleset {
        Ruleset {
            v4: FamilyRules {
                vips: vec!["203.0.113.10".parse().unwrap()],
                peer_macs: BTreeSet::from([MacAddr([2, 0, 0, 0, 0, 1])]),
                targets: vec![Target { ip: "198.51.100.12".parse().unwrap(), ifindex: 7 }],
            },
            v6: FamilyRules::default(),
        }
    }

    /// Splits a batch into (type, flags, seq, length) per message.
    fn messages(bytes: &[u8]) -> Vec<(u16, u16, u32, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(bytes[at + 4..at + 6].try_into().unwrap());
            let flags = u16::from_ne_bytes(bytes[at + 6..at + 8].try_into().unwrap());
            let seq = u32::from_ne_bytes(bytes[at + 8..at + 12].try_into().unwrap());
            assert_eq!(len % 4, 0, "messages are 4-aligned");
            out.push((kind, flags, seq, len));
            at += len;
        }
        assert_eq!(at, bytes.len(), "the lengths add up to the batch");
        out
    }

    #[test]
    fn a_batch_is_framed_by_begin_and_end_and_every_message_in_it_is_acknowledged() {
        let encoded = replace(&ruleset(), 100);
        let msgs = messages(&encoded.bytes);
        assert_eq!(msgs.first().unwrap().0, NFNL_MSG_BATCH_BEGIN);
        assert_eq!(msgs.last().unwrap().0, NFNL_MSG_BATCH_END);
        let inner = &msgs[1..msgs.len() - 1];
        assert!(inner.iter().all(|m| m.0 >> 8 == NFNL_SUBSYS_NFTABLES && m.1 & NLM_F_ACK != 0));
        assert_eq!(encoded.acked, inner.iter().map(|m| m.2).collect::<Vec<_>>());
        let seqs: BTreeSet<u32> = msgs.iter().map(|m| m.2).collect();
        assert_eq!(seqs.len(), msgs.len(), "sequence numbers are distinct");
        // v4: new, del, new table, vips set + elements, peers set + elements, chain, guard, relay;
        // v6: new, del, new table, two empty sets (no element messages), chain, guard.
        let kinds: Vec<u16> = inner.iter().map(|m| m.0 & 0xff).collect();
        assert_eq!(kinds, vec![0, 2, 0, 9, 12, 9, 12, 3, 6, 6, 0, 2, 0, 9, 9, 3, 6]);
    }

    #[test]
    fn set_elements_are_split_over_messages() {
        let mut r = ruleset();
        r.v4.vips = (0..2_500u32).map(|i| IpAddr::from(std::net::Ipv4Addr::from(0xcb00_7100 + i))).collect();
        let kinds: Vec<u16> = messages(&replace(&r, 1).bytes).iter().map(|m| m.0 & 0xff).collect();
        assert_eq!(kinds.iter().filter(|k| **k == NFT_MSG_NEWSETELEM).count(), 3 + 1);
    }

    #[test]
    fn removing_touches_only_ferrolbs_tables() {
        let encoded = remove(1);
        let kinds: Vec<u16> = messages(&encoded.bytes).iter().map(|m| m.0 & 0xff).collect();
        assert_eq!(kinds, vec![NFNL_MSG_BATCH_BEGIN & 0xff, 0, 2, 0, 2, NFNL_MSG_BATCH_END & 0xff]);
        assert!(encoded.bytes.windows(TABLE.len()).any(|w| w == TABLE.as_bytes()));
    }

    #[test]
    fn replies_read_acknowledgements_and_errors_and_stop_at_truncation() {
        let mut buf = Vec::new();
        for (seq, code) in [(7u32, 0i32), (8, -2)] {
            buf.extend_from_slice(&36u32.to_ne_bytes());
            buf.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
            buf.extend_from_slice(&[0; 10]);
            buf.extend_from_slice(&code.to_ne_bytes());
            // The header of the message answered.
            buf.extend_from_slice(&[0; 8]);
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&[0; 4]);
        }
        assert_eq!(replies(&buf), vec![Reply { seq: 7, error: None }, Reply { seq: 8, error: Some(2) }]);
        assert_eq!(replies(&buf[..50]), vec![Reply { seq: 7, error: None }]);
        assert!(replies(&[1, 2, 3]).is_empty());
        // A length shorter than a header ends the reading instead of looping.
        let mut bad = buf.clone();
        bad[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert!(replies(&bad).is_empty());
    }
}
