//! Which characters must never be shown raw, and how to name a character in a message.

use std::fmt;

/// True for characters that are invisible or reorder/hide the text around them:
/// C0/C1 controls, DEL, bidi controls, zero-width and other format characters,
/// line/paragraph separators, fillers, smuggling-prone variation selectors and
/// noncharacters. Showing these raw would let a payload disguise itself.
pub(crate) fn is_hidden(c: char) -> bool {
    let cp = u32::from(c);
    if c.is_control() {
        return true; // C0, DEL and C1
    }
    if cp & 0xFFFE == 0xFFFE || (0xFDD0..=0xFDEF).contains(&cp) {
        return true; // noncharacters
    }
    matches!(
        cp,
        0x00AD                      // soft hyphen
        | 0x034F                    // combining grapheme joiner
        | 0x0600..=0x0605           // Arabic number signs
        | 0x061C                    // Arabic letter mark
        | 0x06DD | 0x070F | 0x0890 | 0x0891 | 0x08E2
        | 0x115F | 0x1160 | 0x3164 | 0xFFA0 // Hangul fillers render blank
        | 0x17B4 | 0x17B5           // Khmer inherent vowels
        | 0x180B..=0x180F           // Mongolian selectors and vowel separator
        | 0x200B..=0x200F           // zero-width space/joiners, LRM, RLM
        | 0x2028..=0x202E           // line/para separators, bidi embeddings and overrides
        | 0x2060..=0x2064           // word joiner, invisible math operators
        | 0x2066..=0x206F           // bidi isolates, deprecated format characters
        | 0xFE00..=0xFE0D           // variation selectors; FE0E/FE0F stay so emoji look normal
        | 0xFEFF                    // BOM / zero-width no-break space
        | 0xFFF9..=0xFFFB           // interlinear annotation
        | 0x110BD | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF // tags and variation selectors supplement
    )
}

/// Names a character for an error message without ever printing a hidden one raw:
/// `'g'`, `'€' (U+20AC)` (the code point tells look-alikes apart) or
/// `an invisible character (U+202E)`.
pub(crate) struct CharName(pub char);

impl fmt::Display for CharName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        let cp = u32::from(c);
        if c.is_ascii_graphic() || c == ' ' {
            write!(f, "'{c}'")
        } else if is_hidden(c) {
            f.write_str(&rust_i18n::t!(
                "codec.invisible_char",
                code = format!("{cp:04X}")
            ))
        } else {
            write!(f, "'{c}' (U+{cp:04X})")
        }
    }
}

/// Lowercase hex digit for the low nibble of `n`.
pub(crate) fn hex_digit(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0x0F)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters() {
        let hidden = [
            '\0',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{9f}',
            '\u{ad}',
            '\u{61c}',
            '\u{200b}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{feff}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{1fffe}',
            '\u{fdd0}',
            '\u{e0041}',
            '\u{e0100}',
            '\u{fe00}',
            '\u{3164}',
        ];
        for c in hidden {
            assert!(is_hidden(c), "U+{:04X} should be hidden", u32::from(c));
        }
        let shown = [
            'a', ' ', '~', '你', '，', 'é', '€', '\u{a0}', '\u{3000}', '\u{fe0f}', '😀', '\u{fffd}',
        ];
        for c in shown {
            assert!(!is_hidden(c), "U+{:04X} should be shown", u32::from(c));
        }
    }

    #[test]
    fn char_names() {
        let table = [
            ('g', "'g'"),
            (' ', "' '"),
            ('а', "'а' (U+0430)"),
            ('€', "'€' (U+20AC)"),
            ('😀', "'😀' (U+1F600)"),
            ('\u{1b}', "an invisible character (U+001B)"),
            ('\u{202e}', "an invisible character (U+202E)"),
        ];
        for (c, want) in table {
            assert_eq!(CharName(c).to_string(), want);
        }
    }

    #[test]
    fn hex_digits() {
        let table = [(0, '0'), (9, '9'), (10, 'a'), (15, 'f'), (0x3c, 'c')];
        for (n, want) in table {
            assert_eq!(hex_digit(n), want);
        }
    }
}
