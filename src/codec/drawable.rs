//! Characters no font can draw, shown as their escapes instead of as boxes.

use std::borrow::Cow;

use super::escape::push_unicode_escape;

/// `text` with every character that `has_glyph` refuses written as `\u{N}`, the
/// escape [`parse_escaped`](super::parse_escaped) reads back, so the shown text
/// still stands for the same bytes. Printable ASCII is taken as drawable without
/// asking. Borrows `text` when nothing needed escaping.
///
/// Meant for display text from [`decode`](super::decode), where a backslash is
/// already `\\`, so an escape added here cannot be mistaken for data.
pub fn escape_undrawable(text: &str, mut has_glyph: impl FnMut(char) -> bool) -> Cow<'_, str> {
    let mut missing = |c: char| !c.is_ascii_graphic() && c != ' ' && !has_glyph(c);
    let Some((start, first)) = text.char_indices().find(|&(_, c)| missing(c)) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(text.get(..start).unwrap_or_default());
    push_unicode_escape(first, &mut out);
    for c in text
        .get(start + first.len_utf8()..)
        .unwrap_or_default()
        .chars()
    {
        if missing(c) {
            push_unicode_escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Encoding, parse_escaped};

    /// A font with ASCII and the Simplified characters only.
    fn simplified(c: char) -> bool {
        c.is_ascii() || matches!(c, '你' | '好' | '，')
    }

    #[test]
    fn escapes_only_what_cannot_be_drawn() {
        let table = [
            ("", ""),
            ("hello", "hello"),
            ("你好，hello", "你好，hello"),
            ("안녕", "\\u{c548}\\u{b155}"),
            ("你好 안녕!", "你好 \\u{c548}\\u{b155}!"),
            ("臺灣", "\\u{81fa}\\u{7063}"),
            ("a\\\\u{41}", "a\\\\u{41}"),
            ("😀", "\\u{1f600}"),
        ];
        for (text, want) in table {
            assert_eq!(escape_undrawable(text, simplified), want, "{text:?}");
        }
    }

    #[test]
    fn borrows_when_everything_draws() {
        assert!(matches!(
            escape_undrawable("你好 world", simplified),
            Cow::Borrowed(_)
        ));
        assert!(matches!(escape_undrawable("안", simplified), Cow::Owned(_)));
    }

    #[test]
    fn ascii_is_never_asked_about() {
        let mut asked = Vec::new();
        let out = escape_undrawable("ab 你\\x00", |c| {
            asked.push(c);
            true
        });
        assert_eq!(out, "ab 你\\x00");
        assert_eq!(asked, ['你']);
    }

    #[test]
    fn escaped_text_reads_back_to_the_same_bytes() {
        for (bytes, enc) in [
            (&b"\xbe\xc8\xb3\xe7"[..], Encoding::EucKr),
            (&b"\xbb\x4f\xc6\x57"[..], Encoding::Big5),
        ] {
            let shown = crate::codec::decode(bytes, enc);
            let escaped = escape_undrawable(&shown, simplified);
            assert!(escaped.contains("\\u{"), "{escaped}");
            assert_eq!(parse_escaped(&escaped, enc).ok().as_deref(), Some(bytes));
        }
    }
}
