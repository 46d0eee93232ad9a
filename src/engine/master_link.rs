//! The replica's side of replication (REPLICAOF host port), without any I/O.
//!
//! The host opens a connection when [`Engine::link_wanted`] asks for one, says when it is up
//! ([`Engine::link_established`]) or lost ([`Engine::link_lost`]), hands over every byte it
//! reads from the primary ([`Engine::link_feed`]) and writes what
//! [`Engine::take_link_output`] gives. The engine runs the handshake (PING, AUTH, REPLCONF
//! listening-port / ip-address / capa, PSYNC), receives the snapshot (`$<len>` or the
//! disk-less `$EOF:<mark>` form) and loads it, then applies the stream as the master client:
//! replies are dropped, writes are allowed although the replica is read-only, nothing expires
//! but by the primary's DEL, and each command advances the offset by the bytes it took. The
//! applied bytes go on, unchanged, into this server's own backlog and to its own replicas, so
//! they share the primary's history (PSYNC works after a promotion).

use super::{ClientId, Engine, LinkRole};
use crate::protocol::resp::parse_request_into;
use crate::types::backlog::Backlog;

/// Where the link to the primary stands (ROLE's state names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// No connection: the host should open one (`connect`).
    Connect,
    /// The host is connecting (`connecting`).
    Connecting,
    /// Waiting for the replies to the handshake (`handshake`); the count of replies still
    /// expected before PSYNC is sent.
    Handshake(Vec<Step>),
    /// PSYNC sent, waiting for its answer (`handshake`).
    Psync,
    /// Receiving the snapshot (`sync`).
    Transfer(Transfer),
    /// Applying the stream (`connected`).
    Connected,
}

/// A handshake reply the link waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `+PONG` to PING.
    Pong,
    /// `+OK` to AUTH (an error ends the attempt).
    Auth,
    /// The reply to REPLCONF listening-port / ip-address / capa (an error is tolerated).
    Replconf,
}

/// A snapshot on its way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The history and offset `+FULLRESYNC` announced.
    replid: String,
    offset: i64,
    /// The payload's announced size, or the 40-byte mark that ends it; None until the
    /// `$...` line came.
    size: Option<Payload>,
    /// The payload received so far.
    data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Payload {
    Len(usize),
    Mark(Vec<u8>),
}

/// The link to the primary.
#[derive(Clone, Debug)]
pub struct MasterLink {
    /// REPLICAOF's host and port.
    pub host: String,
    pub port: u16,
    /// Where it stands.
    pub state: LinkState,
    /// Changes whenever the host must drop its connection and start again.
    pub epoch: u64,
    /// Bytes to write to the primary.
    out: Vec<u8>,
    /// Bytes read and not yet used.
    input: Vec<u8>,
    /// The master client applying the stream, while connected.
    pub client: Option<ClientId>,
    /// The database the stream had selected when the link was lost: a partial resync goes on
    /// where it stopped.
    stream_db: usize,
    /// Bytes of a transaction the primary has not finished (counted once EXEC comes).
    in_tx: Vec<u8>,
    /// When the primary last sent something (ms), and when the link went down (None: up, or
    /// never up).
    pub last_io_ms: i64,
    pub down_since_ms: Option<i64>,
    /// No new connection before this time (ms).
    retry_at: i64,
    /// When the last REPLCONF ACK went out (ms).
    last_ack_ms: i64,
}

impl MasterLink {
    /// The database the stream had selected when the master client went.
    pub(crate) fn stream_db(&self) -> usize {
        self.stream_db
    }

    /// The database a stream continued after a restart has selected.
    pub(crate) fn set_stream_db(&mut self, db: usize) {
        self.stream_db = db;
    }
}

/// The largest snapshot line or handshake reply looked at before the link is given up.
const MAX_LINE: usize = 64 * 1024;

/// Parses `+FULLRESYNC <replid> <offset>`.
fn full_resync(line: &str) -> Option<(String, i64)> {
    let mut words = line.strip_prefix("+FULLRESYNC ")?.split(' ');
    let replid = words.next()?;
    let offset = words.next()?.parse().ok()?;
    (replid.len() == 40).then(|| (replid.to_string(), offset))
}

impl Engine {
    /// REPLICAOF host port: this server becomes a replica (its data stays until the snapshot
    /// replaces it).
    pub fn set_master(&mut self, host: &str, port: u16, now: i64) {
        let was_master = self.repl.link.is_none();
        self.drop_master_client();
        // Clients blocked while we were a primary would pop what the new primary's stream
        // writes: their waits end with an error, as Redis ends them.
        let blocked: Vec<ClientId> = self.blocked.keys().copied().collect();
        for id in blocked {
            self.repl.waits.remove(&id);
            let error = crate::protocol::Reply::Error(crate::error::UNBLOCKED_ROLE_CHANGE.0);
            self.unblock(id, Some(error), now);
        }
        let epoch = self.repl.link.as_ref().map_or(0, |l| l.epoch + 1);
        self.repl.link = Some(MasterLink {
            host: host.to_string(),
            port,
            state: LinkState::Connect,
            epoch,
            out: Vec::new(),
            input: Vec::new(),
            client: None,
            stream_db: 0,
            in_tx: Vec::new(),
            last_io_ms: now,
            down_since_ms: None,
            retry_at: now,
            last_ack_ms: now,
        });
        if was_master {
            // Our own history is what we ask to continue (a partial resync is possible when
            // the new primary was our replica), and the backlog keeps it for our replicas.
            if self.repl.backlog.is_none() {
                let size = self.backlog_size_config();
                self.repl.backlog = Some(Backlog::new(size, self.repl.offset));
                self.record_for_replicas();
            }
            for db in &mut self.dbs {
                db.expiry_paused = true;
            }
        }
    }

    /// REPLICAOF NO ONE: a primary again, starting a new history that continues the old one
    /// (replicas that followed us can partially resync with the previous ID).
    pub fn unset_master(&mut self) {
        if self.repl.link.is_none() {
            return;
        }
        self.drop_master_client();
        self.repl.link = None;
        self.repl.replid2 = std::mem::take(&mut self.repl.replid);
        self.repl.second_offset = self.repl.offset + 1;
        self.change_replid();
        self.disconnect_replicas();
        self.repl.reset_stream_db();
        let paused = self.pause.is_some();
        for db in &mut self.dbs {
            db.expiry_paused = paused;
        }
    }

    /// Ends the connections of every replica (they reconnect and resync).
    fn disconnect_replicas(&mut self) {
        let ids: Vec<ClientId> = self.repl.attached().map(|(id, _)| *id).collect();
        for id in ids {
            self.close_client(id);
        }
    }

    /// Ends the master client, remembering the database its stream had selected.
    fn drop_master_client(&mut self) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        if let Some(id) = link.client.take() {
            if let Some(c) = self.clients.get(&id) {
                link.stream_db = c.db;
            }
            self.close_client(id);
        }
    }

    /// What the host should connect to: `(host, port, epoch)` while the link wants a new
    /// connection and its retry time has come.
    pub fn link_wanted(&self, now: i64) -> Option<(String, u16, u64)> {
        let link = self.repl.link.as_ref()?;
        (link.state == LinkState::Connect && now >= link.retry_at)
            .then(|| (link.host.clone(), link.port, link.epoch))
    }

    /// The epoch of the link the host should keep a connection for (None: no link, or it must
    /// be dropped and reopened).
    pub fn link_epoch(&self) -> Option<u64> {
        let link = self.repl.link.as_ref()?;
        (link.state != LinkState::Connect).then_some(link.epoch)
    }

    /// The host started connecting.
    pub fn link_connecting(&mut self, now: i64) {
        if let Some(link) = self.repl.link.as_mut() {
            link.state = LinkState::Connecting;
            link.last_io_ms = now;
        }
    }

    /// The connection is up: the handshake starts with a PING.
    pub fn link_established(&mut self, now: i64) {
        if let Some(link) = self.repl.link.as_mut() {
            link.state = LinkState::Handshake(vec![Step::Pong]);
            link.input.clear();
            link.out.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
            link.last_io_ms = now;
        }
    }

    /// The connection failed or closed: another is tried, after a second unless it was up.
    pub fn link_lost(&mut self, now: i64) {
        let was_up = self
            .repl
            .link
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Connected);
        self.drop_master_client();
        if let Some(link) = self.repl.link.as_mut() {
            link.state = LinkState::Connect;
            link.epoch += 1;
            link.out.clear();
            link.input.clear();
            link.in_tx.clear();
            link.retry_at = if was_up { now } else { now + 1000 };
            if was_up {
                link.down_since_ms = Some(now);
            }
        }
    }

    /// The master client was closed (CLIENT KILL): the link is lost.
    pub(crate) fn master_client_closed(&mut self, db: usize) {
        let now = self.repl.link.as_ref().map_or(0, |l| l.last_io_ms);
        if let Some(link) = self.repl.link.as_mut() {
            // Already gone from the clients: only its database is remembered.
            link.client = None;
            link.stream_db = db;
        }
        self.link_lost(now);
    }

    /// Bytes to write to the primary, taken.
    pub fn take_link_output(&mut self) -> Vec<u8> {
        self.repl
            .link
            .as_mut()
            .map(|l| std::mem::take(&mut l.out))
            .unwrap_or_default()
    }

    /// Bytes read from the primary.
    pub fn link_feed(&mut self, bytes: &[u8], now: i64) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        link.input.extend_from_slice(bytes);
        link.last_io_ms = now;
        loop {
            let Some(link) = self.repl.link.as_mut() else {
                return;
            };
            let progressed = match link.state.clone() {
                LinkState::Handshake(steps) => self.handshake_reply(steps),
                LinkState::Psync => self.psync_reply(now),
                LinkState::Transfer(t) => self.transfer(t, now),
                LinkState::Connected => {
                    self.apply_stream(now);
                    false
                }
                LinkState::Connect | LinkState::Connecting => false,
            };
            if !progressed {
                return;
            }
        }
    }

    /// Takes one reply line from the link's input; None while incomplete. A line too long
    /// for a handshake reply ends the attempt.
    fn link_line(&mut self, now: i64) -> Option<String> {
        let link = self.repl.link.as_mut()?;
        let Some(end) = link.input.windows(2).position(|w| w == b"\r\n") else {
            if link.input.len() > MAX_LINE {
                self.link_lost(now);
            }
            return None;
        };
        let line = String::from_utf8_lossy(&link.input[..end]).into_owned();
        link.input.drain(..end + 2);
        Some(line)
    }

    fn handshake_reply(&mut self, mut steps: Vec<Step>) -> bool {
        let now = self.repl.link.as_ref().map_or(0, |l| l.last_io_ms);
        let Some(line) = self.link_line(now) else {
            return false;
        };
        let step = steps.remove(0);
        let ok = match step {
            // A primary that wants a password answers PING with NOAUTH: AUTH follows anyway.
            Step::Pong => {
                !line.starts_with('-')
                    || line.starts_with("-NOAUTH")
                    || line.starts_with("-NOPERM")
                    || line.starts_with("-ERR operation not permitted")
            }
            Step::Auth => !line.starts_with('-'),
            Step::Replconf => true,
        };
        if !ok {
            if step == Step::Auth {
                // The primary's error reply as it came, its `-` included.
                self.server_log(
                    super::log::LogLevel::Warning,
                    format!("Unable to AUTH to MASTER: {line}"),
                );
            }
            self.link_lost(now);
            return false;
        }
        if step == Step::Pong {
            steps = self.send_handshake();
        }
        if steps.is_empty() {
            self.send_psync();
        } else if let Some(link) = self.repl.link.as_mut() {
            link.state = LinkState::Handshake(steps);
        }
        true
    }

    /// AUTH (with `masterauth`), REPLCONF listening-port, ip-address (with
    /// `replica-announce-ip`) and capa, sent at once; returns the replies to wait for.
    fn send_handshake(&mut self) -> Vec<Step> {
        let mut out = Vec::new();
        let mut steps = Vec::new();
        let auth = self.config.get_named("masterauth").to_string();
        let user = self.config.get_named("masteruser").to_string();
        if !auth.is_empty() {
            if user.is_empty() {
                super::propagate::encode_command(&["AUTH", auth.as_str()], &mut out);
            } else {
                super::propagate::encode_command(&["AUTH", user.as_str(), auth.as_str()], &mut out);
            }
            steps.push(Step::Auth);
        }
        let announced = self.config.get_named("replica-announce-port");
        let port = match announced.parse::<u32>() {
            Ok(p) if p > 0 => p.to_string(),
            _ => self.config.port.to_string(),
        };
        super::propagate::encode_command(&["REPLCONF", "listening-port", port.as_str()], &mut out);
        steps.push(Step::Replconf);
        let ip = self.config.get_named("replica-announce-ip").to_string();
        if !ip.is_empty() {
            super::propagate::encode_command(&["REPLCONF", "ip-address", ip.as_str()], &mut out);
            steps.push(Step::Replconf);
        }
        super::propagate::encode_command(&["REPLCONF", "capa", "eof", "capa", "psync2"], &mut out);
        steps.push(Step::Replconf);
        if let Some(link) = self.repl.link.as_mut() {
            link.out.extend_from_slice(&out);
        }
        steps
    }

    /// PSYNC with our history: the offset of the first byte we lack.
    fn send_psync(&mut self) {
        let replid = self.repl.replid.clone();
        let next = (self.repl.offset + 1).to_string();
        let failover = self.failing_over();
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        let mut argv = vec!["PSYNC", replid.as_str(), next.as_str()];
        if failover {
            // The target promotes itself and continues our history.
            argv.push("FAILOVER");
        }
        super::propagate::encode_command(&argv, &mut link.out);
        link.state = LinkState::Psync;
    }

    fn psync_reply(&mut self, now: i64) -> bool {
        // Newlines keep the link alive while the primary prepares the snapshot.
        if let Some(link) = self.repl.link.as_mut() {
            let blank = link.input.iter().take_while(|&&b| b == b'\n').count();
            link.input.drain(..blank);
        }
        let Some(line) = self.link_line(now) else {
            return false;
        };
        if let Some((replid, offset)) = full_resync(&line) {
            self.failover_psync_answered(true);
            if let Some(link) = self.repl.link.as_mut() {
                link.state = LinkState::Transfer(Transfer {
                    replid,
                    offset,
                    size: None,
                    data: Vec::new(),
                });
            }
            return true;
        }
        if let Some(rest) = line.strip_prefix("+CONTINUE") {
            self.failover_psync_answered(true);
            let new_id = rest.trim();
            if new_id.len() == 40 && new_id != self.repl.replid {
                // The primary's history has a new ID from here on: ours follows it.
                self.repl.replid2 = std::mem::replace(&mut self.repl.replid, new_id.to_string());
                self.repl.second_offset = self.repl.offset + 1;
                // Our replicas must learn the new ID.
                self.disconnect_replicas();
            }
            self.link_online(now, false);
            return true;
        }
        // An error (the primary is loading, or not connected to its own primary): try again,
        // unless it refused a failover (then this server is a primary again).
        self.failover_psync_answered(false);
        self.link_lost(now);
        false
    }

    fn transfer(&mut self, mut t: Transfer, now: i64) -> bool {
        if t.size.is_none() {
            if let Some(link) = self.repl.link.as_mut() {
                let blank = link.input.iter().take_while(|&&b| b == b'\n').count();
                link.input.drain(..blank);
            }
            let Some(line) = self.link_line(now) else {
                return false;
            };
            let size = if let Some(mark) = line.strip_prefix("$EOF:") {
                (mark.len() == 40).then(|| Payload::Mark(mark.as_bytes().to_vec()))
            } else {
                line.strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .map(Payload::Len)
            };
            let Some(size) = size else {
                self.link_lost(now);
                return false;
            };
            t.size = Some(size);
        }
        let Some(link) = self.repl.link.as_mut() else {
            return false;
        };
        let done = match &t.size {
            Some(Payload::Len(n)) => {
                let take = (n - t.data.len()).min(link.input.len());
                t.data.extend(link.input.drain(..take));
                t.data.len() == *n
            }
            Some(Payload::Mark(mark)) => {
                // Nothing follows the mark until we acknowledge: all input is payload.
                t.data.append(&mut link.input);
                if t.data.ends_with(mark) {
                    t.data.truncate(t.data.len() - mark.len());
                    true
                } else {
                    false
                }
            }
            None => false,
        };
        if !done {
            link.state = LinkState::Transfer(t);
            return false;
        }
        let eof = matches!(t.size, Some(Payload::Mark(_)));
        let stream_db = match self.load_snapshot_from_primary(&t.data, now) {
            Ok((_, db)) => db,
            Err(_) => {
                // A snapshot we cannot read: the next attempt asks for a new one.
                self.link_lost(now);
                return false;
            }
        };
        self.dirty = 0;
        // A new history: the primary's, from its offset; our replicas start over.
        self.repl.replid = t.replid;
        self.repl.offset = t.offset;
        self.repl.replid2 = "0".repeat(40);
        self.repl.second_offset = -1;
        self.disconnect_replicas();
        let size = self.backlog_size_config();
        self.repl.backlog = Some(Backlog::new(size, t.offset));
        if let Some(link) = self.repl.link.as_mut() {
            link.stream_db = stream_db.unwrap_or(0);
        }
        self.link_online(now, eof);
        true
    }

    /// The stream starts: a master client applies it.
    fn link_online(&mut self, now: i64, ack_now: bool) {
        let id = self.open_client(now);
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        let db = link.stream_db;
        link.client = Some(id);
        link.state = LinkState::Connected;
        link.down_since_ms = None;
        link.in_tx.clear();
        let (host, port) = (link.host.clone(), link.port);
        if let Some(c) = self.clients.get_mut(&id) {
            c.link = LinkRole::Master;
            c.authenticated = true;
            c.db = db.min(self.dbs.len().saturating_sub(1));
            c.addr = format!("{host}:{port}");
        }
        if ack_now {
            self.send_ack(now);
        }
    }

    /// Runs every complete command of the stream as the master client.
    fn apply_stream(&mut self, now: i64) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        let Some(client) = link.client else {
            return;
        };
        let input = std::mem::take(&mut link.input);
        let mut pos = 0;
        let mut argv = Vec::new();
        while pos < input.len() {
            let parsed = parse_request_into(&input[pos..], i64::MAX, false, &mut argv);
            let (argc, used) = match parsed {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(_) => {
                    self.link_lost(now);
                    return;
                }
            };
            pos += used;
            if argc > 0 {
                for db in &mut self.dbs {
                    db.no_expiry = true;
                }
                let _ = self.execute(client, &argv[..argc], now);
                for db in &mut self.dbs {
                    db.no_expiry = false;
                }
                if let Some(c) = self.clients.get_mut(&client) {
                    // Nothing goes back to the primary but acknowledgements.
                    c.outbox.clear();
                }
            }
            // A transaction counts once it is whole (a resync resends it from its start).
            let in_multi = self.clients.get(&client).is_some_and(|c| c.multi.is_some());
            let Some(link) = self.repl.link.as_mut() else {
                return;
            };
            if link.client != Some(client) {
                // The command ended the link (REPLICAOF from the stream, say).
                return;
            }
            link.in_tx.extend_from_slice(&input[pos - used..pos]);
            if !in_multi {
                let unit = std::mem::take(&mut link.in_tx);
                self.repl.push_stream(&unit);
            }
        }
        if let Some(link) = self.repl.link.as_mut() {
            if link.client == Some(client) {
                let mut rest = input[pos..].to_vec();
                rest.append(&mut link.input);
                link.input = rest;
            }
        }
        self.mail.remove(&client);
    }

    /// REPLCONF ACK with the offset applied so far.
    pub(crate) fn send_ack(&mut self, now: i64) {
        let offset = self.repl.offset.to_string();
        if let Some(link) = self.repl.link.as_mut() {
            if link.state == LinkState::Connected {
                super::propagate::encode_command(
                    &["REPLCONF", "ACK", offset.as_str()],
                    &mut link.out,
                );
                link.last_ack_ms = now;
            }
        }
    }

    /// The replica's periodic work: an acknowledgement every second, and a link silent for
    /// `repl-timeout` seconds (the primary pings every few seconds) given up and made again.
    pub(crate) fn link_cron(&mut self, now: i64) {
        let timeout = self
            .config
            .get_named("repl-timeout")
            .parse::<i64>()
            .unwrap_or(60)
            .max(1)
            .saturating_mul(1000);
        let silent = self.repl.link.as_ref().is_some_and(|l| {
            !matches!(l.state, LinkState::Connect) && now.saturating_sub(l.last_io_ms) > timeout
        });
        if silent {
            self.link_lost(now);
            return;
        }
        let due = self
            .repl
            .link
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Connected && now - l.last_ack_ms >= 1000);
        if due {
            self.send_ack(now);
        }
    }

    /// Whether `client` is the link to our primary.
    pub fn is_master_client(&self, client: ClientId) -> bool {
        self.repl
            .link
            .as_ref()
            .is_some_and(|l| l.client == Some(client))
    }

    /// A replica whose link to its primary is not up while `replica-serve-stale-data` is
    /// `no`: only commands flagged `stale` run (others get MASTERDOWN).
    pub fn serves_no_stale_data(&self) -> bool {
        self.repl
            .link
            .as_ref()
            .is_some_and(|l| !matches!(l.state, LinkState::Connected))
            && self.config.get_named("replica-serve-stale-data") == "no"
    }

    /// ROLE's state of the link.
    pub fn link_state_name(&self) -> &'static str {
        match self.repl.link.as_ref().map(|l| &l.state) {
            None => "none",
            Some(LinkState::Connect) => "connect",
            Some(LinkState::Connecting) => "connecting",
            Some(LinkState::Handshake(_) | LinkState::Psync) => "handshake",
            Some(LinkState::Transfer(_)) => "sync",
            Some(LinkState::Connected) => "connected",
        }
    }

    /// The snapshot transfer's progress: (announced size, bytes received), while one runs.
    pub fn link_transfer_progress(&self) -> Option<(i64, i64)> {
        match self.repl.link.as_ref().map(|l| &l.state) {
            Some(LinkState::Transfer(t)) => {
                let size = match t.size {
                    Some(Payload::Len(n)) => n as i64,
                    _ => -1,
                };
                Some((size, t.data.len() as i64))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::connection::ByteConnection;
    use crate::protocol::Reply;
    use crate::testkit::{engine, run, NOW};

    #[test]
    fn handshake_full_sync_stream_and_ack() {
        // A primary's snapshot holding one key.
        let (mut primary, pc) = engine();
        run(&mut primary, pc, "SET from-snapshot 1");
        let rdb = primary.snapshot(0);

        let (mut eng, c) = engine();
        run(&mut eng, c, "SET mine 1");
        assert_eq!(run(&mut eng, c, "REPLICAOF 127.0.0.1 6380"), Reply::ok());
        assert_eq!(eng.link_wanted(NOW).map(|w| w.1), Some(6380));
        eng.link_connecting(NOW);
        assert_eq!(eng.link_state_name(), "connecting");
        eng.link_established(NOW);
        assert_eq!(eng.take_link_output(), b"*1\r\n$4\r\nPING\r\n".to_vec());
        eng.link_feed(b"+PONG\r\n", NOW);
        let hello = String::from_utf8(eng.take_link_output()).unwrap();
        assert!(hello.contains("listening-port"), "{hello}");
        assert!(hello.contains("psync2"), "{hello}");
        eng.link_feed(b"+OK\r\n+OK\r\n", NOW);
        let psync = String::from_utf8(eng.take_link_output()).unwrap();
        assert!(psync.starts_with("*3\r\n$5\r\nPSYNC\r\n$40\r\n"), "{psync}");
        assert_eq!(eng.link_state_name(), "handshake");

        let replid = "a".repeat(40);
        let mut bytes = format!("\n\n+FULLRESYNC {replid} 100\r\n${}\r\n", rdb.len()).into_bytes();
        bytes.extend_from_slice(&rdb);
        let stream = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        bytes.extend_from_slice(stream);
        // Byte by byte: every split of the input must work.
        for b in &bytes {
            eng.link_feed(std::slice::from_ref(b), NOW);
        }
        assert_eq!(eng.link_state_name(), "connected");
        assert_eq!(run(&mut eng, c, "GET mine"), Reply::Nil);
        assert_eq!(run(&mut eng, c, "GET from-snapshot"), Reply::bulk("1"));
        assert_eq!(run(&mut eng, c, "GET k"), Reply::bulk("v"));
        assert_eq!(eng.repl.replid, replid);
        assert_eq!(eng.repl.offset, 100 + stream.len() as i64);
        assert_eq!(
            run(&mut eng, c, "SET x y"),
            Reply::Error("READONLY You can't write against a read only replica.".into())
        );
        // A transaction counts once whole.
        eng.link_feed(b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", NOW);
        assert_eq!(eng.repl.offset, 100 + stream.len() as i64);
        eng.link_feed(b"*1\r\n$4\r\nEXEC\r\n", NOW);
        assert_eq!(run(&mut eng, c, "GET n"), Reply::bulk("1"));
        let offset = eng.repl.offset;
        assert_eq!(offset, 100 + stream.len() as i64 + 15 + 21 + 14);
        // GETACK is answered on the link with the offset before it.
        eng.link_feed(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n", NOW);
        let ack = format!(
            "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{offset}\r\n",
            offset.to_string().len()
        );
        assert_eq!(String::from_utf8(eng.take_link_output()).unwrap(), ack);

        // A client blocked when the server turns replica is let go with an error.
        let (mut other, oc) = engine();
        let b = other.open_client(NOW);
        let blpop: Vec<Vec<u8>> = vec![b"BLPOP".to_vec(), b"q".to_vec(), b"0".to_vec()];
        assert_eq!(other.execute(b, &blpop, NOW), None);
        run(&mut other, oc, "REPLICAOF 127.0.0.1 1");
        assert!(!other.is_blocked(b));
        assert_eq!(
            other.clients[&b].outbox,
            vec![Reply::Error(
                "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)".into()
            )]
        );
        // A primary silent for repl-timeout is given up.
        eng.tick(NOW + 30_000);
        assert_eq!(eng.link_state_name(), "connected");
        eng.tick(NOW + 61_000);
        assert_eq!(eng.link_state_name(), "connect");
        // The link drops: the next attempt continues our history.
        eng.link_lost(NOW);
        assert_eq!(eng.link_state_name(), "connect");
        assert!(eng.link_wanted(NOW + 1000).is_some());
        assert_eq!(run(&mut eng, c, "REPLICAOF NO ONE"), Reply::ok());
        assert_eq!(eng.repl.replid2, replid);
        assert_eq!(run(&mut eng, c, "SET x y"), Reply::ok());
    }

    /// Moves bytes both ways between a replica and its primary (through `conn`, the replica's
    /// connection on the primary) until none are left.
    fn pump(replica: &mut super::Engine, primary: &mut super::Engine, conn: &mut ByteConnection) {
        for _ in 0..16 {
            let out = replica.take_link_output();
            let answer = conn.write(primary, &out, NOW);
            replica.link_feed(&answer, NOW);
            let stream: Vec<u8> = primary
                .take_replica_output()
                .into_iter()
                .filter(|(id, _)| *id == conn.id)
                .flat_map(|(_, b)| b)
                .collect();
            if out.is_empty() && answer.is_empty() && stream.is_empty() {
                return;
            }
            replica.link_feed(&stream, NOW);
        }
    }

    fn connect(replica: &mut super::Engine, primary: &mut super::Engine) -> ByteConnection {
        assert!(replica.link_wanted(NOW + 1000).is_some());
        replica.link_connecting(NOW);
        let mut conn = ByteConnection::open(primary, NOW);
        replica.link_established(NOW);
        pump(replica, primary, &mut conn);
        assert_eq!(replica.link_state_name(), "connected");
        conn
    }

    #[test]
    fn stored_snapshots_carry_the_history_for_a_partial_resync_after_a_restart() {
        let (mut primary, pc) = engine();
        let (mut replica, rc) = engine();
        run(&mut replica, rc, "REPLICAOF 127.0.0.1 6379");
        let mut conn = connect(&mut replica, &mut primary);
        run(&mut primary, pc, "SELECT 3");
        run(&mut primary, pc, "SET k v");
        pump(&mut replica, &mut primary, &mut conn);
        let (replid, offset) = (primary.repl.replid.clone(), primary.repl.offset);
        assert_eq!(replica.repl.offset, offset);
        // A server in no replication saves the plain snapshot.
        let (plain, _) = engine();
        assert_eq!(plain.stored_snapshot(NOW), plain.snapshot(NOW));

        // Both restart from what they stored.
        let primary_rdb = primary.stored_snapshot(NOW);
        let replica_rdb = replica.stored_snapshot(NOW);
        let (mut primary, pc) = engine();
        primary
            .load_stored_snapshot(&primary_rdb, None, NOW)
            .unwrap();
        assert_eq!(primary.repl.replid2, replid);
        assert_eq!(primary.repl.second_offset, offset + 1);
        assert_eq!(primary.repl.offset, offset);
        let (mut replica, rc) = engine();
        replica
            .load_stored_snapshot(&replica_rdb, Some(("127.0.0.1", 6379)), NOW)
            .unwrap();
        assert_eq!(replica.link_state_name(), "connect");
        assert_eq!(
            (replica.repl.replid.as_str(), replica.repl.offset),
            (replid.as_str(), offset)
        );
        let mut conn = connect(&mut replica, &mut primary);
        assert_eq!(
            (primary.repl.sync_partial_ok, primary.repl.sync_full),
            (1, 0)
        );
        // The stream goes on in the database it had selected.
        run(&mut primary, pc, "SET k2 v2");
        pump(&mut replica, &mut primary, &mut conn);
        run(&mut replica, rc, "SELECT 3");
        assert_eq!(run(&mut replica, rc, "GET k"), Reply::bulk("v"));
        assert_eq!(run(&mut replica, rc, "GET k2"), Reply::Nil);
        run(&mut replica, rc, "SELECT 0");
        assert_eq!(run(&mut replica, rc, "GET k2"), Reply::bulk("v2"));
        assert_eq!(replica.repl.offset, primary.repl.offset);
    }
}
