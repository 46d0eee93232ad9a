//! The rules of Redis 7.0's gossip and failover that need no cluster state beyond what a
//! caller passes in: which nodes a PING carries, failure reports and the PFAIL → FAIL quorum,
//! when a FAIL is cleared, who may vote for whom in a failover election and when an election
//! starts and is won, and config epoch collisions. Pure functions: the caller owns the nodes,
//! the clock (`now_ms`) and the randomness.

use std::fmt;

use super::{flags, GossipEntry, NodeName, IP_LEN};

/// What the gossip rules read of a node the caller knows.
pub trait NodeView {
    /// Its id.
    fn name(&self) -> &NodeName;
    /// Its flags as this node sees them ([`flags`]); MYSELF marks this node.
    fn flags(&self) -> u16;
    /// Whether this node has an outbound link to it.
    fn has_link(&self) -> bool;
    /// How many slots it serves.
    fn slot_count(&self) -> usize;
    /// When this node last pinged it without an answer yet (ms; 0 for none).
    fn ping_sent_ms(&self) -> i64;
    /// When this node last received its PONG (ms).
    fn pong_received_ms(&self) -> i64;
    /// Its IP, NUL-padded.
    fn ip(&self) -> [u8; IP_LEN];
    /// Its client port.
    fn port(&self) -> u16;
    /// Its cluster bus port.
    fn cport(&self) -> u16;
    /// Its plaintext port, when the client port is TLS (else 0).
    fn pport(&self) -> u16;
}

/// The gossip entry describing `n`: times in seconds, cut to 32 bits as on the wire.
pub fn gossip_entry<N: NodeView + ?Sized>(n: &N) -> GossipEntry {
    GossipEntry {
        nodename: *n.name(),
        ping_sent: (n.ping_sent_ms() / 1000) as u32,
        pong_received: (n.pong_received_ms() / 1000) as u32,
        ip: n.ip(),
        port: n.port(),
        cport: n.cport(),
        flags: n.flags(),
        pport: n.pport(),
        notused: 0,
    }
}

/// How many random gossip entries a PING, PONG or MEET wants when this node knows
/// `known_nodes` nodes (itself included): a tenth of them, at least 3, at most the nodes other
/// than itself and the receiver.
pub fn gossip_wanted(known_nodes: usize) -> usize {
    let fresh = known_nodes.saturating_sub(2);
    (known_nodes / 10).max(3).min(fresh)
}

/// The nodes (indices into `nodes`) a PING, PONG or MEET carries in its gossip section, chosen
/// as Redis chooses them: up to [`gossip_wanted`] random nodes, in at most three times as
/// many draws, skipping this node, nodes in PFAIL (added later), nodes in handshake or without
/// an address, and nodes neither linked nor serving slots; then every PFAIL node with an
/// address, so failure reports spread fast. `pick(n)` draws an index below `n` (Redis draws
/// from its node table at random, this node included).
pub fn choose_gossip<N: NodeView>(nodes: &[N], mut pick: impl FnMut(usize) -> usize) -> Vec<usize> {
    let n = nodes.len();
    let wanted = gossip_wanted(n);
    let mut fresh = n.saturating_sub(2);
    let mut chosen: Vec<usize> = Vec::with_capacity(wanted);
    let mut iterations = wanted * 3;
    while fresh > 0 && chosen.len() < wanted && iterations > 0 {
        iterations -= 1;
        let i = pick(n) % n.max(1);
        let node = &nodes[i];
        let f = node.flags();
        if f & flags::MYSELF != 0 || f & flags::PFAIL != 0 {
            continue;
        }
        if f & (flags::HANDSHAKE | flags::NOADDR) != 0
            || (!node.has_link() && node.slot_count() == 0)
        {
            // Counted as used even though it is not: Redis trades exactness for fewer draws.
            fresh -= 1;
            continue;
        }
        if chosen.contains(&i) {
            continue;
        }
        chosen.push(i);
        fresh -= 1;
    }
    for (i, node) in nodes.iter().enumerate() {
        let f = node.flags();
        if f & flags::PFAIL != 0 && f & (flags::HANDSHAKE | flags::NOADDR) == 0 {
            chosen.push(i);
        }
    }
    chosen
}

/// Failure reports are valid for this many node timeouts.
pub const FAIL_REPORT_VALIDITY_MULT: i64 = 2;
/// A FAIL on a primary still serving slots is undone after this many node timeouts.
pub const FAIL_UNDO_TIME_MULT: i64 = 2;

/// The failure reports about one node: which primaries said (in gossip) that it is failing,
/// and when they last said so.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureReports {
    reports: Vec<(NodeName, i64)>,
}

impl FailureReports {
    /// No reports.
    pub fn new() -> FailureReports {
        FailureReports::default()
    }

    /// Records that `sender` reports the node failing at `now_ms`; true when it is a new
    /// report, false when it refreshes one.
    pub fn add(&mut self, sender: &NodeName, now_ms: i64) -> bool {
        if let Some(r) = self.reports.iter_mut().find(|(s, _)| s == sender) {
            r.1 = now_ms;
            return false;
        }
        self.reports.push((*sender, now_ms));
        true
    }

    /// Drops `sender`'s report (it gossips the node as healthy), then the expired ones; true
    /// when `sender` had a report.
    pub fn remove(&mut self, sender: &NodeName, now_ms: i64, node_timeout_ms: i64) -> bool {
        let Some(at) = self.reports.iter().position(|(s, _)| s == sender) else {
            return false;
        };
        self.reports.remove(at);
        self.expire(now_ms, node_timeout_ms);
        true
    }

    /// Drops reports older than [`FAIL_REPORT_VALIDITY_MULT`] node timeouts.
    pub fn expire(&mut self, now_ms: i64, node_timeout_ms: i64) {
        let max_age = node_timeout_ms.saturating_mul(FAIL_REPORT_VALIDITY_MULT);
        self.reports
            .retain(|&(_, t)| now_ms.saturating_sub(t) <= max_age);
    }

    /// The number of valid reports (expired ones dropped first).
    pub fn count(&mut self, now_ms: i64, node_timeout_ms: i64) -> usize {
        self.expire(now_ms, node_timeout_ms);
        self.reports.len()
    }

    /// Forgets every report (the node was deleted, or is known healthy again).
    pub fn clear(&mut self) {
        self.reports.clear();
    }

    /// The reporting nodes, oldest first.
    pub fn senders(&self) -> impl Iterator<Item = &NodeName> {
        self.reports.iter().map(|(s, _)| s)
    }
}

/// Whether gossip flags say the sender thinks the node is failing (PFAIL or FAIL).
pub fn reports_failing(gossip_flags: u16) -> bool {
    gossip_flags & (flags::PFAIL | flags::FAIL) != 0
}

/// The majority of the cluster's size (primaries serving at least one slot): the votes a
/// FAIL and a failover election need.
pub fn quorum(cluster_size: usize) -> usize {
    cluster_size / 2 + 1
}

/// Whether a node this node sees in PFAIL (flags `node_flags`) now becomes FAIL: it is not
/// FAIL already, and the valid reports, plus this node's own when it is a primary, reach the
/// quorum. When true the caller clears PFAIL, sets FAIL and fail time, and broadcasts FAIL.
pub fn should_mark_failing(
    node_flags: u16,
    reports: &mut FailureReports,
    myself_is_primary: bool,
    cluster_size: usize,
    now_ms: i64,
    node_timeout_ms: i64,
) -> bool {
    if node_flags & flags::PFAIL == 0 || node_flags & flags::FAIL != 0 {
        return false;
    }
    let votes = reports.count(now_ms, node_timeout_ms) + usize::from(myself_is_primary);
    votes >= quorum(cluster_size)
}

/// Whether a FAIL node that answered again loses its FAIL flag: a replica or a primary
/// without slots at once; a primary still serving slots only after [`FAIL_UNDO_TIME_MULT`]
/// node timeouts (nobody failed it over).
pub fn should_clear_failure(
    is_replica: bool,
    slot_count: usize,
    fail_time_ms: i64,
    now_ms: i64,
    node_timeout_ms: i64,
) -> bool {
    is_replica
        || slot_count == 0
        || now_ms.saturating_sub(fail_time_ms) > node_timeout_ms.saturating_mul(FAIL_UNDO_TIME_MULT)
}

/// The PONG time to adopt from a gossip entry about a node this node sees healthy, with no
/// ping pending and no failure reports: the gossiped time (seconds) if it is newer than ours
/// and not more than 500 ms in our future.
pub fn adopt_pong_time(gossip_pong_s: u32, our_pong_ms: i64, now_ms: i64) -> Option<i64> {
    let t = i64::from(gossip_pong_s) * 1000;
    (t <= now_ms + 500 && t > our_pong_ms).then_some(t)
}

/// Why a primary refuses its vote to a replica asking for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoteDenied {
    /// This node is a replica or serves no slot: it has no vote.
    NoVote,
    /// The request's current epoch is behind ours.
    StaleEpoch {
        /// The request's epoch.
        request: u64,
        /// Ours.
        current: u64,
    },
    /// This node already voted in this epoch.
    AlreadyVoted(u64),
    /// The requester is a primary.
    RequesterIsPrimary,
    /// This node does not know the requester's primary.
    UnknownPrimary,
    /// The requester's primary is not FAIL and the request is not forced.
    PrimaryUp,
    /// This node voted for a replica of the same primary less than two node timeouts ago.
    TooSoon {
        /// Milliseconds left.
        wait_ms: i64,
    },
    /// A claimed slot is served by a primary with a newer config epoch.
    StaleSlot {
        /// The slot.
        slot: u16,
        /// Its owner's config epoch.
        owner_epoch: u64,
        /// The request's config epoch.
        request_epoch: u64,
    },
}

impl fmt::Display for VoteDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VoteDenied::NoVote => write!(f, "this node has no vote (not a primary with slots)"),
            VoteDenied::StaleEpoch { request, current } => {
                write!(f, "reqEpoch ({request}) < curEpoch({current})")
            }
            VoteDenied::AlreadyVoted(e) => write!(f, "already voted for epoch {e}"),
            VoteDenied::RequesterIsPrimary => write!(f, "it is a master node"),
            VoteDenied::UnknownPrimary => write!(f, "I don't know its master"),
            VoteDenied::PrimaryUp => write!(f, "its master is up"),
            VoteDenied::TooSoon { wait_ms } => write!(
                f,
                "can't vote about this master before {wait_ms} milliseconds"
            ),
            VoteDenied::StaleSlot {
                slot,
                owner_epoch,
                request_epoch,
            } => write!(
                f,
                "slot {slot} epoch ({owner_epoch}) > reqEpoch ({request_epoch})"
            ),
        }
    }
}

/// What a primary knows when a FAILOVER_AUTH_REQUEST arrives (after it took the request's
/// current epoch if greater, as every message's header makes it do).
#[derive(Clone, Debug)]
pub struct Voter {
    /// Whether this node is a primary.
    pub is_primary: bool,
    /// How many slots it serves.
    pub slot_count: usize,
    /// Its current epoch.
    pub current_epoch: u64,
    /// The epoch of its last vote.
    pub last_vote_epoch: u64,
    /// The node timeout (ms).
    pub node_timeout_ms: i64,
    /// Now (ms).
    pub now_ms: i64,
}

/// What the voter knows of the replica asking.
#[derive(Clone, Debug)]
pub struct Requester {
    /// Whether the voter sees it as a primary.
    pub is_primary: bool,
    /// Its primary as the voter knows it: None when unknown, else (is FAIL, last time the
    /// voter voted for one of its replicas in ms).
    pub primary: Option<(bool, i64)>,
}

/// Whether a primary grants its vote to the replica asking with `request` (its header: the
/// current epoch, config epoch, claimed slots, and FORCEACK in mflags), as Redis decides.
/// `slot_owner_epoch(slot)` is the config epoch of the slot's owner, None when the slot is
/// unclaimed. On Ok the caller sets its last vote epoch to its current epoch and the
/// primary's voted time to now, saves its config, and sends FAILOVER_AUTH_ACK.
pub fn may_vote(
    voter: &Voter,
    requester: &Requester,
    request: &super::Header,
    slot_owner_epoch: impl Fn(u16) -> Option<u64>,
) -> Result<(), VoteDenied> {
    if !voter.is_primary || voter.slot_count == 0 {
        return Err(VoteDenied::NoVote);
    }
    if request.current_epoch < voter.current_epoch {
        return Err(VoteDenied::StaleEpoch {
            request: request.current_epoch,
            current: voter.current_epoch,
        });
    }
    if voter.last_vote_epoch == voter.current_epoch {
        return Err(VoteDenied::AlreadyVoted(voter.current_epoch));
    }
    let force = request.mflags[0] & super::mflags::FORCEACK != 0;
    if requester.is_primary {
        return Err(VoteDenied::RequesterIsPrimary);
    }
    let Some((primary_failed, voted_time)) = requester.primary else {
        return Err(VoteDenied::UnknownPrimary);
    };
    if !primary_failed && !force {
        return Err(VoteDenied::PrimaryUp);
    }
    let since = voter.now_ms.saturating_sub(voted_time);
    let window = voter.node_timeout_ms.saturating_mul(2);
    if since < window {
        return Err(VoteDenied::TooSoon {
            wait_ms: window - since,
        });
    }
    for (first, last) in request.myslots.ranges() {
        for slot in first..=last {
            if let Some(owner_epoch) = slot_owner_epoch(slot) {
                if owner_epoch > request.config_epoch {
                    return Err(VoteDenied::StaleSlot {
                        slot,
                        owner_epoch,
                        request_epoch: request.config_epoch,
                    });
                }
            }
        }
    }
    Ok(())
}

/// How long a replica's election may take: twice the node timeout, at least 2 s.
pub fn auth_timeout_ms(node_timeout_ms: i64) -> i64 {
    node_timeout_ms.saturating_mul(2).max(2000)
}

/// How long after an election began a replica may start another: twice [`auth_timeout_ms`].
pub fn auth_retry_ms(node_timeout_ms: i64) -> i64 {
    auth_timeout_ms(node_timeout_ms).saturating_mul(2)
}

/// A replica's rank among its primary's replicas: how many others (that may fail over) have
/// a greater replication offset. Rank 0 is the most up to date.
pub fn replica_rank(my_offset: i64, others: impl IntoIterator<Item = (i64, bool)>) -> usize {
    others
        .into_iter()
        .filter(|&(offset, no_failover)| !no_failover && offset > my_offset)
        .count()
}

/// The delay before a replica asks for votes: 500 ms for the FAIL to spread, a random
/// 0-499 ms (`random_ms`, reduced modulo 500), and a second per rank; none in a manual
/// failover.
pub fn election_delay_ms(rank: usize, random_ms: u64, manual: bool) -> i64 {
    if manual {
        return 0;
    }
    500 + (random_ms % 500) as i64 + (rank as i64).saturating_mul(1000)
}

/// Whether a replica's data is too old for it to fail over automatically (a manual failover
/// ignores this): disconnected from its primary for `data_age_ms`, of which the node timeout
/// is forgiven, more than the ping period plus `validity_factor` node timeouts. A factor of
/// 0 disables the check.
pub fn data_too_old(
    data_age_ms: i64,
    node_timeout_ms: i64,
    repl_ping_period_s: i64,
    validity_factor: i64,
) -> bool {
    if validity_factor == 0 {
        return false;
    }
    let age = if data_age_ms > node_timeout_ms {
        data_age_ms - node_timeout_ms
    } else {
        data_age_ms
    };
    age > repl_ping_period_s.saturating_mul(1000) + node_timeout_ms.saturating_mul(validity_factor)
}

/// Whether a FAILOVER_AUTH_ACK counts as a vote: its sender is a primary serving slots, and
/// its current epoch is not behind the election's.
pub fn ack_counts(
    sender_is_primary: bool,
    sender_slot_count: usize,
    sender_current_epoch: u64,
    election_epoch: u64,
) -> bool {
    sender_is_primary && sender_slot_count > 0 && sender_current_epoch >= election_epoch
}

/// Whether `votes` win an election in a cluster of `cluster_size` primaries with slots.
pub fn election_won(votes: usize, cluster_size: usize) -> bool {
    votes >= quorum(cluster_size)
}

/// A config epoch collision between this primary and another (`sender`) announcing the same
/// config epoch: the one with the lexicographically smaller id moves to the current epoch
/// plus one. Returns this node's new current and config epoch when it is the one to move.
pub fn resolve_epoch_collision(
    my_name: &NodeName,
    my_config_epoch: u64,
    sender_name: &NodeName,
    sender_config_epoch: u64,
    both_primaries: bool,
    current_epoch: u64,
) -> Option<u64> {
    if !both_primaries || sender_config_epoch != my_config_epoch || sender_name <= my_name {
        return None;
    }
    Some(current_epoch + 1)
}

#[cfg(test)]
mod tests {
    use super::super::{ip_field, mflags, Header, SlotBitmap};
    use super::*;

    #[derive(Clone)]
    struct N {
        name: NodeName,
        flags: u16,
        link: bool,
        slots: usize,
    }

    impl NodeView for N {
        fn name(&self) -> &NodeName {
            &self.name
        }
        fn flags(&self) -> u16 {
            self.flags
        }
        fn has_link(&self) -> bool {
            self.link
        }
        fn slot_count(&self) -> usize {
            self.slots
        }
        fn ping_sent_ms(&self) -> i64 {
            0
        }
        fn pong_received_ms(&self) -> i64 {
            1_700_000_000_999
        }
        fn ip(&self) -> [u8; IP_LEN] {
            ip_field(b"10.1.2.3")
        }
        fn port(&self) -> u16 {
            6379
        }
        fn cport(&self) -> u16 {
            16379
        }
        fn pport(&self) -> u16 {
            0
        }
    }

    fn node(i: u8, flags: u16, link: bool, slots: usize) -> N {
        N {
            name: [b'0' + i % 10; 40],
            flags,
            link,
            slots,
        }
    }

    #[test]
    fn wanted_is_a_tenth_at_least_three_at_most_the_others() {
        assert_eq!(gossip_wanted(0), 0);
        assert_eq!(gossip_wanted(2), 0);
        assert_eq!(gossip_wanted(3), 1);
        assert_eq!(gossip_wanted(5), 3);
        assert_eq!(gossip_wanted(29), 3);
        assert_eq!(gossip_wanted(30), 3);
        assert_eq!(gossip_wanted(45), 4);
        assert_eq!(gossip_wanted(1000), 100);
    }

    #[test]
    fn choice_skips_myself_handshakes_and_idle_nodes_and_appends_pfail() {
        let nodes = vec![
            node(0, flags::MYSELF | flags::MASTER, false, 10),
            node(1, flags::MASTER, true, 0),
            node(2, flags::MASTER | flags::HANDSHAKE, true, 0),
            node(3, flags::SLAVE, false, 0), // no link, no slots
            node(4, flags::MASTER | flags::PFAIL, true, 5),
            node(5, flags::MASTER, false, 7), // no link but slots
            node(6, flags::MASTER | flags::PFAIL | flags::NOADDR, false, 0),
        ];
        // Draw every index in turn, repeatedly.
        let mut k = 0;
        let chosen = choose_gossip(&nodes, |n| {
            k += 1;
            (k - 1) % n
        });
        // wanted = 3; draws: 0 myself, 1 ok, 2 handshake, 3 idle, 4 pfail, 5 ok, 6 pfail,
        // 0 myself, 1 duplicate: nine draws; then the PFAIL node with an address.
        assert_eq!(chosen, vec![1, 5, 4]);
        let g = gossip_entry(&nodes[1]);
        assert_eq!(g.pong_received, 1_700_000_000);
        assert_eq!(g.cport, 16379);
    }

    #[test]
    fn failure_reports_expire_and_reach_quorum() {
        let t = 15_000;
        let mut r = FailureReports::new();
        assert!(r.add(&[b'a'; 40], 1000));
        assert!(!r.add(&[b'a'; 40], 2000), "a refresh");
        assert!(r.add(&[b'b'; 40], 3000));
        assert_eq!(
            r.count(2000 + 2 * t, t),
            2,
            "valid for exactly two timeouts"
        );
        assert_eq!(r.count(2001 + 2 * t, t), 1);
        // Three primaries: quorum 2. One report plus my own vote as a primary.
        let pfail = flags::MASTER | flags::PFAIL;
        let mut one = FailureReports::new();
        one.add(&[b'a'; 40], 0);
        assert!(should_mark_failing(pfail, &mut one.clone(), true, 3, 10, t));
        assert!(!should_mark_failing(
            pfail,
            &mut one.clone(),
            false,
            3,
            10,
            t
        ));
        assert!(!should_mark_failing(
            flags::MASTER,
            &mut one.clone(),
            true,
            3,
            10,
            t
        ));
        assert!(!should_mark_failing(
            pfail | flags::FAIL,
            &mut one.clone(),
            true,
            3,
            10,
            t
        ));
        assert!(!should_mark_failing(pfail, &mut one, true, 3, 2 * t + 1, t));
        assert!(!one.remove(&[b'a'; 40], 0, t), "expired already");
        assert_eq!(quorum(1), 1);
        assert_eq!(quorum(4), 3);
        assert!(reports_failing(flags::PFAIL) && !reports_failing(flags::MASTER));
    }

    #[test]
    fn failure_clears_as_redis_clears_it() {
        assert!(should_clear_failure(true, 100, 0, 1, 15_000));
        assert!(should_clear_failure(false, 0, 0, 1, 15_000));
        assert!(!should_clear_failure(false, 100, 0, 30_000, 15_000));
        assert!(should_clear_failure(false, 100, 0, 30_001, 15_000));
        assert_eq!(adopt_pong_time(100, 50_000, 100_000), Some(100_000));
        assert_eq!(adopt_pong_time(100, 100_000, 100_000), None);
        assert_eq!(
            adopt_pong_time(101, 0, 100_499),
            None,
            "more than 500 ms ahead"
        );
        assert_eq!(adopt_pong_time(101, 0, 100_500), Some(101_000));
    }

    fn request(current: u64, config: u64, slots: &[u16], force: bool) -> Header {
        let mut h = Header::new([b'r'; 40]);
        h.current_epoch = current;
        h.config_epoch = config;
        let mut s = SlotBitmap::new();
        for &x in slots {
            s.insert(x);
        }
        h.myslots = s;
        if force {
            h.mflags[0] |= mflags::FORCEACK;
        }
        h
    }

    #[test]
    fn votes_follow_redis_rules() {
        let voter = Voter {
            is_primary: true,
            slot_count: 10,
            current_epoch: 7,
            last_vote_epoch: 6,
            node_timeout_ms: 1000,
            now_ms: 100_000,
        };
        let replica = Requester {
            is_primary: false,
            primary: Some((true, 0)),
        };
        let owner = |s: u16| (s == 5).then_some(3);
        let req = request(7, 3, &[5], false);
        assert_eq!(may_vote(&voter, &replica, &req, owner), Ok(()));
        let mut v = voter.clone();
        v.slot_count = 0;
        assert_eq!(may_vote(&v, &replica, &req, owner), Err(VoteDenied::NoVote));
        assert_eq!(
            may_vote(&voter, &replica, &request(6, 3, &[5], false), owner),
            Err(VoteDenied::StaleEpoch {
                request: 6,
                current: 7
            })
        );
        let mut v = voter.clone();
        v.last_vote_epoch = 7;
        assert_eq!(
            may_vote(&v, &replica, &req, owner),
            Err(VoteDenied::AlreadyVoted(7))
        );
        let up = Requester {
            is_primary: false,
            primary: Some((false, 0)),
        };
        assert_eq!(
            may_vote(&voter, &up, &req, owner),
            Err(VoteDenied::PrimaryUp)
        );
        assert_eq!(
            may_vote(&voter, &up, &request(7, 3, &[5], true), owner),
            Ok(()),
            "FORCEACK: a manual failover"
        );
        let unknown = Requester {
            is_primary: false,
            primary: None,
        };
        assert_eq!(
            may_vote(&voter, &unknown, &req, owner),
            Err(VoteDenied::UnknownPrimary)
        );
        let recent = Requester {
            is_primary: false,
            primary: Some((true, 99_000)),
        };
        assert_eq!(
            may_vote(&voter, &recent, &req, owner),
            Err(VoteDenied::TooSoon { wait_ms: 1000 })
        );
        let err = may_vote(&voter, &replica, &request(7, 2, &[5], false), owner).unwrap_err();
        assert_eq!(err.to_string(), "slot 5 epoch (3) > reqEpoch (2)");
    }

    #[test]
    fn election_timing_rank_and_outcome() {
        assert_eq!(auth_timeout_ms(500), 2000);
        assert_eq!(auth_timeout_ms(15_000), 30_000);
        assert_eq!(auth_retry_ms(15_000), 60_000);
        assert_eq!(
            replica_rank(100, [(150, false), (100, false), (200, true), (101, false)]),
            2
        );
        assert_eq!(election_delay_ms(2, 1234, false), 500 + 234 + 2000);
        assert_eq!(election_delay_ms(2, 1234, true), 0);
        assert!(!data_too_old(1_000_000, 15_000, 10, 0));
        // 10 s ping period + 10 timeouts of 15 s = 160 s, after forgiving one timeout.
        assert!(!data_too_old(175_000, 15_000, 10, 10));
        assert!(data_too_old(175_001, 15_000, 10, 10));
        assert!(ack_counts(true, 1, 8, 8));
        assert!(!ack_counts(true, 1, 7, 8));
        assert!(!ack_counts(true, 0, 8, 8));
        assert!(election_won(2, 3) && !election_won(1, 3));
    }

    #[test]
    fn epoch_collision_moves_the_smaller_id() {
        let small = [b'1'; 40];
        let big = [b'9'; 40];
        assert_eq!(
            resolve_epoch_collision(&small, 4, &big, 4, true, 9),
            Some(10)
        );
        assert_eq!(resolve_epoch_collision(&big, 4, &small, 4, true, 9), None);
        assert_eq!(resolve_epoch_collision(&small, 4, &big, 5, true, 9), None);
        assert_eq!(resolve_epoch_collision(&small, 4, &big, 4, false, 9), None);
    }
}
