//! Clusters of engines wired by a fake network, on a clock the test moves: nodes meet,
//! gossip, agree on slots, and react to a closed link, deterministically.

use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::engine::{ClientId, Engine, EngineOptions};
use crate::protocol::Reply;
use crate::testkit::{run_at, NOW};

mod failover;

/// One engine on the fake network, at 10.0.0.<index+1>:<7000+index>.
struct Host {
    eng: Engine,
    client: ClientId,
    ip: String,
    port: u16,
}

/// What travels on the network, in order.
enum Event {
    Bytes {
        to: usize,
        link: LinkId,
        bytes: Vec<u8>,
    },
    Closed {
        to: usize,
        link: LinkId,
    },
}

/// Engines and the links between them: (host, link) ↔ (host, link).
struct Net {
    hosts: Vec<Host>,
    peer: BTreeMap<(usize, LinkId), (usize, LinkId)>,
    queue: VecDeque<Event>,
    now: i64,
    /// Hosts cut off: their connections fail and their bytes are dropped.
    down: Vec<bool>,
}

impl Net {
    fn new(n: usize, timeout: &str) -> Net {
        let hosts = (0..n)
            .map(|i| {
                let port = 7000 + i as u16;
                let mut eng = Engine::new(EngineOptions {
                    seed: 42 + i as u64,
                    now_ms: NOW,
                    port,
                    ..EngineOptions::default()
                });
                eng.config.set_at_startup("cluster-enabled", "yes");
                eng.config.set_at_startup("cluster-node-timeout", timeout);
                eng.enable_cluster(None, NOW).expect("cluster on");
                let client = eng.open_client(NOW);
                Host {
                    eng,
                    client,
                    ip: format!("10.0.0.{}", i + 1),
                    port,
                }
            })
            .collect();
        Net {
            hosts,
            peer: BTreeMap::new(),
            queue: VecDeque::new(),
            now: NOW,
            down: vec![false; n],
        }
    }

    fn run(&mut self, i: usize, line: &str) -> Reply {
        let h = &mut self.hosts[i];
        let r = run_at(&mut h.eng, h.client, self.now, line);
        self.pump();
        r
    }

    fn text(&mut self, i: usize, line: &str) -> String {
        match self.run(i, line) {
            Reply::Verbatim(_, b) | Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            Reply::Status(s) => s.to_string(),
            Reply::Array(items) => items
                .into_iter()
                .map(|r| match r {
                    Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned() + "\n",
                    other => format!("{other:?}\n"),
                })
                .collect(),
            other => format!("{other:?}"),
        }
    }

    /// Moves every action and byte until nothing is left to move.
    fn pump(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            for i in 0..self.hosts.len() {
                for a in self.hosts[i].eng.cluster_bus_actions() {
                    moved = true;
                    self.act(i, a);
                }
            }
            if let Some(ev) = self.queue.pop_front() {
                moved = true;
                let now = self.now;
                match ev {
                    Event::Bytes { to, link, bytes } => {
                        self.hosts[to].eng.cluster_bus_read(link, &bytes, now)
                    }
                    Event::Closed { to, link } => self.hosts[to].eng.cluster_bus_closed(link, now),
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the network never went quiet");
    }

    fn act(&mut self, i: usize, a: BusAction) {
        let now = self.now;
        match a {
            BusAction::Connect { link, ip, port } => {
                let target = self
                    .hosts
                    .iter()
                    .position(|h| h.ip == ip && u32::from(h.port) + 10000 == u32::from(port));
                match target.filter(|&j| !self.down[j] && !self.down[i]) {
                    Some(j) => {
                        let (from_ip, to_ip) = (self.hosts[i].ip.clone(), ip.clone());
                        let theirs = self.hosts[j]
                            .eng
                            .cluster_bus_accepted(&from_ip, &to_ip, now)
                            .expect("a cluster node");
                        self.peer.insert((i, link), (j, theirs));
                        self.peer.insert((j, theirs), (i, link));
                        self.hosts[i].eng.cluster_bus_connected(link, now);
                    }
                    None => self.queue.push_back(Event::Closed { to: i, link }),
                }
            }
            BusAction::Write { link, bytes } => {
                if let Some(&(j, theirs)) = self.peer.get(&(i, link)) {
                    if !self.down[i] && !self.down[j] {
                        self.queue.push_back(Event::Bytes {
                            to: j,
                            link: theirs,
                            bytes,
                        });
                    }
                }
            }
            BusAction::Close { link } => {
                if let Some((j, theirs)) = self.peer.remove(&(i, link)) {
                    self.peer.remove(&(j, theirs));
                    self.queue.push_back(Event::Closed {
                        to: j,
                        link: theirs,
                    });
                }
            }
        }
    }

    /// Moves the clock by `ms` in steps of 100 ms, with a cron on every node at each step.
    fn advance(&mut self, ms: i64) {
        let steps = ms / 100;
        for _ in 0..steps {
            self.now += 100;
            let now = self.now;
            for h in &mut self.hosts {
                h.eng.cluster_bus_cron(now);
                h.eng.tick(now);
            }
            self.pump();
        }
    }

    fn state(&self, i: usize) -> &ClusterState {
        &self.hosts[i].eng.cluster.as_ref().expect("cluster").state
    }

    fn myid(&self, i: usize) -> String {
        self.state(i).myself.clone()
    }

    /// Every node knows every other one, out of handshake, and they agree on the slots.
    fn converged(&self) -> bool {
        let n = self.hosts.len();
        (0..n).all(|i| {
            let st = self.state(i);
            st.nodes.len() == n
                && st.nodes.iter().all(|x| x.flags & flag::HANDSHAKE == 0)
                && (0..n).all(|j| {
                    let other = self.state(j);
                    (0..bus::SLOTS as u16)
                        .step_by(97)
                        .all(|s| st.owner(s) == other.owner(s))
                })
        })
    }
}

/// Three primaries with a third of the slots each, met through the first.
fn three_primaries() -> Net {
    let mut net = Net::new(3, "1000");
    let ranges = [(0, 5460), (5461, 10922), (10923, 16383)];
    for (i, (a, b)) in ranges.iter().enumerate() {
        assert_eq!(
            net.run(i, &format!("CLUSTER ADDSLOTSRANGE {a} {b}")),
            Reply::ok()
        );
        assert_eq!(
            net.run(i, &format!("CLUSTER SET-CONFIG-EPOCH {}", i + 1)),
            Reply::ok()
        );
    }
    for j in 1..3 {
        let (ip, port) = (net.hosts[j].ip.clone(), net.hosts[j].port);
        assert_eq!(
            net.run(0, &format!("CLUSTER MEET {ip} {port}")),
            Reply::ok()
        );
    }
    net
}

#[test]
fn flags_travel_as_redis_numbers_them() {
    let all = flag::MYSELF | flag::MASTER | flag::PFAIL | flag::HANDSHAKE | flag::NOFAILOVER;
    let w = flags_to_wire(all);
    assert_eq!(
        w,
        wire::MYSELF | wire::MASTER | wire::PFAIL | wire::HANDSHAKE | wire::NOFAILOVER
    );
    assert_eq!(flags_from_wire(w), all);
    assert_eq!(
        flags_to_wire(flag::SLAVE | flag::FAIL),
        wire::SLAVE | wire::FAIL
    );
}

#[test]
fn three_primaries_meet_and_agree() {
    let mut net = three_primaries();
    for _ in 0..100 {
        if net.converged() {
            break;
        }
        net.advance(100);
    }
    assert!(net.converged(), "{}", net.text(0, "CLUSTER NODES"));
    // Every node learned its own address from a MEET or a PING.
    for i in 0..3 {
        assert_eq!(net.state(i).me().ip, net.hosts[i].ip);
    }
    net.advance(3000);
    for i in 0..3 {
        let info = net.text(i, "CLUSTER INFO");
        assert!(info.contains("cluster_state:ok"), "{info}");
        assert!(info.contains("cluster_known_nodes:3"), "{info}");
        assert!(info.contains("cluster_size:3"), "{info}");
        let nodes = net.text(i, "CLUSTER NODES");
        assert_eq!(nodes.lines().count(), 3);
        assert!(!nodes.contains("disconnected"), "{nodes}");
        for j in 0..3 {
            let line = nodes
                .lines()
                .find(|l| l.starts_with(&net.myid(j)))
                .expect("a line per node");
            let want = format!(
                "{}:{}@{}",
                net.hosts[j].ip,
                net.hosts[j].port,
                net.hosts[j].port as u32 + 10000
            );
            assert!(line.contains(&want), "{line}");
            assert!(line.contains(&format!(" {} connected", j + 1)), "{line}");
        }
    }
}

#[test]
fn a_replica_follows_its_primary_and_everyone_knows() {
    let mut net = Net::new(4, "1000");
    assert_eq!(net.run(0, "CLUSTER ADDSLOTSRANGE 0 16383"), Reply::ok());
    for j in 1..4 {
        let (ip, port) = (net.hosts[j].ip.clone(), net.hosts[j].port);
        net.run(0, &format!("CLUSTER MEET {ip} {port}"));
    }
    net.advance(2000);
    assert!(net.converged());
    let primary = net.myid(0);
    assert_eq!(
        net.run(3, &format!("CLUSTER REPLICATE {primary}")),
        Reply::ok()
    );
    net.advance(2000);
    for i in 0..4 {
        let st = net.state(i);
        let r = st.node(net.myid(3).as_bytes()).expect("known");
        assert!(r.is_replica(), "node {i} sees {}", r.flag_names());
        assert_eq!(r.master.as_deref(), Some(primary.as_str()));
    }
    let replicas = net.text(1, &format!("CLUSTER REPLICAS {primary}"));
    assert!(replicas.contains(&net.myid(3)), "{replicas}");
}

#[test]
fn a_moved_slot_spreads_with_a_new_epoch() {
    let mut net = three_primaries();
    net.advance(3000);
    assert!(net.converged());
    let (a, b) = (net.myid(0), net.myid(1));
    // Slot 100 moves from node 0 to node 1, as redis-cli's reshard closes it.
    assert_eq!(
        net.run(1, &format!("CLUSTER SETSLOT 100 IMPORTING {a}")),
        Reply::ok()
    );
    assert_eq!(
        net.run(0, &format!("CLUSTER SETSLOT 100 MIGRATING {b}")),
        Reply::ok()
    );
    assert_eq!(
        net.run(1, &format!("CLUSTER SETSLOT 100 NODE {b}")),
        Reply::ok()
    );
    assert_eq!(
        net.run(0, &format!("CLUSTER SETSLOT 100 NODE {b}")),
        Reply::ok()
    );
    net.advance(500);
    for i in 0..3 {
        assert_eq!(net.state(i).owner(100), Some(b.as_str()), "node {i}");
        assert_eq!(net.state(i).owner(99), Some(a.as_str()), "node {i}");
    }
    let epoch = net.state(1).me().config_epoch;
    assert!(epoch > 3, "a new epoch after the import: {epoch}");
    assert_eq!(net.state(2).node(b.as_bytes()).unwrap().config_epoch, epoch);
}

#[test]
fn a_stale_owner_is_told_with_an_update() {
    let mut net = three_primaries();
    net.advance(3000);
    assert!(net.converged());
    let b = net.myid(1);
    // Node 2 takes slot 0 with a newer epoch while node 0 still claims it.
    net.down[0] = true;
    net.run(2, "CLUSTER BUMPEPOCH");
    {
        let st = &mut net.hosts[2].eng.cluster.as_mut().unwrap().state;
        let me = st.myself.clone();
        st.del_slot(0);
        st.add_slot(0, &me);
    }
    net.advance(1500);
    net.down[0] = false;
    net.advance(4000);
    let c = net.myid(2);
    for i in 0..3 {
        assert_eq!(net.state(i).owner(0), Some(c.as_str()), "node {i}");
        assert_eq!(net.state(i).owner(6000), Some(b.as_str()), "node {i}");
    }
}

#[test]
fn a_silent_node_is_flagged_failing_then_failed() {
    let mut net = three_primaries();
    net.advance(3000);
    assert!(net.converged());
    let gone = net.myid(2);
    net.down[2] = true;
    for i in 0..2 {
        let links: Vec<(usize, LinkId)> =
            net.peer.keys().filter(|(h, _)| *h == 2).copied().collect();
        for (h, l) in links {
            net.act(h, BusAction::Close { link: l });
        }
        let _ = i;
    }
    net.pump();
    net.advance(5000);
    for i in 0..2 {
        let n = net.state(i).node(gone.as_bytes()).expect("still known");
        assert!(n.failed(), "node {i} sees {}", n.flag_names());
        let info = net.text(i, "CLUSTER INFO");
        assert!(info.contains("cluster_state:fail"), "{info}");
    }
    // It comes back: a primary with slots stays FAIL until nobody took its slots for a while.
    net.down[2] = false;
    net.advance(5000);
    for i in 0..2 {
        let n = net.state(i).node(gone.as_bytes()).expect("known");
        assert!(!n.failed(), "node {i} sees {}", n.flag_names());
    }
}

#[test]
fn publish_reaches_subscribers_on_other_nodes() {
    let mut net = three_primaries();
    net.advance(3000);
    let sub = net.hosts[2].client;
    let now = net.now;
    run_at(&mut net.hosts[2].eng, sub, now, "SUBSCRIBE news");
    net.run(0, "PUBLISH news hello");
    let outbox = net.hosts[2]
        .eng
        .client_mut(sub)
        .map(|c| std::mem::take(&mut c.outbox))
        .unwrap_or_default();
    let hello = Reply::Push(vec![
        Reply::bulk("message"),
        Reply::bulk("news"),
        Reply::bulk("hello"),
    ]);
    assert!(outbox.contains(&hello), "{outbox:?}");
}

#[test]
fn garbage_on_a_link_closes_it() {
    let mut net = Net::new(1, "1000");
    let link = net.hosts[0]
        .eng
        .cluster_bus_accepted("10.9.9.9", "10.0.0.1", NOW)
        .unwrap();
    net.hosts[0]
        .eng
        .cluster_bus_read(link, b"GET / HTTP/1.1\r\n\r\n", NOW);
    assert_eq!(
        net.hosts[0].eng.cluster_bus_actions(),
        vec![BusAction::Close { link }]
    );
    // A closed link is gone: more bytes are ignored.
    net.hosts[0].eng.cluster_bus_read(link, b"RCmb", NOW);
    assert!(net.hosts[0].eng.cluster_bus_actions().is_empty());
}
