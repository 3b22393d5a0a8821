//! The window driven as a person drives it, for the egui_kittest tests:
//! click by label, type into fields, wait on the engine's wake-ups with a deadline.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use egui::{Key, Modifiers, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use udpdesk::app::UdpDeskApp;
use udpdesk::packet::Direction;
use udpdesk::settings::Settings;
use udpdesk::ui::server_panel::RunState;

pub const DEADLINE: Duration = Duration::from_secs(15);

pub struct Ui {
    pub h: Harness<'static, UdpDeskApp>,
    pub woken: Receiver<()>,
}

impl Ui {
    /// The app with default settings, except the server on a free port.
    pub fn new() -> Ui {
        let mut settings = Settings::default();
        settings.servers[0].port = "0".into();
        Ui::with(settings)
    }

    pub fn with(settings: Settings) -> Ui {
        Ui::with_fonts(settings, udpdesk::ui::fonts::install)
    }

    /// Like [`Ui::with`], with `fonts` installing the fonts instead of the bundled one alone.
    pub fn with_fonts(settings: Settings, fonts: impl FnOnce(&egui::Context) + 'static) -> Ui {
        let (tx, woken) = crossbeam_channel::unbounded();
        let h = Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .with_context_setup(fonts)
            .build_eframe(move |cc| {
                UdpDeskApp::with_wake(&cc.egui_ctx, settings, move || {
                    let _ = tx.send(());
                })
            });
        Ui { h, woken }
    }

    pub fn app(&self) -> &UdpDeskApp {
        self.h.state()
    }

    /// Runs frames until `done` holds, waking on the engine's news; fails after the deadline.
    pub fn wait_until(&mut self, what: &str, done: impl Fn(&UdpDeskApp) -> bool) {
        let end = Instant::now() + DEADLINE;
        loop {
            self.h.step();
            if done(self.h.state()) {
                self.h.run_ok();
                return;
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            // Nothing new is lost: wake-ups queue in the channel until taken here.
            let _ = self
                .woken
                .recv_timeout(left.min(Duration::from_millis(200)));
        }
    }

    pub fn click(&mut self, label: &str) {
        self.h.get_by_label(label).click();
        self.h.run_ok();
    }

    /// Replaces the text of the `nth` field called `label`.
    pub fn type_into(&mut self, label: &str, nth: usize, text: &str) {
        self.h
            .get_all_by_label(label)
            .nth(nth)
            .expect(label)
            .click();
        self.h.run_ok();
        self.h.key_press_modifiers(Modifiers::COMMAND, Key::A);
        self.h.run_ok();
        self.h
            .get_all_by_label(label)
            .nth(nth)
            .expect(label)
            .type_text(text);
        self.h.run_ok();
    }

    /// Picks `option` in the `nth` combo box called `label`.
    pub fn choose(&mut self, label: &str, nth: usize, option: &str) {
        self.h
            .get_all_by_label(label)
            .filter(|n| n.accesskit_node().role() == Role::ComboBox)
            .nth(nth)
            .expect(label)
            .click();
        self.h.run_ok();
        self.h.get_by_label(option).click();
        self.h.run_ok();
    }

    /// Shows the endpoint called `name` by clicking it in the list (the
    /// table's cells may bear the same name: the list's entry is a button).
    pub fn select(&mut self, name: &str) {
        self.h
            .get_all_by_label(name)
            .find(|n| n.accesskit_node().role() == Role::Button)
            .unwrap_or_else(|| panic!("no endpoint called {name} in the list"))
            .click();
        self.h.run_ok();
    }

    /// Starts the server on show; returns where it listens.
    pub fn start_server(&mut self) -> SocketAddr {
        let i = self.app().settings.selected.index;
        self.click("Start");
        self.wait_until("the server to start", |a| {
            matches!(a.session.servers[i].state(), RunState::Running(_))
        });
        match self.app().session.servers[i].state() {
            RunState::Running(at) => at,
            other => panic!("{other:?}"),
        }
    }

    pub fn count_packets(&self, dir: Direction, endpoint: &str) -> usize {
        let s = &self.app().session;
        s.store
            .views()
            .filter(|p| p.direction == dir && s.name(p.endpoint) == endpoint)
            .count()
    }
}
