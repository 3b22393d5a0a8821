//! Text with backslash escapes, both ways: safe display of decoded characters and
//! parsing of what people type back into bytes.

use std::iter::{Enumerate, Peekable};
use std::str::CharIndices;

use rust_i18n::t;

use super::chars::{CharName, hex_digit, is_hidden};
use super::decode::decode;
use super::encode::encode_into;
use super::encoding::Encoding;
use super::error::CodecError;

/// Inverse of [`parse_escaped`] for any bytes; the same as [`decode`], whose output is
/// built so that `parse_escaped(&escape_bytes(b, enc), enc) == b`.
#[must_use]
pub fn escape_bytes(bytes: &[u8], enc: Encoding) -> String {
    decode(bytes, enc)
}

/// Text with escapes to bytes. Everything except escapes is encoded in `enc`.
///
/// Escapes: `\r`, `\n`, `\t`, `\0` (U+0000) and `\\` are characters and are encoded in
/// `enc` like any other (two bytes each in UTF-16); `\xNN` is one raw byte inserted as-is;
/// `\u{N}` with 1 to 6 hex digits is a character, encoded in `enc`. `\0` is never octal:
/// `\012` is U+0000 followed by `12`.
///
/// # Errors
/// [`CodecError::BadEscape`] at the backslash's 0-based character index for an unknown
/// escape, a malformed `\x`/`\u{}` or a lone trailing backslash;
/// [`CodecError::Unrepresentable`] for a character `enc` cannot hold.
pub fn parse_escaped(input: &str, enc: Encoding) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(input.len());
    let mut chars = input.char_indices().enumerate().peekable();
    // The pending run of literal text, as (byte offset, character index) of its start.
    let mut run = (0, 0);
    while let Some((index, (offset, c))) = chars.next() {
        if c != '\\' {
            continue;
        }
        encode_into(
            input.get(run.0..offset).unwrap_or_default(),
            enc,
            &mut out,
            run.1,
        )?;
        match parse_escape(&mut chars, index)? {
            Escaped::Byte(b) => out.push(b),
            Escaped::Char(ch) => encode_into(ch.encode_utf8(&mut [0; 4]), enc, &mut out, index)?,
        }
        run = chars.peek().map_or((input.len(), 0), |&(i, (o, _))| (o, i));
    }
    encode_into(input.get(run.0..).unwrap_or_default(), enc, &mut out, run.1)?;
    Ok(out)
}

enum Escaped {
    Byte(u8),
    Char(char),
}

type Chars<'a> = Peekable<Enumerate<CharIndices<'a>>>;

/// Parses what follows a backslash at character `index`.
fn parse_escape(chars: &mut Chars<'_>, index: usize) -> Result<Escaped, CodecError> {
    let bad = |detail: String| CodecError::BadEscape { index, detail };
    let Some((_, (_, c))) = chars.next() else {
        return Err(bad(t!("codec.lone_backslash").into_owned()));
    };
    let ch = match c {
        'r' => '\r',
        'n' => '\n',
        't' => '\t',
        '0' => '\0',
        '\\' => '\\',
        'x' => {
            let hi = next_hex_digit(chars);
            let lo = hi.and_then(|_| next_hex_digit(chars));
            return match (hi, lo) {
                (Some(hi), Some(lo)) => Ok(Escaped::Byte(hi << 4 | lo)),
                _ => Err(bad(t!("codec.bad_x_escape").into_owned())),
            };
        }
        'u' => return parse_unicode(chars).map(Escaped::Char).map_err(bad),
        other => {
            return Err(bad(
                t!("codec.unknown_escape", ch = CharName(other)).into_owned()
            ));
        }
    };
    Ok(Escaped::Char(ch))
}

/// Consumes the next character if it is a hex digit.
fn next_hex_digit(chars: &mut Chars<'_>) -> Option<u8> {
    let &(_, (_, c)) = chars.peek()?;
    let digit = u8::try_from(c.to_digit(16)?).ok()?;
    chars.next();
    Some(digit)
}

/// Parses the `{N}` of `\u{N}`.
fn parse_unicode(chars: &mut Chars<'_>) -> Result<char, String> {
    let shape = || t!("codec.bad_u_escape").into_owned();
    if chars.next_if(|&(_, (_, c))| c == '{').is_none() {
        return Err(shape());
    }
    let mut value: u32 = 0;
    let mut digits = 0;
    while let Some(d) = next_hex_digit(chars) {
        digits += 1;
        if digits > 6 {
            return Err(shape());
        }
        value = value << 4 | u32::from(d);
    }
    if digits == 0 || chars.next_if(|&(_, (_, c))| c == '}').is_none() {
        return Err(shape());
    }
    char::from_u32(value).ok_or_else(|| {
        if (0xD800..=0xDFFF).contains(&value) {
            t!("codec.surrogate", value = format!("{value:x}")).into_owned()
        } else {
            t!("codec.beyond_unicode", value = format!("{value:x}")).into_owned()
        }
    })
}

/// Appends `c` as decode shows it: itself if visible, otherwise an escape that
/// `parse_escaped` turns back into the same bytes in `enc`.
pub(crate) fn push_display_char(c: char, enc: Encoding, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        // In ASCII-compatible encodings a C0/DEL character is exactly that one byte.
        '\u{1}'..='\u{1f}' | '\u{7f}' if enc.is_ascii_compatible() => {
            push_byte_escape(u8::try_from(c).unwrap_or_default(), out);
        }
        _ if is_hidden(c) => push_unicode_escape(c, out),
        _ => out.push(c),
    }
}

/// Appends `\xNN`, lowercase.
pub(crate) fn push_byte_escape(b: u8, out: &mut String) {
    out.push_str("\\x");
    out.push(hex_digit(b >> 4));
    out.push(hex_digit(b));
}

/// Appends `\u{N}` with lowercase hex digits and no leading zeros.
pub(crate) fn push_unicode_escape(c: char, out: &mut String) {
    let cp = u32::from(c);
    out.push_str("\\u{");
    let mut started = false;
    for shift in (0..6).rev() {
        let nibble = u8::try_from(cp >> (shift * 4) & 0xF).unwrap_or_default();
        if started || nibble != 0 || shift == 0 {
            started = true;
            out.push(hex_digit(nibble));
        }
    }
    out.push('}');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_escaped_table() {
        let table: [(&str, Encoding, &[u8]); 17] = [
            ("", Encoding::Utf8, b""),
            ("plain", Encoding::Utf8, b"plain"),
            ("\\r\\n", Encoding::Utf8, b"\r\n"),
            ("\\x00", Encoding::Utf8, b"\0"),
            ("\\x41\\xfF", Encoding::Utf8, b"A\xff"),
            ("\\u{4f60}", Encoding::Utf8, &[0xe4, 0xbd, 0xa0]),
            ("\\u{4F60}", Encoding::Gbk, &[0xc4, 0xe3]),
            ("\\\\", Encoding::Utf8, b"\\"),
            ("a\\tb\\0c", Encoding::Utf8, b"a\tb\0c"),
            ("\\012", Encoding::Utf8, b"\x0012"),
            ("\\u{1F600}", Encoding::Utf8, &[0xf0, 0x9f, 0x98, 0x80]),
            ("\\u{0}\\u{000041}", Encoding::Utf8, b"\0A"),
            ("你好\\x00", Encoding::Gbk, &[0xc4, 0xe3, 0xba, 0xc3, 0x00]),
            ("A\\n", Encoding::Utf16Le, &[0x41, 0, 0x0a, 0]),
            ("A\\xff", Encoding::Utf16Be, &[0, 0x41, 0xff]),
            ("\\\\", Encoding::Utf16Be, &[0, 0x5c]),
            ("é\\x80", Encoding::Windows1252, b"\xe9\x80"),
        ];
        for (input, enc, want) in table {
            assert_eq!(
                parse_escaped(input, enc).as_deref(),
                Ok(want),
                "{input:?} in {enc}"
            );
        }
    }

    #[test]
    fn parse_escaped_errors_point_at_the_backslash() {
        let table = [
            ("ab\\q", 2, "unknown escape"),
            ("\\x4", 0, "two hex digits"),
            ("\\x4g", 0, "two hex digits"),
            ("x\\x", 1, "two hex digits"),
            ("\\u{110000}", 0, "beyond"),
            ("\\u{d800}", 0, "surrogate"),
            ("\\u{}", 0, "1 to 6 hex digits"),
            ("\\u{1234567}", 0, "1 to 6 hex digits"),
            ("\\u{12", 0, "1 to 6 hex digits"),
            ("\\u41", 0, "1 to 6 hex digits"),
            ("\\u{4g}", 0, "1 to 6 hex digits"),
            ("你好\\", 2, "lone backslash"),
            ("\\n\\\\\\", 4, "lone backslash"),
        ];
        for (input, index, part) in table {
            match parse_escaped(input, Encoding::Utf8) {
                Err(CodecError::BadEscape { index: got, detail }) => {
                    assert_eq!(got, index, "{input:?}");
                    assert!(detail.contains(part), "{input:?}: {detail}");
                }
                other => panic!("{input:?}: expected BadEscape, got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_escape_never_shows_hidden_char_raw() {
        let err = parse_escaped("\\\u{202e}", Encoding::Utf8).expect_err("bad escape");
        assert!(!err.to_string().contains('\u{202e}'), "{err}");
        assert!(err.to_string().contains("U+202E"), "{err}");
    }

    #[test]
    fn parse_escaped_unrepresentable_index_is_in_the_input() {
        let table = [
            ("ab€", 2),
            ("\\x41\\n€", 6),
            ("\\u{20ac}", 0),
            ("a\\u{41}\\u{20ac}", 7),
        ];
        for (input, index) in table {
            assert_eq!(
                parse_escaped(input, Encoding::ShiftJis),
                Err(CodecError::Unrepresentable {
                    ch: '€',
                    index,
                    encoding: Encoding::ShiftJis
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn display_chars() {
        let table = [
            ('a', Encoding::Utf8, "a"),
            ('你', Encoding::Gbk, "你"),
            ('\\', Encoding::Utf8, "\\\\"),
            ('\r', Encoding::Utf16Le, "\\r"),
            ('\n', Encoding::Utf8, "\\n"),
            ('\t', Encoding::Utf8, "\\t"),
            ('\0', Encoding::Utf16Be, "\\0"),
            ('\u{1b}', Encoding::Utf8, "\\x1b"),
            ('\u{7f}', Encoding::ShiftJis, "\\x7f"),
            ('\u{1b}', Encoding::Utf16Le, "\\u{1b}"),
            ('\u{85}', Encoding::Utf8, "\\u{85}"),
            ('\u{81}', Encoding::Windows1252, "\\u{81}"),
            ('\u{202e}', Encoding::Utf8, "\\u{202e}"),
            ('\u{feff}', Encoding::Utf16Le, "\\u{feff}"),
            ('\u{e0041}', Encoding::Utf8, "\\u{e0041}"),
        ];
        for (c, enc, want) in table {
            let mut out = String::new();
            push_display_char(c, enc, &mut out);
            assert_eq!(out, want, "U+{:04X} in {enc}", u32::from(c));
        }
    }

    #[test]
    fn byte_and_unicode_escapes() {
        let bytes = [
            (0x00, "\\x00"),
            (0x0a, "\\x0a"),
            (0xff, "\\xff"),
            (0x9c, "\\x9c"),
        ];
        for (b, want) in bytes {
            let mut out = String::new();
            push_byte_escape(b, &mut out);
            assert_eq!(out, want);
        }
        let chars = [
            ('\0', "\\u{0}"),
            ('\u{85}', "\\u{85}"),
            ('\u{200b}', "\\u{200b}"),
            ('\u{10ffff}', "\\u{10ffff}"),
        ];
        for (c, want) in chars {
            let mut out = String::new();
            push_unicode_escape(c, &mut out);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn escape_bytes_is_decode() {
        let bytes = b"a\\b\r\n\x1b\xff";
        assert_eq!(
            escape_bytes(bytes, Encoding::Utf8),
            "a\\\\b\\r\\n\\x1b\\xff"
        );
    }
}
