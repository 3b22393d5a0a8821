//! The network thread: waits on every socket and the command channel at once
//! (a `mio::Poll` with a `Waker`), reads, answers, sends on schedule, and hands
//! what happened to its owner in batches.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

/// How often a server's changed peers are told at most: a table a person reads
/// needs no more, and a flood must not send one update per datagram.
const PEERS_EVERY: Duration = Duration::from_millis(100);
/// How often a closing capture is looked at while its writer finishes.
const CLOSING_POLL: Duration = Duration::from_millis(20);
/// Read budgets spent on a socket's queue as it closes (1,024 datagrams each).
const CLOSE_READS: usize = 64;
/// How often the kernel's drop counts are read while traffic flows.
const DROPS_EVERY: Duration = Duration::from_secs(1);
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::capture::{Closing, LiveCapture};
use crate::packet::EndpointId;

use super::command::{Command, Event, StopReason};
use super::endpoint::{Client, Endpoint, Role};
use super::error::NetError;
use super::handover::Handover;
use super::outbox::{IcmpReports, ReplyBatch};
use super::reply::Responder;
use super::socket::RecvBatch;
use super::timer::DeadlineTimer;

/// The poll's tokens: the waker is 0; endpoint `n` (a `u32`) is `n + 1`; a
/// relay's upstream socket in slot `s` is `UPSTREAM | s`, a bit no endpoint's
/// token reaches (on 64-bit targets); the timer is `usize::MAX`, matched
/// first, which no slot reaches (slots stay far below `UPSTREAM`).
pub const WAKER: Token = Token(0);
/// The deadline timer's token, beyond any endpoint's.
const TIMER: Token = Token(usize::MAX);
/// The bit that marks a relay's upstream socket in a token; the rest is its slot.
pub(super) const UPSTREAM: usize = 1 << (usize::BITS - 2);
/// Datagrams read from one socket per wake-up before others get a turn.
pub(super) const READ_BUDGET: usize = 1024;
/// Datagrams a send job may send per turn when its interval is zero.
pub(super) const BURST: usize = 256;

/// Looks a host name up; blocking, so it runs on a thread of its own.
pub type Resolver = Arc<dyn Fn(&str, u16) -> Result<Vec<SocketAddr>, NetError> + Send + Sync>;

pub use super::lookup::{Lookup, Resolved};

/// The network thread's state.
pub struct Worker {
    pub(super) poll: Poll,
    pub(super) waker: Arc<Waker>,
    commands: Receiver<Command>,
    pub(super) resolved_rx: Receiver<Resolved>,
    pub(super) endpoints: HashMap<EndpointId, Endpoint>,
    /// Endpoints whose sockets may hold more datagrams.
    pub(super) ready: BTreeSet<EndpointId>,
    /// Clients waiting for a name lookup, with the lookup's number: a late answer
    /// for a send that was replaced since is ignored.
    pub(super) lookups: HashMap<EndpointId, u64>,
    pub(super) next_lookup: u64,
    /// Requests to the engine's one lookup thread.
    pub(super) lookup_tx: Option<Sender<Lookup>>,
    /// The lookup each client wants, shared with that thread.
    wanted: super::lookup::Wanted,
    /// The record path and the hand-over to the owner.
    pub(super) out: Handover,
    pub(super) icmp: IcmpReports,
    /// When changed peers were last told.
    peers_told: Instant,
    /// When the kernel's drop counts were last read from the socket table.
    drops_read: Instant,
    /// Wakes the poll for the hand-over's and the peer table's deadlines.
    timer: DeadlineTimer,
    /// Buffers for reading many datagrams per system call.
    pub(super) recv: RecvBatch,
    /// Captures whose writers are finishing their files.
    closing: Vec<Closing>,
    /// Which sources are this engine's own servers (no replies to them).
    pub(super) guard: super::guard::LoopGuard,
    /// The automatic replies to one read, sent together.
    pub(super) replies: ReplyBatch,
    /// Which relay and client each upstream socket's token stands for.
    pub(super) relay_slots: super::relay::Slots,
    /// Upstream sockets that may hold datagrams, by slot.
    pub(super) ready_upstreams: BTreeSet<usize>,
    /// Replies a rule delays.
    pub(super) later: super::later::Later,
    /// Failures sending them, said at most once a second per endpoint and kind.
    pub(super) later_failures:
        super::throttle::Throttle<(EndpointId, std::mem::Discriminant<NetError>)>,
}

impl Worker {
    /// A worker that will serve `commands` and report to `events`.
    pub fn new(
        poll: Poll,
        waker: Arc<Waker>,
        commands: Receiver<Command>,
        events: Sender<Event>,
        wake: Box<dyn Fn() + Send>,
        resolver: Resolver,
    ) -> Worker {
        let (resolved_tx, resolved_rx) = crossbeam_channel::unbounded();
        let wanted = super::lookup::Wanted::default();
        let lookup_tx = super::lookup::spawn(
            resolver,
            resolved_tx,
            Arc::clone(&waker),
            Arc::clone(&wanted),
        );
        let timer = DeadlineTimer::new(poll.registry(), TIMER);
        Worker {
            poll,
            waker,
            commands,
            resolved_rx,
            endpoints: HashMap::new(),
            ready: BTreeSet::new(),
            lookups: HashMap::new(),
            next_lookup: 0,
            lookup_tx,
            wanted,
            out: Handover::new(events, wake),
            icmp: IcmpReports::default(),
            peers_told: Instant::now(),
            drops_read: Instant::now(),
            timer,
            recv: RecvBatch::new(super::command::MAX_DATAGRAM),
            closing: Vec::new(),
            guard: super::guard::LoopGuard::new(super::interfaces::own_addresses()),
            replies: ReplyBatch::new(super::socket::RECV_SLOTS),
            relay_slots: super::relay::Slots::default(),
            ready_upstreams: BTreeSet::new(),
            later: super::later::Later::default(),
            later_failures: super::throttle::Throttle::new(Duration::from_secs(1)),
        }
    }

    /// Runs until the command channel closes (the owner dropped its handle).
    pub fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let timeout = self.timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                self.out
                    .fail(None, NetError::io("waiting for sockets failed", &e));
                self.finish_captures();
                self.out.finish(Duration::from_secs(1));
                return;
            }
            for event in &events {
                match event.token() {
                    WAKER => {}
                    TIMER => self.timer.fired(),
                    Token(n) if n & UPSTREAM != 0 => {
                        self.ready_upstreams.insert(n & !UPSTREAM);
                    }
                    Token(n) => {
                        if let Ok(id) = u32::try_from(n - 1) {
                            self.ready.insert(EndpointId(id));
                        }
                    }
                }
            }
            if !self.take_commands() {
                // The owner has gone; the capture file still gets everything.
                self.finish_captures();
                return;
            }
            if self.out.capture_failed() {
                self.stop_capture();
            }
            self.closed_captures();
            self.take_lookups();
            self.read_ready();
            self.read_upstreams();
            self.relay_timers();
            self.send_later();
            self.run_jobs();
            self.run_sequences();
            self.flush();
        }
    }

    /// How long the poll may sleep: not at all when sockets hold more data,
    /// otherwise until the next scheduled datagram, hand-over or peer update,
    /// or until something happens.
    fn timeout(&mut self) -> Option<Duration> {
        if !self.ready.is_empty() || !self.ready_upstreams.is_empty() {
            return Some(Duration::ZERO);
        }
        if !self.closing.is_empty() {
            // A capture writer wakes the poll as it ends, a moment before its
            // thread is seen as finished: look again shortly until it is.
            return Some(CLOSING_POLL);
        }
        let now = Instant::now();
        let jobs = self.endpoints.values().filter_map(|e| match &e.role {
            Role::Client(Client { job: Some(job), .. }) => Some(job.next_at),
            Role::Client(Client {
                sequence: Some(run),
                ..
            }) => run.wake_at(),
            _ => None,
        });
        let peers = (!self.out.blocked()
            && self.endpoints.values().any(|e| match &e.role {
                Role::Server(s) => s.peers.has_changes(),
                Role::Relay(r) => r.changed,
                Role::Client(_) => false,
            }))
        .then_some(self.peers_told + PEERS_EVERY);
        let told = peers
            .into_iter()
            .chain(self.out.deadline())
            .chain(self.relay_deadline())
            .chain(self.later.next_at())
            .min();
        // The hand-over's deadlines go to the timer, armed once per batch;
        // only one already due (or, without a timer, every one) shortens the poll.
        let told = self.timer.arm(told);
        jobs.chain(told)
            .min()
            .map(|at| at.saturating_duration_since(now))
    }

    /// Tells the owner what is due: changed peers (ten times a second at most)
    /// and the waiting batch.
    fn flush(&mut self) {
        let now = Instant::now();
        // While the owner takes nothing, changes gather in the (bounded) peer
        // tables instead of piling up as events.
        if now >= self.peers_told + PEERS_EVERY && !self.out.blocked() {
            let mut told = false;
            for ep in self.endpoints.values_mut() {
                match &mut ep.role {
                    Role::Server(s) if s.peers.has_changes() => {
                        told = true;
                        self.out.push(Event::Peers {
                            id: ep.id,
                            unlisted: s.peers.unlisted(),
                            changed: s.peers.take_changed(),
                        });
                    }
                    Role::Relay(r) if r.changed => {
                        told = true;
                        r.changed = false;
                        self.out.push(Event::RelayCounters {
                            id: ep.id,
                            counters: r.counters,
                        });
                    }
                    _ => {}
                }
            }
            if told {
                self.peers_told = now;
            }
        }
        if now >= self.drops_read + DROPS_EVERY {
            self.read_kernel_drops(None);
            // Once a second while traffic flows: interfaces come and go.
            self.guard.set_local_ips(super::interfaces::own_addresses());
        }
        self.out.capture_progress();
        self.out.flush();
    }

    /// Reads the kernel's drop count of one endpoint's socket, or of all.
    pub(super) fn read_kernel_drops(&mut self, only: Option<EndpointId>) {
        let sockets: Vec<(EndpointId, &socket2::Socket)> = self
            .endpoints
            .values()
            .filter(|ep| only.is_none_or(|id| id == ep.id))
            .filter_map(|ep| ep.socket.as_ref().map(|s| (ep.id, s)))
            .collect();
        for (id, dropped) in super::drops::current(&sockets) {
            self.out.kernel_drops(id, dropped);
        }
        if only.is_none() {
            self.drops_read = Instant::now();
        }
    }

    /// Ends the capture with every endpoint's drop count as it stands; its
    /// writer finishes the file on its own thread and wakes the poll.
    fn stop_capture(&mut self) {
        self.read_kernel_drops(None);
        if let Some(closing) = self.out.stop_capture() {
            self.closing.push(closing);
        }
    }

    /// Tells the owner of each capture whose file is now closed.
    fn closed_captures(&mut self) {
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.closing)
            .into_iter()
            .partition(Closing::done);
        self.closing = waiting;
        for closing in done {
            self.out.push(Event::CaptureStopped {
                summary: closing.summary(),
            });
        }
    }

    /// The thread is ending: every capture is finished before it does (the
    /// owner, if still there, hears of each).
    fn finish_captures(&mut self) {
        self.read_kernel_drops(None);
        if let Some(closing) = self.out.stop_capture() {
            self.closing.push(closing);
        }
        for closing in std::mem::take(&mut self.closing) {
            self.out.push(Event::CaptureStopped {
                summary: closing.summary(),
            });
        }
    }

    /// Notes the lookup a client wants now (older ones are skipped).
    pub(super) fn lookup_wanted(&mut self, id: EndpointId, generation: Option<u64>) {
        if let Ok(mut w) = self.wanted.lock() {
            match generation {
                Some(g) => {
                    w.insert(id, g);
                }
                None => {
                    w.remove(&id);
                }
            }
        }
    }

    /// Starts a capture to `path`; a failing write later wakes the poll so
    /// the owner hears of it at once.
    fn start_capture(&mut self, path: std::path::PathBuf) {
        // A new capture to the running one's own file waits for it to close,
        // or the old writer's last words would land in the new file.
        if self.out.capture_writes_to(&path) {
            self.read_kernel_drops(None);
            if let Some(closing) = self.out.stop_capture() {
                self.out.push(Event::CaptureStopped {
                    summary: closing.summary(),
                });
            }
        }
        let waker = Arc::clone(&self.waker);
        let wake = Box::new(move || {
            let _woken = waker.wake();
        });
        match LiveCapture::start(&path, wake) {
            Ok(live) => {
                let format = live.format();
                if let Some(closing) = self.out.start_capture(live) {
                    self.closing.push(closing);
                }
                self.out.push(Event::CaptureStarted { path, format });
            }
            Err(e) => self.out.push(Event::CaptureFailed {
                path,
                message: e.to_string(),
            }),
        }
    }

    /// Applies every waiting command; false when the owner has gone.
    fn take_commands(&mut self) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(cmd) => self.apply(cmd),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::StartServer { id, config } => self.start_server(id, config),
            Command::UpdateServer {
                id,
                reply,
                encoding,
                quit_word,
            } => {
                let result = Responder::new(&reply, encoding);
                match (self.endpoints.get_mut(&id), result) {
                    (
                        Some(
                            ep @ Endpoint {
                                role: Role::Server(_),
                                ..
                            },
                        ),
                        Ok(responder),
                    ) => {
                        ep.encoding = encoding;
                        if let Role::Server(s) = &mut ep.role {
                            s.responder = responder;
                            s.quit_word = quit_word.filter(|w| !w.is_empty());
                        }
                    }
                    (_, Err(e)) => self.out.fail(Some(id), e),
                    _ => self.out.fail(Some(id), unknown("server", id)),
                }
            }
            Command::OpenClient { id, config } => self.open_client(id, config),
            Command::Send { id, job } => self.start_job(id, job),
            Command::StopSending { id } => self.supersede(id),
            Command::RunSequence {
                id,
                target,
                sequence,
            } => self.start_sequence(id, &target, &sequence),
            Command::SetEncoding { id, encoding } => match self.endpoints.get_mut(&id) {
                Some(Endpoint {
                    role: Role::Client(_),
                    encoding: e,
                    ..
                }) => *e = encoding,
                _ => self.out.fail(Some(id), unknown("client", id)),
            },
            Command::Reply { id, peer, payload } => self.reply(id, peer, &payload),
            Command::SetHandoverDelay { delay } => self.out.set_delay(delay),
            Command::StartCapture { path } => self.start_capture(path),
            Command::SetRules { id, rules } => self.set_rules(id, &rules),
            Command::SetReplyLimit { id, limit } => match self.endpoints.get_mut(&id) {
                Some(Endpoint {
                    role: Role::Server(s),
                    ..
                }) => s.limiter.set(limit),
                _ => self.out.fail(Some(id), unknown("server", id)),
            },
            Command::StopCapture => self.stop_capture(),
            Command::StartRelay { id, config } => self.start_relay(id, config),
            Command::UpdateRelay {
                id,
                rules,
                idle_timeout,
            } => self.update_relay(id, &rules, idle_timeout),
            Command::Inject { id, to, payload } => self.inject(id, to, &payload),
            #[cfg(feature = "fault-injection")]
            Command::Fault(super::command::Fault::Panic) => {
                panic!("a fault injected by a test")
            }
            Command::NameEndpoint { id, name } => self.out.label_endpoint(id, name),
            Command::Close { id } => {
                self.supersede(id);
                if !self.endpoints.contains_key(&id) {
                    self.out.fail(Some(id), unknown("endpoint", id));
                    return;
                }
                // What the socket already holds arrived before the stop: it is
                // read (and counted, and captured) first. A quit word among it
                // ends the endpoint there.
                for _ in 0..CLOSE_READS {
                    if !self.read_endpoint(id) {
                        break;
                    }
                }
                if self.endpoints.contains_key(&id) {
                    self.close(id, StopReason::Closed);
                }
            }
        }
    }

    pub(super) fn register(
        &mut self,
        id: EndpointId,
        sock: &socket2::Socket,
    ) -> Result<(), NetError> {
        self.poll
            .registry()
            .register(
                &mut SourceFd(&sock.as_raw_fd()),
                Token(id.0 as usize + 1),
                Interest::READABLE,
            )
            .map_err(|e| NetError::io("cannot watch the socket", &e))
    }

    pub(super) fn close(&mut self, id: EndpointId, reason: StopReason) {
        // The last word on what the kernel dropped, as the socket goes.
        self.read_kernel_drops(Some(id));
        let Some(mut ep) = self.endpoints.remove(&id) else {
            return;
        };
        self.ready.remove(&id);
        self.later.forget(id);
        self.recv.forget_socket();
        self.guard.remove(id);
        if let Some(sock) = ep.socket.take() {
            let _gone = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&sock.as_raw_fd()));
        }
        match &mut ep.role {
            Role::Server(s) if s.peers.has_changes() => {
                self.out.push(Event::Peers {
                    id,
                    unlisted: s.peers.unlisted(),
                    changed: s.peers.take_changed(),
                });
            }
            Role::Client(Client { job: Some(job), .. }) => {
                self.out.push(Event::SendDone { id, sent: job.sent });
            }
            Role::Client(Client {
                sequence: Some(run),
                ..
            }) => {
                self.out.push(Event::SequenceDone {
                    id,
                    end: super::sequence::SequenceEnd::Stopped,
                    rounds: run.rounds,
                    sent: run.sent,
                });
            }
            Role::Relay(relay) => self.relay_closed(id, relay),
            _ => {}
        }
        self.out.push(Event::Stopped { id, reason });
    }
}

pub(super) fn unknown(what: &'static str, id: EndpointId) -> NetError {
    NetError::UnknownEndpoint {
        what,
        id: id.to_string(),
    }
}
