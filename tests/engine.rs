//! The engine over real loopback sockets: every reply mode, the quit word,
//! encodings, IPv6, the largest datagram, batches, manual replies, several
//! servers, each error the user can meet, and the thread's end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{ask, incoming, peer, start_server, wait_failure, wait_for, wait_packets};
use udpdesk::codec::{self, Encoding};
use udpdesk::net::{
    ClientConfig, Command, Engine, Event, MAX_PAYLOAD_V4, NetError, ReplyMode, SendJob,
    ServerConfig, SocketOptions, StopReason,
};
use udpdesk::packet::{Direction, EndpointId};

fn engine() -> Engine {
    Engine::spawn(|| {}).unwrap()
}

/// Opens client `id` with default settings.
fn open_client(e: &Engine, id: u32) {
    e.send(Command::OpenClient {
        id: EndpointId(id),
        config: ClientConfig::default(),
    })
    .unwrap();
}

/// Hands client `id` a send job.
fn send(e: &Engine, id: u32, job: SendJob) {
    e.send(Command::Send {
        id: EndpointId(id),
        job,
    })
    .unwrap();
}

fn server(mode: ReplyMode) -> ServerConfig {
    ServerConfig {
        reply: mode,
        ..ServerConfig::new("127.0.0.1:0".parse().unwrap())
    }
}

#[test]
fn echo_server_answers_and_reports_both_directions() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Echo));
    assert_ne!(at.port(), 0, "port 0 reports the real port");
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"Hello, world"), b"Hello, world");
    let packets = wait_packets(&e, 2, |_| true);
    assert_eq!(packets[0].direction, Direction::In);
    assert_eq!(packets[1].direction, Direction::Out);
    for p in &packets {
        assert_eq!(p.local, at);
        assert_eq!(p.peer, me.local_addr().unwrap());
        assert_eq!(&*p.bytes, b"Hello, world");
        assert_eq!(p.endpoint, EndpointId(1));
    }
    assert!(packets[0].seq < packets[1].seq);
}

#[test]
fn upper_template_fixed_modes() {
    let e = engine();
    let upper = start_server(&e, 1, server(ReplyMode::Upper));
    let hello = start_server(&e, 2, server(ReplyMode::Template("Hello, {text}!".into())));
    let ack = start_server(&e, 3, server(ReplyMode::Fixed("收到你的消息了".into())));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, upper, b"hello"), b"HELLO");
    assert_eq!(ask(&me, hello, b"Michael"), b"Hello, Michael!");
    assert_eq!(
        ask(&me, ack, "随便".as_bytes()),
        "收到你的消息了".as_bytes()
    );
}

#[test]
fn silent_modes_send_nothing_until_changed() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::None));
    let me = peer("127.0.0.1:0");
    me.send_to(b"first", at).unwrap();
    wait_packets(&e, 1, incoming);
    e.send(Command::UpdateServer {
        id: EndpointId(1),
        reply: ReplyMode::Echo,
        encoding: Encoding::Utf8,
        quit_word: None,
    })
    .unwrap();
    // The first datagram the peer gets back is the second one's echo: "first" had no answer.
    assert_eq!(ask(&me, at, b"second"), b"second");
}

#[test]
fn quit_word_answers_then_stops_and_frees_the_port() {
    let e = engine();
    let mut config = server(ReplyMode::Echo);
    config.quit_word = Some("quit".into());
    let at = start_server(&e, 1, config);
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"not yet"), b"not yet");
    assert_eq!(
        ask(&me, at, b"quit\n"),
        b"quit\n",
        "answered as usual first"
    );
    let reason = wait_for(&e, "the server to stop", |ev| match ev {
        Event::Stopped { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(
        reason,
        StopReason::QuitWord {
            peer: me.local_addr().unwrap(),
            word: "quit".into()
        }
    );
    UdpSocket::bind(at).expect("the port is free again once the server stopped");
}

#[test]
fn gbk_and_utf8_round_trip_chinese() {
    let e = engine();
    for (id, enc) in [(1, Encoding::Utf8), (2, Encoding::Gbk)] {
        let mut config = server(ReplyMode::Template("{text}，收到".into()));
        config.encoding = enc;
        let at = start_server(&e, id, config);
        let me = peer("127.0.0.1:0");
        let sent = codec::encode("你好，世界", enc).unwrap();
        let got = ask(&me, at, &sent);
        assert_eq!(
            got,
            codec::encode("你好，世界，收到", enc).unwrap(),
            "{enc}"
        );
        let packets = wait_packets(&e, 2, |p| p.endpoint == EndpointId(id));
        assert_eq!(
            codec::decode(&packets[0].bytes, packets[0].encoding),
            "你好，世界"
        );
        assert_eq!(
            codec::decode(&packets[1].bytes, packets[1].encoding),
            "你好，世界，收到"
        );
    }
}

#[test]
fn ipv6_loopback_server_and_client() {
    let e = engine();
    let at = start_server(&e, 1, ServerConfig::new("[::1]:0".parse().unwrap()));
    assert!(at.is_ipv6());
    open_client(&e, 2);
    send(&e, 2, SendJob::once(at.to_string(), b"v6".to_vec()));
    let replies = wait_packets(&e, 1, |p| {
        p.endpoint == EndpointId(2) && p.direction == Direction::In
    });
    assert_eq!(&*replies[0].bytes, b"v6");
    assert_eq!(replies[0].peer, at);
}

#[test]
fn largest_ipv4_datagram_goes_whole_and_one_more_byte_is_refused() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Echo));
    let me = peer("127.0.0.1:0");
    let big: Vec<u8> = (0..MAX_PAYLOAD_V4).map(|i| (i % 251) as u8).collect();
    assert_eq!(ask(&me, at, &big), big);
    let seen = wait_packets(&e, 1, incoming);
    assert_eq!(seen[0].len(), 65_507);
    assert!(!seen[0].truncated);

    open_client(&e, 2);
    let too_big = vec![0u8; MAX_PAYLOAD_V4 + 1];
    send(&e, 2, SendJob::once(at.to_string(), too_big));
    let err = wait_failure(&e, 2);
    assert!(
        matches!(
            err,
            NetError::TooLarge {
                size: 65_508,
                max: 65_507,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("too large"), "{err}");
}

#[test]
fn a_datagram_longer_than_the_buffer_is_flagged_not_silently_cut() {
    let e = engine();
    let mut config = server(ReplyMode::None);
    config.options.max_datagram = 16;
    let at = start_server(&e, 1, config);
    peer("127.0.0.1:0").send_to(&[7u8; 100], at).unwrap();
    let p = &wait_packets(&e, 1, incoming)[0];
    assert!(p.truncated);
    assert_eq!(p.len(), 16);
}

#[test]
fn three_names_batch_gets_three_greetings_in_order() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Template("Hello, {text}!".into())));
    open_client(&e, 2);
    let job = SendJob {
        target: at.to_string(),
        payloads: vec![b"Michael".to_vec(), b"Tracy".to_vec(), b"Sarah".to_vec()],
        count: 1,
        interval: Duration::ZERO,
        at: Vec::new(),
        fill: Vec::new(),
    };
    send(&e, 2, job);
    let replies = wait_packets(&e, 3, |p| {
        p.endpoint == EndpointId(2) && p.direction == Direction::In
    });
    let texts: Vec<String> = replies
        .iter()
        .map(|p| codec::decode(&p.bytes, Encoding::Utf8))
        .collect();
    assert_eq!(texts, ["Hello, Michael!", "Hello, Tracy!", "Hello, Sarah!"]);
}

#[test]
fn repeated_sends_with_an_interval_finish_with_a_count() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::None));
    open_client(&e, 2);
    let job = SendJob {
        target: at.to_string(),
        payloads: vec![b"tick".to_vec()],
        count: 5,
        interval: Duration::from_millis(5),
        at: Vec::new(),
        fill: Vec::new(),
    };
    send(&e, 2, job);
    let sent = wait_for(&e, "the job to finish", |ev| match ev {
        Event::SendDone { sent, .. } => Some(*sent),
        _ => None,
    });
    assert_eq!(sent, 5);
}

#[test]
fn manual_reply_goes_to_the_chosen_peer_only() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Manual));
    let alice = peer("127.0.0.1:0");
    let bob = peer("127.0.0.1:0");
    alice.send_to(b"from alice", at).unwrap();
    bob.send_to(b"from bob", at).unwrap();
    // Peer updates carry only the peers that changed: gather them.
    let mut peers: Vec<udpdesk::net::PeerInfo> = Vec::new();
    let peers = wait_for(&e, "both peers", |ev| match ev {
        Event::Peers { changed, .. } => {
            for p in changed {
                match peers.iter_mut().find(|q| q.addr == p.addr) {
                    Some(q) => *q = p.clone(),
                    None => peers.push(p.clone()),
                }
            }
            (peers.len() == 2).then(|| peers.clone())
        }
        _ => None,
    });
    assert_eq!(peers[1].addr, bob.local_addr().unwrap());
    assert_eq!((peers[1].packets, peers[1].bytes), (1, 8));
    let payload = codec::encode("服务端:你好", Encoding::Gbk).unwrap();
    e.send(Command::Reply {
        id: EndpointId(1),
        peer: peers[1].addr,
        payload: payload.clone(),
    })
    .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = bob.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&payload[..], at));
    // Alice got nothing: the next thing she receives is an answer to a later reply addressed to her.
    e.send(Command::Reply {
        id: EndpointId(1),
        peer: alice.local_addr().unwrap(),
        payload: b"later".to_vec(),
    })
    .unwrap();
    let (n, _) = alice.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"later");
}

#[test]
fn two_servers_run_at_once() {
    let e = engine();
    let a = start_server(&e, 1, server(ReplyMode::Echo));
    let b = start_server(&e, 2, server(ReplyMode::Upper));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, a, b"abc"), b"abc");
    assert_eq!(ask(&me, b, b"abc"), b"ABC");
    e.send(Command::Close { id: EndpointId(1) }).unwrap();
    wait_for(&e, "server 1 to stop", |ev| {
        matches!(
            ev,
            Event::Stopped {
                id: EndpointId(1),
                ..
            }
        )
        .then_some(())
    });
    assert_eq!(ask(&me, b, b"still"), b"STILL", "the other server goes on");
}

#[test]
fn address_in_use_is_reported_and_the_engine_goes_on() {
    let e = engine();
    let holder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap();
    e.send(Command::StartServer {
        id: EndpointId(1),
        config: ServerConfig::new(taken),
    })
    .unwrap();
    let err = wait_failure(&e, 1);
    assert_eq!(err, NetError::AddrInUse { addr: taken });
    assert!(err.to_string().contains("already in use"), "{err}");
    let at = start_server(&e, 2, server(ReplyMode::Echo));
    assert_eq!(ask(&peer("127.0.0.1:0"), at, b"ok"), b"ok");
}

#[test]
fn address_not_on_this_host_is_reported() {
    let e = engine();
    // TEST-NET-1 is never assigned to a real host; binding sends nothing.
    let addr: SocketAddr = "192.0.2.1:0".parse().unwrap();
    e.send(Command::StartServer {
        id: EndpointId(1),
        config: ServerConfig::new(addr),
    })
    .unwrap();
    let err = wait_failure(&e, 1);
    assert_eq!(err, NetError::AddrNotAvailable { addr });
    assert!(
        err.to_string().contains("not an address of this machine"),
        "{err}"
    );
}

#[test]
fn broadcast_without_permission_is_denied_and_allowed_with_it() {
    let e = engine();
    let listener = peer("0.0.0.0:0");
    let port = listener.local_addr().unwrap().port();
    let target = format!("127.255.255.255:{port}");
    open_client(&e, 1);
    send(&e, 1, SendJob::once(&target, b"all".to_vec()));
    let err = wait_failure(&e, 1);
    assert!(matches!(err, NetError::PermissionDenied { .. }), "{err}");
    assert!(err.to_string().contains("broadcast option"), "{err}");

    let config = ClientConfig {
        options: SocketOptions {
            broadcast: true,
            ..SocketOptions::default()
        },
        ..ClientConfig::default()
    };
    e.send(Command::OpenClient {
        id: EndpointId(2),
        config,
    })
    .unwrap();
    send(&e, 2, SendJob::once(&target, b"all".to_vec()));
    let mut buf = [0u8; 8];
    let (n, _) = listener.recv_from(&mut buf).expect("the broadcast arrives");
    assert_eq!(&buf[..n], b"all");
}

#[test]
fn unresolvable_name_is_reported() {
    let e = engine();
    open_client(&e, 1);
    send(
        &e,
        1,
        SendJob::once("no-such-host.invalid:9", b"x".to_vec()),
    );
    let err = wait_failure(&e, 1);
    assert!(matches!(err, NetError::Resolve { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("could not resolve \"no-such-host.invalid\""),
        "{err}"
    );
}

#[test]
fn localhost_name_resolves_to_loopback() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Upper));
    open_client(&e, 2);
    send(
        &e,
        2,
        SendJob::once(format!("localhost:{}", at.port()), b"hi".to_vec()),
    );
    let got = wait_packets(&e, 1, |p| {
        p.endpoint == EndpointId(2) && p.direction == Direction::In
    });
    assert_eq!(&*got[0].bytes, b"HI");
}

#[test]
fn nobody_listening_is_reported_from_icmp() {
    let e = engine();
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    open_client(&e, 1);
    send(
        &e,
        1,
        SendJob::once(closed.to_string(), b"anyone?".to_vec()),
    );
    let err = wait_failure(&e, 1);
    assert_eq!(err, NetError::Unreachable { peer: closed });
    assert_eq!(
        err.to_string(),
        format!("nobody is listening at {closed} (the host answered \"port unreachable\")")
    );
}

#[test]
fn bad_template_fails_the_start_with_a_reason() {
    let e = engine();
    e.send(Command::StartServer {
        id: EndpointId(1),
        config: server(ReplyMode::Template("Hi {name}".into())),
    })
    .unwrap();
    let err = wait_failure(&e, 1);
    assert!(
        err.to_string().contains("unknown placeholder {name}"),
        "{err}"
    );
}

#[test]
fn dropping_the_handle_ends_the_thread_and_closes_sockets() {
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let e = Engine::spawn(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    let at = start_server(&e, 1, server(ReplyMode::Echo));
    assert!(e.is_running());
    assert!(
        wakes.load(Ordering::SeqCst) >= 1,
        "the owner is woken after events"
    );
    drop(e);
    // The worker held the other clone of the counter; the thread's end dropped it.
    assert_eq!(Arc::strong_count(&wakes), 1);
    UdpSocket::bind(at).expect("the server's port is free once the engine is gone");
}

#[test]
fn multicast_group_on_loopback_reaches_a_member() {
    // TTL 0 and the loopback interface: the datagram never leaves this machine.
    let group: std::net::IpAddr = "239.255.42.1".parse().unwrap();
    let lo = Some(std::net::Ipv4Addr::LOCALHOST);
    let e = engine();
    let mut config = ServerConfig::new("0.0.0.0:0".parse().unwrap());
    config.reply = ReplyMode::Upper;
    config.options.multicast = Some(udpdesk::net::Multicast {
        group: Some(group),
        interface_v4: lo,
        ..udpdesk::net::Multicast::default()
    });
    let at = start_server(&e, 1, config);
    let client = ClientConfig {
        options: SocketOptions {
            multicast: Some(udpdesk::net::Multicast {
                interface_v4: lo,
                ttl: 0,
                ..udpdesk::net::Multicast::default()
            }),
            ..SocketOptions::default()
        },
        ..ClientConfig::default()
    };
    e.send(Command::OpenClient {
        id: EndpointId(2),
        config: client,
    })
    .unwrap();
    let target = format!("{group}:{}", at.port());
    send(&e, 2, SendJob::once(target, b"to the group".to_vec()));
    let got = wait_packets(&e, 1, |p| {
        p.endpoint == EndpointId(2) && p.direction == Direction::In
    });
    assert_eq!(&*got[0].bytes, b"TO THE GROUP", "the member answered");
}

/// Waits for the `SendDone` of client `id` and returns how many it sent.
fn send_done(e: &Engine, id: u32) -> u64 {
    wait_for(e, "the send to finish", |ev| match ev {
        Event::SendDone { id: i, sent } if i.0 == id => Some(*sent),
        _ => None,
    })
}

#[test]
fn every_failed_send_still_ends_with_send_done() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::None));
    open_client(&e, 2);
    for (payload, target) in [
        (vec![0u8; MAX_PAYLOAD_V4 + 1], at.to_string()),
        (b"x".to_vec(), "nowhere.invalid:9".to_owned()),
    ] {
        send(&e, 2, SendJob::once(target, payload));
        wait_failure(&e, 2);
        assert_eq!(send_done(&e, 2), 0);
    }
    // An IPv4-bound client asked to reach an IPv6 peer.
    let v4 = ClientConfig {
        bind: Some("127.0.0.1:0".parse().unwrap()),
        ..ClientConfig::default()
    };
    e.send(Command::OpenClient {
        id: EndpointId(3),
        config: v4,
    })
    .unwrap();
    send(&e, 3, SendJob::once("[::1]:9", b"x".to_vec()));
    assert!(matches!(
        wait_failure(&e, 3),
        NetError::FamilyMismatch { .. }
    ));
    assert_eq!(send_done(&e, 3), 0);
    // A client that does not exist.
    send(&e, 9, SendJob::once(at.to_string(), b"x".to_vec()));
    wait_failure(&e, 9);
    assert_eq!(send_done(&e, 9), 0);
}

#[test]
fn a_client_whose_bind_fails_is_reported_gone() {
    let e = engine();
    let holder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let config = ClientConfig {
        bind: Some(holder.local_addr().unwrap()),
        ..ClientConfig::default()
    };
    e.send(Command::OpenClient {
        id: EndpointId(1),
        config,
    })
    .unwrap();
    assert!(matches!(wait_failure(&e, 1), NetError::AddrInUse { .. }));
    wait_for(&e, "the client to be gone", |ev| {
        matches!(
            ev,
            Event::Stopped {
                id: EndpointId(1),
                reason: StopReason::Error(_)
            }
        )
        .then_some(())
    });
}

#[test]
fn a_new_send_replaces_a_running_one_and_both_are_accounted() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::None));
    open_client(&e, 2);
    let endless = SendJob {
        target: at.to_string(),
        payloads: vec![b"tick".to_vec()],
        count: 0,
        interval: Duration::from_millis(10),
        at: Vec::new(),
        fill: Vec::new(),
    };
    send(&e, 2, endless);
    wait_packets(&e, 1, |p| p.endpoint == EndpointId(2));
    send(&e, 2, SendJob::once(at.to_string(), b"last".to_vec()));
    assert!(
        send_done(&e, 2) >= 1,
        "the endless job ends, counting what it sent"
    );
    assert_eq!(send_done(&e, 2), 1, "then the new one");
    let got = wait_packets(&e, 1, |p| {
        p.endpoint == EndpointId(1) && &*p.bytes == b"last"
    });
    assert_eq!(got.len(), 1);
}

#[test]
fn rounds_are_paced_by_the_interval() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::None));
    open_client(&e, 2);
    let job = SendJob {
        target: at.to_string(),
        payloads: vec![b"a".to_vec(), b"b".to_vec()],
        count: 5,
        interval: Duration::from_millis(20),
        at: Vec::new(),
        fill: Vec::new(),
    };
    let start = std::time::Instant::now();
    send(&e, 2, job);
    assert_eq!(send_done(&e, 2), 10);
    // A lower bound only: four pauses must have passed; how much more is the machine's business.
    assert!(
        start.elapsed() >= Duration::from_millis(80),
        "{:?}",
        start.elapsed()
    );
}

/// A resolver that answers only when the test says so, for names under `.test`.
fn gated_resolver(port: u16) -> (udpdesk::net::Resolver, crossbeam_channel::Sender<()>) {
    let (tx, rx) = crossbeam_channel::unbounded::<()>();
    let resolver: udpdesk::net::Resolver = Arc::new(move |host: &str, _port: u16| {
        let _ = rx.recv_timeout(common::DEADLINE);
        if host == "server.test" {
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
        } else {
            Err(NetError::Resolve {
                host: host.to_owned(),
                detail: "no such host".to_owned(),
            })
        }
    });
    (resolver, tx)
}

#[test]
fn host_names_are_looked_up_off_the_engine_thread() {
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.set_read_timeout(Some(common::DEADLINE)).unwrap();
    let port = probe.local_addr().unwrap().port();
    let (resolver, answer) = gated_resolver(port);
    let e = Engine::spawn_with_resolver(|| {}, resolver).unwrap();
    open_client(&e, 1);
    send(
        &e,
        1,
        SendJob::once(format!("server.test:{port}"), b"hi".to_vec()),
    );
    // While the lookup waits, the engine still serves other commands.
    let at = start_server(&e, 2, server(ReplyMode::Echo));
    assert_eq!(ask(&peer("127.0.0.1:0"), at, b"busy?"), b"busy?");
    answer.send(()).unwrap();
    let mut buf = [0u8; 8];
    let (n, _) = probe.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hi");
    assert_eq!(send_done(&e, 1), 1);

    // A failed lookup: the error, then SendDone.
    send(&e, 1, SendJob::once("nothing.test:9", b"x".to_vec()));
    answer.send(()).unwrap();
    assert!(matches!(wait_failure(&e, 1), NetError::Resolve { .. }));
    assert_eq!(send_done(&e, 1), 0);
}

#[test]
fn stopping_during_a_lookup_ends_the_send_and_ignores_the_late_answer() {
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    let (resolver, answer) = gated_resolver(port);
    let e = Engine::spawn_with_resolver(|| {}, resolver).unwrap();
    open_client(&e, 1);
    send(
        &e,
        1,
        SendJob::once(format!("server.test:{port}"), b"late".to_vec()),
    );
    e.send(Command::StopSending { id: EndpointId(1) }).unwrap();
    assert_eq!(send_done(&e, 1), 0);
    answer.send(()).unwrap();
    // The stale answer sends nothing: the next datagram the probe sees is this one.
    let at = probe.local_addr().unwrap();
    send(&e, 1, SendJob::once(at.to_string(), b"after".to_vec()));
    assert_eq!(send_done(&e, 1), 1);
    probe.set_read_timeout(Some(common::DEADLINE)).unwrap();
    let mut buf = [0u8; 8];
    let (n, _) = probe.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"after");
}

#[test]
fn changing_a_clients_encoding_keeps_its_socket() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Echo));
    open_client(&e, 2);
    send(&e, 2, SendJob::once(at.to_string(), b"a".to_vec()));
    let first = wait_packets(&e, 1, |p| {
        p.endpoint == EndpointId(2) && p.direction == Direction::In
    });
    e.send(Command::SetEncoding {
        id: EndpointId(2),
        encoding: Encoding::Gbk,
    })
    .unwrap();
    let gbk = codec::encode("你好", Encoding::Gbk).unwrap();
    send(&e, 2, SendJob::once(at.to_string(), gbk));
    let second = wait_packets(&e, 1, |p| {
        p.endpoint == EndpointId(2) && p.direction == Direction::In
    });
    assert_eq!(first[0].local, second[0].local, "same socket");
    assert_eq!(second[0].encoding, Encoding::Gbk);
    assert_eq!(codec::decode(&second[0].bytes, second[0].encoding), "你好");
}

#[test]
fn at_twenty_thousand_a_second_each_hand_over_carries_many_packets() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::None));
    let total = 4_000u32;
    // 4,000 datagrams paced at 20,000 a second, from a thread of their own
    // while this one takes the hand-overs: the load, not a wait.
    let sender = std::thread::spawn(move || {
        let sock = peer("127.0.0.1:0");
        let start = Instant::now();
        for i in 0..total {
            let due = start + Duration::from_micros(50 * u64::from(i));
            while Instant::now() < due {
                std::hint::spin_loop();
            }
            sock.send_to(&i.to_be_bytes(), at).unwrap();
        }
    });
    let mut events = 0;
    let mut packets = 0;
    let mut counted = 0;
    let end = Instant::now() + common::DEADLINE;
    while !(sender.is_finished() && counted > 0 && packets as u64 == counted)
        && Instant::now() < end
    {
        match e.events().recv_timeout(Duration::from_millis(500)) {
            Ok(Event::Packets {
                packets: batch,
                counters,
            }) => {
                events += 1;
                packets += batch.len();
                if let Some((_, c)) = counters.iter().find(|(id, _)| id.0 == 1) {
                    counted = c.packets_in;
                }
            }
            Ok(_) => {}
            Err(_) => {}
        }
    }
    sender.join().unwrap();
    assert_eq!(
        packets as u64, counted,
        "every datagram counted was handed over"
    );
    assert!(counted > u64::from(total) / 2, "most arrived: {counted}");
    // One hand-over per wake-up would be one or two packets each at this rate.
    assert!(
        packets >= events * 10,
        "{packets} packets came in {events} hand-overs"
    );
}

#[test]
fn sockets_bound_to_every_address_log_the_address_really_used() {
    let e = engine();
    for (any, lo) in [("0.0.0.0:0", "127.0.0.1"), ("[::]:0", "::1")] {
        e.send(Command::StartServer {
            id: EndpointId(1),
            config: ServerConfig::new(any.parse().unwrap()),
        })
        .unwrap();
        let bound = wait_for(&e, "the server to start", |ev| match ev {
            Event::Started { local, .. } => Some(*local),
            _ => None,
        });
        assert!(bound.ip().is_unspecified());
        let at = SocketAddr::new(lo.parse().unwrap(), bound.port());
        // The client binds every address too, at its first send.
        open_client(&e, 2);
        send(
            &e,
            2,
            SendJob::once(at.to_string(), b"where am I?".to_vec()),
        );
        let packets = wait_packets(&e, 4, |_| true);
        for p in &packets {
            assert_eq!(p.local.ip(), at.ip(), "{p:?}");
            assert_eq!(p.peer.ip(), at.ip(), "{p:?}");
        }
        let server_side: Vec<_> = packets
            .iter()
            .filter(|p| p.endpoint == EndpointId(1))
            .collect();
        assert_eq!(server_side.len(), 2);
        assert!(server_side.iter().all(|p| p.local == at));
        for id in [1, 2] {
            e.send(Command::Close { id: EndpointId(id) }).unwrap();
            wait_for(&e, "the close", |ev| {
                matches!(ev, Event::Stopped { id: i, .. } if *i == EndpointId(id)).then_some(())
            });
        }
    }
}

#[test]
fn servers_of_one_engine_never_answer_each_other() {
    let e = engine();
    let a = start_server(&e, 1, server(ReplyMode::Echo));
    let b = start_server(&e, 2, server(ReplyMode::Echo));
    for _ in 0..2 {
        // B says something to A by hand: two echo servers would then echo forever.
        e.send(Command::Reply {
            id: EndpointId(2),
            peer: a,
            payload: b"ping".to_vec(),
        })
        .unwrap();
    }
    let mut packets = Vec::new();
    let mut said = Vec::new();
    let mut held = 0;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while held < 2 || packets.len() < 4 {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match e.events().recv_timeout(left).expect("events in time") {
            Event::Packets {
                packets: p,
                counters,
            } => {
                packets.extend(p);
                if let Some((_, c)) = counters.iter().find(|(id, _)| *id == EndpointId(1)) {
                    held = c.held_back;
                }
            }
            Event::Failed { error, .. } => said.push(error.to_string()),
            _ => {}
        }
    }
    // Two pings out of B and into A, and nothing out of A.
    let mut dirs: Vec<(u32, Direction)> = packets
        .iter()
        .map(|p| (p.endpoint.0, p.direction))
        .collect();
    dirs.sort_by_key(|(id, d)| (*id, *d == Direction::Out));
    assert_eq!(
        dirs,
        [
            (1, Direction::In),
            (1, Direction::In),
            (2, Direction::Out),
            (2, Direction::Out)
        ]
    );
    assert!(
        packets
            .iter()
            .filter(|p| p.endpoint == EndpointId(1))
            .all(|p| p.peer == b)
    );
    // Said once, counted each time.
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("another udpdesk server"), "{}", said[0]);
    assert_eq!(held, 2);
    // A plain peer is still answered.
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, a, b"hello"), b"hello");
}

#[test]
fn a_dead_peer_is_said_once_a_second_with_a_count_and_the_sending_goes_on() {
    let e = engine();
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    open_client(&e, 1);
    // 300 datagrams over about 1.5 s, every one answered "port unreachable".
    send(
        &e,
        1,
        SendJob {
            target: closed.to_string(),
            payloads: vec![b"anyone?".to_vec()],
            count: 300,
            interval: Duration::from_millis(5),
            at: Vec::new(),
            fill: Vec::new(),
        },
    );
    let mut said = Vec::new();
    let sent = loop {
        match e.events().recv_timeout(Duration::from_secs(15)).unwrap() {
            Event::Failed { error, .. } => {
                assert!(matches!(error.cause(), NetError::Unreachable { peer } if *peer == closed));
                said.push(error);
            }
            Event::SendDone { sent, .. } => break sent,
            _ => {}
        }
    };
    assert_eq!(sent, 300, "the job went on to the end");
    // About 1.5 s of sending: two or three sayings, a few more on a slow machine.
    assert!((2..=8).contains(&said.len()), "{said:?}");
    assert_eq!(said[0], NetError::Unreachable { peer: closed });
    // The next saying counts what was held back in between.
    let NetError::Repeated { more, .. } = &said[1] else {
        panic!("{:?}", said[1])
    };
    assert!(*more > 100, "{more}");
    assert!(
        said[1]
            .to_string()
            .contains(" more like it since it was last said")
    );
}

#[test]
fn a_burst_of_sends_by_name_looks_up_only_the_first_and_the_last() {
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.set_read_timeout(Some(common::DEADLINE)).unwrap();
    let port = probe.local_addr().unwrap().port();
    let (gated, answer) = gated_resolver(port);
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let resolver: udpdesk::net::Resolver = Arc::new(move |host: &str, p: u16| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        gated(host, p)
    });
    let e = Engine::spawn_with_resolver(|| {}, resolver).unwrap();
    open_client(&e, 1);
    for i in 0..50u8 {
        send(&e, 1, SendJob::once(format!("server.test:{port}"), vec![i]));
    }
    // Each send superseded the one before: 49 end unsent at once.
    for _ in 0..49 {
        assert_eq!(send_done(&e, 1), 0);
    }
    // The first lookup may have begun before the rest came (its answer is
    // then ignored); the ones queued behind it are skipped; the last is
    // looked up and sent.
    answer.send(()).unwrap();
    answer.send(()).unwrap();
    assert_eq!(send_done(&e, 1), 1);
    let mut buf = [0u8; 8];
    let (n, _) = probe.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], &[49]);
    let calls = calls.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&calls), "{calls} lookups for 50 sends");
}

#[test]
fn a_failing_network_thread_says_why_and_a_new_engine_starts() {
    let e = engine();
    let at = start_server(&e, 1, server(ReplyMode::Echo));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"before"), b"before");
    e.send(Command::Fault(udpdesk::net::Fault::Panic)).unwrap();
    let reason = wait_for(&e, "the failure", |ev| match ev {
        Event::EngineFailed { reason } => Some(reason.clone()),
        _ => None,
    });
    assert!(reason.contains("a fault injected by a test"), "{reason}");
    let deadline = Instant::now() + common::DEADLINE;
    while e.is_running() {
        assert!(Instant::now() < deadline, "the thread did not end");
        std::thread::yield_now();
    }
    assert!(
        e.send(Command::StopCapture).is_err(),
        "no one is listening any more"
    );
    // The failed engine's port is free again for a new one.
    let fresh = engine();
    let again = start_server(
        &fresh,
        1,
        ServerConfig {
            bind: at,
            ..server(ReplyMode::Echo)
        },
    );
    assert_eq!(again, at);
}
