//! The eframe app: saved [`Settings`] plus the runtime [`Session`]. Each frame
//! drains the engine's events (a bounded batch), draws the panels from that
//! state, then applies what the panels asked for.

pub mod charts;
pub mod forms;
pub mod open;
pub mod pacing;
pub mod relay;
pub mod restore;
pub mod rows;
pub mod save;
pub mod session;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui::RichText;

use crate::settings::{SavedMessage, Settings, Theme};
use crate::ui::chart_strip::{self, ChartAction, Trace};
use crate::ui::client_panel::{self, ClientAction};
use crate::ui::packet_detail::{self, DetailState};
use crate::ui::packet_table::{self, TableAction, TableState};
use crate::ui::relay_panel::{self, RelayRequest};
use crate::ui::replay_window::{self, ReplayAction, ReplayState};
use crate::ui::rules_editor::{self, RulesEdit, RulesState};
use crate::ui::sequence_panel::{self, SequenceAction};
use crate::ui::server_panel::{self, ServerAction};
use crate::ui::shortcuts::{self, Pressed};
use crate::ui::status_bar::{self, Rates};

use open::{Loaded, Opener};
use pacing::{Pacing, RedrawRate};
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
    pub sequence_state: sequence_panel::SequenceState,
    /// The left panel shows the relay instead of the server and client.
    pub show_relay: bool,
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
        let (settings, problem) = restore::restore(stored, file.as_deref());
        let mut app = UdpDeskApp::with_settings(&cc.egui_ctx, settings);
        if let Some(message) = problem {
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
            app.settings.server = forms::server_form_for(&app.settings.server, config);
            app.apply_server(ServerAction::Start);
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
        let mut app = UdpDeskApp {
            settings,
            session,
            table: TableState {
                following: true,
                ..TableState::default()
            },
            detail: DetailState::default(),
            rules: RulesState::default(),
            sequence_state: sequence_panel::SequenceState::default(),
            replay: ReplayState::default(),
            show_relay: false,
            charts: charts::Sampler::default(),
            saver: Saver::new(Arc::clone(&wake)),
            opener: Opener::new(wake),
            rates: Rates::default(),
            addresses: crate::net::local_addresses(),
            pacing,
            cpu_renderer: false,
        };
        app.apply_redraw_rate();
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
                self.table.view = crate::app::rows::View::default();
                self.table.selected = None;
                self.table.paused_at = None;
                self.table.following = true;
            }
            Some(Loaded::Failed(message)) => self.session.last_error = Some(message),
            Some(Loaded::Cancelled) => {
                self.session.status = Some("Opening cancelled; the log is as it was".to_owned());
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
            Err("the filter is still looking through the log".to_owned())
        } else {
            forms::target(&self.settings.client).map_err(|e| e.message)
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
                self.session.replay(&self.settings.client, packets, speed);
            }
            Some(ReplayAction::Stop) => self.session.stop_sending(),
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
        let rtts = session
            .client
            .id
            .map(|id| (id, session.pairing.take_recent_rtts(id)));
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

    fn ask_path(&mut self, purpose: Purpose) {
        if self.saver.busy() {
            self.session.status = Some("A file dialog or a save is already under way".to_owned());
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
            Some(Outcome::Saved(msg)) => {
                self.session.status = Some(msg);
            }
            Some(Outcome::Cancelled(purpose)) => {
                // rfd answers "no file" both for Cancel and when no dialog program exists.
                let what = match purpose {
                    Purpose::SaveLog => "Log not saved",
                    Purpose::Capture => "Capture not started",
                    Purpose::Open => "Nothing opened",
                };
                self.session.status = Some(format!(
                    "{what}: no file chosen (if no dialog appeared, install zenity or an XDG desktop portal)"
                ));
            }
            Some(Outcome::Failed(msg)) => {
                self.session.status = None;
                self.session.last_error = Some(msg);
            }
            None => {}
        }
    }

    fn apply_server(&mut self, action: ServerAction) {
        let form = &self.settings.server;
        match action {
            ServerAction::Start => self.session.start_server(form),
            ServerAction::Stop => self.session.stop_server(),
            ServerAction::Update => self.session.update_server(form),
            ServerAction::Reply => self.session.manual_reply(form),
        }
    }

    fn apply_relay(&mut self, request: RelayRequest) {
        let form = &self.settings.relay;
        match request {
            RelayRequest::Start => self.session.start_relay(form),
            RelayRequest::Stop => self.session.stop_relay(),
            RelayRequest::ApplyRules => self.session.update_relay(form),
            RelayRequest::Inject => self.session.inject(form),
        }
    }

    fn apply_client(&mut self, action: ClientAction) {
        match action {
            ClientAction::Send => self.session.send(&self.settings.client),
            ClientAction::Stop => self.session.stop_sending(),
            ClientAction::Convert(mode) => {
                match forms::convert_message(&mut self.settings.client, mode) {
                    Ok(()) => self.session.client.error = None,
                    Err(e) => self.session.client.error = Some(e),
                }
            }
            ClientAction::SaveMessage => {
                let form = &self.settings.client;
                self.settings.saved.push(SavedMessage {
                    name: client_panel::saved_name(form),
                    message: form.message.clone(),
                    mode: form.mode,
                    encoding: form.encoding,
                    per_line: form.per_line,
                });
            }
            ClientAction::SendSaved(i) => {
                if let Some(m) = self.settings.saved.get(i) {
                    let mut form = self.settings.client.clone();
                    form.message.clone_from(&m.message);
                    form.mode = m.mode;
                    form.encoding = m.encoding;
                    form.per_line = m.per_line;
                    form.count = 1;
                    self.session.send(&form);
                }
            }
            ClientAction::LoadSaved(i) => {
                if let Some(m) = self.settings.saved.get(i) {
                    let form = &mut self.settings.client;
                    form.message.clone_from(&m.message);
                    form.mode = m.mode;
                    form.encoding = m.encoding;
                    form.per_line = m.per_line;
                }
            }
            ClientAction::DeleteSaved(i) => {
                if i < self.settings.saved.len() {
                    self.settings.saved.remove(i);
                }
            }
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

    fn menu_ui(&mut self, ui: &mut egui::Ui) -> Option<TableAction> {
        let mut action = None;
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
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
                    apply_theme(ui.ctx(), theme);
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
            ui.weak(format!(
                "{} sends the client's message",
                shortcuts::label(ui.ctx(), &shortcuts::SEND)
            ));
        });
        action
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

fn apply_theme(ctx: &egui::Context, theme: Theme) {
    ctx.set_theme(match theme {
        Theme::Dark => egui::Theme::Dark,
        Theme::Light => egui::Theme::Light,
    });
}

impl eframe::App for UdpDeskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.pacing.frame();
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
                Pressed::Send => self.apply_client(ClientAction::Send),
                Pressed::Saved(n) if n < self.settings.saved.len() => {
                    self.apply_client(ClientAction::SendSaved(n));
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
                        RichText::new(format!(
                            "{reason}. The servers and clients stopped; the packets already captured are kept."
                        ))
                        .color(crate::ui::widgets::ERROR_RED)
                        .strong(),
                    );
                    restart = ui.button("Restart engine").clicked();
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
                    ui.label(format!("Opening {name}…"));
                    ui.add(
                        egui::ProgressBar::new(done)
                            .desired_width(240.0)
                            .show_percentage(),
                    );
                    cancel = ui.button("Cancel").clicked();
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
        let mut server_action = None;
        let mut client_action = None;
        let mut relay_request = None;
        egui::Panel::left("endpoints")
            .resizable(true)
            .default_size(400.0)
            .min_size(320.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.show_relay, false, "Server & client");
                    let running = if self.session.relay.active() {
                        " ●"
                    } else {
                        ""
                    };
                    ui.selectable_value(&mut self.show_relay, true, format!("Relay{running}"));
                });
                ui.separator();
                if self.show_relay {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        let tally = self.session.tally(self.session.relay.id);
                        relay_request = ui
                            .push_id("relay-panel", |ui| {
                                relay_panel::relay_panel_ui(
                                    ui,
                                    &mut self.settings.relay,
                                    &mut self.session.relay,
                                    tally,
                                    std::time::Instant::now(),
                                )
                            })
                            .inner;
                    });
                    if !self.session.relay.mappings.is_empty() {
                        // The idle seconds count on.
                        ui.ctx()
                            .request_repaint_after(std::time::Duration::from_secs(1));
                    }
                    return;
                }
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let tally = self.session.tally(self.session.server.last_id);
                    let held = self
                        .session
                        .server
                        .last_id
                        .map(|id| self.session.store.held(id))
                        .unwrap_or_default();
                    let bad_sums = self
                        .session
                        .server
                        .last_id
                        .map_or(0, |id| self.session.pairing.bad_sums(id));
                    server_action = server_panel::server_panel_ui(
                        ui,
                        &mut self.settings.server,
                        &mut self.session.server,
                        tally,
                        held,
                        &self.addresses,
                        bad_sums,
                    );
                    let edit = ui.push_id("rules", |ui| {
                        rules_editor::rules_editor_ui(
                            ui,
                            &mut self.settings.server.rules,
                            self.settings.server.encoding,
                            &mut self.rules,
                        )
                    });
                    if let Some(RulesEdit::Apply) = edit.inner {
                        self.session.set_rules(&self.settings.server);
                    }
                    ui.separator();
                    let tally = self.session.tally(self.session.client.id);
                    let figures = self
                        .session
                        .client
                        .id
                        .and_then(|id| self.session.pairing.figures(id));
                    // Its own id scope: what the server panel shows above (a
                    // warning, a count) must not change the client's widget ids.
                    client_action = ui
                        .push_id("client-panel", |ui| {
                            client_panel::client_panel_ui(
                                ui,
                                &mut self.settings.client,
                                &self.settings.saved,
                                &self.session.client,
                                tally,
                                figures,
                            )
                        })
                        .inner;
                    let encoding = self.settings.client.encoding;
                    let asked = ui
                        .push_id("sequences", |ui| {
                            sequence_panel::sequence_panel_ui(
                                ui,
                                &mut self.settings.sequences,
                                &mut self.settings.sequence_shown,
                                &self.session.client.sequence,
                                &self.settings.saved,
                                encoding,
                                &mut self.sequence_state,
                            )
                        })
                        .inner;
                    match asked {
                        Some(SequenceAction::Run) => {
                            if let Some(seq) =
                                self.settings.sequences.get(self.settings.sequence_shown)
                            {
                                self.session.run_sequence(&self.settings.client, seq);
                            }
                        }
                        Some(SequenceAction::Stop) => self.session.stop_sending(),
                        None => {}
                    }
                });
            });
        egui::Panel::bottom("detail")
            .resizable(true)
            .default_size(230.0)
            .min_size(120.0)
            .show(ui, |ui| {
                let packet = self
                    .table
                    .selected
                    .and_then(|seq| rows::find(&self.session.store, seq));
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
            if let Some(a) = packet_table::table_toolbar_ui(ui, &mut self.table, &self.session) {
                table_action = Some(a);
            }
            ui.separator();
            if let Some(a) = packet_table::packet_table_ui(ui, &mut self.table, &self.session) {
                table_action = Some(a);
            }
        });
        if let Some(a) = server_action {
            self.apply_server(a);
        }
        if let Some(a) = client_action {
            self.apply_client(a);
        }
        if let Some(r) = relay_request {
            self.apply_relay(r);
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
