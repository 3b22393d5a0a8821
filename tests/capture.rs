//! Live capture from the binary: `serve --capture` and `send --capture` write
//! files that read back whole (also after `kill -9`), a flood's every datagram
//! is accounted for, and a bad capture file gets one line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use pcap_file::pcapng::blocks::interface_statistics::InterfaceStatisticsOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use udpdesk::capture::load_log;
use udpdesk::packet::Direction;

#[path = "common/process.rs"]
mod process;
#[path = "common/server.rs"]
mod server;

use process::{DEADLINE, text, udpdesk, wait_exit};
use server::{Server, wait_line};

/// What a pcapng file holds: packets per direction flag, and the ISB figures.
#[derive(Debug, Default)]
struct PcapNgCounts {
    packets_in: u64,
    packets_out: u64,
    received: Option<u64>,
    dropped: Option<u64>,
    interfaces: Vec<String>,
}

/// Reads every block; any block that does not parse fails the test.
fn read_pcapng(path: &Path) -> PcapNgCounts {
    read_pcapng_upto(path, false)
}

/// Reads every whole block. A file still being written, or one whose last
/// write a `kill -9` cut short, may end in part of a block; with `tail_ok`
/// that part is left unread (as Wireshark reports it "cut short"), and
/// anything else that does not parse still fails the test.
fn read_pcapng_upto(path: &Path, tail_ok: bool) -> PcapNgCounts {
    let file = std::fs::read(path).unwrap();
    let mut reader = PcapNgReader::new(&file[..]).unwrap();
    let mut counts = PcapNgCounts::default();
    while let Some(block) = reader.next_block() {
        let block = match block {
            Ok(block) => block,
            Err(pcap_file::PcapError::IncompleteBuffer) if tail_ok => break,
            Err(pcap_file::PcapError::IoError(e))
                if tail_ok && e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break;
            }
            Err(e) => panic!("a block that does not parse: {e}"),
        };
        match block {
            Block::EnhancedPacket(epb) => {
                let inbound = epb.options.iter().any(|o| {
                    matches!(
                        o,
                        pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption::Flags(1)
                    )
                });
                if inbound {
                    counts.packets_in += 1;
                } else {
                    counts.packets_out += 1;
                }
            }
            Block::InterfaceDescription(idb) => {
                for o in idb.options {
                    if let pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption::IfName(n) = o {
                        counts.interfaces.push(n.into_owned());
                    }
                }
            }
            Block::InterfaceStatistics(isb) => {
                for o in isb.options {
                    match o {
                        InterfaceStatisticsOption::IsbIfRecv(n) => counts.received = Some(n),
                        InterfaceStatisticsOption::IsbIfDrop(n) => counts.dropped = Some(n),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    counts
}

/// The number after `key` in a summary line such as "12 packets (34 B) in".
fn figure(line: &str, after: &str) -> u64 {
    line.split(after)
        .next()
        .and_then(|head| head.rsplit(' ').find(|w| !w.is_empty()))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure before {after:?} in {line:?}"))
}

#[test]
fn serve_captures_both_directions_with_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.jsonl");
    let server = Server::start(&["--capture", path.to_str().unwrap(), "--quit-word", "bye"]);
    let out = wait_exit(
        udpdesk()
            .args([
                "send",
                &server.addr.to_string(),
                "one",
                "两",
                "bye",
                "--quiet",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (out, lines) = server.finish();
    assert!(out.status.success());
    let captured = lines
        .iter()
        .find(|l| l.starts_with("udpdesk: captured "))
        .expect("a capture summary");
    assert!(
        captured.starts_with("udpdesk: captured 6 packets (18 B) to "),
        "{captured}"
    );
    let packets = load_log(&path).unwrap();
    let inbound: Vec<&[u8]> = packets
        .iter()
        .filter(|p| p.direction == Direction::In)
        .map(|p| &p.bytes[..])
        .collect();
    assert_eq!(inbound, [&b"one"[..], "两".as_bytes(), b"bye"]);
    assert_eq!(packets.len(), 6);
}

#[test]
fn send_captures_to_pcapng_that_names_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("send.pcapng");
    let server = Server::start(&["--quit-word", "bye"]);
    let out = wait_exit(
        udpdesk()
            .args(["send", &server.addr.to_string(), "hi", "bye"])
            .args(["--quiet", "--replies", "2", "--capture"])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("capturing to "), "{err}");
    assert!(err.contains("captured 4 packets (10 B)"), "{err}");
    let counts = read_pcapng(&path);
    assert_eq!((counts.packets_in, counts.packets_out), (2, 2));
    assert_eq!(counts.interfaces.len(), 1);
    assert!(counts.interfaces[0].starts_with("client "), "{counts:?}");
    server.finish();
}

#[test]
fn a_capture_file_that_cannot_be_made_is_one_line_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (dir.path().join("missing/x.pcapng"), "does not exist"),
        (dir.path().join("x.doc"), "unknown log format"),
    ];
    for (path, says) in cases {
        let out = wait_exit(
            udpdesk()
                .args(["serve", "--bind", "127.0.0.1:0", "--capture"])
                .arg(&path)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn a_full_disk_mid_capture_is_said_and_the_server_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.jsonl");
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    let server = Server::start(&["--capture", path.to_str().unwrap(), "--quiet"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    sock.send_to(b"first", server.addr).unwrap();
    let line = wait_line(&server.stderr, "capture ended early");
    assert!(line.contains("free some space"), "{line}");
    // The server still answers.
    sock.send_to(b"still there?", server.addr).unwrap();
    let mut buf = [0u8; 64];
    loop {
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        if &buf[..n] == b"still there?" {
            break;
        }
    }
    server.interrupt();
    let (out, _) = server.finish();
    assert!(out.status.success());
}

#[test]
fn a_capture_killed_with_sigkill_reads_cleanly_to_its_last_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.pcapng");
    let server = Server::start(&[
        "--capture",
        path.to_str().unwrap(),
        "--reply",
        "none",
        "--quiet",
    ]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..300u32 {
        sock.send_to(&i.to_be_bytes(), server.addr).unwrap();
    }
    // Written out while running, within the flush interval.
    let until = Instant::now() + DEADLINE;
    while read_pcapng_upto(&path, true).packets_in < 300 {
        assert!(
            Instant::now() < until,
            "the capture was not written while running"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // More traffic, then no goodbye at all.
    for i in 0..5_000u32 {
        sock.send_to(&i.to_be_bytes(), server.addr).unwrap();
    }
    let mut child = server.child;
    child.kill().unwrap();
    child.wait().unwrap();
    let counts = read_pcapng_upto(&path, true);
    assert!(counts.packets_in >= 300, "{counts:?}");
    assert_eq!(counts.packets_out, 0);
}

#[test]
fn a_flood_into_a_capturing_server_is_all_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pcapng");
    // A small buffer, so the kernel drops some and those are counted too.
    let server = Server::start(&[
        "--capture",
        path.to_str().unwrap(),
        "--reply",
        "none",
        "--quiet",
        "--recv-buffer",
        "65536",
    ]);
    let bench = wait_exit(
        udpdesk()
            .args(["bench", &server.addr.to_string(), "--count", "200000"])
            .args(["--wait", "0ms", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(bench.status.success(), "{}", text(&bench.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&bench.stdout).unwrap();
    let sent = summary["sent"].as_u64().unwrap();
    server.interrupt();
    let (out, lines) = server.finish();
    assert!(out.status.success());
    let stopped = lines
        .iter()
        .find(|l| l.contains("stopped (interrupted)"))
        .expect("a server summary");
    let captured = lines
        .iter()
        .find(|l| l.starts_with("udpdesk: captured "))
        .expect("a capture summary");
    let counts = read_pcapng(&path);
    let kernel = if stopped.contains("dropped by the kernel") {
        figure(stopped, " dropped by the kernel")
    } else {
        0
    };
    let not_captured = if captured.contains("not captured") {
        figure(captured, " not captured")
    } else {
        0
    };
    // Everything sent was captured, dropped by the kernel, or (a slow disk) not captured.
    assert_eq!(
        counts.packets_in + kernel + not_captured,
        sent,
        "{stopped}\n{captured}"
    );
    // The summary and the file agree.
    assert_eq!(
        figure(stopped, " packets ("),
        counts.packets_in + not_captured
    );
    assert_eq!(counts.dropped, Some(kernel));
    assert_eq!(counts.received, Some(counts.packets_in + not_captured));
    assert_eq!(figure(captured, " packets ("), counts.packets_in);
}

#[test]
fn a_wireshark_made_capture_opens_with_only_its_udp() {
    // Made by tests/fixtures/make-fixtures.sh with text2pcap and mergecap.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wireshark-mixed.pcapng");
    let mut packets = Vec::new();
    let opened = udpdesk::capture::open_capture(
        &path,
        &mut |p| packets.push(p),
        &|_, _| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    let mut seen: Vec<(String, String, Vec<u8>, bool)> = packets
        .iter()
        .map(|p| {
            (
                p.peer.to_string(),
                p.local.to_string(),
                p.bytes.to_vec(),
                p.truncated,
            )
        })
        .collect();
    seen.sort();
    let want = |peer: &str, local: &str, bytes: &[u8], cut: bool| {
        (peer.to_owned(), local.to_owned(), bytes.to_vec(), cut)
    };
    assert_eq!(
        seen,
        [
            want("10.1.1.1:5000", "10.1.1.2:9999", b"eth udp", false),
            // The first of two fragments: its part of the payload, marked cut.
            want("10.1.1.1:5002", "10.1.1.2:9999", b"frag-fir", true),
            want("10.2.2.1:6000", "10.2.2.2:9999", b"sll udp", false),
            want("10.3.3.1:7000", "10.3.3.2:9999", b"sll2 udp", false),
            want(
                "[fd00::1]:5001",
                "[fd00::2]:9999",
                "vlan 你好".as_bytes(),
                false
            ),
        ]
    );
    assert_eq!(opened.packets, 5);
    assert_eq!(
        (opened.not_udp, opened.fragments, opened.unknown_link),
        (2, 1, 0)
    );
    assert_eq!(opened.interfaces.len(), 3);
    let summary = opened.summary(&path);
    assert!(
        summary.starts_with("opened 5 UDP packets from ")
            && summary.ends_with("; skipped 2 not UDP, 1 IP fragments"),
        "{summary}"
    );
    // File order, numbered from 1, times as captured.
    let seqs: Vec<u64> = packets.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(packets.iter().all(
        |p| p.time > std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000 - 1)
    ));
}

/// A udpdesk capture of datagrams captured at these offsets, in milliseconds.
fn timed_capture(dir: &Path, offsets_ms: &[u64]) -> std::path::PathBuf {
    use udpdesk::codec::Encoding;
    use udpdesk::packet::{EndpointId, Packet};
    let t0 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
    let packets: Vec<Packet> = offsets_ms
        .iter()
        .enumerate()
        .map(|(i, ms)| Packet {
            seq: i as u64 + 1,
            time: t0 + std::time::Duration::from_millis(*ms),
            endpoint: EndpointId(1),
            direction: if i % 2 == 0 {
                Direction::In
            } else {
                Direction::Out
            },
            local: "127.0.0.1:9999".parse().unwrap(),
            peer: "127.0.0.1:5000".parse().unwrap(),
            encoding: Encoding::Utf8,
            bytes: format!("datagram {i}").into_bytes().into(),
            truncated: false,
        })
        .collect();
    let path = dir.join("timed.pcapng");
    udpdesk::capture::save_log(&path, &packets).unwrap();
    path
}

/// One datagram and the kernel's time of its arrival.
fn recv_stamped(sock: &UdpSocket) -> (Vec<u8>, std::time::Duration) {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
    use std::os::fd::AsRawFd;
    let mut buf = [0u8; 64];
    let mut space = nix::cmsg_space!(nix::sys::time::TimeSpec);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<SockaddrStorage>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    let stamp = msg
        .cmsgs()
        .unwrap()
        .find_map(|c| match c {
            ControlMessageOwned::ScmTimestampns(t) => Some(std::time::Duration::from(t)),
            _ => None,
        })
        .expect("a receive timestamp");
    let n = msg.bytes;
    (buf[..n].to_vec(), stamp)
}

#[test]
fn replay_keeps_the_captured_timing_within_5_ms() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = [0u64, 40, 100, 250, 260, 400];
    let path = timed_capture(dir.path(), &offsets);
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_read_timeout(Some(DEADLINE)).unwrap();
    // The kernel stamps each datagram as it arrives, so how late this thread
    // is scheduled on a busy machine does not count against the replay.
    nix::sys::socket::setsockopt(
        &receiver,
        nix::sys::socket::sockopt::ReceiveTimestampns,
        &true,
    )
    .unwrap();
    let child = udpdesk()
        .arg("replay")
        .arg(&path)
        .args(["--to", &receiver.local_addr().unwrap().to_string()])
        .args(["--wait", "0ms", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut arrivals = Vec::new();
    for i in 0..offsets.len() {
        let (bytes, stamp) = recv_stamped(&receiver);
        arrivals.push(stamp);
        assert_eq!(bytes, format!("datagram {i}").as_bytes());
    }
    let out = wait_exit(child);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replayed 6 of 6 datagrams"), "{err}");
    for (i, ms) in offsets.iter().enumerate() {
        let got = (arrivals[i] - arrivals[0]).as_secs_f64() * 1000.0;
        assert!(
            (got - *ms as f64).abs() <= 5.0,
            "datagram {i}: {got:.1} ms after the first, captured {ms} ms after"
        );
    }
}

#[test]
fn replay_filters_scales_and_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = timed_capture(dir.path(), &[0, 1000, 2000, 3000]);
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_read_timeout(Some(DEADLINE)).unwrap();
    let to = receiver.local_addr().unwrap().to_string();
    // Only what came in, a hundred times faster: two datagrams, 20 ms apart.
    let out = wait_exit(
        udpdesk()
            .arg("replay")
            .arg(&path)
            .args(["--to", &to, "--speed", "100", "--filter", "dir == in"])
            .args(["--wait", "0ms", "--quiet"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replayed 2 of 2 datagrams"), "{err}");
    let mut buf = [0u8; 64];
    for want in ["datagram 0", "datagram 2"] {
        let (n, _) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], want.as_bytes());
    }
    for (args, says) in [
        (vec!["--filter", "udp.prot == 1"], "unknown field"),
        (vec!["--filter", "len > 1000"], "none passed the filter"),
        (vec!["--speed", "1000"], "from 0.1 to 100"),
        (vec!["--speed", "2", "--fast"], "cannot be used with"),
    ] {
        let out = wait_exit(
            udpdesk()
                .arg("replay")
                .arg(&path)
                .args(["--to", &to])
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// 10,000 packets of every awkward kind: Chinese in GBK and UTF-8, binary,
/// empty and 65,507-byte payloads, IPv4 and IPv6, both directions.
fn awkward_packets() -> Vec<udpdesk::packet::Packet> {
    use udpdesk::codec::Encoding;
    use udpdesk::packet::{EndpointId, Packet};
    let t0 = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_795_000_000_000_001);
    let big = vec![0xa5u8; 65_507];
    let gbk = udpdesk::codec::encode("你好，世界", Encoding::Gbk).unwrap();
    (0..10_000u64)
        .map(|i| {
            let (bytes, encoding): (Vec<u8>, Encoding) = match i % 5 {
                0 => ("Hello, 世界".as_bytes().to_vec(), Encoding::Utf8),
                1 => (gbk.clone(), Encoding::Gbk),
                2 => ((0..=255u8).collect(), Encoding::Utf8),
                3 => (Vec::new(), Encoding::Utf8),
                _ if i % 1000 == 4 => (big.clone(), Encoding::Utf8),
                _ => (format!("#{i}\r\n").into_bytes(), Encoding::Utf8),
            };
            let v6 = i % 2 == 0;
            Packet {
                seq: i + 1,
                time: t0 + std::time::Duration::from_micros(i * 137),
                endpoint: EndpointId(1 + (i % 3) as u32),
                direction: if i % 3 == 0 {
                    Direction::Out
                } else {
                    Direction::In
                },
                local: if v6 { "[::1]:9999" } else { "127.0.0.1:9999" }
                    .parse()
                    .unwrap(),
                peer: if v6 { "[::1]:40000" } else { "127.0.0.1:40000" }
                    .parse()
                    .unwrap(),
                encoding,
                bytes: bytes.into(),
                truncated: false,
            }
        })
        .collect()
}

#[test]
fn every_format_writes_and_reads_back_10_000_awkward_packets() {
    use udpdesk::capture::{LogFormat, open_capture, save_log};
    let dir = tempfile::tempdir().unwrap();
    let packets = awkward_packets();
    for format in LogFormat::ALL {
        let path = dir.path().join(format!("all.{}", format.extension()));
        let summary = save_log(&path, &packets).unwrap();
        assert_eq!(summary.packets, 10_000, "{format}");
        if format == LogFormat::Text {
            // Text is for reading: every packet is there, with its hex.
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.lines().filter(|l| l.contains(" B  ")).count(), 10_000);
            assert!(text.contains("你好，世界"));
            continue;
        }
        let mut back = Vec::new();
        let opened = open_capture(
            &path,
            &mut |p| back.push(p),
            &|_, _| {},
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(opened.packets, 10_000, "{format}");
        for (b, p) in back.iter().zip(&packets) {
            assert_eq!(b.bytes, p.bytes, "{format} #{}", p.seq);
            assert_eq!(b.time, p.time, "{format} #{}", p.seq);
            if format == LogFormat::Pcap {
                // No direction in pcap: seen from the receiver.
                let (src, dst) = match p.direction {
                    Direction::In => (p.peer, p.local),
                    Direction::Out => (p.local, p.peer),
                };
                assert_eq!((b.peer, b.local), (src, dst), "{format}");
            } else {
                assert_eq!(
                    (b.direction, b.local, b.peer),
                    (p.direction, p.local, p.peer)
                );
            }
            if matches!(format, LogFormat::Csv | LogFormat::JsonLines) {
                assert_eq!(b.encoding, p.encoding, "{format}");
            }
        }
    }
}

#[test]
fn bench_captures_what_it_sends_and_the_replies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.pcapng");
    let server = Server::start(&["--quiet"]);
    let out = wait_exit(
        udpdesk()
            .args(["bench", &server.addr.to_string(), "--count", "2000"])
            .args(["--size", "100", "--wait", "5s", "--json", "--capture"])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (sent, received) = (
        summary["sent"].as_u64().unwrap(),
        summary["received"].as_u64().unwrap(),
    );
    let counts = read_pcapng(&path);
    let captured = err
        .lines()
        .find(|l| l.starts_with("udpdesk: captured "))
        .expect("a capture summary");
    let not_captured = if captured.contains("not captured") {
        figure(captured, " not captured")
    } else {
        0
    };
    assert_eq!(
        counts.packets_out + counts.packets_in + not_captured,
        sent + received,
        "{captured}"
    );
    assert!(counts.interfaces[0].starts_with("bench socket 127.0.0.1:"));
    server.interrupt();
    server.finish();
}
