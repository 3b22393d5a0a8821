//! Round trips across the whole module: text -> bytes -> display text -> bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::*;

#[test]
fn greetings_round_trip_in_every_encoding_that_holds_them() {
    let table = [
        ("你好，世界", Encoding::Utf8),
        ("你好，世界", Encoding::Gbk),
        ("你好，世界", Encoding::Gb18030),
        ("你好，世界", Encoding::Big5),
        ("你好，世界", Encoding::Utf16Le),
        ("你好，世界", Encoding::Utf16Be),
        ("こんにちは", Encoding::ShiftJis),
        ("안녕하세요", Encoding::EucKr),
        ("café", Encoding::Windows1252),
        ("Grüße, ½ €", Encoding::Windows1252),
        ("😀 ok", Encoding::Gb18030),
        ("😀 ok", Encoding::Utf16Le),
    ];
    for (text, enc) in table {
        let bytes = encode(text, enc).expect("representable");
        assert_eq!(decode(&bytes, enc), text, "{text} in {enc}");
        assert_eq!(
            parse_escaped(text, enc).as_deref(),
            Ok(bytes.as_slice()),
            "{text} in {enc}"
        );
    }
}

#[test]
fn every_two_byte_string_round_trips() {
    for enc in Encoding::ALL {
        for pair in 0..=u16::MAX {
            let bytes = pair.to_be_bytes();
            let shown = escape_bytes(&bytes, enc);
            assert_eq!(
                parse_escaped(&shown, enc).as_deref(),
                Ok(&bytes[..]),
                "{bytes:x?} in {enc}: {shown}"
            );
        }
    }
}

/// The double-byte encodings are covered by the exhaustive two-byte test above; this
/// covers the encodings whose characters can be longer (and is slow in debug builds
/// of `encoding_rs`, hence the short list).
#[test]
fn every_bmp_char_round_trips_where_representable() {
    let encodings = [
        Encoding::Utf8,
        Encoding::Gb18030,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Windows1252,
    ];
    for enc in encodings {
        let text: String = ('\0'..='\u{ffff}')
            .filter(|c| encode(c.encode_utf8(&mut [0; 4]), enc).is_ok())
            .collect();
        let bytes = encode(&text, enc).expect("filtered");
        let shown = decode(&bytes, enc);
        assert_eq!(parse_escaped(&shown, enc), Ok(bytes), "{enc}");
    }
}

/// Bytes that mix valid multi-byte characters of `enc` with random junk, so that
/// the interesting decoder paths are hit far more often than by random bytes alone.
fn mixed_bytes(enc: Encoding) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        any::<char>()
            .prop_map(move |c| encode(c.encode_utf8(&mut [0; 4]), enc).unwrap_or_default()),
        prop::sample::select(vec![
            '你', '好', '，', '世', '界', 'こ', '안', 'é', '€', '\\', '\u{202e}'
        ])
        .prop_map(move |c| encode(c.encode_utf8(&mut [0; 4]), enc).unwrap_or_default()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn any_encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(Encoding::ALL.to_vec())
}

/// Strings of characters `enc` can hold, drawn mostly from ranges where its repertoire lives.
fn representable_text(enc: Encoding) -> impl Strategy<Value = String> {
    let c = prop_oneof![
        any::<char>(),
        prop::char::range('\0', '\u{ff}'),
        prop::char::range('\u{3000}', '\u{30ff}'),
        prop::char::range('\u{4e00}', '\u{9fff}'),
        prop::char::range('\u{ac00}', '\u{d7a3}'),
    ];
    prop::collection::vec(c, 0..32).prop_map(move |chars| {
        chars
            .into_iter()
            .filter(|c| encode(c.encode_utf8(&mut [0; 4]), enc).is_ok())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn hex_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(parse_hex(&to_hex(&bytes)), Ok(bytes.clone()));
        let dump = hex_dump(&bytes);
        prop_assert_eq!(dump.lines().count(), bytes.len().div_ceil(16));
    }

    #[test]
    fn random_bytes_round_trip(enc in any_encoding(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let shown = escape_bytes(&bytes, enc);
        prop_assert_eq!(parse_escaped(&shown, enc), Ok(bytes), "shown as {}", shown);
    }

    #[test]
    fn mixed_bytes_round_trip((enc, bytes) in any_encoding().prop_flat_map(|e| (Just(e), mixed_bytes(e)))) {
        let shown = escape_bytes(&bytes, enc);
        prop_assert_eq!(parse_escaped(&shown, enc), Ok(bytes), "shown as {}", shown);
    }

    #[test]
    fn display_never_contains_hidden_chars((enc, bytes) in any_encoding().prop_flat_map(|e| (Just(e), mixed_bytes(e)))) {
        let shown = decode(&bytes, enc);
        prop_assert!(!shown.chars().any(|c| c.is_control() || super::chars::is_hidden(c)), "{}", shown);
    }

    #[test]
    fn any_utf8_string_round_trips(s in any::<String>()) {
        let bytes = encode(&s, Encoding::Utf8)?;
        prop_assert_eq!(&bytes, s.as_bytes());
        prop_assert_eq!(parse_escaped(&decode(&bytes, Encoding::Utf8), Encoding::Utf8), Ok(bytes));
    }

    #[test]
    fn arbitrary_strings_round_trip_where_representable(enc in any_encoding(), s in any::<String>()) {
        if let Ok(bytes) = encode(&s, enc) {
            prop_assert_eq!(parse_escaped(&decode(&bytes, enc), enc), Ok(bytes));
        }
    }
}

// Fewer cases: filtering by encodability is slow in debug builds of encoding_rs.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn representable_strings_round_trip((enc, s) in any_encoding().prop_flat_map(|e| (Just(e), representable_text(e)))) {
        let bytes = encode(&s, enc)?;
        let shown = decode(&bytes, enc);
        prop_assert_eq!(parse_escaped(&shown, enc), Ok(bytes));
    }
}
