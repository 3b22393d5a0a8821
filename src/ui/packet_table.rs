//! The packet table: one row per datagram, both directions, every endpoint.
//! Only the rows on screen are laid out and formatted, so it stays fast at
//! any size.

use std::borrow::Cow;

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use rust_i18n::t;

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::capture::{PacketStore, Pairing};
use crate::codec;
use crate::packet::EndpointId;

use super::capture_bar::CaptureView;
use super::rows::{DirFilter, Filter, View};
use crate::packet::Direction;

use super::widgets::labelled_field_ui;

/// What the user asked of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableAction {
    /// Show packet `seq` in the detail view.
    Select(u64),
    /// Empty the log.
    Clear,
    /// Freeze or unfreeze the table.
    TogglePause,
    /// Save the log through the file dialog.
    Save,
    /// Choose a file and capture every packet to it from now on.
    Capture,
    /// Choose a capture and show it in the table.
    Open,
    /// Show the Replay window.
    Replay,
    /// End the live capture.
    StopCapture,
}

/// The table's own state.
#[derive(Debug, Default)]
pub struct TableState {
    /// The filter box.
    pub filter: Filter,
    /// Rows on show.
    pub view: View,
    /// The selected packet.
    pub selected: Option<u64>,
    /// Paused: rows newer than this are held back.
    pub paused_at: Option<u64>,
    /// The user scrolled away from the bottom, so new rows do not pull the view down.
    pub following: bool,
    /// The filter has stored packets it has not looked at yet.
    pub scanning: bool,
    /// Put the cursor in the filter at the next frame (Ctrl+F).
    pub focus_filter: bool,
}

/// What the table and its toolbar draw.
pub struct TableData<'a> {
    /// Every packet kept.
    pub store: &'a PacketStore,
    /// Endpoint names.
    pub names: &'a HashMap<EndpointId, String>,
    /// The live capture, for its toggle.
    pub capture: &'a CaptureView,
    /// Round-trip times and other notes per packet.
    pub pairing: &'a Pairing,
    /// The relays running, with where each listens: their rows name the leg.
    pub relays: Vec<(EndpointId, SocketAddr)>,
}

const ROW_HEIGHT: f32 = 20.0;
const IN_COLOUR: Color32 = Color32::from_rgb(0x4a, 0x9e, 0xe0);
const OUT_COLOUR: Color32 = Color32::from_rgb(0xe0, 0x9a, 0x3a);

/// The filter bar above the table; returns a requested action.
pub fn table_toolbar_ui(
    ui: &mut Ui,
    state: &mut TableState,
    data: &TableData<'_>,
) -> Option<TableAction> {
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        let filter = labelled_field_ui(
            ui,
            &t!("table.filter"),
            &mut state.filter.text,
            140.0,
            &t!("table.filter_hint"),
        );
        if std::mem::take(&mut state.focus_filter) {
            filter.request_focus();
        }
        labelled_field_ui(
            ui,
            &t!("table.peer"),
            &mut state.filter.peer,
            110.0,
            &t!("table.peer_hint"),
        );
        let label_id = ui.label(t!("table.direction")).id;
        egui::ComboBox::from_id_salt("filter-direction")
            .selected_text(dir_filter_label(state.filter.direction))
            .width(80.0)
            .show_ui(ui, |ui| {
                for choice in [DirFilter::All, DirFilter::In, DirFilter::Out] {
                    ui.selectable_value(
                        &mut state.filter.direction,
                        choice,
                        dir_filter_label(choice),
                    );
                }
            })
            .response
            .labelled_by(label_id);
        endpoints_ui(ui, &mut state.filter.endpoints, data.names);
        let pause = if state.paused_at.is_some() {
            t!("table.resume")
        } else {
            t!("table.pause")
        };
        if ui.button(pause).clicked() {
            action = Some(TableAction::TogglePause);
        }
        let keys = |s| super::shortcuts::label(ui.ctx(), s);
        let clear = t!("table.clear_hover", keys = keys(&super::shortcuts::CLEAR));
        let save = t!("table.save_hover", keys = keys(&super::shortcuts::SAVE));
        if ui.button(t!("table.clear")).on_hover_text(clear).clicked() {
            action = Some(TableAction::Clear);
        }
        if ui.button(t!("table.save")).on_hover_text(save).clicked() {
            action = Some(TableAction::Save);
        }
        if ui
            .button(t!("table.replay"))
            .on_hover_text(t!("table.replay_hover"))
            .clicked()
        {
            action = Some(TableAction::Replay);
        }
        if let Some(a) = super::capture_bar::capture_ui(ui, data.capture) {
            action = Some(a);
        }
        let shown = state.view.len(data.store);
        let mut info = if shown == data.store.len() {
            t!("table.rows", shown = shown).into_owned()
        } else {
            t!("table.rows_of", shown = shown, total = data.store.len()).into_owned()
        };
        if data.store.evicted() > 0 {
            info.push_str(&t!("table.rows_evicted", count = data.store.evicted()));
        }
        if state.paused_at.is_some() {
            info.push_str(&t!("table.rows_paused"));
        } else if !state.following {
            info.push_str(&t!("table.rows_not_following"));
        }
        ui.weak(info).on_hover_text(t!("table.rows_hover"));
    });
    action
}

/// The table itself; returns a click on a row.
pub fn packet_table_ui(
    ui: &mut Ui,
    state: &mut TableState,
    data: &TableData<'_>,
) -> Option<TableAction> {
    let mut action = None;
    let store = data.store;
    let rows = state.view.len(store);
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    // Labels that select text would swallow the row's click, and wrapping would
    // change row heights between frames.
    ui.style_mut().interaction.selectable_labels = false;
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
    let output = TableBuilder::new(ui)
        .id_salt("packets")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .stick_to_bottom(true)
        .auto_shrink([false, false])
        .column(Column::exact(56.0))
        .column(Column::exact(128.0))
        .column(Column::exact(34.0))
        .column(Column::initial(60.0).at_least(40.0))
        .column(Column::initial(150.0).at_least(80.0))
        .column(Column::exact(60.0))
        .column(Column::exact(72.0))
        .column(Column::remainder().at_least(120.0).clip(true))
        .column(Column::initial(200.0).at_least(60.0).clip(true))
        .header(ROW_HEIGHT, |mut header| {
            for title in [
                "#".into(),
                t!("table.col_time"),
                t!("table.col_dir"),
                t!("table.col_endpoint"),
                t!("table.col_peer"),
                t!("table.col_size"),
                t!("table.col_note"),
                t!("table.col_text"),
                t!("table.col_hex"),
            ] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, rows, |mut row| {
                let Some(p) = state.view.packet(store, row.index()) else {
                    return;
                };
                row.set_selected(state.selected == Some(p.seq));
                row.col(|ui| {
                    ui.label(p.seq.to_string());
                });
                row.col(|ui| {
                    ui.label(RichText::new(crate::packet::clock(p.time)).font(mono.clone()));
                });
                row.col(|ui| {
                    let (text, colour) = match p.direction {
                        Direction::In => (t!("table.in"), IN_COLOUR),
                        Direction::Out => (t!("table.out"), OUT_COLOUR),
                    };
                    // A relay's datagrams say which leg they travelled.
                    match data.relays.iter().find(|(id, _)| *id == p.endpoint) {
                        Some((_, listen)) => {
                            let leg = crate::net::Leg::between(p.local, p.direction, *listen);
                            ui.label(RichText::new(leg.short()).color(colour))
                                .on_hover_text(leg_label(leg));
                        }
                        None => {
                            ui.label(RichText::new(text).color(colour));
                        }
                    }
                });
                row.col(|ui| {
                    ui.label(data.names.get(&p.endpoint).map_or("?", String::as_str));
                });
                row.col(|ui| {
                    ui.label(p.peer.to_string());
                });
                row.col(|ui| {
                    if p.truncated {
                        ui.label(t!("table.cut", size = p.len()));
                    } else {
                        ui.label(p.len().to_string());
                    }
                });
                row.col(|ui| note_ui(ui, data.pairing.note(p.seq)));
                row.col(|ui| {
                    // Only this row's text is decoded, and only its start is drawn.
                    let head = &p.bytes[..p.len().min(512)];
                    let text = super::fonts::drawable(ui, codec::decode(head, p.encoding));
                    ui.add(egui::Label::new(text).truncate());
                });
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(
                            RichText::new(codec::hex_preview(&p.bytes, 24)).font(mono.clone()),
                        )
                        .truncate(),
                    );
                });
                if row.response().clicked() {
                    action = Some(TableAction::Select(p.seq));
                }
            });
        });
    // Sticking to the bottom stops when the user scrolls up; say so in the toolbar.
    let bottom = output.content_size.y - output.inner_rect.height();
    state.following = output.state.clamped_offset().y >= bottom - ROW_HEIGHT;
    action
}

/// A reply's round-trip time, or a warning that it came from elsewhere.
fn note_ui(ui: &mut Ui, note: Option<crate::capture::Note>) {
    let Some(note) = note else { return };
    ui.horizontal(|ui| note_parts_ui(ui, note));
}

fn note_parts_ui(ui: &mut Ui, note: crate::capture::Note) {
    if note.bad_sum {
        ui.label(RichText::new(t!("table.bad_sum")).color(super::widgets::ERROR_RED))
            .on_hover_text(t!("table.bad_sum_hover"));
    }
    if let Some(rtt) = note.rtt {
        ui.label(rtt_label(rtt))
            .on_hover_text(t!("table.rtt_hover"));
    }
    if note.unexpected {
        ui.label(RichText::new(t!("table.other_source")).color(super::widgets::WARN_AMBER))
            .on_hover_text(t!("table.other_source_hover"));
    }
}

/// The direction filter's choices.
fn dir_filter_label(choice: DirFilter) -> Cow<'static, str> {
    match choice {
        DirFilter::All => t!("table.dir_all"),
        DirFilter::In => t!("table.in"),
        DirFilter::Out => t!("table.out"),
    }
}

/// Which way a relay's datagram went, for its hover text ([`crate::net::Leg::label`]
/// stays English for the command line).
fn leg_label(leg: crate::net::Leg) -> Cow<'static, str> {
    use crate::net::Leg;
    match leg {
        Leg::ClientToRelay => t!("table.leg_client_relay"),
        Leg::RelayToServer => t!("table.leg_relay_server"),
        Leg::ServerToRelay => t!("table.leg_server_relay"),
        Leg::RelayToClient => t!("table.leg_relay_client"),
    }
}

/// `850 µs`, `12.4 ms`, `1.20 s`.
#[must_use]
pub fn rtt_label(rtt: std::time::Duration) -> String {
    let us = rtt.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// The endpoints the table shows: every one, or those ticked. An endpoint
/// restarted has a new id under the same name: the menu ticks names, and a
/// ticked name takes in its new ids too.
fn endpoints_ui(
    ui: &mut Ui,
    shown: &mut std::collections::BTreeSet<EndpointId>,
    names: &HashMap<EndpointId, String>,
) {
    let mut by_name: std::collections::BTreeMap<&str, Vec<EndpointId>> =
        std::collections::BTreeMap::new();
    for (id, name) in names {
        by_name.entry(name.as_str()).or_default().push(*id);
    }
    // Endpoints that are gone from the names are gone from the choice too.
    shown.retain(|id| names.contains_key(id));
    let ticked: Vec<&str> = by_name
        .iter()
        .filter(|(_, ids)| ids.iter().any(|id| shown.contains(id)))
        .map(|(name, _)| *name)
        .collect();
    for name in &ticked {
        shown.extend(by_name.get(name).into_iter().flatten().copied());
    }
    let title = match ticked.as_slice() {
        [] => t!("table.endpoints_all"),
        [one] => t!("table.endpoint_one", name = one),
        many => t!(
            "table.endpoints_some",
            ticked = many.len(),
            total = by_name.len()
        ),
    };
    ui.menu_button(title, |ui| {
        if ui.button(t!("table.all")).clicked() {
            shown.clear();
        }
        for (name, ids) in &by_name {
            let mut on = ticked.contains(name);
            if ui.checkbox(&mut on, *name).changed() {
                for id in ids {
                    if on {
                        shown.insert(*id);
                    } else {
                        shown.remove(id);
                    }
                }
            }
        }
    })
    .response
    .on_hover_text(t!("table.endpoints_hover"));
}
