//! The bundled CJK font, so Chinese renders on machines that have none and in
//! headless tests, which never see system fonts; and text from the wire made
//! safe to draw with whatever fonts there are.
//!
//! Characters the bundled font lacks (Hangul, Traditional-only hanzi, rarer
//! kanji) come from the system's fonts when eframe's `system_fonts` feature
//! finds one: its provider asks fontconfig on a background thread at start and
//! maps a font file only when a character needs it. Whatever still has no
//! glyph is shown as its escape by [`drawable`].

use std::borrow::Cow;

use egui::{FontData, FontFamily, FontInsert, FontPriority, FontSelection, InsertFontFamily};

use crate::codec;

/// A GB2312 subset of Noto Sans CJK SC (OFL 1.1): see `assets/fonts/README.md`.
const CJK: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-udpdesk-subset.otf");

/// Adds the CJK font after egui's own fonts in both families, so Latin text
/// keeps its usual look and Chinese, kana and full-width punctuation fall through to it.
pub fn install(ctx: &egui::Context) {
    ctx.add_font(FontInsert::new(
        "noto-sans-sc-subset",
        FontData::from_static(CJK),
        vec![
            InsertFontFamily {
                family: FontFamily::Proportional,
                priority: FontPriority::Lowest,
            },
            InsertFontFamily {
                family: FontFamily::Monospace,
                priority: FontPriority::Lowest,
            },
        ],
    ));
}

/// `text` as a label or text field in `ui` can draw it: any character that no
/// installed or discovered font has becomes `\u{N}`, instead of a box.
/// Asks the fonts per character (egui caches the answer per family), and
/// copies `text` only when something had to be escaped.
#[must_use]
pub fn drawable(ui: &egui::Ui, text: String) -> String {
    let font = FontSelection::Default.resolve(ui.style());
    let escaped = ui.fonts_mut(|fonts| {
        match codec::escape_undrawable(&text, |c| fonts.has_glyph(&font, c)) {
            Cow::Borrowed(_) => None,
            Cow::Owned(escaped) => Some(escaped),
        }
    });
    escaped.unwrap_or(text)
}
