//! The list of servers, clients and relays atop the left panel: pick one to
//! show its panel, add one, remove one, and rename the one on show.

use std::borrow::Cow;

use egui::{RichText, Ui};
use rust_i18n::t;

use crate::net::Counters;
use crate::settings::{EndpointKind, Selected};

use super::widgets::OK_GREEN;

/// One endpoint as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry<'a> {
    /// Its place in the settings.
    pub at: Selected,
    /// Its name.
    pub name: &'a str,
    /// Running, and where; `None` when stopped or never opened.
    pub live: Option<String>,
    /// Its counters since the log was last cleared.
    pub counts: Counters,
}

/// What the user asked of the list.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListAction {
    /// Show this endpoint's panel.
    Select(Selected),
    /// Add an endpoint of this kind, and show it.
    Add(EndpointKind),
    /// Stop this endpoint and take it out of the list.
    Remove(Selected),
}

/// What a kind is called in the list, in the window's language.
#[must_use]
pub fn kind_label(kind: EndpointKind) -> Cow<'static, str> {
    match kind {
        EndpointKind::Server => t!("list.server"),
        EndpointKind::Client => t!("list.client"),
        EndpointKind::Relay => t!("list.relay"),
    }
}

/// Draws the list; returns what the user asked for.
pub fn endpoint_list_ui(
    ui: &mut Ui,
    entries: &[ListEntry<'_>],
    shown: Selected,
) -> Option<ListAction> {
    let mut action = None;
    egui::ScrollArea::vertical()
        .id_salt("endpoint-list")
        .max_height(170.0)
        .show(ui, |ui| {
            // Rows, not a grid: a grid whose counters widen a column asks
            // egui to lay the frame out again, and the counters change
            // with every datagram.
            for entry in entries {
                let row = ui.horizontal(|ui| entry_ui(ui, entry, entry.at == shown));
                if let Some(a) = row.inner {
                    action = Some(a);
                }
            }
            if entries.is_empty() {
                ui.weak(t!("list.empty"));
            }
        });
    ui.horizontal(|ui| {
        for kind in [
            EndpointKind::Server,
            EndpointKind::Client,
            EndpointKind::Relay,
        ] {
            let (button, hover) = match kind {
                EndpointKind::Server => (t!("list.add_server"), t!("list.add_server_hover")),
                EndpointKind::Client => (t!("list.add_client"), t!("list.add_client_hover")),
                EndpointKind::Relay => (t!("list.add_relay"), t!("list.add_relay_hover")),
            };
            if ui.button(button).on_hover_text(hover).clicked() {
                action = Some(ListAction::Add(kind));
            }
        }
    });
    action
}

fn entry_ui(ui: &mut Ui, entry: &ListEntry<'_>, shown: bool) -> Option<ListAction> {
    let mut action = None;
    let dot = if entry.live.is_some() {
        RichText::new("●").color(OK_GREEN)
    } else {
        RichText::new("○").weak()
    };
    ui.label(dot).on_hover_text(if entry.live.is_some() {
        t!("list.running")
    } else {
        t!("list.stopped")
    });
    let kind = kind_label(entry.at.kind);
    let name = if entry.name.is_empty() {
        t!("list.unnamed", kind = kind).into_owned()
    } else {
        entry.name.to_owned()
    };
    if ui
        .selectable_label(shown, name)
        .on_hover_text(t!("list.show", kind = kind))
        .clicked()
    {
        action = Some(ListAction::Select(entry.at));
    }
    let c = &entry.counts;
    let place = entry.live.as_deref().unwrap_or(&kind);
    ui.weak(t!(
        "list.counts",
        place = place,
        packets_in = c.packets_in,
        packets_out = c.packets_out
    ));
    if ui
        .small_button("×")
        .on_hover_text(t!("list.remove", kind = kind))
        .clicked()
    {
        action = Some(ListAction::Remove(entry.at));
    }
    action
}

/// The name field above the shown endpoint's panel; true when it changed.
/// What happened in the name field this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameEdit {
    /// The name changed.
    pub changed: bool,
    /// The field lost the keyboard: the edit is over.
    pub done: bool,
}

/// `taken` says another endpoint has the same name: a project needs each once.
pub fn name_field_ui(ui: &mut Ui, name: &mut String, taken: bool) -> NameEdit {
    let response = ui
        .horizontal(|ui| {
            super::widgets::labelled_field_ui(
                ui,
                &t!("list.name"),
                name,
                180.0,
                &t!("list.name_hint"),
            )
            .on_hover_text(t!("list.name_hover"))
        })
        .inner;
    if taken {
        ui.label(egui::RichText::new(t!("list.name_taken")).color(super::widgets::WARN_AMBER));
    }
    NameEdit {
        changed: response.changed(),
        done: response.lost_focus(),
    }
}
