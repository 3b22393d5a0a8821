//! The relay panel: where clients send and which server it forwards to,
//! Start/Stop, the rules, a box to inject a datagram either way, the open
//! mappings and the relay's counters.

use std::net::SocketAddr;
use std::time::Instant;

use egui::{RichText, Ui};
use rust_i18n::t;

use crate::net::{Counters, MatchKind, RelayCounters, Toward};
use crate::packet::EndpointId;
use crate::settings::{RelayActionKind, RelayForm, RelayRuleForm};

use super::widgets::{
    ERROR_RED, OK_GREEN, bytes_label, encoding_combo_ui, labelled_field_ui, match_kind_label,
};

/// What the user asked of the relay.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayRequest {
    /// Start it with the form's settings.
    Start,
    /// Stop it.
    Stop,
    /// Give the running relay the form's rules and idle timeout.
    ApplyRules,
    /// Send the inject box's datagram.
    Inject,
}

/// Which control an error belongs beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayField {
    /// The listening address or the server.
    Address,
    /// The rules or the idle timeout.
    Rules,
    /// The inject box.
    Inject,
    /// Anything else, shown by Start.
    General,
}

/// One client the relay maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    /// The client.
    pub client: SocketAddr,
    /// Its upstream socket.
    pub upstream_local: SocketAddr,
    /// When a datagram of it was last seen either way.
    pub last: Instant,
}

/// What the panel shows besides its form.
#[derive(Debug, Default)]
pub struct RelayView {
    /// The running relay's id.
    pub id: Option<EndpointId>,
    /// Asked to start, no answer yet.
    pub starting: bool,
    /// Where it listens, once it does.
    pub listening: Option<SocketAddr>,
    /// The server it forwards to.
    pub upstream: Option<SocketAddr>,
    /// The last error, beside its control.
    pub error: Option<(RelayField, String)>,
    /// Why it last stopped, or a passing word (a mapping closed).
    pub note: Option<String>,
    /// The clients mapped now, by first contact.
    pub mappings: Vec<MappingRow>,
    /// The relay's own counts.
    pub counters: RelayCounters,
    /// Inject toward the server (else toward the client).
    pub inject_to_server: bool,
    /// The client an injection is for.
    pub client: Option<SocketAddr>,
}

impl RelayView {
    /// True while it runs or is starting.
    #[must_use]
    pub fn active(&self) -> bool {
        self.id.is_some()
    }
}

/// Draws the panel; returns what the user asked for.
pub fn relay_panel_ui(
    ui: &mut Ui,
    form: &mut RelayForm,
    view: &mut RelayView,
    tally: Counters,
    now: Instant,
) -> Option<RelayRequest> {
    let mut request = None;
    ui.horizontal(|ui| {
        ui.heading(t!("relay.heading"));
        match (view.listening, view.upstream) {
            (Some(at), Some(to)) => {
                ui.label(RichText::new(t!("relay.relaying", at = at, to = to)).color(OK_GREEN));
            }
            _ if view.starting => {
                ui.spinner();
            }
            _ => {
                ui.weak(t!("relay.stopped"));
            }
        }
    });
    ui.add_enabled_ui(!view.active(), |ui| {
        ui.horizontal(|ui| {
            labelled_field_ui(
                ui,
                &t!("relay.listen"),
                &mut form.listen,
                110.0,
                "127.0.0.1:7000",
            )
            .on_hover_text(t!("relay.listen_hover"));
            labelled_field_ui(
                ui,
                &t!("relay.forward_to"),
                &mut form.target,
                110.0,
                "127.0.0.1:9999",
            )
            .on_hover_text(t!("relay.forward_to_hover"));
        });
        ui.horizontal(|ui| {
            encoding_combo_ui(
                ui,
                "relay-encoding",
                &t!("widgets.encoding"),
                &mut form.encoding,
            );
        });
    });
    error_ui(ui, view, RelayField::Address);
    ui.horizontal(|ui| {
        labelled_field_ui(
            ui,
            &t!("relay.idle_timeout"),
            &mut form.idle_secs,
            50.0,
            "60",
        )
        .on_hover_text(t!("relay.idle_timeout_hover"));
        if view.active() {
            if ui.button(t!("relay.stop")).clicked() {
                request = Some(RelayRequest::Stop);
            }
        } else if ui.button(t!("relay.start")).clicked() {
            request = Some(RelayRequest::Start);
        }
    });
    error_ui(ui, view, RelayField::General);
    if let Some(note) = &view.note {
        ui.weak(note);
    }
    ui.separator();
    if let Some(r) = rules_ui(ui, form, view.active()) {
        request = Some(r);
    }
    error_ui(ui, view, RelayField::Rules);
    ui.separator();
    if let Some(r) = inject_ui(ui, form, view) {
        request = Some(r);
    }
    error_ui(ui, view, RelayField::Inject);
    ui.separator();
    mappings_ui(ui, &view.mappings, now);
    counters_ui(ui, &view.counters, tally);
    request
}

fn error_ui(ui: &mut Ui, view: &RelayView, field: RelayField) {
    if let Some((f, message)) = &view.error
        && *f == field
    {
        ui.label(RichText::new(message).color(ERROR_RED));
    }
}

/// The rule list: each rule on two lines, with add, remove and enable.
fn rules_ui(ui: &mut Ui, form: &mut RelayForm, running: bool) -> Option<RelayRequest> {
    let mut request = None;
    ui.horizontal(|ui| {
        ui.strong(t!("relay.rules"))
            .on_hover_text(t!("relay.rules_hover"));
        if ui.button(t!("relay.add_rule")).clicked() {
            form.rules.push(RelayRuleForm::default());
        }
        if running && ui.button(t!("relay.apply_rules")).clicked() {
            request = Some(RelayRequest::ApplyRules);
        }
    });
    let mut remove = None;
    for (i, rule) in form.rules.iter_mut().enumerate() {
        ui.push_id(("relay-rule", i), |ui| {
            ui.horizontal(|ui| {
                let number = ui
                    .checkbox(&mut rule.enabled, format!("{}", i + 1))
                    .on_hover_text(t!("relay.rule_enabled"))
                    .id;
                egui::ComboBox::from_id_salt("toward")
                    .selected_text(toward_label(rule.toward))
                    .width(80.0)
                    .show_ui(ui, |ui| {
                        for t in [Toward::Server, Toward::Client, Toward::Both] {
                            ui.selectable_value(&mut rule.toward, t, toward_label(t));
                        }
                    })
                    .response
                    .labelled_by(number);
                let matching = ui.label(t!("relay.match")).id;
                egui::ComboBox::from_id_salt("kind")
                    .selected_text(match_kind_label(rule.kind))
                    .width(70.0)
                    .show_ui(ui, |ui| {
                        for k in MatchKind::ALL {
                            ui.selectable_value(&mut rule.kind, k, match_kind_label(k));
                        }
                    })
                    .response
                    .labelled_by(matching);
                if rule.kind != MatchKind::Any {
                    ui.add(
                        egui::TextEdit::singleline(&mut rule.pattern)
                            .desired_width(110.0)
                            .hint_text(t!("relay.pattern_hint")),
                    )
                    .labelled_by(matching);
                }
            });
            ui.horizontal(|ui| {
                ui.add_space(24.0);
                let then = ui.label(t!("relay.then")).id;
                egui::ComboBox::from_id_salt("action")
                    .selected_text(action_label(rule.action))
                    .width(100.0)
                    .show_ui(ui, |ui| {
                        for a in RelayActionKind::ALL {
                            ui.selectable_value(&mut rule.action, a, action_label(a));
                        }
                    })
                    .response
                    .labelled_by(then);
                if let Some(hint) = rule.action.value_hint() {
                    ui.add(
                        egui::TextEdit::singleline(&mut rule.value)
                            .desired_width(140.0)
                            .hint_text(hint),
                    )
                    .labelled_by(then);
                }
                if ui.small_button(t!("relay.remove_rule")).clicked() {
                    remove = Some(i);
                }
            });
        });
    }
    if let Some(i) = remove {
        form.rules.remove(i);
    }
    request
}

fn toward_label(toward: Toward) -> std::borrow::Cow<'static, str> {
    match toward {
        Toward::Server => t!("relay.toward_server"),
        Toward::Client => t!("relay.toward_client"),
        Toward::Both => t!("relay.toward_both"),
    }
}

/// A relay rule's action as the menu names it, in the window's language
/// (`RelayActionKind::label` is the English name the settings keep).
#[must_use]
pub fn action_label(action: RelayActionKind) -> std::borrow::Cow<'static, str> {
    match action {
        RelayActionKind::Forward => t!("relay.action_forward"),
        RelayActionKind::Drop => t!("relay.action_drop"),
        RelayActionKind::Delay => t!("relay.action_delay"),
        RelayActionKind::Duplicate => t!("relay.action_duplicate"),
        RelayActionKind::RewriteText => t!("relay.action_rewrite_text"),
        RelayActionKind::RewriteHex => t!("relay.action_rewrite_hex"),
    }
}

/// The inject box: a datagram by hand, toward the server as a chosen client
/// or toward that client as the server.
fn inject_ui(ui: &mut Ui, form: &mut RelayForm, view: &mut RelayView) -> Option<RelayRequest> {
    let mut request = None;
    if view
        .client
        .is_none_or(|c| !view.mappings.iter().any(|m| m.client == c))
    {
        view.client = view.mappings.last().map(|m| m.client);
    }
    ui.horizontal(|ui| {
        let hint = if form.inject_hex {
            "48 65 6c 6c 6f".into()
        } else {
            t!("relay.inject_text_hint")
        };
        labelled_field_ui(ui, &t!("relay.inject"), &mut form.inject, 200.0, &hint);
        ui.checkbox(&mut form.inject_hex, t!("relay.hex"));
    });
    ui.horizontal(|ui| {
        ui.radio_value(&mut view.inject_to_server, true, t!("relay.to_server"));
        ui.radio_value(&mut view.inject_to_server, false, t!("relay.to_client"));
        let shown = view
            .client
            .map_or_else(|| t!("relay.no_client_yet").into_owned(), |c| c.to_string());
        let label = ui.label(t!("relay.inject_as")).id;
        egui::ComboBox::from_id_salt("inject-client")
            .selected_text(shown)
            .width(125.0)
            .show_ui(ui, |ui| {
                for m in &view.mappings {
                    ui.selectable_value(&mut view.client, Some(m.client), m.client.to_string());
                }
            })
            .response
            .labelled_by(label)
            .on_hover_text(t!("relay.inject_as_hover"));
        let ready = view.active() && view.client.is_some();
        if ui
            .add_enabled(ready, egui::Button::new(t!("relay.send_inject")))
            .on_disabled_hover_text(t!("relay.send_inject_disabled"))
            .clicked()
        {
            request = Some(RelayRequest::Inject);
        }
    });
    request
}

fn mappings_ui(ui: &mut Ui, mappings: &[MappingRow], now: Instant) {
    ui.strong(t!("relay.clients", count = mappings.len()));
    if mappings.is_empty() {
        ui.weak(t!("relay.clients_none"));
        return;
    }
    egui::Grid::new("relay-mappings")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.weak(t!("relay.col_client"));
            ui.weak(t!("relay.col_upstream_port"));
            ui.weak(t!("relay.col_idle"));
            ui.end_row();
            // A long list shows its newest rows; the counters say how many.
            for m in mappings.iter().rev().take(64) {
                ui.label(m.client.to_string());
                ui.label(m.upstream_local.port().to_string());
                ui.label(now.saturating_duration_since(m.last).as_secs().to_string());
                ui.end_row();
            }
        });
}

fn counters_ui(ui: &mut Ui, c: &RelayCounters, tally: Counters) {
    ui.label(t!(
        "relay.counters",
        to_server = c.to_server,
        to_client = c.to_client,
        dropped = c.dropped,
        delayed = c.delayed,
        copies = c.duplicated,
        rewritten = c.rewritten,
        injected = c.injected
    ));
    if c.refused > 0 || c.strays > 0 {
        ui.label(
            RichText::new(t!("relay.refused", refused = c.refused, strays = c.strays))
                .color(ERROR_RED),
        );
    }
    ui.weak(t!(
        "relay.both_legs",
        packets_in = tally.packets_in,
        bytes_in = bytes_label(tally.bytes_in),
        packets_out = tally.packets_out,
        bytes_out = bytes_label(tally.bytes_out)
    ));
}
