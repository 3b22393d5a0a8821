//! Small pieces the panels share: labelled fields (so screen readers and UI
//! tests find them by name), the encoding picker, and red error lines.

use std::borrow::Cow;

use egui::{Color32, RichText, TextEdit, Ui};
use rust_i18n::t;

use crate::codec::Encoding;
use crate::net::MatchKind;
use crate::settings::ReplyKind;

/// Which control an error belongs beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The bind address or port.
    Address,
    /// The reply text or template.
    Reply,
    /// The manual reply box.
    ManualReply,
    /// The target host and port.
    Target,
    /// The local address of the client.
    LocalBind,
    /// The message editor.
    Message,
    /// The checksum to verify.
    Verify,
    /// Anything else: shown by the Send or Start button.
    General,
}

/// An error to show in red beside a control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Beside what.
    pub field: Field,
    /// What went wrong, for a person.
    pub message: String,
}

/// The red used for errors, readable on both themes.
pub const ERROR_RED: Color32 = Color32::from_rgb(0xe0, 0x4a, 0x4a);
/// The green used for "running".
pub const OK_GREEN: Color32 = Color32::from_rgb(0x3c, 0xb3, 0x71);

/// A label followed by a one-line text field that the label names.
pub fn labelled_field_ui(
    ui: &mut Ui,
    label: &str,
    text: &mut String,
    width: f32,
    hint: &str,
) -> egui::Response {
    let label_id = ui.label(label).id;
    ui.add(
        TextEdit::singleline(text)
            .desired_width(width)
            .hint_text(hint),
    )
    .labelled_by(label_id)
}

/// A label and a combo box for the text encoding; true when the choice changed.
pub fn encoding_combo_ui(ui: &mut Ui, id_salt: &str, label: &str, encoding: &mut Encoding) -> bool {
    let before = *encoding;
    let label_id = ui.label(label).id;
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(encoding.label())
        .width(150.0)
        .show_ui(ui, |ui| {
            for e in Encoding::ALL {
                ui.selectable_value(encoding, e, e.label());
            }
        })
        .response
        .labelled_by(label_id);
    *encoding != before
}

/// Shows `error` in red if it belongs to `field`.
pub fn field_error_ui(ui: &mut Ui, error: Option<&FieldError>, field: Field) {
    if let Some(e) = error.filter(|e| e.field == field) {
        ui.label(RichText::new(&e.message).color(ERROR_RED));
    }
}

/// A byte count for people: `812 B`, `14.2 KB`, `3.1 MB`.
#[must_use]
pub fn bytes_label(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", f / 1024.0)
    } else {
        format!("{:.1} MB", f / (1024.0 * 1024.0))
    }
}

/// The colour of a warning that is not an error: packets missed, not lost by us.
pub const WARN_AMBER: Color32 = Color32::from_rgb(0xd0, 0xa0, 0x30);

/// What was missed, if anything: datagrams the kernel dropped before udpdesk
/// could read them, and packets the table left out. Draws nothing when both are zero.
pub fn missed_ui(ui: &mut Ui, counters: &crate::net::Counters) {
    if counters.kernel_drops > 0 {
        ui.label(
            RichText::new(t!("widgets.kernel_drops", count = counters.kernel_drops))
                .color(WARN_AMBER),
        )
        .on_hover_text(t!("widgets.kernel_drops_hover"));
    }
    if counters.not_shown > 0 {
        ui.label(
            RichText::new(t!("widgets.not_shown", count = counters.not_shown)).color(WARN_AMBER),
        )
        .on_hover_text(t!("widgets.not_shown_hover"));
    }
}

/// Packets that left memory for the budget, with how the endpoint's figures
/// add up on hover. Draws nothing while none has left.
pub fn held_ui(ui: &mut Ui, tally: &crate::net::Counters, held: crate::capture::Held) {
    if held.evicted == 0 {
        return;
    }
    ui.label(RichText::new(t!("widgets.evicted", count = held.evicted)).color(WARN_AMBER))
        .on_hover_text(t!(
            "widgets.evicted_hover",
            carried = tally.packets(),
            kept = held.kept,
            evicted = held.evicted,
            not_shown = tally.not_shown
        ));
}

/// What a Verify field takes, on hovering over it, in the window's language.
#[must_use]
pub fn verify_hover() -> Cow<'static, str> {
    t!("widgets.verify_hover")
}

/// A match kind as the rule menus name it, in the window's language
/// (`MatchKind::name` is the token the command line and project files use).
#[must_use]
pub fn match_kind_label(kind: MatchKind) -> Cow<'static, str> {
    match kind {
        MatchKind::Any => t!("widgets.match_any"),
        MatchKind::Exact => t!("widgets.match_exact"),
        MatchKind::Prefix => t!("widgets.match_prefix"),
        MatchKind::Contains => t!("widgets.match_contains"),
        MatchKind::Suffix => t!("widgets.match_suffix"),
        MatchKind::Regex => t!("widgets.match_regex"),
        MatchKind::Hex => t!("widgets.match_hex"),
    }
}

/// A server's reply mode as its menu names it, in the window's language
/// (`ReplyKind::label` is the English name).
#[must_use]
pub fn reply_kind_label(kind: ReplyKind) -> Cow<'static, str> {
    match kind {
        ReplyKind::Echo => t!("widgets.reply_echo"),
        ReplyKind::Upper => t!("widgets.reply_upper"),
        ReplyKind::Template => t!("widgets.reply_template"),
        ReplyKind::Fixed => t!("widgets.reply_fixed"),
        ReplyKind::Manual => t!("widgets.reply_manual"),
        ReplyKind::None => t!("widgets.reply_none"),
    }
}
