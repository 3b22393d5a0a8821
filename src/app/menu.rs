//! The menu bar: File (captures, logs, projects), View (theme, charts,
//! language, redraw rate, hand-over delay, memory) and Keys.

use crate::settings::Theme;
use crate::ui::packet_table::TableAction;
use crate::ui::shortcuts;

use super::UdpDeskApp;
use super::pacing::RedrawRate;
use super::save::Purpose;

impl UdpDeskApp {
    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui) -> Option<TableAction> {
        let mut action = None;
        let mut project = None;
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                project = project_menu_ui(ui, self.settings.project.as_deref());
                ui.separator();
                if ui
                    .button("Open capture…")
                    .on_hover_text("pcapng or pcap from udpdesk, tcpdump or Wireshark, or a udpdesk .jsonl or .csv log; dropping a file on the window opens it too")
                    .clicked()
                {
                    action = Some(TableAction::Open);
                }
                let ctx = ui.ctx().clone();
                let with = |text: &str, s| {
                    egui::Button::new(text).shortcut_text(shortcuts::label(&ctx, s))
                };
                if ui.add(with("Save log…", &shortcuts::SAVE)).clicked() {
                    action = Some(TableAction::Save);
                }
                let capturing = self.session.capture.file.is_some();
                if !capturing && ui.button("Capture to file…").clicked() {
                    action = Some(TableAction::Capture);
                }
                if capturing && ui.button("Stop capture").clicked() {
                    action = Some(TableAction::StopCapture);
                }
                if ui.add(with("Clear log", &shortcuts::CLEAR)).clicked() {
                    action = Some(TableAction::Clear);
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                let mut theme = self.settings.theme;
                ui.radio_value(&mut theme, Theme::Dark, "Dark theme");
                ui.radio_value(&mut theme, Theme::Light, "Light theme");
                if theme != self.settings.theme {
                    self.settings.theme = theme;
                    super::apply_theme(ui.ctx(), theme);
                }
                ui.checkbox(&mut self.settings.charts, "Charts")
                    .on_hover_text("Packets and bytes a second per endpoint, and round-trip times, over the last minute");
                ui.separator();
                ui.label("Redraw while traffic flows");
                let mut redraw = self.settings.redraw;
                for rate in RedrawRate::ALL {
                    ui.radio_value(&mut redraw, rate, rate.label());
                }
                if redraw != self.settings.redraw {
                    self.settings.redraw = redraw;
                    self.apply_redraw_rate();
                }
                ui.weak(format!(
                    "now {} frames/s{}",
                    self.redraw_fps(),
                    if self.cpu_renderer {
                        " (CPU renderer)"
                    } else {
                        ""
                    }
                ));
                ui.separator();
                self.handover_ui(ui);
                self.memory_ui(ui);
            });
            ui.menu_button("Keys", |ui| {
                let ctx = ui.ctx().clone();
                for (what, s) in [
                    ("Send the client's message", &shortcuts::SEND),
                    ("Send saved message 1 … 9", &shortcuts::SAVED[0]),
                    ("Find: the table's filter", &shortcuts::FILTER),
                    ("Save the log", &shortcuts::SAVE),
                    ("Clear the log", &shortcuts::CLEAR),
                ] {
                    let mut keys = shortcuts::label(&ctx, s);
                    if std::ptr::eq(s, &shortcuts::SAVED[0]) {
                        keys.push_str(" … 9");
                    }
                    ui.horizontal(|ui| {
                        ui.label(what);
                        ui.weak(keys);
                    });
                }
            });
            ui.add_space(16.0);
            if let Some(client) = self.settings.clients.get(self.settings.client_shown) {
                ui.weak(format!(
                    "{} sends {}'s message",
                    shortcuts::label(ui.ctx(), &shortcuts::SEND),
                    client.name
                ));
            }
        });
        match project {
            Some(ProjectAsk::Open) => self.ask_path(Purpose::OpenProject),
            Some(ProjectAsk::Save) => self.save_project(),
            Some(ProjectAsk::SaveAs) => self.ask_path(Purpose::SaveProject),
            None => {}
        }
        action
    }
}

/// What the File menu's project entries asked for.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProjectAsk {
    Open,
    Save,
    SaveAs,
}

/// The File menu's project entries, with the project's file name if there is one.
fn project_menu_ui(ui: &mut egui::Ui, current: Option<&std::path::Path>) -> Option<ProjectAsk> {
    let mut ask = None;
    if ui
        .button("Open project…")
        .on_hover_text("A .toml project: servers, clients and relays with their names and rules, saved messages, sequences and the capture file; its endpoints replace these")
        .clicked()
    {
        ask = Some(ProjectAsk::Open);
    }
    if ui
        .button("Save project")
        .on_hover_text("Every endpoint, saved message and sequence to the project's file; `udpdesk run FILE` runs it headless")
        .clicked()
    {
        ask = Some(ProjectAsk::Save);
    }
    if ui.button("Save project as…").clicked() {
        ask = Some(ProjectAsk::SaveAs);
    }
    if let Some(name) = current.and_then(|p| p.file_name()) {
        ui.weak(format!("project: {}", name.to_string_lossy()));
    }
    ask
}

impl UdpDeskApp {
    /// The View menu's hand-over delay: how long the network thread lets a
    /// packet wait for others before handing the batch to the window.
    fn handover_ui(&mut self, ui: &mut egui::Ui) {
        let now = u64::try_from(self.settings.handover_delay().as_millis()).unwrap_or(2);
        let max = u64::try_from(crate::net::MAX_HANDOVER_DELAY.as_millis()).unwrap_or(100);
        let mut ms = now;
        ui.horizontal(|ui| {
            let label = ui.label("Batch packets for up to").id;
            ui.add(egui::DragValue::new(&mut ms).range(1..=max).suffix(" ms"))
                .labelled_by(label)
                .on_hover_text(
                    "How long the network thread lets a packet wait for others before handing the batch to the window. Replies never wait.",
                );
        });
        if ms != now {
            self.settings.handover_ms = ms;
            self.session
                .set_handover_delay(self.settings.handover_delay());
        }
    }
}

impl UdpDeskApp {
    /// The packet log's memory budget, in MiB.
    fn memory_ui(&mut self, ui: &mut egui::Ui) {
        use crate::settings::{MAX_MEMORY_MIB, MIN_MEMORY_MIB};
        let now = self.settings.memory_budget() >> 20;
        let mut mib = now;
        ui.horizontal(|ui| {
            let label = ui.label("Memory for packets").id;
            ui.add(
                egui::DragValue::new(&mut mib)
                    .range(MIN_MEMORY_MIB..=MAX_MEMORY_MIB)
                    .speed(16)
                    .suffix(" MiB"),
            )
            .labelled_by(label)
            .on_hover_text(
                "How much memory the packet log may use; when it is full the oldest packets leave memory (a live capture keeps every one on disk).",
            );
        });
        if mib != now {
            self.set_memory_mib(mib);
        }
    }

    /// Sets the packet log's memory budget; a smaller one evicts at once.
    pub fn set_memory_mib(&mut self, mib: usize) {
        self.settings.memory_mib = mib;
        let budget = self.settings.memory_budget();
        self.session.store.set_budget(budget);
    }
}
