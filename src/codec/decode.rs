//! Bytes to display text that hides nothing and round-trips through `parse_escaped`.

use encoding_rs::{Decoder, DecoderResult};

use super::encode::encode_into;
use super::encoding::Encoding;
use super::escape::{push_byte_escape, push_display_char};

/// Bytes to display text in `enc`. Never fails.
///
/// Malformed sequences appear as `\xNN` per byte. Control characters appear escaped
/// (`\r`, `\n`, `\t`, `\0`, `\\` for a backslash; other C0 and DEL as `\x1b` in
/// ASCII-compatible encodings, `\u{1b}` in UTF-16). C1 controls, bidi controls,
/// zero-width and other invisible format characters appear as `\u{202e}`, so a
/// hostile payload cannot disguise itself. Printable text, Chinese included, shows as
/// itself. Bytes that decode to a character which would encode back differently are
/// shown as `\xNN` too, so that `parse_escaped` always gives the original bytes back.
#[must_use]
pub fn decode(bytes: &[u8], enc: Encoding) -> String {
    let mut out = String::with_capacity(bytes.len());
    decode_into(bytes, enc, &mut out);
    out
}

/// Like [`decode`], but appends to `out` so a display buffer can be reused.
pub fn decode_into(bytes: &[u8], enc: Encoding, out: &mut String) {
    let mut scratch = Scratch::default();
    let mut pos = 0;
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        let (good, bad) = decode_until_malformed(rest, enc, &mut scratch.text);
        let text = std::mem::take(&mut scratch.text);
        push_run(
            &text,
            rest.get(..good).unwrap_or_default(),
            enc,
            out,
            &mut scratch,
        );
        scratch.text = text;
        for &b in rest.get(good..good + bad).unwrap_or_default() {
            push_byte_escape(b, out);
        }
        // `max(1)` guarantees progress even if a decoder ever reported nothing.
        pos += (good + bad).max(1);
    }
}

/// Buffers reused across runs of one `decode_into` call.
#[derive(Default)]
struct Scratch {
    text: String,
    bytes: Vec<u8>,
}

/// Decodes `src` into `text` (cleared first) up to the first malformed sequence.
/// Returns `(good, bad)`: `src[..good]` decoded to `text`, and `src[good..good + bad]`
/// is malformed (`bad == 0` when everything decoded). A fresh decoder per call makes the
/// bytes `encoding_rs` consumed after a malformed sequence get decoded again, as the
/// WHATWG "prepend to stream" rule intends.
fn decode_until_malformed(src: &[u8], enc: Encoding, text: &mut String) -> (usize, usize) {
    // No BOM sniffing: a BOM is data here and shows as `\u{feff}`.
    let mut decoder = enc.to_encoding_rs().new_decoder_without_bom_handling();
    text.clear();
    let mut read_total = 0;
    loop {
        let rest = src.get(read_total..).unwrap_or_default();
        reserve_for(&decoder, rest.len(), text);
        let (result, read) = decoder.decode_to_string_without_replacement(rest, text, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => return (src.len(), 0),
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(len, consumed_after) => {
                let end = read_total.saturating_sub(usize::from(consumed_after));
                let start = end.saturating_sub(usize::from(len));
                return (start, end - start);
            }
        }
    }
}

fn reserve_for(decoder: &Decoder, len: usize, text: &mut String) {
    let need = decoder
        .max_utf8_buffer_length_without_replacement(len)
        .unwrap_or_else(|| len.saturating_mul(3))
        .max(4);
    text.reserve(need);
}

/// Appends a correctly decoded run. UTF-8 and UTF-16 are exact; for the legacy
/// encodings a run is checked by encoding it back, and only if that differs is it
/// walked character by character to find which bytes must be shown raw.
fn push_run(text: &str, src: &[u8], enc: Encoding, out: &mut String, scratch: &mut Scratch) {
    let exact = matches!(enc, Encoding::Utf8 | Encoding::Utf16Le | Encoding::Utf16Be);
    if exact || encodes_to(text, src, enc, &mut scratch.bytes) {
        for c in text.chars() {
            push_display_char(c, enc, out);
        }
    } else {
        push_run_per_unit(src, enc, out, scratch);
    }
}

/// Feeds `src` (known to be free of malformed sequences) one byte at a time, so
/// each burst of output can be tied to exactly the bytes that produced it; e.g.
/// Big5 0x88 0x62 yields two characters that encode back as other bytes.
fn push_run_per_unit(src: &[u8], enc: Encoding, out: &mut String, scratch: &mut Scratch) {
    let mut decoder = enc.to_encoding_rs().new_decoder_without_bom_handling();
    let mut unit_start = 0;
    for (i, b) in src.iter().enumerate() {
        scratch.text.clear();
        reserve_for(&decoder, 1, &mut scratch.text);
        let last = i + 1 == src.len();
        // Output room was reserved and the run has no malformed bytes, so the result
        // is InputEmpty; if it were not, the unit's bytes still show raw below.
        let (_, _) = decoder.decode_to_string_without_replacement(
            std::slice::from_ref(b),
            &mut scratch.text,
            last,
        );
        if scratch.text.is_empty() && !last {
            continue;
        }
        let unit = src.get(unit_start..=i).unwrap_or_default();
        unit_start = i + 1;
        if !scratch.text.is_empty() && encodes_to(&scratch.text, unit, enc, &mut scratch.bytes) {
            for c in scratch.text.chars() {
                push_display_char(c, enc, out);
            }
        } else {
            for &b in unit {
                push_byte_escape(b, out);
            }
        }
    }
}

/// True when `text` encodes in `enc` to exactly `want`.
fn encodes_to(text: &str, want: &[u8], enc: Encoding, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    encode_into(text, enc, buf, 0).is_ok() && buf == want
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table() {
        let table: [(&[u8], Encoding, &str); 32] = [
            (b"", Encoding::Utf8, ""),
            (
                b"a\r\n\x1b[31m\xff",
                Encoding::Utf8,
                "a\\r\\n\\x1b[31m\\xff",
            ),
            (
                &[0xe4, 0xbd, 0xa0, 0xe5, 0xa5, 0xbd],
                Encoding::Utf8,
                "你好",
            ),
            (b"\xe2\x80\xae", Encoding::Utf8, "\\u{202e}"),
            (b"\xef\xbb\xbfhi", Encoding::Utf8, "\\u{feff}hi"),
            (b"\xc2\x85\xe2\x80\x8b", Encoding::Utf8, "\\u{85}\\u{200b}"),
            (b"\xe4\xbd", Encoding::Utf8, "\\xe4\\xbd"),
            (b"\xe4\xbdA", Encoding::Utf8, "\\xe4\\xbdA"),
            (b"\xc0\xaf", Encoding::Utf8, "\\xc0\\xaf"),
            (b"back\\slash\t\0", Encoding::Utf8, "back\\\\slash\\t\\0"),
            (&[0xc4, 0xe3, 0xba, 0xc3], Encoding::Gbk, "你好"),
            (b"\x81", Encoding::Gbk, "\\x81"),
            (b"\x81\x7f", Encoding::Gbk, "\\x81\\x7f"),
            (b"\x81 A", Encoding::Gbk, "\\x81 A"),
            (b"\x81A", Encoding::Gbk, "丄"),
            (b"\xffA", Encoding::Gbk, "\\xffA"),
            (b"\x80", Encoding::Gbk, "€"),
            // GB18030 decodes 0x80 as € but encodes € as A2 E3, so 0x80 must stay raw.
            (b"\x80", Encoding::Gb18030, "\\x80"),
            (b"\x94\x39\xfc\x36", Encoding::Gb18030, "😀"),
            // GBK decodes four-byte GB18030 sequences but cannot encode them.
            (b"\x94\x39\xfc\x36", Encoding::Gbk, "\\x94\\x39\\xfc\\x36"),
            (b"\x81\x30\x81", Encoding::Gb18030, "\\x81\\x30\\x81"),
            // A bad fourth byte makes only the first byte bad; the other three are read again.
            (b"\x81\x30\x81A", Encoding::Gb18030, "\\x810丄"),
            (&[0xa7, 0x41, 0xa6, 0x6e], Encoding::Big5, "你好"),
            // Big5 0x8862 decodes to two characters that encode as 0x8866.
            (b"a\x88\x62b", Encoding::Big5, "a\\x88\\x62b"),
            (b"\x82\xb1\x82\xf1", Encoding::ShiftJis, "こん"),
            (b"\x5c\x7e", Encoding::ShiftJis, "\\\\~"),
            (&[0xbe, 0xc8, 0xb3, 0xe7], Encoding::EucKr, "안녕"),
            (b"caf\xe9\x81\x80", Encoding::Windows1252, "café\\u{81}€"),
            (
                &[0x60, 0x4f, 0x0a, 0x00, 0x1b, 0x00],
                Encoding::Utf16Le,
                "你\\n\\u{1b}",
            ),
            (&[0x4f, 0x60, 0x00], Encoding::Utf16Be, "你\\x00"),
            (&[0x00, 0xd8, 0x41, 0x00], Encoding::Utf16Le, "\\x00\\xd8A"),
            (
                &[0xff, 0xfe, 0xdc, 0x00, 0x00, 0xdc],
                Encoding::Utf16Be,
                "\\u{fffe}\\xdc\\x00Ü",
            ),
        ];
        for (bytes, enc, want) in table {
            assert_eq!(decode(bytes, enc), want, "{bytes:x?} in {enc}");
        }
    }

    #[test]
    fn decode_into_appends() {
        let mut out = String::from("> ");
        decode_into(b"hi\n", Encoding::Utf8, &mut out);
        decode_into(&[0xc4, 0xe3], Encoding::Gbk, &mut out);
        assert_eq!(out, "> hi\\n你");
    }

    /// Input, encoding, (good, bad) byte counts, decoded good part.
    type SplitRow = (&'static [u8], Encoding, (usize, usize), &'static str);

    #[test]
    fn split_runs() {
        let table: [SplitRow; 6] = [
            (b"abc", Encoding::Utf8, (3, 0), "abc"),
            (b"a\xffb", Encoding::Utf8, (1, 1), "a"),
            (b"\xe4\xbd", Encoding::Utf8, (0, 2), ""),
            (b"A\x81", Encoding::Gbk, (1, 1), "A"),
            (b"\x81\x30\x81A", Encoding::Gb18030, (0, 1), ""),
            (
                &[0x41, 0x00, 0x00, 0xd8, 0x41, 0x00],
                Encoding::Utf16Le,
                (2, 2),
                "A",
            ),
        ];
        for (bytes, enc, want, text_want) in table {
            let mut text = String::new();
            assert_eq!(
                decode_until_malformed(bytes, enc, &mut text),
                want,
                "{bytes:x?} in {enc}"
            );
            assert_eq!(text, text_want);
        }
    }

    #[test]
    fn long_mixed_input() {
        let mut bytes = "你好".repeat(5000).into_bytes();
        bytes.extend_from_slice(b"\xff");
        let shown = decode(&bytes, Encoding::Utf8);
        assert_eq!(shown.chars().count(), 10_000 + 4);
        assert!(shown.ends_with("好\\xff"));
    }
}
