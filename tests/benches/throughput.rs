//! `cargo bench`: what the hot paths cost on this machine.
//!
//! - Echo over loopback through the engine: datagrams a second with a window of
//!   datagrams in flight, and the network thread's CPU time per datagram (read
//!   from the kernel's per-thread scheduler statistics, so the load generator
//!   sharing the cores does not blur it).
//! - Echo at the rates people run (20,000 a second), where costs paid per
//!   wake-up show: the engine's network thread and the thread that takes its
//!   hand-overs, `udpdesk serve` as a process (quiet, and printing to a file),
//!   against a bare loop in the same run, interleaved.
//! - The display work the window does per visible row: hex, decoding, escaping.
//! - One window frame (layout, no pixels) with 1,000 and 1,000,000 packets stored.
//! - The packet log's memory per stored packet, counted by the allocator.
//! - `cargo bench -- soak`: ten minutes of `udpdesk bench` flat out into the
//!   window's capturing server (run only when asked by name).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use udpdesk::codec::{self, Encoding};
use udpdesk::net::{Command, Engine, Event, ReplyMode, ServerConfig};
use udpdesk::packet::EndpointId;

fn main() {
    // `cargo bench -- NAME` runs only the benchmarks whose name contains NAME.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    println!("udpdesk benchmarks (median of 3 runs each)\n");
    for size in [64usize, 1400] {
        let name = format!("echo_{size}B");
        if wanted(&name) {
            echo(&name, size, Server::Engine);
        }
        let name = format!("baseline_echo_{size}B");
        if wanted(&name) {
            echo(&name, size, Server::PlainLoop);
        }
    }
    for size in [64usize, 1400] {
        let name = format!("paced_{size}B");
        if wanted(&name) {
            paced::compare(&name, size, 20_000, Duration::from_secs(3));
        }
    }
    if wanted("display") {
        display();
    }
    if wanted("frame") {
        frame::compare();
    }
    if wanted("store") {
        store::measure();
    }
    // Ten minutes: only when asked by name.
    if filter.as_deref() == Some("soak") {
        soak::run();
    }
}

#[global_allocator]
static ALLOCATOR: store::Counting = store::Counting;

#[path = "throughput/frame.rs"]
mod frame;
#[path = "throughput/paced.rs"]
mod paced;
#[path = "throughput/soak.rs"]
mod soak;
#[path = "throughput/store.rs"]
mod store;

/// Nanoseconds the named thread of this process has spent on a CPU.
pub(crate) fn thread_cpu_ns(name: &str) -> Option<u64> {
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = entry.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if comm.trim() == name {
            let stat = std::fs::read_to_string(dir.join("schedstat")).ok()?;
            return stat.split_whitespace().next()?.parse().ok();
        }
    }
    None
}

/// Which echo server to measure.
#[derive(Clone, Copy)]
enum Server {
    /// udpdesk's engine, recording every packet and handing it to its owner.
    Engine,
    /// A bare blocking `recv_from`/`send_to` loop: the floor to compare with.
    PlainLoop,
}

/// Starts a bare echo loop on its own thread; it ends when the returned socket's peer sends "stop".
pub(crate) fn plain_echo() -> std::net::SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let at = sock.local_addr().unwrap();
    std::thread::Builder::new()
        .name("plain-echo".to_owned())
        .spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                if &buf[..n] == b"stop" {
                    break;
                }
                let _ = sock.send_to(&buf[..n], from);
            }
        })
        .unwrap();
    at
}

fn echo(name: &str, size: usize, server: Server) {
    const DATAGRAMS: u64 = 100_000;
    const WINDOW: u64 = 64;
    let mut rates = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..3 {
        let engine = Engine::spawn(|| {}).unwrap();
        let (at, thread) = match server {
            Server::Engine => {
                let id = EndpointId(1);
                let config = ServerConfig {
                    reply: ReplyMode::Echo,
                    // Measured flat out: every datagram answered.
                    reply_limit: udpdesk::net::ReplyLimit::NONE,
                    ..ServerConfig::new("127.0.0.1:0".parse().unwrap())
                };
                engine.send(Command::StartServer { id, config }).unwrap();
                let at = loop {
                    if let Event::Started { local, .. } = engine.events().recv().unwrap() {
                        break local;
                    }
                };
                (at, "udpdesk-net")
            }
            Server::PlainLoop => (plain_echo(), "plain-echo"),
        };
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let payload = vec![0x5au8; size];
        let mut buf = vec![0u8; 2048];
        let cpu_before = thread_cpu_ns(thread).unwrap_or(0);
        let start = Instant::now();
        let (mut sent, mut got, mut lost) = (0u64, 0u64, 0u64);
        while got + lost < DATAGRAMS {
            while sent < DATAGRAMS && sent - got - lost < WINDOW {
                client.send_to(&payload, at).unwrap();
                sent += 1;
            }
            match client.recv_from(&mut buf) {
                Ok(_) => got += 1,
                // A datagram lost on a busy loopback: count it and refill the window.
                Err(_) => lost += sent - got - lost,
            }
            // The owner drains events as the window would, in batches.
            while engine.events().try_recv().is_ok() {}
        }
        let elapsed = start.elapsed();
        let cpu_after = thread_cpu_ns(thread).unwrap_or(0);
        if let Server::PlainLoop = server {
            client.send_to(b"stop", at).unwrap();
        }
        rates.push(got as f64 / elapsed.as_secs_f64());
        // Each echoed datagram is one receive and one send on the network thread.
        cpu.push((cpu_after - cpu_before) as f64 / got.max(1) as f64);
        if lost > 0 {
            println!("  ({name}: {lost} of {DATAGRAMS} lost in this run)");
        }
    }
    println!(
        "{name:<20} {:>10.0} echoes/s   {:>7.2} µs server-thread CPU per echo",
        median(&mut rates),
        median(&mut cpu) / 1000.0
    );
}

/// One display operation, writing into a reused buffer.
type Step<'a> = dyn Fn(&mut String) + 'a;

fn display() {
    let gbk_text = "你好，世界！".repeat(40);
    let gbk = codec::encode(&gbk_text, Encoding::Gbk).unwrap();
    let small: Vec<u8> = (0..64u8).collect();
    let large: Vec<u8> = (0..1400u32).map(|i| (i % 256) as u8).collect();
    let mut out = String::with_capacity(8192);
    let time = std::time::SystemTime::now();
    let runs: [(&str, &Step<'_>); 8] = [
        ("clock, cached second", &|o| {
            udpdesk::packet::write_clock(o, black_box(time))
        }),
        ("clock, chrono::Local", &|o| {
            use std::fmt::Write as _;
            let t: chrono::DateTime<chrono::Local> = black_box(time).into();
            let _ok = write!(o, "{}", t.format("%H:%M:%S%.6f"));
        }),
        ("write_hex 64 B", &|o| {
            codec::write_hex(black_box(&small), o)
        }),
        ("write_hex 1400 B", &|o| {
            codec::write_hex(black_box(&large), o)
        }),
        ("hex_preview 1400 B", &|o| {
            o.push_str(&codec::hex_preview(black_box(&large), 24))
        }),
        ("decode GBK 480 B", &|o| {
            codec::decode_into(black_box(&gbk), Encoding::Gbk, o)
        }),
        ("decode binary 1400 B", &|o| {
            codec::decode_into(black_box(&large), Encoding::Utf8, o)
        }),
        ("hex_dump 1400 B", &|o| {
            o.push_str(&codec::hex_dump(black_box(&large)))
        }),
    ];
    for (name, f) in runs {
        let mut samples = Vec::new();
        for _ in 0..3 {
            let n = 20_000;
            let start = Instant::now();
            for _ in 0..n {
                out.clear();
                f(&mut out);
                black_box(&out);
            }
            samples.push(start.elapsed().as_nanos() as f64 / f64::from(n));
        }
        println!("{name:<22} {:>9.0} ns", median(&mut samples));
    }
}

pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
