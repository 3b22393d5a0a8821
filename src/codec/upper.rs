//! Received text upper-cased in its own encoding, for the `upper` reply mode and `{upper}`.

use std::borrow::Cow;

use super::encode::encode;
use super::encoding::Encoding;

/// Upper-cases the text of `bytes` in `encoding`. Bytes that are not valid text
/// in that encoding fall back to ASCII upper-casing, as the tutorial's `data.upper()` does.
#[must_use]
pub fn upper(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
    if let Some(text) = strict_text(bytes, encoding)
        && let Ok(out) = encode(&text.to_uppercase(), encoding)
    {
        return out;
    }
    if encoding.is_ascii_compatible() {
        bytes.to_ascii_uppercase()
    } else {
        bytes.to_vec()
    }
}

/// The text of `bytes` if they are valid in `encoding`, with no escapes or replacements.
#[must_use]
pub fn strict_text(bytes: &[u8], encoding: Encoding) -> Option<String> {
    encoding
        .to_encoding_rs()
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(Cow::into_owned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn upper_table() {
        let utf16 = |s: &str| encode(s, Encoding::Utf16Le).unwrap();
        let table: [(Vec<u8>, Encoding, Vec<u8>); 5] = [
            (b"hello".to_vec(), Encoding::Utf8, b"HELLO".to_vec()),
            ("straße é".into(), Encoding::Utf8, "STRASSE É".into()),
            (b"ab\xff".to_vec(), Encoding::Utf8, b"AB\xff".to_vec()),
            (utf16("abc"), Encoding::Utf16Le, utf16("ABC")),
            // An odd number of bytes is no UTF-16 text: left as it came.
            (b"abc".to_vec(), Encoding::Utf16Le, b"abc".to_vec()),
        ];
        for (input, enc, want) in table {
            assert_eq!(upper(&input, enc), want, "{input:?} in {enc}");
        }
    }

    #[test]
    fn strict_text_refuses_what_is_not_text() {
        assert_eq!(strict_text(b"ok", Encoding::Utf8).as_deref(), Some("ok"));
        assert_eq!(strict_text(b"\xff", Encoding::Utf8), None);
        assert_eq!(
            strict_text(&[0xc4, 0xe3], Encoding::Gbk).as_deref(),
            Some("你")
        );
    }
}
