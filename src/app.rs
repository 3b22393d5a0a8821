//! The eframe app: saved [`Settings`] plus the runtime [`Session`]. Each frame
//! drains the engine's events (a bounded batch), draws the panels from that
//! state, then applies what the panels asked for.

pub mod charts;
pub mod endpoints;
pub mod forms;
mod menu;
pub mod open;
pub mod pacing;
pub mod project;
pub mod relay;
pub mod restore;
pub mod save;
pub mod session;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui::RichText;
use rust_i18n::t;

use crate::settings::{Settings, Theme};
use crate::ui::chart_strip::{self, ChartAction, Trace};
use crate::ui::client_panel::ClientAction;
use crate::ui::packet_detail::{self, DetailState};
use crate::ui::packet_table::{self, TableAction, TableData, TableState};
use crate::ui::replay_window::{self, ReplayAction, ReplayState};
use crate::ui::rules_editor::RulesState;
use crate::ui::server_panel::ServerAction;
use crate::ui::shortcuts::{self, Pressed};
use crate::ui::status_bar::{self, Rates};

use open::{Loaded, Opener};
use pacing::Pacing;
use save::{Outcome, Purpose, Saver};
use session::{DRAIN_BUDGET, Session};

/// The window's title.
pub const TITLE: &str = "udpdesk — UDP messenger and tester";

/// The whole app.
pub struct UdpDeskApp {
    /// What is remembered between runs.
    pub settings: Settings,
    /// The engine and everything it reported.
    pub session: Session,
    /// The packet table's state.
    pub table: TableState,
    /// The detail view's state.
    pub detail: DetailState,
    /// The Replay window's state.
    pub replay: ReplayState,
    /// The rules editor's check and Try box.
    pub rules: RulesState,
    /// The sequence panel's check.
    pub sequence_state: crate::ui::sequence_panel::SequenceState,
    /// The client whose name is being edited, and the name its sequences
    /// carry until the edit ends with a name of its own.
    pub renaming: Option<(usize, String)>,
    /// The chart strip's samples, taken whether it shows or not (a few a
    /// second), so showing it shows the last minute.
    pub charts: charts::Sampler,
    saver: Saver,
    opener: Opener,
    rates: Rates,
    addresses: Vec<IpAddr>,
    pacing: Arc<Pacing>,
    /// The renderer draws on the CPU (llvmpipe and the like), where each frame is dear.
    cpu_renderer: bool,
}

impl UdpDeskApp {
    /// Builds the app from eframe's creation context: fonts, remembered settings, engine.
    #[must_use]
    pub fn new(cc: &eframe::CreationContext<'_>) -> UdpDeskApp {
        crate::ui::fonts::install(&cc.egui_ctx);
        let stored = cc.storage.and_then(|s| s.get_string(eframe::APP_KEY));
        let file = eframe::storage_dir("udpdesk").map(|d| d.join("app.ron"));
        // The system's language first: the names of a first run's
        // endpoints ("服务器 1") are made while the settings are read.
        crate::i18n::apply(None);
        let (settings, problem) = restore::restore(stored, file.as_deref());
        // Only the window sets the locale: the command line stays English.
        crate::i18n::apply(settings.language);
        let mut app = UdpDeskApp::with_settings(&cc.egui_ctx, settings);
        if let Some(problem) = problem {
            // Said now, in the window's language.
            let message = problem.to_string();
            eprintln!("udpdesk: {message}");
            app.session.last_error = Some(message);
        }
        let (renderer, cpu) = renderer_of(cc);
        app.cpu_renderer = cpu;
        app.apply_redraw_rate();
        eprintln!(
            "udpdesk: drawing with {renderer}{}; at most {} frames a second while traffic flows (View menu)",
            if cpu { ", on the CPU" } else { "" },
            app.redraw_fps()
        );
        app
    }

    /// Like [`UdpDeskApp::new`], with a server started at once as `config` says
    /// (`udpdesk window --serve`); its settings fill the server panel.
    #[must_use]
    pub fn serving(
        cc: &eframe::CreationContext<'_>,
        config: Option<&crate::net::ServerConfig>,
    ) -> UdpDeskApp {
        let mut app = UdpDeskApp::new(cc);
        if let Some(config) = config {
            if app.settings.servers.is_empty() {
                app.add_endpoint(crate::settings::EndpointKind::Server);
            }
            let first = &mut app.settings.servers[0];
            *first = forms::server_form_for(first, config);
            app.session.fit(&app.settings);
            app.select(crate::settings::Selected::default());
            app.apply_server(0, ServerAction::Start);
        }
        app
    }

    /// Builds the app with the given settings (tests start from known ones).
    #[must_use]
    pub fn with_settings(ctx: &egui::Context, settings: Settings) -> UdpDeskApp {
        UdpDeskApp::with_wake(ctx, settings, || {})
    }

    /// Like [`UdpDeskApp::with_settings`], and `also` is called whenever the engine or
    /// a save has news, besides the repaint (tests wait on it instead of sleeping).
    #[must_use]
    pub fn with_wake(
        ctx: &egui::Context,
        settings: Settings,
        also: impl Fn() + Send + Sync + 'static,
    ) -> UdpDeskApp {
        apply_theme(ctx, settings.theme);
        let pacing = Arc::new(Pacing::default());
        let repaint = ctx.clone();
        let paced = Arc::clone(&pacing);
        // A wake-up asks for a frame no sooner than the cap allows: a flood's
        // hundreds of hand-overs a second become a few frames.
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            repaint.request_repaint_after(paced.wait());
            also();
        });
        let engine_wake = Arc::clone(&wake);
        let mut session = Session::new(move || engine_wake(), settings.memory_budget());
        session.set_handover_delay(settings.handover_delay());
        session.fit(&settings);
        let mut app = UdpDeskApp {
            settings,
            session,
            table: TableState {
                following: true,
                ..TableState::default()
            },
            detail: DetailState::default(),
            rules: RulesState::default(),
            sequence_state: crate::ui::sequence_panel::SequenceState::default(),
            renaming: None,
            replay: ReplayState::default(),
            charts: charts::Sampler::default(),
            saver: Saver::new(Arc::clone(&wake)),
            opener: Opener::new(wake),
            rates: Rates::default(),
            addresses: crate::net::local_addresses(),
            pacing,
            cpu_renderer: false,
        };
        app.apply_redraw_rate();
        if let Some(path) = app.settings.project.clone() {
            app.reopen_project(path);
        }
        app
    }

    /// Frames a second at most while traffic flows, as now in force.
    #[must_use]
    pub fn redraw_fps(&self) -> u64 {
        self.settings.redraw.fps(self.cpu_renderer)
    }

    fn apply_redraw_rate(&mut self) {
        self.pacing.set_fps(self.redraw_fps());
    }

    /// Saves the log to `path` in the background; the extension picks the format.
    /// The file dialog ends here too, so tests can hand a path in directly.
    pub fn save_log_to(&mut self, path: PathBuf) {
        let store = &self.session.store;
        let packets: Vec<_> = store.views().map(|v| v.to_packet()).collect();
        self.session.status = Some(format!("saving {} packets…", packets.len()));
        let names = self
            .session
            .names
            .iter()
            .map(|(id, name)| (*id, name.clone()))
            .collect();
        if let Err(e) = self.saver.save_to(path, packets, names) {
            self.session.last_error = Some(e);
        }
    }

    /// True while a dialog or a save is under way.
    #[must_use]
    pub fn saving(&self) -> bool {
        self.saver.busy()
    }

    /// Streams every packet from now on to `path` (the extension picks the
    /// format). The capture dialog ends here too, so tests can hand a path in.
    pub fn start_capture_to(&mut self, path: PathBuf) {
        self.session.start_capture(path);
    }

    /// Opens a capture into the table on a thread of its own (progress and
    /// Cancel show in the status bar). The open dialog and a file dropped on
    /// the window end here too, so tests can hand a path in directly.
    pub fn open_capture_from(&mut self, path: PathBuf) {
        let budget = self.settings.memory_budget();
        if let Err(e) = self.opener.open(path, budget) {
            self.session.last_error = Some(e);
        }
    }

    /// True while a capture is being opened.
    #[must_use]
    pub fn opening(&self) -> bool {
        self.opener.progress().is_some()
    }

    fn poll_open(&mut self) {
        match self.opener.poll() {
            Some(Loaded::Done {
                path,
                store,
                opened,
            }) => {
                self.session.show_capture(store, &opened, &path);
                // The rows on show were worked out over the old log.
                self.table.view = crate::ui::rows::View::default();
                self.table.selected = None;
                self.table.paused_at = None;
                self.table.following = true;
            }
            Some(Loaded::Failed(message)) => self.session.last_error = Some(message),
            Some(Loaded::Cancelled) => {
                self.session.status = Some(t!("app.open_cancelled").into_owned());
            }
            None => {}
        }
    }

    /// Draws the Replay window if open and does what it asks.
    fn replay_ui(&mut self, ctx: &egui::Context) {
        if !self.replay.open {
            return;
        }
        let store = &self.session.store;
        let rows = self.table.view.len(store);
        // While the filter is still looking through the log, the rows shown
        // are not all there yet: no replay of a part.
        let target = if self.table.scanning {
            Err(t!("app.replay_scanning").into_owned())
        } else {
            self.settings
                .clients
                .get(self.settings.client_shown)
                .ok_or_else(|| t!("app.replay_no_client").into_owned())
                .and_then(|form| forms::target(form).map_err(|e| e.message))
        };
        let progress = self.session.replay_progress();
        let action = replay_window::replay_window(
            ctx,
            &mut self.replay,
            rows,
            target.as_deref().map_err(String::as_str),
            progress,
        );
        match action {
            Some(ReplayAction::Start) => {
                let packets: Vec<_> = (0..rows)
                    .filter_map(|row| self.table.view.packet(store, row))
                    .map(|p| (p.bytes.to_vec(), p.time))
                    .collect();
                let speed = self.replay.speed();
                let i = self.settings.client_shown;
                if let Some(form) = self.settings.clients.get(i) {
                    self.session.replay(i, form, packets, speed);
                }
            }
            Some(ReplayAction::Stop) => self.session.stop_sending(self.settings.client_shown),
            None => {}
        }
    }

    /// Feeds the charts when a sample is due: a few times a second at most,
    /// and only in frames that come anyway (it asks for none).
    fn sample_charts(&mut self) {
        let now = self.charts.clock();
        if !self.charts.due(now) {
            return;
        }
        let session = &mut self.session;
        let pairing = &mut session.pairing;
        let rtts: Vec<_> = session
            .clients
            .iter()
            .filter_map(|c| c.id)
            .map(|id| (id, pairing.take_recent_rtts(id)))
            .collect();
        let counters = session.counters.iter().map(|(id, c)| (*id, *c));
        self.charts.sample(now, counters, rtts);
    }

    /// The chart strip, above the detail panel.
    fn chart_strip_ui(&mut self, ui: &mut egui::Ui) {
        if !self.settings.charts {
            return;
        }
        let mut action = None;
        egui::Panel::bottom("charts")
            .resizable(true)
            .default_size(150.0)
            .min_size(100.0)
            .show(ui, |ui| {
                let traces: Vec<Trace<'_>> = self
                    .charts
                    .traces()
                    .map(|(id, rates, rtts)| Trace {
                        name: self.session.name(id),
                        rates,
                        rtts,
                    })
                    .collect();
                action = chart_strip::chart_strip_ui(ui, &traces, self.charts.clock());
            });
        match action {
            Some(ChartAction::Hide) => self.settings.charts = false,
            None => {}
        }
    }

    pub(super) fn ask_path(&mut self, purpose: Purpose) {
        if self.saver.busy() {
            self.session.status = Some(t!("app.dialog_busy").into_owned());
            return;
        }
        if let Err(e) = self.saver.ask_path(purpose) {
            self.session.last_error = Some(e);
        }
    }

    fn poll_save(&mut self) {
        match self.saver.poll() {
            Some(Outcome::Picked(Purpose::SaveLog, path)) => self.save_log_to(path),
            Some(Outcome::Picked(Purpose::Capture, path)) => self.start_capture_to(path),
            Some(Outcome::Picked(Purpose::Open, path)) => self.open_capture_from(path),
            Some(Outcome::Picked(Purpose::OpenProject, path)) => self.open_project_from(path),
            Some(Outcome::Picked(Purpose::SaveProject, path)) => self.save_project_to(path),
            Some(Outcome::Saved(msg)) => {
                self.session.status = Some(msg);
            }
            Some(Outcome::Cancelled(purpose)) => {
                // rfd answers "no file" both for Cancel and when no dialog program exists.
                let what = match purpose {
                    Purpose::SaveLog => t!("app.log_not_saved"),
                    Purpose::Capture => t!("app.capture_not_started"),
                    Purpose::Open | Purpose::OpenProject => t!("app.nothing_opened"),
                    Purpose::SaveProject => t!("app.project_not_saved"),
                };
                self.session.status = Some(t!("app.no_file_chosen", what = what).into_owned());
            }
            Some(Outcome::Failed(msg)) => {
                self.session.status = None;
                self.session.last_error = Some(msg);
            }
            None => {}
        }
    }

    fn apply_table(&mut self, action: TableAction) {
        match action {
            TableAction::Select(seq) => self.table.selected = Some(seq),
            TableAction::Clear => {
                self.session.clear_log();
                self.table.selected = None;
            }
            TableAction::TogglePause => {
                self.table.paused_at = match self.table.paused_at {
                    Some(_) => None,
                    None => Some(
                        self.session
                            .store
                            .len()
                            .checked_sub(1)
                            .and_then(|i| self.session.store.seq(i))
                            .unwrap_or(0),
                    ),
                };
            }
            TableAction::Save => self.ask_path(Purpose::SaveLog),
            TableAction::Open => self.ask_path(Purpose::Open),
            TableAction::Replay => self.replay.open = true,
            TableAction::Capture => self.ask_path(Purpose::Capture),
            TableAction::StopCapture => self.session.stop_capture(),
        }
    }
}

/// What draws the window, and whether it is a CPU renderer (llvmpipe and the
/// like, where each frame is dear).
fn renderer_of(cc: &eframe::CreationContext<'_>) -> (String, bool) {
    if let Some(rs) = &cc.wgpu_render_state {
        let info = rs.adapter.get_info();
        let cpu = info.device_type == eframe::wgpu::DeviceType::Cpu;
        return (format!("wgpu ({}, {:?})", info.name, info.backend), cpu);
    }
    if let Some(gl) = &cc.gl {
        let name = gl_renderer(gl);
        let cpu = ["llvmpipe", "softpipe", "swrast", "SwiftShader", "Software"]
            .iter()
            .any(|s| name.contains(s));
        return (format!("OpenGL ({name})"), cpu);
    }
    ("an unknown renderer".to_owned(), false)
}

/// The OpenGL renderer's name (`GL_RENDERER`), such as "llvmpipe (LLVM 15.0.6, 256 bits)".
#[allow(unsafe_code)]
fn gl_renderer(gl: &eframe::glow::Context) -> String {
    use eframe::glow::HasContext as _;
    // SAFETY: glow marks every GL call unsafe. This one reads a constant string
    // of the context, which eframe has made current before creating the app,
    // and takes no pointers from us.
    unsafe { gl.get_parameter_string(eframe::glow::RENDERER) }
}

fn apply_theme(ctx: &egui::Context, theme: Theme) {
    ctx.set_theme(match theme {
        Theme::Dark => egui::Theme::Dark,
        Theme::Light => egui::Theme::Light,
    });
}

impl eframe::App for UdpDeskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.pacing.frame();
        // Endpoints added to the settings by any road get their views.
        self.session.fit(&self.settings);
        let next = self.pacing.interval();
        if self.session.drain(DRAIN_BUDGET) {
            // More wait: take them at the next frame the cap allows.
            ctx.request_repaint_after(next);
        }
        self.sample_charts();
        self.poll_save();
        self.poll_open();
        let upto = self.table.paused_at;
        self.table.scanning =
            self.table
                .view
                .refresh(&self.session.store, &self.table.filter, upto);
        if self.table.scanning {
            // The filter has more stored packets to look at: go on next frame.
            ctx.request_repaint_after(next);
        }
        if self.rates.update(self.session.totals()) {
            // A shown rate is not zero: look again in a second, so it falls to
            // zero when traffic stops. No traffic, no frames.
            ctx.request_repaint_after(Duration::from_secs(1));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut table_action = None;
        for pressed in shortcuts::pressed(ui.ctx()) {
            match pressed {
                Pressed::Send => self.apply_client(self.settings.client_shown, ClientAction::Send),
                Pressed::Saved(n) if n < self.settings.saved.len() => {
                    self.apply_client(self.settings.client_shown, ClientAction::SendSaved(n));
                }
                Pressed::Saved(_) => {}
                Pressed::Filter => self.table.focus_filter = true,
                Pressed::Save => table_action = Some(TableAction::Save),
                Pressed::Clear => table_action = Some(TableAction::Clear),
            }
        }
        egui::Panel::top("menu").show(ui, |ui| {
            if let Some(a) = self.menu_ui(ui) {
                table_action = Some(a);
            }
        });
        if let Some(reason) = self.session.engine_failure.clone() {
            let mut restart = false;
            egui::Panel::top("engine-failed").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(t!("app.engine_failed", reason = reason))
                            .color(crate::ui::widgets::ERROR_RED)
                            .strong(),
                    );
                    restart = ui.button(t!("app.restart_engine")).clicked();
                });
            });
            if restart {
                self.session.restart_engine();
            }
        }
        let dropped = ui
            .ctx()
            .input(|i| i.raw.dropped_files.first().map(|f| f.path().to_path_buf()));
        if let Some(path) = dropped {
            self.open_capture_from(path);
        }
        egui::Panel::bottom("status").show(ui, |ui| {
            if let Some((path, done)) = self.opener.progress() {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let mut cancel = false;
                ui.horizontal(|ui| {
                    ui.label(t!("app.opening", name = name));
                    ui.add(
                        egui::ProgressBar::new(done)
                            .desired_width(240.0)
                            .show_percentage(),
                    );
                    cancel = ui.button(t!("app.cancel")).clicked();
                });
                if cancel {
                    self.opener.cancel();
                }
            }
            let store = &self.session.store;
            let memory = status_bar::Memory {
                used: store.memory(),
                budget: store.budget(),
                evicted: store.evicted(),
            };
            status_bar::status_bar_ui(
                ui,
                self.session.totals(),
                memory,
                &self.rates,
                self.session.last_error.as_deref(),
                self.session.status.as_deref(),
            );
        });
        let mut endpoint_actions = Vec::new();
        egui::Panel::left("endpoints")
            .resizable(true)
            .default_size(400.0)
            .min_size(320.0)
            .show(ui, |ui| endpoint_actions = self.endpoints_ui(ui));
        egui::Panel::bottom("detail")
            .resizable(true)
            .default_size(230.0)
            .min_size(120.0)
            .show(ui, |ui| {
                let packet = self
                    .table
                    .selected
                    .and_then(|seq| crate::ui::rows::find(&self.session.store, seq));
                let endpoint = packet
                    .as_ref()
                    .map_or("", |p| self.session.name(p.endpoint));
                if let Some(peer) =
                    packet_detail::packet_detail_ui(ui, &mut self.detail, packet.as_ref(), endpoint)
                {
                    self.table.filter.peer = peer;
                }
            });
        self.chart_strip_ui(ui);
        egui::CentralPanel::default().show(ui, |ui| {
            let s = &self.session;
            let data = TableData {
                store: &s.store,
                names: &s.names,
                capture: &s.capture,
                pairing: &s.pairing,
                relays: s
                    .relays
                    .iter()
                    .filter_map(|r| r.id.zip(r.listening))
                    .collect(),
            };
            if let Some(a) = packet_table::table_toolbar_ui(ui, &mut self.table, &data) {
                table_action = Some(a);
            }
            ui.separator();
            if let Some(a) = packet_table::packet_table_ui(ui, &mut self.table, &data) {
                table_action = Some(a);
            }
        });
        for a in endpoint_actions {
            self.apply_endpoint(a);
        }
        if let Some(a) = table_action {
            self.apply_table(a);
        }
        self.replay_ui(&ui.ctx().clone());
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}
