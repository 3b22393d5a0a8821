//! The window's runtime model, apart from drawing: the engine handle, the
//! packet store, what the server and client are doing, and the errors to show
//! beside the controls that caused them. It turns the panels' requests into
//! engine commands and the engine's events into state.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::capture::{CaptureSummary, Opened, PacketStore};
use crate::codec;
use crate::net::{Buffers, ClientConfig, Command, Counters, Engine, Event, NetError, PeerInfo};
use crate::packet::EndpointId;
use crate::settings::{ClientForm, ServerForm};

use super::forms::{client_config, reply_mode, send_job, server_config};

/// How long a frame may spend taking events before it draws: enough for tens
/// of thousands of packets, so the window is never more than a frame or two
/// behind, and never long enough to stall a frame.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(4);

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

/// Which control an error belongs beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The bind address or port.
    Address,
    /// The reply text or template.
    Reply,
    /// The manual reply box.
    ManualReply,
    /// The target host and port.
    Target,
    /// The local address of the client.
    LocalBind,
    /// The message editor.
    Message,
    /// The checksum to verify.
    Verify,
    /// Anything else: shown by the Send or Start button.
    General,
}

/// An error to show in red beside a control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Beside what.
    pub field: Field,
    /// What went wrong, for a person.
    pub message: String,
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

impl ClientView {
    /// A send job runs (or waits for its name lookup).
    #[must_use]
    pub fn sending(&self) -> bool {
        self.pending > 0
    }
}

impl ServerView {
    /// Stopped, starting or running.
    #[must_use]
    pub fn state(&self) -> RunState {
        self.state.unwrap_or(RunState::Stopped)
    }

    /// Folds in the peers that changed; a new peer is picked for manual
    /// replies when none is yet.
    fn merge_peers(&mut self, changed: Vec<PeerInfo>) {
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

/// What the client panel shows besides its form.
#[derive(Debug, Default)]
pub struct ClientView {
    /// The open client's id.
    pub id: Option<EndpointId>,
    /// The settings it was opened with (a change reopens it).
    pub config: Option<ClientConfig>,
    /// Its bound address, once bound.
    pub local: Option<SocketAddr>,
    /// Sends handed to the engine and not yet answered by their `SendDone`.
    pub pending: u32,
    /// The last error, beside its control.
    pub error: Option<FieldError>,
    /// The sequence under way, or how the last one ended.
    pub sequence: crate::ui::sequence_panel::SequenceView,
}

/// The live capture as the window shows it.
#[derive(Debug, Default)]
pub struct CaptureView {
    /// The file being written, once the engine has it open.
    pub file: Option<PathBuf>,
    /// Asked for and not yet answered.
    pub starting: bool,
    /// The latest figures of the running capture.
    pub progress: Option<CaptureSummary>,
    /// One line beside the toggle: why a capture failed, or what the last one did.
    pub message: Option<String>,
    /// True when `message` reports a failure.
    pub failed: bool,
}

/// A replay the client is sending.
#[derive(Debug, Clone, Copy)]
struct ReplayRun {
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
    /// The server panel's state.
    pub server: ServerView,
    /// The client panel's state.
    pub client: ClientView,
    /// The relay panel's state.
    pub relay: crate::ui::relay_panel::RelayView,
    /// Endpoint names for the table.
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
    /// A replay under way from the client.
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
    /// The client's replies paired with its requests: RTTs and strangers.
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
            server: ServerView::default(),
            client: ClientView::default(),
            relay: crate::ui::relay_panel::RelayView::default(),
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

    pub(super) fn new_id(&mut self, name: String) -> EndpointId {
        self.next_id += 1;
        let id = EndpointId(self.next_id);
        self.names.insert(id, name);
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
    /// and the settings stay; the server and client start afresh.
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
                self.status = Some("The network engine was restarted".to_owned());
                let delay = self.handover_delay;
                self.set_handover_delay(delay);
            }
            Err(e) => self.engine_failure = Some(format!("cannot restart the engine: {e}")),
        }
    }

    /// Changes how long the engine lets a packet wait for its batch.
    pub fn set_handover_delay(&mut self, delay: Duration) {
        self.handover_delay = delay;
        let _sent = self.command(Command::SetHandoverDelay { delay });
    }

    /// Applies one engine event to the state.
    pub fn handle(&mut self, event: Event) {
        if self.relay_event(&event) {
            return;
        }
        match event {
            Event::Started { id, local, buffers } => {
                if Some(id) == self.server.id {
                    self.server.state = Some(RunState::Running(local));
                    self.server.buffers = Some(buffers);
                    self.server.error = None;
                } else if Some(id) == self.client.id {
                    self.client.local = Some(local);
                }
            }
            Event::Packets { packets, counters } => {
                if self.server.manual_pending
                    && packets.iter().any(|p| {
                        Some(p.endpoint) == self.server.id
                            && p.direction == crate::packet::Direction::Out
                    })
                {
                    // The manual reply went out: later errors are not about it.
                    self.server.manual_pending = false;
                }
                self.counters.extend(counters);
                self.relay_packets(&packets);
                if let Some(last) = packets.last() {
                    self.engine_seq = last.seq;
                }
                let offset = self.seq_offset;
                // Most sessions verify nothing: then no packet is looked at here.
                for p in packets.iter().filter(|p| {
                    !self.verify.is_empty() && p.direction == crate::packet::Direction::In
                }) {
                    if let Some(v) = self.verify.get(&p.endpoint)
                        && v.check(&p.bytes) != crate::codec::Verdict::Good
                    {
                        self.pairing.bad_sum(p.endpoint, p.seq + offset);
                    }
                }
                if let Some(client) = self.client.id {
                    for p in packets.iter().filter(|p| p.endpoint == client) {
                        match p.direction {
                            crate::packet::Direction::Out => {
                                self.pairing.sent(client, p.peer, &p.bytes, p.time);
                            }
                            crate::packet::Direction::In => {
                                let _note = self.pairing.received(
                                    client,
                                    p.seq + offset,
                                    p.peer,
                                    &p.bytes,
                                    p.time,
                                );
                            }
                        }
                    }
                }
                self.store.extend(packets.into_iter().map(|mut p| {
                    p.seq += offset;
                    p
                }));
            }
            Event::Peers {
                id,
                changed,
                unlisted,
            } => {
                if Some(id) == self.server.id {
                    self.server.merge_peers(changed);
                    self.server.unlisted = unlisted;
                }
            }
            Event::SendDone { id, sent } => {
                // A send replaced by a newer one also ends in SendDone: only the
                // last outstanding one means nothing is sending any more.
                if Some(id) == self.client.id {
                    self.client.pending = self.client.pending.saturating_sub(1);
                    if self.client.pending == 0
                        && let Some(run) = self.replay.take()
                    {
                        self.status = Some(format!("replayed {sent} of {} datagrams", run.total));
                    }
                }
            }
            Event::SequenceStep { id, round, step } => {
                if Some(id) == self.client.id {
                    self.client.sequence.at = Some((round, step));
                }
            }
            Event::SequenceDone {
                id,
                end,
                rounds,
                sent,
            } => {
                if Some(id) == self.client.id {
                    let s = &mut self.client.sequence;
                    s.running = false;
                    s.outcome = Some(match end {
                        crate::net::SequenceEnd::Completed => (
                            format!("done: {rounds} rounds, {sent} sent, every expected reply met"),
                            true,
                        ),
                        crate::net::SequenceEnd::TimedOut { round, step } => (
                            format!("step {step} of round {round}: no matching reply in time"),
                            false,
                        ),
                        crate::net::SequenceEnd::Stopped => {
                            (format!("stopped after {rounds} rounds, {sent} sent"), false)
                        }
                        crate::net::SequenceEnd::Failed => {
                            ("failed: see the error".to_owned(), false)
                        }
                    });
                }
            }
            Event::Stopped { id, reason } => {
                if Some(id) == self.server.id {
                    self.server.id = None;
                    self.server.state = Some(RunState::Stopped);
                    self.server.note = match reason {
                        crate::net::StopReason::Closed => None,
                        other => Some(format!("Stopped: {other}")),
                    };
                } else if Some(id) == self.client.id {
                    // Gone (a failed open, or closed): the next send opens a
                    // new one, and a replay it was sending is over.
                    self.replay = None;
                    let error = self.client.error.take();
                    self.client = ClientView {
                        error,
                        ..ClientView::default()
                    };
                }
            }
            Event::Failed { id, error } => self.failed(id, &error),
            Event::EngineFailed { reason } => {
                self.last_error = Some(reason.clone());
                self.engine_failure = Some(reason);
                if self.server.id.take().is_some() {
                    self.server.state = Some(RunState::Stopped);
                    self.server.note = Some("Stopped: the network engine failed".to_owned());
                }
                self.client = ClientView::default();
                self.relay = crate::ui::relay_panel::RelayView::default();
                self.replay = None;
                if self.capture.file.take().is_some() {
                    self.capture.message = Some(
                        "The capture ended with the engine; its file holds what was written"
                            .to_owned(),
                    );
                    self.capture.failed = true;
                }
            }
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
            Event::RelayMapping { .. } | Event::RelayCounters { .. } => {}
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
        }
    }

    fn failed(&mut self, id: Option<EndpointId>, said: &NetError) {
        // Placed by what failed; said with how often.
        let error = said.cause();
        let current = id.is_some() && (id == self.server.id || id == self.client.id);
        if !current && matches!(error, NetError::UnknownEndpoint { .. }) {
            // A command that raced an endpoint's end: the real reason was said already.
            return;
        }
        let message = said.to_string();
        self.last_error = Some(message.clone());
        if id.is_some() && id == self.server.id {
            let field = match error {
                NetError::Template(_) | NetError::Codec(_) => Field::Reply,
                NetError::AddrInUse { .. }
                | NetError::AddrNotAvailable { .. }
                | NetError::PermissionDenied { .. } => Field::Address,
                _ => Field::General,
            };
            let starting = self.server.state() == RunState::Starting;
            if starting {
                // It never started: the id is spent.
                self.server.state = Some(RunState::Stopped);
                self.server.id = None;
            }
            let field = match error {
                NetError::Template(_) | NetError::Codec(_) => Field::Reply,
                _ if starting => field,
                _ if self.server.manual_pending => Field::ManualReply,
                _ => Field::General,
            };
            let message = if !starting && field == Field::Reply {
                format!("{message} (the server keeps answering by its previous rule)")
            } else {
                message
            };
            self.server.manual_pending = false;
            self.server.error = Some(FieldError { field, message });
        } else if id.is_some() && id == self.client.id {
            let field = match error {
                NetError::Resolve { .. } | NetError::BadAddress { .. } => Field::Target,
                NetError::Unreachable { .. } | NetError::FamilyMismatch { .. } => Field::Target,
                NetError::TooLarge { .. } | NetError::Codec(_) => Field::Message,
                NetError::AddrInUse { .. }
                | NetError::AddrNotAvailable { .. }
                | NetError::PermissionDenied { .. }
                    if self.client.local.is_none() =>
                {
                    Field::LocalBind
                }
                _ => Field::General,
            };
            self.client.error = Some(FieldError { field, message });
        }
    }

    /// Starts the server the form describes.
    pub fn start_server(&mut self, form: &ServerForm) {
        self.server.unlisted = 0;
        self.server.note = None;
        let config = match server_config(form) {
            Ok(c) => c,
            Err(error) => {
                self.server.error = Some(error);
                return;
            }
        };
        if let Some(old) = self.server.id.take() {
            // Ignoring a failure: there is nothing left to stop if the engine is gone.
            let _sent = self.command(Command::Close { id: old });
        }
        let verify = match super::forms::verify(&form.verify) {
            Ok(v) => v,
            Err(error) => {
                self.server.error = Some(error);
                return;
            }
        };
        let id = self.new_id("server".to_owned());
        self.set_verify(id, verify);
        self.server.error = None;
        self.server.peers.clear();
        self.server.peer_index.clear();
        self.server.buffers = None;
        self.server.selected_peer = None;
        self.server.id = Some(id);
        self.server.last_id = Some(id);
        self.server.rules_applied = Some((form.rules.clone(), form.encoding));
        self.server.state = Some(RunState::Starting);
        if let Err(message) = self.command(Command::StartServer { id, config }) {
            self.server.state = Some(RunState::Stopped);
            self.server.id = None;
            self.server.error = Some(FieldError {
                field: Field::General,
                message,
            });
        }
    }

    /// Stops the running server.
    pub fn stop_server(&mut self) {
        if let Some(id) = self.server.id {
            let _sent = self.command(Command::Close { id });
        }
    }

    /// Applies the form's reply settings to the running server without restarting it.
    pub fn update_server(&mut self, form: &ServerForm) {
        let Some(id) = self.server.id else { return };
        let reply = reply_mode(form);
        let quit_word = Some(form.quit_word.clone()).filter(|w| !w.is_empty());
        self.server.error = None;
        match super::forms::verify(&form.verify) {
            Ok(v) => self.set_verify(id, v),
            Err(error) => self.server.error = Some(error),
        }
        let _sent = self.command(Command::UpdateServer {
            id,
            reply,
            encoding: form.encoding,
            quit_word,
        });
        let _sent = self.command(Command::SetReplyLimit {
            id,
            limit: super::forms::reply_limit(form),
        });
        self.set_rules(form);
    }

    /// Hands the running server the form's rules (the editor has checked them).
    /// Only a change is sent: setting rules starts their `times` counts over,
    /// which changing the reply limit or the quit word must not do.
    pub fn set_rules(&mut self, form: &ServerForm) {
        let Some(id) = self.server.id else { return };
        let wanted = (form.rules.clone(), form.encoding);
        if self.server.rules_applied.as_ref() == Some(&wanted)
            || crate::net::RuleSet::new(&form.rules, form.encoding).is_err()
        {
            return;
        }
        if self
            .command(Command::SetRules {
                id,
                rules: form.rules.clone(),
            })
            .is_ok()
        {
            self.server.rules_applied = Some(wanted);
        }
    }

    /// Sends the typed manual reply to the selected peer.
    pub fn manual_reply(&mut self, form: &ServerForm) {
        let error = |message: String| {
            Some(FieldError {
                field: Field::ManualReply,
                message,
            })
        };
        let Some(id) = self.server.id else {
            self.server.error = error("start the server first".to_owned());
            return;
        };
        let Some(peer) = self.server.selected_peer else {
            self.server.error = error("pick a peer: nobody has sent anything yet".to_owned());
            return;
        };
        match codec::parse_escaped(&self.server.reply_text, form.encoding) {
            Ok(payload) => {
                self.server.error = None;
                self.server.manual_pending = true;
                let _sent = self.command(Command::Reply { id, peer, payload });
            }
            Err(e) => self.server.error = error(e.to_string()),
        }
    }

    /// Sends what the client form describes.
    pub fn send(&mut self, form: &ClientForm) {
        let job = match send_job(form) {
            Ok(job) => job,
            Err(error) => {
                self.client.error = Some(error);
                return;
            }
        };
        let _sent = self.send_from_client(form, job);
    }

    /// Replays packets (payload and capture time each) to the client's
    /// target, from the client's socket, at `speed`.
    pub fn replay(
        &mut self,
        form: &ClientForm,
        packets: Vec<(Vec<u8>, std::time::SystemTime)>,
        speed: crate::capture::Speed,
    ) {
        let target = match super::forms::target(form) {
            Ok(t) => t,
            Err(error) => {
                self.client.error = Some(error);
                return;
            }
        };
        let times: Vec<_> = packets.iter().map(|(_, t)| *t).collect();
        let total = packets.len() as u64;
        let job = crate::net::SendJob {
            target,
            payloads: packets.into_iter().map(|(b, _)| b).collect(),
            count: 1,
            interval: Duration::ZERO,
            at: crate::capture::timetable(&times, speed),
            fill: Vec::new(),
        };
        let before = self.tally(self.client.id).packets_out;
        if self.send_from_client(form, job) {
            self.replay = Some(ReplayRun { total, before });
        }
    }

    /// How far the replay under way has got: datagrams sent and in all.
    #[must_use]
    pub fn replay_progress(&self) -> Option<(u64, u64)> {
        let run = self.replay.as_ref()?;
        let sent = self
            .tally(self.client.id)
            .packets_out
            .saturating_sub(run.before);
        Some((sent.min(run.total), run.total))
    }

    /// Runs `sequence` from the client to the form's target.
    pub fn run_sequence(&mut self, form: &ClientForm, sequence: &crate::net::Sequence) {
        let target = match super::forms::target(form) {
            Ok(t) => t,
            Err(error) => {
                self.client.error = Some(error);
                return;
            }
        };
        let Some(id) = self.open_client(form) else {
            return;
        };
        if self
            .command(Command::RunSequence {
                id,
                target,
                sequence: sequence.clone(),
            })
            .is_ok()
        {
            self.pairing.new_run(id);
            self.client.sequence = crate::ui::sequence_panel::SequenceView {
                running: true,
                at: None,
                outcome: None,
            };
        }
    }

    /// Hands `job` to the client, opening (or reopening) it as the form says;
    /// false when it could not (the reason is beside the form's field).
    fn send_from_client(&mut self, form: &ClientForm, job: crate::net::SendJob) -> bool {
        if let Some(id) = self.open_client(form)
            && self.command(Command::Send { id, job }).is_ok()
        {
            self.pairing.new_run(id);
            self.client.pending += 1;
            return true;
        }
        false
    }

    /// The client as the form asks for it: kept if only its encoding changed,
    /// reopened otherwise. `None` (with the error shown) if the form is wrong.
    fn open_client(&mut self, form: &ClientForm) -> Option<EndpointId> {
        let checked =
            client_config(form).and_then(|c| super::forms::verify(&form.verify).map(|v| (c, v)));
        let (config, verify) = match checked {
            Ok(c) => c,
            Err(error) => {
                self.client.error = Some(error);
                return None;
            }
        };
        self.client.error = None;
        let same_socket = self
            .client
            .config
            .as_ref()
            .is_some_and(|c| c.bind == config.bind && c.options == config.options);
        match self.client.id {
            Some(id) if same_socket => {
                // Only the encoding changed: keep the socket, so replies still find it.
                if self
                    .client
                    .config
                    .as_ref()
                    .is_some_and(|c| c.encoding != config.encoding)
                {
                    let _sent = self.command(Command::SetEncoding {
                        id,
                        encoding: config.encoding,
                    });
                    self.client.config = Some(config);
                }
            }
            _ => {
                if let Some(old) = self.client.id.take() {
                    let _sent = self.command(Command::Close { id: old });
                }
                let id = self.new_id("client".to_owned());
                self.client = ClientView {
                    id: Some(id),
                    config: Some(config.clone()),
                    ..ClientView::default()
                };
                if self.command(Command::OpenClient { id, config }).is_err() {
                    return None;
                }
            }
        }
        let id = self.client.id?;
        self.set_verify(id, verify);
        Some(id)
    }

    /// Checks `id`'s received datagrams against `verify` from now on (or no longer).
    fn set_verify(&mut self, id: EndpointId, verify: Option<crate::codec::Verify>) {
        match verify {
            Some(v) => self.verify.insert(id, v),
            None => self.verify.remove(&id),
        };
    }

    /// Stops repeated sending.
    pub fn stop_sending(&mut self) {
        if let Some(id) = self.client.id {
            let _sent = self.command(Command::StopSending { id });
        }
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
