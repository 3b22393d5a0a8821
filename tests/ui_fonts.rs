//! Text the bundled GB2312 font cannot draw, from the wire into the table and
//! the detail view: Hangul in EUC-KR and Traditional-only hanzi in Big5. With
//! the system's fonts added as eframe adds them, each character is drawn by a
//! system font when one has it and shown as `\u{N}` when none has; kittest
//! panics on a box, so getting this far without a panic is the check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use std::net::UdpSocket;
use std::sync::Arc;

use egui_kittest::kittest::Queryable as _;
use egui_system_font_provider::SystemFontProvider;
use udpdesk::codec::Encoding;
use udpdesk::settings::Settings;
use window::Ui;

/// The bundled font, then the system's, in the order the app has them.
fn with_system_fonts(ctx: &egui::Context) {
    udpdesk::ui::fonts::install(ctx);
    ctx.add_font_provider(Arc::new(SystemFontProvider::new()));
}

/// What the table should say for `text`: each character itself where some font
/// has it, its escape where none has.
fn expected(ui: &Ui, text: &str) -> String {
    let font = egui::FontSelection::Default.resolve(&ui.h.ctx.global_style());
    ui.h.ctx.fonts_mut(|f| {
        text.chars()
            .map(|c| {
                if f.has_glyph(&font, c) {
                    c.to_string()
                } else {
                    format!("\\u{{{:x}}}", u32::from(c))
                }
            })
            .collect()
    })
}

/// Does fontconfig know of no font for `lang`? `false` when it cannot be asked.
fn no_font_for(lang: &str) -> bool {
    std::process::Command::new("fc-list")
        .arg(format!(":lang={lang}"))
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.is_empty())
}

/// Sends `bytes` to a server decoding `encoding` (`name` in its menu) and finds
/// `text` in the table and the detail view; where fontconfig knows no font for
/// `lang`, it must be `escaped`.
fn show(encoding: Encoding, name: &str, bytes: &[u8], text: &str, lang: &str, escaped: &str) {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    let mut ui = Ui::with_fonts(settings, with_system_fonts);
    ui.choose("Encoding", 0, name);
    let at = ui.start_server();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(bytes, at).unwrap();
    ui.wait_until("the datagram and its echo", |a| a.session.store.len() == 2);
    assert_eq!(ui.app().session.store.get(0).unwrap().encoding, encoding);

    let want = expected(&ui, text);
    eprintln!("{name}: {text} is shown as {want}");
    if no_font_for(lang) {
        assert_eq!(want, escaped, "no {lang} font here, so escapes, not boxes");
    }
    assert_eq!(
        ui.h.get_all_by_label(&want).count(),
        2,
        "the request and its echo"
    );

    // The detail view shows it the same way.
    ui.h.get_all_by_label(&want).next().unwrap().click();
    ui.h.run_ok();
    assert!(ui.app().table.selected.is_some());
    assert!(
        ui.h.query_all_by_value(&want).next().is_some(),
        "the detail view's text"
    );
}

#[test]
fn hangul_from_euc_kr_is_drawn_or_escaped() {
    let (text, escaped) = ("안녕", "\\u{c548}\\u{b155}");
    show(
        Encoding::EucKr,
        "EUC-KR",
        b"\xbe\xc8\xb3\xe7",
        text,
        "ko",
        escaped,
    );
}

#[test]
fn traditional_hanzi_from_big5_are_drawn_or_escaped() {
    // 臺灣 are Traditional-only, so not in the GB2312 subset; 中 is, and stays.
    let (text, escaped) = ("臺灣中", "\\u{81fa}\\u{7063}中");
    show(
        Encoding::Big5,
        "Big5",
        b"\xbbO\xc6W\xa4\xa4",
        text,
        "zh-tw",
        escaped,
    );
}
