//! The binary itself: `udpdesk serve` and `udpdesk send` talking to each other
//! over loopback, and bad input ending with a one-line reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Child, Output, Stdio};

#[path = "common/process.rs"]
mod process;
#[path = "common/server.rs"]
mod server;

use process::{DEADLINE, text, udpdesk, wait_exit};
use server::{Server, wait_line};

/// Starts the binary with `args`, its output piped.
fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: Stdio) -> Child {
    udpdesk()
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn send(args: &[&str]) -> Output {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    wait_exit(spawn(&all, Stdio::null()))
}

#[test]
fn echo_server_and_client_talk_and_quit_word_ends_the_server() {
    let server = Server::start(&["--quit-word", "quit"]);
    let to = server.addr.to_string();
    let out = send(&[
        &to,
        "Hello, world",
        "quit",
        "--replies",
        "2",
        "--wait",
        "15s",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].contains("out") && lines[0].contains("Hello, world"),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("in ") && l.contains("from") && l.contains("Hello, world")),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("2 packets (16 B) in, 2 packets (16 B) out"),
        "{}",
        text(&out.stderr)
    );

    let (status, rest) = server.finish();
    assert!(status.status.success());
    let summary = rest.join("\n");
    assert!(summary.contains("sent the quit word \"quit\""), "{summary}");
    assert!(
        summary.contains("2 packets (16 B) in, 2 packets (16 B) out"),
        "{summary}"
    );
    let served = text(&status.stdout);
    assert_eq!(served.lines().count(), 4, "{served}");
}

#[test]
fn template_server_greets_three_names_in_order() {
    let server = Server::start(&["--reply", "template:Hello, {text}!", "--quit-word", "bye"]);
    let to = server.addr.to_string();
    let out = send(&[
        &to,
        "Michael",
        "Tracy",
        "Sarah",
        "--replies",
        "3",
        "--wait",
        "15s",
    ]);
    let stdout = text(&out.stdout);
    let greetings: Vec<&str> = stdout.lines().filter(|l| l.contains("Hello,")).collect();
    assert_eq!(greetings.len(), 3, "{stdout}");
    for (line, name) in greetings.iter().zip(["Michael", "Tracy", "Sarah"]) {
        assert!(line.ends_with(&format!("Hello, {name}!")), "{line}");
    }
    send(&[&to, "bye", "--wait", "0ms"]);
    assert!(server.finish().0.status.success());
}

#[test]
fn gbk_server_acknowledges_in_chinese() {
    let server = Server::start(&[
        "--encoding",
        "gbk",
        "--reply",
        "fixed:收到你的消息了",
        "--quit-word",
        "退出",
    ]);
    let to = server.addr.to_string();
    let out = send(&[
        &to,
        "你好，世界",
        "--encoding",
        "gbk",
        "--json",
        "--replies",
        "1",
        "--wait",
        "15s",
    ]);
    let records: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["direction"], "out");
    assert_eq!(records[0]["text"], "你好，世界");
    assert_eq!(records[0]["hex"], "c4 e3 ba c3 a3 ac ca c0 bd e7");
    assert_eq!(records[1]["direction"], "in");
    assert_eq!(records[1]["text"], "收到你的消息了");
    assert_eq!(records[1]["encoding"], "gbk");
    send(&[&to, "退出", "--encoding", "gbk", "--wait", "0ms"]);
    let (status, _) = server.finish();
    assert!(
        text(&status.stdout).contains("你好，世界"),
        "the server decodes GBK too"
    );
}

#[test]
fn manual_server_replies_with_typed_lines() {
    let mut server = Server::start(&["--reply", "manual", "--encoding", "gbk"]);
    let me = UdpSocket::bind("127.0.0.1:0").unwrap();
    me.set_read_timeout(Some(DEADLINE)).unwrap();
    me.send_to("在吗".as_bytes(), server.addr).unwrap();
    // The server says so on stdout once it has the datagram; then a typed line answers it.
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("from"), "{first}");
    let stdin = server.child.stdin.as_mut().unwrap();
    writeln!(stdin, "服务端:在").unwrap();
    stdin.flush().unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = me.recv_from(&mut buf).unwrap();
    assert_eq!(from, server.addr);
    assert_eq!(
        &buf[..n],
        [0xb7, 0xfe, 0xce, 0xf1, 0xb6, 0xcb, 0x3a, 0xd4, 0xda]
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[test]
fn hex_messages_and_dump() {
    let server = Server::start(&["--reply", "upper", "--quit-word", "q"]);
    let to = server.addr.to_string();
    let out = send(&[
        &to,
        "--hex",
        "0x68,0x69 0a",
        "--dump",
        "--replies",
        "1",
        "--wait",
        "15s",
    ]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("00000000  48 49 0a"), "{stdout}");
    assert!(stdout.contains("|HI.|"), "{stdout}");
    send(&[&to, "q", "--wait", "0ms"]);
    assert!(server.finish().0.status.success());
}

#[test]
fn bad_input_exits_non_zero_with_one_line() {
    for (args, status, needle) in [
        (vec!["send", "127.0.0.1:9", "--hex", "48 6g"], 2, "'g'"),
        (vec!["send", "127.0.0.1", "hi"], 2, "add the port"),
        (vec!["send", "127.0.0.1:9", "bad \\q escape"], 2, "escape"),
        (
            vec!["send", "nowhere.invalid:9", "hi"],
            2,
            "could not resolve",
        ),
        (
            vec!["serve", "--bind", "localhost:x"],
            2,
            "not a valid address",
        ),
        (vec!["serve", "--reply", "shout"], 2, "unknown reply mode"),
        (
            vec!["send", "127.0.0.1:9", "hi", "--encoding", "klingon"],
            2,
            "klingon",
        ),
    ] {
        let child = spawn(&args, Stdio::null());
        let out = wait_exit(child);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn port_in_use_and_nobody_listening_are_runtime_failures() {
    let holder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let child = spawn(&["serve", "--bind", &taken], Stdio::null());
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    drop(holder);
    // Ends as soon as the failure is known, long before the wait is up.
    let out = send(&[&taken, "anyone?", "--wait", "15s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("nobody is listening at {taken}")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn lines_piped_into_send_all_go_in_order() {
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    listener.set_read_timeout(Some(DEADLINE)).unwrap();
    let to = listener.local_addr().unwrap().to_string();
    let mut child = spawn(
        &[
            "send",
            &to,
            "--count",
            "3",
            "--interval",
            "1ms",
            "--wait",
            "0ms",
        ],
        Stdio::piped(),
    );
    child.stdin.take().unwrap().write_all(b"a\nb\n").unwrap();
    let out = wait_exit(child);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut got = Vec::new();
    let mut buf = [0u8; 16];
    for _ in 0..6 {
        let (n, _) = listener.recv_from(&mut buf).unwrap();
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(got, ["a", "a", "a", "b", "b", "b"]);
}

#[test]
fn a_send_that_fails_in_the_engine_ends_with_status_1() {
    let holder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = listener.local_addr().unwrap().to_string();
    let out = send(&["--bind", &taken, &to, "hi", "--wait", "15s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already in use"),
        "{}",
        text(&out.stderr)
    );
    // Too long for one argument: the hex comes as a line on stdin.
    let mut child = spawn(&["send", &to, "--hex", "--wait", "15s"], Stdio::piped());
    let line = format!("{}\n", "00".repeat(65_508));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("too large"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_are_one_line() {
    let child = spawn(&["send", "127.0.0.1:9", "--count", "x"], Stdio::null());
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--count"), "{err}");
}

#[test]
fn quiet_serve_prints_only_its_start_line_and_summary() {
    let server = Server::start(&["--quiet", "--quit-word", "quit"]);
    let to = server.addr.to_string();
    let out = send(&[&to, "one", "two", "quit", "--replies", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, rest) = server.finish();
    assert!(status.status.success());
    assert_eq!(text(&status.stdout), "", "no packet lines");
    let summary = rest.join("\n");
    assert!(
        summary.contains("3 packets (10 B) in, 3 packets (10 B) out, 3 automatic replies"),
        "{summary}"
    );
}

#[test]
fn the_start_line_shows_the_buffers_the_kernel_granted() {
    let mut child = spawn(
        &["serve", "--bind", "127.0.0.1:0", "--quit-word", "q"],
        Stdio::null(),
    );
    let err = child.stderr.take().unwrap();
    let mut first = String::new();
    BufReader::new(err).read_line(&mut first).unwrap();
    child.kill().ok();
    child.wait().ok();
    let granted = first
        .split("buffers granted: receive ")
        .nth(1)
        .unwrap_or_else(|| panic!("{first}"));
    let recv: u64 = granted.split(' ').next().unwrap().parse().unwrap();
    assert!(recv > 0, "{first}");
    assert!(first.contains(", send "), "{first}");
}

#[test]
fn a_long_datagram_prints_256_characters_unless_full() {
    let server = Server::start(&["--quit-word", "quit", "--reply", "none"]);
    let to = server.addr.to_string();
    let long = "a".repeat(1000);
    let out = send(&[&to, &long, "quit", "--wait", "0ms"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout).lines().next().unwrap().to_owned();
    assert!(
        line.ends_with(&format!("{}… (+744 B)", "a".repeat(256))),
        "{line}"
    );
    let (status, _) = server.finish();
    assert!(text(&status.stdout).contains("… (+744 B)"));

    let server = Server::start(&["--quit-word", "quit", "--reply", "none"]);
    let to = server.addr.to_string();
    let out = send(&[&to, &long, "quit", "--wait", "0ms", "--full"]);
    let line = text(&out.stdout).lines().next().unwrap().to_owned();
    assert!(line.ends_with(&long), "{line}");
    server.finish();
}

#[test]
fn window_with_a_bad_server_address_says_so_in_one_line() {
    let out = wait_exit(spawn(
        &["window", "--serve", "999.1.1.1:9999"],
        Stdio::null(),
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("999.1.1.1"), "{err}");
}

#[test]
fn the_summary_counts_exactly_the_replies_printed() {
    // No reply limit: every datagram that arrives is answered.
    let server = Server::start(&["--quiet", "--quit-word", "quit", "--reply-limit", "0"]);
    let to = server.addr.to_string();
    let out = send(&[&to, "x", "--count", "3000", "--replies", "3000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout)
        .lines()
        .filter(|l| l.contains(" in  from "))
        .count();
    let summary = text(&out.stderr);
    assert!(printed > 1000, "most replies came back: {printed}");
    assert!(
        summary.contains(&format!("{printed} packets ({printed} B) in")),
        "{printed} replies printed; {summary}"
    );
    let quit = send(&[&to, "quit", "--replies", "1"]);
    assert!(quit.status.success());
    server.finish();
}

#[test]
fn a_flood_from_one_peer_gets_at_most_the_reply_limit_and_the_rest_is_counted() {
    let server = Server::start(&[
        "--quiet",
        "--reply-limit",
        "100",
        "--reply-limit-total",
        "0",
    ]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..2_000u32 {
        sock.send_to(&i.to_be_bytes(), server.addr).unwrap();
    }
    // A last datagram a second later: a new second, a new allowance.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sock.send_to(b"later", server.addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 16];
    let mut replies = 0u64;
    while let Ok((n, _)) = sock.recv_from(&mut buf) {
        replies += 1;
        if &buf[..n] == b"later" {
            break;
        }
    }
    server.interrupt();
    let (out, lines) = server.finish();
    assert!(out.status.success());
    let summary = lines.iter().find(|l| l.contains("stopped (")).unwrap();
    // The flood spans one or two one-second windows; the late one is a third.
    assert!(
        (101..=201).contains(&replies),
        "{replies} replies; {summary}"
    );
    assert!(
        summary.contains(&format!("{replies} automatic replies")),
        "{summary}"
    );
    let held = 2_001 - replies;
    assert!(
        summary.contains(&format!("{held} automatic replies held back")),
        "{summary}"
    );
}

#[test]
fn serve_warns_when_it_answers_other_machines() {
    for (bind, warns) in [("0.0.0.0:0", true), ("127.0.0.1:0", false)] {
        let mut child = udpdesk()
            .args(["serve", "--bind", bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        wait_line(&rx, "reply limit: 1000/s a peer, 10000/s in all");
        // The warning, when there is one, is the very next line.
        let next = rx.recv_timeout(std::time::Duration::from_millis(500));
        let warned = next
            .as_deref()
            .is_ok_and(|l| l.contains("reachable from other machines"));
        assert_eq!(warned, warns, "{bind}: {next:?}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[test]
fn an_error_about_typed_text_with_line_breaks_stays_one_line() {
    for message in ["bad\n\\x4", "\r\n\\u{110000}\u{7}"] {
        let out = send(&["127.0.0.1:9", message]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
        assert!(
            err.contains("\\n"),
            "the break is shown as an escape: {err}"
        );
    }
}

#[test]
fn a_multicast_group_that_is_not_one_is_bad_input() {
    let out = wait_exit(spawn(
        &["serve", "--bind", "127.0.0.1:0", "--multicast", "10.0.0.1"],
        Stdio::null(),
    ));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a multicast group"), "{err}");
}

#[test]
fn serve_answers_from_a_rules_file_and_a_bad_one_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("rules.toml");
    std::fs::write(
        &good,
        "[[rule]]\nmatch = \"regex\"\npattern = '^GET (\\w+)$'\nreply = \"got {text}\"\n\n[[rule]]\nmatch = \"prefix\"\npattern = \"ping\"\nreply = \"pong\"\n",
    )
    .unwrap();
    let s = Server::start(&["--rules", good.to_str().unwrap(), "--reply", "upper"]);
    let me = UdpSocket::bind("127.0.0.1:0").unwrap();
    me.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0; 64];
    for (ask, want) in [
        (&b"GET temp"[..], &b"got GET temp"[..]),
        (b"ping?", b"pong"),
        (b"other", b"OTHER"),
    ] {
        me.send_to(ask, s.addr).unwrap();
        let (n, _) = me.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], want);
    }
    s.interrupt();
    let (out, _) = s.finish();
    assert!(out.status.success());

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rule]]\nmatch = \"exact\"\nreplay = \"x\"\n").unwrap();
    let bad_regex = dir.path().join("regex.toml");
    std::fs::write(&bad_regex, "[[rule]]\nmatch = \"regex\"\npattern = \"(\"\n").unwrap();
    let missing = dir.path().join("none.toml");
    for (path, needle) in [
        (&bad, "line 3: unknown field `replay`"),
        (&bad_regex, "rule 1: not a valid regular expression"),
        (&missing, "cannot read it"),
    ] {
        let out = wait_exit(spawn(
            &[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--rules",
                path.to_str().unwrap(),
            ],
            Stdio::null(),
        ));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn send_runs_a_sequence_file_and_its_status_says_if_every_reply_came() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.toml");
    std::fs::write(
        &file,
        "name = \"hello\"\nrepeat = 2\n\n[[step]]\ntext = \"ping\"\n\n[[step]]\nkind = \"expect\"\ntext = \"PING\"\nms = 2000\n",
    )
    .unwrap();
    let s = Server::start(&["--reply", "upper"]);
    let target = s.addr.to_string();
    let path = file.to_str().unwrap();
    let out = send(&[&target, "--sequence", path]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("completed: 2 rounds, 2 datagrams sent"),
        "{err}"
    );
    assert_eq!(text(&out.stdout).matches("PING").count(), 2);

    // Against a server that stays silent, the expect step times out: status 1.
    let quiet = Server::start(&["--reply", "none"]);
    std::fs::write(
        &file,
        "[[step]]\ntext = \"ping\"\n\n[[step]]\nkind = \"expect\"\ntext = \"PING\"\nms = 200\n",
    )
    .unwrap();
    let out = send(&[&quiet.addr.to_string(), "--sequence", path]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("step 2 of round 1 saw no matching reply in time"),
        "{err}"
    );

    for (bad, needle) in [
        ("[[step]]\nkind = \"pouse\"\n", "line 2:"),
        ("[[step]]\nkind = \"sendhex\"\ntext = \"zz\"\n", "step 1:"),
    ] {
        std::fs::write(&file, bad).unwrap();
        let out = send(&[&target, "--sequence", path]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{err}");
    }
    for server in [s, quiet] {
        server.interrupt();
        assert!(server.finish().0.status.success());
    }
}

/// Starts `udpdesk relay` to `to`; its stderr lines come on the channel, and
/// the address it listens on is read from its first line.
fn start_relay(to: &str, extra: &[&str]) -> (Child, crossbeam_channel::Receiver<String>, String) {
    let mut args = vec!["relay", "--listen", "127.0.0.1:0", "--to", to];
    args.extend_from_slice(extra);
    let mut child = spawn(&args, Stdio::null());
    let rx = server::stderr_lines(&mut child);
    let line = wait_line(&rx, "relaying ");
    let at = line
        .split("relaying ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect("the listening address")
        .to_owned();
    (child, rx, at)
}

#[test]
fn relay_passes_datagrams_both_ways_prints_each_leg_and_sums_up_at_ctrl_c() {
    let server = Server::start(&[]);
    let (child, stderr, at) = start_relay(&server.addr.to_string(), &["--drop", "secret"]);
    let me = UdpSocket::bind("127.0.0.1:0").unwrap();
    me.set_read_timeout(Some(DEADLINE)).unwrap();
    me.send_to(b"a secret", &at).unwrap();
    me.send_to(b"hello", &at).unwrap();
    let mut buf = [0; 64];
    let (n, from) = me.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello", "the dropped one never came back");
    assert_eq!(from.to_string(), at, "the answer comes from the relay");
    wait_line(&stderr, "speaks to the server from");
    process::interrupt(&child);
    let out = wait_exit(child);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rest: Vec<String> = std::iter::from_fn(|| stderr.recv_timeout(DEADLINE).ok()).collect();
    let summary = rest.join("\n");
    assert!(summary.contains("stopped (interrupted)"), "{summary}");
    assert!(
        summary.contains("1 to the server, 1 to clients, 1 dropped"),
        "{summary}"
    );
    let stdout = text(&out.stdout);
    for leg in [
        "client → relay",
        "relay → server",
        "server → relay",
        "relay → client",
    ] {
        assert!(stdout.contains(leg), "{leg}: {stdout}");
    }
    assert_eq!(
        stdout.lines().count(),
        5,
        "two arrived, three passed: {stdout}"
    );
    server.interrupt();
    assert!(server.finish().0.status.success());
}

#[test]
fn relay_to_a_bad_target_is_bad_input() {
    for to in ["127.0.0.1", "[::1:9000", "127.0.0.1:0"] {
        let out = wait_exit(spawn(
            &["relay", "--listen", "127.0.0.1:0", "--to", to],
            Stdio::null(),
        ));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
