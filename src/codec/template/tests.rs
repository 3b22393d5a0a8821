//! Tables for every placeholder in both modes, the checksum ranges, the error
//! messages, and properties: compiling never panics, and what a `{sum}` writes, the
//! matching [`Verify`] accepts.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::super::checksum::{Algorithm, Sum, SumFormat, Verdict, Verify};
use super::super::encode::encode;
use super::*;

const SEQ: u64 = 0x0102_0304_0506_0708;

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn send(source: &str, mode: Mode, encoding: Encoding) -> Vec<u8> {
    let t = Template::compile(source, mode, encoding, Scope::Send).unwrap();
    let mut out = Vec::new();
    t.fill(&ctx(SEQ, None), &mut out);
    out
}

fn ctx(seq: u64, request: Option<Request<'_>>) -> Context<'_> {
    Context {
        seq,
        time: at_ms(1_700_000_000_123),
        request,
    }
}

fn reply(source: &str, bytes: &[u8], captures: &[Option<Range<usize>>]) -> Vec<u8> {
    let t = Template::compile(source, Mode::Text, Encoding::Utf8, Scope::Reply).unwrap();
    let request = Request {
        bytes,
        peer: "127.0.0.1:5000".parse().unwrap(),
        captures,
    };
    let mut out = Vec::new();
    t.fill(&ctx(7, Some(request)), &mut out);
    out
}

fn error(source: &str, mode: Mode, encoding: Encoding, scope: Scope) -> String {
    Template::compile(source, mode, encoding, scope)
        .unwrap_err()
        .to_string()
}

#[test]
fn seq_in_decimal_and_every_width() {
    let table: [(&str, &[u8]); 8] = [
        ("{seq}", b"72623859790382856"),
        ("{seq:u8}", &[0x08]),
        ("{seq:u16be}", &[0x07, 0x08]),
        ("{seq:u16le}", &[0x08, 0x07]),
        ("{seq:u32be}", &[0x05, 0x06, 0x07, 0x08]),
        ("{seq:u32le}", &[0x08, 0x07, 0x06, 0x05]),
        ("{seq:u64be}", &[1, 2, 3, 4, 5, 6, 7, 8]),
        ("{seq:u64le}", &[8, 7, 6, 5, 4, 3, 2, 1]),
    ];
    for (source, want) in table {
        assert_eq!(send(source, Mode::Text, Encoding::Utf8), want, "{source}");
        assert_eq!(send(source, Mode::Hex, Encoding::Utf8), want, "{source}");
    }
}

#[test]
fn clocks_random_and_uuid() {
    let time = send("{time}", Mode::Text, Encoding::Utf8);
    let local: chrono::DateTime<chrono::Local> = at_ms(1_700_000_000_123).into();
    assert_eq!(time, local.format("%H:%M:%S").to_string().into_bytes());
    assert_eq!(
        send("{unix_ms}", Mode::Text, Encoding::Utf8),
        b"1700000000123"
    );

    let random = send("{random:16}", Mode::Hex, Encoding::Utf8);
    assert_eq!(random.len(), 16);
    assert_ne!(random, send("{random:16}", Mode::Hex, Encoding::Utf8));
    assert_eq!(
        send("{random:1024}", Mode::Text, Encoding::Utf8).len(),
        1024
    );

    let id = String::from_utf8(send("{uuid}", Mode::Text, Encoding::Utf8)).unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
}

#[test]
fn literals_in_each_mode_and_encoding() {
    let table: [(&str, Mode, Encoding, Vec<u8>); 8] = [
        (
            "{{x}} #{seq:u8}\\r\\n",
            Mode::Text,
            Encoding::Utf8,
            b"{x} #\x08\r\n".to_vec(),
        ),
        ("\\u{4f60}\\x00", Mode::Text, Encoding::Utf8, "你\0".into()),
        (
            "你好{seq:u8}",
            Mode::Text,
            Encoding::Gbk,
            vec![0xc4, 0xe3, 0xba, 0xc3, 0x08],
        ),
        (
            "A{{{seq:u8}\\n",
            Mode::Text,
            Encoding::Utf16Le,
            vec![0x41, 0, 0x7b, 0, 0x08, 0x0a, 0],
        ),
        (
            "02 {seq:u16be} 41 42",
            Mode::Hex,
            Encoding::Utf8,
            vec![0x02, 0x07, 0x08, 0x41, 0x42],
        ),
        (
            "0203{seq:u8}ff",
            Mode::Hex,
            Encoding::Utf8,
            vec![2, 3, 8, 0xff],
        ),
        ("0x7b,0x7D", Mode::Hex, Encoding::Utf16Be, vec![0x7b, 0x7d]),
        ("", Mode::Hex, Encoding::Utf8, vec![]),
    ];
    for (source, mode, encoding, want) in table {
        assert_eq!(
            send(source, mode, encoding),
            want,
            "{source:?} in {encoding}"
        );
    }
}

#[test]
fn text_fields_are_written_in_the_encoding() {
    let utf16 = |s: &str| encode(s, Encoding::Utf16Le).unwrap();
    let digits = send("{seq:u8}{seq} {xor8:hex}", Mode::Text, Encoding::Utf16Le);
    let mut want = vec![0x08];
    want.extend(utf16("72623859790382856 "));
    // The xor of everything before it, digits included.
    let xor = want.iter().fold(0, |x, &b| x ^ b);
    want.extend(utf16(&format!("{xor:02X}")));
    assert_eq!(digits, want);
    assert_eq!(send("{unix_ms}", Mode::Hex, Encoding::Utf16Be).len(), 26);
    assert_eq!(send("{uuid}", Mode::Text, Encoding::Utf16Le).len(), 72);
}

#[test]
fn checksums_cover_from_the_last_begin_after_variables() {
    // Modbus RTU: read 10 registers from the one `{seq:u16be}` names.
    let rtu = Template::compile(
        "01 03 {seq:u16be} 00 0A {crc16_modbus}",
        Mode::Hex,
        Encoding::Utf8,
        Scope::Send,
    )
    .unwrap();
    let mut out = Vec::new();
    rtu.fill(&ctx(0x1_0000, None), &mut out);
    assert_eq!(out, [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]);

    // The `*` is no part of what NMEA's checksum covers.
    let nmea = "${begin}GPGLL,4916.45,N,12311.12,W,225444,A{end}*{xor8:hex}\\r\\n";
    assert_eq!(
        send(nmea, Mode::Text, Encoding::Utf8),
        b"$GPGLL,4916.45,N,12311.12,W,225444,A*31\r\n"
    );

    let table: [(&str, &[u8]); 8] = [
        (
            "{begin}AB{sum8}{begin}C{sum8}",
            &[0x41, 0x42, 0x83, 0x43, 0x43],
        ),
        ("A{end}B{sum8}", &[0x41, 0x42, 0x41]),
        // Two sums after one end cover the same bytes; a begin forgets the end.
        ("A{end}B{sum8}{sum8}", &[0x41, 0x42, 0x41, 0x41]),
        ("A{end}{begin}B{sum8}", &[0x41, 0x42, 0x42]),
        // Without a begin a sum covers the datagram so far, earlier sums included.
        ("A{sum8}{sum8}", &[0x41, 0x41, 0x82]),
        ("AB{begin}{sum8}", &[0x41, 0x42, 0x00]),
        ("{crc32}", &[0, 0, 0, 0]),
        ("{crc16_ccitt:hex}", b"FFFF"),
    ];
    for (source, want) in table {
        assert_eq!(send(source, Mode::Text, Encoding::Utf8), want, "{source}");
    }

    // A fill appends: what `out` held before is no part of the datagram.
    let t = Template::compile("A{sum8}", Mode::Text, Encoding::Utf8, Scope::Send).unwrap();
    let mut out = b"\xff".to_vec();
    t.fill(&ctx(1, None), &mut out);
    assert_eq!(out, [0xff, 0x41, 0x41]);
}

#[test]
fn reply_fields_quote_the_request() {
    let caps = [Some(0..5), Some(3..5), None];
    let table: [(&str, &[u8]); 9] = [
        ("{text}!", b"hi yo!"),
        ("{upper}", b"HI YO"),
        ("{hex}", b"68 69 20 79 6f"),
        ("{peer} {len}", b"127.0.0.1:5000 5"),
        ("{seq}", b"7"),
        ("<{0}|{1}>", b"<hi yo|yo>"),
        // An absent group, or one the rule does not have, fills nothing.
        ("<{2}{9}>", b"<>"),
        ("{text}{crc16_modbus:hex}", b"hi yo233A"),
        ("{{{text}}}", b"{hi yo}"),
    ];
    for (source, want) in table {
        assert_eq!(
            reply(source, b"hi yo", &caps),
            want,
            "{source}: {:?}",
            String::from_utf8_lossy(&reply(source, b"hi yo", &caps))
        );
    }
    // Compiled for replies but filled with no request: the reply fields are empty.
    let t = Template::compile("[{text}{peer}]", Mode::Text, Encoding::Utf8, Scope::Reply).unwrap();
    let mut out = Vec::new();
    t.fill(&ctx(1, None), &mut out);
    assert_eq!(out, b"[]");
}

#[test]
fn constant_and_request_using_templates() {
    let table = [
        ("plain\\r\\n", true, false),
        ("AB{begin}{crc32}", true, false),
        ("{seq}", false, false),
        ("{time}", false, false),
        ("{random:2}", false, false),
        ("{uuid}", false, false),
        ("{unix_ms}", false, false),
        ("{begin}A{end}{xor8:hex}", true, false),
        ("{text}", false, true),
        ("{3}", false, true),
        ("{peer}{seq:u8}", false, true),
    ];
    for (source, constant, request) in table {
        let t = Template::compile(source, Mode::Text, Encoding::Utf8, Scope::Reply).unwrap();
        assert_eq!(t.is_constant(), constant, "{source}");
        assert_eq!(t.uses_request(), request, "{source}");
    }
}

#[test]
fn errors_say_where_and_what_to_do() {
    use Mode::{Hex, Text};
    use Scope::{Reply, Send};
    let utf8 = Encoding::Utf8;
    let table = [
        (
            "Hi {name}",
            Text,
            Send,
            "unknown placeholder {name} at character 4: use {seq}, {seq:u16be} (or u8, u16le, u32be, u32le, u64be, u64le), {time}, {unix_ms}, {random:N}, {uuid}, {begin}, {end}, or a checksum: {crc16_modbus}, {crc16_ccitt}, {crc32}, {sum8}, {xor8} ({text}, {upper}, {hex}, {peer}, {len} and {0} to {9} only in replies)",
        ),
        (
            "{name}",
            Text,
            Reply,
            "unknown placeholder {name} at character 1: use {text}, {upper}, {hex}, {peer}, {len}, {0} to {9}, {seq}, {seq:u16be} (or u8, u16le, u32be, u32le, u64be, u64le), {time}, {unix_ms}, {random:N}, {uuid}, {begin}, {end}, or a checksum: {crc16_modbus}, {crc16_ccitt}, {crc32}, {sum8}, {xor8}",
        ),
        (
            "ab{text}",
            Text,
            Send,
            "{text} at character 3 only works in a server's replies, where there is a datagram to answer",
        ),
        (
            "{0}",
            Hex,
            Send,
            "{0} at character 1 only works in a server's replies, where there is a datagram to answer",
        ),
        (
            "Hi {text",
            Text,
            Reply,
            "the brace at character 4 is never closed; write {{ for a literal brace",
        ),
        (
            "{seq {seq}",
            Text,
            Send,
            "the brace at character 1 is never closed; write {{ for a literal brace",
        ),
        (
            "Hi }",
            Text,
            Reply,
            "the brace at character 4 was never opened; write }} for a literal brace",
        ),
        (
            "01 {{",
            Hex,
            Send,
            "the brace at character 4 is never closed; write 7b for a { byte",
        ),
        (
            "01 }}",
            Hex,
            Send,
            "the brace at character 4 was never opened; write 7d for a } byte",
        ),
        (
            "{seq:u24be}",
            Text,
            Send,
            "{seq:u24be} at character 1: the width must be u8, u16be, u16le, u32be, u32le, u64be or u64le",
        ),
        (
            "{seq:}",
            Text,
            Send,
            "{seq:} at character 1: the width must be u8, u16be, u16le, u32be, u32le, u64be or u64le",
        ),
        (
            "{random:0}",
            Text,
            Send,
            "{random:0} at character 1: the count must be a whole number of bytes from 1 to 1024",
        ),
        (
            "{random:1025}",
            Text,
            Send,
            "{random:1025} at character 1: the count must be a whole number of bytes from 1 to 1024",
        ),
        (
            "{random}",
            Text,
            Send,
            "{random} at character 1: say how many bytes, as in {random:16}",
        ),
        (
            "{end:x}",
            Text,
            Send,
            "{end:x} at character 1: {end} takes no argument",
        ),
        (
            "{time:utc}",
            Text,
            Send,
            "{time:utc} at character 1: {time} takes no argument",
        ),
        (
            "{text:x}",
            Text,
            Reply,
            "{text:x} at character 1: {text} takes no argument",
        ),
        (
            "{crc32:xx}",
            Text,
            Send,
            "{crc32:xx} at character 1: \"xx\" is not a way to write a checksum: use :be, :le or :hex",
        ),
        (
            "02 {seq} zz",
            Hex,
            Send,
            "'z' at character 10 is not a hex digit",
        ),
        (
            "02 {seq} 123",
            Hex,
            Send,
            "hex input has an odd number of digits (3): each byte needs two",
        ),
        (
            "{seq}\\q",
            Text,
            Send,
            "bad escape at character 6: unknown escape: backslash followed by 'q'; use \\r \\n \\t \\0 \\\\ \\xNN or \\u{NNNN}",
        ),
        (
            "{{\\u{zz}",
            Text,
            Send,
            "bad escape at character 3: \\u must be followed by 1 to 6 hex digits in braces, like \\u{4f60}",
        ),
        (
            "{\u{202e}}",
            Text,
            Send,
            "unknown placeholder {\\u{202e}} at character 1: use {seq}",
        ),
    ];
    for (source, mode, scope, want) in table {
        let got = error(source, mode, utf8, scope);
        assert!(
            got.starts_with(want),
            "{source:?}\n got: {got}\nwant: {want}"
        );
    }
    let long = format!("{{{}}}", "x".repeat(100));
    let got = error(&long, Text, utf8, Send);
    assert!(
        got.starts_with(&format!("unknown placeholder {{{}…}}", "x".repeat(32))),
        "{got}"
    );
    assert_eq!(
        error("{seq}你", Text, Encoding::Windows1252, Send),
        "'你' (U+4F60) at character 6 cannot be written in Windows-1252 (Latin-1)"
    );
}

/// Every algorithm in every format, between a header `{begin}` skips and a trailer.
#[test]
fn what_a_sum_writes_its_verify_accepts() {
    for algorithm in Algorithm::ALL {
        for format in [SumFormat::Be, SumFormat::Le, SumFormat::Hex] {
            let sum = Sum { algorithm, format };
            let source = format!("AA {{begin}} 01 02 03 {{seq:u32be}} {{end}} 2A {{{sum}}} 0D 0A");
            let t = Template::compile(&source, Mode::Hex, Encoding::Utf8, Scope::Send).unwrap();
            let mut frame = Vec::new();
            t.fill(&ctx(SEQ, None), &mut frame);
            let verify = Verify {
                sum,
                from: 1,
                gap: 1,
                trailer: 2,
            };
            assert_eq!(verify.check(&frame), Verdict::Good, "{source}");
            let at = frame.len() - 2 - sum.width();
            for bit in 0..(at - 2) * 8 {
                let mut bad = frame.clone();
                bad[1 + bit / 8] ^= 1 << (bit % 8);
                assert!(
                    matches!(verify.check(&bad), Verdict::Bad { .. }),
                    "{source} bit {bit}"
                );
            }
            let mut bad = frame.clone();
            bad[at] ^= 1;
            assert!(
                matches!(verify.check(&bad), Verdict::Bad { .. }),
                "{source}"
            );
            let short = &frame[..1 + 1 + sum.width() + 1];
            assert_eq!(verify.check(short), Verdict::TooShort, "{source}");
        }
    }
}

fn any_source() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<String>(),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\\".to_owned()),
        Just("{seq:u16le}".to_owned()),
        Just("{random:3}".to_owned()),
        Just("{begin}".to_owned()),
        Just("{crc32:hex}".to_owned()),
        Just("{text}".to_owned()),
        "[0-9a-f ]{0,6}",
        "\\{[a-z0-9_:]{0,12}\\}",
    ];
    proptest::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn compiling_never_panics_and_send_templates_fill(
        source in any_source(),
        pick in 0usize..Encoding::ALL.len(),
        seq: u64,
    ) {
        let encoding = Encoding::ALL[pick];
        for mode in [Mode::Text, Mode::Hex] {
            let _reply = Template::compile(&source, mode, encoding, Scope::Reply);
            if let Ok(t) = Template::compile(&source, mode, encoding, Scope::Send) {
                let mut out = Vec::new();
                t.fill(&ctx(seq, None), &mut out);
                prop_assert!(!t.uses_request());
            }
        }
    }
}
