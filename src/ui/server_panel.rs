//! The server panel: where to listen, how to answer, Start/Stop, and while it
//! runs, its address, counters, peers and the manual reply box.

use std::net::IpAddr;

use egui::{RichText, TextEdit, Ui};

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::net::Counters;
use crate::net::{Buffers, PeerInfo};
use crate::packet::EndpointId;
use crate::settings::{ReplyKind, ServerForm};

use super::widgets::{
    ERROR_RED, Field, FieldError, OK_GREEN, bytes_label, encoding_combo_ui, field_error_ui,
    held_ui, labelled_field_ui, missed_ui,
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
        ui.heading("Server");
        match state {
            RunState::Running(at) => {
                ui.label(RichText::new(format!("listening on {at}")).color(OK_GREEN));
            }
            RunState::Starting => {
                ui.spinner();
            }
            RunState::Stopped => {
                ui.weak("stopped");
            }
        }
    });
    let stopped = state == RunState::Stopped;
    ui.add_enabled_ui(stopped, |ui| {
        ui.horizontal(|ui| {
            labelled_field_ui(ui, "Bind address", &mut form.bind_ip, 120.0, "127.0.0.1");
            ui.menu_button("Pick", |ui| {
                for ip in bind_choices(addresses) {
                    if ui.button(&ip).clicked() {
                        form.bind_ip = ip;
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("Pick 127.0.0.1 (this machine only), 0.0.0.0 / :: (every interface) or one of this machine's addresses");
            labelled_field_ui(ui, "Port", &mut form.port, 55.0, "9999")
                .on_hover_text("0 picks any free port");
        });
    });
    field_error_ui(ui, view.error.as_ref(), Field::Address);

    let mut update = false;
    ui.horizontal(|ui| {
        let label_id = ui.label("Reply").id;
        let before = form.reply;
        egui::ComboBox::from_id_salt("server-reply")
            .selected_text(form.reply.label())
            .show_ui(ui, |ui| {
                for kind in ReplyKind::ALL {
                    ui.selectable_value(&mut form.reply, kind, kind.label());
                }
            })
            .response
            .labelled_by(label_id);
        update |= form.reply != before;
        update |= encoding_combo_ui(ui, "server-encoding", "Encoding", &mut form.encoding);
    });
    let text_field = match form.reply {
        ReplyKind::Template => Some(("Template", &mut form.template, "Hello, {text}!")),
        ReplyKind::Fixed => Some(("Fixed reply", &mut form.fixed, "收到你的消息了")),
        _ => None,
    };
    if let Some((label, text, hint)) = text_field {
        ui.horizontal(|ui| {
            let r = labelled_field_ui(ui, label, text, ui.available_width() - 10.0, hint);
            update |= r.lost_focus();
        });
        if form.reply == ReplyKind::Template {
            ui.weak(
                "{text} {upper} {hex} {peer} {len} {seq} {seq:u16be} {time} {unix_ms} \
                 {random:N} {uuid}; checksums {crc16_modbus} {crc16_ccitt} {crc32} {sum8} \
                 {xor8} (:be :le :hex) from {begin} to {end}; escapes such as \\r\\n work",
            );
        }
    }
    field_error_ui(ui, view.error.as_ref(), Field::Reply);
    ui.horizontal(|ui| {
        let r = labelled_field_ui(ui, "Quit word", &mut form.quit_word, 80.0, "none");
        update |= r.lost_focus();
        ui.add_enabled_ui(stopped, |ui| ui.checkbox(&mut form.broadcast, "Broadcast"));
        let r = labelled_field_ui(ui, "Verify", &mut form.verify, 100.0, "no checksum")
            .on_hover_text(super::widgets::verify_hover());
        update |= r.lost_focus();
    });
    field_error_ui(ui, view.error.as_ref(), Field::Verify);
    if bad_sums > 0 {
        ui.label(
            RichText::new(format!(
                "{bad_sums} received datagrams failed the checksum check"
            ))
            .color(ERROR_RED),
        );
    }
    ui.horizontal(|ui| {
        match state {
            RunState::Stopped => {
                if ui.button("Start").clicked() {
                    action = Some(ServerAction::Start);
                }
            }
            RunState::Starting | RunState::Running(_) => {
                if ui.button("Stop").clicked() {
                    action = Some(ServerAction::Stop);
                }
            }
        }
        ui.label(format!(
            "in {} / {}   out {} / {}   replies {}",
            tally.packets_in,
            bytes_label(tally.bytes_in),
            tally.packets_out,
            bytes_label(tally.bytes_out),
            tally.replies
        ));
    });
    ui.horizontal(|ui| {
        let label = ui.label("Reply limit").id;
        let peer = ui
            .add(
                egui::DragValue::new(&mut form.reply_limit_peer)
                    .range(0..=1_000_000)
                    .speed(10)
                    .suffix("/s a peer"),
            )
            .labelled_by(label);
        let total = ui
            .add(
                egui::DragValue::new(&mut form.reply_limit_total)
                    .range(0..=10_000_000)
                    .speed(100)
                    .suffix("/s in all"),
            )
            .labelled_by(label);
        let hover = "Automatic replies a second, to one peer and to all (0: no limit). Over it, datagrams are still received and shown, but not answered: a spoofed source cannot turn the server into a flood aimed at someone else.";
        let (peer, total) = (peer.on_hover_text(hover), total.on_hover_text(hover));
        update |= peer.changed() || total.changed();
    });
    if tally.held_back > 0 {
        ui.label(
            RichText::new(format!(
                "{} automatic replies held back (reply limit or reply loop)",
                tally.held_back
            ))
            .color(super::widgets::WARN_AMBER),
        );
    }
    if let Some(warning) = exposure(form) {
        ui.label(RichText::new(warning).color(super::widgets::WARN_AMBER));
    }
    ui.horizontal(|ui| {
        let label = ui.label("Receive buffer").id;
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
        .on_hover_text("What to ask the kernel for at the next Start. A bigger buffer rides out longer bursts before the kernel drops datagrams; Linux caps it at net.core.rmem_max.");
        if mib != asked {
            form.recv_buffer_mib = mib;
        }
        if let Some(b) = view.buffers {
            ui.weak(format!(
                "granted: receive {}, send {}",
                bytes_label(b.recv as u64),
                bytes_label(b.send as u64)
            ))
            .on_hover_text("What the kernel granted (Linux reports twice the data it allows, and caps requests at net.core.rmem_max and wmem_max).");
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
    ui.label(format!("Peers ({})", view.peers.len()));
    if view.peers.is_empty() {
        ui.weak("nobody yet");
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
                let text = format!(
                    "{}   {} pkt, {}, last {}",
                    p.addr,
                    p.packets,
                    bytes_label(p.bytes),
                    seen.format("%H:%M:%S")
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
            format!("and more than {} more", view.unlisted)
        } else {
            format!("and {} more", view.unlisted)
        };
        ui.weak(more).on_hover_text(
            "Peers beyond the first 1,024 are not listed (a flood from many sources must not fill the memory); they are still received, counted and answered.",
        );
    }
    let mut send = false;
    let to = view
        .selected_peer
        .map_or_else(|| "no peer selected".to_owned(), |p| p.to_string());
    ui.horizontal(|ui| {
        let label_id = ui.label("Reply text").id;
        let r = ui
            .add(
                TextEdit::singleline(&mut view.reply_text)
                    .desired_width(ui.available_width() - 90.0)
                    .hint_text(format!("answer {to} by hand")),
            )
            .labelled_by(label_id);
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let can = view.selected_peer.is_some() && matches!(view.state(), RunState::Running(_));
        if ui
            .add_enabled(can, egui::Button::new("Send reply"))
            .clicked()
            || (enter && can)
        {
            send = true;
        }
    });
    if form.reply == ReplyKind::Manual && view.selected_peer.is_none() {
        ui.weak("Manual mode: pick a peer once someone has sent, then type the answer.");
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
    (automatic && !ip.is_loopback()).then(|| {
        format!(
            "Reachable from other machines: this server answers anyone who can send to {ip}, and a spoofed source can aim its replies at someone else (the reply limit caps them)."
        )
    })
}
