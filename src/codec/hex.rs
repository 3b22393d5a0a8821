//! Hex as people type it, and hex as udpdesk shows it.

use super::chars::hex_digit;
use super::error::CodecError;

/// Hex as people type it, to bytes.
///
/// Accepts `"48 65 6c"`, `"48656c"`, `"0x48,0x65"`, `"0X48 0x65"`. Separators are
/// whitespace (spaces, tabs, line breaks), commas (also the full-width `，`), colons and
/// dashes. Each group between separators may start with `0x`/`0X`; its digits are read two
/// per byte, except that a lone digit is one byte on its own: `"1 2 ff"` is `01 02 ff`.
/// Empty input (or only separators) is no bytes.
///
/// # Errors
/// [`CodecError::BadHex`] with the 0-based character index of the first character that is
/// neither a hex digit nor a separator (checked over the whole input first);
/// otherwise [`CodecError::OddHexDigits`] for the first group of 3, 5, 7... digits.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut odd = None;
    let mut group_start = None;
    // A trailing separator flushes the last group.
    let chars = input.char_indices().map(Some).chain([None]).enumerate();
    for (index, item) in chars {
        let separator = item.is_none_or(|(_, c)| is_separator(c));
        match (group_start, separator) {
            (None, false) => group_start = Some((index, item.map_or(0, |(o, _)| o))),
            (Some((first, offset)), true) => {
                let end = item.map_or(input.len(), |(o, _)| o);
                let group = input.get(offset..end).unwrap_or_default();
                if let Err(count) = parse_group(group, first, &mut out)? {
                    odd.get_or_insert(count);
                }
                group_start = None;
            }
            _ => {}
        }
    }
    match odd {
        Some(count) => Err(CodecError::OddHexDigits { count }),
        None => Ok(out),
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ':' | '-' | '，')
}

/// Parses one group starting at character `first`, appending its bytes.
/// The outer error is a bad character; the inner one an odd digit count.
fn parse_group(
    group: &str,
    first: usize,
    out: &mut Vec<u8>,
) -> Result<Result<(), usize>, CodecError> {
    let (digits, skipped) = match group
        .strip_prefix("0x")
        .or_else(|| group.strip_prefix("0X"))
    {
        // A bare "0x" has no digits: its 'x' is what is wrong.
        Some("") => {
            return Err(CodecError::BadHex {
                index: first + 1,
                found: 'x',
            });
        }
        Some(rest) => (rest, 2),
        None => (group, 0),
    };
    let mut values = Vec::with_capacity(digits.len());
    for (i, c) in digits.chars().enumerate() {
        match c.to_digit(16).and_then(|d| u8::try_from(d).ok()) {
            Some(d) => values.push(d),
            None => {
                return Err(CodecError::BadHex {
                    index: first + skipped + i,
                    found: c,
                });
            }
        }
    }
    match values.as_slice() {
        [one] => out.push(*one),
        pairs if pairs.len() % 2 == 0 => {
            out.extend(pairs.chunks_exact(2).map(|p| p[0] << 4 | p[1]));
        }
        odd => return Ok(Err(odd.len())),
    }
    Ok(Ok(()))
}

/// Bytes as `"48 65 6c"`: lowercase, single spaces.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    write_hex(bytes, &mut out);
    out
}

/// Appends what [`to_hex`] returns to `out`, with one reservation and no per-byte
/// formatting, for the hot display path. Adds no leading space.
pub fn write_hex(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len().saturating_mul(3));
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(hex_digit(b >> 4));
        out.push(hex_digit(b));
    }
}

/// The first `max_bytes` bytes as [`to_hex`], followed by `" …"` when cut
/// (just `"…"` when `max_bytes` is 0 and there are bytes).
#[must_use]
pub fn hex_preview(bytes: &[u8], max_bytes: usize) -> String {
    match bytes.get(..max_bytes) {
        Some(head) if head.len() < bytes.len() => {
            let mut out = to_hex(head);
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('…');
            out
        }
        _ => to_hex(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_hex_accepts_what_people_type() {
        let table: [(&str, &[u8]); 20] = [
            ("", b""),
            ("  \n", b""),
            ("48 65 6c", b"Hel"),
            ("48656c", b"Hel"),
            ("48656C", b"Hel"),
            ("0x48,0x65", b"He"),
            ("0X48 0x65", b"He"),
            ("0x4865", b"He"),
            ("48:65:6c", b"Hel"),
            ("48-65-6c", b"Hel"),
            ("48\t65\r\n6c\n", b"Hel"),
            ("48, 65,\n6c", b"Hel"),
            ("48，65", b"He"),
            ("1 2 ff", &[0x01, 0x02, 0xff]),
            ("0x1 0xA", &[0x01, 0x0a]),
            ("0", &[0x00]),
            ("00", &[0x00]),
            (" ff ", &[0xff]),
            ("dead beef", &[0xde, 0xad, 0xbe, 0xef]),
            ("0 0x00", &[0x00, 0x00]),
        ];
        for (input, want) in table {
            assert_eq!(parse_hex(input).as_deref(), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn parse_hex_errors() {
        let table = [
            (
                "48 6g",
                CodecError::BadHex {
                    index: 4,
                    found: 'g',
                },
            ),
            (
                "zz",
                CodecError::BadHex {
                    index: 0,
                    found: 'z',
                },
            ),
            (
                "0x",
                CodecError::BadHex {
                    index: 1,
                    found: 'x',
                },
            ),
            (
                "0x 48",
                CodecError::BadHex {
                    index: 1,
                    found: 'x',
                },
            ),
            (
                "00x48",
                CodecError::BadHex {
                    index: 2,
                    found: 'x',
                },
            ),
            (
                "0x0x48",
                CodecError::BadHex {
                    index: 3,
                    found: 'x',
                },
            ),
            (
                "你好",
                CodecError::BadHex {
                    index: 0,
                    found: '你',
                },
            ),
            (
                "48;65",
                CodecError::BadHex {
                    index: 2,
                    found: ';',
                },
            ),
            ("486", CodecError::OddHexDigits { count: 3 }),
            ("4865 6c6f 777", CodecError::OddHexDigits { count: 3 }),
            ("0x486", CodecError::OddHexDigits { count: 3 }),
            ("48656c6f6", CodecError::OddHexDigits { count: 9 }),
            // A bad character anywhere wins over an earlier odd group.
            (
                "486 4g",
                CodecError::BadHex {
                    index: 5,
                    found: 'g',
                },
            ),
        ];
        for (input, want) in table {
            assert_eq!(parse_hex(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn to_hex_and_write_hex() {
        let table: [(&[u8], &str); 4] = [
            (b"", ""),
            (b"\x00", "00"),
            (b"Hel", "48 65 6c"),
            (&[0xde, 0xad, 0xbe, 0xef, 0x0a], "de ad be ef 0a"),
        ];
        for (bytes, want) in table {
            assert_eq!(to_hex(bytes), want);
            let mut out = String::from("hex: ");
            write_hex(bytes, &mut out);
            assert_eq!(out, format!("hex: {want}"));
        }
    }

    #[test]
    fn hex_preview_cuts() {
        let table: [(&[u8], usize, &str); 6] = [
            (b"", 0, ""),
            (b"", 4, ""),
            (b"Hel", 3, "48 65 6c"),
            (b"Hel", 10, "48 65 6c"),
            (b"Hello", 2, "48 65 …"),
            (b"Hello", 0, "…"),
        ];
        for (bytes, max, want) in table {
            assert_eq!(hex_preview(bytes, max), want, "{bytes:?} max {max}");
        }
    }
}
