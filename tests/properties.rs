//! Property tests on hostile input: arbitrary text and bytes into every
//! parser (hex, escapes, templates, the replay filter, the capture and log
//! readers, the frame dissector). Each fuzz function checks its parser's
//! promises; these add what a template must do with what it is given.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::SystemTime;

use proptest::prelude::*;
use udpdesk::codec::Encoding;
use udpdesk::net::{Incoming, ReplyMode, Responder};

#[path = "fuzz/targets.rs"]
mod targets;

fn incoming(bytes: &[u8]) -> Incoming<'_> {
    Incoming {
        bytes,
        peer: SocketAddr::from(([127, 0, 0, 1], 5000)),
        time: SystemTime::UNIX_EPOCH,
        seq: 7,
    }
}

/// Bytes that start like a capture file half the time.
fn capture_like() -> impl Strategy<Value = Vec<u8>> {
    let magic = prop_oneof![
        Just(vec![]),
        Just(0x0a0d_0d0a_u32.to_le_bytes().to_vec()),
        Just(0xa1b2_c3d4_u32.to_le_bytes().to_vec()),
        Just(0xa1b2_3c4d_u32.to_be_bytes().to_vec()),
    ];
    (magic, prop::collection::vec(any::<u8>(), 0..600)).prop_map(|(mut m, rest)| {
        m.extend(rest);
        m
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn hex_and_escape_parsers_take_any_text(s in any::<String>()) {
        targets::hex(s.as_bytes());
        targets::escape(s.as_bytes());
    }

    #[test]
    fn the_replay_filter_takes_any_text(s in "[ a-z.=!<>&|()0-9:\\[\\]]{0,60}") {
        targets::filter(s.as_bytes());
    }

    #[test]
    fn capture_and_log_readers_take_any_bytes(data in capture_like()) {
        targets::capture(&data);
        targets::log(&data);
        targets::dissect(&data);
    }

    #[test]
    fn a_template_without_placeholders_answers_itself(
        text in "[^{}\\\\]{0,40}",
        datagram in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let r = Responder::new(&ReplyMode::Template(text.clone()), Encoding::Utf8).unwrap();
        prop_assert_eq!(r.answer(&incoming(&datagram)), Some(text.into_bytes()));
    }

    #[test]
    fn a_text_template_returns_the_datagram_in_place(
        before in "[a-z ]{0,10}",
        after in "[a-z!]{0,10}",
        body in "[a-zA-Z0-9 ,.]{0,40}",
    ) {
        let t = format!("{before}{{text}}{after}");
        let r = Responder::new(&ReplyMode::Template(t), Encoding::Utf8).unwrap();
        let want = format!("{before}{body}{after}");
        prop_assert_eq!(r.answer(&incoming(body.as_bytes())), Some(want.into_bytes()));
    }

    #[test]
    fn any_template_text_is_refused_or_answers_without_panicking(
        t in any::<String>(),
        enc in 0..Encoding::ALL.len(),
        datagram in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Ok(r) = Responder::new(&ReplyMode::Template(t), Encoding::ALL[enc]) {
            let _answer = r.answer(&incoming(&datagram));
        }
    }
}
