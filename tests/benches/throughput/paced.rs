//! Echo at a fixed rate: CPU per datagram of the engine, of `udpdesk serve`
//! (quiet, printing to a file, and capturing to pcapng) and of a bare loop,
//! measured in turns so the machine's state is shared.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use udpdesk::net::{Command, Engine, Event, ReplyMode, ServerConfig};
use udpdesk::packet::EndpointId;

use super::{median, plain_echo, thread_cpu_ns};

/// What answers the echoes.
enum Target {
    /// The bare loop, in this process.
    Plain,
    /// The engine in this process, with an owner thread taking its hand-overs.
    Engine,
    /// `udpdesk serve --reply echo` with these extra arguments, stdout to a file.
    Serve(&'static [&'static str]),
}

/// Where `serve --capture` writes (pcapng, both directions); replaced each run.
const CAPTURE_FILE: &str = "/tmp/udpdesk-bench-capture.pcapng";

/// The rules `serve --rules` answers from: nine that never match (regexes,
/// substrings, a hex pattern, a peer filter), then one that answers every
/// datagram with its own text, so the echo is the same and only the rules'
/// cost differs.
const RULES_FILE: &str = "/tmp/udpdesk-bench-rules.toml";
const RULES: &str = r#"
[[rule]]
match = "regex"
pattern = '^GET (\w+) (\d+)$'
reply = "{1}"
[[rule]]
match = "regex"
pattern = '(?i)status\s*=\s*(ok|fail)'
reply = "{1}"
[[rule]]
match = "contains"
pattern = "never-in-a-datagram"
reply = "x"
[[rule]]
match = "prefix"
pattern = "AT+"
reply = "OK"
[[rule]]
match = "suffix"
pattern = "\r\n\r\n"
reply = "x"
[[rule]]
match = "exact"
pattern = "ping"
reply = "pong"
[[rule]]
match = "hex"
pattern = "02 ?? ?? 03"
format = "hex"
reply = "06 {crc16_modbus}"
[[rule]]
match = "any"
peer = "127.0.0.2"
action = "drop"
[[rule]]
match = "regex"
pattern = '^\$GP[A-Z]{3},'
reply = "x"
[[rule]]
match = "any"
reply = "{text}"
"#;

/// The core the server under test runs on; the load generator gets the other.
/// Pinned, the cost of waking a server for each datagram is the same for every
/// target; left to the scheduler, runs differed by 2× depending on whether the
/// two landed on one core.
const SERVER_CPU: usize = 1;
const GENERATOR_CPU: usize = 0;

/// Pins the calling thread (and threads it starts later) to `cpus`.
fn pin(cpus: &[usize]) {
    use nix::sched::{CpuSet, sched_setaffinity};
    use nix::unistd::Pid;
    let mut set = CpuSet::new();
    for &c in cpus {
        let _ok = set.set(c);
    }
    let _pinned = sched_setaffinity(Pid::from_raw(0), &set);
}

/// Runs each target three times in turn and prints medians and ratios to the bare loop.
pub fn compare(name: &str, size: usize, rate: u64, secs: Duration) {
    if let Err(e) = std::fs::write(RULES_FILE, RULES) {
        println!("cannot write {RULES_FILE}: {e}");
        return;
    }
    let targets: [(&str, Target); 6] = [
        ("bare loop", Target::Plain),
        ("engine", Target::Engine),
        ("serve --quiet", Target::Serve(&["--quiet"])),
        ("serve > file", Target::Serve(&[])),
        (
            "serve --capture",
            Target::Serve(&["--quiet", "--capture", CAPTURE_FILE]),
        ),
        (
            "serve --rules",
            Target::Serve(&["--quiet", "--rules", RULES_FILE]),
        ),
    ];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    let mut split: Vec<(f64, f64)> = Vec::new();
    for _ in 0..3 {
        for (i, (_, target)) in targets.iter().enumerate() {
            let (per, parts) = run(target, size, rate, secs);
            cpu[i].push(per);
            if let Some(p) = parts {
                split.push(p);
            }
        }
    }
    let base = median(&mut cpu[0]);
    println!(
        "{name} at {rate}/s for {}s, CPU per echoed datagram:",
        secs.as_secs()
    );
    for (i, (label, _)) in targets.iter().enumerate() {
        let m = median(&mut cpu[i]);
        println!(
            "  {label:<16} {:>7.2} µs   {:>5.2}× the bare loop",
            m / 1000.0,
            m / base
        );
    }
    let mut net: Vec<f64> = split.iter().map(|p| p.0).collect();
    let mut owner: Vec<f64> = split.iter().map(|p| p.1).collect();
    println!(
        "  (engine: network thread {:.2} µs, owner thread {:.2} µs)",
        median(&mut net) / 1000.0,
        median(&mut owner) / 1000.0
    );
}

/// One run: nanoseconds of server CPU per echoed datagram, and for the engine
/// its network and owner threads apart.
fn run(target: &Target, size: usize, rate: u64, secs: Duration) -> (f64, Option<(f64, f64)>) {
    match target {
        Target::Plain => {
            pin(&[SERVER_CPU]);
            let at = plain_echo();
            pin(&[GENERATOR_CPU, SERVER_CPU]);
            let before = thread_cpu_ns("plain-echo").unwrap_or(0);
            let echoed = generate(at, size, rate, secs);
            let after = thread_cpu_ns("plain-echo").unwrap_or(0);
            let _stop = UdpSocket::bind("127.0.0.1:0").and_then(|s| s.send_to(b"stop", at));
            (per(after - before, echoed), None)
        }
        Target::Engine => {
            // The network thread inherits the pin; the owner thread does not.
            pin(&[SERVER_CPU]);
            let engine = Arc::new(Engine::spawn(|| {}).expect("an engine"));
            pin(&[GENERATOR_CPU, SERVER_CPU]);
            let config = ServerConfig {
                reply: ReplyMode::Echo,
                reply_limit: udpdesk::net::ReplyLimit::NONE,
                ..ServerConfig::new("127.0.0.1:0".parse().expect("an address"))
            };
            engine
                .send(Command::StartServer {
                    id: EndpointId(1),
                    config,
                })
                .expect("the engine takes commands");
            let at = loop {
                if let Ok(Event::Started { local, .. }) = engine.events().recv() {
                    break local;
                }
            };
            // The owner takes hand-overs as the window or the printer would.
            let done = Arc::new(AtomicBool::new(false));
            let owner = {
                let engine = Arc::clone(&engine);
                let done = Arc::clone(&done);
                std::thread::Builder::new()
                    .name("bench-owner".to_owned())
                    .spawn(move || {
                        let mut packets = 0usize;
                        while !done.load(Ordering::Relaxed) {
                            if let Ok(Event::Packets { packets: p, .. }) =
                                engine.events().recv_timeout(Duration::from_millis(50))
                            {
                                packets += p.len();
                            }
                        }
                        packets
                    })
                    .expect("a thread")
            };
            let net0 = thread_cpu_ns("udpdesk-net").unwrap_or(0);
            let own0 = thread_cpu_ns("bench-owner").unwrap_or(0);
            let echoed = generate(at, size, rate, secs);
            let net1 = thread_cpu_ns("udpdesk-net").unwrap_or(0);
            let own1 = thread_cpu_ns("bench-owner").unwrap_or(0);
            done.store(true, Ordering::Relaxed);
            let _taken = owner.join();
            let net = per(net1 - net0, echoed);
            let own = per(own1 - own0, echoed);
            (net + own, Some((net, own)))
        }
        Target::Serve(extra) => {
            let (mut child, at) = spawn_serve(extra);
            let before = process_cpu_ns(child.id()).unwrap_or(0);
            let echoed = generate(at, size, rate, secs);
            let after = process_cpu_ns(child.id()).unwrap_or(0);
            let _killed = child.kill();
            let _waited = child.wait();
            (per(after - before, echoed), None)
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn per(ns: u64, n: u64) -> f64 {
    ns as f64 / n.max(1) as f64
}

/// Starts `udpdesk serve` on a free port, printing to a temporary file.
fn spawn_serve(extra: &[&str]) -> (Child, SocketAddr) {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port();
    let at: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
    let out = tempfile::tempfile().expect("a temporary file");
    // taskset (util-linux, in every Debian) pins the whole process.
    let mut child = Process::new("taskset")
        .args(["-c", &SERVER_CPU.to_string(), env!("CARGO_BIN_EXE_udpdesk")])
        .args(["serve", "--bind", &at.to_string(), "--reply", "echo"])
        .args(["--reply-limit", "0", "--reply-limit-total", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("udpdesk serve starts");
    // Ready once it echoes.
    let probe = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("a timeout");
    let end = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 16];
    loop {
        let _sent = probe.send_to(b"ready?", at);
        if probe.recv_from(&mut buf).is_ok() {
            break;
        }
        if Instant::now() > end {
            let _killed = child.kill();
            panic!("udpdesk serve did not answer");
        }
    }
    (child, at)
}

/// Nanoseconds every thread of process `pid` has spent on a CPU.
fn process_cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(entry.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Sends `size`-byte datagrams to `at` at `rate` a second for `secs`, and
/// counts the echoes on a second thread; returns how many came back.
fn generate(at: SocketAddr, size: usize, rate: u64, secs: Duration) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    let reader = sock.try_clone().expect("a second handle");
    reader
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("a timeout");
    let echoed = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&echoed);
    let counting = std::thread::spawn(move || {
        pin(&[GENERATOR_CPU]);
        let mut buf = vec![0u8; 2048];
        while reader.recv_from(&mut buf).is_ok() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    pin(&[GENERATOR_CPU]);
    let payload = vec![0x5a_u8; size];
    let total = rate * secs.as_secs();
    let start = Instant::now();
    for i in 0..total {
        let due = start + Duration::from_nanos(i * 1_000_000_000 / rate);
        let now = Instant::now();
        if due > now + Duration::from_micros(200) {
            // Sleep while well ahead, spin the last stretch: steady pacing
            // without burning the generator's core.
            std::thread::sleep(due - now - Duration::from_micros(100));
        }
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let _sent = sock.send_to(&payload, at);
    }
    // The reader stops 300 ms after the last echo.
    let _joined = counting.join();
    pin(&[GENERATOR_CPU, SERVER_CPU]);
    echoed.load(Ordering::Relaxed)
}
