//! The bundled CJK font, so Chinese renders on machines that have none and in
//! headless tests, which never see system fonts.

use egui::{FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

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
