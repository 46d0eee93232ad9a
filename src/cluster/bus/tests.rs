//! Unit tests of the bus codec: the layout at the offsets Redis's static asserts name, each
//! type's round trip, and every refusal.

use super::*;

fn name(c: u8) -> NodeName {
    [c; NAME_LEN]
}

fn header() -> Header {
    let mut h = Header::new(name(b'a'));
    h.port = 0x1a2b;
    h.current_epoch = 0x0102_0304_0506_0708;
    h.config_epoch = 0x1112_1314_1516_1718;
    h.offset = 0x2122_2324_2526_2728;
    h.myslots.insert(0);
    h.myslots.insert(9);
    h.myslots.insert(16383);
    h.slaveof = name(b'b');
    h.myip = ip_field(b"10.0.0.1");
    h.pport = 0x3a3b;
    h.cport = 0x4a4b;
    h.flags = flags::MASTER | flags::MYSELF;
    h.state = 1;
    h.mflags = [mflags::PAUSED, 0, 0];
    h
}

fn entry(c: u8) -> GossipEntry {
    GossipEntry {
        nodename: name(c),
        ping_sent: 0x0a0b_0c0d,
        pong_received: 0x1a1b_1c1d,
        ip: ip_field(b"127.0.0.1"),
        port: 7000,
        cport: 17000,
        flags: flags::SLAVE,
        pport: 0,
        notused: 0,
    }
}

fn round_trip(msg: &Msg) -> Vec<u8> {
    let bytes = msg.encode();
    assert_eq!(Msg::decode(&bytes).as_ref(), Ok(msg), "decode(encode(m))");
    assert_eq!(Msg::decode(&bytes).map(|m| m.encode()), Ok(bytes.clone()));
    bytes
}

#[test]
fn header_fields_sit_where_redis_puts_them() {
    let msg = Msg::new(header(), Body::FailoverAuthAck);
    let b = round_trip(&msg);
    assert_eq!(b.len(), HEADER_LEN);
    assert_eq!(&b[0..4], b"RCmb");
    assert_eq!(&b[4..8], &(HEADER_LEN as u32).to_be_bytes());
    assert_eq!(&b[8..10], &[0, 1]);
    assert_eq!(&b[10..12], &[0x1a, 0x2b]);
    assert_eq!(&b[12..14], &[0, 6]);
    assert_eq!(&b[14..16], &[0, 0]);
    assert_eq!(&b[16..24], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(b[24], 0x11);
    assert_eq!(b[32], 0x21);
    assert_eq!(&b[40..80], &name(b'a'));
    // Slot s is bit s % 8 of byte s / 8 of the bitmap at 80.
    assert_eq!(b[80], 0b0000_0001);
    assert_eq!(b[81], 0b0000_0010);
    assert_eq!(b[80 + 2047], 0b1000_0000);
    assert_eq!(&b[2128..2168], &name(b'b'));
    assert_eq!(&b[2168..2176], b"10.0.0.1");
    assert!(b[2176..2214].iter().all(|&x| x == 0));
    assert_eq!(&b[2246..2248], &[0x3a, 0x3b]);
    assert_eq!(&b[2248..2250], &[0x4a, 0x4b]);
    assert_eq!(&b[2250..2252], &[0, 17]);
    assert_eq!(b[2252], 1);
    assert_eq!(&b[2253..2256], &[1, 0, 0]);
}

#[test]
fn body_sizes_match_the_c_structs() {
    assert_eq!(GOSSIP_LEN, 40 + 4 + 4 + IP_LEN + 5 * 2);
    assert_eq!(UPDATE_LEN, 2096);
    let h = header();
    let len = |body: Body| Msg::new(h.clone(), body).encode().len();
    assert_eq!(len(Body::Fail { about: name(b'f') }), 2296);
    assert_eq!(
        len(Body::Update {
            config_epoch: 1,
            node: name(b'u'),
            slots: SlotBitmap::new()
        }),
        4352 // sizeof(clusterMsg): the header and the largest body, UPDATE
    );
    assert_eq!(
        len(Body::Publish {
            channel: b"ch".to_vec(),
            message: b"hello".to_vec()
        }),
        2256 + 8 + 7
    );
    assert_eq!(
        len(Body::Module {
            module_id: [9; 8],
            kind: 3,
            payload: b"xyz".to_vec()
        }),
        2256 + 13 + 3
    );
    assert_eq!(len(Body::MfStart), 2256);
}

#[test]
fn gossip_entries_and_extensions_round_trip() {
    let mut h = header();
    h.mflags = [0; 3];
    let g = Gossip {
        entries: vec![entry(b'c'), entry(b'd')],
        exts: vec![PingExt::hostname(b"node-1.example")],
    };
    for body in [Body::Ping(g.clone()), Body::Pong(g.clone()), Body::Meet(g)] {
        let msg = Msg::new(h.clone(), body);
        let b = msg.encode();
        // The count and extensions fields, and the EXT_DATA flag, come from the body.
        assert_eq!(&b[14..16], &[0, 2]);
        assert_eq!(&b[2214..2216], &[0, 1]);
        assert_eq!(b[2253], mflags::EXT_DATA);
        // Hostname: 8-byte extension header, the name, a NUL, padding to 8: 8 + 16.
        assert_eq!(b.len(), HEADER_LEN + 2 * GOSSIP_LEN + 24);
        let e = &b[HEADER_LEN..];
        assert_eq!(&e[40..44], &[0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(&e[94..96], &7000u16.to_be_bytes());
        assert_eq!(&e[96..98], &17000u16.to_be_bytes());
        let x = &b[HEADER_LEN + 2 * GOSSIP_LEN..];
        assert_eq!(&x[0..8], &[0, 0, 0, 24, 0, 0, 0, 0]);
        assert_eq!(&x[8..23], b"node-1.example\0");
        let back = Msg::decode(&b).expect("decodes");
        assert_eq!(
            back.body.gossip().and_then(Gossip::hostname),
            Some(&b"node-1.example"[..])
        );
        assert_eq!(back.encode(), b);
    }
    // A hostname of 7 bytes fills its 8 with the NUL; of 8 bytes it takes 16.
    assert_eq!(PingExt::hostname(b"1234567").wire_len(), 16);
    assert_eq!(PingExt::hostname(b"12345678").wire_len(), 24);
}

#[test]
fn every_type_round_trips() {
    let mut slots = SlotBitmap::new();
    slots.insert_range(100, 199);
    let bodies = vec![
        Body::Ping(Gossip::default()),
        Body::Fail { about: name(b'x') },
        Body::Publish {
            channel: b"news".to_vec(),
            message: Vec::new(),
        },
        Body::PublishShard {
            channel: Vec::new(),
            message: b"m".repeat(20),
        },
        Body::FailoverAuthRequest,
        Body::FailoverAuthAck,
        Body::MfStart,
        Body::Update {
            config_epoch: 42,
            node: name(b'y'),
            slots,
        },
        Body::Module {
            module_id: *b"modid123",
            kind: 255,
            payload: vec![0, 1, 2],
        },
        Body::Unknown {
            code: 11,
            data: b"anything".to_vec(),
        },
        Body::Unknown {
            code: 0xffff,
            data: Vec::new(),
        },
    ];
    for body in bodies {
        round_trip(&Msg::new(header(), body));
    }
}

#[test]
fn slot_bitmap_ranges() {
    let mut s = SlotBitmap::new();
    assert!(s.is_empty());
    s.insert_range(0, 5);
    s.insert(7);
    s.insert_range(16380, 20000);
    s.insert(16384); // beyond the last slot: ignored
    assert_eq!(s.ranges(), vec![(0, 5), (7, 7), (16380, 16383)]);
    assert_eq!(s.count(), 11);
    s.remove(7);
    assert!(!s.contains(7) && s.contains(5) && !s.contains(16384));
}

fn set_be16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn set_be32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn refusals() {
    let ok = Msg::new(header(), Body::Fail { about: name(b'z') }).encode();
    assert_eq!(
        Msg::decode(&ok[..5]),
        Err(BusError::Truncated { need: 8, have: 5 })
    );
    assert_eq!(
        Msg::decode(&ok[..100]),
        Err(BusError::Truncated {
            need: 2296,
            have: 100
        })
    );
    let mut long = ok.clone();
    long.push(0);
    assert!(matches!(Msg::decode(&long), Err(BusError::Trailing { .. })));

    let mut bad = ok.clone();
    bad[3] = b'B';
    let e = Msg::decode(&bad).unwrap_err();
    assert!(e.closes_link(), "{e}");
    assert_eq!(e, BusError::BadSignature(*b"RCmB"));

    let mut short = ok.clone();
    set_be32(&mut short, 4, 2255);
    assert_eq!(Msg::decode(&short), Err(BusError::TooShort(2255)));

    let mut ver = ok.clone();
    set_be16(&mut ver, 8, 2);
    let e = Msg::decode(&ver).unwrap_err();
    assert_eq!(e, BusError::BadVersion(2));
    assert!(!e.closes_link());

    // FAIL with an UPDATE's type: the length is wrong for the type.
    let mut wrong = ok.clone();
    set_be16(&mut wrong, 12, MsgType::Update.code());
    assert_eq!(
        Msg::decode(&wrong).map_err(|e| e.to_string()),
        Err("Received invalid update packet of length 2296 but expected length 4352".into())
    );
    // PING whose count promises more entries than there are.
    let ping = Msg::new(
        header(),
        Body::Ping(Gossip {
            entries: vec![entry(b'c')],
            exts: vec![],
        }),
    )
    .encode();
    let mut more = ping.clone();
    set_be16(&mut more, 14, 2);
    assert!(matches!(
        Msg::decode(&more),
        Err(BusError::BadLength { expected: 2464, .. })
    ));
    // PUBLISH lengths that overflow a u32 sum are refused, not wrapped.
    let mut publ = Msg::new(
        header(),
        Body::Publish {
            channel: b"c".to_vec(),
            message: b"m".to_vec(),
        },
    )
    .encode();
    set_be32(&mut publ, HEADER_LEN, u32::MAX);
    assert!(matches!(
        Msg::decode(&publ),
        Err(BusError::BadLength { .. })
    ));
    let mut module = Msg::new(
        header(),
        Body::Module {
            module_id: [0; 8],
            kind: 0,
            payload: vec![1],
        },
    )
    .encode();
    set_be32(&mut module, HEADER_LEN + 8, 2);
    assert!(matches!(
        Msg::decode(&module),
        Err(BusError::BadLength { .. })
    ));
    // A PUBLISH too short to hold its two lengths.
    let mut tiny = Msg::new(header(), Body::MfStart).encode();
    set_be16(&mut tiny, 12, MsgType::Publish.code());
    assert!(matches!(
        Msg::decode(&tiny),
        Err(BusError::BadLength { .. })
    ));
}

#[test]
fn extension_refusals() {
    let mut h = header();
    h.mflags = [0; 3];
    let msg = Msg::new(
        h,
        Body::Pong(Gossip {
            entries: vec![],
            exts: vec![PingExt::hostname(b"abc")],
        }),
    );
    let ok = msg.encode();
    assert_eq!(ok.len(), HEADER_LEN + 16);
    // A length that is not a multiple of 8.
    let mut pad = ok.clone();
    set_be32(&mut pad, HEADER_LEN, 12);
    assert_eq!(
        Msg::decode(&pad).map_err(|e| e.to_string()),
        Err("Received a pong packet without proper padding (12 bytes)".into())
    );
    // Longer than what is left, and shorter than its own header.
    for len in [24, 0] {
        let mut over = ok.clone();
        set_be32(&mut over, HEADER_LEN, len);
        assert!(
            matches!(Msg::decode(&over), Err(BusError::ExtOverrun { .. })),
            "length {len}"
        );
    }
    // Two announced, one present.
    let mut two = ok.clone();
    set_be16(&mut two, 2214, 2);
    assert!(matches!(
        Msg::decode(&two),
        Err(BusError::ExtOverrun { .. })
    ));
    // Extension bytes without the flag: the length check ignores extensions, so it fails.
    let mut noflag = ok.clone();
    noflag[2253] = 0;
    assert!(matches!(
        Msg::decode(&noflag),
        Err(BusError::ExtWithoutFlag { .. })
    ));
    set_be16(&mut noflag, 2214, 0);
    assert!(matches!(
        Msg::decode(&noflag),
        Err(BusError::BadLength { .. })
    ));
    // The flag with no extensions is accepted and kept.
    let mut flagonly = Msg::new(header(), Body::Ping(Gossip::default())).encode();
    flagonly[2253] |= mflags::EXT_DATA;
    let back = Msg::decode(&flagonly).expect("flag alone is fine");
    assert_eq!(back.encode(), flagonly);
    // An extension type Redis 7.0 does not know is carried, not refused.
    let mut unknown = ok.clone();
    set_be16(&mut unknown, HEADER_LEN + 4, 9);
    let back = Msg::decode(&unknown).expect("unknown extension type");
    assert_eq!(back.body.gossip().and_then(Gossip::hostname), None);
    assert_eq!(back.encode(), unknown);
}

#[test]
fn framer_yields_whole_messages_from_any_split() {
    let msgs: Vec<Vec<u8>> = vec![
        Msg::new(header(), Body::Fail { about: name(b'q') }).encode(),
        Msg::new(
            header(),
            Body::Ping(Gossip {
                entries: vec![entry(b'e')],
                exts: vec![],
            }),
        )
        .encode(),
        Msg::new(header(), Body::MfStart).encode(),
    ];
    let stream: Vec<u8> = msgs.concat();
    for chunk in [1, 7, 8, 9, 1000, 2256, 5000, stream.len()] {
        let mut f = Framer::new();
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            f.push(piece);
            while let Some(frame) = f.next_frame().expect("valid stream") {
                got.push(frame);
            }
        }
        assert_eq!(got, msgs, "chunks of {chunk}");
        assert_eq!(f.buffered(), 0);
    }
}

#[test]
fn framer_refuses_after_eight_bytes() {
    let mut f = Framer::new();
    f.push(b"GET / HT");
    let e = f.next_frame().unwrap_err();
    assert!(e.closes_link());
    f.push(&Msg::new(header(), Body::MfStart).encode());
    assert_eq!(f.next_frame(), Err(e), "a framing error is final");

    let mut f = Framer::new();
    f.push(b"RCmb\0\0\0\x10");
    assert_eq!(f.next_frame(), Err(BusError::TooShort(16)));

    let mut f = Framer::with_max_len(5000);
    f.push(b"RCmb\0\0\x13\x89");
    assert_eq!(
        f.next_frame(),
        Err(BusError::TooLong {
            totlen: 5001,
            max: 5000
        })
    );
    let mut f = Framer::new();
    f.push(b"RCmb\xff\xff\xff\xff");
    assert!(matches!(f.next_frame(), Err(BusError::TooLong { .. })));
}
