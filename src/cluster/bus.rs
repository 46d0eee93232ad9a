//! The cluster bus of Redis 7.0: the binary messages cluster nodes exchange over TCP on their
//! client port + 10000.
//!
//! Pure data, no I/O: [`Msg`] is one message, typed; [`Msg::encode`] writes the exact bytes a
//! Redis 7.0 node writes for it, and [`Msg::decode`] reads one whole message, refusing what a
//! Redis 7.0 node refuses (with a [`BusError`] saying why). [`Framer`] cuts a byte stream into
//! whole messages, as a node's read handler does. [`gossip`] holds the rules of gossip, failure
//! detection and failover elections that need no cluster state beyond what the caller passes.
//!
//! # The wire format
//! Every message starts with a fixed 2,256-byte header ([`HEADER_LEN`]), laid out as Redis's C
//! struct is on x86-64, every integer in network byte order (big-endian):
//!
//! | offset | size  | field                                                        |
//! |-------:|------:|--------------------------------------------------------------|
//! |      0 |     4 | signature `RCmb`                                             |
//! |      4 |     4 | total length of the message, header included                 |
//! |      8 |     2 | protocol version, 1                                          |
//! |     10 |     2 | the sender's client port                                     |
//! |     12 |     2 | message type ([`MsgType`])                                   |
//! |     14 |     2 | count: gossip entries in PING, PONG and MEET                 |
//! |     16 |     8 | the sender's current epoch                                   |
//! |     24 |     8 | its config epoch (its primary's, for a replica)              |
//! |     32 |     8 | its replication offset                                       |
//! |     40 |    40 | its node id (40 hex characters, no terminator)               |
//! |     80 |  2048 | the slots it (or its primary) serves: bit `s % 8` of byte `s / 8` |
//! |   2128 |    40 | its primary's node id, or 40 zero bytes for a primary        |
//! |   2168 |    46 | its announced IP, NUL-padded, or all zero (the receiver uses the socket's) |
//! |   2214 |     2 | the number of ping extensions                                |
//! |   2216 |    30 | reserved, zero                                               |
//! |   2246 |     2 | its plaintext port (when the client port is TLS)             |
//! |   2248 |     2 | its cluster bus port                                         |
//! |   2250 |     2 | its node flags ([`flags`])                                   |
//! |   2252 |     1 | the cluster state as it sees it: 0 ok, 1 fail                |
//! |   2253 |     3 | message flags ([`mflags`]); only the first byte is used      |
//!
//! The body follows at offset 2,256; its length depends on the type (see [`Body`]). A node drops
//! the link when the first eight bytes carry a wrong signature or a length below the header's;
//! it ignores (and keeps the link after) a message of another protocol version or whose length
//! disagrees with its type.

mod frame;
pub mod gossip;

pub use frame::{Framer, DEFAULT_MAX_MSG_LEN};

use std::fmt;

/// The signature every message starts with ("Redis Cluster message bus").
pub const SIGNATURE: [u8; 4] = *b"RCmb";
/// The only protocol version Redis 7.0 speaks.
pub const PROTO_VER: u16 = 1;
/// Bytes in a node id: a SHA-1 in hex, without a terminator.
pub const NAME_LEN: usize = 40;
/// Bytes of an IP address field (INET6_ADDRSTRLEN), NUL-padded.
pub const IP_LEN: usize = 46;
/// Hash slots in a cluster.
pub const SLOTS: usize = 16384;
/// Bytes of a slot bitmap.
pub const SLOT_BYTES: usize = SLOTS / 8;
/// The fixed header every message starts with; also the shortest valid message.
pub const HEADER_LEN: usize = 2256;
/// One gossip entry of PING, PONG and MEET.
pub const GOSSIP_LEN: usize = 104;
/// The body of FAIL: the failing node's id.
pub const FAIL_LEN: usize = NAME_LEN;
/// The body of UPDATE: config epoch, node id, slot bitmap.
pub const UPDATE_LEN: usize = 8 + NAME_LEN + SLOT_BYTES;
/// The fixed part of a PUBLISH body (two lengths) before the channel and message bytes.
pub const PUBLISH_FIXED_LEN: usize = 8;
/// The fixed part of a MODULE body (module id, length, type) before its payload.
pub const MODULE_FIXED_LEN: usize = 13;
/// The header of a ping extension (length, type, unused); its data follows, padded to 8 bytes.
pub const EXT_HEADER_LEN: usize = 8;
/// The client port plus this is the cluster bus port, unless configured otherwise.
pub const PORT_INCR: u16 = 10000;

/// Node flags, as in the header's `flags` field and in each gossip entry.
pub mod flags {
    /// A primary.
    pub const MASTER: u16 = 1;
    /// A replica.
    pub const SLAVE: u16 = 2;
    /// Suspected failing by the sender (no answer within node timeout).
    pub const PFAIL: u16 = 4;
    /// Failing, agreed by a majority of primaries.
    pub const FAIL: u16 = 8;
    /// The node that writes the message.
    pub const MYSELF: u16 = 16;
    /// Met, but the first PONG is still awaited.
    pub const HANDSHAKE: u16 = 32;
    /// Address unknown.
    pub const NOADDR: u16 = 64;
    /// A MEET is to be sent to it.
    pub const MEET: u16 = 128;
    /// A primary eligible for replica migration.
    pub const MIGRATE_TO: u16 = 256;
    /// A replica that will not fail over (`cluster-replica-no-failover`).
    pub const NOFAILOVER: u16 = 512;
}

/// Message flags: bits of the header's `mflags[0]`.
pub mod mflags {
    /// The sender is a primary paused for a manual failover.
    pub const PAUSED: u8 = 1;
    /// FAILOVER_AUTH_REQUEST: vote even if the primary is not failing (CLUSTER FAILOVER FORCE).
    pub const FORCEACK: u8 = 2;
    /// PING, PONG, MEET: extensions follow the gossip entries.
    pub const EXT_DATA: u8 = 4;
}

/// Ping extension types Redis 7.0 knows.
pub mod ext_type {
    /// The sender's announced hostname (`cluster-announce-hostname`), NUL-terminated.
    pub const HOSTNAME: u16 = 0;
}

/// A node id as it travels: 40 bytes, normally lower-case hex.
pub type NodeName = [u8; NAME_LEN];

/// The zero node id: "no primary" in the header's `slaveof`.
pub const NULL_NAME: NodeName = [0; NAME_LEN];

/// The bytes of a NUL-padded field up to its first NUL (an IP, a hostname).
pub fn until_nul(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// An IP field from text: copied, NUL-padded, cut to 45 bytes so a NUL always ends it.
pub fn ip_field(ip: &[u8]) -> [u8; IP_LEN] {
    let mut out = [0; IP_LEN];
    let n = ip.len().min(IP_LEN - 1);
    out[..n].copy_from_slice(&ip[..n]);
    out
}

/// A node id from text: copied into 40 bytes, zero-padded when shorter.
pub fn node_name(id: &[u8]) -> NodeName {
    let mut out = NULL_NAME;
    let n = id.len().min(NAME_LEN);
    out[..n].copy_from_slice(&id[..n]);
    out
}

/// The message types (the header's `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum MsgType {
    /// A heartbeat carrying the sender's configuration and gossip.
    Ping = 0,
    /// The answer to PING and MEET, same shape; also broadcast on configuration changes.
    Pong = 1,
    /// A PING that makes the receiver add the sender to its nodes (CLUSTER MEET).
    Meet = 2,
    /// A node is failing.
    Fail = 3,
    /// PUBLISH propagated through the cluster.
    Publish = 4,
    /// A replica asks the primaries for their vote.
    FailoverAuthRequest = 5,
    /// A primary gives its vote.
    FailoverAuthAck = 6,
    /// Another node's slots and config epoch, sent to a node with a stale view.
    Update = 7,
    /// A replica asks its primary to pause for a manual failover.
    MfStart = 8,
    /// A module's message.
    Module = 9,
    /// SPUBLISH propagated to the shard.
    PublishShard = 10,
}

impl MsgType {
    /// Every type, by code.
    pub const ALL: [MsgType; 11] = [
        MsgType::Ping,
        MsgType::Pong,
        MsgType::Meet,
        MsgType::Fail,
        MsgType::Publish,
        MsgType::FailoverAuthRequest,
        MsgType::FailoverAuthAck,
        MsgType::Update,
        MsgType::MfStart,
        MsgType::Module,
        MsgType::PublishShard,
    ];

    /// The type of a code, None for a code Redis 7.0 does not know.
    pub fn from_code(code: u16) -> Option<MsgType> {
        MsgType::ALL.get(usize::from(code)).copied()
    }

    /// Its code on the wire.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Its name as Redis logs it and as CLUSTER INFO's `cluster_stats_messages_<name>_sent`
    /// and `_received` show it.
    pub fn name(self) -> &'static str {
        match self {
            MsgType::Ping => "ping",
            MsgType::Pong => "pong",
            MsgType::Meet => "meet",
            MsgType::Fail => "fail",
            MsgType::Publish => "publish",
            MsgType::PublishShard => "publishshard",
            MsgType::FailoverAuthRequest => "auth-req",
            MsgType::FailoverAuthAck => "auth-ack",
            MsgType::Update => "update",
            MsgType::MfStart => "mfstart",
            MsgType::Module => "module",
        }
    }
}

/// The name Redis logs for a type code ("unknown" for codes it does not know).
pub fn type_name(code: u16) -> &'static str {
    MsgType::from_code(code).map_or("unknown", MsgType::name)
}

/// A set of hash slots as the bus carries it: bit `s % 8` of byte `s / 8` is slot `s`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SlotBitmap(Box<[u8; SLOT_BYTES]>);

impl Default for SlotBitmap {
    fn default() -> Self {
        SlotBitmap(Box::new([0; SLOT_BYTES]))
    }
}

impl fmt::Debug for SlotBitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotBitmap{:?}", self.ranges())
    }
}

impl SlotBitmap {
    /// No slots.
    pub fn new() -> SlotBitmap {
        SlotBitmap::default()
    }

    /// The bitmap of 2,048 bytes as they travel.
    pub fn from_bytes(bytes: &[u8; SLOT_BYTES]) -> SlotBitmap {
        SlotBitmap(Box::new(*bytes))
    }

    /// Its 2,048 bytes.
    pub fn as_bytes(&self) -> &[u8; SLOT_BYTES] {
        &self.0
    }

    /// Whether `slot` is in the set (false beyond 16383).
    pub fn contains(&self, slot: u16) -> bool {
        let s = usize::from(slot);
        s < SLOTS && self.0[s / 8] & (1 << (s % 8)) != 0
    }

    /// Adds `slot` (ignored beyond 16383).
    pub fn insert(&mut self, slot: u16) {
        let s = usize::from(slot);
        if s < SLOTS {
            self.0[s / 8] |= 1 << (s % 8);
        }
    }

    /// Removes `slot`.
    pub fn remove(&mut self, slot: u16) {
        let s = usize::from(slot);
        if s < SLOTS {
            self.0[s / 8] &= !(1 << (s % 8));
        }
    }

    /// Adds every slot of `first..=last`.
    pub fn insert_range(&mut self, first: u16, last: u16) {
        for s in first..=last.min(SLOTS as u16 - 1) {
            self.insert(s);
        }
    }

    /// How many slots are in the set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// The set as inclusive ranges, ascending, as CLUSTER NODES prints them.
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for s in 0..SLOTS as u16 {
            if !self.contains(s) {
                continue;
            }
            match out.last_mut() {
                Some((_, last)) if *last + 1 == s => *last = s,
                _ => out.push((s, s)),
            }
        }
        out
    }
}

/// The header fields of a message, apart from those the encoder derives: the signature, the
/// total length, the version and the type (from the [`Body`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The sender's client port (its TLS port when TLS serves clients).
    pub port: u16,
    /// The header's `count`. For PING, PONG and MEET the encoder writes the number of gossip
    /// entries instead; other types leave it 0.
    pub count: u16,
    /// The sender's current epoch.
    pub current_epoch: u64,
    /// The sender's config epoch, or its primary's when it is a replica.
    pub config_epoch: u64,
    /// The sender's replication offset.
    pub offset: u64,
    /// The sender's node id.
    pub sender: NodeName,
    /// The slots the sender serves, or its primary's when it is a replica.
    pub myslots: SlotBitmap,
    /// The sender's primary, [`NULL_NAME`] for a primary.
    pub slaveof: NodeName,
    /// The sender's announced IP, NUL-padded; all zero lets the receiver use the socket's.
    pub myip: [u8; IP_LEN],
    /// The header's `extensions`. For PING, PONG and MEET the encoder writes the number of
    /// extensions instead; other types leave it 0.
    pub extensions: u16,
    /// 30 reserved bytes, zero from Redis 7.0; kept so a message re-encodes to its own bytes.
    pub reserved: [u8; 30],
    /// The sender's plaintext client port, when `port` is its TLS port (else 0).
    pub pport: u16,
    /// The sender's cluster bus port.
    pub cport: u16,
    /// The sender's node flags ([`flags`]).
    pub flags: u16,
    /// The cluster state as the sender sees it: 0 ok, 1 fail.
    pub state: u8,
    /// Message flags ([`mflags`] are bits of the first byte; the others are zero).
    pub mflags: [u8; 3],
}

impl Header {
    /// A header from `sender`, every other field zero: fill in what the message needs.
    pub fn new(sender: NodeName) -> Header {
        Header {
            port: 0,
            count: 0,
            current_epoch: 0,
            config_epoch: 0,
            offset: 0,
            sender,
            myslots: SlotBitmap::new(),
            slaveof: NULL_NAME,
            myip: [0; IP_LEN],
            extensions: 0,
            reserved: [0; 30],
            pport: 0,
            cport: 0,
            flags: 0,
            state: 0,
            mflags: [0; 3],
        }
    }
}

/// One gossip entry: what the sender knows of another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipEntry {
    /// The node's id.
    pub nodename: NodeName,
    /// When the sender last pinged it, in Unix seconds (0: no ping awaiting an answer).
    pub ping_sent: u32,
    /// When the sender last received its PONG, in Unix seconds.
    pub pong_received: u32,
    /// Its IP, NUL-padded.
    pub ip: [u8; IP_LEN],
    /// Its client port.
    pub port: u16,
    /// Its cluster bus port.
    pub cport: u16,
    /// Its flags as the sender sees them ([`flags`]).
    pub flags: u16,
    /// Its plaintext port, when `port` is TLS.
    pub pport: u16,
    /// Unused, zero from Redis 7.0; kept so a message re-encodes to its own bytes.
    pub notused: u16,
}

/// One ping extension: a typed, 8-byte-aligned blob after the gossip entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingExt {
    /// Its type ([`ext_type`]); a type Redis 7.0 does not know is skipped by the receiver.
    pub kind: u16,
    /// The header's unused 16 bits, zero from Redis 7.0; kept for byte-exact re-encoding.
    pub unused: u16,
    /// The data after the 8-byte extension header, its length a multiple of 8.
    pub data: Vec<u8>,
}

impl PingExt {
    /// The hostname extension: the name, a NUL, zero padding to a multiple of 8 bytes.
    pub fn hostname(name: &[u8]) -> PingExt {
        let mut data = name.to_vec();
        data.resize(align8(name.len() + 1), 0);
        PingExt {
            kind: ext_type::HOSTNAME,
            unused: 0,
            data,
        }
    }

    /// The announced hostname, when this is the hostname extension (the bytes before the
    /// first NUL, as the receiver reads them).
    pub fn as_hostname(&self) -> Option<&[u8]> {
        (self.kind == ext_type::HOSTNAME).then(|| until_nul(&self.data))
    }

    /// Its length on the wire, header included.
    pub fn wire_len(&self) -> usize {
        EXT_HEADER_LEN + self.data.len()
    }
}

/// The body of PING, PONG and MEET.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gossip {
    /// What the sender knows about some other nodes.
    pub entries: Vec<GossipEntry>,
    /// Extensions (Redis 7.0 sends only the hostname, when one is announced).
    pub exts: Vec<PingExt>,
}

impl Gossip {
    /// The announced hostname among the extensions, if any (the last one wins, as in Redis).
    pub fn hostname(&self) -> Option<&[u8]> {
        self.exts.iter().rev().find_map(PingExt::as_hostname)
    }
}

/// The body of a message, by type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// PING: `count` gossip entries of 104 bytes, then the extensions.
    Ping(Gossip),
    /// PONG: as PING.
    Pong(Gossip),
    /// MEET: as PING.
    Meet(Gossip),
    /// FAIL: the 40-byte id of the failing node.
    Fail {
        /// The failing node.
        about: NodeName,
    },
    /// PUBLISH: channel length, message length (u32 each), then both, unpadded.
    Publish {
        /// The channel.
        channel: Vec<u8>,
        /// The message.
        message: Vec<u8>,
    },
    /// PUBLISHSHARD (SPUBLISH): as PUBLISH.
    PublishShard {
        /// The shard channel.
        channel: Vec<u8>,
        /// The message.
        message: Vec<u8>,
    },
    /// FAILOVER_AUTH_REQUEST: no body (the header says who asks, with which epoch and slots;
    /// `mflags` may carry [`mflags::FORCEACK`]).
    FailoverAuthRequest,
    /// FAILOVER_AUTH_ACK: no body.
    FailoverAuthAck,
    /// MFSTART: no body.
    MfStart,
    /// UPDATE: a node's config epoch, id and slots (2,096 bytes).
    Update {
        /// The epoch of that configuration.
        config_epoch: u64,
        /// The node that owns the slots.
        node: NodeName,
        /// Its slots.
        slots: SlotBitmap,
    },
    /// MODULE: module id (8 opaque bytes, as the module API passes them), payload length
    /// (u32), message type (u8), then the payload.
    Module {
        /// The sending module's id, as it is on the wire.
        module_id: [u8; 8],
        /// The module's message type.
        kind: u8,
        /// The payload.
        payload: Vec<u8>,
    },
    /// A type Redis 7.0 does not know: its body is taken as it is (Redis accepts any length
    /// and ignores the message).
    Unknown {
        /// The type code.
        code: u16,
        /// Everything after the header.
        data: Vec<u8>,
    },
}

impl Body {
    /// The type code on the wire.
    pub fn code(&self) -> u16 {
        match self {
            Body::Ping(_) => MsgType::Ping.code(),
            Body::Pong(_) => MsgType::Pong.code(),
            Body::Meet(_) => MsgType::Meet.code(),
            Body::Fail { .. } => MsgType::Fail.code(),
            Body::Publish { .. } => MsgType::Publish.code(),
            Body::PublishShard { .. } => MsgType::PublishShard.code(),
            Body::FailoverAuthRequest => MsgType::FailoverAuthRequest.code(),
            Body::FailoverAuthAck => MsgType::FailoverAuthAck.code(),
            Body::MfStart => MsgType::MfStart.code(),
            Body::Update { .. } => MsgType::Update.code(),
            Body::Module { .. } => MsgType::Module.code(),
            Body::Unknown { code, .. } => *code,
        }
    }

    /// The gossip section of PING, PONG and MEET.
    pub fn gossip(&self) -> Option<&Gossip> {
        match self {
            Body::Ping(g) | Body::Pong(g) | Body::Meet(g) => Some(g),
            _ => None,
        }
    }

    /// Its length on the wire, after the header.
    fn wire_len(&self) -> usize {
        match self {
            Body::Ping(g) | Body::Pong(g) | Body::Meet(g) => {
                g.entries.len() * GOSSIP_LEN + g.exts.iter().map(PingExt::wire_len).sum::<usize>()
            }
            Body::Fail { .. } => FAIL_LEN,
            Body::Publish { channel, message } | Body::PublishShard { channel, message } => {
                PUBLISH_FIXED_LEN + channel.len() + message.len()
            }
            Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart => 0,
            Body::Update { .. } => UPDATE_LEN,
            Body::Module { payload, .. } => MODULE_FIXED_LEN + payload.len(),
            Body::Unknown { data, .. } => data.len(),
        }
    }
}

/// One cluster bus message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    /// The header (the sender's view of itself).
    pub header: Header,
    /// The type and what follows the header.
    pub body: Body,
}

/// Why bytes are not a message a Redis 7.0 node would act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusError {
    /// Fewer bytes than the message needs: `need` (the first 8, or its total length), `have`.
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        have: usize,
    },
    /// More bytes than the total length says: decode takes exactly one message.
    Trailing {
        /// The message's total length.
        totlen: u32,
        /// Bytes given.
        have: usize,
    },
    /// The first four bytes are not `RCmb`. Redis drops the link.
    BadSignature([u8; 4]),
    /// A total length below the 2,256-byte header. Redis drops the link.
    TooShort(u32),
    /// A total length above the framer's bound (Redis has none; see [`DEFAULT_MAX_MSG_LEN`]).
    TooLong {
        /// The announced total length.
        totlen: u32,
        /// The bound.
        max: u32,
    },
    /// A protocol version other than 1. Redis ignores the message.
    BadVersion(u16),
    /// The total length disagrees with the type and its counts. Redis ignores the message.
    BadLength {
        /// The type code.
        code: u16,
        /// The announced total length.
        totlen: u32,
        /// The length the type and counts call for (it may exceed what a u32 holds).
        expected: u64,
    },
    /// A ping extension whose length is not a multiple of 8. Redis ignores the message.
    ExtPadding {
        /// The type code of the message.
        code: u16,
        /// The extension's length.
        len: u32,
    },
    /// A ping extension that does not fit in what is left of the message (or is shorter
    /// than its own 8-byte header). Redis ignores the message.
    ExtOverrun {
        /// The type code of the message.
        code: u16,
        /// The extension's length.
        len: u32,
        /// The message's total length.
        totlen: u32,
    },
    /// An extension count without the EXT_DATA message flag: Redis 7.0 would then read
    /// extensions its length check never looked at; refused here.
    ExtWithoutFlag {
        /// The type code of the message.
        code: u16,
        /// The header's extension count.
        extensions: u16,
    },
}

impl BusError {
    /// Whether a Redis node closes the link on this error (a framing error: the stream cannot
    /// be resynchronised), rather than only ignoring the message.
    pub fn closes_link(&self) -> bool {
        matches!(
            self,
            BusError::BadSignature(_) | BusError::TooShort(_) | BusError::TooLong { .. }
        )
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusError::Truncated { need, have } => {
                write!(f, "truncated cluster bus message: {have} of {need} bytes")
            }
            BusError::Trailing { totlen, have } => write!(
                f,
                "{have} bytes given for one cluster bus message of {totlen} bytes"
            ),
            BusError::BadSignature(sig) => write!(
                f,
                "Bad message length or signature received from Cluster bus. (signature {sig:02x?})"
            ),
            BusError::TooShort(totlen) => write!(
                f,
                "Bad message length or signature received from Cluster bus. (length {totlen} \
                 below {HEADER_LEN})"
            ),
            BusError::TooLong { totlen, max } => write!(
                f,
                "cluster bus message of {totlen} bytes exceeds the bound of {max} bytes"
            ),
            BusError::BadVersion(v) => {
                write!(f, "cluster bus protocol version {v} is not {PROTO_VER}")
            }
            BusError::BadLength {
                code,
                totlen,
                expected,
            } => write!(
                f,
                "Received invalid {} packet of length {totlen} but expected length {expected}",
                type_name(*code)
            ),
            BusError::ExtPadding { code, len } => write!(
                f,
                "Received a {} packet without proper padding ({len} bytes)",
                type_name(*code)
            ),
            BusError::ExtOverrun { code, len, totlen } => write!(
                f,
                "Received invalid {} packet with extension data that exceeds total packet \
                 length ({totlen}): extension of {len} bytes",
                type_name(*code)
            ),
            BusError::ExtWithoutFlag { code, extensions } => write!(
                f,
                "Received a {} packet announcing {extensions} extensions without the extension \
                 data flag",
                type_name(*code)
            ),
        }
    }
}

impl std::error::Error for BusError {}

/// `n` rounded up to a multiple of 8, as extensions are padded.
pub fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The total length announced by a message's first 8 bytes, after checking the signature and
/// the header's minimum: what a node's read handler checks before it reads the rest.
pub fn peek_totlen(first8: &[u8]) -> Result<u32, BusError> {
    if first8.len() < 8 {
        return Err(BusError::Truncated {
            need: 8,
            have: first8.len(),
        });
    }
    let sig = [first8[0], first8[1], first8[2], first8[3]];
    if sig != SIGNATURE {
        return Err(BusError::BadSignature(sig));
    }
    let totlen = be32(&first8[4..8]);
    if (totlen as usize) < HEADER_LEN {
        return Err(BusError::TooShort(totlen));
    }
    Ok(totlen)
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(&b[..N]);
    a
}

/// A length as a u32 field; lengths beyond the field's range (over 4 GiB) are out of the
/// protocol's reach and saturate, which every decoder then refuses.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl Msg {
    /// A message of `body` from `header`. For PING, PONG and MEET it sets the header's
    /// `count` and `extensions` from the body, and the EXT_DATA flag when there are
    /// extensions, as the encoder writes them: a message built here equals its decoding.
    pub fn new(mut header: Header, body: Body) -> Msg {
        if let Some(g) = body.gossip() {
            header.count = len16(g.entries.len());
            header.extensions = len16(g.exts.len());
            if !g.exts.is_empty() {
                header.mflags[0] |= mflags::EXT_DATA;
            }
        }
        Msg { header, body }
    }

    /// The type, None for a code Redis 7.0 does not know.
    pub fn msg_type(&self) -> Option<MsgType> {
        MsgType::from_code(self.body.code())
    }

    /// The bytes a Redis 7.0 node sends for this message: the header with its derived fields
    /// (signature, total length, version 1, type; for PING, PONG and MEET the gossip and
    /// extension counts, and the EXT_DATA flag when there are extensions), then the body.
    ///
    /// Counts beyond the wire's field widths (over 65,535 gossip entries, over 4 GiB of
    /// payload) cannot travel: they saturate, and every decoder refuses the result.
    pub fn encode(&self) -> Vec<u8> {
        let h = &self.header;
        let body_len = self.body.wire_len();
        let totlen = HEADER_LEN + body_len;
        let mut out = Vec::with_capacity(totlen);
        let (count, extensions, mflags) = match self.body.gossip() {
            Some(g) => {
                let mut m = h.mflags;
                if !g.exts.is_empty() {
                    m[0] |= mflags::EXT_DATA;
                }
                (len16(g.entries.len()), len16(g.exts.len()), m)
            }
            None => (h.count, h.extensions, h.mflags),
        };
        out.extend_from_slice(&SIGNATURE);
        out.extend_from_slice(&len32(totlen).to_be_bytes());
        out.extend_from_slice(&PROTO_VER.to_be_bytes());
        out.extend_from_slice(&h.port.to_be_bytes());
        out.extend_from_slice(&self.body.code().to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&h.current_epoch.to_be_bytes());
        out.extend_from_slice(&h.config_epoch.to_be_bytes());
        out.extend_from_slice(&h.offset.to_be_bytes());
        out.extend_from_slice(&h.sender);
        out.extend_from_slice(h.myslots.as_bytes());
        out.extend_from_slice(&h.slaveof);
        out.extend_from_slice(&h.myip);
        out.extend_from_slice(&extensions.to_be_bytes());
        out.extend_from_slice(&h.reserved);
        out.extend_from_slice(&h.pport.to_be_bytes());
        out.extend_from_slice(&h.cport.to_be_bytes());
        out.extend_from_slice(&h.flags.to_be_bytes());
        out.push(h.state);
        out.extend_from_slice(&mflags);
        debug_assert_eq!(out.len(), HEADER_LEN);
        match &self.body {
            Body::Ping(g) | Body::Pong(g) | Body::Meet(g) => {
                for e in &g.entries {
                    out.extend_from_slice(&e.nodename);
                    out.extend_from_slice(&e.ping_sent.to_be_bytes());
                    out.extend_from_slice(&e.pong_received.to_be_bytes());
                    out.extend_from_slice(&e.ip);
                    out.extend_from_slice(&e.port.to_be_bytes());
                    out.extend_from_slice(&e.cport.to_be_bytes());
                    out.extend_from_slice(&e.flags.to_be_bytes());
                    out.extend_from_slice(&e.pport.to_be_bytes());
                    out.extend_from_slice(&e.notused.to_be_bytes());
                }
                for x in &g.exts {
                    out.extend_from_slice(&len32(x.wire_len()).to_be_bytes());
                    out.extend_from_slice(&x.kind.to_be_bytes());
                    out.extend_from_slice(&x.unused.to_be_bytes());
                    out.extend_from_slice(&x.data);
                }
            }
            Body::Fail { about } => out.extend_from_slice(about),
            Body::Publish { channel, message } | Body::PublishShard { channel, message } => {
                out.extend_from_slice(&len32(channel.len()).to_be_bytes());
                out.extend_from_slice(&len32(message.len()).to_be_bytes());
                out.extend_from_slice(channel);
                out.extend_from_slice(message);
            }
            Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart => {}
            Body::Update {
                config_epoch,
                node,
                slots,
            } => {
                out.extend_from_slice(&config_epoch.to_be_bytes());
                out.extend_from_slice(node);
                out.extend_from_slice(slots.as_bytes());
            }
            Body::Module {
                module_id,
                kind,
                payload,
            } => {
                out.extend_from_slice(module_id);
                out.extend_from_slice(&len32(payload.len()).to_be_bytes());
                out.push(*kind);
                out.extend_from_slice(payload);
            }
            Body::Unknown { data, .. } => out.extend_from_slice(data),
        }
        out
    }

    /// Reads exactly one whole message (as [`Framer`] yields them), with the checks a Redis
    /// 7.0 node makes before acting on one: signature, minimum length, version, and a total
    /// length that agrees with the type (gossip count, extension lengths, payload lengths).
    /// Never panics; allocates no more than the input's size.
    pub fn decode(buf: &[u8]) -> Result<Msg, BusError> {
        let totlen = peek_totlen(buf)?;
        let total = totlen as usize;
        if buf.len() < total {
            return Err(BusError::Truncated {
                need: total,
                have: buf.len(),
            });
        }
        if buf.len() > total {
            return Err(BusError::Trailing {
                totlen,
                have: buf.len(),
            });
        }
        let ver = be16(&buf[8..10]);
        if ver != PROTO_VER {
            return Err(BusError::BadVersion(ver));
        }
        let code = be16(&buf[12..14]);
        let header = Header {
            port: be16(&buf[10..12]),
            count: be16(&buf[14..16]),
            current_epoch: be64(&buf[16..24]),
            config_epoch: be64(&buf[24..32]),
            offset: be64(&buf[32..40]),
            sender: array(&buf[40..80]),
            myslots: SlotBitmap::from_bytes(&array(&buf[80..2128])),
            slaveof: array(&buf[2128..2168]),
            myip: array(&buf[2168..2214]),
            extensions: be16(&buf[2214..2216]),
            reserved: array(&buf[2216..2246]),
            pport: be16(&buf[2246..2248]),
            cport: be16(&buf[2248..2250]),
            flags: be16(&buf[2250..2252]),
            state: buf[2252],
            mflags: array(&buf[2253..2256]),
        };
        let data = &buf[HEADER_LEN..];
        let bad_length = |expected: u64| BusError::BadLength {
            code,
            totlen,
            expected,
        };
        let exact = |len: usize| {
            if data.len() == len {
                Ok(())
            } else {
                Err(bad_length((HEADER_LEN + len) as u64))
            }
        };
        let body = match MsgType::from_code(code) {
            Some(t @ (MsgType::Ping | MsgType::Pong | MsgType::Meet)) => {
                let g = decode_gossip(&header, code, totlen, data)?;
                match t {
                    MsgType::Ping => Body::Ping(g),
                    MsgType::Pong => Body::Pong(g),
                    _ => Body::Meet(g),
                }
            }
            Some(MsgType::Fail) => {
                exact(FAIL_LEN)?;
                Body::Fail { about: array(data) }
            }
            Some(t @ (MsgType::Publish | MsgType::PublishShard)) => {
                // Redis reads both lengths even from a message too short to hold them (its
                // receive buffer is larger); here a message that short is refused by length.
                if data.len() < PUBLISH_FIXED_LEN {
                    return Err(bad_length((HEADER_LEN + PUBLISH_FIXED_LEN) as u64));
                }
                let clen = be32(&data[0..4]) as usize;
                let mlen = be32(&data[4..8]) as usize;
                let want = PUBLISH_FIXED_LEN as u64 + clen as u64 + mlen as u64;
                if data.len() as u64 != want {
                    return Err(bad_length(HEADER_LEN as u64 + want));
                }
                let channel = data[8..8 + clen].to_vec();
                let message = data[8 + clen..].to_vec();
                if t == MsgType::Publish {
                    Body::Publish { channel, message }
                } else {
                    Body::PublishShard { channel, message }
                }
            }
            Some(MsgType::FailoverAuthRequest) => {
                exact(0)?;
                Body::FailoverAuthRequest
            }
            Some(MsgType::FailoverAuthAck) => {
                exact(0)?;
                Body::FailoverAuthAck
            }
            Some(MsgType::MfStart) => {
                exact(0)?;
                Body::MfStart
            }
            Some(MsgType::Update) => {
                exact(UPDATE_LEN)?;
                Body::Update {
                    config_epoch: be64(&data[0..8]),
                    node: array(&data[8..48]),
                    slots: SlotBitmap::from_bytes(&array(&data[48..UPDATE_LEN])),
                }
            }
            Some(MsgType::Module) => {
                if data.len() < MODULE_FIXED_LEN {
                    return Err(bad_length((HEADER_LEN + MODULE_FIXED_LEN) as u64));
                }
                let len = be32(&data[8..12]);
                let want = MODULE_FIXED_LEN as u64 + u64::from(len);
                if data.len() as u64 != want {
                    return Err(bad_length(HEADER_LEN as u64 + want));
                }
                Body::Module {
                    module_id: array(&data[0..8]),
                    kind: data[12],
                    payload: data[MODULE_FIXED_LEN..].to_vec(),
                }
            }
            None => Body::Unknown {
                code,
                data: data.to_vec(),
            },
        };
        Ok(Msg { header, body })
    }
}

/// The gossip section and extensions of PING, PONG and MEET, checked as Redis checks them:
/// `count` entries of 104 bytes, then (with the EXT_DATA flag) `extensions` extensions, each a
/// multiple of 8 bytes long and inside the message, and nothing after.
fn decode_gossip(h: &Header, code: u16, totlen: u32, data: &[u8]) -> Result<Gossip, BusError> {
    let count = usize::from(h.count);
    let gossip_len = count * GOSSIP_LEN;
    if data.len() < gossip_len {
        return Err(BusError::BadLength {
            code,
            totlen,
            expected: (HEADER_LEN + gossip_len) as u64,
        });
    }
    let entries = data[..gossip_len]
        .chunks_exact(GOSSIP_LEN)
        .map(|e| GossipEntry {
            nodename: array(&e[0..40]),
            ping_sent: be32(&e[40..44]),
            pong_received: be32(&e[44..48]),
            ip: array(&e[48..94]),
            port: be16(&e[94..96]),
            cport: be16(&e[96..98]),
            flags: be16(&e[98..100]),
            pport: be16(&e[100..102]),
            notused: be16(&e[102..104]),
        })
        .collect();
    let mut exts = Vec::new();
    let mut pos = gossip_len;
    if h.mflags[0] & mflags::EXT_DATA != 0 {
        for _ in 0..h.extensions {
            let rest = &data[pos..];
            if rest.len() < EXT_HEADER_LEN {
                return Err(BusError::ExtOverrun {
                    code,
                    len: EXT_HEADER_LEN as u32,
                    totlen,
                });
            }
            let len = be32(&rest[0..4]);
            if !len.is_multiple_of(8) {
                return Err(BusError::ExtPadding { code, len });
            }
            let n = len as usize;
            if n < EXT_HEADER_LEN || n > rest.len() {
                return Err(BusError::ExtOverrun { code, len, totlen });
            }
            exts.push(PingExt {
                kind: be16(&rest[4..6]),
                unused: be16(&rest[6..8]),
                data: rest[EXT_HEADER_LEN..n].to_vec(),
            });
            pos += n;
        }
    } else if h.extensions != 0 {
        return Err(BusError::ExtWithoutFlag {
            code,
            extensions: h.extensions,
        });
    }
    if pos != data.len() {
        return Err(BusError::BadLength {
            code,
            totlen,
            expected: (HEADER_LEN + pos) as u64,
        });
    }
    Ok(Gossip { entries, exts })
}

#[cfg(test)]
mod tests;
