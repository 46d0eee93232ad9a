//! Replication, as Redis 7.0 does it (replication.c), without any I/O: the host moves bytes.
//!
//! **Primary side.** What commands propagate (see `propagate.rs`) is encoded once into the
//! replication stream, appended to the backlog ([`Backlog`]) and queued for every replica
//! that is in sync. A replica connects as a client and asks with `SYNC` or `PSYNC <replid>
//! <offset>`: when the ID is ours (or our previous one, up to where it ended) and the backlog
//! still holds the offset, it gets `+CONTINUE` and the missing bytes; otherwise
//! `+FULLRESYNC <replid> <offset>`, a snapshot as `$<len>\r\n<rdb>` and the stream from there.
//! Bytes for replicas wait in [`Replication::output`] until the host takes them
//! ([`Engine::take_replica_output`]) and writes them to the replicas' connections.
//!
//! Offsets count stream bytes: `master_repl_offset` is the offset of the last byte written.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::master_link::{LinkState, MasterLink};
use super::propagate::{encode_command, Propagated, StreamEncoder, TO_REPLICAS};
use super::{ClientId, Engine, LinkRole};
use crate::protocol::Reply;
use crate::types::backlog::Backlog;

/// A replica's progress, as INFO's `slaveN` line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// Receiving the snapshot (`send_bulk`).
    SendBulk,
    /// In sync: it receives the stream (`online`).
    Online,
}

impl ReplicaState {
    /// The name INFO shows.
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// What a client told us with REPLCONF, and its state once it asked for the stream.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    /// None until it sent SYNC or PSYNC.
    pub state: Option<ReplicaState>,
    /// `REPLCONF listening-port`.
    pub listening_port: i64,
    /// `REPLCONF ip-address` (else its connection's address is shown).
    pub ip: Option<String>,
    /// The highest offset it acknowledged (`REPLCONF ACK`).
    pub ack_offset: i64,
    /// When it last acknowledged (ms).
    pub ack_ms: i64,
    /// `REPLCONF capa eof`.
    pub capa_eof: bool,
    /// `REPLCONF capa psync2`.
    pub capa_psync2: bool,
    /// It asked with SYNC: a replica that old never acknowledges, so silence is no timeout.
    pub pre_psync: bool,
}

/// Replication state: this server's history (IDs, offsets, backlog) and its replicas.
#[derive(Debug)]
pub struct Replication {
    /// The current replication ID (master_replid).
    pub replid: String,
    /// The previous one, valid up to `second_offset` (master_replid2).
    pub replid2: String,
    /// The last offset `replid2` is valid for, plus one (second_repl_offset); -1 when none.
    pub second_offset: i64,
    /// master_repl_offset.
    pub offset: i64,
    /// The backlog, created when the first replica asks for the stream.
    pub backlog: Option<Backlog>,
    /// The database the stream has selected.
    encoder: StreamEncoder,
    /// Clients that sent REPLCONF or asked for the stream.
    pub replicas: BTreeMap<ClientId, Replica>,
    /// Bytes waiting to be written to each replica's connection.
    pub output: BTreeMap<ClientId, Vec<u8>>,
    /// How many bytes at the start of a replica's output are its full sync's snapshot (with
    /// the +FULLRESYNC line): a host leaves them out of the replica's output-buffer limit, as
    /// Redis sends the snapshot apart from the buffer.
    pub snapshot_len: BTreeMap<ClientId, usize>,
    /// INFO stats: sync_full, sync_partial_ok, sync_partial_err.
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// When the primary last pinged its replicas (ms).
    last_ping_ms: i64,
    /// The link to our primary while we are a replica (REPLICAOF).
    pub link: Option<MasterLink>,
    /// Clients blocked in WAIT: the offset they wait for and how many replicas.
    pub waits: BTreeMap<ClientId, (i64, i64)>,
    /// A FAILOVER under way.
    pub failover: Option<super::failover::Failover>,
    /// A WAIT asked for acknowledgements: REPLCONF GETACK goes into the stream before the
    /// host next takes the output (after the command, so it is not the client's write).
    getack: bool,
}

/// A 40-hex-digit identifier derived from `seed`.
pub fn hex_id(seed: u64) -> String {
    let mut s = String::with_capacity(40);
    let mut x = seed;
    while s.len() < 40 {
        x = crate::rng::mix64(x.wrapping_add(0x9E37_79B9_7F4A_7C15));
        let _ = write!(s, "{:016x}", x);
    }
    s.truncate(40);
    s
}

impl Replication {
    /// A fresh history: a new ID derived from `seed`, offset 0, no backlog.
    pub fn new(seed: u64) -> Replication {
        Replication {
            replid: hex_id(seed ^ 0x5245_504c),
            replid2: "0".repeat(40),
            second_offset: -1,
            offset: 0,
            backlog: None,
            encoder: StreamEncoder::default(),
            replicas: BTreeMap::new(),
            output: BTreeMap::new(),
            snapshot_len: BTreeMap::new(),
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            last_ping_ms: 0,
            link: None,
            waits: BTreeMap::new(),
            getack: false,
            failover: None,
        }
    }

    /// The replicas that asked for the stream, in the order they connected.
    pub fn attached(&self) -> impl Iterator<Item = (&ClientId, &Replica)> {
        self.replicas.iter().filter(|(_, r)| r.state.is_some())
    }

    /// Replicas that asked for the stream (INFO connected_slaves).
    pub fn attached_count(&self) -> usize {
        self.attached().count()
    }

    /// INFO repl_backlog_first_byte_offset and repl_backlog_histlen (0 without a backlog).
    pub fn backlog_span(&self) -> (i64, usize) {
        self.backlog
            .as_ref()
            .map_or((0, 0), |b| (b.first_offset(), b.histlen()))
    }

    /// The database the stream has selected (None: the next command selects one).
    pub(crate) fn stream_db(&self) -> Option<usize> {
        self.encoder.selected
    }

    /// The next command of the stream selects its database (a new stream begins).
    pub(crate) fn reset_stream_db(&mut self) {
        self.encoder.selected = None;
    }

    /// Appends stream bytes to the backlog and to every attached replica's output.
    pub(crate) fn push_stream(&mut self, bytes: &[u8]) {
        // Without a backlog nobody ever asked for the stream: it does not exist yet.
        if bytes.is_empty() || self.backlog.is_none() {
            return;
        }
        self.offset += bytes.len() as i64;
        if let Some(b) = self.backlog.as_mut() {
            b.push(bytes);
        }
        for (id, r) in &self.replicas {
            if r.state.is_some() {
                self.output.entry(*id).or_default().extend_from_slice(bytes);
            }
        }
    }
}

/// How a PSYNC was answered.
enum Resync {
    Partial(Vec<u8>),
    Full,
}

impl Engine {
    /// Encodes a unit of propagated commands into the replication stream.
    pub(crate) fn feed_replication(&mut self, unit: &[Propagated]) {
        if self.repl.link.is_some() {
            // A replica passes its primary's stream on as it came (see master_link.rs).
            return;
        }
        let mut bytes = Vec::new();
        for p in unit.iter().filter(|p| p.targets & TO_REPLICAS != 0) {
            self.repl.encoder.encode(p, &mut bytes);
        }
        self.repl.push_stream(&bytes);
    }

    /// Whether [`Engine::take_replica_output`] has anything.
    pub fn has_replica_output(&self) -> bool {
        self.repl.getack || !self.repl.output.is_empty()
    }

    /// The bytes waiting for each replica's connection, taken: the host writes them out.
    pub fn take_replica_output(&mut self) -> Vec<(ClientId, Vec<u8>)> {
        if std::mem::take(&mut self.repl.getack) {
            let mut getack = Vec::new();
            encode_command(&[b"REPLCONF".as_slice(), b"GETACK", b"*"], &mut getack);
            self.repl.push_stream(&getack);
        }
        std::mem::take(&mut self.repl.output).into_iter().collect()
    }

    /// Whether `client` is a replica that asked for the stream (its input is only REPLCONF).
    pub fn is_replica(&self, client: ClientId) -> bool {
        self.repl
            .replicas
            .get(&client)
            .is_some_and(|r| r.state.is_some())
    }

    /// The address a replica is shown with: what it announced, else its connection's IP.
    pub fn replica_ip(&self, client: ClientId, r: &Replica) -> String {
        if let Some(ip) = &r.ip {
            return ip.clone();
        }
        let addr = self.clients.get(&client).map_or("", |c| c.addr.as_str());
        match addr.rfind(':') {
            Some(i) => addr[..i]
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            None => addr.to_string(),
        }
    }

    /// A client went away: it is a replica no more.
    pub(crate) fn forget_replica(&mut self, client: ClientId) {
        self.repl.replicas.remove(&client);
        self.repl.output.remove(&client);
        self.repl.snapshot_len.remove(&client);
    }

    /// The record REPLCONF fills for `client`.
    pub(crate) fn replica_entry(&mut self, client: ClientId) -> &mut Replica {
        self.repl.replicas.entry(client).or_default()
    }

    /// A new replication ID (Redis's changeReplicationId).
    pub fn change_replid(&mut self) {
        let seed = self.rng.next_u64();
        self.repl.replid = hex_id(seed);
    }

    /// A new history: a new ID and no previous one (DEBUG CHANGE-REPL-ID).
    pub fn new_replication_history(&mut self) {
        self.change_replid();
        self.repl.replid2 = "0".repeat(40);
        self.repl.second_offset = -1;
    }

    /// Creates the backlog when the first replica asks for the stream: a new history begins
    /// (a new ID, the previous one forgotten), as Redis does.
    fn ensure_backlog(&mut self) {
        if self.repl.backlog.is_some() {
            return;
        }
        self.new_replication_history();
        let size = self.backlog_size_config();
        self.repl.backlog = Some(Backlog::new(size, self.repl.offset));
        self.record_for_replicas();
    }

    /// `repl-backlog-size` in bytes.
    pub(crate) fn backlog_size_config(&self) -> usize {
        let n = self
            .config
            .get_named("repl-backlog-size")
            .parse::<u64>()
            .unwrap_or(1024 * 1024);
        usize::try_from(n).unwrap_or(usize::MAX).max(16 * 1024)
    }

    /// Applies a new `repl-backlog-size` to the backlog.
    pub fn resize_backlog(&mut self) {
        let size = self.backlog_size_config();
        if let Some(b) = self.repl.backlog.as_mut() {
            b.resize(size);
        }
    }

    /// SYNC (`psync` None) or PSYNC: answers with a partial or a full resync, queued in the
    /// client's replica output. Counts sync_full / sync_partial_ok / sync_partial_err.
    pub(crate) fn start_sync(&mut self, client: ClientId, psync: Option<(&[u8], i64)>, now: i64) {
        let resync = match psync {
            Some((replid, offset)) => self.try_partial(replid, offset),
            None => Resync::Full,
        };
        if let Some(c) = self.clients.get_mut(&client) {
            c.link = LinkRole::Replica;
        }
        let entry = self.replica_entry(client);
        let psync2 = entry.capa_psync2;
        entry.ack_ms = now;
        entry.pre_psync = psync.is_none();
        match resync {
            Resync::Partial(missing) => {
                self.repl.sync_partial_ok += 1;
                let entry = self.replica_entry(client);
                entry.state = Some(ReplicaState::Online);
                let mut out = if psync2 {
                    format!("+CONTINUE {}\r\n", self.repl.replid).into_bytes()
                } else {
                    b"+CONTINUE\r\n".to_vec()
                };
                out.extend_from_slice(&missing);
                self.repl.output.entry(client).or_default().extend(out);
            }
            Resync::Full => {
                if let Some((replid, _)) = psync {
                    if replid.first() != Some(&b'?') {
                        self.repl.sync_partial_err += 1;
                    }
                }
                self.repl.sync_full += 1;
                // Redis forks to write the snapshot a full resync sends.
                self.persist.forks += 1;
                self.ensure_backlog();
                // What follows the snapshot starts with a SELECT.
                self.repl.reset_stream_db();
                // A replica passes its primary's stream on mid-way: the snapshot says which
                // database that stream has selected.
                let stream_db = self.repl.link.as_ref().map(|l| {
                    l.client
                        .and_then(|id| self.clients.get(&id))
                        .map_or(l.stream_db(), |c| c.db)
                });
                let mut out = Vec::new();
                if psync.is_some() {
                    out.extend_from_slice(
                        format!("+FULLRESYNC {} {}\r\n", self.repl.replid, self.repl.offset)
                            .as_bytes(),
                    );
                }
                let rdb = self.snapshot_for_replica(now, stream_db);
                out.extend_from_slice(format!("${}\r\n", rdb.len()).as_bytes());
                out.extend_from_slice(&rdb);
                // The snapshot is whole in the output at once: the replica is in sync, and
                // the stream follows it in the same buffer.
                self.replica_entry(client).state = Some(ReplicaState::Online);
                self.repl.snapshot_len.insert(client, out.len());
                self.repl.output.entry(client).or_default().extend(out);
            }
        }
    }

    /// Whether `replid` and `offset` (the first byte the replica lacks) can be served from
    /// the backlog, and with which bytes.
    fn try_partial(&self, replid: &[u8], offset: i64) -> Resync {
        let ours = replid == self.repl.replid.as_bytes();
        let previous = replid == self.repl.replid2.as_bytes() && offset <= self.repl.second_offset;
        if !ours && !previous {
            return Resync::Full;
        }
        match self.repl.backlog.as_ref().and_then(|b| b.since(offset)) {
            Some(missing) => Resync::Partial(missing),
            None => Resync::Full,
        }
    }

    /// Whether this server, a replica, may not serve SYNC now (its own link is not up).
    pub(crate) fn replica_link_blocks_sync(&self) -> bool {
        self.repl
            .link
            .as_ref()
            .is_some_and(|l| l.state != LinkState::Connected)
    }

    /// `REPLCONF GETACK`: a replica whose link is up acknowledges its offset at once.
    pub(crate) fn request_ack_from_link(&mut self) {
        let now = self.repl.link.as_ref().map_or(0, |l| l.last_io_ms);
        self.send_ack(now);
    }

    /// `REPLCONF ACK <offset>` from a replica: WAITs it satisfies end.
    pub(crate) fn replica_ack(&mut self, client: ClientId, offset: i64, now: i64) {
        if let Some(r) = self.repl.replicas.get_mut(&client) {
            if offset > r.ack_offset {
                r.ack_offset = offset;
            }
            r.ack_ms = now;
        }
        let done: Vec<(ClientId, i64)> = self
            .repl
            .waits
            .iter()
            .filter_map(|(id, &(off, n))| {
                let acks = self.acks_at(off);
                (acks >= n).then_some((*id, acks))
            })
            .collect();
        for (id, acks) in done {
            self.repl.waits.remove(&id);
            self.finish_wait(id, Reply::Integer(acks), now);
        }
        self.update_failover(now);
    }

    /// Replicas in sync that acknowledged `offset` or later.
    pub fn acks_at(&self, offset: i64) -> i64 {
        self.repl
            .attached()
            .filter(|(_, r)| r.state == Some(ReplicaState::Online) && r.ack_offset >= offset)
            .count() as i64
    }

    /// WAIT's answer when its wait ends unsatisfied (timeout, CLIENT UNBLOCK).
    pub(crate) fn wait_timeout_reply(&mut self, client: ClientId) -> Option<Reply> {
        let (offset, _) = self.repl.waits.remove(&client)?;
        Some(Reply::Integer(self.acks_at(offset)))
    }

    /// WAIT numreplicas: blocks the client (its deadline is the engine's blocking machinery's)
    /// and asks every replica for an acknowledgement, or answers at once.
    pub(crate) fn start_wait(&mut self, client: ClientId, n: i64) -> Option<Reply> {
        let offset = self.clients.get(&client).map_or(0, |c| c.woff);
        let acks = self.acks_at(offset);
        if acks >= n {
            return Some(Reply::Integer(acks));
        }
        self.repl.waits.insert(client, (offset, n));
        self.repl.getack = true;
        None
    }

    /// Replicas in sync whose last acknowledgement is at most `min-replicas-max-lag` seconds
    /// old (INFO min_slaves_good_slaves).
    pub fn good_replicas(&self, now: i64) -> i64 {
        let max_lag = self.config.min_replicas_max_lag();
        self.repl
            .attached()
            .filter(|(_, r)| {
                r.state == Some(ReplicaState::Online) && (now - r.ack_ms) / 1000 <= max_lag
            })
            .count() as i64
    }

    /// Whether writes are allowed by `min-replicas-to-write` / `min-replicas-max-lag` (always
    /// on a replica, or when either is 0).
    pub(crate) fn enough_good_replicas(&self, now: i64) -> bool {
        let need = self.config.min_replicas_to_write();
        let max_lag = self.config.min_replicas_max_lag();
        self.repl.link.is_some() || need == 0 || max_lag == 0 || self.good_replicas(now) >= need
    }

    fn config_int(&self, name: &str) -> i64 {
        self.config.get_named(name).parse().unwrap_or(0)
    }

    /// Replicas in sync that acknowledged nothing for more than `repl-timeout` seconds are
    /// disconnected, as Redis's replicationCron does: a replica that stopped reading would
    /// otherwise hold its stream and count for WAIT and min-replicas forever. They reconnect
    /// and resync if they are alive.
    fn drop_silent_replicas(&mut self, now: i64) {
        let timeout = self.config_int("repl-timeout").max(1);
        let silent: Vec<ClientId> = self
            .repl
            .attached()
            .filter(|(_, r)| {
                r.state == Some(ReplicaState::Online)
                    && !r.pre_psync
                    && now / 1000 - r.ack_ms / 1000 > timeout
            })
            .map(|(id, _)| *id)
            .collect();
        for id in silent {
            self.close_client(id);
        }
    }

    /// The primary's periodic work: a PING into the stream every `repl-ping-replica-period`
    /// seconds while replicas are attached (they time out a silent primary).
    pub(crate) fn replication_cron(&mut self, now: i64) {
        self.update_failover(now);
        self.link_cron(now);
        self.drop_silent_replicas(now);
        if self.repl.link.is_some() {
            // A replica's replicas get its primary's PINGs.
            return;
        }
        if self.repl.attached_count() == 0 {
            self.repl.last_ping_ms = now;
            return;
        }
        let period = self
            .config
            .get_named("repl-ping-replica-period")
            .parse::<i64>()
            .unwrap_or(10)
            .max(1);
        // A PING would move the offset a failover with a deadline waits for replicas to reach.
        let failover_deadline = self.repl.failover.as_ref().is_some_and(|f| f.end.is_some());
        if now - self.repl.last_ping_ms >= period * 1000 && !failover_deadline {
            self.repl.last_ping_ms = now;
            let mut bytes = Vec::new();
            encode_command(&[b"PING".as_slice()], &mut bytes);
            self.repl.push_stream(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::protocol::Reply;
    use crate::testkit::{engine, run, NOW};

    fn output_of(eng: &mut super::Engine, id: super::ClientId) -> Vec<u8> {
        eng.take_replica_output()
            .into_iter()
            .filter(|(c, _)| *c == id)
            .flat_map(|(_, b)| b)
            .collect()
    }

    #[test]
    fn full_then_partial_resync() {
        let (mut eng, c) = engine();
        run(&mut eng, c, "SET before 1");
        let replica = eng.open_client(0);
        assert_eq!(
            run(
                &mut eng,
                replica,
                "REPLCONF listening-port 7777 capa eof capa psync2"
            ),
            Reply::ok()
        );
        run(&mut eng, replica, "PSYNC ? -1");
        let out = output_of(&mut eng, replica);
        let head = format!("+FULLRESYNC {} 0\r\n$", eng.repl.replid);
        assert!(
            out.starts_with(head.as_bytes()),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(eng.is_replica(replica));
        // The stream after the snapshot selects its database first.
        run(&mut eng, c, "SET k v");
        let stream = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        assert_eq!(output_of(&mut eng, replica), stream.to_vec());
        assert_eq!(eng.repl.offset, stream.len() as i64);
        assert_eq!(eng.repl.backlog_span(), (1, stream.len()));
        // An acknowledgement is not answered.
        assert_eq!(
            run(&mut eng, replica, "REPLCONF ACK 10"),
            Reply::Multi(Vec::new())
        );
        assert_eq!(eng.repl.replicas[&replica].ack_offset, 10);

        // Another replica that saw the first 10 bytes gets the rest.
        let second = eng.open_client(0);
        run(&mut eng, second, "REPLCONF capa psync2");
        let replid = eng.repl.replid.clone();
        run(&mut eng, second, &format!("PSYNC {replid} 11"));
        let mut want = format!("+CONTINUE {replid}\r\n").into_bytes();
        want.extend_from_slice(&stream[10..]);
        assert_eq!(output_of(&mut eng, second), want);
        assert_eq!((eng.repl.sync_full, eng.repl.sync_partial_ok), (1, 1));
        // An unknown history, or an offset the backlog does not hold, means a full sync.
        let third = eng.open_client(0);
        run(&mut eng, third, &format!("PSYNC {replid} 999"));
        assert_eq!((eng.repl.sync_full, eng.repl.sync_partial_err), (2, 1));
        eng.close_client(third);
        assert_eq!(eng.repl.attached_count(), 2);
    }

    #[test]
    fn wait_counts_acknowledgements() {
        let (mut eng, c) = engine();
        let replica = eng.open_client(NOW);
        run(&mut eng, replica, "PSYNC ? -1");
        run(&mut eng, c, "SET k v");
        let wait = |eng: &mut super::Engine, line: &str| {
            let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
            eng.execute(c, &argv, NOW)
        };
        // Blocks, and asks the replica for an acknowledgement through the stream.
        assert_eq!(wait(&mut eng, "WAIT 1 1000"), None);
        let out = output_of(&mut eng, replica);
        assert!(out.ends_with(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"));
        let woff = eng.clients[&c].woff;
        run(&mut eng, replica, &format!("REPLCONF ACK {}", woff - 1));
        assert!(eng.clients[&c].outbox.is_empty());
        run(&mut eng, replica, &format!("REPLCONF ACK {woff}"));
        assert_eq!(eng.clients[&c].outbox, vec![Reply::Integer(1)]);
        eng.clients.get_mut(&c).unwrap().outbox.clear();
        // Two replicas are never there: the timeout answers with the count.
        assert_eq!(wait(&mut eng, "WAIT 2 100"), None);
        eng.tick(NOW + 200);
        assert_eq!(eng.clients[&c].outbox, vec![Reply::Integer(1)]);
        // min-replicas-to-write.
        run(&mut eng, c, "CONFIG SET min-replicas-max-lag 10");
        run(&mut eng, c, "CONFIG SET min-replicas-to-write 2");
        assert_eq!(
            run(&mut eng, c, "SET k v"),
            Reply::Error("NOREPLICAS Not enough good replicas to write.".into())
        );
        run(&mut eng, c, "CONFIG SET min-replicas-to-write 1");
        assert_eq!(run(&mut eng, c, "SET k v"), Reply::ok());
    }

    #[test]
    fn replicas_silent_for_repl_timeout_are_dropped() {
        let (mut eng, c) = engine();
        run(&mut eng, c, "CONFIG SET repl-timeout 5");
        let quiet = eng.open_client(NOW);
        run(&mut eng, quiet, "PSYNC ? -1");
        let acking = eng.open_client(NOW);
        run(&mut eng, acking, "PSYNC ? -1");
        // SYNC: a replica that never acknowledges, kept however long it is silent.
        let old = eng.open_client(NOW);
        run(&mut eng, old, "SYNC");
        eng.take_replica_output();
        assert_eq!(eng.repl.attached_count(), 3);
        eng.tick(NOW + 3_000);
        crate::testkit::run_at(&mut eng, acking, NOW + 3_000, "REPLCONF ACK 0");
        eng.tick(NOW + 5_000);
        assert_eq!(eng.repl.attached_count(), 3);
        // More than five whole seconds since the last acknowledgement.
        eng.tick(NOW + 6_000);
        assert!(!eng.clients.contains_key(&quiet));
        assert_eq!(eng.repl.attached_count(), 2);
        eng.tick(NOW + 9_000);
        assert!(!eng.clients.contains_key(&acking));
        assert!(eng.clients.contains_key(&old));
        assert_eq!(eng.repl.attached_count(), 1);
    }

    #[test]
    fn replconf_errors() {
        let (mut eng, c) = engine();
        assert_eq!(
            run(&mut eng, c, "REPLCONF a"),
            Reply::Error("ERR syntax error".into())
        );
        assert_eq!(
            run(&mut eng, c, "REPLCONF foo 1"),
            Reply::Error("ERR Unrecognized REPLCONF option: foo".into())
        );
        assert_eq!(run(&mut eng, c, "REPLCONF"), Reply::ok());
        assert!(!eng.is_replica(c));
    }
}
