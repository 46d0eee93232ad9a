//! Failover on the fake network: a primary stops answering, the cluster agrees it failed, its
//! replica is elected and takes its slots; CLUSTER FAILOVER hands a shard over on request.

use super::*;

/// Three primaries (0, 1, 2: a third of the slots each) and a replica of each (3 of 0, 4 of
/// 1, 5 of 2), converged.
fn three_shards() -> Net {
    let mut net = Net::new(6, "1000");
    let ranges = [(0, 5460), (5461, 10922), (10923, 16383)];
    for (i, (a, b)) in ranges.iter().enumerate() {
        let add = format!("CLUSTER ADDSLOTSRANGE {a} {b}");
        assert_eq!(net.run(i, &add), Reply::ok());
        let epoch = format!("CLUSTER SET-CONFIG-EPOCH {}", i + 1);
        assert_eq!(net.run(i, &epoch), Reply::ok());
    }
    for j in 1..6 {
        let (ip, port) = (net.hosts[j].ip.clone(), net.hosts[j].port);
        assert_eq!(
            net.run(0, &format!("CLUSTER MEET {ip} {port}")),
            Reply::ok()
        );
    }
    net.advance(2000);
    assert!(net.converged(), "{}", net.text(0, "CLUSTER NODES"));
    for r in 3..6 {
        let primary = net.myid(r - 3);
        let line = format!("CLUSTER REPLICATE {primary}");
        assert_eq!(net.run(r, &line), Reply::ok());
    }
    net.advance(3000);
    for i in 0..6 {
        let info = net.text(i, "CLUSTER INFO");
        assert!(info.contains("cluster_state:ok"), "node {i}: {info}");
    }
    net
}

/// Cuts a host off the network: its links close, its connections fail.
fn cut(net: &mut Net, host: usize) {
    net.down[host] = true;
    let links: Vec<(usize, LinkId)> = net
        .peer
        .keys()
        .filter(|(h, _)| *h == host)
        .copied()
        .collect();
    for (h, l) in links {
        net.act(h, BusAction::Close { link: l });
    }
    net.pump();
}

fn role(net: &mut Net, i: usize) -> String {
    match net.run(i, "ROLE") {
        Reply::Array(items) => match items.first() {
            Some(Reply::Bulk(b)) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        },
        other => format!("{other:?}"),
    }
}

#[test]
fn a_failed_primary_is_replaced_by_its_replica() {
    let mut net = three_shards();
    let (old, replica) = (net.myid(0), net.myid(3));
    cut(&mut net, 0);
    // PFAIL after the node timeout, FAIL once two primaries of three agree.
    let mut failed_at = None;
    for step in 0..40 {
        net.advance(100);
        if net.state(1).node(old.as_bytes()).is_some_and(Node::failed) {
            failed_at = Some(step);
            break;
        }
    }
    assert!(failed_at.is_some(), "{}", net.text(1, "CLUSTER NODES"));
    let nodes = net.text(2, "CLUSTER NODES");
    let line = nodes.lines().find(|l| l.starts_with(&old)).unwrap();
    assert!(line.contains(" master,fail "), "{line}");
    let info = net.text(1, "CLUSTER INFO");
    assert!(info.contains("cluster_state:fail"), "{info}");
    // The replica waits its delay (at most a second at rank 0), is elected, and serves.
    net.advance(3000);
    let st = net.state(3);
    assert!(st.me().is_master(), "{}", net.text(3, "CLUSTER NODES"));
    assert_eq!(st.owner(0), Some(replica.as_str()));
    assert_eq!(st.owner(5460), Some(replica.as_str()));
    let epoch = st.me().config_epoch;
    assert_eq!(role(&mut net, 3), "master");
    assert!(epoch > 3, "the election's epoch: {epoch}");
    net.advance(3000);
    for i in 1..6 {
        let info = net.text(i, "CLUSTER INFO");
        assert!(info.contains("cluster_state:ok"), "node {i}: {info}");
        assert!(
            info.contains(&format!("cluster_current_epoch:{epoch}")),
            "{info}"
        );
        let st = net.state(i);
        assert_eq!(st.owner(100), Some(replica.as_str()), "node {i}");
        let n = st.node(replica.as_bytes()).unwrap();
        assert!(n.is_master(), "node {i} sees {}", n.flag_names());
    }
    let info = net.text(1, "CLUSTER INFO");
    assert!(
        info.contains("cluster_stats_messages_auth-ack_sent:1"),
        "{info}"
    );
    assert!(info.contains("cluster_stats_messages_fail_"), "{info}");
    let info = net.text(3, "CLUSTER INFO");
    assert!(
        info.contains("cluster_stats_messages_auth-req_sent:"),
        "{info}"
    );
    assert!(
        info.contains("cluster_stats_messages_auth-ack_received:2"),
        "{info}"
    );
    // The old primary comes back: it learns it lost its slots and follows the new one.
    net.down[0] = false;
    net.advance(5000);
    let st = net.state(0);
    assert!(st.me().is_replica(), "{}", net.text(0, "CLUSTER NODES"));
    assert_eq!(st.me().master.as_deref(), Some(replica.as_str()));
    assert_eq!(role(&mut net, 0), "slave");
    for i in 0..6 {
        let n = net.state(i).node(old.as_bytes()).unwrap();
        assert!(!n.failed(), "node {i} sees {}", n.flag_names());
        assert!(n.is_replica(), "node {i} sees {}", n.flag_names());
    }
}

#[test]
fn cluster_failover_hands_the_shard_over() {
    let mut net = three_shards();
    let (old, replica) = (net.myid(1), net.myid(4));
    assert_eq!(
        net.run(1, "CLUSTER FAILOVER"),
        Reply::Error("ERR You should send CLUSTER FAILOVER to a replica".into())
    );
    assert_eq!(net.run(4, "CLUSTER FAILOVER"), Reply::ok());
    // MFSTART, the paused primary's offset, the forced election: all within a few crons.
    net.advance(1000);
    let st = net.state(4);
    assert!(st.me().is_master(), "{}", net.text(4, "CLUSTER NODES"));
    assert_eq!(st.owner(6000), Some(replica.as_str()));
    net.advance(2000);
    let st = net.state(1);
    assert!(st.me().is_replica(), "{}", net.text(1, "CLUSTER NODES"));
    assert_eq!(st.me().master.as_deref(), Some(replica.as_str()));
    assert!(net.hosts[1].eng.pause.is_none(), "the pause ended");
    for i in 0..6 {
        let info = net.text(i, "CLUSTER INFO");
        assert!(info.contains("cluster_state:ok"), "node {i}: {info}");
        let st = net.state(i);
        assert_eq!(st.owner(6000), Some(replica.as_str()), "node {i}");
        let n = st.node(old.as_bytes()).unwrap();
        assert!(n.is_replica(), "node {i} sees {}", n.flag_names());
    }
    let info = net.text(4, "CLUSTER INFO");
    assert!(
        info.contains("cluster_stats_messages_mfstart_sent:1"),
        "{info}"
    );
}

#[test]
fn takeover_needs_no_vote() {
    let mut net = three_shards();
    let replica = net.myid(5);
    // Even with every other primary gone, TAKEOVER goes ahead.
    cut(&mut net, 0);
    cut(&mut net, 1);
    assert_eq!(net.run(5, "CLUSTER FAILOVER TAKEOVER"), Reply::ok());
    let st = net.state(5);
    assert!(st.me().is_master());
    assert_eq!(st.owner(16383), Some(replica.as_str()));
    net.advance(1000);
    let st = net.state(2);
    assert!(st.me().is_replica(), "{}", net.text(2, "CLUSTER NODES"));
}

#[test]
fn failure_reports_are_counted() {
    let mut net = three_shards();
    let gone = net.myid(2);
    cut(&mut net, 2);
    net.advance(1600);
    // Node 0 sees 2 as PFAIL, and node 1 reported it too (or it already is FAIL).
    let nodes = net.text(0, "CLUSTER NODES");
    let line = nodes.lines().find(|l| l.starts_with(&gone)).unwrap();
    assert!(
        line.contains("master,fail?") || line.contains("master,fail "),
        "{line}"
    );
    let n = net.run(3, &format!("CLUSTER COUNT-FAILURE-REPORTS {gone}"));
    assert!(matches!(n, Reply::Integer(1..=2)), "{n:?}");
}

#[test]
fn a_spare_replica_moves_to_an_orphaned_primary() {
    // Two primaries: 0 with replicas 2 and 3, 1 with replica 4.
    let mut net = Net::new(5, "1000");
    assert_eq!(net.run(0, "CLUSTER ADDSLOTSRANGE 0 8191"), Reply::ok());
    assert_eq!(net.run(1, "CLUSTER ADDSLOTSRANGE 8192 16383"), Reply::ok());
    assert_eq!(net.run(1, "CLUSTER SET-CONFIG-EPOCH 1"), Reply::ok());
    for j in 1..5 {
        let (ip, port) = (net.hosts[j].ip.clone(), net.hosts[j].port);
        net.run(0, &format!("CLUSTER MEET {ip} {port}"));
    }
    net.advance(2000);
    assert!(net.converged());
    for (r, p) in [(2, 0), (3, 0), (4, 1)] {
        let primary = net.myid(p);
        assert_eq!(
            net.run(r, &format!("CLUSTER REPLICATE {primary}")),
            Reply::ok()
        );
    }
    net.advance(3000);
    let lone = net.myid(1);
    cut(&mut net, 4);
    // Replica 4 fails; primary 1 is orphaned; after five seconds the replica of 0 with the
    // smaller ID moves over, the other stays.
    net.advance(10_000);
    let (a, b) = (net.myid(2), net.myid(3));
    let (mover, stayer) = if a < b { (2, 3) } else { (3, 2) };
    let now_of_mover = net.state(mover).me().master.clone();
    assert_eq!(
        now_of_mover.as_deref(),
        Some(lone.as_str()),
        "{}",
        net.text(mover, "CLUSTER NODES")
    );
    assert_eq!(
        net.state(stayer).me().master.as_deref(),
        Some(net.myid(0).as_str())
    );
    net.advance(2000);
    let replicas = net.text(0, &format!("CLUSTER REPLICAS {lone}"));
    assert!(replicas.contains(&net.myid(mover)), "{replicas}");
}
