//! The selected packet in full: a hex dump with offsets and a printable
//! column, its text in its own encoding or another, and copy buttons.

use egui::{RichText, TextEdit, Ui};
use rust_i18n::t;

use crate::codec::{self, Encoding};
use crate::packet::Packet;

use super::widgets::encoding_combo_ui;

/// The detail view's own state: the chosen encoding and the formatted text of
/// the packet on show, made once per selection rather than every frame.
#[derive(Debug, Default)]
pub struct DetailState {
    /// Decode in this encoding instead of the packet's own.
    pub encoding: Option<Encoding>,
    cache: Option<Cached>,
}

#[derive(Debug)]
struct Cached {
    seq: u64,
    encoding: Encoding,
    text: String,
    dump: String,
}

/// What can be copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copy {
    Text,
    Hex,
    Escaped,
}

/// Draws the detail of `packet` (or a hint when none is selected). Returns a
/// peer address when "Only this peer" was clicked: the table's peer filter.
pub fn packet_detail_ui(
    ui: &mut Ui,
    state: &mut DetailState,
    packet: Option<&Packet>,
    endpoint: &str,
) -> Option<String> {
    let Some(p) = packet else {
        ui.weak(t!("detail.select"));
        return None;
    };
    let mut only_peer = None;
    let encoding = state.encoding.unwrap_or(p.encoding);
    let fresh = state
        .cache
        .as_ref()
        .is_none_or(|c| c.seq != p.seq || c.encoding != encoding);
    if fresh {
        state.cache = Some(Cached {
            seq: p.seq,
            encoding,
            text: super::fonts::drawable(ui, codec::decode(&p.bytes, encoding)),
            dump: codec::hex_dump(&p.bytes),
        });
    }
    let Some(cache) = &state.cache else {
        return None;
    };
    let mut copy = None;
    ui.horizontal(|ui| {
        let t: chrono::DateTime<chrono::Local> = p.time.into();
        let arrow = match p.direction {
            crate::packet::Direction::In => format!("{} ← {}", p.local, p.peer),
            crate::packet::Direction::Out => format!("{} → {}", p.local, p.peer),
        };
        let direction = match p.direction {
            crate::packet::Direction::In => t!("detail.in"),
            crate::packet::Direction::Out => t!("detail.out"),
        };
        ui.strong(format!("#{} {direction}", p.seq));
        ui.label(t!(
            "detail.summary",
            time = t.format("%Y-%m-%d %H:%M:%S%.6f"),
            endpoint = endpoint,
            arrow = arrow,
            bytes = p.len()
        ));
        if p.truncated {
            ui.label(RichText::new(t!("detail.truncated")).color(super::widgets::ERROR_RED));
        }
    });
    ui.horizontal(|ui| {
        let mut chosen = encoding;
        if encoding_combo_ui(ui, "detail-encoding", &t!("detail.decode_as"), &mut chosen) {
            state.encoding = (chosen != p.encoding).then_some(chosen);
        }
        if state.encoding.is_some() && ui.small_button(t!("detail.own_encoding")).clicked() {
            state.encoding = None;
        }
        ui.separator();
        if ui.button(t!("detail.copy_text")).clicked() {
            copy = Some(Copy::Text);
        }
        if ui.button(t!("detail.copy_hex")).clicked() {
            copy = Some(Copy::Hex);
        }
        if ui
            .button(t!("detail.copy_escaped"))
            .on_hover_text(t!("detail.copy_escaped_hover"))
            .clicked()
        {
            copy = Some(Copy::Escaped);
        }
        ui.separator();
        if ui
            .button(t!("detail.only_peer"))
            .on_hover_text(t!("detail.only_peer_hover", peer = p.peer))
            .clicked()
        {
            only_peer = Some(p.peer.to_string());
        }
    });
    let mut text = cache.text.as_str();
    let dump = cache.dump.as_str();
    // The dump keeps its columns unwrapped (it scrolls sideways when narrow);
    // the text takes what width is left.
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    let char_width = ui.fonts_mut(|f| f.glyph_width(&mono, '0'));
    let dump_width = (char_width * 79.0 + 12.0).min(ui.available_width() - 200.0);
    ui.horizontal_top(|ui| {
        let text_width = (ui.available_width() - dump_width - 8.0).max(120.0);
        ui.vertical(|ui| {
            ui.set_width(text_width);
            let id = ui.label(RichText::new(t!("detail.text")).small().weak()).id;
            egui::ScrollArea::vertical()
                .id_salt("detail-text")
                .show(ui, |ui| {
                    ui.add(TextEdit::multiline(&mut text).desired_width(f32::INFINITY))
                        .labelled_by(id);
                });
        });
        ui.vertical(|ui| {
            ui.set_width(dump_width);
            ui.label(RichText::new(t!("detail.hex_dump")).small().weak());
            egui::ScrollArea::both()
                .id_salt("detail-hex")
                .show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(dump).font(mono.clone())).extend());
                });
        });
    });
    if let Some(what) = copy {
        let out = match what {
            // Plain text: what the bytes say, without display escapes where they decode cleanly.
            Copy::Text => encoding
                .to_encoding_rs()
                .decode_without_bom_handling(&p.bytes)
                .0
                .into_owned(),
            Copy::Hex => codec::to_hex(&p.bytes),
            Copy::Escaped => codec::escape_bytes(&p.bytes, encoding),
        };
        ui.ctx().copy_text(out);
    }
    only_peer
}
