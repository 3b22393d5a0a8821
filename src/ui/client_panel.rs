//! The client panel: target, message editor (text with escapes or hex),
//! encoding, count and interval, Send, and the saved messages.

use std::borrow::Cow;

use egui::{RichText, TextEdit, Ui};
use rust_i18n::t;

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
        ui.heading(t!("client.heading"));
        if let Some(local) = view.local {
            ui.weak(t!("client.from", local = local));
        }
    });
    ui.horizontal(|ui| {
        labelled_field_ui(
            ui,
            &t!("client.target"),
            &mut form.host,
            120.0,
            &t!("client.target_hint"),
        );
        labelled_field_ui(ui, &t!("client.port"), &mut form.port, 55.0, "9999");
    });
    field_error_ui(ui, view.error.as_ref(), Field::Target);
    ui.horizontal(|ui| {
        labelled_field_ui(
            ui,
            &t!("client.local_address"),
            &mut form.bind,
            150.0,
            &t!("client.local_address_hint"),
        )
        .on_hover_text(t!("client.local_address_hover"));
    });
    field_error_ui(ui, view.error.as_ref(), Field::LocalBind);

    ui.horizontal(|ui| {
        let label_id = ui.label(t!("client.message")).id;
        let mut mode = form.mode;
        ui.radio_value(&mut mode, MessageMode::Text, t!("client.text"))
            .labelled_by(label_id);
        ui.radio_value(&mut mode, MessageMode::Hex, t!("client.hex"));
        if mode != form.mode {
            action = Some(ClientAction::Convert(mode));
        }
        encoding_combo_ui(
            ui,
            "client-encoding",
            &t!("widgets.encoding"),
            &mut form.encoding,
        );
    });
    let hint = match form.mode {
        MessageMode::Text => t!("client.text_hint"),
        MessageMode::Hex => t!("client.hex_hint"),
    };
    let label_id = ui
        .label(RichText::new(t!("client.message_text")).small().weak())
        .id;
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
        let id = ui.label(t!("client.count")).id;
        ui.add(egui::DragValue::new(&mut form.count).range(0..=1_000_000_000))
            .labelled_by(id)
            .on_hover_text(t!("client.count_hover"));
        let id = ui.label(t!("client.interval")).id;
        ui.add(
            egui::DragValue::new(&mut form.interval_ms)
                .range(0..=3_600_000)
                .suffix(t!("client.ms")),
        )
        .labelled_by(id)
        .on_hover_text(t!("client.interval_hover"));
        labelled_field_ui(
            ui,
            &t!("client.verify"),
            &mut form.verify,
            100.0,
            &t!("client.verify_hint"),
        )
        .on_hover_text(super::widgets::verify_hover());
    });
    field_error_ui(ui, view.error.as_ref(), Field::Verify);
    ui.horizontal(|ui| {
        ui.checkbox(&mut form.per_line, t!("client.per_line"));
        ui.checkbox(&mut form.variables, t!("client.variables"))
            .on_hover_text(t!("client.variables_hover"));
        ui.checkbox(&mut form.broadcast, t!("client.broadcast"));
    });
    ui.horizontal(|ui| {
        if ui
            .button(t!("client.send"))
            .on_hover_text("Ctrl+Enter")
            .clicked()
        {
            action = Some(ClientAction::Send);
        }
        if ui
            .add_enabled(view.sending(), egui::Button::new(t!("client.stop")))
            .clicked()
        {
            action = Some(ClientAction::Stop);
        }
        ui.label(t!(
            "client.counters",
            packets_out = tally.packets_out,
            bytes_out = bytes_label(tally.bytes_out),
            packets_in = tally.packets_in,
            bytes_in = bytes_label(tally.bytes_in)
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
        ui.label(t!("client.saved", count = saved.len()));
        if ui.small_button(t!("client.save_message")).clicked() {
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
                        .button(t!("client.send_saved", name = m.name))
                        .on_hover_text(t!(
                            "client.send_saved_hover",
                            mode = mode_label(m.mode),
                            encoding = m.encoding,
                            keys = keys
                        ))
                        .clicked()
                    {
                        action = Some(ClientAction::SendSaved(i));
                    }
                    if ui
                        .small_button(t!("client.edit"))
                        .on_hover_text(t!("client.edit_hover"))
                        .clicked()
                    {
                        action = Some(ClientAction::LoadSaved(i));
                    }
                    if ui
                        .small_button(t!("client.delete"))
                        .on_hover_text(t!("client.delete_hover"))
                        .clicked()
                    {
                        action = Some(ClientAction::DeleteSaved(i));
                    }
                });
            }
        });
    action
}

fn mode_label(mode: MessageMode) -> Cow<'static, str> {
    match mode {
        MessageMode::Text => t!("client.mode_text"),
        MessageMode::Hex => t!("client.mode_hex"),
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
        name = t!("client.empty_name").into_owned();
    }
    name
}

/// The current run's replies: how many were answered, their round-trip
/// times, and replies from elsewhere.
fn figures_ui(ui: &mut Ui, f: crate::capture::RunFigures) {
    use super::packet_table::rtt_label;
    #[allow(clippy::cast_precision_loss)]
    let lost = 100.0 * (f.sent - f.answered.min(f.sent)) as f64 / f.sent as f64;
    let mut text = t!(
        "client.answered",
        answered = f.answered,
        sent = f.sent,
        lost = format!("{lost:.1}")
    )
    .into_owned();
    if let Some([min, median, p99]) = f.rtt {
        text.push_str(&t!(
            "client.rtt",
            min = rtt_label(min),
            median = rtt_label(median),
            p99 = rtt_label(p99)
        ));
    }
    if f.duplicates + f.reordered > 0 {
        text.push_str(&t!(
            "client.duplicates",
            duplicates = f.duplicates,
            reordered = f.reordered
        ));
    }
    ui.label(text).on_hover_text(t!("client.answered_hover"));
    if f.unexpected > 0 {
        ui.label(
            RichText::new(t!("client.unexpected", count = f.unexpected))
                .color(super::widgets::WARN_AMBER),
        );
    }
}
