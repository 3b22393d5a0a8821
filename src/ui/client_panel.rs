//! The client panel: target, message editor (text with escapes or hex),
//! encoding, count and interval, Send, and the saved messages.

use egui::{RichText, TextEdit, Ui};

use std::net::SocketAddr;

use crate::net::ClientConfig;
use crate::net::Counters;
use crate::packet::EndpointId;
use crate::settings::{ClientForm, MessageMode, SavedMessage};

use super::widgets::{
    Field, FieldError, bytes_label, encoding_combo_ui, field_error_ui, labelled_field_ui,
};

/// What the client panel shows besides its form.
#[derive(Debug, Default)]
pub struct ClientView {
    /// The open client's id.
    pub id: Option<EndpointId>,
    /// The settings it was opened with (a change reopens it).
    pub config: Option<ClientConfig>,
    /// Its bound address, once bound.
    pub local: Option<SocketAddr>,
    /// Sends handed to the engine and not yet answered by their `SendDone`.
    pub pending: u32,
    /// The last error, beside its control.
    pub error: Option<FieldError>,
    /// The sequence under way, or how the last one ended.
    pub sequence: super::sequence_panel::SequenceView,
}

impl ClientView {
    /// A send job runs (or waits for its name lookup).
    #[must_use]
    pub fn sending(&self) -> bool {
        self.pending > 0
    }
}

/// What the user asked of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAction {
    /// Send the message in the editor.
    Send,
    /// Stop repeated sending.
    Stop,
    /// Switch the editor to text or hex, converting the message.
    Convert(MessageMode),
    /// Keep the editor's message in the saved list.
    SaveMessage,
    /// Send saved message `n`.
    SendSaved(usize),
    /// Put saved message `n` in the editor.
    LoadSaved(usize),
    /// Forget saved message `n`.
    DeleteSaved(usize),
}

/// Draws the panel; returns what the user asked for.
pub fn client_panel_ui(
    ui: &mut Ui,
    form: &mut ClientForm,
    saved: &[SavedMessage],
    view: &ClientView,
    tally: Counters,
    figures: Option<crate::capture::RunFigures>,
) -> Option<ClientAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.heading("Client");
        if let Some(local) = view.local {
            ui.weak(format!("from {local}"));
        }
    });
    ui.horizontal(|ui| {
        labelled_field_ui(
            ui,
            "Target",
            &mut form.host,
            120.0,
            "127.0.0.1 or host name",
        );
        labelled_field_ui(ui, "Port", &mut form.port, 55.0, "9999");
    });
    field_error_ui(ui, view.error.as_ref(), Field::Target);
    ui.horizontal(|ui| {
        labelled_field_ui(ui, "Local address", &mut form.bind, 150.0, "any (optional)")
            .on_hover_text(
                "Send from this address and port, e.g. 127.0.0.1:6000; empty picks a free port",
            );
    });
    field_error_ui(ui, view.error.as_ref(), Field::LocalBind);

    ui.horizontal(|ui| {
        let label_id = ui.label("Message").id;
        let mut mode = form.mode;
        ui.radio_value(&mut mode, MessageMode::Text, "Text")
            .labelled_by(label_id);
        ui.radio_value(&mut mode, MessageMode::Hex, "Hex");
        if mode != form.mode {
            action = Some(ClientAction::Convert(mode));
        }
        encoding_combo_ui(ui, "client-encoding", "Encoding", &mut form.encoding);
    });
    let hint = match form.mode {
        MessageMode::Text => "text; escapes: \\r \\n \\t \\0 \\\\ \\xNN \\u{4f60}",
        MessageMode::Hex => "hex: 48 65 6c, 48656c or 0x48,0x65",
    };
    let label_id = ui.label(RichText::new("Message text").small().weak()).id;
    ui.add(
        TextEdit::multiline(&mut form.message)
            .desired_rows(3)
            .desired_width(f32::INFINITY)
            .code_editor()
            .hint_text(hint),
    )
    .labelled_by(label_id);
    field_error_ui(ui, view.error.as_ref(), Field::Message);
    ui.horizontal(|ui| {
        let id = ui.label("Count").id;
        ui.add(egui::DragValue::new(&mut form.count).range(0..=1_000_000_000))
            .labelled_by(id)
            .on_hover_text("How many times to send; 0 sends until Stop");
        let id = ui.label("Interval").id;
        ui.add(
            egui::DragValue::new(&mut form.interval_ms)
                .range(0..=3_600_000)
                .suffix(" ms"),
        )
        .labelled_by(id)
        .on_hover_text("Pause between rounds; the lines of one round go back to back");
        labelled_field_ui(ui, "Verify", &mut form.verify, 100.0, "no checksum")
            .on_hover_text(super::widgets::verify_hover());
    });
    field_error_ui(ui, view.error.as_ref(), Field::Verify);
    ui.horizontal(|ui| {
        ui.checkbox(&mut form.per_line, "One datagram per line");
        ui.checkbox(&mut form.variables, "Variables").on_hover_text(
            "Fill in {seq} (or {seq:u16be}…), {time}, {unix_ms}, {random:N}, {uuid} and checksums ({crc16_modbus}, {crc16_ccitt}, {crc32}, {sum8}, {xor8}; :be, :le or :hex) for every datagram; {begin} and {end} mark what a checksum covers; {{ is a literal brace",
        );
        ui.checkbox(&mut form.broadcast, "Broadcast");
    });
    ui.horizontal(|ui| {
        if ui.button("Send").on_hover_text("Ctrl+Enter").clicked() {
            action = Some(ClientAction::Send);
        }
        if ui
            .add_enabled(view.sending(), egui::Button::new("Stop"))
            .clicked()
        {
            action = Some(ClientAction::Stop);
        }
        ui.label(format!(
            "out {} / {}   in {} / {}",
            tally.packets_out,
            bytes_label(tally.bytes_out),
            tally.packets_in,
            bytes_label(tally.bytes_in)
        ));
    });
    if let Some(f) = figures.filter(|f| f.sent > 0) {
        figures_ui(ui, f);
    }
    field_error_ui(ui, view.error.as_ref(), Field::General);
    if let Some(a) = saved_ui(ui, saved) {
        action = Some(a);
    }
    action
}

fn saved_ui(ui: &mut Ui, saved: &[SavedMessage]) -> Option<ClientAction> {
    let mut action = None;
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.label(format!("Saved messages ({})", saved.len()));
        if ui.small_button("Save message").clicked() {
            action = Some(ClientAction::SaveMessage);
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("saved-messages")
        .max_height(110.0)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for (i, m) in saved.iter().enumerate() {
                ui.horizontal(|ui| {
                    let keys = super::shortcuts::SAVED
                        .get(i)
                        .map(|s| format!("; {}", super::shortcuts::label(ui.ctx(), s)))
                        .unwrap_or_default();
                    if ui
                        .button(format!("Send: {}", m.name))
                        .on_hover_text(format!(
                            "Send it ({}, {}{keys})",
                            mode_label(m.mode),
                            m.encoding
                        ))
                        .clicked()
                    {
                        action = Some(ClientAction::SendSaved(i));
                    }
                    if ui
                        .small_button("Edit")
                        .on_hover_text("Put it in the editor")
                        .clicked()
                    {
                        action = Some(ClientAction::LoadSaved(i));
                    }
                    if ui
                        .small_button("Delete")
                        .on_hover_text("Forget it")
                        .clicked()
                    {
                        action = Some(ClientAction::DeleteSaved(i));
                    }
                });
            }
        });
    action
}

fn mode_label(mode: MessageMode) -> &'static str {
    match mode {
        MessageMode::Text => "text",
        MessageMode::Hex => "hex",
    }
}

/// A name for a saved message: its first line, shortened.
#[must_use]
pub fn saved_name(form: &ClientForm) -> String {
    let first = form.message.lines().next().unwrap_or("").trim();
    let mut name: String = first.chars().take(24).collect();
    if first.chars().count() > 24 {
        name.push('…');
    }
    if name.is_empty() {
        name = "(empty)".to_owned();
    }
    name
}

/// The current run's replies: how many were answered, their round-trip
/// times, and replies from elsewhere.
fn figures_ui(ui: &mut Ui, f: crate::capture::RunFigures) {
    use super::packet_table::rtt_label;
    #[allow(clippy::cast_precision_loss)]
    let lost = 100.0 * (f.sent - f.answered.min(f.sent)) as f64 / f.sent as f64;
    let mut text = format!(
        "answered {} of {} ({lost:.1}% unanswered)",
        f.answered, f.sent
    );
    if let Some([min, median, p99]) = f.rtt {
        text.push_str(&format!(
            "   RTT min {} · median {} · p99 {}",
            rtt_label(min),
            rtt_label(median),
            rtt_label(p99)
        ));
    }
    if f.duplicates + f.reordered > 0 {
        text.push_str(&format!(
            "   {} duplicates · {} reordered",
            f.duplicates, f.reordered
        ));
    }
    ui.label(text).on_hover_text(
        "Since the last Send: a reply that echoes an unanswered datagram pairs with it (so numbered datagrams, such as {seq} makes, show duplicates and reordering); any other reply pairs with the oldest unanswered datagram sent to its source",
    );
    if f.unexpected > 0 {
        ui.label(
            RichText::new(format!(
                "{} replies from an unexpected source (an address this client never sent to)",
                f.unexpected
            ))
            .color(super::widgets::WARN_AMBER),
        );
    }
}
