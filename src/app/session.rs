//! The window's runtime model, apart from drawing: the engine handle, the
//! packet store, what each server, client and relay is doing, and the errors
//! to show beside the controls that caused them. It turns the panels'
//! requests into engine commands and the engine's events into state.

mod client;
mod server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_i18n::t;

use crate::capture::{Opened, PacketStore};
use crate::net::{Command, Counters, Engine, Event};
use crate::packet::{Direction, EndpointId, Packet};
use crate::settings::{EndpointKind, Settings};
use crate::ui::capture_bar::CaptureView;
use crate::ui::client_panel::ClientView;
use crate::ui::relay_panel::RelayView;
use crate::ui::server_panel::{RunState, ServerView};

/// How long a frame may spend taking events before it draws: enough for tens
/// of thousands of packets, so the window is never more than a frame or two
/// behind, and never long enough to stall a frame.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(4);

/// A replay a client is sending.
#[derive(Debug, Clone, Copy)]
struct ReplayRun {
    /// The client sending it.
    id: EndpointId,
    /// Datagrams in it.
    total: u64,
    /// The client's datagrams out before it began.
    before: u64,
}

/// The runtime model.
pub struct Session {
    engine: Result<Engine, String>,
    next_id: u32,
    /// Every packet kept for the table.
    pub store: PacketStore,
    /// Each server panel's state, in the settings' order.
    pub servers: Vec<ServerView>,
    /// Each client panel's state.
    pub clients: Vec<ClientView>,
    /// Each relay panel's state.
    pub relays: Vec<RelayView>,
    /// Endpoint names for the table, as they were when each started.
    pub names: HashMap<EndpointId, String>,
    /// The engine's counters per endpoint: the wire's truth, whatever the table keeps.
    pub counters: HashMap<EndpointId, Counters>,
    /// The counters when the log was last cleared: what is shown counts from there.
    cleared: HashMap<EndpointId, Counters>,
    /// The last error of any kind, for the status bar.
    pub last_error: Option<String>,
    /// A passing message for the status bar (log saved, ...).
    pub status: Option<String>,
    /// The live capture to a file.
    pub capture: CaptureView,
    /// A replay under way from a client.
    replay: Option<ReplayRun>,
    /// What the engine calls after each batch (kept for a restart).
    wake: Arc<dyn Fn() + Send + Sync>,
    /// The hand-over delay asked for (kept for a restart).
    handover_delay: Duration,
    /// Why the engine stopped, when it failed: shown until it is restarted.
    pub engine_failure: Option<String>,
    /// The engine's number of the last packet it handed over.
    engine_seq: u64,
    /// Added to the engine's numbers, so packets after an opened capture's
    /// number on from it (the log's numbers only ever rise).
    seq_offset: u64,
    /// The clients' replies paired with their requests: RTTs and strangers.
    pub pairing: crate::capture::Pairing,
    /// The checksum each endpoint's received datagrams are checked against.
    verify: HashMap<EndpointId, crate::codec::Verify>,
}

impl Session {
    /// A session on a fresh engine that calls `wake` after each batch of events.
    pub fn new(wake: impl Fn() + Send + Sync + 'static, memory_budget: usize) -> Session {
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(wake);
        let engine_wake = Arc::clone(&wake);
        let engine = Engine::spawn(move || engine_wake()).map_err(|e| e.to_string());
        let last_error = engine.as_ref().err().cloned();
        Session {
            engine,
            next_id: 0,
            store: PacketStore::new(memory_budget),
            pairing: crate::capture::Pairing::default(),
            verify: HashMap::new(),
            servers: Vec::new(),
            clients: Vec::new(),
            relays: Vec::new(),
            names: HashMap::new(),
            counters: HashMap::new(),
            cleared: HashMap::new(),
            last_error,
            status: None,
            capture: CaptureView::default(),
            replay: None,
            wake,
            handover_delay: crate::net::DEFAULT_HANDOVER_DELAY,
            engine_failure: None,
            engine_seq: 0,
            seq_offset: 0,
        }
    }

    /// Gives every endpoint in `settings` a view (new ones start stopped).
    /// Views are only ever taken away by [`Session::remove`].
    pub fn fit(&mut self, settings: &Settings) {
        fit(&mut self.servers, settings.servers.len());
        fit(&mut self.clients, settings.clients.len());
        fit(&mut self.relays, settings.relays.len());
    }

    /// Stops endpoint `index` of `kind` and forgets its view; its packets
    /// stay in the log under its name.
    pub fn remove(&mut self, kind: EndpointKind, index: usize) {
        if let [Some(id), _] = self.ids(kind, index) {
            let _sent = self.command(Command::Close { id });
        }
        if index < self.len(kind) {
            match kind {
                EndpointKind::Server => drop(self.servers.remove(index)),
                EndpointKind::Client => drop(self.clients.remove(index)),
                EndpointKind::Relay => drop(self.relays.remove(index)),
            }
        }
    }

    /// How many endpoints of `kind` the session holds.
    #[must_use]
    pub fn len(&self, kind: EndpointKind) -> usize {
        match kind {
            EndpointKind::Server => self.servers.len(),
            EndpointKind::Client => self.clients.len(),
            EndpointKind::Relay => self.relays.len(),
        }
    }

    /// Endpoint `index` of `kind`'s ids: the one running, and (a server's)
    /// the last one that ran, whose packets the table still shows.
    fn ids(&self, kind: EndpointKind, index: usize) -> [Option<EndpointId>; 2] {
        match kind {
            EndpointKind::Server => self
                .servers
                .get(index)
                .map(|v| [v.id, v.last_id])
                .unwrap_or_default(),
            EndpointKind::Client => [self.clients.get(index).and_then(|v| v.id), None],
            EndpointKind::Relay => [self.relays.get(index).and_then(|v| v.id), None],
        }
    }

    /// Renames endpoint `index` of `kind`: the table shows its packets from
    /// this run under the new name.
    pub fn rename(&mut self, kind: EndpointKind, index: usize, name: &str) {
        let ids = self.ids(kind, index);
        for id in ids.into_iter().flatten() {
            self.names.insert(id, name.to_owned());
            // A capture started from now on names it so too.
            let _named = self.command(Command::NameEndpoint {
                id,
                name: name.to_owned(),
            });
        }
    }

    /// Shows an opened capture in place of the log: its packets, its
    /// interfaces' names, counters on show from zero. Packets that arrive
    /// later follow it.
    pub fn show_capture(&mut self, store: PacketStore, opened: &Opened, path: &std::path::Path) {
        let last = store
            .len()
            .checked_sub(1)
            .and_then(|i| store.seq(i))
            .unwrap_or(0);
        self.seq_offset = self.seq_offset.max(last.saturating_sub(self.engine_seq));
        // The interface's own name: the file is named in the status line.
        for (id, name) in &opened.interfaces {
            self.names.insert(*id, name.clone());
        }
        self.store = store;
        self.cleared.clone_from(&self.counters);
        self.status = Some(opened.summary(path));
    }

    /// Starts streaming every packet to `path` (the extension picks the format).
    pub fn start_capture(&mut self, path: PathBuf) {
        if self.command(Command::StartCapture { path }).is_ok() {
            self.capture.starting = true;
            self.capture.message = None;
        }
    }

    /// Ends the live capture.
    pub fn stop_capture(&mut self) {
        let _sent = self.command(Command::StopCapture);
    }

    /// A new endpoint id, shown in the table as `name`.
    pub(super) fn new_id(&mut self, name: &str) -> EndpointId {
        self.next_id += 1;
        let id = EndpointId(self.next_id);
        self.names.insert(id, name.to_owned());
        // Captures name it as the list does; if the engine is gone, the
        // start that follows says so.
        let _named = self.command(Command::NameEndpoint {
            id,
            name: name.to_owned(),
        });
        id
    }

    pub(super) fn command(&mut self, command: Command) -> Result<(), String> {
        let sent = match &self.engine {
            Ok(engine) => engine.send(command).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        if let Err(e) = &sent {
            self.last_error = Some(e.clone());
        }
        sent
    }

    /// Handles waiting events until none is left or `budget` has passed; true if more wait.
    pub fn drain(&mut self, budget: Duration) -> bool {
        let until = Instant::now() + budget;
        loop {
            let event = match &self.engine {
                Ok(engine) => engine.events().try_recv(),
                Err(_) => return false,
            };
            let Ok(event) = event else { return false };
            self.handle(event);
            if Instant::now() >= until {
                return !self.engine.as_ref().is_ok_and(|e| e.events().is_empty());
            }
        }
    }

    /// Hands the engine a command directly (tests inject faults this way).
    #[cfg(feature = "fault-injection")]
    pub fn send_command_for_tests(&mut self, command: Command) {
        let _sent = self.command(command);
    }

    /// Starts a new engine after the old one failed. The log, its counters
    /// and the settings stay; the endpoints start afresh.
    pub fn restart_engine(&mut self) {
        let wake = Arc::clone(&self.wake);
        self.engine = Engine::spawn(move || wake()).map_err(|e| e.to_string());
        match &self.engine {
            Ok(_) => {
                // The new engine numbers from 1: the log's numbers go on rising.
                let last = self
                    .store
                    .len()
                    .checked_sub(1)
                    .and_then(|i| self.store.seq(i))
                    .unwrap_or(0);
                self.seq_offset = last;
                self.engine_seq = 0;
                self.engine_failure = None;
                self.last_error = None;
                self.status = Some(t!("session.engine_restarted").into_owned());
                let delay = self.handover_delay;
                self.set_handover_delay(delay);
            }
            Err(e) => {
                self.engine_failure = Some(t!("session.cannot_restart", error = e).into_owned());
            }
        }
    }

    /// Changes how long the engine lets a packet wait for its batch.
    pub fn set_handover_delay(&mut self, delay: Duration) {
        self.handover_delay = delay;
        let _sent = self.command(Command::SetHandoverDelay { delay });
    }

    /// Applies one engine event to the state.
    pub fn handle(&mut self, event: Event) {
        if self.relay_event(&event) || self.server_event(&event) || self.client_event(&event) {
            return;
        }
        match event {
            Event::Packets { packets, counters } => {
                self.counters.extend(counters);
                self.packets(packets);
            }
            Event::Failed { error, .. } => {
                // An endpoint no panel holds any more (removed, or restarted):
                // its end was said already, unless the engine says otherwise.
                if !matches!(error.cause(), crate::net::NetError::UnknownEndpoint { .. }) {
                    self.last_error = Some(error.to_string());
                }
            }
            Event::EngineFailed { reason } => self.engine_failed(reason),
            Event::CaptureStarted { path, .. } => {
                self.capture = CaptureView {
                    file: Some(path),
                    ..CaptureView::default()
                };
            }
            Event::CaptureFailed { message, .. } => {
                self.capture = CaptureView {
                    message: Some(message),
                    failed: true,
                    ..CaptureView::default()
                };
            }
            Event::CaptureProgress { summary } => self.capture.progress = Some(summary),
            Event::CaptureStopped { summary } => {
                let failed = summary.error.is_some();
                if failed {
                    self.last_error = Some(summary.to_string());
                }
                self.capture = CaptureView {
                    message: Some(summary.to_string()),
                    failed,
                    ..CaptureView::default()
                };
            }
            // Events of endpoints no panel holds any more.
            Event::Started { .. }
            | Event::Peers { .. }
            | Event::SendDone { .. }
            | Event::SequenceStep { .. }
            | Event::SequenceDone { .. }
            | Event::Stopped { .. }
            | Event::RelayMapping { .. }
            | Event::RelayCounters { .. } => {}
        }
    }

    /// A batch of packets: what the panels note of it, then into the store.
    fn packets(&mut self, packets: Vec<Packet>) {
        for server in self.servers.iter_mut().filter(|s| s.manual_pending) {
            if packets
                .iter()
                .any(|p| Some(p.endpoint) == server.id && p.direction == Direction::Out)
            {
                // The manual reply went out: later errors are not about it.
                server.manual_pending = false;
            }
        }
        self.relay_packets(&packets);
        if let Some(last) = packets.last() {
            self.engine_seq = last.seq;
        }
        let offset = self.seq_offset;
        // Most sessions verify nothing: then no packet is looked at here.
        if !self.verify.is_empty() {
            for p in packets.iter().filter(|p| p.direction == Direction::In) {
                if let Some(v) = self.verify.get(&p.endpoint)
                    && v.check(&p.bytes) != crate::codec::Verdict::Good
                {
                    self.pairing.bad_sum(p.endpoint, p.seq + offset);
                }
            }
        }
        self.pair(&packets);
        self.store.extend(packets.into_iter().map(|mut p| {
            p.seq += offset;
            p
        }));
    }

    fn engine_failed(&mut self, reason: String) {
        self.last_error = Some(reason.clone());
        self.engine_failure = Some(reason);
        for server in &mut self.servers {
            if server.id.take().is_some() {
                server.state = Some(RunState::Stopped);
                server.note = Some(t!("session.stopped_engine_failed").into_owned());
            }
        }
        self.clients.fill_with(ClientView::default);
        self.relays.fill_with(RelayView::default);
        self.replay = None;
        if self.capture.file.take().is_some() {
            self.capture.message = Some(t!("session.capture_ended").into_owned());
            self.capture.failed = true;
        }
    }

    /// Checks `id`'s received datagrams against `verify` from now on (or no longer).
    fn set_verify(&mut self, id: EndpointId, verify: Option<crate::codec::Verify>) {
        match verify {
            Some(v) => self.verify.insert(id, v),
            None => self.verify.remove(&id),
        };
    }

    /// One endpoint's counters since the log was last cleared.
    #[must_use]
    pub fn tally(&self, id: Option<EndpointId>) -> Counters {
        let Some(id) = id else {
            return Counters::default();
        };
        let now = self.counters.get(&id).copied().unwrap_or_default();
        match self.cleared.get(&id) {
            Some(base) => now.since(base),
            None => now,
        }
    }

    /// Every endpoint's counters added up, since the log was last cleared.
    #[must_use]
    pub fn totals(&self) -> Counters {
        self.counters
            .keys()
            .map(|id| self.tally(Some(*id)))
            .fold(Counters::default(), |a, b| a.plus(&b))
    }

    /// Empties the table and starts the counters on show from zero.
    pub fn clear_log(&mut self) {
        self.store.clear();
        self.pairing.clear_notes();
        self.cleared.clone_from(&self.counters);
    }

    /// A short name for an endpoint in the table.
    #[must_use]
    pub fn name(&self, id: EndpointId) -> &str {
        self.names.get(&id).map_or("?", String::as_str)
    }
}

/// Grows `views` to `len` with fresh ones.
fn fit<T: Default>(views: &mut Vec<T>, len: usize) {
    if views.len() < len {
        views.resize_with(len, T::default);
    }
}
