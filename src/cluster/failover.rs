//! Failover, as Redis 7.0's cluster does it, over [`ClusterState`] (failure detection, PFAIL
//! and FAIL, is the bus's: [`super::node`]):
//!
//! - a replica of a FAIL primary waits (500 ms, a random 0-499 ms, a second per rank), asks
//!   for votes in a new epoch, and with a majority of the primaries' votes takes the epoch as
//!   its config epoch, takes its primary's slots and becomes a primary;
//! - CLUSTER FAILOVER: MFSTART pauses the primary's writes, the replica catches up with the
//!   offset the primary announces while paused, then wins a forced election (FORCE skips the
//!   catch-up, TAKEOVER the election);
//! - replica migration: a replica of the primary with the most replicas moves to a primary
//!   left without any.
//!
//! Sans-IO: every function takes the time (`now` in ms) and returns what the caller must do
//! ([`Out`]): messages for the cluster bus, changes of the engine's replication, the config
//! to save. The pure rules (quorum, votes, rank, delays) are in [`super::bus::gossip`].

use super::bus::{gossip, mflags, Header};
use super::state::{flag, ClusterState, Node};

/// How long a manual failover may take (ms).
pub const MF_TIMEOUT_MS: i64 = 5000;
/// A primary asked for a manual failover pauses writes this many times [`MF_TIMEOUT_MS`].
pub const MF_PAUSE_MULT: i64 = 2;
/// A primary must be orphaned this long before a replica migrates to it (ms).
pub const REPLICA_MIGRATION_DELAY_MS: i64 = 5000;

/// What the caller must do after a failure-detection or failover step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// Send FAIL about this node to every node with a link.
    BroadcastFail(String),
    /// Send FAILOVER_AUTH_REQUEST to every node with a link (FORCEACK for a manual failover).
    RequestVotes {
        /// Set FORCEACK: the primary may be up.
        force: bool,
    },
    /// Send FAILOVER_AUTH_ACK to this node.
    Vote(String),
    /// Send MFSTART to this node (our primary).
    MfStart(String),
    /// Send a PING to this node now.
    Ping(String),
    /// Send a PONG to every node with a link, or only to the replicas of our shard.
    BroadcastPong {
        /// Only the replicas of this node's primary (or of this node).
        shard_replicas_only: bool,
    },
    /// This node became a primary: stop replicating (REPLICAOF NO ONE).
    BecamePrimary,
    /// This node became a replica of the node with this ID: replicate from it.
    ReplicateFrom(String),
    /// Pause writes until this time (ms): a replica takes over by manual failover.
    PauseWrites(i64),
    /// The manual failover ended: lift its pause.
    Unpause,
    /// The state changed: save nodes.conf and evaluate the cluster state again.
    Changed,
}

/// Why a replica is not failing over now (Redis's cant_failover_reason).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CantFailover {
    /// Nothing to fail over.
    #[default]
    None,
    /// Disconnected from its primary too long (cluster-replica-validity-factor).
    DataAge,
    /// Waiting for the election delay.
    WaitingDelay,
    /// The election timed out.
    Expired,
    /// Votes asked, no majority yet.
    WaitingVotes,
}

/// This node's election and manual-failover state.
#[derive(Clone, Debug)]
pub struct Election {
    /// When the election starts (or started), ms.
    pub auth_time: i64,
    /// Votes received.
    pub auth_count: usize,
    /// Whether the vote request went out.
    pub auth_sent: bool,
    /// This replica's rank when the election was scheduled.
    pub auth_rank: usize,
    /// The epoch this election asked votes for.
    pub auth_epoch: u64,
    /// Why no failover happens now.
    pub cant: CantFailover,
    /// When the manual failover in progress gives up (ms); 0 for none.
    pub mf_end: i64,
    /// The replica: its offset caught up, the election may start.
    pub mf_can_start: bool,
    /// The primary: the replica that asked for the manual failover.
    pub mf_replica: Option<String>,
    /// The replica: the primary's offset once it paused; -1 until known.
    pub mf_master_offset: i64,
    /// Outcomes of messages for the engine (replication, pause) not yet carried out.
    pub engine_out: Vec<Out>,
    /// A vote or the primary's paused offset arrived: run the election step at once.
    pub step_soon: bool,
}

impl Default for Election {
    fn default() -> Election {
        Election {
            auth_time: 0,
            auth_count: 0,
            auth_sent: false,
            auth_rank: 0,
            auth_epoch: 0,
            cant: CantFailover::None,
            mf_end: 0,
            mf_can_start: false,
            mf_replica: None,
            mf_master_offset: -1,
            engine_out: Vec::new(),
            step_soon: false,
        }
    }
}

/// The settings failover reads (from the configuration).
#[derive(Clone, Debug)]
pub struct Settings {
    /// cluster-node-timeout (ms).
    pub node_timeout_ms: i64,
    /// cluster-replica-validity-factor.
    pub validity_factor: i64,
    /// repl-ping-replica-period (s).
    pub repl_ping_period_s: i64,
    /// cluster-replica-no-failover.
    pub no_failover: bool,
    /// cluster-migration-barrier.
    pub migration_barrier: i64,
    /// cluster-allow-replica-migration.
    pub allow_replica_migration: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            node_timeout_ms: 15_000,
            validity_factor: 10,
            repl_ping_period_s: 10,
            no_failover: false,
            migration_barrier: 1,
            allow_replica_migration: true,
        }
    }
}

/// What failover reads of this node's replication, as a replica.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplicaView {
    /// The replication offset applied.
    pub offset: i64,
    /// How long the data may be stale: since the primary last sent something while the link
    /// is up, else since the link went down (ms).
    pub data_age_ms: i64,
}

/// Whether this node sees `n` as possibly failing (PFAIL).
pub fn timed_out(n: &Node) -> bool {
    n.flags & flag::PFAIL != 0
}

impl ClusterState {
    /// The valid failure reports about `id`, the expired ones dropped first.
    pub fn failure_report_count(&mut self, id: &str, now: i64, node_timeout: i64) -> usize {
        let max_age = node_timeout.saturating_mul(gossip::FAIL_REPORT_VALIDITY_MULT);
        match self.node_mut(id) {
            Some(n) => {
                n.fail_reports
                    .retain(|&(_, t)| now.saturating_sub(t) <= max_age);
                n.fail_reports.len()
            }
            None => 0,
        }
    }

    /// A FAILOVER_AUTH_REQUEST from `sender` (its header `req`, after this node took its
    /// current epoch if greater): the vote, when Redis's rules grant it.
    pub fn auth_requested(
        &mut self,
        sender: &str,
        req: &Header,
        now: i64,
        node_timeout: i64,
    ) -> Result<Vec<Out>, gossip::VoteDenied> {
        let Some(s) = self.node(sender.as_bytes()) else {
            return Err(gossip::VoteDenied::UnknownPrimary);
        };
        let me = self.me();
        let voter = gossip::Voter {
            is_primary: me.is_master(),
            slot_count: me.numslots,
            current_epoch: self.current_epoch,
            last_vote_epoch: self.last_vote_epoch,
            node_timeout_ms: node_timeout,
            now_ms: now,
        };
        let primary_id = s.master.clone();
        let requester = gossip::Requester {
            is_primary: s.is_master(),
            primary: primary_id
                .as_deref()
                .and_then(|m| self.node(m.as_bytes()))
                .map(|m| (m.failed(), m.voted_time)),
        };
        gossip::may_vote(&voter, &requester, req, |slot| {
            self.owner_node(slot).map(|n| n.config_epoch)
        })?;
        self.last_vote_epoch = self.current_epoch;
        if let Some(m) = primary_id.as_deref().and_then(|m| self.node_mut(m)) {
            m.voted_time = now;
        }
        Ok(vec![Out::Vote(sender.to_string()), Out::Changed])
    }

    /// A FAILOVER_AUTH_ACK from `sender` with its current epoch: a vote when it counts.
    /// Returns whether it counted (the election may be won: run [`Self::replica_failover`]).
    pub fn auth_acked(&mut self, sender: &str, sender_current_epoch: u64) -> bool {
        let Some(s) = self.node(sender.as_bytes()) else {
            return false;
        };
        let counts = gossip::ack_counts(
            s.is_master(),
            s.numslots,
            sender_current_epoch,
            self.election.auth_epoch,
        );
        if counts {
            self.election.auth_count += 1;
        }
        counts
    }

    /// An MFSTART from `sender`: when it is one of our replicas, writes pause and it is
    /// pinged at once with our offset (the PING carries PAUSED).
    pub fn mfstart_received(&mut self, sender: &str, now: i64) -> Vec<Out> {
        let ours = self
            .node(sender.as_bytes())
            .is_some_and(|s| s.master.as_deref() == Some(self.myself.as_str()));
        if !ours {
            return Vec::new();
        }
        let mut out = self.reset_manual_failover();
        self.election.mf_end = now + MF_TIMEOUT_MS;
        self.election.mf_replica = Some(sender.to_string());
        out.push(Out::PauseWrites(now + MF_TIMEOUT_MS * MF_PAUSE_MULT));
        out.push(Out::Ping(sender.to_string()));
        out
    }

    /// A message's header from `sender`: during a manual failover, the first offset our
    /// primary sends while paused is the one to catch up with. Returns whether it was taken.
    pub fn primary_offset_received(&mut self, sender: &str, mflags0: u8, offset: i64) -> bool {
        let e = &self.election;
        let me = self.me();
        if e.mf_end != 0
            && me.is_replica()
            && me.master.as_deref() == Some(sender)
            && mflags0 & mflags::PAUSED != 0
            && e.mf_master_offset == -1
        {
            self.election.mf_master_offset = offset;
            return true;
        }
        false
    }

    /// Whether the headers this node sends carry PAUSED: a primary in a manual failover.
    pub fn sends_paused(&self) -> bool {
        self.me().is_master() && self.election.mf_end != 0
    }

    /// Ends any manual failover; a primary lifts its pause.
    pub fn reset_manual_failover(&mut self) -> Vec<Out> {
        let e = &mut self.election;
        let out = if e.mf_replica.take().is_some() {
            vec![Out::Unpause]
        } else {
            Vec::new()
        };
        e.mf_end = 0;
        e.mf_can_start = false;
        e.mf_master_offset = -1;
        out
    }

    /// CLUSTER FAILOVER on a replica (its checks done by the caller): TAKEOVER takes the
    /// slots at once in a new epoch, FORCE starts an election at once, the default asks the
    /// primary to pause first (MFSTART).
    pub fn start_manual_failover(&mut self, force: bool, takeover: bool, now: i64) -> Vec<Out> {
        let mut out = self.reset_manual_failover();
        self.election.mf_end = now + MF_TIMEOUT_MS;
        if takeover {
            self.bump_epoch();
            out.extend(self.replace_my_master());
        } else if force {
            self.election.mf_can_start = true;
        } else if let Some(m) = self.me().master.clone() {
            out.push(Out::MfStart(m));
        }
        out
    }

    /// This replica's rank among its primary's replicas that may fail over, by offset.
    pub fn replica_rank(&self, my_offset: i64) -> usize {
        let Some(m) = self.me().master.as_deref() else {
            return 0;
        };
        gossip::replica_rank(
            my_offset,
            self.replicas_of(m)
                .into_iter()
                .filter(|n| n.id != self.myself)
                .map(|n| (n.repl_offset, n.flags & flag::NOFAILOVER != 0)),
        )
    }

    /// The replica takes over: a primary now, with every slot of its former primary, and
    /// tells every node with a PONG.
    pub fn replace_my_master(&mut self) -> Vec<Out> {
        let me = self.me();
        if me.is_master() || me.master.is_none() {
            return Vec::new();
        }
        self.take_over_master();
        let mut out = vec![
            Out::BecamePrimary,
            Out::Changed,
            Out::BroadcastPong {
                shard_replicas_only: false,
            },
        ];
        out.extend(self.reset_manual_failover());
        out
    }

    /// A manual failover's replica side: once the primary's paused offset is reached, the
    /// election may start.
    pub fn handle_manual_failover(&mut self, my_offset: i64) -> bool {
        let e = &mut self.election;
        if e.mf_end == 0 || e.mf_can_start || e.mf_master_offset == -1 {
            return false;
        }
        if e.mf_master_offset == my_offset {
            e.mf_can_start = true;
            return true;
        }
        false
    }

    /// A replica's failover step (Redis's clusterHandleSlaveFailover): with its primary FAIL
    /// (or a manual failover ready), schedule an election, ask for votes when its time comes,
    /// and take over once a majority voted. `random_ms` is a fresh random number.
    pub fn replica_failover(
        &mut self,
        now: i64,
        s: &Settings,
        r: &ReplicaView,
        random_ms: u64,
    ) -> Vec<Out> {
        let timeout = s.node_timeout_ms;
        let manual = self.election.mf_end != 0 && self.election.mf_can_start;
        let me = self.me();
        let master = me.master.as_deref().and_then(|m| self.node(m.as_bytes()));
        let eligible = me.is_replica()
            && master.is_some_and(|m| (m.failed() || manual) && m.numslots > 0)
            && (!s.no_failover || manual);
        if !eligible {
            self.election.cant = CantFailover::None;
            return Vec::new();
        }
        if !manual
            && gossip::data_too_old(
                r.data_age_ms,
                timeout,
                s.repl_ping_period_s,
                s.validity_factor,
            )
        {
            self.election.cant = CantFailover::DataAge;
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut auth_age = now.saturating_sub(self.election.auth_time);
        if auth_age > gossip::auth_retry_ms(timeout) {
            let rank = self.replica_rank(r.offset);
            let e = &mut self.election;
            e.auth_count = 0;
            e.auth_sent = false;
            e.auth_rank = rank;
            e.auth_time = now + gossip::election_delay_ms(rank, random_ms, false);
            out.push(Out::BroadcastPong {
                shard_replicas_only: true,
            });
            if e.mf_end == 0 {
                return out;
            }
            e.auth_time = now;
            e.auth_rank = 0;
            auth_age = 0;
        }
        if !self.election.auth_sent && self.election.mf_end == 0 {
            let rank = self.replica_rank(r.offset);
            let e = &mut self.election;
            if rank > e.auth_rank {
                e.auth_time += (rank - e.auth_rank) as i64 * 1000;
                e.auth_rank = rank;
            }
        }
        if now < self.election.auth_time {
            self.election.cant = CantFailover::WaitingDelay;
            return out;
        }
        if auth_age > gossip::auth_timeout_ms(timeout) {
            self.election.cant = CantFailover::Expired;
            return out;
        }
        if !self.election.auth_sent {
            self.current_epoch += 1;
            let e = &mut self.election;
            e.auth_epoch = self.current_epoch;
            e.auth_sent = true;
            out.push(Out::RequestVotes {
                force: e.mf_end != 0,
            });
            out.push(Out::Changed);
            return out;
        }
        if gossip::election_won(self.election.auth_count, self.size) {
            let epoch = self.election.auth_epoch;
            if self.me().config_epoch < epoch {
                self.set_config_epoch(epoch);
            }
            out.extend(self.replace_my_master());
        } else {
            self.election.cant = CantFailover::WaitingVotes;
        }
        out
    }

    /// The replicas of `id` this node does not see FAIL.
    fn ok_replicas(&self, id: &str) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.master.as_deref() == Some(id) && !n.failed())
            .count()
    }

    /// Replica migration (Redis's clusterHandleSlaveMigration, with the cron's counting): a
    /// replica of a primary with the most working replicas, more than the barrier, and the
    /// smallest ID among them, moves to a primary orphaned for over five seconds.
    pub fn replica_migration(&mut self, now: i64, s: &Settings) -> Vec<Out> {
        let me = self.me();
        let Some(mine) = me.master.clone() else {
            return Vec::new();
        };
        if !me.is_replica() || !s.allow_replica_migration {
            return Vec::new();
        }
        // The cron's counts: orphaned primaries, the most working replicas of one primary,
        // and those of ours.
        let (mut orphaned, mut max_replicas, mut ours) = (0usize, 0usize, 0usize);
        for n in &self.nodes {
            if n.flags & (flag::MYSELF | flag::NOADDR | flag::HANDSHAKE) != 0
                || !n.is_master()
                || n.failed()
            {
                continue;
            }
            let ok = self.ok_replicas(&n.id);
            if ok == 0 && n.numslots > 0 && n.flags & flag::MIGRATE_TO != 0 {
                orphaned += 1;
            }
            max_replicas = max_replicas.max(ok);
            if n.id == mine {
                ours = ok;
            }
        }
        if orphaned == 0 || max_replicas < 2 || ours != max_replicas || !self.ok {
            return Vec::new();
        }
        let working = self
            .nodes
            .iter()
            .filter(|n| n.master.as_deref() == Some(mine.as_str()) && !n.failed() && !timed_out(n))
            .count();
        if working as i64 <= s.migration_barrier {
            return Vec::new();
        }
        let mut target: Option<String> = None;
        let mut candidate = self.myself.clone();
        let ids: Vec<String> = self.nodes.iter().map(|n| n.id.clone()).collect();
        for id in ids {
            let (ok, orphan, slots) = {
                let Some(n) = self.node(id.as_bytes()) else {
                    continue;
                };
                let ok = if n.is_master() {
                    self.ok_replicas(&id)
                } else {
                    0
                };
                let orphan =
                    !n.is_replica() && !n.failed() && n.flags & flag::MIGRATE_TO != 0 && ok == 0;
                (ok, orphan, n.numslots)
            };
            if let Some(n) = self.node_mut(&id) {
                if orphan {
                    if n.orphaned_time == 0 {
                        n.orphaned_time = now;
                    }
                } else {
                    n.orphaned_time = 0;
                }
            }
            if orphan && target.is_none() && slots > 0 {
                target = Some(id.clone());
            }
            if ok == max_replicas {
                for r in self.replicas_of(&id) {
                    if r.id < candidate {
                        candidate = r.id.clone();
                    }
                }
            }
        }
        let Some(t) = target else {
            return Vec::new();
        };
        let since = self
            .node(t.as_bytes())
            .map_or(0, |n| now.saturating_sub(n.orphaned_time));
        if candidate != self.myself || since <= REPLICA_MIGRATION_DELAY_MS {
            return Vec::new();
        }
        self.set_master(&t);
        let mut out = self.reset_manual_failover();
        out.push(Out::ReplicateFrom(t));
        out.push(Out::Changed);
        out
    }

    /// The failover part of the cluster cron (every 100 ms, after the bus's own): the manual
    /// failover's timeout and progress, the replica's election, replica migration, and the
    /// pings a primary owes a replica taking over.
    pub fn failover_cron(
        &mut self,
        now: i64,
        s: &Settings,
        r: &ReplicaView,
        random_ms: u64,
    ) -> Vec<Out> {
        let mut out = Vec::new();
        if self.me().is_master() {
            if let Some(rep) = self.election.mf_replica.clone() {
                if self.election.mf_end != 0 && self.node(rep.as_bytes()).is_some_and(|n| n.link) {
                    out.push(Out::Ping(rep));
                }
            }
        }
        if self.election.mf_end != 0 && self.election.mf_end < now {
            out.extend(self.reset_manual_failover());
        }
        if self.me().is_replica() {
            self.handle_manual_failover(r.offset);
            out.extend(self.replica_failover(now, s, r, random_ms));
            out.extend(self.replica_migration(now, s));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::bus::{SlotBitmap, NULL_NAME};
    use crate::cluster::slots::SLOTS;

    /// Node IDs: a letter repeated, so their order is the letters'.
    fn id(c: char) -> String {
        c.to_string().repeat(40)
    }

    /// A cluster of three primaries (a, b, c: a third of the slots each) and a replica of
    /// each (d of a, e of b, f of c), seen from `me`, every node linked and healthy.
    fn cluster(me: char) -> ClusterState {
        let mut st = ClusterState::new(id(me), 7000, 17000);
        for (i, c) in "abcdef".chars().enumerate() {
            let primary = i < 3;
            if c != me {
                let mut n = Node::new(id(c), if primary { flag::MASTER } else { flag::SLAVE });
                n.ip = "127.0.0.1".into();
                n.port = 7000 + i as u16;
                n.link = true;
                st.add_node(n);
            }
            let n = st.node_mut(&id(c)).unwrap();
            if primary {
                n.flags = (n.flags & flag::MYSELF) | flag::MASTER | flag::MIGRATE_TO;
                n.config_epoch = i as u64 + 1;
            } else {
                n.flags = (n.flags & flag::MYSELF) | flag::SLAVE;
                n.master = Some(id("abc".chars().nth(i - 3).unwrap()));
            }
        }
        let third = SLOTS as u16 / 3;
        for s in 0..SLOTS as u16 {
            let owner = "abc".chars().nth(usize::from((s / third).min(2))).unwrap();
            st.add_slot(s, &id(owner));
        }
        st.current_epoch = 3;
        st.update_state(0, true, 1000);
        st.update_state(10_000, true, 1000);
        assert!(st.ok && st.size == 3);
        st
    }

    const T: i64 = 1000;

    /// A FAIL message from another node about `about`, as the bus takes it.
    fn fail_received(st: &mut ClusterState, about: &str, now: i64) {
        let n = st.node_mut(about).unwrap();
        n.flags |= flag::FAIL;
        n.flags &= !flag::PFAIL;
        n.fail_time = now;
    }

    fn request_from(st: &ClusterState, replica: char) -> Header {
        let mut h = Header::new(crate::cluster::bus::node_name(id(replica).as_bytes()));
        h.current_epoch = st.current_epoch;
        let n = st.node(id(replica).as_bytes()).unwrap();
        let m = n.master.as_deref().unwrap();
        h.config_epoch = st.node(m.as_bytes()).unwrap().config_epoch;
        let mut slots = SlotBitmap::new();
        for s in 0..SLOTS as u16 {
            if st.owner(s) == Some(m) {
                slots.insert(s);
            }
        }
        h.myslots = slots;
        h.slaveof = crate::cluster::bus::node_name(m.as_bytes());
        let _ = NULL_NAME;
        h
    }

    #[test]
    fn a_primary_votes_once_per_epoch_for_a_failed_primarys_replica() {
        let mut st = cluster('b');
        let req = request_from(&st, 'd');
        assert_eq!(
            st.auth_requested(&id('d'), &req, 10_000, T),
            Err(gossip::VoteDenied::PrimaryUp)
        );
        fail_received(&mut st, &id('a'), 10_000);
        st.current_epoch = 4;
        let mut req = request_from(&st, 'd');
        req.current_epoch = 4;
        assert_eq!(
            st.auth_requested(&id('d'), &req, 10_000, T),
            Ok(vec![Out::Vote(id('d')), Out::Changed])
        );
        assert_eq!(st.last_vote_epoch, 4);
        assert_eq!(
            st.auth_requested(&id('d'), &req, 10_001, T),
            Err(gossip::VoteDenied::AlreadyVoted(4))
        );
        st.current_epoch = 5;
        req.current_epoch = 5;
        assert!(matches!(
            st.auth_requested(&id('d'), &req, 10_001, T),
            Err(gossip::VoteDenied::TooSoon { .. })
        ));
    }

    #[test]
    fn the_replica_waits_asks_and_takes_over() {
        let mut st = cluster('d');
        let s = Settings {
            node_timeout_ms: T,
            ..Settings::default()
        };
        let r = ReplicaView {
            offset: 100,
            data_age_ms: 1500,
        };
        let now = 100_000;
        assert!(st.replica_failover(now, &s, &r, 7).is_empty(), "primary up");
        fail_received(&mut st, &id('a'), now);
        let out = st.replica_failover(now, &s, &r, 7);
        assert_eq!(
            out,
            vec![Out::BroadcastPong {
                shard_replicas_only: true
            }]
        );
        assert_eq!(st.election.auth_time, now + 507);
        assert!(st.replica_failover(now + 506, &s, &r, 7).is_empty());
        assert_eq!(st.election.cant, CantFailover::WaitingDelay);
        let out = st.replica_failover(now + 507, &s, &r, 7);
        assert_eq!(out, vec![Out::RequestVotes { force: false }, Out::Changed]);
        assert_eq!((st.current_epoch, st.election.auth_epoch), (4, 4));
        // One vote of three primaries is not enough; a stale one does not count.
        assert!(st.auth_acked(&id('b'), 4));
        assert!(!st.auth_acked(&id('c'), 3));
        assert!(st.replica_failover(now + 600, &s, &r, 7).is_empty());
        assert_eq!(st.election.cant, CantFailover::WaitingVotes);
        assert!(st.auth_acked(&id('c'), 4));
        let out = st.replica_failover(now + 700, &s, &r, 7);
        assert_eq!(
            out,
            vec![
                Out::BecamePrimary,
                Out::Changed,
                Out::BroadcastPong {
                    shard_replicas_only: false
                }
            ]
        );
        let me = st.me();
        assert!(me.is_master() && me.master.is_none());
        assert_eq!((me.config_epoch, me.numslots), (4, 5461));
        assert_eq!(st.owner(0), Some(id('d').as_str()));
    }

    #[test]
    fn stale_data_and_no_failover_keep_a_replica_out() {
        let mut st = cluster('d');
        fail_received(&mut st, &id('a'), 0);
        let mut s = Settings {
            node_timeout_ms: T,
            ..Settings::default()
        };
        // 10 s ping period + 10 timeouts of 1 s = 20 s, after forgiving one timeout.
        let old = ReplicaView {
            offset: 0,
            data_age_ms: 21_001,
        };
        assert!(st.replica_failover(1000, &s, &old, 0).is_empty());
        assert_eq!(st.election.cant, CantFailover::DataAge);
        s.validity_factor = 0;
        assert!(!st.replica_failover(1000, &s, &old, 0).is_empty());
        s.no_failover = true;
        assert!(st.replica_failover(1000, &s, &old, 0).is_empty());
        assert_eq!(st.election.cant, CantFailover::None);
    }

    #[test]
    fn rank_follows_the_other_replicas_offsets() {
        let mut st = cluster('d');
        let mut g = Node::new(id('g'), flag::SLAVE);
        g.master = Some(id('a'));
        g.repl_offset = 500;
        st.add_node(g);
        assert_eq!(st.replica_rank(400), 1);
        assert_eq!(st.replica_rank(500), 0);
        st.node_mut(&id('g')).unwrap().flags |= flag::NOFAILOVER;
        assert_eq!(st.replica_rank(400), 0);
    }

    #[test]
    fn manual_failover_pauses_catches_up_and_forces_the_vote() {
        // The replica asks its primary.
        let mut d = cluster('d');
        let out = d.start_manual_failover(false, false, 1000);
        assert_eq!(out, vec![Out::MfStart(id('a'))]);
        // The primary pauses and pings.
        let mut a = cluster('a');
        assert!(
            a.mfstart_received(&id('e'), 1000).is_empty(),
            "not its replica"
        );
        let out = a.mfstart_received(&id('d'), 1000);
        assert_eq!(out, vec![Out::PauseWrites(11_000), Out::Ping(id('d'))]);
        assert!(a.sends_paused());
        // The replica learns the paused offset, catches up, and runs a forced election.
        assert!(
            !d.primary_offset_received(&id('a'), 0, 300),
            "not paused yet"
        );
        assert!(d.primary_offset_received(&id('a'), mflags::PAUSED, 300));
        assert!(!d.primary_offset_received(&id('a'), mflags::PAUSED, 400));
        let s = Settings {
            node_timeout_ms: T,
            ..Settings::default()
        };
        let behind = ReplicaView {
            offset: 200,
            data_age_ms: 0,
        };
        assert!(d.failover_cron(1100, &s, &behind, 0).is_empty());
        let caught_up = ReplicaView {
            offset: 300,
            data_age_ms: 0,
        };
        let out = d.failover_cron(1200, &s, &caught_up, 0);
        assert!(out.ends_with(&[Out::RequestVotes { force: true }, Out::Changed]));
        // The primary's vote under FORCEACK, though it is up.
        let mut b = cluster('b');
        b.current_epoch = 4;
        let mut req = request_from(&b, 'd');
        req.mflags[0] |= mflags::FORCEACK;
        assert!(b.auth_requested(&id('d'), &req, 10_000, T).is_ok());
        d.auth_acked(&id('b'), 4);
        d.auth_acked(&id('c'), 4);
        let out = d.failover_cron(1300, &s, &caught_up, 0);
        assert!(out.contains(&Out::BecamePrimary));
        assert_eq!(d.election.mf_end, 0, "the manual failover is over");
        // The primary gives up its pause when the failover times out.
        let out = a.failover_cron(6000, &s, &caught_up, 0);
        assert_eq!(out, vec![Out::Ping(id('d'))], "pinged while it lasts");
        let out = a.failover_cron(6001, &s, &caught_up, 0);
        assert_eq!(out, vec![Out::Ping(id('d')), Out::Unpause]);
        assert!(!a.sends_paused());
    }

    #[test]
    fn takeover_needs_no_votes_and_force_skips_the_catch_up() {
        let mut d = cluster('d');
        let out = d.start_manual_failover(true, true, 0);
        assert_eq!(out[0], Out::BecamePrimary);
        assert_eq!(d.me().config_epoch, 4);
        assert_eq!(d.current_epoch, 4);
        let mut e = cluster('e');
        assert!(e.start_manual_failover(true, false, 0).is_empty());
        assert!(e.election.mf_can_start);
        let s = Settings::default();
        let out = e.failover_cron(1, &s, &ReplicaView::default(), 0);
        assert!(out.contains(&Out::RequestVotes { force: true }));
    }

    #[test]
    fn an_extra_replica_migrates_to_an_orphaned_primary() {
        let mut st = cluster('d');
        // d and g replicate a; f (c's only replica) failed: c is orphaned.
        let mut g = Node::new(id('g'), flag::SLAVE);
        g.master = Some(id('a'));
        st.add_node(g);
        fail_received(&mut st, &id('f'), 0);
        let s = Settings::default();
        assert!(
            st.replica_migration(1000, &s).is_empty(),
            "orphaned just now"
        );
        assert!(
            st.replica_migration(6000, &s).is_empty(),
            "not five seconds yet"
        );
        let out = st.replica_migration(6001, &s);
        assert_eq!(out, vec![Out::ReplicateFrom(id('c')), Out::Changed]);
        assert_eq!(st.me().master.as_deref(), Some(id('c').as_str()));
        // g has the greater ID: it stays.
        let mut st = cluster('d');
        let mut g = Node::new(id('g'), flag::SLAVE | flag::MYSELF);
        g.master = Some(id('a'));
        st.add_node(g);
        st.nodes.iter_mut().for_each(|n| {
            if n.id == id('d') {
                n.flags &= !flag::MYSELF;
            }
        });
        st.myself = id('g');
        fail_received(&mut st, &id('f'), 0);
        st.replica_migration(1000, &s);
        assert!(st.replica_migration(9000, &s).is_empty());
        // Not with the barrier at 2, nor with migration off.
        let mut st = cluster('d');
        let mut g = Node::new(id('g'), flag::SLAVE);
        g.master = Some(id('a'));
        st.add_node(g);
        fail_received(&mut st, &id('f'), 0);
        let barrier = Settings {
            migration_barrier: 2,
            ..Settings::default()
        };
        st.replica_migration(1000, &barrier);
        assert!(st.replica_migration(9000, &barrier).is_empty());
        let off = Settings {
            allow_replica_migration: false,
            ..Settings::default()
        };
        assert!(st.replica_migration(9000, &off).is_empty());
    }
}
