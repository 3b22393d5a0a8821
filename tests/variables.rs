//! Variables and checksums in what is sent, over real loopback sockets: a
//! send job whose datagrams are made afresh each time ({seq}, a CRC over
//! them), a sequence step doing the same, and `send --vars` on the command line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{DEADLINE, wait_for};
use udpdesk::codec::{self, Encoding, Mode, Scope, Template, Verdict, Verify};
use udpdesk::net::{ClientConfig, Command, Engine, Event, SendJob, Sequence, Step, StepKind};
use udpdesk::packet::EndpointId;

fn listener() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s
}

fn take(s: &UdpSocket, n: usize) -> Vec<Vec<u8>> {
    let mut buf = [0; 256];
    (0..n)
        .map(|_| {
            let (len, _) = s.recv_from(&mut buf).unwrap();
            buf[..len].to_vec()
        })
        .collect()
}

#[test]
fn each_datagram_of_a_job_is_made_afresh_with_its_number_and_checksum() {
    let e = Engine::spawn(|| {}).unwrap();
    let id = EndpointId(1);
    e.send(Command::OpenClient {
        id,
        config: ClientConfig::default(),
    })
    .unwrap();
    let to = listener();
    let template = Template::compile(
        "01 {seq:u16be} {crc16_modbus}",
        Mode::Hex,
        Encoding::Utf8,
        Scope::Send,
    )
    .unwrap();
    let text = Template::compile("n={seq}", Mode::Text, Encoding::Utf8, Scope::Send).unwrap();
    e.send(Command::Send {
        id,
        job: SendJob {
            target: to.local_addr().unwrap().to_string(),
            payloads: vec![udpdesk::net::sample_fill(&template), b"n=1".to_vec()],
            count: 2,
            interval: Duration::ZERO,
            at: Vec::new(),
            fill: vec![(0, template), (1, text)],
        },
    })
    .unwrap();
    let got = take(&to, 4);
    let modbus = "crc16_modbus".parse::<Verify>().unwrap();
    assert_eq!(got[0][..3], [1, 0, 1]);
    assert_eq!(got[1], b"n=2");
    assert_eq!(got[2][..3], [1, 0, 3]);
    assert_eq!(got[3], b"n=4");
    for g in [&got[0], &got[2]] {
        assert_eq!(modbus.check(g), Verdict::Good, "{g:02x?}");
    }
    wait_for(&e, "the job to end", |ev| {
        matches!(ev, Event::SendDone { sent: 4, .. }).then_some(())
    });
}

#[test]
fn a_sequence_step_fills_its_variables_for_each_send() {
    let e = Engine::spawn(|| {}).unwrap();
    let id = EndpointId(1);
    e.send(Command::OpenClient {
        id,
        config: ClientConfig::default(),
    })
    .unwrap();
    let to = listener();
    e.send(Command::RunSequence {
        id,
        target: to.local_addr().unwrap().to_string(),
        sequence: Sequence {
            client: String::new(),
            name: "numbered".into(),
            repeat: 3,
            steps: vec![Step {
                kind: StepKind::Send,
                text: "第{seq}次".into(),
                ..Step::default()
            }],
        },
    })
    .unwrap();
    let got: Vec<String> = take(&to, 3)
        .iter()
        .map(|b| codec::decode(b, Encoding::Utf8))
        .collect();
    assert_eq!(got, ["第1次", "第2次", "第3次"]);
}

#[test]
fn send_vars_fills_each_datagram_on_the_command_line() {
    let to = listener();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_udpdesk"))
        .args([
            "send",
            &to.local_addr().unwrap().to_string(),
            "--vars",
            "--count",
            "3",
            "--wait",
            "0ms",
            "${begin}N{seq}{end}*{xor8:hex}",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = take(&to, 3);
    let nmea = "xor8:hex@from=1@gap=1".parse::<Verify>().unwrap();
    for (i, g) in got.iter().enumerate() {
        assert!(g.starts_with(format!("$N{}*", i + 1).as_bytes()), "{g:?}");
        assert_eq!(
            nmea.check(g),
            Verdict::Good,
            "{:?}",
            String::from_utf8_lossy(g)
        );
    }
    // Without --vars the braces go as typed.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_udpdesk"))
        .args([
            "send",
            &to.local_addr().unwrap().to_string(),
            "--wait",
            "0ms",
            "{\"a\":1}",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(take(&to, 1)[0], b"{\"a\":1}");
}

#[test]
fn serve_verify_marks_the_datagrams_whose_checksum_fails() {
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_udpdesk"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--reply",
            "none",
            "--verify",
            "crc16_modbus",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(server.stderr.take().unwrap());
    let mut banner = String::new();
    std::io::BufRead::read_line(&mut err, &mut banner).unwrap();
    let at: std::net::SocketAddr = banner
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|a| a.parse().ok())
        .expect("an address in the banner");
    let me = UdpSocket::bind("127.0.0.1:0").unwrap();
    // A real Modbus RTU request (CRC C5 CD), the same with a flipped bit, and one byte.
    me.send_to(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd], at)
        .unwrap();
    me.send_to(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0b, 0xc5, 0xcd], at)
        .unwrap();
    me.send_to(&[0x01], at).unwrap();
    let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let lines: Vec<String> = (0..3)
        .map(|_| {
            let mut l = String::new();
            std::io::BufRead::read_line(&mut stdout, &mut l).unwrap();
            l
        })
        .collect();
    assert!(!lines[0].contains("checksum"), "{}", lines[0]);
    assert!(
        lines[1].contains("[bad checksum: expected "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("[too short to carry the checksum]"),
        "{}",
        lines[2]
    );
    nix_interrupt(&server);
    let out = server.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(out.status.success());
    assert!(
        rest.contains("2 received datagrams failed the crc16_modbus check"),
        "{rest}"
    );
}

fn nix_interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
