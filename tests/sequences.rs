//! Sequences over real loopback sockets: steps in order with their pauses
//! (checked against the packets' own timestamps), expect steps met by a
//! matching reply or timing out, loops stopped by the owner, and bad steps
//! refused before anything is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{start_server, wait_failure, wait_for, wait_packets};
use udpdesk::net::{
    ClientConfig, Command, Engine, Event, MatchKind, ReplyMode, Sequence, SequenceEnd,
    ServerConfig, Step, StepKind,
};
use udpdesk::packet::{Direction, EndpointId};

const CLIENT: EndpointId = EndpointId(2);

fn engine() -> Engine {
    Engine::spawn(|| {}).unwrap()
}

fn step(kind: StepKind, text: &str, ms: u64) -> Step {
    Step {
        kind,
        text: text.into(),
        matching: MatchKind::Exact,
        ms,
    }
}

fn run(e: &Engine, target: std::net::SocketAddr, sequence: Sequence) {
    e.send(Command::OpenClient {
        id: CLIENT,
        config: ClientConfig::default(),
    })
    .unwrap();
    e.send(Command::RunSequence {
        id: CLIENT,
        target: target.to_string(),
        sequence,
    })
    .unwrap();
}

fn done(e: &Engine) -> (SequenceEnd, u64, u64) {
    wait_for(e, "the sequence to end", |ev| match ev {
        Event::SequenceDone {
            end, rounds, sent, ..
        } => Some((end.clone(), *rounds, *sent)),
        _ => None,
    })
}

/// Like [`done`], keeping the client's packets that came before the end.
fn done_with_packets(
    e: &Engine,
    packets: &mut Vec<udpdesk::packet::Packet>,
) -> (SequenceEnd, u64, u64) {
    wait_for(e, "the sequence to end", |ev| match ev {
        Event::Packets { packets: p, .. } => {
            packets.extend(p.iter().filter(|p| p.endpoint == CLIENT).cloned());
            None
        }
        Event::SequenceDone {
            end, rounds, sent, ..
        } => Some((end.clone(), *rounds, *sent)),
        _ => None,
    })
}

fn server(e: &Engine, mode: ReplyMode) -> std::net::SocketAddr {
    start_server(
        e,
        1,
        ServerConfig {
            reply: mode,
            ..ServerConfig::new("127.0.0.1:0".parse().unwrap())
        },
    )
}

#[test]
fn steps_run_in_order_with_their_pauses_and_replies_met() {
    let e = engine();
    let at = server(&e, ReplyMode::Upper);
    run(
        &e,
        at,
        Sequence {
            client: String::new(),
            name: "hello".into(),
            repeat: 2,
            steps: vec![
                step(StepKind::Send, "ping", 0),
                step(StepKind::Expect, "PING", 1000),
                step(StepKind::Pause, "", 150),
                step(StepKind::SendHex, "01 02", 0),
            ],
        },
    );
    let mut mine = Vec::new();
    let (end, rounds, sent) = done_with_packets(&e, &mut mine);
    assert_eq!((end, rounds, sent), (SequenceEnd::Completed, 2, 4));
    // The last echo may come after the end.
    let left = 8 - mine.len();
    mine.extend(wait_packets(&e, left, |p| p.endpoint == CLIENT));
    let of = |dir: Direction| -> Vec<&udpdesk::packet::Packet> {
        mine.iter().filter(|p| p.direction == dir).collect()
    };
    let (outs, ins) = (of(Direction::Out), of(Direction::In));
    let sent: Vec<&[u8]> = outs.iter().map(|p| &*p.bytes).collect();
    assert_eq!(sent, [&b"ping"[..], &[1, 2], b"ping", &[1, 2]]);
    // The pause runs from the met reply to the next send, by the packets' clocks.
    for round in 0..2 {
        let met = ins
            .iter()
            .filter(|p| &*p.bytes == b"PING")
            .nth(round)
            .expect("the reply that met the expect step");
        let next = outs[round * 2 + 1];
        let gap = next.time.duration_since(met.time).unwrap();
        assert!(
            gap >= Duration::from_millis(150) && gap < Duration::from_millis(1000),
            "round {round}: {gap:?}"
        );
    }
}

#[test]
fn an_expect_step_times_out_and_the_run_stops_there() {
    let e = engine();
    let at = server(&e, ReplyMode::None);
    run(
        &e,
        at,
        Sequence {
            client: String::new(),
            name: "silent".into(),
            repeat: 3,
            steps: vec![
                step(StepKind::Send, "anyone?", 0),
                step(StepKind::Expect, "yes", 200),
                step(StepKind::Send, "never sent", 0),
            ],
        },
    );
    let (end, rounds, sent) = done(&e);
    assert_eq!(end, SequenceEnd::TimedOut { round: 1, step: 2 });
    assert_eq!((rounds, sent), (0, 1));
}

#[test]
fn a_looping_sequence_runs_until_stopped() {
    let e = engine();
    let at = server(&e, ReplyMode::Echo);
    run(
        &e,
        at,
        Sequence {
            client: String::new(),
            name: "loop".into(),
            repeat: 0,
            steps: vec![
                step(StepKind::Send, "tick", 0),
                step(StepKind::Pause, "", 20),
            ],
        },
    );
    // Let it go round a few times, counted by the echoes.
    wait_packets(&e, 9, |p| {
        p.endpoint == CLIENT && p.direction == Direction::In
    });
    e.send(Command::StopSending { id: CLIENT }).unwrap();
    let (end, rounds, _) = done(&e);
    assert_eq!(end, SequenceEnd::Stopped);
    assert!(rounds >= 8, "{rounds}");
}

#[test]
fn bad_steps_are_refused_before_anything_is_sent() {
    let e = engine();
    let at = server(&e, ReplyMode::Echo);
    run(
        &e,
        at,
        Sequence {
            client: String::new(),
            name: "bad".into(),
            repeat: 1,
            steps: vec![
                step(StepKind::Send, "ok", 0),
                step(StepKind::SendHex, "zz", 0),
            ],
        },
    );
    let err = wait_failure(&e, CLIENT.0).to_string();
    assert!(err.contains("step 2:"), "{err}");
    assert_eq!(done(&e), (SequenceEnd::Failed, 0, 0));
}

#[test]
fn the_readme_sequence_file_reads_and_checks() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("name = \"plc check\"")
        .expect("the README shows a sequence");
    let body = &readme[start..];
    let text = &body[..body.find("```").unwrap()];
    let s = Sequence::parse(text).unwrap();
    assert_eq!((s.repeat, s.steps.len()), (3, 4));
    s.check(udpdesk::codec::Encoding::Utf8).unwrap();
}

#[test]
fn steps_that_take_no_time_do_not_hold_the_network_thread() {
    let e = engine();
    let at = server(&e, ReplyMode::Echo);
    run(
        &e,
        at,
        Sequence {
            client: String::new(),
            name: "busy".into(),
            repeat: u64::MAX,
            steps: vec![
                step(StepKind::Send, "flood", 0),
                step(StepKind::Pause, "", 0),
            ],
        },
    );
    // The engine still answers: a second server starts while the run goes on.
    let other = start_server(
        &e,
        3,
        ServerConfig {
            reply: ReplyMode::Echo,
            ..ServerConfig::new("127.0.0.1:0".parse().unwrap())
        },
    );
    assert_ne!(other.port(), 0);
    e.send(Command::StopSending { id: CLIENT }).unwrap();
    let (end, _, _) = done(&e);
    assert_eq!(end, SequenceEnd::Stopped);
}
