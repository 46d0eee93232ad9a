//! The cluster bus codec against a real redis-server 7.0 in cluster mode: this test plays two
//! made-up cluster nodes with nothing but `cluster::bus` (a TCP listener and the codec). The
//! real node is told to MEET them, connects to our bus port, and we decode what it sends,
//! answer with PONGs we encode, and watch it list our nodes as connected. Then we claim one of
//! its slots with a stale epoch (it answers with an UPDATE), send FAILs and an UPDATE of our
//! own and watch its reaction, make one of our nodes its replica (PUBLISH both ways, SPUBLISH
//! to the shard, a vote for a forced failover, MFSTART's paused PING), and finally re-encode
//! every message it sent and compare the bytes. Skipped without redis-server unless
//! REQUIRE_REDIS is set.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{argv, redis_server_path, scratch_dir, Conn, KillOnDrop};
use redis_playground::cluster::bus::{
    flags, mflags, node_name, until_nul, Body, Framer, Gossip, Header, Msg, MsgType, NodeName,
    PingExt, SlotBitmap, NULL_NAME,
};

/// Ports this test may give the real node (its bus is on port + 10000).
const PORTS: [u16; 10] = [7231, 7232, 7233, 7234, 7235, 7236, 7237, 7238, 7239, 7203];

const ID_A: &[u8; 40] = b"aaaa0000000000000000000000000000000000a1";
const ID_B: &[u8; 40] = b"bbbb0000000000000000000000000000000000b2";
const ID_C: &[u8; 40] = b"cccc0000000000000000000000000000000000c3";
const ID_GHOST: &[u8; 40] = b"dddd0000000000000000000000000000000000d4";

fn call(c: &mut Conn, words: &[&str]) -> String {
    let reply = c.call(&argv(words)).expect("reply");
    String::from_utf8_lossy(&reply).into_owned()
}

/// Polls `check` every 20 ms until it holds or `secs` pass; false on time out.
fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The CLUSTER NODES line of node `id`, split into its fields.
fn node_line(c: &mut Conn, id: &[u8]) -> Option<Vec<String>> {
    let nodes = call(c, &["CLUSTER", "NODES"]);
    let id = String::from_utf8_lossy(id).into_owned();
    nodes
        .lines()
        .find(|l| l.starts_with(&id))
        .map(|l| l.split(' ').map(str::to_string).collect())
}

fn info_field(c: &mut Conn, field: &str) -> Option<String> {
    let text = call(c, &["CLUSTER", "INFO"]);
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// Every frame a link received: its bytes and its decoding.
type Received = Arc<Mutex<Vec<(Vec<u8>, Msg)>>>;

/// One of our made-up nodes on one bus link the real node opened to us: it records every
/// frame received (bytes and decoded message) and answers PING and MEET with a PONG from its
/// current header, unless muted. `send` queues other messages.
struct Link {
    header: Arc<Mutex<Header>>,
    hostname: &'static [u8],
    received: Received,
    muted: Arc<AtomicBool>,
    out: Sender<Vec<u8>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Link {
    fn start(stream: TcpStream, header: Header, hostname: &'static [u8]) -> Link {
        let header = Arc::new(Mutex::new(header));
        let received = Arc::new(Mutex::new(Vec::new()));
        let muted = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (out, rx) = channel();
        let thread = {
            let (header, received, muted, stop) = (
                header.clone(),
                received.clone(),
                muted.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                serve_link(stream, header, hostname, received, muted, stop, rx)
            })
        };
        Link {
            header,
            hostname,
            received,
            muted,
            out,
            stop,
            thread: Some(thread),
        }
    }

    /// A PONG (or PING, MEET) from this node's current header.
    fn gossip_msg(&self, kind: MsgType, edit: impl FnOnce(&mut Header)) -> Vec<u8> {
        let mut h = self.header.lock().unwrap().clone();
        edit(&mut h);
        gossip_msg(h, kind, self.hostname)
    }

    fn send(&self, msg: Vec<u8>) {
        self.out.send(msg).expect("link thread alive");
    }

    fn count(&self, kind: MsgType) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m.msg_type() == Some(kind))
            .count()
    }

    fn find(&self, pred: impl Fn(&Msg) -> bool) -> Option<(Vec<u8>, Msg)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, m)| pred(m))
            .cloned()
    }

    fn finish(mut self) -> Vec<(Vec<u8>, Msg)> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let r = t.join().expect("link thread");
            assert_eq!(r, Ok(()), "link thread");
        }
        let got = self.received.lock().unwrap().clone();
        got
    }
}

fn gossip_msg(h: Header, kind: MsgType, hostname: &[u8]) -> Vec<u8> {
    let g = Gossip {
        entries: Vec::new(),
        exts: vec![PingExt::hostname(hostname)],
    };
    let body = match kind {
        MsgType::Ping => Body::Ping(g),
        MsgType::Meet => Body::Meet(g),
        _ => Body::Pong(g),
    };
    Msg::new(h, body).encode()
}

fn serve_link(
    mut stream: TcpStream,
    header: Arc<Mutex<Header>>,
    hostname: &[u8],
    received: Received,
    muted: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    outgoing: Receiver<Vec<u8>>,
) -> Result<(), String> {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| e.to_string())?;
    let mut framer = Framer::new();
    let mut buf = [0u8; 8192];
    while !stop.load(Ordering::SeqCst) {
        while let Ok(bytes) = outgoing.try_recv() {
            stream.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        match stream.read(&mut buf) {
            Ok(0) => return Err("the real node closed the bus link".into()),
            Ok(n) => framer.push(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
        while let Some(frame) = framer.next_frame().map_err(|e| e.to_string())? {
            let msg = Msg::decode(&frame).map_err(|e| format!("decode: {e}"))?;
            let kind = msg.msg_type();
            received.lock().unwrap().push((frame, msg));
            let answer = matches!(kind, Some(MsgType::Ping | MsgType::Meet));
            if answer && !muted.load(Ordering::SeqCst) {
                let h = header.lock().unwrap().clone();
                let pong = gossip_msg(h, MsgType::Pong, hostname);
                stream.write_all(&pong).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// A redis-server in cluster mode on a port whose bus port (+10000) is free too, preferably
/// one of [`PORTS`].
fn start_cluster_node(dir: &std::path::Path) -> Option<(KillOnDrop, u16)> {
    let bin = redis_server_path()?;
    // The usual ports first, then ports the OS finds free that leave room for the bus port.
    let others = (0..20).filter_map(|_| {
        let p = common::free_port();
        (p <= u16::MAX - 10000).then_some(p)
    });
    for port in PORTS.into_iter().chain(others) {
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if !free(port) || !free(port + 10000) {
            continue;
        }
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
            // Pings every second or so, so the test sees PINGs as well as MEET and PONG.
            .args(["--cluster-node-timeout", "2000"])
            .args(["--cluster-announce-hostname", "real-node.test"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut child = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(child.0.try_wait(), Ok(None)) {
                break; // lost a race for the port: try the next one
            }
            if let Ok(mut c) = Conn::connect(port) {
                if let Ok(r) = c.call(&argv(&["PING"])) {
                    if r == b"+PONG\r\n" {
                        return Some((child, port));
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    None
}

fn accept_within(listener: &TcpListener, secs: u64) -> TcpStream {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking");
                s.set_nodelay(true).ok();
                return s;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the real node did not connect to our bus port"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn our_header(id: &[u8; 40], port: u16, cport: u16) -> Header {
    let mut h = Header::new(*id);
    h.port = port;
    h.cport = cport;
    h.flags = flags::MASTER;
    h.current_epoch = 5;
    h
}

#[test]
fn bus_messages_interoperate_with_redis_server() {
    if redis_server_path().is_none() {
        assert!(
            std::env::var_os("REQUIRE_REDIS").is_none(),
            "REQUIRE_REDIS is set but no redis-server is installed"
        );
        return;
    }
    let dir = scratch_dir("cluster-bus");
    let (_server, port) = start_cluster_node(&dir).expect("a free port pair for redis-server");
    let mut c = Conn::connect(port).expect("connect");
    let myid = call(&mut c, &["CLUSTER", "MYID"]);
    let myid: NodeName = node_name(myid.split("\r\n").nth(1).expect("bulk reply").as_bytes());
    assert_eq!(
        call(&mut c, &["CLUSTER", "ADDSLOTSRANGE", "0", "99"]),
        "+OK\r\n"
    );
    assert_eq!(
        call(&mut c, &["CLUSTER", "SET-CONFIG-EPOCH", "5"]),
        "+OK\r\n"
    );

    let listener = TcpListener::bind("127.0.0.1:0").expect("bus listener");
    let cport = listener.local_addr().expect("addr").port();
    // Client ports are only announced: the real node never connects to them.
    let (port_a, port_b) = (port + 1, port + 2);

    // Node A: MEET, the MEET it sends us, our PONG, and it lists A as connected.
    let meet = format!("CLUSTER MEET 127.0.0.1 {port_a} {cport}");
    let meet: Vec<&str> = meet.split(' ').collect();
    assert_eq!(call(&mut c, &meet), "+OK\r\n");
    let a = Link::start(
        accept_within(&listener, 10),
        our_header(ID_A, port_a, cport),
        b"node-a.test",
    );
    assert!(eventually(10, || a.count(MsgType::Meet) > 0), "no MEET");
    let (_, m) = a.find(|m| m.msg_type() == Some(MsgType::Meet)).unwrap();
    let h = &m.header;
    assert_eq!(h.sender, myid, "the sender is the node's CLUSTER MYID");
    assert_eq!(h.port, port);
    assert_eq!(h.cport, port + 10000);
    assert_eq!(h.pport, 0);
    assert_eq!(h.myslots.ranges(), vec![(0, 99)]);
    assert_eq!((h.current_epoch, h.config_epoch), (5, 5));
    assert_eq!(h.flags, flags::MASTER | flags::MYSELF);
    assert_eq!(h.slaveof, NULL_NAME);
    assert_eq!(until_nul(&h.myip), b"", "no announced IP");
    assert_eq!(h.state, 1, "not every slot is covered: the cluster is down");
    assert_eq!(h.mflags, [mflags::EXT_DATA, 0, 0]);
    let g = m.body.gossip().unwrap();
    assert_eq!(g.entries.len(), 0, "nobody else to gossip about yet");
    assert_eq!(g.hostname(), Some(&b"real-node.test"[..]));

    let connected = |c: &mut Conn, id: &[u8]| {
        node_line(c, id)
            .is_some_and(|f| f.len() >= 8 && f[7] == "connected" && !f[2].contains("handshake"))
    };
    assert!(
        eventually(10, || connected(&mut c, ID_A)),
        "A not connected: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );
    // The handshake's PONG comes from a node not yet known by its id, so its extensions wait
    // for the next one (a PONG to the node's next PING, or this one).
    a.send(a.gossip_msg(MsgType::Pong, |_| {}));
    let addr = format!("127.0.0.1:{port_a}@{cport},node-a.test");
    assert!(
        eventually(10, || node_line(&mut c, ID_A)
            .is_some_and(|f| f[1] == addr && f[2] == "master")),
        "A's hostname not shown: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );

    // Node B, so that the real node has someone to gossip about.
    let meet = format!("CLUSTER MEET 127.0.0.1 {port_b} {cport}");
    let meet: Vec<&str> = meet.split(' ').collect();
    assert_eq!(call(&mut c, &meet), "+OK\r\n");
    let b = Link::start(
        accept_within(&listener, 10),
        our_header(ID_B, port_b, cport),
        b"node-b.test",
    );
    assert!(
        eventually(10, || connected(&mut c, ID_B)),
        "B not connected"
    );

    // Node C joins the other way, as a node told CLUSTER MEET does: it connects to the real
    // node's bus port and sends MEET; the real node answers PONG on that link, then connects
    // to C's bus port with a PING of its own, which C answers.
    let port_c = port + 3;
    let out = TcpStream::connect(("127.0.0.1", port + 10000)).expect("the real node's bus port");
    let c_out = Link::start(out, our_header(ID_C, port_c, cport), b"node-c.test");
    c_out.send(c_out.gossip_msg(MsgType::Meet, |_| {}));
    assert!(
        eventually(10, || c_out.count(MsgType::Pong) > 0),
        "no PONG to our MEET"
    );
    let (_, pong) = c_out.find(|m| m.msg_type() == Some(MsgType::Pong)).unwrap();
    assert_eq!(pong.header.sender, myid);
    let c_in = Link::start(
        accept_within(&listener, 10),
        our_header(ID_C, port_c, cport),
        b"node-c.test",
    );
    assert!(
        eventually(10, || c_in.count(MsgType::Ping) > 0),
        "no PING back"
    );
    assert!(
        eventually(10, || connected(&mut c, ID_C)),
        "C not connected: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );

    // Its PINGs, and gossip entries about our nodes.
    let gossiped = |m: &Msg| {
        m.body
            .gossip()
            .is_some_and(|g| !g.entries.is_empty() && m.msg_type() != Some(MsgType::Meet))
    };
    assert!(
        eventually(15, || a.count(MsgType::Ping) > 0
            && (a.find(gossiped).is_some() || b.find(gossiped).is_some())),
        "no PING or no gossip"
    );
    let (_, m) = a.find(gossiped).or_else(|| b.find(gossiped)).unwrap();
    let e = &m.body.gossip().unwrap().entries[0];
    assert!([ID_A, ID_B, ID_C].contains(&&e.nodename), "{e:?}");
    assert_eq!(until_nul(&e.ip), b"127.0.0.1");
    assert_eq!(e.cport, cport);
    assert!([port_a, port_b, port_c].contains(&e.port));
    assert_eq!(e.flags & flags::MASTER, flags::MASTER);

    // A PING from A claiming slot 0 with config epoch 1: the node owns it with epoch 5 and
    // answers with an UPDATE about itself.
    a.send(a.gossip_msg(MsgType::Ping, |h| {
        h.myslots.insert(0);
        h.config_epoch = 1;
    }));
    assert!(eventually(10, || a.count(MsgType::Update) > 0), "no UPDATE");
    let (_, m) = a.find(|m| m.msg_type() == Some(MsgType::Update)).unwrap();
    match &m.body {
        Body::Update {
            config_epoch,
            node,
            slots,
        } => {
            assert_eq!(*config_epoch, 5);
            assert_eq!(*node, myid);
            assert_eq!(slots.ranges(), vec![(0, 99)]);
        }
        other => panic!("{other:?}"),
    }

    // FAIL about a node nobody knows: counted, ignored, the link stays.
    let fail = |about: &[u8; 40]| {
        let h = a.header.lock().unwrap().clone();
        Msg::new(h, Body::Fail { about: *about }).encode()
    };
    a.send(fail(ID_GHOST));
    assert!(eventually(10, || {
        info_field(&mut c, "cluster_stats_messages_fail_received").as_deref() == Some("1")
    }));
    assert!(connected(&mut c, ID_A));
    // FAIL about B, muted: B is flagged fail; once B answers again, the flag clears (a
    // primary without slots).
    b.muted.store(true, Ordering::SeqCst);
    a.send(fail(ID_B));
    assert!(
        eventually(10, || node_line(&mut c, ID_B)
            .is_some_and(|f| f[2] == "master,fail")),
        "B not failed: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );
    // An unasked PONG on the link the node opened counts as the answer it waits for.
    b.muted.store(false, Ordering::SeqCst);
    b.send(b.gossip_msg(MsgType::Pong, |_| {}));
    assert!(
        eventually(10, || node_line(&mut c, ID_B)
            .is_some_and(|f| f[2] == "master")),
        "B still failed: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );

    // An UPDATE from A giving A slots 200-299 with config epoch 10: the node takes it.
    let mut slots = SlotBitmap::new();
    slots.insert_range(200, 299);
    {
        let mut h = a.header.lock().unwrap();
        h.myslots = slots.clone();
        h.config_epoch = 10;
    }
    let h = a.header.lock().unwrap().clone();
    a.send(
        Msg::new(
            h,
            Body::Update {
                config_epoch: 10,
                node: *ID_A,
                slots,
            },
        )
        .encode(),
    );
    assert!(
        eventually(10, || node_line(&mut c, ID_A)
            .is_some_and(|f| f.len() == 9 && f[6] == "10" && f[8] == "200-299")),
        "UPDATE not applied: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );
    assert!(connected(&mut c, ID_A) && connected(&mut c, ID_B));

    // B turns replica of the real node: its PONG names it as primary, with the primary's slots
    // and config epoch, as a replica's header does.
    {
        let mut h = b.header.lock().unwrap();
        h.slaveof = myid;
        h.flags = flags::SLAVE;
        h.myslots.insert_range(0, 99);
        h.config_epoch = 5;
    }
    b.send(b.gossip_msg(MsgType::Pong, |_| {}));
    let primary = String::from_utf8_lossy(&myid).into_owned();
    assert!(
        eventually(10, || node_line(&mut c, ID_B)
            .is_some_and(|f| f[2] == "slave" && f[3] == primary)),
        "B not a replica: {}",
        call(&mut c, &["CLUSTER", "NODES"])
    );

    // PUBLISH both ways: ours reaches its subscriber; its own goes to every node.
    let mut sub = Conn::connect(port).expect("subscriber");
    sub.call(&argv(&["SUBSCRIBE", "news"])).expect("subscribed");
    let publish = |link: &Link, channel: &[u8], message: &[u8]| {
        let h = link.header.lock().unwrap().clone();
        let body = Body::Publish {
            channel: channel.to_vec(),
            message: message.to_vec(),
        };
        link.send(Msg::new(h, body).encode());
    };
    publish(&a, b"news", b"from-a");
    assert_eq!(
        sub.read_reply().expect("the message"),
        b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$6\r\nfrom-a\r\n"
    );
    assert_eq!(call(&mut c, &["PUBLISH", "news", "hello"]), ":1\r\n");
    let is_publish = |m: &Msg| {
        matches!(&m.body, Body::Publish { channel, message }
            if channel == b"news" && message == b"hello")
    };
    assert!(
        eventually(10, || a.find(is_publish).is_some()
            && b.find(is_publish).is_some()),
        "PUBLISH not propagated to both"
    );
    // SPUBLISH on a channel of its slots goes to its shard only: B.
    let channel = (0..1000)
        .map(|i| format!("ch{i}"))
        .find(|ch| {
            let slot = call(&mut c, &["CLUSTER", "KEYSLOT", ch]);
            slot.trim_start_matches(':')
                .trim()
                .parse::<u16>()
                .unwrap_or(u16::MAX)
                < 100
        })
        .expect("a channel in slots 0-99");
    assert_eq!(call(&mut c, &["SPUBLISH", &channel, "sharded"]), ":0\r\n");
    let is_shard = |m: &Msg| {
        matches!(&m.body, Body::PublishShard { channel: ch, message }
            if ch == channel.as_bytes() && message == b"sharded")
    };
    assert!(
        eventually(10, || b.find(is_shard).is_some()),
        "no PUBLISHSHARD"
    );
    assert!(a.find(is_shard).is_none(), "A is not in the shard");

    // A forced FAILOVER_AUTH_REQUEST from B in epoch 6: the primary votes (ACK).
    let mut h = b.header.lock().unwrap().clone();
    h.current_epoch = 6;
    h.mflags[0] |= mflags::FORCEACK;
    b.send(Msg::new(h, Body::FailoverAuthRequest).encode());
    assert!(
        eventually(10, || b.count(MsgType::FailoverAuthAck) > 0),
        "no vote"
    );
    let (_, ack) = b
        .find(|m| m.msg_type() == Some(MsgType::FailoverAuthAck))
        .unwrap();
    assert_eq!((ack.header.sender, ack.header.current_epoch), (myid, 6));
    assert_eq!(
        info_field(&mut c, "cluster_stats_messages_auth-req_received").as_deref(),
        Some("1")
    );

    // MFSTART from B: the primary pauses for a manual failover and pings B with PAUSED.
    let h = b.header.lock().unwrap().clone();
    b.send(Msg::new(h, Body::MfStart).encode());
    let paused =
        |m: &Msg| m.msg_type() == Some(MsgType::Ping) && m.header.mflags[0] & mflags::PAUSED != 0;
    assert!(
        eventually(10, || b.find(paused).is_some()),
        "no paused PING"
    );

    // Every message the real node sent re-encodes to the very same bytes.
    let mut seen = std::collections::BTreeMap::new();
    let links = [a, b, c_out, c_in];
    for (frame, msg) in links.into_iter().flat_map(Link::finish) {
        assert_eq!(msg.encode(), frame, "round trip of {msg:?}");
        *seen.entry(msg.body.code()).or_insert(0) += 1;
    }
    eprintln!("messages from redis-server re-encoded byte for byte, by type code: {seen:?}");
    for kind in [
        MsgType::Meet,
        MsgType::Ping,
        MsgType::Pong,
        MsgType::Update,
        MsgType::Publish,
        MsgType::PublishShard,
        MsgType::FailoverAuthAck,
    ] {
        assert!(seen.contains_key(&kind.code()), "no {kind:?} in {seen:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
