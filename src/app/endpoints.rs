//! The left panel: the endpoint list, the shown endpoint's name and panel,
//! and what their clicks ask of the session, applied after layout.

use rust_i18n::t;

use crate::settings::{EndpointKind, SavedMessage, Selected};
use crate::ui::client_panel::{self, ClientAction};
use crate::ui::endpoint_list::{self, ListAction, ListEntry};
use crate::ui::relay_panel::{self, RelayRequest};
use crate::ui::rules_editor::{self, RulesEdit};
use crate::ui::sequence_panel::{self, SequenceAction};
use crate::ui::server_panel::{self, RunState, ServerAction};

use super::UdpDeskApp;

/// What the left panel asked for.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointAction {
    /// Something of the list.
    List(ListAction),
    /// Server `0` asked for this.
    Server(usize, ServerAction),
    /// Server `0`'s rules were applied in the editor.
    Rules(usize),
    /// Client `0` asked for this.
    Client(usize, ClientAction),
    /// Client `0`'s sequence panel asked for this.
    Sequence(usize, SequenceAction),
    /// Relay `0` asked for this.
    Relay(usize, RelayRequest),
    /// The shown endpoint's name was edited.
    /// An endpoint's name was edited.
    Renamed(Selected),
    /// A name field lost the keyboard: a client's rename is over.
    RenameDone,
}

impl UdpDeskApp {
    /// The list's rows, in the settings' order: servers, clients, relays.
    fn list_entries(&self) -> Vec<ListEntry<'_>> {
        let s = &self.session;
        let at = |kind, index| Selected { kind, index };
        let servers = self.settings.servers.iter().enumerate().map(|(i, f)| {
            let view = s.servers.get(i);
            ListEntry {
                at: at(EndpointKind::Server, i),
                name: &f.name,
                live: view.and_then(|v| match v.state() {
                    RunState::Running(a) => Some(a.to_string()),
                    RunState::Starting => Some(t!("list.starting").into_owned()),
                    RunState::Stopped => None,
                }),
                counts: s.tally(view.and_then(|v| v.last_id)),
            }
        });
        let clients = self.settings.clients.iter().enumerate().map(|(i, f)| {
            let view = s.clients.get(i);
            ListEntry {
                at: at(EndpointKind::Client, i),
                name: &f.name,
                live: view.and_then(|v| v.id.map(|_| v.local)).map(|local| {
                    local.map_or_else(|| t!("list.opening").into_owned(), |l| l.to_string())
                }),
                counts: s.tally(view.and_then(|v| v.id)),
            }
        });
        let relays = self.settings.relays.iter().enumerate().map(|(i, f)| {
            let view = s.relays.get(i);
            ListEntry {
                at: at(EndpointKind::Relay, i),
                name: &f.name,
                live: view.filter(|v| v.active()).map(|v| {
                    v.listening
                        .map_or_else(|| t!("list.starting").into_owned(), |l| l.to_string())
                }),
                counts: s.tally(view.and_then(|v| v.id)),
            }
        });
        servers.chain(clients).chain(relays).collect()
    }

    /// Draws the left panel's contents; returns what was asked.
    pub(super) fn endpoints_ui(&mut self, ui: &mut egui::Ui) -> Vec<EndpointAction> {
        let mut actions = Vec::new();
        let entries = self.list_entries();
        if let Some(a) = endpoint_list::endpoint_list_ui(ui, &entries, self.settings.selected) {
            actions.push(EndpointAction::List(a));
        }
        ui.separator();
        let shown = self.settings.selected;
        egui::ScrollArea::vertical().show(ui, |ui| {
            // Each endpoint its own id scope: switching shows fresh widgets.
            ui.push_id((shown.kind, shown.index), |ui| {
                self.shown_endpoint_ui(ui, shown, &mut actions);
            });
        });
        actions
    }

    fn shown_endpoint_ui(
        &mut self,
        ui: &mut egui::Ui,
        shown: Selected,
        actions: &mut Vec<EndpointAction>,
    ) {
        let i = shown.index;
        let taken = self.settings.name_taken(shown);
        let s = &mut self.session;
        match shown.kind {
            EndpointKind::Server => {
                let id = s.servers.get(i).and_then(|v| v.last_id);
                let tally = s.tally(id);
                let held = id.map(|id| s.store.held(id)).unwrap_or_default();
                let bad_sums = id.map_or(0, |id| s.pairing.bad_sums(id));
                let (Some(form), Some(view)) =
                    (self.settings.servers.get_mut(i), s.servers.get_mut(i))
                else {
                    return;
                };
                if endpoint_list::name_field_ui(ui, &mut form.name, taken).changed {
                    actions.push(EndpointAction::Renamed(shown));
                }
                if let Some(a) = server_panel::server_panel_ui(
                    ui,
                    form,
                    view,
                    tally,
                    held,
                    &self.addresses,
                    bad_sums,
                ) {
                    actions.push(EndpointAction::Server(i, a));
                }
                let edit = ui.push_id("rules", |ui| {
                    rules_editor::rules_editor_ui(
                        ui,
                        &mut form.rules,
                        form.encoding,
                        &mut self.rules,
                    )
                });
                if let Some(RulesEdit::Apply) = edit.inner {
                    actions.push(EndpointAction::Rules(i));
                }
            }
            EndpointKind::Client => {
                let (Some(form), Some(view)) = (self.settings.clients.get_mut(i), s.clients.get(i))
                else {
                    return;
                };
                let before = form.name.clone();
                let edit = endpoint_list::name_field_ui(ui, &mut form.name, taken);
                if edit.changed {
                    actions.push(EndpointAction::Renamed(shown));
                    self.renaming.get_or_insert((i, before));
                }
                if edit.done {
                    actions.push(EndpointAction::RenameDone);
                }
                // While its name is edited, the client's sequences keep the
                // name they carry.
                let owner = match &self.renaming {
                    Some((r, from)) if *r == i => from.clone(),
                    _ => form.name.clone(),
                };
                let tally = s.tally(view.id);
                let figures = view.id.and_then(|id| s.pairing.figures(id));
                if let Some(a) = client_panel::client_panel_ui(
                    ui,
                    form,
                    &self.settings.saved,
                    view,
                    tally,
                    figures,
                ) {
                    actions.push(EndpointAction::Client(i, a));
                }
                let asked = ui.push_id("sequences", |ui| {
                    sequence_panel::sequence_panel_ui(
                        ui,
                        sequence_panel::SequenceClient {
                            name: &owner,
                            encoding: form.encoding,
                        },
                        &mut self.settings.sequences,
                        &mut self.settings.sequence_shown,
                        &view.sequence,
                        &self.settings.saved,
                        &mut self.sequence_state,
                    )
                });
                if let Some(a) = asked.inner {
                    actions.push(EndpointAction::Sequence(i, a));
                }
            }
            EndpointKind::Relay => {
                let tally = s.tally(s.relays.get(i).and_then(|v| v.id));
                let (Some(form), Some(view)) =
                    (self.settings.relays.get_mut(i), s.relays.get_mut(i))
                else {
                    return;
                };
                if endpoint_list::name_field_ui(ui, &mut form.name, taken).changed {
                    actions.push(EndpointAction::Renamed(shown));
                }
                if let Some(r) =
                    relay_panel::relay_panel_ui(ui, form, view, tally, std::time::Instant::now())
                {
                    actions.push(EndpointAction::Relay(i, r));
                }
                if !view.mappings.is_empty() {
                    // The idle seconds count on.
                    ui.ctx()
                        .request_repaint_after(std::time::Duration::from_secs(1));
                }
            }
        }
    }

    /// Does what the left panel asked.
    pub(super) fn apply_endpoint(&mut self, action: EndpointAction) {
        match action {
            EndpointAction::List(a) => self.apply_list(a),
            EndpointAction::Server(i, a) => self.apply_server(i, a),
            EndpointAction::Rules(i) => {
                if let Some(form) = self.settings.servers.get(i) {
                    self.session.set_rules(i, form);
                }
            }
            EndpointAction::Client(i, a) => self.apply_client(i, a),
            EndpointAction::Sequence(i, SequenceAction::Run) => {
                let seq = self.settings.sequences.get(self.settings.sequence_shown);
                if let (Some(form), Some(seq)) = (self.settings.clients.get(i), seq) {
                    self.session.run_sequence(i, form, seq);
                }
            }
            EndpointAction::Sequence(i, SequenceAction::Stop) => self.session.stop_sending(i),
            EndpointAction::Relay(i, r) => self.apply_relay(i, r),
            EndpointAction::Renamed(at) => {
                if let Some(name) = self.settings.name(at) {
                    let name = name.to_owned();
                    self.session.rename(at.kind, at.index, &name);
                }
            }
            EndpointAction::RenameDone => self.finish_rename(),
        }
    }

    /// Ends a client's rename: its sequences take the new name, unless the
    /// name is empty or another client's; then they keep the one they carry
    /// and the rename stays open until the client has a name of its own.
    pub(super) fn finish_rename(&mut self) {
        let Some((i, from)) = self.renaming.take() else {
            return;
        };
        let Some(to) = self.settings.clients.get(i).map(|c| c.name.clone()) else {
            return;
        };
        let held = self
            .settings
            .clients
            .iter()
            .enumerate()
            .any(|(j, c)| j != i && c.name == to);
        if to.trim().is_empty() || held {
            self.renaming = Some((i, from));
            return;
        }
        self.settings.hand_sequences(&from, &to);
    }

    /// Shows an endpoint's panel (a client shown becomes the one the keys send from).
    pub fn select(&mut self, at: Selected) {
        self.finish_rename();
        if at.index < self.settings.len(at.kind) {
            self.settings.selected = at;
            if at.kind == EndpointKind::Client {
                self.settings.client_shown = at.index;
            }
        }
    }

    /// Adds an endpoint of `kind` with a fresh name, and shows it.
    pub fn add_endpoint(&mut self, kind: EndpointKind) {
        let name = self.settings.free_name(kind);
        let s = &mut self.settings;
        let index = match kind {
            EndpointKind::Server => {
                // A second server on the first one's port could not start.
                s.servers.push(crate::settings::ServerForm {
                    name,
                    port: "0".to_owned(),
                    ..crate::settings::ServerForm::default()
                });
                s.servers.len() - 1
            }
            EndpointKind::Client => {
                s.clients.push(crate::settings::ClientForm {
                    name,
                    ..crate::settings::ClientForm::default()
                });
                s.clients.len() - 1
            }
            EndpointKind::Relay => {
                s.relays.push(crate::settings::RelayForm {
                    name,
                    ..crate::settings::RelayForm::default()
                });
                s.relays.len() - 1
            }
        };
        self.session.fit(&self.settings);
        self.select(Selected { kind, index });
    }

    /// Stops an endpoint and takes it out of the list.
    pub fn remove_endpoint(&mut self, at: Selected) {
        if at.index >= self.settings.len(at.kind) {
            return;
        }
        self.session.remove(at.kind, at.index);
        match at.kind {
            EndpointKind::Server => drop(self.settings.servers.remove(at.index)),
            EndpointKind::Client => {
                self.finish_rename();
                if let Some((i, from)) = self.renaming.take() {
                    // A rename still open on a client that goes: its
                    // sequences carry the old name, the one to free.
                    let shared = self
                        .settings
                        .clients
                        .iter()
                        .enumerate()
                        .any(|(j, c)| j != at.index && c.name == from);
                    if i == at.index && !shared {
                        self.settings.hand_sequences(&from, "");
                    } else if i != at.index {
                        self.renaming = Some((if i > at.index { i - 1 } else { i }, from));
                    }
                }
                let gone = self.settings.clients.remove(at.index);
                // Its own sequences go to every client rather than to none:
                // a project naming a client that is not there would not open.
                if !self.settings.clients.iter().any(|c| c.name == gone.name) {
                    self.settings.hand_sequences(&gone.name, "");
                }
            }
            EndpointKind::Relay => drop(self.settings.relays.remove(at.index)),
        }
        let shown = &mut self.settings.selected;
        if shown.kind == at.kind && shown.index >= at.index && shown.index > 0 {
            shown.index -= 1;
        }
        if at.kind == EndpointKind::Client && self.settings.client_shown >= at.index {
            self.settings.client_shown = self.settings.client_shown.saturating_sub(1);
        }
        if self.settings.selected.index >= self.settings.len(self.settings.selected.kind) {
            // The last of its kind went: show the first endpoint there is.
            self.settings.selected = [
                EndpointKind::Server,
                EndpointKind::Client,
                EndpointKind::Relay,
            ]
            .into_iter()
            .find(|k| self.settings.len(*k) > 0)
            .map(|kind| Selected { kind, index: 0 })
            .unwrap_or_default();
        }
    }

    fn apply_list(&mut self, action: ListAction) {
        match action {
            ListAction::Select(at) => self.select(at),
            ListAction::Add(kind) => self.add_endpoint(kind),
            ListAction::Remove(at) => self.remove_endpoint(at),
        }
    }

    pub(super) fn apply_server(&mut self, i: usize, action: ServerAction) {
        let Some(form) = self.settings.servers.get(i) else {
            return;
        };
        match action {
            ServerAction::Start => self.session.start_server(i, form),
            ServerAction::Stop => self.session.stop_server(i),
            ServerAction::Update => self.session.update_server(i, form),
            ServerAction::Reply => self.session.manual_reply(i, form),
        }
    }

    fn apply_relay(&mut self, i: usize, request: RelayRequest) {
        let Some(form) = self.settings.relays.get(i) else {
            return;
        };
        match request {
            RelayRequest::Start => self.session.start_relay(i, form),
            RelayRequest::Stop => self.session.stop_relay(i),
            RelayRequest::ApplyRules => self.session.update_relay(i, form),
            RelayRequest::Inject => self.session.inject(i, form),
        }
    }

    pub(super) fn apply_client(&mut self, i: usize, action: ClientAction) {
        let Some(form) = self.settings.clients.get_mut(i) else {
            return;
        };
        match action {
            ClientAction::Send => self.session.send(i, form),
            ClientAction::Stop => self.session.stop_sending(i),
            ClientAction::Convert(mode) => {
                let result = super::forms::convert_message(form, mode);
                if let Some(view) = self.session.clients.get_mut(i) {
                    view.error = result.err();
                }
            }
            ClientAction::SaveMessage => {
                let saved = SavedMessage {
                    name: client_panel::saved_name(form),
                    message: form.message.clone(),
                    mode: form.mode,
                    encoding: form.encoding,
                    per_line: form.per_line,
                };
                self.settings.saved.push(saved);
            }
            ClientAction::SendSaved(n) => {
                if let Some(m) = self.settings.saved.get(n) {
                    let mut form = form.clone();
                    form.message.clone_from(&m.message);
                    form.mode = m.mode;
                    form.encoding = m.encoding;
                    form.per_line = m.per_line;
                    form.count = 1;
                    self.session.send(i, &form);
                }
            }
            ClientAction::LoadSaved(n) => {
                if let Some(m) = self.settings.saved.get(n) {
                    form.message.clone_from(&m.message);
                    form.mode = m.mode;
                    form.encoding = m.encoding;
                    form.per_line = m.per_line;
                }
            }
            ClientAction::DeleteSaved(n) => {
                if n < self.settings.saved.len() {
                    self.settings.saved.remove(n);
                }
            }
        }
    }
}
