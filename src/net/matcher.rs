//! Which datagrams a rule is about: exact text, a prefix, a substring, a
//! suffix, a regular expression with captures, or a hex pattern with
//! wildcards. Shared by reply rules, relay rules and "wait for a reply" steps.

use std::fmt;
use std::ops::Range;

use rust_i18n::t;
use serde::{Deserialize, Serialize};

use crate::codec::{self, Encoding};

/// How a pattern is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// Every datagram.
    Any,
    /// The whole text (a trailing line break is ignored, as terminals send one).
    #[default]
    Exact,
    /// The text starts with the pattern.
    Prefix,
    /// The text contains the pattern.
    Contains,
    /// The text ends with the pattern (before any trailing line break).
    Suffix,
    /// A regular expression (Rust `regex` syntax) searched in the text; its
    /// groups fill `{1}`…`{9}`.
    Regex,
    /// Hex bytes for the whole datagram: `??` is any one byte, `*` any run of bytes.
    Hex,
}

impl MatchKind {
    /// Every kind, in the order menus list them.
    pub const ALL: [MatchKind; 7] = [
        MatchKind::Exact,
        MatchKind::Prefix,
        MatchKind::Contains,
        MatchKind::Suffix,
        MatchKind::Regex,
        MatchKind::Hex,
        MatchKind::Any,
    ];

    /// The name used in rule files and menus.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Any => "any",
            MatchKind::Exact => "exact",
            MatchKind::Prefix => "prefix",
            MatchKind::Contains => "contains",
            MatchKind::Suffix => "suffix",
            MatchKind::Regex => "regex",
            MatchKind::Hex => "hex",
        }
    }
}

impl fmt::Display for MatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Matcher {
    how: How,
    /// A line feed and a carriage return in the pattern's encoding (two
    /// bytes each in UTF-16), for the line break exact and suffix ignore.
    lf: Vec<u8>,
    cr: Vec<u8>,
}

#[derive(Debug, Clone)]
enum How {
    Any,
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
    Contains(Box<memchr::memmem::Finder<'static>>),
    Suffix(Vec<u8>),
    /// Searched in the raw bytes: UTF-8 text, or hex patterns.
    Bytes(regex::bytes::Regex),
    /// Searched in the text decoded from a legacy encoding; group positions
    /// are mapped back to byte offsets by re-encoding.
    Text(regex::Regex, Encoding),
}

/// Patterns longer than this are refused: a rule is typed, not pasted from a file.
const MAX_PATTERN: usize = 4096;
/// Groups a regex may have: a reply uses `{1}`…`{9}`, and every group makes
/// finding them dearer on each datagram.
const MAX_GROUPS: usize = 32;

impl Matcher {
    /// Compiles `pattern` as `kind`; text patterns take escapes (`\r\n`, `\x02`)
    /// and are encoded in `encoding`.
    ///
    /// # Errors
    /// A pattern the kind cannot read, said in one line with what to do.
    pub fn new(kind: MatchKind, pattern: &str, encoding: Encoding) -> Result<Matcher, String> {
        if pattern.len() > MAX_PATTERN {
            return Err(t!(
                "match_error.too_long",
                bytes = pattern.len(),
                max = MAX_PATTERN
            )
            .into_owned());
        }
        let literal = || codec::parse_escaped(pattern, encoding).map_err(|e| e.to_string());
        let how = match kind {
            MatchKind::Any => How::Any,
            MatchKind::Exact => How::Exact(literal()?),
            MatchKind::Prefix => How::Prefix(literal()?),
            MatchKind::Contains => How::Contains(Box::new(
                memchr::memmem::Finder::new(&literal()?).into_owned(),
            )),
            MatchKind::Suffix => How::Suffix(literal()?),
            MatchKind::Regex if encoding == Encoding::Utf8 => How::Bytes(
                regex::bytes::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(regex_error)?,
            ),
            MatchKind::Regex => How::Text(
                regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(regex_error)?,
                encoding,
            ),
            MatchKind::Hex => How::Bytes(hex_pattern(pattern)?),
        };
        let groups = match &how {
            How::Bytes(re) => re.captures_len(),
            How::Text(re, _) => re.captures_len(),
            _ => 1,
        };
        if groups > MAX_GROUPS + 1 {
            return Err(t!(
                "match_error.too_many_groups",
                groups = groups - 1,
                max = MAX_GROUPS
            )
            .into_owned());
        }
        let lf = codec::encode("\n", encoding).unwrap_or_else(|_| b"\n".to_vec());
        let cr = codec::encode("\r", encoding).unwrap_or_else(|_| b"\r".to_vec());
        Ok(Matcher { how, lf, cr })
    }

    /// Whether `bytes` match. `groups` gets the match (index 0) and each
    /// regex group as byte ranges of `bytes`; cleared first.
    pub fn find(&self, bytes: &[u8], groups: &mut Vec<Option<Range<usize>>>) -> bool {
        groups.clear();
        let whole = match &self.how {
            How::Any => Some(0..bytes.len()),
            How::Exact(lit) => (self.trim_newline(bytes) == lit.as_slice()
                || bytes == lit.as_slice())
            .then_some(0..lit.len()),
            How::Prefix(lit) => bytes.starts_with(lit).then_some(0..lit.len()),
            How::Contains(finder) => finder.find(bytes).map(|at| at..at + finder.needle().len()),
            How::Suffix(lit) => {
                let body = self.trim_newline(bytes);
                let body = if body.ends_with(lit) { body } else { bytes };
                body.ends_with(lit)
                    .then(|| body.len() - lit.len()..body.len())
            }
            How::Bytes(re) => {
                let Some(caps) = re.captures(bytes) else {
                    return false;
                };
                groups.extend(caps.iter().map(|m| m.map(|m| m.range())));
                return true;
            }
            How::Text(re, encoding) => return find_text(re, *encoding, bytes, groups),
        };
        match whole {
            Some(range) => {
                groups.push(Some(range));
                true
            }
            None => false,
        }
    }

    /// Whether `bytes` match, without the groups.
    #[must_use]
    pub fn is_match(&self, bytes: &[u8]) -> bool {
        match &self.how {
            How::Bytes(re) => re.is_match(bytes),
            How::Text(re, encoding) => {
                codec::strict_text(bytes, *encoding).is_some_and(|text| re.is_match(&text))
            }
            _ => self.find(bytes, &mut Vec::new()),
        }
    }
}

fn regex_error(e: regex::Error) -> String {
    // The crate's message spans several lines with a caret under the fault.
    let text = e.to_string();
    let last = text.lines().last().unwrap_or("").trim();
    let last = last.strip_prefix("error: ").unwrap_or(last);
    t!("match_error.bad_regex", detail = last).into_owned()
}

impl Matcher {
    /// `bytes` without one trailing line break (`\n` or `\r\n`).
    fn trim_newline<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        let b = bytes.strip_suffix(self.lf.as_slice()).unwrap_or(bytes);
        b.strip_suffix(self.cr.as_slice()).unwrap_or(b)
    }
}

/// A regex over text in a legacy encoding: decode strictly (bytes that are
/// not text in it never match), search, and map group offsets back to bytes.
fn find_text(
    re: &regex::Regex,
    encoding: Encoding,
    bytes: &[u8],
    groups: &mut Vec<Option<Range<usize>>>,
) -> bool {
    let Some(text) = codec::strict_text(bytes, encoding) else {
        return false;
    };
    let Some(caps) = re.captures(&text) else {
        return false;
    };
    // Every group edge, in order, mapped to bytes by encoding the text
    // between one edge and the next: one pass over the text in all.
    let mut edges: Vec<usize> = caps
        .iter()
        .flatten()
        .flat_map(|m| [m.start(), m.end()])
        .collect();
    edges.sort_unstable();
    edges.dedup();
    // GBK's decoder reads all of GB18030, which its encoder cannot all write.
    let measure = if encoding == Encoding::Gbk {
        Encoding::Gb18030
    } else {
        encoding
    };
    let mut at_bytes = Vec::with_capacity(edges.len());
    let (mut chars, mut len) = (0, 0);
    for &edge in &edges {
        let piece = &text[chars..edge];
        len += codec::encode(piece, measure).map_or(piece.len(), |b| b.len());
        chars = edge;
        at_bytes.push(len);
    }
    let offset = |at: usize| {
        edges
            .binary_search(&at)
            .ok()
            .and_then(|i| at_bytes.get(i))
            .map_or(at, |b| (*b).min(bytes.len()))
    };
    groups.extend(
        caps.iter()
            .map(|m| m.map(|m| offset(m.start())..offset(m.end()))),
    );
    true
}

/// `02 ?? ?? 03`, `02*03`: hex pairs, `??` for any byte, `*` for any run,
/// matched against the whole datagram.
fn hex_pattern(pattern: &str) -> Result<regex::bytes::Regex, String> {
    use std::fmt::Write;
    let mut re = String::from("(?s-u)^");
    let mut chars = pattern.chars().filter(|c| !c.is_whitespace()).peekable();
    let mut at = 0;
    while let Some(c) = chars.next() {
        at += 1;
        if c == '*' {
            re.push_str(".*");
            continue;
        }
        let Some(d) = chars.next() else {
            return Err(t!("match_error.half_byte", digit = c).into_owned());
        };
        at += 1;
        match (c, d) {
            ('?', '?') => re.push('.'),
            _ => match u8::from_str_radix(&format!("{c}{d}"), 16) {
                Ok(b) => {
                    let _ = write!(re, "\\x{b:02x}");
                }
                Err(_) => {
                    return Err(t!(
                        "match_error.bad_hex_byte",
                        byte = format!("{c}{d}"),
                        at = at - 1
                    )
                    .into_owned());
                }
            },
        }
    }
    re.push('$');
    regex::bytes::Regex::new(&re).map_err(regex_error)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hit(kind: MatchKind, pattern: &str, enc: Encoding, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        let m = Matcher::new(kind, pattern, enc).unwrap();
        let mut groups = Vec::new();
        m.find(bytes, &mut groups).then(|| {
            groups
                .iter()
                .map(|g| g.clone().map(|r| bytes[r].to_vec()).unwrap_or_default())
                .collect()
        })
    }

    #[test]
    fn literal_kinds() {
        let u = Encoding::Utf8;
        assert!(hit(MatchKind::Exact, "ping", u, b"ping").is_some());
        assert!(hit(MatchKind::Exact, "ping", u, b"ping\r\n").is_some());
        assert!(hit(MatchKind::Exact, "ping", u, b"ping!").is_none());
        assert!(hit(MatchKind::Exact, "a\\r\\n", u, b"a\r\n").is_some());
        assert!(hit(MatchKind::Prefix, "GET ", u, b"GET /x").is_some());
        assert!(hit(MatchKind::Prefix, "GET ", u, b"PUT /x").is_none());
        assert_eq!(
            hit(MatchKind::Contains, "err", u, b"an error"),
            Some(vec![b"err".to_vec()])
        );
        assert!(hit(MatchKind::Suffix, "end", u, b"the end\n").is_some());
        assert!(hit(MatchKind::Suffix, "\\n", u, b"line\n").is_some());
        assert!(hit(MatchKind::Any, "", u, b"").is_some());
        for enc in [Encoding::Utf16Le, Encoding::Utf16Be] {
            let sent = codec::encode("ping\r\n", enc).unwrap();
            assert!(hit(MatchKind::Exact, "ping", enc, &sent).is_some(), "{enc}");
            let sent = codec::encode("the end\n", enc).unwrap();
            assert!(hit(MatchKind::Suffix, "end", enc, &sent).is_some(), "{enc}");
        }
        assert!(hit(MatchKind::Exact, "", u, b"").is_some());
    }

    #[test]
    fn regex_captures_in_utf8_and_gbk() {
        let got = hit(
            MatchKind::Regex,
            r"^GET (\w+) (\d+)$",
            Encoding::Utf8,
            b"GET temp 42",
        );
        assert_eq!(
            got,
            Some(vec![
                b"GET temp 42".to_vec(),
                b"temp".to_vec(),
                b"42".to_vec()
            ])
        );
        let gbk = codec::encode("温度=25度", Encoding::Gbk).unwrap();
        let got = hit(MatchKind::Regex, r"温度=(\d+)", Encoding::Gbk, &gbk).unwrap();
        assert_eq!(got[1], b"25".to_vec());
        assert_eq!(got[0], codec::encode("温度=25", Encoding::Gbk).unwrap());
        // A four-byte GB18030 character, which GBK's decoder reads, comes first.
        let mut four = codec::encode("å", Encoding::Gb18030).unwrap();
        four.extend(b"t=25");
        let got = hit(MatchKind::Regex, r"=(\d+)", Encoding::Gbk, &four).unwrap();
        assert_eq!(got[1], b"25".to_vec());
        // Bytes that are not GBK text never match a text pattern.
        assert!(hit(MatchKind::Regex, ".*", Encoding::Gbk, b"\xff\xff").is_none());
        // An optional group that did not take part is empty.
        let got = hit(MatchKind::Regex, "a(b)?", Encoding::Utf8, b"a").unwrap();
        assert_eq!(got, vec![b"a".to_vec(), Vec::new()]);
    }

    #[test]
    fn hex_patterns_with_wildcards() {
        let u = Encoding::Utf8;
        assert!(hit(MatchKind::Hex, "02 ?? ?? 03", u, b"\x02ab\x03").is_some());
        assert!(hit(MatchKind::Hex, "02 ?? ?? 03", u, b"\x02a\x03").is_none());
        assert!(hit(MatchKind::Hex, "02*03", u, b"\x02\x03").is_some());
        assert!(hit(MatchKind::Hex, "02 * 03", u, b"\x02\n\n\x03").is_some());
        assert!(hit(MatchKind::Hex, "ff", u, b"\xff").is_some());
        assert!(hit(MatchKind::Hex, "FF", u, b"\xfe").is_none());
    }

    #[test]
    fn bad_patterns_say_what_to_do() {
        let u = Encoding::Utf8;
        for (kind, pattern, needle) in [
            (
                MatchKind::Regex,
                "(unclosed",
                "not a valid regular expression",
            ),
            (MatchKind::Hex, "02 0", "half a byte"),
            (MatchKind::Hex, "zz", "not a hex byte"),
            (MatchKind::Exact, "\\xZZ", "\\x"),
        ] {
            let err = Matcher::new(kind, pattern, u).unwrap_err();
            assert!(err.contains(needle), "{pattern}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
        let err = Matcher::new(MatchKind::Exact, "你", Encoding::Windows1252).unwrap_err();
        assert!(err.contains('你'), "{err}");
        assert!(Matcher::new(MatchKind::Regex, &"a".repeat(5000), u).is_err());
        let err = Matcher::new(MatchKind::Regex, &"(a)".repeat(33), u).unwrap_err();
        assert!(err.contains("at most 32"), "{err}");
        Matcher::new(MatchKind::Regex, &"(a)".repeat(32), u).unwrap();
    }
}
