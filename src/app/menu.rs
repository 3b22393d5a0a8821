//! The menu bar: File (captures, logs, projects), View (theme, charts,
//! language, redraw rate, hand-over delay, memory) and Keys.

use rust_i18n::t;

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
            ui.menu_button(t!("menu.file"), |ui| {
                project = project_menu_ui(ui, self.settings.project.as_deref());
                ui.separator();
                if ui
                    .button(t!("menu.open_capture"))
                    .on_hover_text(t!("menu.open_capture_hover"))
                    .clicked()
                {
                    action = Some(TableAction::Open);
                }
                let ctx = ui.ctx().clone();
                let with = |text: std::borrow::Cow<'static, str>, s| {
                    egui::Button::new(text).shortcut_text(shortcuts::label(&ctx, s))
                };
                if ui
                    .add(with(t!("menu.save_log"), &shortcuts::SAVE))
                    .clicked()
                {
                    action = Some(TableAction::Save);
                }
                let capturing = self.session.capture.file.is_some();
                if !capturing && ui.button(t!("menu.capture_to_file")).clicked() {
                    action = Some(TableAction::Capture);
                }
                if capturing && ui.button(t!("menu.stop_capture")).clicked() {
                    action = Some(TableAction::StopCapture);
                }
                if ui
                    .add(with(t!("menu.clear_log"), &shortcuts::CLEAR))
                    .clicked()
                {
                    action = Some(TableAction::Clear);
                }
                ui.separator();
                if ui.button(t!("menu.quit")).clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button(t!("menu.view"), |ui| {
                let mut theme = self.settings.theme;
                ui.radio_value(&mut theme, Theme::Dark, t!("menu.dark_theme"));
                ui.radio_value(&mut theme, Theme::Light, t!("menu.light_theme"));
                if theme != self.settings.theme {
                    self.settings.theme = theme;
                    super::apply_theme(ui.ctx(), theme);
                }
                ui.checkbox(&mut self.settings.charts, t!("menu.charts"))
                    .on_hover_text(t!("menu.charts_hover"));
                ui.separator();
                crate::i18n::language_menu_ui(ui, &mut self.settings.language);
                ui.separator();
                ui.label(t!("menu.redraw"));
                let mut redraw = self.settings.redraw;
                for rate in RedrawRate::ALL {
                    ui.radio_value(&mut redraw, rate, rate.label());
                }
                if redraw != self.settings.redraw {
                    self.settings.redraw = redraw;
                    self.apply_redraw_rate();
                }
                ui.weak(if self.cpu_renderer {
                    t!("menu.frames_now_cpu", fps = self.redraw_fps())
                } else {
                    t!("menu.frames_now", fps = self.redraw_fps())
                });
                ui.separator();
                self.handover_ui(ui);
                self.memory_ui(ui);
            });
            ui.menu_button(t!("menu.keys"), |ui| {
                let ctx = ui.ctx().clone();
                for (what, s) in [
                    (t!("menu.key_send"), &shortcuts::SEND),
                    (t!("menu.key_saved"), &shortcuts::SAVED[0]),
                    (t!("menu.key_filter"), &shortcuts::FILTER),
                    (t!("menu.key_save"), &shortcuts::SAVE),
                    (t!("menu.key_clear"), &shortcuts::CLEAR),
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
                ui.weak(t!(
                    "menu.send_hint",
                    keys = shortcuts::label(ui.ctx(), &shortcuts::SEND),
                    client = client.name
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
        .button(t!("menu.open_project"))
        .on_hover_text(t!("menu.open_project_hover"))
        .clicked()
    {
        ask = Some(ProjectAsk::Open);
    }
    if ui
        .button(t!("menu.save_project"))
        .on_hover_text(t!("menu.save_project_hover"))
        .clicked()
    {
        ask = Some(ProjectAsk::Save);
    }
    if ui.button(t!("menu.save_project_as")).clicked() {
        ask = Some(ProjectAsk::SaveAs);
    }
    if let Some(name) = current.and_then(|p| p.file_name()) {
        ui.weak(t!("menu.project", name = name.to_string_lossy()));
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
            let label = ui.label(t!("menu.batch")).id;
            ui.add(egui::DragValue::new(&mut ms).range(1..=max).suffix(" ms"))
                .labelled_by(label)
                .on_hover_text(t!("menu.batch_hover"));
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
            let label = ui.label(t!("menu.memory")).id;
            ui.add(
                egui::DragValue::new(&mut mib)
                    .range(MIN_MEMORY_MIB..=MAX_MEMORY_MIB)
                    .speed(16)
                    .suffix(" MiB"),
            )
            .labelled_by(label)
            .on_hover_text(t!("menu.memory_hover"));
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
