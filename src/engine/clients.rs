//! Connected clients: their state, connecting and disconnecting.

use std::collections::VecDeque;

pub use super::client_mem::ClientMem;
use super::tracking::Tracking;
use super::Engine;
use crate::commands::Command;
use crate::protocol::Reply;

/// A command queued inside MULTI: resolved when queued, run by EXEC.
pub type Queued = (&'static Command, Vec<Vec<u8>>);

/// A client's identifier, unique for the engine's lifetime (CLIENT ID).
pub type ClientId = u64;

/// The connected clients by id. A command looks its client up several times (the checks,
/// the call, the reply, the host's buffers), so they are hashed rather than kept in an ordered
/// map; only the rare listings (CLIENT LIST, eviction, INFO) want them in id order, which is
/// the order they connected in, as Redis lists them.
#[derive(Clone, Debug, Default)]
pub struct ClientTable {
    map: hashbrown::HashMap<ClientId, Client, IdHash>,
}

impl ClientTable {
    /// No client.
    pub fn new() -> ClientTable {
        ClientTable::default()
    }

    /// The client `id`, if connected.
    #[inline]
    pub fn get(&self, id: &ClientId) -> Option<&Client> {
        self.map.get(id)
    }

    /// The client `id`, if connected, to change.
    #[inline]
    pub fn get_mut(&mut self, id: &ClientId) -> Option<&mut Client> {
        self.map.get_mut(id)
    }

    /// Whether `id` is connected.
    #[inline]
    pub fn contains_key(&self, id: &ClientId) -> bool {
        self.map.contains_key(id)
    }

    /// Adds a client (returns one it replaced under the same id).
    pub fn insert(&mut self, id: ClientId, client: Client) -> Option<Client> {
        self.map.insert(id, client)
    }

    /// Takes a client out.
    pub fn remove(&mut self, id: &ClientId) -> Option<Client> {
        self.map.remove(id)
    }

    /// How many clients are connected.
    #[inline]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every client, in id order (the order they connected in).
    pub fn values(&self) -> impl Iterator<Item = &Client> {
        let mut all: Vec<&Client> = self.map.values().collect();
        all.sort_unstable_by_key(|c| c.id);
        all.into_iter()
    }
}

impl std::ops::Index<&ClientId> for ClientTable {
    type Output = Client;

    /// The client `id`; panics when it is not connected (as a map's index does).
    fn index(&self, id: &ClientId) -> &Client {
        &self.map[id]
    }
}

/// One connected client's state.
#[derive(Clone, Debug)]
pub struct Client {
    /// CLIENT ID.
    pub id: ClientId,
    /// Selected database.
    pub db: usize,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// Protocol version chosen with HELLO (2 or 3).
    pub proto: u8,
    /// Peer address as CLIENT LIST shows it (`127.0.0.1:50312`).
    pub addr: String,
    /// Local address (`127.0.0.1:6379`).
    pub laddr: String,
    /// Connected through the Unix socket (CLIENT LIST flag U).
    pub unix_socket: bool,
    /// When the client connected, in ms.
    pub created_ms: i64,
    /// When the client last sent a command, in ms.
    pub last_ms: i64,
    /// Full name of the last command (`client|list`).
    pub last_cmd: &'static str,
    /// Set by QUIT: the host closes the connection after sending the reply.
    pub closing: bool,
    /// Messages waiting for the host to deliver (pub/sub, unblocked replies).
    pub outbox: Vec<Reply>,
    /// Set when a key this client WATCHes was modified: its next EXEC fails.
    pub watch_dirty: bool,
    /// Commands queued since MULTI, resolved when queued; None outside a transaction.
    pub multi: Option<Vec<Queued>>,
    /// A command was rejected while queueing: EXEC will answer EXECABORT.
    pub multi_error: bool,
    /// Keys this client WATCHes: database, key, and whether the key was already logically
    /// expired (but not yet removed) when WATCH ran.
    pub watching: Vec<(usize, Vec<u8>, bool)>,
    /// Channels subscribed to, in subscription order.
    pub subs: Vec<Vec<u8>>,
    /// Patterns subscribed to.
    pub psubs: Vec<Vec<u8>>,
    /// Shard channels subscribed to.
    pub ssubs: Vec<Vec<u8>>,
    /// Commands received while the client was blocked, run once it is served.
    pub pending: VecDeque<Vec<Vec<u8>>>,
    /// Whether the client may run commands while `requirepass` is set: true for clients that
    /// connected while there was no password, and after a successful AUTH.
    pub authenticated: bool,
    /// The ACL user the client runs as (`default` until AUTH names another).
    pub user: Vec<u8>,
    /// CLIENT REPLY state: which replies the host does not send.
    pub reply_mode: ReplyMode,
    /// CLIENT NO-EVICT ON: exempt from client eviction (shown as flag `e`).
    pub no_evict: bool,
    /// MONITOR: receives a line for every command the server runs.
    pub monitor: bool,
    /// Held by CLIENT PAUSE: its commands wait in `pending` until the pause ends.
    pub paused: bool,
    /// CLIENT TRACKING settings while tracking is on.
    pub tracking: Option<Tracking>,
    /// Messages that follow the reply of the command running now (its own MONITOR line, its
    /// own tracking invalidations).
    pub after_reply: Vec<Reply>,
    /// The client replaying an append-only file: as for Redis's AOF client, what it runs was
    /// already checked once, so commands obey it (XADD's trimming LIMIT is not enforced).
    pub replaying: bool,
    /// What the client is to replication: a replica of ours, our primary, or neither.
    pub link: LinkRole,
    /// The replication offset after its last command: what WAIT waits for.
    pub woff: i64,
    /// ASKING: the next command may use a slot this node imports.
    pub cluster_asking: bool,
    /// READONLY: reads of the primary's slots are served on this replica.
    pub cluster_readonly: bool,
    /// The hash slot of the keys the running command named (a script's later commands must
    /// stay in it).
    pub cluster_slot: Option<u16>,
    /// Its buffers and memory (CLIENT LIST qbuf, omem, tot-mem; client eviction).
    pub mem: ClientMem,
}

impl Client {
    /// What it sends is obeyed as written, as Redis obeys its AOF and its primary
    /// (mustObeyClient): it replays the append-only file or is the link to the primary, so it
    /// was checked once already, where it first ran.
    pub fn obeyed(&self) -> bool {
        self.replaying || self.link == LinkRole::Master
    }

    /// Whether it holds a subscription (channels, patterns or shard channels).
    pub fn subscribed(&self) -> bool {
        !self.subs.is_empty() || !self.psubs.is_empty() || !self.ssubs.is_empty()
    }
}

/// A client's part in replication (CLIENT LIST flags `S` and `M`, types `replica`, `master`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkRole {
    /// An ordinary client.
    #[default]
    None,
    /// A replica that asked for our stream.
    Replica,
    /// The link to our primary, through which its stream is applied.
    Master,
}

/// CLIENT REPLY: ON sends every reply; OFF none (CLIENT REPLY OFF's own included); SKIP drops
/// its own reply and the next command's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    /// Every reply is sent.
    #[default]
    On,
    /// No reply is sent until CLIENT REPLY ON.
    Off,
    /// The current command's reply is dropped, then the next command's.
    SkipThisAndNext,
    /// The current command's reply is dropped, then replies resume.
    SkipThis,
}

impl Engine {
    /// Connects a client and returns its id.
    pub fn open_client(&mut self, now_ms: i64) -> ClientId {
        let id = self.next_client_id;
        self.next_client_id += 1;
        self.stats.connections += 1;
        let laddr = format!("127.0.0.1:{}", self.port);
        self.clients.insert(
            id,
            Client {
                id,
                db: 0,
                name: None,
                proto: 2,
                addr: format!("127.0.0.1:{}", 40000 + id % 20000),
                laddr,
                unix_socket: false,
                created_ms: now_ms,
                last_ms: now_ms,
                last_cmd: "NULL",
                closing: false,
                outbox: Vec::new(),
                watch_dirty: false,
                authenticated: self.acl.default_opens(),
                user: b"default".to_vec(),
                reply_mode: ReplyMode::On,
                no_evict: false,
                monitor: false,
                paused: false,
                tracking: None,
                after_reply: Vec::new(),
                replaying: false,
                multi: None,
                multi_error: false,
                watching: Vec::new(),
                subs: Vec::new(),
                psubs: Vec::new(),
                ssubs: Vec::new(),
                pending: VecDeque::new(),
                link: LinkRole::None,
                woff: 0,
                cluster_asking: false,
                cluster_readonly: false,
                cluster_slot: None,
                mem: ClientMem::default(),
            },
        );
        self.refresh_client_mem(id);
        id
    }

    /// Disconnects a client.
    pub fn close_client(&mut self, id: ClientId) {
        self.unwatch_all(id);
        self.drop_subscriptions(id);
        self.unblock_client(id);
        self.disable_tracking(id);
        self.monitors.retain(|m| *m != id);
        self.paused.retain(|m| *m != id);
        self.forget_replica(id);
        self.repl.waits.remove(&id);
        let master_db = self
            .is_master_client(id)
            .then(|| self.clients.get(&id).map_or(0, |c| c.db));
        if let Some(c) = self.clients.remove(&id) {
            self.forget_client_mem(&c);
        }
        if let Some(db) = master_db {
            // CLIENT KILL TYPE master: the link goes down and is made again.
            self.master_client_closed(db);
        }
        self.mail.remove(&id);
    }

    /// Mutable access to a client, if connected.
    pub fn client_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.clients.get_mut(&id)
    }

    /// The protocol version a client speaks (2 when unknown).
    pub fn proto(&self, id: ClientId) -> u8 {
        self.clients.get(&id).map_or(2, |c| c.proto)
    }

    /// Whether `client` must authenticate before running commands: the default user has a
    /// password (`requirepass`) or is off, and the client has not authenticated.
    pub fn auth_required(&self, client: ClientId) -> bool {
        // The default user's openness first: it is kept as a flag, the client needs a lookup.
        !self.acl.default_opens() && !self.clients.get(&client).is_some_and(|c| c.authenticated)
    }
}

/// Hashes a client id with one multiplication. Ids are small integers the engine hands out
/// in order (no client chooses one), so the rounds a general hasher adds against crafted keys
/// buy nothing here, and each lookup of a command's client would pay for them (in wasm, with
/// no 64-bit widening multiply, several multiplications each).
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHash;

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;

    #[inline(always)]
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// The hasher of [`IdHash`]. An odd multiplier keeps consecutive ids in distinct buckets (the
/// low bits) and spreads them over the high bits the table's tag is taken from.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl IdHasher {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
}

impl std::hash::Hasher for IdHasher {
    #[inline(always)]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(Self::MULTIPLIER);
    }

    /// Only `write_u64` is used (an id is a u64); bytes are folded in eight at a time.
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }
}
