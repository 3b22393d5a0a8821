//! Shared helpers for the engine tests: wait on events with a deadline, never sleep.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use udpdesk::net::{Command, Engine, Event, ServerConfig};
use udpdesk::packet::{Direction, EndpointId, Packet};

/// How long any single expectation may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Waits for the first event `pick` accepts; panics with what came instead on timeout.
pub fn wait_for<T>(engine: &Engine, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let end = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match engine.events().recv_timeout(left) {
            Ok(event) => {
                if let Some(t) = pick(&event) {
                    return t;
                }
                seen.push(format!("{event:?}"));
            }
            Err(_) => panic!("timed out waiting for {what}; saw instead: {seen:#?}"),
        }
    }
}

/// Waits until `n` packets matching `keep` have arrived, and returns them.
pub fn wait_packets(engine: &Engine, n: usize, keep: impl Fn(&Packet) -> bool) -> Vec<Packet> {
    let mut got = Vec::new();
    let end = Instant::now() + DEADLINE;
    while got.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        match engine.events().recv_timeout(left) {
            Ok(Event::Packets { packets, .. }) => {
                got.extend(packets.into_iter().filter(|p| keep(p)))
            }
            Ok(Event::Failed { error, .. }) => panic!("unexpected failure: {error}"),
            Ok(_) => {}
            Err(_) => panic!("timed out with {} of {n} packets: {got:#?}", got.len()),
        }
    }
    got
}

/// Starts a server and returns the address it really bound.
pub fn start_server(engine: &Engine, id: u32, config: ServerConfig) -> SocketAddr {
    let id = EndpointId(id);
    engine.send(Command::StartServer { id, config }).unwrap();
    wait_for(engine, "the server to start", |e| match e {
        Event::Started { id: i, local, .. } if *i == id => Some(*local),
        Event::Failed { id: Some(i), error } if *i == id => panic!("server failed: {error}"),
        _ => None,
    })
}

/// The failure reported for endpoint `id`.
pub fn wait_failure(engine: &Engine, id: u32) -> udpdesk::net::NetError {
    wait_for(engine, "a failure", |e| match e {
        Event::Failed { id: Some(i), error } if i.0 == id => Some(error.clone()),
        _ => None,
    })
}

/// A plain blocking socket to play the other side, with a read deadline.
pub fn peer(bind: &str) -> UdpSocket {
    let s = UdpSocket::bind(bind).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s
}

/// Sends `msg` from `sock` to `to` and returns the answer.
pub fn ask(sock: &UdpSocket, to: SocketAddr, msg: &[u8]) -> Vec<u8> {
    sock.send_to(msg, to).unwrap();
    let mut buf = vec![0; 70_000];
    let (n, from) = sock
        .recv_from(&mut buf)
        .expect("an answer before the deadline");
    assert_eq!(from, to, "the answer comes from the server's address");
    buf.truncate(n);
    buf
}

/// Direction filter for `wait_packets`.
pub fn incoming(p: &Packet) -> bool {
    p.direction == Direction::In
}
