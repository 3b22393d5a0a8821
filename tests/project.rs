//! `udpdesk run PROJECT.toml`, run as a person or a CI job runs it: the
//! project's own servers answering its own clients, a server outside the
//! project, a silent server that fails an expect step, a bad file and a
//! port in use refused with status 2, a servers-only project stopped by its
//! quit word and by Ctrl-C, and the capture file the project names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/process.rs"]
mod process;
#[path = "common/server.rs"]
mod server;

use std::net::UdpSocket;
use std::process::{Output, Stdio};

use process::{DEADLINE, text, udpdesk, wait_exit};
use server::{Server, stderr_lines, wait_line};

/// A port nobody on 127.0.0.1 holds right now.
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `project` to `bench.toml` in `dir` and runs it to the end.
fn run(dir: &std::path::Path, project: &str, extra: &[&str]) -> Output {
    let path = dir.join("bench.toml");
    std::fs::write(&path, project).unwrap();
    let child = udpdesk()
        .arg("run")
        .arg(&path)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_exit(child)
}

/// A client named `name` to 127.0.0.1:`port` with a sequence that sends
/// `send` and expects `expect` within `ms`, twice.
fn client_with_sequence(name: &str, port: u16, send: &str, expect: &str, ms: u64) -> String {
    client_with_more(name, port, "", send, expect, ms)
}

/// Like [`client_with_sequence`], with more lines (`extra`) in the client's table.
fn client_with_more(
    name: &str,
    port: u16,
    extra: &str,
    send: &str,
    expect: &str,
    ms: u64,
) -> String {
    format!(
        r#"
[[client]]
name = "{name}"
port = "{port}"
{extra}

[[sequence]]
name = "{name} check"
client = "{name}"
repeat = 2

[[sequence.step]]
kind = "send"
text = "{send}"

[[sequence.step]]
kind = "expect"
text = "{expect}"
ms = {ms}
"#
    )
}

#[test]
fn a_project_runs_its_own_servers_and_sequences_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (upper, fixed) = (free_port(), free_port());
    let project = format!(
        r#"
capture = "run.jsonl"

[[server]]
name = "PLC 模拟"
port = "{upper}"
reply = "Upper"

[[server]]
name = "ack"
port = "{fixed}"
reply = "Fixed"
fixed = "收到你的消息了"
encoding = "Gbk"
{}
{}
"#,
        client_with_sequence("sensor", upper, "hello", "HELLO", 2000),
        client_with_more(
            "传感器 2",
            fixed,
            "encoding = \"Gbk\"",
            "hi",
            "收到你的消息了",
            2000
        ),
    );
    let out = run(dir.path(), &project, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    for line in [
        "sequence \"sensor check\" (client \"sensor\") passed: 2 rounds",
        "sequence \"传感器 2 check\" (client \"传感器 2\") passed: 2 rounds",
        "2 of 2 sequences met every expected reply",
        &format!("server \"PLC 模拟\" listening on 127.0.0.1:{upper}"),
        "server \"ack\" on",
    ] {
        assert!(stderr.contains(line), "{line} in:\n{stderr}");
    }
    // Each packet is printed under its endpoint's name, GBK decoded.
    assert_eq!(
        stdout.matches("[PLC 模拟] ").count(),
        4,
        "2 in, 2 out:\n{stdout}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("[传感器 2] ") && l.contains("收到你的消息了"))
            .count(),
        2,
        "{stdout}"
    );
    // The capture named relative to the project is written beside it.
    let capture = std::fs::read_to_string(dir.path().join("run.jsonl")).unwrap();
    assert_eq!(capture.lines().count(), 16, "{capture}");
    // It names each endpoint as the project does.
    for (name, n) in [("PLC 模拟", 4), ("ack", 4), ("sensor", 4), ("传感器 2", 4)] {
        let named = format!("\"endpoint_name\":\"{name}\"");
        assert_eq!(capture.matches(&named).count(), n, "{name}: {capture}");
    }
    assert!(stderr.contains("captured 16 packets"), "{stderr}");
}

#[test]
fn a_silent_server_fails_the_run_with_the_step_that_waited() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = free_port();
    let project = format!(
        "[[server]]\nname = \"mute\"\nport = \"{quiet}\"\nreply = \"None\"\n{}",
        client_with_sequence("probe", quiet, "ping", "pong", 300)
    );
    let out = run(dir.path(), &project, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("sequence \"probe check\" (client \"probe\"): step 2 of round 1 saw no matching reply in time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0 of 1 sequences met every expected reply"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("[mute] "), "the ping arrived");
}

#[test]
fn a_project_tests_a_server_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let device = Server::start(&["--reply", "template:ok {text}"]);
    let port = device.addr.port();
    let out = run(
        dir.path(),
        &client_with_sequence("bench", port, "v=1", "ok v=1", 2000),
        &["--json"],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let replies: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["direction"] == "in")
        .collect();
    assert_eq!(replies.len(), 2, "{stderr}");
    assert!(
        replies
            .iter()
            .all(|r| r["endpoint_name"] == "bench" && r["text"] == "ok v=1")
    );

    // The same project against a reply it does not expect: status 1.
    let out = run(
        dir.path(),
        &client_with_sequence("bench", port, "v=1", "ok v=2", 300),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    device.interrupt();
    assert!(device.finish().0.status.success());
}

#[test]
fn a_bad_project_or_a_taken_port_is_refused_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "[[server]]\nname = \"a\"\nport = \"99999\"\n",
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bench.toml: line 3") && stderr.contains("port"),
        "{stderr}"
    );

    let out = run(dir.path(), "[[sever]]\nname = \"a\"\n", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("sever"), "{}", text(&out.stderr));

    let missing = udpdesk()
        .args(["run", "/nonexistent/bench.toml"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_exit(missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read it"));

    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let project = format!(
        "[[server]]\nname = \"first\"\nport = \"{}\"\n\n[[server]]\nname = \"second\"\nport = \"{port}\"\n",
        free_port()
    );
    let out = run(dir.path(), &project, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("server \"second\": ") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
    // The server that did start is closed again, and says what it saw.
    assert!(stderr.contains("server \"first\" on"), "{stderr}");
}

#[test]
fn a_servers_only_project_serves_until_its_quit_word_or_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = dir.path().join("bench.toml");
    std::fs::write(
        &path,
        format!("[[server]]\nname = \"echo\"\nport = \"{port}\"\nquit_word = \"quit\"\n"),
    )
    .unwrap();
    let start = || {
        let mut child = udpdesk()
            .arg("run")
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = stderr_lines(&mut child);
        wait_line(&lines, "no sequences to run");
        (child, lines)
    };
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(DEADLINE)).unwrap();
    let server = format!("127.0.0.1:{port}");

    let (child, lines) = start();
    peer.send_to(b"quit", &server).unwrap();
    let mut echoed = [0; 16];
    let n = peer.recv(&mut echoed).unwrap();
    assert_eq!(&echoed[..n], b"quit");
    let out = wait_exit(child);
    assert!(out.status.success());
    wait_line(&lines, "server \"echo\" stopped: ");
    assert!(text(&out.stdout).contains("[echo] "));

    let (child, lines) = start();
    process::interrupt(&child);
    let out = wait_exit(child);
    assert!(out.status.success());
    wait_line(&lines, "run ended (interrupted)");
}

#[test]
fn a_looping_sequence_is_a_soak_test_that_timeout_ends() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let project = format!(
        "[[server]]\nname = \"dev\"\nport = \"{port}\"\nreply = \"Upper\"\n{}",
        client_with_sequence("soak", port, "tick", "TICK", 1000)
            .replace("repeat = 2", "repeat = 0")
            + "\n[[sequence.step]]\nkind = \"pause\"\nms = 5\n"
    );
    let out = run(dir.path(), &project, &["--timeout", "300ms", "--quiet"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("run ended (--timeout reached)"), "{stderr}");
    assert!(
        stderr.contains("1 of 1 sequences met every expected reply"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "--quiet prints no packets");

    // A loop that misses a reply fails at once, whatever the timeout.
    let mute = project.replace("reply = \"Upper\"", "reply = \"None\"");
    let mute = mute.replace("ms = 1000", "ms = 100");
    let out = run(dir.path(), &mute, &["--timeout", "10s"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run ended (done)"), "{stderr}");
}

#[test]
fn a_relay_and_a_client_bound_to_a_port_run_two_sequences_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (server, relay, client) = (free_port(), free_port(), free_port());
    let mut project = format!(
        "[[server]]\nname = \"dev\"\nport = \"{server}\"\nreply = \"Upper\"\n\n\
         [[relay]]\nname = \"mid\"\nlisten = \"127.0.0.1:{relay}\"\ntarget = \"127.0.0.1:{server}\"\n\n\
         [[client]]\nname = \"c\"\nport = \"{relay}\"\nbind = \"127.0.0.1:{client}\"\n"
    );
    for (name, word) in [("first", "one"), ("second", "two")] {
        project.push_str(&format!(
            "\n[[sequence]]\nname = \"{name}\"\nclient = \"c\"\n\n[[sequence.step]]\ntext = \"{word}\"\n\n\
             [[sequence.step]]\nkind = \"expect\"\ntext = \"{}\"\nms = 2000\n",
            word.to_uppercase()
        ));
    }
    let out = run(dir.path(), &project, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let first = stderr
        .find("sequence \"first\" (client \"c\") passed")
        .expect(&stderr);
    let second = stderr
        .find("sequence \"second\" (client \"c\") passed")
        .expect(&stderr);
    assert!(
        first < second,
        "one client's sequences run in order:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("client \"c\" on 127.0.0.1:{client}")),
        "{stderr}"
    );
    // Both legs of the relay, each datagram under the relay's name.
    let relayed = stdout.lines().filter(|l| l.starts_with("[mid] ")).count();
    assert_eq!(
        relayed, 8,
        "2 requests and 2 replies, on both legs:\n{stdout}"
    );

    // The client's port taken: the bench cannot be set up, status 2.
    let taken = UdpSocket::bind(format!("127.0.0.1:{client}")).unwrap();
    let out = run(dir.path(), &project, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("client \"c\": "), "{stderr}");
    drop(taken);
}

#[test]
fn a_finite_sequence_cut_short_by_timeout_fails() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = free_port();
    let project = format!(
        "[[server]]\nname = \"mute\"\nport = \"{quiet}\"\nreply = \"None\"\n{}",
        client_with_sequence("probe", quiet, "ping", "pong", 5000)
    );
    let out = run(dir.path(), &project, &["--timeout", "300ms"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run ended (--timeout reached)"), "{stderr}");
    assert!(stderr.contains("cut short after 0 rounds"), "{stderr}");
}

#[test]
fn a_run_whose_capture_fails_fails_too() {
    let dir = tempfile::tempdir().unwrap();
    // Every write to /dev/full fails with "no space left on device".
    std::os::unix::fs::symlink("/dev/full", dir.path().join("full.jsonl")).unwrap();
    let port = free_port();
    let project = format!(
        "capture = \"full.jsonl\"\n\n[[server]]\nname = \"dev\"\nport = \"{port}\"\nreply = \"Upper\"\n{}",
        client_with_sequence("c", port, "hi", "HI", 2000)
    );
    let out = run(dir.path(), &project, &["--quiet"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("1 of 1 sequences met every expected reply"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the capture failed, so the run is not recorded"),
        "{stderr}"
    );
}
