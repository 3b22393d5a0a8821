//! The relay over real loopback sockets: clients kept apart, mappings that
//! expire, every rule action, datagrams injected both ways, both legs recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{ask, peer, start_server, wait_failure, wait_for, wait_packets};
use udpdesk::net::{
    Command, Engine, Event, InjectTo, Leg, MappingChange, MatchKind, NetError, RelayAction,
    RelayConfig, RelayCounters, RelayRule, ReplyMode, Rewrite, RuleMatch, ServerConfig, Toward,
};
use udpdesk::packet::{Direction, EndpointId, Packet};

const RELAY: EndpointId = EndpointId(7);

fn engine() -> Engine {
    Engine::spawn(|| {}).unwrap()
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// An engine server answering as `reply` says.
fn server(e: &Engine, reply: ReplyMode) -> SocketAddr {
    let config = ServerConfig {
        reply,
        ..ServerConfig::new(any_port())
    };
    start_server(e, 1, config)
}

/// Starts the relay and returns its listening address.
fn start_relay(e: &Engine, config: RelayConfig) -> SocketAddr {
    e.send(Command::StartRelay { id: RELAY, config }).unwrap();
    wait_for(e, "the relay to start", |ev| match ev {
        Event::Started { id, local, .. } if *id == RELAY => Some(*local),
        Event::Failed {
            id: Some(id),
            error,
        } if *id == RELAY => panic!("relay failed: {error}"),
        _ => None,
    })
}

fn relay_to(upstream: SocketAddr, rules: Vec<RelayRule>) -> RelayConfig {
    RelayConfig {
        rules,
        ..RelayConfig::new(any_port(), upstream)
    }
}

fn rule(toward: Toward, action: RelayAction) -> RelayRule {
    RelayRule::new(toward, RuleMatch::any(), action)
}

fn relayed(p: &Packet) -> bool {
    p.endpoint == RELAY
}

/// The next datagram `sock` receives, and who sent it.
fn recv(sock: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0; 70_000];
    let (n, from) = sock.recv_from(&mut buf).expect("a datagram in time");
    buf.truncate(n);
    (buf, from)
}

#[test]
fn each_client_gets_its_own_upstream_socket_and_its_own_replies() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Template("{peer} said {text}".into()));
    let at = start_relay(&e, relay_to(upstream, Vec::new()));
    let (a, b) = (peer("127.0.0.1:0"), peer("127.0.0.1:0"));
    // `ask` checks that each answer comes from the relay's listening address.
    let to_a = String::from_utf8(ask(&a, at, b"from a")).unwrap();
    let to_b = String::from_utf8(ask(&b, at, b"from b")).unwrap();
    let again = String::from_utf8(ask(&a, at, b"a again")).unwrap();
    let opened: Vec<(SocketAddr, SocketAddr)> = (0..2)
        .map(|_| {
            wait_for(&e, "a mapping", |ev| match ev {
                Event::RelayMapping {
                    client,
                    upstream_local,
                    change: MappingChange::Opened,
                    ..
                } => Some((*client, *upstream_local)),
                _ => None,
            })
        })
        .collect();
    let upstream_of = |c: &UdpSocket| {
        let me = c.local_addr().unwrap();
        opened.iter().find(|(client, _)| *client == me).unwrap().1
    };
    assert_ne!(upstream_of(&a), upstream_of(&b), "one upstream socket each");
    assert_eq!(to_a, format!("{} said from a", upstream_of(&a)));
    assert_eq!(to_b, format!("{} said from b", upstream_of(&b)));
    assert_eq!(
        again,
        format!("{} said a again", upstream_of(&a)),
        "the same mapping"
    );
    let counters = wait_for(&e, "the counters", |ev| match ev {
        Event::RelayCounters { counters, .. } if counters.to_client == 3 => Some(*counters),
        _ => None,
    });
    assert_eq!((counters.to_server, counters.mappings), (3, 2));
}

#[test]
fn both_legs_are_recorded_in_order_under_the_relay() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let at = start_relay(&e, relay_to(upstream, Vec::new()));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"ping"), b"ping");
    let legs: Vec<(Leg, SocketAddr)> = wait_packets(&e, 4, relayed)
        .iter()
        .map(|p| (Leg::of(p, at), p.peer))
        .collect();
    let client = me.local_addr().unwrap();
    assert_eq!(
        legs,
        vec![
            (Leg::ClientToRelay, client),
            (Leg::RelayToServer, upstream),
            (Leg::ServerToRelay, upstream),
            (Leg::RelayToClient, client),
        ]
    );
}

#[test]
fn an_idle_mapping_expires_and_says_so() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let config = RelayConfig {
        idle_timeout: Duration::from_millis(200),
        ..relay_to(upstream, Vec::new())
    };
    let at = start_relay(&e, config);
    let me = peer("127.0.0.1:0");
    ask(&me, at, b"hello");
    let (client, upstream_local) = wait_for(&e, "the mapping to expire", |ev| match ev {
        Event::RelayMapping {
            client,
            upstream_local,
            change: MappingChange::Expired,
            ..
        } => Some((*client, *upstream_local)),
        _ => None,
    });
    assert_eq!(client, me.local_addr().unwrap());
    // A new datagram opens a new mapping and still gets through.
    assert_eq!(ask(&me, at, b"back"), b"back");
    let reopened = wait_for(&e, "a new mapping", |ev| match ev {
        Event::RelayMapping {
            upstream_local,
            change: MappingChange::Opened,
            ..
        } => Some(*upstream_local),
        _ => None,
    });
    assert_ne!(reopened, upstream_local, "the old socket was closed");
}

#[test]
fn a_drop_rule_lets_other_datagrams_through() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let drop = RelayRule::new(
        Toward::Server,
        RuleMatch::new(MatchKind::Contains, "secret"),
        RelayAction::Drop,
    );
    let at = start_relay(&e, relay_to(upstream, vec![drop]));
    let me = peer("127.0.0.1:0");
    me.send_to(b"a secret", at).unwrap();
    assert_eq!(
        ask(&me, at, b"plain"),
        b"plain",
        "the first echo is the second's"
    );
    // Counters go out as they change: wait for the update that has both.
    let c = wait_for(&e, "the drop and the forward counted", |ev| match ev {
        Event::RelayCounters { counters, .. }
            if counters.dropped == 1 && counters.to_server == 1 =>
        {
            Some(*counters)
        }
        _ => None,
    });
    assert_eq!((c.dropped, c.to_server), (1, 1));
}

#[test]
fn a_delayed_datagram_leaves_no_sooner_than_its_delay() {
    let e = engine();
    let upstream = peer("127.0.0.1:0");
    let delay = Duration::from_millis(150);
    let config = relay_to(
        upstream.local_addr().unwrap(),
        vec![rule(Toward::Server, RelayAction::Delay(delay))],
    );
    let at = start_relay(&e, config);
    let me = peer("127.0.0.1:0");
    me.send_to(b"slow", at).unwrap();
    me.send_to(b"slower", at).unwrap();
    assert_eq!(recv(&upstream).0, b"slow");
    assert_eq!(recv(&upstream).0, b"slower", "in order");
    let packets = wait_packets(&e, 4, relayed);
    let arrived = packets
        .iter()
        .find(|p| p.direction == Direction::In)
        .unwrap();
    let left = packets
        .iter()
        .find(|p| p.direction == Direction::Out)
        .unwrap();
    assert_eq!(&*left.bytes, b"slow");
    let waited = left.time.duration_since(arrived.time).unwrap();
    assert!(waited >= delay, "left after {waited:?}");
}

#[test]
fn a_duplicate_rule_sends_extra_copies() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let config = relay_to(
        upstream,
        vec![rule(Toward::Client, RelayAction::Duplicate(2))],
    );
    let at = start_relay(&e, config);
    let me = peer("127.0.0.1:0");
    me.send_to(b"twice more", at).unwrap();
    for _ in 0..3 {
        assert_eq!(recv(&me), (b"twice more".to_vec(), at));
    }
    let c = wait_for(&e, "the copies counted", |ev| match ev {
        Event::RelayCounters { counters, .. } if counters.to_client == 3 => Some(*counters),
        _ => None,
    });
    assert_eq!((c.to_server, c.duplicated), (1, 2));
}

#[test]
fn rewrites_fill_a_template_one_way_and_put_hex_the_other() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let rules = vec![
        RelayRule::new(
            Toward::Server,
            RuleMatch::new(MatchKind::Prefix, "bin"),
            RelayAction::Rewrite(Rewrite::Hex("de ad be ef".into())),
        ),
        rule(
            Toward::Client,
            RelayAction::Rewrite(Rewrite::Template("<{text}> #{seq}".into())),
        ),
    ];
    let at = start_relay(&e, relay_to(upstream, rules));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"hi"), b"<hi> #1");
    // The server gets the hex, echoes it, and the template wraps that.
    let mut wrapped = b"<".to_vec();
    wrapped.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    wrapped.extend_from_slice(b"> #2");
    assert_eq!(ask(&me, at, b"binary please"), wrapped);
}

#[test]
fn a_rewrite_takes_regex_groups_and_can_spoil_a_checksum_on_purpose() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let rules = vec![
        RelayRule::new(
            Toward::Server,
            RuleMatch::new(MatchKind::Regex, r"^SET (\w+)=(\d+)$"),
            RelayAction::Rewrite(Rewrite::Template("SET {1}={2}0".into())),
        ),
        // A Modbus frame: rewritten with its CRC's bytes swapped, which
        // the server's own check must then catch.
        RelayRule::new(
            Toward::Server,
            RuleMatch::new(MatchKind::Hex, "01 03 *"),
            RelayAction::Rewrite(Rewrite::Hex("01 03 00 00 00 0A {crc16_modbus:be}".into())),
        ),
    ];
    let at = start_relay(&e, relay_to(upstream, rules));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"SET speed=5"), b"SET speed=50");
    assert_eq!(
        ask(&me, at, &[1, 3, 0, 0, 0, 10, 0xc5, 0xcd]),
        [1, 3, 0, 0, 0, 10, 0xcd, 0xc5]
    );
}

#[test]
fn datagrams_are_injected_both_ways() {
    let e = engine();
    let upstream = peer("127.0.0.1:0");
    let at = start_relay(&e, relay_to(upstream.local_addr().unwrap(), Vec::new()));
    let me = peer("127.0.0.1:0");
    let client = me.local_addr().unwrap();
    me.send_to(b"hello", at).unwrap();
    let (_, from) = recv(&upstream);
    let inject = |to, payload: &[u8]| {
        e.send(Command::Inject {
            id: RELAY,
            to,
            payload: payload.to_vec(),
        })
        .unwrap();
    };
    inject(InjectTo::Client { client }, b"as if from the server");
    assert_eq!(recv(&me), (b"as if from the server".to_vec(), at));
    inject(InjectTo::Server { client }, b"as if from the client");
    assert_eq!(
        recv(&upstream),
        (b"as if from the client".to_vec(), from),
        "through the client's own upstream socket"
    );
    let legs: Vec<Leg> = wait_packets(&e, 4, relayed)
        .iter()
        .map(|p| Leg::of(p, at))
        .collect();
    assert_eq!(
        legs,
        [
            Leg::ClientToRelay,
            Leg::RelayToServer,
            Leg::RelayToClient,
            Leg::RelayToServer
        ]
    );
    let c: RelayCounters = wait_for(&e, "the injections counted", |ev| match ev {
        Event::RelayCounters { counters, .. } if counters.injected == 2 => Some(*counters),
        _ => None,
    });
    assert_eq!((c.to_server, c.to_client), (2, 1));
}

#[test]
fn rules_change_while_the_relay_runs() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let at = start_relay(&e, relay_to(upstream, Vec::new()));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"plain"), b"plain");
    e.send(Command::UpdateRelay {
        id: RELAY,
        rules: vec![rule(
            Toward::Both,
            RelayAction::Rewrite(Rewrite::Template("[{text}]".into())),
        )],
        idle_timeout: Duration::from_secs(60),
    })
    .unwrap();
    assert_eq!(ask(&me, at, b"x"), b"[[x]]", "rewritten each way");
}

#[test]
fn a_relay_to_itself_or_with_a_bad_rule_does_not_start() {
    let e = engine();
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let free = taken.local_addr().unwrap();
    drop(taken);
    let config = RelayConfig::new(free, free);
    e.send(Command::StartRelay { id: RELAY, config }).unwrap();
    let err = wait_failure(&e, RELAY.0);
    assert!(matches!(err, NetError::BadAddress { .. }), "{err}");
    let bad = vec![rule(
        Toward::Both,
        RelayAction::Rewrite(Rewrite::Template("{nope}".into())),
    )];
    e.send(Command::StartRelay {
        id: RELAY,
        config: relay_to("127.0.0.1:9".parse().unwrap(), bad),
    })
    .unwrap();
    let err = wait_failure(&e, RELAY.0);
    assert!(matches!(err, NetError::RelayRule { rule: 1, .. }), "{err}");
}

#[test]
fn closing_the_relay_closes_its_mappings_and_tells_the_last_counters() {
    let e = engine();
    let upstream = server(&e, ReplyMode::Echo);
    let at = start_relay(&e, relay_to(upstream, Vec::new()));
    let me = peer("127.0.0.1:0");
    ask(&me, at, b"one");
    e.send(Command::Close { id: RELAY }).unwrap();
    let last = wait_for(&e, "the last counters", |ev| match ev {
        Event::RelayCounters { counters, .. } if counters.mappings == 0 => Some(*counters),
        _ => None,
    });
    assert_eq!((last.to_server, last.to_client), (1, 1));
    wait_for(&e, "the relay to stop", |ev| match ev {
        Event::Stopped { id, .. } if *id == RELAY => Some(()),
        _ => None,
    });
}
