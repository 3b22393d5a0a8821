//! The server panel: where to listen, how to answer, Start/Stop, and while it
//! runs, its address, counters, peers and the manual reply box.

use std::net::IpAddr;

use egui::{RichText, TextEdit, Ui};
use rust_i18n::t;

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::net::Counters;
use crate::net::{Buffers, PeerInfo};
use crate::packet::EndpointId;
use crate::settings::{ReplyKind, ServerForm};

use super::widgets::{
    ERROR_RED, Field, FieldError, OK_GREEN, bytes_label, encoding_combo_ui, field_error_ui,
    held_ui, labelled_field_ui, missed_ui, reply_kind_label,
};

/// Where a server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Not running.
    Stopped,
    /// Asked to start, no answer yet.
    Starting,
    /// Bound to this address.
    Running(SocketAddr),
}

/// What the server panel shows besides its form.
#[derive(Debug, Default)]
pub struct ServerView {
    /// The running server's id.
    pub id: Option<EndpointId>,
    /// The last server started, running or not: its counters stay on show after it stops.
    pub last_id: Option<EndpointId>,
    /// Stopped, starting, running.
    pub state: Option<RunState>,
    /// The last error, beside its control.
    pub error: Option<FieldError>,
    /// Why it last stopped, if not by the user.
    pub note: Option<String>,
    /// Who has sent to it, by first contact.
    pub peers: Vec<PeerInfo>,
    /// Where each peer sits in `peers`.
    pub peer_index: HashMap<SocketAddr, usize>,
    /// Peers heard from that the table (1,024) has no room for.
    pub unlisted: u64,
    /// The socket buffer sizes the kernel granted.
    pub buffers: Option<Buffers>,
    /// The peer a manual reply goes to.
    pub selected_peer: Option<SocketAddr>,
    /// The manual reply being typed.
    pub reply_text: String,
    /// A manual reply was just sent: a failure now belongs beside its box.
    pub manual_pending: bool,
    /// The rules (and encoding) the running server was last given.
    pub rules_applied: Option<(Vec<crate::net::Rule>, crate::codec::Encoding)>,
}

impl ServerView {
    /// Stopped, starting or running.
    #[must_use]
    pub fn state(&self) -> RunState {
        self.state.unwrap_or(RunState::Stopped)
    }

    /// Folds in the peers that changed; a new peer is picked for manual
    /// replies when none is yet.
    pub fn merge_peers(&mut self, changed: Vec<PeerInfo>) {
        for peer in changed {
            match self.peer_index.get(&peer.addr) {
                Some(&i) => self.peers[i] = peer,
                None => {
                    self.peer_index.insert(peer.addr, self.peers.len());
                    self.peers.push(peer);
                }
            }
        }
        if self.selected_peer.is_none() {
            self.selected_peer = self.peers.last().map(|p| p.addr);
        }
    }
}

/// What the user asked of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerAction {
    /// Start (or restart) with the form's settings.
    Start,
    /// Stop it.
    Stop,
    /// Apply the reply settings to the running server.
    Update,
    /// Send the manual reply to the selected peer.
    Reply,
}

/// Draws the panel; returns what the user asked for.
pub fn server_panel_ui(
    ui: &mut Ui,
    form: &mut ServerForm,
    view: &mut ServerView,
    tally: Counters,
    held: crate::capture::Held,
    addresses: &[IpAddr],
    bad_sums: u64,
) -> Option<ServerAction> {
    let mut action = None;
    let state = view.state();
    ui.horizontal(|ui| {
        ui.heading(t!("server.heading"));
        match state {
            RunState::Running(at) => {
                ui.label(RichText::new(t!("server.listening", at = at)).color(OK_GREEN));
            }
            RunState::Starting => {
                ui.spinner();
            }
            RunState::Stopped => {
                ui.weak(t!("server.stopped"));
            }
        }
    });
    let stopped = state == RunState::Stopped;
    ui.add_enabled_ui(stopped, |ui| {
        ui.horizontal(|ui| {
            labelled_field_ui(
                ui,
                &t!("server.bind_address"),
                &mut form.bind_ip,
                120.0,
                "127.0.0.1",
            );
            ui.menu_button(t!("server.pick"), |ui| {
                for ip in bind_choices(addresses) {
                    if ui.button(&ip).clicked() {
                        form.bind_ip = ip;
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text(t!("server.pick_hover"));
            labelled_field_ui(ui, &t!("server.port"), &mut form.port, 55.0, "9999")
                .on_hover_text(t!("server.port_hover"));
        });
    });
    field_error_ui(ui, view.error.as_ref(), Field::Address);

    let mut update = false;
    ui.horizontal(|ui| {
        let label_id = ui.label(t!("server.reply")).id;
        let before = form.reply;
        egui::ComboBox::from_id_salt("server-reply")
            .selected_text(reply_kind_label(form.reply))
            .show_ui(ui, |ui| {
                for kind in ReplyKind::ALL {
                    ui.selectable_value(&mut form.reply, kind, reply_kind_label(kind));
                }
            })
            .response
            .labelled_by(label_id);
        update |= form.reply != before;
        update |= encoding_combo_ui(
            ui,
            "server-encoding",
            &t!("widgets.encoding"),
            &mut form.encoding,
        );
    });
    let text_field = match form.reply {
        ReplyKind::Template => Some((t!("server.template"), &mut form.template, "Hello, {text}!")),
        ReplyKind::Fixed => Some((t!("server.fixed_reply"), &mut form.fixed, "收到你的消息了")),
        _ => None,
    };
    if let Some((label, text, hint)) = text_field {
        ui.horizontal(|ui| {
            let r = labelled_field_ui(ui, &label, text, ui.available_width() - 10.0, hint);
            update |= r.lost_focus();
        });
        if form.reply == ReplyKind::Template {
            ui.weak(t!("server.template_help"));
        }
    }
    field_error_ui(ui, view.error.as_ref(), Field::Reply);
    ui.horizontal(|ui| {
        let r = labelled_field_ui(
            ui,
            &t!("server.quit_word"),
            &mut form.quit_word,
            80.0,
            &t!("server.quit_word_hint"),
        );
        update |= r.lost_focus();
        ui.add_enabled_ui(stopped, |ui| {
            ui.checkbox(&mut form.broadcast, t!("server.broadcast"))
        });
        let r = labelled_field_ui(
            ui,
            &t!("server.verify"),
            &mut form.verify,
            100.0,
            &t!("server.verify_hint"),
        )
        .on_hover_text(super::widgets::verify_hover());
        update |= r.lost_focus();
    });
    field_error_ui(ui, view.error.as_ref(), Field::Verify);
    if bad_sums > 0 {
        ui.label(RichText::new(t!("server.bad_sums", count = bad_sums)).color(ERROR_RED));
    }
    ui.horizontal(|ui| {
        match state {
            RunState::Stopped => {
                if ui.button(t!("server.start")).clicked() {
                    action = Some(ServerAction::Start);
                }
            }
            RunState::Starting | RunState::Running(_) => {
                if ui.button(t!("server.stop")).clicked() {
                    action = Some(ServerAction::Stop);
                }
            }
        }
        ui.label(t!(
            "server.counters",
            packets_in = tally.packets_in,
            bytes_in = bytes_label(tally.bytes_in),
            packets_out = tally.packets_out,
            bytes_out = bytes_label(tally.bytes_out),
            replies = tally.replies
        ));
    });
    ui.horizontal(|ui| {
        let label = ui.label(t!("server.reply_limit")).id;
        let peer = ui
            .add(
                egui::DragValue::new(&mut form.reply_limit_peer)
                    .range(0..=1_000_000)
                    .speed(10)
                    .suffix(t!("server.per_peer")),
            )
            .labelled_by(label);
        let total = ui
            .add(
                egui::DragValue::new(&mut form.reply_limit_total)
                    .range(0..=10_000_000)
                    .speed(100)
                    .suffix(t!("server.in_all")),
            )
            .labelled_by(label);
        let hover = t!("server.reply_limit_hover");
        let (peer, total) = (
            peer.on_hover_text(hover.clone()),
            total.on_hover_text(hover),
        );
        update |= peer.changed() || total.changed();
    });
    if tally.held_back > 0 {
        ui.label(
            RichText::new(t!("server.held_back", count = tally.held_back))
                .color(super::widgets::WARN_AMBER),
        );
    }
    if let Some(warning) = exposure(form) {
        ui.label(RichText::new(warning).color(super::widgets::WARN_AMBER));
    }
    ui.horizontal(|ui| {
        let label = ui.label(t!("server.receive_buffer")).id;
        let mut mib = match form.recv_buffer_mib {
            0 => crate::net::DEFAULT_RECV_BUFFER >> 20,
            n => n,
        };
        let asked = mib;
        ui.add(
            egui::DragValue::new(&mut mib)
                .range(1..=crate::settings::MAX_RECV_BUFFER_MIB)
                .suffix(" MiB"),
        )
        .labelled_by(label)
        .on_hover_text(t!("server.receive_buffer_hover"));
        if mib != asked {
            form.recv_buffer_mib = mib;
        }
        if let Some(b) = view.buffers {
            ui.weak(t!(
                "server.granted",
                recv = bytes_label(b.recv as u64),
                send = bytes_label(b.send as u64)
            ))
            .on_hover_text(t!("server.granted_hover"));
        }
    });
    missed_ui(ui, &tally);
    held_ui(ui, &tally, held);
    field_error_ui(ui, view.error.as_ref(), Field::General);
    if let Some(note) = &view.note {
        ui.label(RichText::new(note).color(ERROR_RED));
    }
    if update && matches!(state, RunState::Running(_)) && action.is_none() {
        action = Some(ServerAction::Update);
    }
    if peers_ui(ui, form, view) {
        action = Some(ServerAction::Reply);
    }
    action
}

/// The peers heard from and the manual reply box; true when Send reply was pressed.
fn peers_ui(ui: &mut Ui, form: &ServerForm, view: &mut ServerView) -> bool {
    ui.add_space(4.0);
    ui.label(t!("server.peers", count = view.peers.len()));
    if view.peers.is_empty() {
        ui.weak(t!("server.nobody_yet"));
    }
    // Only the rows in sight are laid out: the table holds 1,024 peers.
    let row = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
    let peers = std::mem::take(&mut view.peers);
    egui::ScrollArea::vertical()
        .id_salt("server-peers")
        .max_height(80.0)
        .auto_shrink([false, true])
        .show_rows(ui, row, peers.len(), |ui, rows| {
            for p in &peers[rows] {
                let seen: chrono::DateTime<chrono::Local> = p.last_seen.into();
                let text = t!(
                    "server.peer_row",
                    addr = p.addr,
                    packets = p.packets,
                    bytes = bytes_label(p.bytes),
                    last = seen.format("%H:%M:%S")
                );
                if ui
                    .selectable_label(view.selected_peer == Some(p.addr), text)
                    .clicked()
                {
                    view.selected_peer = Some(p.addr);
                }
            }
        });
    view.peers = peers;
    if view.unlisted > 0 {
        let more = if view.unlisted >= crate::net::MAX_UNLISTED_PEERS as u64 {
            t!("server.more_than", count = view.unlisted)
        } else {
            t!("server.more", count = view.unlisted)
        };
        ui.weak(more).on_hover_text(t!("server.more_hover"));
    }
    let mut send = false;
    let to = view
        .selected_peer
        .map_or_else(|| t!("server.no_peer").into_owned(), |p| p.to_string());
    ui.horizontal(|ui| {
        let label_id = ui.label(t!("server.reply_text")).id;
        let r = ui
            .add(
                TextEdit::singleline(&mut view.reply_text)
                    .desired_width(ui.available_width() - 90.0)
                    .hint_text(t!("server.reply_hint", to = to)),
            )
            .labelled_by(label_id);
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let can = view.selected_peer.is_some() && matches!(view.state(), RunState::Running(_));
        if ui
            .add_enabled(can, egui::Button::new(t!("server.send_reply")))
            .clicked()
            || (enter && can)
        {
            send = true;
        }
    });
    if form.reply == ReplyKind::Manual && view.selected_peer.is_none() {
        ui.weak(t!("server.manual_hint"));
    }
    field_error_ui(ui, view.error.as_ref(), Field::ManualReply);
    send
}

/// The usual bind choices, then this machine's own addresses.
fn bind_choices(addresses: &[IpAddr]) -> Vec<String> {
    let mut out: Vec<String> = ["127.0.0.1", "0.0.0.0", "::1", "::"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for a in addresses {
        let s = a.to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// A warning when the server answers by itself on an address other machines
/// can reach: anyone there (or anyone spoofing a source) gets replies.
#[must_use]
pub fn exposure(form: &ServerForm) -> Option<String> {
    let automatic = !matches!(form.reply, ReplyKind::Manual | ReplyKind::None);
    let ip: IpAddr = form
        .bind_ip
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (automatic && !ip.is_loopback()).then(|| t!("server.exposure", ip = ip).into_owned())
}
