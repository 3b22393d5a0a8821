//! One fuzz function per parser, `fn(&[u8])`, the shape `cargo fuzz` takes.
//! Each feeds the bytes to the parser as the network or a file would, and
//! checks what a parser promises beyond "no panic": what it accepts it can
//! write back and read again unchanged. Shared by the stable driver
//! (`driver.rs`) and the `cargo fuzz` targets (`fuzz_targets/`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use udpdesk::capture::{PacketFilter, PacketView, read_capture};
use udpdesk::codec::{self, Context, Encoding, Mode, Request, Scope, Template};
use udpdesk::net::{Incoming, ReplyMode, Responder};
use udpdesk::packet::{Direction, EndpointId, Packet};

/// A fuzz function.
pub type Target = fn(&[u8]);

/// Every target, by name.
pub const TARGETS: [(&str, Target); 7] = [
    ("hex", hex),
    ("escape", escape),
    ("template", template),
    ("filter", filter),
    ("capture", capture),
    ("log", log),
    ("dissect", dissect),
];

/// Text as a person or a file would give it: the bytes, lossily as UTF-8.
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The hex parser: whatever it accepts, written as hex, parses to the same bytes.
pub fn hex(data: &[u8]) {
    if let Ok(bytes) = codec::parse_hex(&text(data)) {
        let again = codec::parse_hex(&codec::to_hex(&bytes));
        assert_eq!(again.as_deref(), Ok(&bytes[..]), "hex round trip");
    }
}

/// The escape parser in every encoding: what it accepts, escaped back, parses the same.
pub fn escape(data: &[u8]) {
    let input = text(data);
    for encoding in Encoding::ALL {
        if let Ok(bytes) = codec::parse_escaped(&input, encoding) {
            let escaped = codec::escape_bytes(&bytes, encoding);
            let again = codec::parse_escaped(&escaped, encoding);
            assert_eq!(
                again.as_deref(),
                Ok(&bytes[..]),
                "escape round trip in {encoding}: {escaped:?}"
            );
        }
    }
}

/// The template language: the first line is the template, the rest a datagram to
/// answer; the first byte also picks the encoding and the mode. What compiles for
/// sending compiles for replies too; a constant template fills the same every time;
/// the server's reply rules accept exactly the text templates the language does.
pub fn template(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (head, rest) = data.split_at(split);
    let pick = usize::from(data.first().copied().unwrap_or(0));
    let encoding = Encoding::ALL[pick % Encoding::ALL.len()];
    let mode = if (pick / Encoding::ALL.len()).is_multiple_of(2) {
        Mode::Text
    } else {
        Mode::Hex
    };
    let source = text(head);
    let now = SystemTime::now();
    let captures = [Some(0..rest.len()), None, Some(rest.len() / 2..rest.len())];
    let request = Request {
        bytes: rest,
        peer: SocketAddr::from(([127, 0, 0, 1], 5000)),
        captures: &captures,
    };
    let fill = |t: &Template, request: Option<Request<'_>>| {
        let mut out = Vec::new();
        t.fill(
            &Context {
                seq: 1,
                time: now,
                request,
            },
            &mut out,
        );
        out
    };
    let reply = Template::compile(&source, mode, encoding, Scope::Reply);
    if let Ok(send) = Template::compile(&source, mode, encoding, Scope::Send) {
        assert!(!send.uses_request(), "a send template uses no request");
        assert!(
            reply.is_ok(),
            "what compiles for sending compiles for replies"
        );
        let once = fill(&send, None);
        if send.is_constant() {
            assert_eq!(
                fill(&send, None),
                once,
                "a constant template fills the same"
            );
        }
    }
    if let Ok(t) = &reply {
        let _answer = fill(t, Some(request));
    }
    if mode == Mode::Text {
        let responder = Responder::new(&ReplyMode::Template(source), encoding);
        assert_eq!(
            responder.is_ok(),
            reply.is_ok(),
            "reply rules use the language"
        );
        if let Ok(responder) = responder {
            let _answer = responder.answer(&Incoming {
                bytes: rest,
                peer: SocketAddr::from(([127, 0, 0, 1], 5000)),
                time: now,
                seq: 1,
            });
        }
    }
}

/// The replay filter: parsed, then run over a packet.
pub fn filter(data: &[u8]) {
    if let Ok(f) = PacketFilter::parse(&text(data)) {
        let p = Packet {
            seq: 1,
            time: SystemTime::now(),
            endpoint: EndpointId(1),
            direction: Direction::In,
            local: SocketAddr::from(([127, 0, 0, 1], 9999)),
            peer: SocketAddr::from(([127, 0, 0, 1], 5000)),
            encoding: Encoding::Utf8,
            bytes: data.into(),
            truncated: false,
        };
        let _kept = f.keeps(&PacketView::of(&p));
    }
}

fn read_all(name: &str, data: &[u8]) {
    let mut n = 0u64;
    let _opened = read_capture(
        Path::new(name),
        data,
        data.len() as u64,
        &mut |p| {
            n += 1;
            assert_eq!(p.seq, n, "packets numbered from 1 in order");
        },
        &|_, _| {},
        &AtomicBool::new(false),
    );
}

/// The capture reader: pcap and pcapng (found by their first bytes).
pub fn capture(data: &[u8]) {
    read_all("fuzz.pcapng", data);
}

/// udpdesk's own logs: JSON Lines and CSV.
pub fn log(data: &[u8]) {
    read_all("fuzz.jsonl", data);
    read_all("fuzz.csv", data);
}

/// The frame dissector: the first byte picks the link type.
pub fn dissect(data: &[u8]) {
    use pcap_file::DataLink;
    const LINKS: [DataLink; 8] = [
        DataLink::ETHERNET,
        DataLink::RAW,
        DataLink::IPV4,
        DataLink::IPV6,
        DataLink::LINUX_SLL,
        DataLink::LINUX_SLL2,
        DataLink::NULL,
        DataLink::LOOP,
    ];
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(pick) % LINKS.len()];
    if let udpdesk::capture::Dissected::Udp { payload, .. } = udpdesk::capture::dissect(link, frame)
    {
        assert!(payload.len() <= frame.len());
    }
}
