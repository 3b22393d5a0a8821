//! The [`Encoding`] choice: labels for people, names for files and the command line.

use std::fmt;
use std::str::FromStr;

use super::error::CodecError;

/// Text encodings udpdesk can decode and encode.
///
/// Serializes as the variant name (`"Gbk"`); deserializing also accepts [`Encoding::name`]
/// (`"gbk"`) so hand-written config files can use the command-line names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Encoding {
    #[default]
    #[serde(alias = "utf-8")]
    Utf8,
    #[serde(alias = "gbk")]
    Gbk,
    #[serde(alias = "gb18030")]
    Gb18030,
    #[serde(alias = "big5")]
    Big5,
    #[serde(alias = "shift_jis")]
    ShiftJis,
    #[serde(alias = "euc-kr")]
    EucKr,
    #[serde(alias = "utf-16le")]
    Utf16Le,
    #[serde(alias = "utf-16be")]
    Utf16Be,
    #[serde(alias = "windows-1252")]
    Windows1252,
}

/// The names `from_name` documents, for error messages; a test keeps it in step with `ALL`.
pub(crate) const KNOWN_NAMES: &str =
    "utf-8, gbk, gb18030, big5, shift_jis, euc-kr, utf-16le, utf-16be, windows-1252";

impl Encoding {
    /// Every encoding, in the order a picker should list them.
    pub const ALL: [Encoding; 9] = [
        Encoding::Utf8,
        Encoding::Gbk,
        Encoding::Gb18030,
        Encoding::Big5,
        Encoding::ShiftJis,
        Encoding::EucKr,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Windows1252,
    ];

    /// Human-readable label for menus, e.g. `"Shift_JIS"`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gbk => "GBK",
            Encoding::Gb18030 => "GB18030",
            Encoding::Big5 => "Big5",
            Encoding::ShiftJis => "Shift_JIS",
            Encoding::EucKr => "EUC-KR",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Windows1252 => "Windows-1252 (Latin-1)",
        }
    }

    /// Short lowercase name for the command line and config files, e.g. `"shift_jis"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
            Encoding::Gb18030 => "gb18030",
            Encoding::Big5 => "big5",
            Encoding::ShiftJis => "shift_jis",
            Encoding::EucKr => "euc-kr",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// Looks up a [`name`](Self::name), ignoring case and surrounding spaces. Also accepts
    /// the common aliases `utf8`, `cp936`, `gb2312`, `sjis`, `shift-jis`, `cp932`, `euckr`,
    /// `cp949`, `cp950`, `utf16le`, `utf16be`, `latin1`, `latin-1`, `iso-8859-1` and `cp1252`.
    /// `gb2312`, `cp936`, `cp932`, `cp949` and `latin1` map to the superset encoding that
    /// browsers use for those labels.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Encoding> {
        let lower = name.trim().to_ascii_lowercase();
        let enc = match lower.as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "gbk" | "cp936" | "gb2312" => Encoding::Gbk,
            "gb18030" => Encoding::Gb18030,
            "big5" | "cp950" => Encoding::Big5,
            "shift_jis" | "shift-jis" | "sjis" | "cp932" => Encoding::ShiftJis,
            "euc-kr" | "euckr" | "cp949" => Encoding::EucKr,
            "utf-16le" | "utf16le" => Encoding::Utf16Le,
            "utf-16be" | "utf16be" => Encoding::Utf16Be,
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => {
                Encoding::Windows1252
            }
            _ => return None,
        };
        Some(enc)
    }

    /// True when bytes 0x00-0x7F always mean ASCII, so a `\xNN` escape for them reads
    /// the same as the character; false for UTF-16.
    #[must_use]
    pub fn is_ascii_compatible(self) -> bool {
        !matches!(self, Encoding::Utf16Le | Encoding::Utf16Be)
    }

    /// The `encoding_rs` encoding used to decode (and, except for UTF-16, encode).
    #[must_use]
    pub fn to_encoding_rs(self) -> &'static encoding_rs::Encoding {
        match self {
            Encoding::Utf8 => encoding_rs::UTF_8,
            Encoding::Gbk => encoding_rs::GBK,
            Encoding::Gb18030 => encoding_rs::GB18030,
            Encoding::Big5 => encoding_rs::BIG5,
            Encoding::ShiftJis => encoding_rs::SHIFT_JIS,
            Encoding::EucKr => encoding_rs::EUC_KR,
            Encoding::Utf16Le => encoding_rs::UTF_16LE,
            Encoding::Utf16Be => encoding_rs::UTF_16BE,
            Encoding::Windows1252 => encoding_rs::WINDOWS_1252,
        }
    }
}

impl FromStr for Encoding {
    type Err = CodecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Encoding::from_name(s).ok_or_else(|| CodecError::UnknownEncoding { name: s.to_owned() })
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_names() {
        let table = [
            (Encoding::Utf8, "UTF-8", "utf-8"),
            (Encoding::Gbk, "GBK", "gbk"),
            (Encoding::Gb18030, "GB18030", "gb18030"),
            (Encoding::Big5, "Big5", "big5"),
            (Encoding::ShiftJis, "Shift_JIS", "shift_jis"),
            (Encoding::EucKr, "EUC-KR", "euc-kr"),
            (Encoding::Utf16Le, "UTF-16LE", "utf-16le"),
            (Encoding::Utf16Be, "UTF-16BE", "utf-16be"),
            (
                Encoding::Windows1252,
                "Windows-1252 (Latin-1)",
                "windows-1252",
            ),
        ];
        assert_eq!(table.map(|row| row.0), Encoding::ALL);
        for (enc, label, name) in table {
            assert_eq!(enc.label(), label);
            assert_eq!(enc.to_string(), label);
            assert_eq!(enc.name(), name);
            assert_eq!(Encoding::from_name(name), Some(enc));
            assert_eq!(Encoding::from_name(&name.to_ascii_uppercase()), Some(enc));
        }
        let names: Vec<&str> = Encoding::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names.join(", "), KNOWN_NAMES);
    }

    #[test]
    fn aliases() {
        let table = [
            ("utf8", Some(Encoding::Utf8)),
            (" UTF-8 ", Some(Encoding::Utf8)),
            ("cp936", Some(Encoding::Gbk)),
            ("GB2312", Some(Encoding::Gbk)),
            ("sjis", Some(Encoding::ShiftJis)),
            ("Shift-JIS", Some(Encoding::ShiftJis)),
            ("cp932", Some(Encoding::ShiftJis)),
            ("euckr", Some(Encoding::EucKr)),
            ("cp949", Some(Encoding::EucKr)),
            ("cp950", Some(Encoding::Big5)),
            ("utf16le", Some(Encoding::Utf16Le)),
            ("utf16be", Some(Encoding::Utf16Be)),
            ("latin1", Some(Encoding::Windows1252)),
            ("Latin-1", Some(Encoding::Windows1252)),
            ("iso-8859-1", Some(Encoding::Windows1252)),
            ("cp1252", Some(Encoding::Windows1252)),
            ("utf-16", None),
            ("", None),
            ("koi8-r", None),
        ];
        for (name, want) in table {
            assert_eq!(Encoding::from_name(name), want, "{name:?}");
        }
    }

    #[test]
    fn from_str_reports_unknown_names() {
        assert_eq!("GBK".parse::<Encoding>(), Ok(Encoding::Gbk));
        assert_eq!(
            "ebcdic".parse::<Encoding>(),
            Err(CodecError::UnknownEncoding {
                name: "ebcdic".into()
            })
        );
    }

    #[test]
    fn ascii_compatibility_and_encoding_rs_mapping() {
        for enc in Encoding::ALL {
            let utf16 = matches!(enc, Encoding::Utf16Le | Encoding::Utf16Be);
            assert_eq!(enc.is_ascii_compatible(), !utf16, "{enc}");
            assert_eq!(enc.to_encoding_rs().is_ascii_compatible(), !utf16, "{enc}");
        }
        assert_eq!(Encoding::ShiftJis.to_encoding_rs().name(), "Shift_JIS");
        assert_eq!(
            Encoding::Windows1252.to_encoding_rs().name(),
            "windows-1252"
        );
    }

    #[test]
    fn deserializes_variant_names_and_short_names() {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};

        let parse = |s: &'static str| {
            let de: StrDeserializer<'_, Error> = s.into_deserializer();
            Encoding::deserialize(de).ok()
        };
        for enc in Encoding::ALL {
            assert_eq!(parse(enc.name()), Some(enc), "{enc}");
        }
        assert_eq!(parse("ShiftJis"), Some(Encoding::ShiftJis));
        assert_eq!(parse("Windows1252"), Some(Encoding::Windows1252));
        assert_eq!(parse("latin1"), None);
    }

    #[test]
    fn default_is_utf8() {
        assert_eq!(Encoding::default(), Encoding::Utf8);
    }
}

impl Encoding {
    /// The longest prefix of `bytes`, at most `max` long, that ends between two
    /// characters, so a shortened display shows no half character. A best
    /// effort on malformed input: it never returns more than `max`.
    #[must_use]
    pub fn prefix_len(self, bytes: &[u8], max: usize) -> usize {
        if bytes.len() <= max {
            return bytes.len();
        }
        match self {
            Encoding::Utf8 => {
                // Back off over continuation bytes to the start of a character:
                // three at most, so binary that is all continuation bytes is
                // still cut at `max`.
                (max.saturating_sub(3)..=max)
                    .rev()
                    .find(|&cut| bytes.get(cut).is_none_or(|b| b & 0xC0 != 0x80))
                    .unwrap_or(max)
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let mut cut = max & !1;
                let high = |at: usize| {
                    let unit = match self {
                        Encoding::Utf16Le => [bytes[at + 1], bytes[at]],
                        _ => [bytes[at], bytes[at + 1]],
                    };
                    (0xD8..=0xDB).contains(&unit[0])
                };
                // Do not end on the first half of a surrogate pair.
                if cut >= 2 && high(cut - 2) {
                    cut -= 2;
                }
                cut
            }
            Encoding::Windows1252 => max,
            Encoding::Gbk
            | Encoding::Gb18030
            | Encoding::Big5
            | Encoding::ShiftJis
            | Encoding::EucKr => {
                // Walk the characters from the start: these encodings cannot be
                // read backwards.
                let mut at = 0;
                while at < max {
                    let b = bytes[at];
                    let width = match self {
                        Encoding::ShiftJis if b < 0x80 || (0xA1..=0xDF).contains(&b) => 1,
                        Encoding::Gb18030
                            if b >= 0x81
                                && bytes.get(at + 1).is_some_and(|n| n.is_ascii_digit()) =>
                        {
                            4
                        }
                        _ if b < 0x80 => 1,
                        _ => 2,
                    };
                    if at + width > max {
                        break;
                    }
                    at += width;
                }
                at
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod prefix_tests {
    use super::*;

    #[test]
    fn a_prefix_never_splits_a_character() {
        let texts = [
            "a你好，世界🙂 hello",
            "a你好，世界 hello",
            "aこんにちは、ｶﾀｶﾅ",
            "a안녕 hello",
            "café ü",
        ];
        for enc in Encoding::ALL {
            let Some(bytes) = texts.iter().find_map(|t| crate::codec::encode(t, enc).ok()) else {
                panic!("no sample encodes in {enc:?}");
            };
            for max in 0..bytes.len() {
                let cut = enc.prefix_len(&bytes, max);
                assert!(cut <= max, "{enc:?} {max}");
                let shown = crate::codec::decode(&bytes[..cut], enc);
                assert!(
                    !shown.contains("\\x"),
                    "{enc:?} cut {cut} of {max}: {shown}"
                );
            }
        }
    }
}

#[cfg(test)]
mod continuation_tests {
    use super::*;

    #[test]
    fn binary_of_continuation_bytes_is_still_cut_at_max() {
        let bytes = [0x80u8; 600];
        assert_eq!(Encoding::Utf8.prefix_len(&bytes, 256), 256);
    }
}
