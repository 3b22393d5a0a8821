//! `udpdesk bench` run as a binary against echo threads on loopback: what the
//! summary says of loss, duplicates, order and round trips, what it declines to
//! say when the replies carry no numbers, bad input, and that it always ends.
//! No rate or latency is asserted: the machine running the tests may be slow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Output, Stdio};
use std::thread::JoinHandle;

use serde_json::Value;

#[path = "common/process.rs"]
mod process;

use process::{text, udpdesk, wait_exit};

/// The datagram that ends an echo thread; a bench datagram never looks like it.
const QUIT: &[u8] = b"quit the echo";

/// How an echo thread answers.
#[derive(Clone, Copy)]
enum Answer {
    /// With the datagram itself.
    Echo,
    /// With the same few bytes whatever came.
    Fixed,
}

/// A thread answering datagrams on 127.0.0.1, ended when dropped.
struct EchoServer {
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    fn start(answer: Answer) -> EchoServer {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        // Room for a burst while the test machine is busy elsewhere: the tests
        // check counting, not how much a loaded machine drops.
        socket.set_recv_buffer_size(1 << 20).ok();
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let socket = UdpSocket::from(socket);
        let addr = socket.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let got = &buf[..n];
                if got == QUIT {
                    break;
                }
                let reply = match answer {
                    Answer::Echo => got,
                    Answer::Fixed => b"ok, got it".as_slice(),
                };
                socket.send_to(reply, from).ok();
            }
        });
        EchoServer {
            addr,
            thread: Some(thread),
        }
    }

    fn target(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let me = UdpSocket::bind("127.0.0.1:0").unwrap();
        me.send_to(QUIT, self.addr).ok();
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

/// A loopback port with nothing bound to it (as far as anyone can tell).
fn closed_port() -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().to_string()
}

fn spawn(args: &[&str]) -> Child {
    udpdesk()
        .arg("bench")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn bench(args: &[&str]) -> Output {
    wait_exit(spawn(args))
}

/// The one JSON object a successful `--json` run prints.
fn summary(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn open_loop_against_an_echo_loses_nothing() {
    let echo = EchoServer::start(Answer::Echo);
    let out = bench(&[
        &echo.target(),
        "--count",
        "500",
        "--rate",
        "5000",
        "--json",
        "--wait",
        "15s",
    ]);
    let s = summary(&out);
    assert_eq!(s["mode"], "open", "{s}");
    assert_eq!(s["sent"], 500, "{s}");
    assert_eq!(s["received"], 500, "{s}");
    assert_eq!(s["lost"], 0, "{s}");
    assert_eq!(s["loss_percent"], 0.0, "{s}");
    assert_eq!(s["duplicates"], 0, "{s}");
    assert_eq!(s["reordered"], 0, "{s}");
    assert_eq!(s["interrupted"], false, "{s}");
    let rtt = &s["rtt_us"];
    assert!(
        rtt["p50"].as_f64().unwrap() <= rtt["max"].as_f64().unwrap(),
        "{s}"
    );
}

#[test]
fn every_socket_gets_its_own_replies() {
    let echo = EchoServer::start(Answer::Echo);
    let args = [
        &echo.target(),
        "--count",
        "400",
        "--rate",
        "4000",
        "--sockets",
        "4",
    ];
    let out = bench(&[&args[..], &["--size", "100", "--json", "--wait", "15s"]].concat());
    let s = summary(&out);
    assert_eq!(s["sockets"], 4, "{s}");
    assert_eq!(s["size"], 100, "{s}");
    assert_eq!(s["received"], 400, "{s}");
    assert_eq!(s["lost"], 0, "{s}");
    assert_eq!(s["duplicates"], 0, "{s}");
}

#[test]
fn fixed_replies_are_counted_but_loss_is_not_guessed() {
    let fixed = EchoServer::start(Answer::Fixed);
    let out = bench(&[
        &fixed.target(),
        "--count",
        "500",
        "--rate",
        "5000",
        "--json",
        "--wait",
        "15s",
    ]);
    let s = summary(&out);
    assert_eq!(s["sent"], 500, "{s}");
    assert_eq!(s["received"], 500, "{s}");
    for field in ["lost", "loss_percent", "duplicates", "reordered", "rtt_us"] {
        assert!(s[field].is_null(), "{field} should be null: {s}");
    }

    let out = bench(&[
        &fixed.target(),
        "--count",
        "20",
        "--rate",
        "1000",
        "--wait",
        "15s",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(line.starts_with("sent 20 in "), "{line}");
    assert!(
        line.contains("received 20 (loss n/a), n/a duplicates, n/a reordered"),
        "{line}"
    );
}

#[test]
fn text_summary_is_one_line() {
    let echo = EchoServer::start(Answer::Echo);
    let out = bench(&[
        &echo.target(),
        "--count",
        "100",
        "--rate",
        "2000",
        "--wait",
        "15s",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("sent 100 in "), "{stdout}");
    assert!(
        stdout.contains("received 100 (0.00% lost), 0 duplicates, 0 reordered, rtt p50 "),
        "{stdout}"
    );
}

#[test]
fn closed_loop_reports_ordered_round_trip_times() {
    let echo = EchoServer::start(Answer::Echo);
    let out = bench(&[
        &echo.target(),
        "--closed",
        "--count",
        "50",
        "--json",
        "--timeout",
        "10s",
    ]);
    let s = summary(&out);
    assert_eq!(s["mode"], "closed", "{s}");
    assert_eq!(s["sent"], 50, "{s}");
    assert_eq!(s["received"], 50, "{s}");
    assert_eq!(s["lost"], 0, "{s}");
    assert_eq!(s["late"], 0, "{s}");
    let rtt = &s["rtt_us"];
    let p: Vec<f64> = ["p50", "p90", "p99", "max"]
        .iter()
        .map(|k| {
            rtt[*k]
                .as_f64()
                .unwrap_or_else(|| panic!("{k} missing: {s}"))
        })
        .collect();
    assert!(
        p[0] > 0.0 && p[0] <= p[1] && p[1] <= p[2] && p[2] <= p[3],
        "{s}"
    );
}

#[test]
fn closed_loop_takes_a_fixed_reply_as_the_answer() {
    let fixed = EchoServer::start(Answer::Fixed);
    let out = bench(&[
        &fixed.target(),
        "--closed",
        "--count",
        "30",
        "--json",
        "--timeout",
        "10s",
    ]);
    let s = summary(&out);
    assert_eq!(s["received"], 30, "{s}");
    assert_eq!(s["lost"], 0, "{s}");
    assert!(s["duplicates"].is_null(), "{s}");
    assert!(s["rtt_us"]["p99"].is_number(), "{s}");
}

#[test]
fn runs_against_a_closed_port_end_in_time() {
    let target = closed_port();
    let open = bench(&[
        &target,
        "--duration",
        "300ms",
        "--rate",
        "1000",
        "--wait",
        "100ms",
        "--json",
    ]);
    let s = summary(&open);
    assert!(s["sent"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["received"], 0, "{s}");
    assert_eq!(s["lost"], s["sent"], "{s}");

    let closed = bench(&[
        &target,
        "--closed",
        "--duration",
        "300ms",
        "--timeout",
        "100ms",
        "--json",
    ]);
    let s = summary(&closed);
    assert_eq!(s["received"], 0, "{s}");
    assert!(s["rtt_us"].is_null(), "{s}");
}

#[test]
fn ctrl_c_stops_at_once_and_still_prints_the_summary() {
    let echo = EchoServer::start(Answer::Echo);
    let mut child = spawn(&[
        &echo.target(),
        "--duration",
        "10min",
        "--rate",
        "1000",
        "--json",
    ]);
    // The banner comes after the Ctrl-C handler is in place.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    stderr.read_line(&mut banner).unwrap();
    assert!(banner.contains("Ctrl-C stops"), "{banner}");
    process::interrupt(&child);
    let out = wait_exit(child);
    let s = summary(&out);
    assert_eq!(s["interrupted"], true, "{s}");
    assert!(s["lost"].is_number(), "{s}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for (args, needle) in [
        (vec!["127.0.0.1"], "add the port"),
        (vec!["127.0.0.1:0"], "port 0"),
        (vec!["nowhere.invalid:9"], "could not resolve"),
        (vec!["127.0.0.1:9", "--size", "10"], "the minimum is 24"),
        (vec!["127.0.0.1:9", "--size", "65508"], "65507"),
        (vec!["[::1]:9", "--size", "65528"], "65527"),
        (vec!["127.0.0.1:9", "--sockets", "0"], "--sockets 0"),
        (
            vec!["127.0.0.1:9", "--count", "0"],
            "--count must be at least 1",
        ),
        (vec!["127.0.0.1:9", "--duration", "0s"], "--duration"),
        (
            vec!["127.0.0.1:9", "--count", "5", "--duration", "1s"],
            "cannot be used with",
        ),
        (
            vec!["127.0.0.1:9", "--closed", "--rate", "10"],
            "cannot be used with",
        ),
        (vec!["127.0.0.1:9", "--rate", "fast"], "invalid value"),
    ] {
        let out = bench(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
