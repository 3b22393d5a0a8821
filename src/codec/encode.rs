//! Plain text to bytes, refusing characters the encoding cannot hold.

use encoding_rs::EncoderResult;

use super::encoding::Encoding;
use super::error::CodecError;

/// Plain text (no escape processing) to bytes in `enc`.
///
/// # Errors
/// [`CodecError::Unrepresentable`] naming the first character `enc` cannot hold and its
/// 0-based character index; nothing is ever replaced by `?` or an HTML `&#NNNN;` reference.
pub fn encode(text: &str, enc: Encoding) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, enc, &mut out, 0)?;
    Ok(out)
}

/// Appends `text` encoded in `enc` to `out`. `first_index` is the character index of
/// `text` inside the caller's larger input, so errors point into what the user typed.
/// On error `out` may hold part of the text.
pub(crate) fn encode_into(
    text: &str,
    enc: Encoding,
    out: &mut Vec<u8>,
    first_index: usize,
) -> Result<(), CodecError> {
    if text.is_empty() {
        return Ok(()); // escapes split input into many runs, often empty
    }
    match enc {
        Encoding::Utf8 => out.extend_from_slice(text.as_bytes()),
        // encoding_rs encodes UTF-16 labels as UTF-8 (the WHATWG "output encoding"),
        // so UTF-16 is done by hand.
        Encoding::Utf16Le => out.extend(text.encode_utf16().flat_map(u16::to_le_bytes)),
        Encoding::Utf16Be => out.extend(text.encode_utf16().flat_map(u16::to_be_bytes)),
        _ => encode_legacy(text, enc, out, first_index)?,
    }
    Ok(())
}

/// Encodes through `encoding_rs`'s `_without_replacement` API: the plain API would
/// silently turn unmappable characters into `&#NNNN;`.
fn encode_legacy(
    text: &str,
    enc: Encoding,
    out: &mut Vec<u8>,
    first_index: usize,
) -> Result<(), CodecError> {
    let mut encoder = enc.to_encoding_rs().new_encoder();
    let mut read_total = 0;
    loop {
        let rest = text.get(read_total..).unwrap_or_default();
        let room = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len());
        out.reserve(room);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(rest, out, true);
        read_total += read;
        match result {
            EncoderResult::InputEmpty => return Ok(()),
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(ch) => {
                // `read` includes the unmappable character itself.
                let before = read_total.saturating_sub(ch.len_utf8());
                let index = first_index + text.get(..before).map_or(0, |s| s.chars().count());
                return Err(CodecError::Unrepresentable {
                    ch,
                    index,
                    encoding: enc,
                });
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn known_bytes() {
        let table: [(&str, Encoding, &[u8]); 14] = [
            (
                "你好",
                Encoding::Utf8,
                &[0xe4, 0xbd, 0xa0, 0xe5, 0xa5, 0xbd],
            ),
            ("你好", Encoding::Gbk, &[0xc4, 0xe3, 0xba, 0xc3]),
            ("你好", Encoding::Gb18030, &[0xc4, 0xe3, 0xba, 0xc3]),
            ("你好", Encoding::Big5, &[0xa7, 0x41, 0xa6, 0x6e]),
            ("你好", Encoding::Utf16Le, &[0x60, 0x4f, 0x7d, 0x59]),
            ("你好", Encoding::Utf16Be, &[0x4f, 0x60, 0x59, 0x7d]),
            ("😀", Encoding::Utf16Le, &[0x3d, 0xd8, 0x00, 0xde]),
            ("😀", Encoding::Gb18030, &[0x94, 0x39, 0xfc, 0x36]),
            ("€", Encoding::Gbk, &[0x80]),
            ("€", Encoding::Gb18030, &[0xa2, 0xe3]),
            (
                "こんにちは",
                Encoding::ShiftJis,
                &[0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd],
            ),
            ("안녕", Encoding::EucKr, &[0xbe, 0xc8, 0xb3, 0xe7]),
            ("café", Encoding::Windows1252, b"caf\xe9"),
            ("a\r\n", Encoding::ShiftJis, b"a\r\n"),
        ];
        for (text, enc, want) in table {
            assert_eq!(encode(text, enc).as_deref(), Ok(want), "{text:?} in {enc}");
        }
        assert_eq!(encode("", Encoding::EucKr), Ok(vec![]));
    }

    #[test]
    fn unrepresentable_names_char_and_index() {
        let table = [
            ("a€b", Encoding::ShiftJis, '€', 1),
            ("ab你", Encoding::Windows1252, '你', 2),
            ("안녕你好", Encoding::EucKr, '你', 2),
            ("x😀", Encoding::Gbk, '😀', 1),
            ("好\u{e5e5}", Encoding::Gb18030, '\u{e5e5}', 1),
            ("中文\u{202e}", Encoding::Big5, '\u{202e}', 2),
        ];
        for (text, enc, ch, index) in table {
            assert_eq!(
                encode(text, enc),
                Err(CodecError::Unrepresentable {
                    ch,
                    index,
                    encoding: enc
                }),
                "{text:?} in {enc}"
            );
        }
    }

    #[test]
    fn encode_into_offsets_error_index() {
        let mut out = b"keep".to_vec();
        assert_eq!(encode_into("ok", Encoding::ShiftJis, &mut out, 10), Ok(()));
        assert_eq!(out, b"keepok");
        assert_eq!(
            encode_into("o€", Encoding::ShiftJis, &mut out, 10),
            Err(CodecError::Unrepresentable {
                ch: '€',
                index: 11,
                encoding: Encoding::ShiftJis
            })
        );
    }

    #[test]
    fn long_text_needing_several_rounds() {
        let text = "世界".repeat(10_000);
        let bytes = encode(&text, Encoding::Big5).expect("Big5 holds 世界");
        assert_eq!(bytes.len(), 40_000);
        assert_eq!(&bytes[..4], &[0xa5, 0x40, 0xac, 0xc9]);
    }
}
