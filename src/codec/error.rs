//! The one error type of the codec module.

use rust_i18n::t;

use super::chars::CharName;
use super::encoding::{Encoding, KNOWN_NAMES};

/// Why text or hex could not be turned into bytes (or a name into an [`Encoding`]).
///
/// Every `index` is a 0-based position counted in characters (not bytes) of
/// the input; the messages show it counted from 1, the way people count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("{}", t!("codec.unknown_encoding", name = format!("{:?}", .name), known = KNOWN_NAMES))]
    UnknownEncoding { name: String },
    #[error("{}", t!("codec.unrepresentable", ch = CharName(*.ch), at = .index + 1, encoding = .encoding))]
    Unrepresentable {
        ch: char,
        index: usize,
        encoding: Encoding,
    },
    #[error("{}", t!("codec.bad_escape", at = .index + 1, detail = .detail))]
    BadEscape { index: usize, detail: String },
    #[error("{}", t!("codec.bad_hex", found = CharName(*.found), at = .index + 1))]
    BadHex { index: usize, found: char },
    #[error("{}", t!("codec.odd_hex_digits", count = .count))]
    OddHexDigits { count: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem_and_count_from_one() {
        let table = [
            (
                CodecError::UnknownEncoding {
                    name: "koi8".into(),
                },
                "unknown encoding \"koi8\"; use one of: utf-8, gbk, gb18030, big5, shift_jis, euc-kr, utf-16le, utf-16be, windows-1252",
            ),
            (
                CodecError::Unrepresentable {
                    ch: '€',
                    index: 2,
                    encoding: Encoding::ShiftJis,
                },
                "'€' (U+20AC) at character 3 cannot be written in Shift_JIS",
            ),
            (
                CodecError::Unrepresentable {
                    ch: '\u{202e}',
                    index: 0,
                    encoding: Encoding::EucKr,
                },
                "an invisible character (U+202E) at character 1 cannot be written in EUC-KR",
            ),
            (
                CodecError::BadEscape {
                    index: 4,
                    detail: "\\x must be followed by two hex digits".into(),
                },
                "bad escape at character 5: \\x must be followed by two hex digits",
            ),
            (
                CodecError::BadHex {
                    index: 5,
                    found: 'g',
                },
                "'g' at character 6 is not a hex digit",
            ),
            (
                CodecError::OddHexDigits { count: 7 },
                "hex input has an odd number of digits (7): each byte needs two",
            ),
        ];
        for (err, want) in table {
            assert_eq!(err.to_string(), want);
        }
    }
}
