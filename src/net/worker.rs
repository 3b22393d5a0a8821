//! The network thread: waits on every socket and the command channel at once
//! (a `mio::Poll` with a `Waker`), reads, answers, sends on schedule, and hands
//! what happened to its owner in batches.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::packet::{Direction, EndpointId};

use super::command::{ClientConfig, Command, Event, SendJob, ServerConfig, StopReason};
use super::endpoint::{Client, Endpoint, Job, Peers, Role, Server};
use super::error::NetError;
use super::outbox::Outbox;
use super::reply::{Incoming, Responder};
use super::resolve::{self, Target};
use super::socket;

/// The waker's token; endpoint `n` uses token `n + 1`.
pub const WAKER: Token = Token(0);
/// Datagrams read from one socket per wake-up before others get a turn.
const READ_BUDGET: usize = 1024;
/// Datagrams a send job may send per turn when its interval is zero.
const BURST: usize = 256;

/// A finished name lookup for a client's send job.
pub struct Resolved {
    id: EndpointId,
    job: SendJob,
    generation: u64,
    result: Result<Vec<SocketAddr>, NetError>,
}

/// The network thread's state.
pub struct Worker {
    poll: Poll,
    waker: Arc<Waker>,
    commands: Receiver<Command>,
    events: Sender<Event>,
    wake: Box<dyn Fn() + Send>,
    resolved_tx: Sender<Resolved>,
    resolved_rx: Receiver<Resolved>,
    endpoints: HashMap<EndpointId, Endpoint>,
    /// Endpoints whose sockets may hold more datagrams.
    ready: BTreeSet<EndpointId>,
    /// Bumped by every `Send` so a late lookup for a replaced job is ignored.
    generation: HashMap<EndpointId, u64>,
    out: Outbox,
    buf: Vec<u8>,
}

impl Worker {
    /// A worker that will serve `commands` and report to `events`.
    pub fn new(
        poll: Poll,
        waker: Arc<Waker>,
        commands: Receiver<Command>,
        events: Sender<Event>,
        wake: Box<dyn Fn() + Send>,
    ) -> Worker {
        let (resolved_tx, resolved_rx) = crossbeam_channel::unbounded();
        Worker {
            poll,
            waker,
            commands,
            events,
            wake,
            resolved_tx,
            resolved_rx,
            endpoints: HashMap::new(),
            ready: BTreeSet::new(),
            generation: HashMap::new(),
            out: Outbox::default(),
            buf: vec![0; super::command::MAX_DATAGRAM],
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
                self.flush();
                return;
            }
            for event in &events {
                if event.token() != WAKER
                    && let Ok(id) = u32::try_from(event.token().0 - 1)
                {
                    self.ready.insert(EndpointId(id));
                }
            }
            if !self.take_commands() {
                return;
            }
            self.take_lookups();
            self.read_ready();
            self.run_jobs();
            self.flush();
        }
    }

    /// How long the poll may sleep: not at all when sockets hold more data,
    /// until the next scheduled datagram, or until something happens.
    fn timeout(&self) -> Option<Duration> {
        if !self.ready.is_empty() {
            return Some(Duration::ZERO);
        }
        let now = Instant::now();
        self.endpoints
            .values()
            .filter_map(|e| match &e.role {
                Role::Client(Client { job: Some(job), .. }) => Some(job.next_at),
                _ => None,
            })
            .min()
            .map(|at| at.saturating_duration_since(now))
    }

    fn flush(&mut self) {
        let mut dirty: Vec<Event> = Vec::new();
        for ep in self.endpoints.values_mut() {
            if let Role::Server(s) = &mut ep.role
                && s.peers.dirty
            {
                s.peers.dirty = false;
                dirty.push(Event::Peers {
                    id: ep.id,
                    peers: s.peers.snapshot(),
                });
            }
        }
        for e in dirty {
            self.out.push(e);
        }
        if self.out.is_empty() {
            return;
        }
        for event in self.out.take() {
            // The owner may be gone already; then there is no one left to tell.
            if self.events.send(event).is_err() {
                break;
            }
        }
        (self.wake)();
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
                            s.quit_word = quit_word;
                        }
                    }
                    (_, Err(e)) => self.out.fail(Some(id), e),
                    _ => self.out.fail(Some(id), unknown("server", id)),
                }
            }
            Command::OpenClient { id, config } => self.open_client(id, config),
            Command::Send { id, job } => self.start_job(id, job),
            Command::StopSending { id } => {
                *self.generation.entry(id).or_default() += 1;
                if let Some(Endpoint {
                    role: Role::Client(c),
                    ..
                }) = self.endpoints.get_mut(&id)
                    && let Some(job) = c.job.take()
                {
                    self.out.push(Event::SendDone { id, sent: job.sent });
                }
            }
            Command::Reply { id, peer, payload } => self.reply(id, peer, &payload),
            Command::Close { id } => {
                if self.endpoints.contains_key(&id) {
                    self.close(id, StopReason::Closed);
                } else {
                    self.out.fail(Some(id), unknown("endpoint", id));
                }
            }
        }
    }

    fn register(&mut self, id: EndpointId, sock: &socket2::Socket) -> Result<(), NetError> {
        self.poll
            .registry()
            .register(
                &mut SourceFd(&sock.as_raw_fd()),
                Token(id.0 as usize + 1),
                Interest::READABLE,
            )
            .map_err(|e| NetError::io("cannot watch the socket", &e))
    }

    fn start_server(&mut self, id: EndpointId, config: ServerConfig) {
        if self.endpoints.contains_key(&id) {
            self.out
                .fail(Some(id), NetError::DuplicateId { id: id.to_string() });
            return;
        }
        let started = Responder::new(&config.reply, config.encoding).and_then(|responder| {
            let sock = socket::bind(config.bind, &config.options)?;
            let local = socket::local_addr(&sock)?;
            self.register(id, &sock)?;
            Ok((responder, sock, local))
        });
        match started {
            Ok((responder, sock, local)) => {
                self.endpoints.insert(
                    id,
                    Endpoint {
                        id,
                        socket: Some(sock),
                        local: Some(local),
                        encoding: config.encoding,
                        options: config.options,
                        role: Role::Server(Server {
                            responder,
                            quit_word: config.quit_word.filter(|w| !w.is_empty()),
                            received: 0,
                            peers: Peers::default(),
                        }),
                    },
                );
                self.out.push(Event::Started { id, local });
            }
            Err(e) => self.out.fail(Some(id), e),
        }
    }

    fn open_client(&mut self, id: EndpointId, config: ClientConfig) {
        if self.endpoints.contains_key(&id) {
            self.out
                .fail(Some(id), NetError::DuplicateId { id: id.to_string() });
            return;
        }
        let mut ep = Endpoint {
            id,
            socket: None,
            local: None,
            encoding: config.encoding,
            options: config.options,
            role: Role::Client(Client {
                fixed_bind: config.bind,
                job: None,
            }),
        };
        if let Some(bind) = config.bind
            && let Err(e) = self.bind_client(&mut ep, bind)
        {
            self.out.fail(Some(id), e);
            return;
        }
        self.endpoints.insert(id, ep);
    }

    /// Binds (or rebinds) a client's socket and tells the owner where.
    fn bind_client(&mut self, ep: &mut Endpoint, addr: SocketAddr) -> Result<(), NetError> {
        let sock = socket::bind(addr, &ep.options)?;
        let local = socket::local_addr(&sock)?;
        self.register(ep.id, &sock)?;
        if let Some(old) = ep.socket.take() {
            let _gone = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&old.as_raw_fd()));
        }
        ep.socket = Some(sock);
        ep.local = Some(local);
        self.out.push(Event::Started { id: ep.id, local });
        Ok(())
    }

    fn start_job(&mut self, id: EndpointId, job: SendJob) {
        let generation = {
            let g = self.generation.entry(id).or_default();
            *g += 1;
            *g
        };
        let Some(Endpoint {
            role: Role::Client(client),
            ..
        }) = self.endpoints.get_mut(&id)
        else {
            self.out.fail(Some(id), unknown("client", id));
            return;
        };
        if let Some(old) = client.job.take() {
            self.out.push(Event::SendDone { id, sent: old.sent });
        }
        if job.payloads.is_empty() {
            self.out.fail(
                Some(id),
                NetError::Io {
                    context: "nothing to send".to_owned(),
                    message: "type a message first".to_owned(),
                },
            );
            return;
        }
        match resolve::parse_target(&job.target) {
            Ok(Target::Ready(addrs)) => self.begin_job(id, job, &addrs),
            Ok(Target::Lookup { host, port }) => {
                let tx = self.resolved_tx.clone();
                let waker = Arc::clone(&self.waker);
                let spawned = std::thread::Builder::new()
                    .name("udpdesk-resolve".to_owned())
                    .spawn(move || {
                        let result = resolve::lookup(&host, port);
                        if tx
                            .send(Resolved {
                                id,
                                job,
                                generation,
                                result,
                            })
                            .is_ok()
                        {
                            let _woken = waker.wake();
                        }
                    });
                if let Err(e) = spawned {
                    self.out
                        .fail(Some(id), NetError::io("cannot start a name lookup", &e));
                }
            }
            Err(e) => self.out.fail(Some(id), e),
        }
    }

    fn take_lookups(&mut self) {
        while let Ok(done) = self.resolved_rx.try_recv() {
            if self.generation.get(&done.id) != Some(&done.generation) {
                continue;
            }
            match done.result {
                Ok(addrs) => self.begin_job(done.id, done.job, &addrs),
                Err(e) => self.out.fail(Some(done.id), e),
            }
        }
    }

    /// Starts a job whose target has addresses: binds the client if needed and schedules it.
    fn begin_job(&mut self, id: EndpointId, job: SendJob, addrs: &[SocketAddr]) {
        let Some(mut ep) = self.endpoints.remove(&id) else {
            self.out.fail(Some(id), unknown("client", id));
            return;
        };
        let prepared = self.prepare_job(&mut ep, job, addrs);
        self.endpoints.insert(id, ep);
        match prepared {
            // Start at once, so a send right behind this one cannot replace it unsent.
            Ok(()) => self.run_job(id),
            Err(e) => self.out.fail(Some(id), e),
        }
    }

    fn prepare_job(
        &mut self,
        ep: &mut Endpoint,
        job: SendJob,
        addrs: &[SocketAddr],
    ) -> Result<(), NetError> {
        let Role::Client(client) = &ep.role else {
            return Err(unknown("client", ep.id));
        };
        let fixed = client.fixed_bind;
        let target = resolve::choose(addrs, fixed).ok_or_else(|| match (fixed, addrs.first()) {
            (Some(local), Some(&peer)) => NetError::FamilyMismatch { local, peer },
            _ => NetError::Resolve {
                host: job.target.clone(),
                detail: "no usable address".to_owned(),
            },
        })?;
        if let Some(big) = job
            .payloads
            .iter()
            .find(|p| p.len() > super::error::max_payload(&target))
        {
            return Err(NetError::too_large(big.len(), target.is_ipv6()));
        }
        let needs_bind = ep.local.is_none_or(|l| l.is_ipv6() != target.is_ipv6());
        if needs_bind && fixed.is_none() {
            let any = if target.is_ipv6() {
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
            } else {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
            };
            self.bind_client(ep, any)?;
        }
        if let Role::Client(client) = &mut ep.role {
            client.job = Some(Job {
                target,
                payloads: job.payloads,
                count: job.count,
                interval: job.interval,
                index: 0,
                rounds: 0,
                sent: 0,
                next_at: Instant::now(),
            });
        }
        Ok(())
    }

    /// Sends what is due from every client's job.
    fn run_jobs(&mut self) {
        let ids: Vec<EndpointId> = self
            .endpoints
            .values()
            .filter(|e| matches!(e.role, Role::Client(Client { job: Some(_), .. })))
            .map(|e| e.id)
            .collect();
        for id in ids {
            self.run_job(id);
        }
    }

    /// Sends what is due from one client's job, a burst at most.
    fn run_job(&mut self, id: EndpointId) {
        let now = Instant::now();
        let Some(ep) = self.endpoints.get_mut(&id) else {
            return;
        };
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return;
        };
        let Role::Client(client) = &mut ep.role else {
            return;
        };
        let Some(job) = &mut client.job else {
            return;
        };
        let mut abort = None;
        let mut burst = 0;
        while job.next_at <= now && burst < BURST {
            let Some(i) = job.advance() else { break };
            burst += 1;
            match self.out.send(sock, origin, job.target, &job.payloads[i]) {
                Ok(()) => job.sent += 1,
                // Like ping: a closed port is reported, and the job goes on.
                Err(NetError::Unreachable { peer }) => {
                    self.out.fail(Some(id), NetError::Unreachable { peer });
                }
                Err(e) => {
                    abort = Some(e);
                    break;
                }
            }
            job.schedule_next(now);
        }
        if let Some(e) = abort {
            self.out.fail(Some(id), e);
        } else if !job.finished() {
            return;
        }
        let sent = job.sent;
        client.job = None;
        self.out.push(Event::SendDone { id, sent });
    }

    fn reply(&mut self, id: EndpointId, peer: SocketAddr, payload: &[u8]) {
        let Some(
            ep @ Endpoint {
                role: Role::Server(_),
                ..
            },
        ) = self.endpoints.get(&id)
        else {
            self.out.fail(Some(id), unknown("server", id));
            return;
        };
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return;
        };
        if let Err(e) = self.out.send(sock, origin, peer, payload) {
            self.out.fail(Some(id), e);
        }
    }

    /// Reads what waits on every ready socket, up to a budget each.
    fn read_ready(&mut self) {
        let ready: Vec<EndpointId> = std::mem::take(&mut self.ready).into_iter().collect();
        for id in ready {
            if self.read_endpoint(id) {
                self.ready.insert(id);
            }
        }
    }

    /// Reads from one endpoint; true if it may hold more.
    fn read_endpoint(&mut self, id: EndpointId) -> bool {
        let Some(ep) = self.endpoints.get_mut(&id) else {
            return false;
        };
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return false;
        };
        let keep = ep.options.max_datagram.clamp(1, self.buf.len());
        let mut quit = None;
        for _ in 0..READ_BUDGET {
            let got = match socket::recv(sock, &mut self.buf[..keep]) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.out.report_icmp(sock, id);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.out
                        .fail(Some(id), NetError::io("receiving failed", &e));
                    return false;
                }
            };
            let bytes = &self.buf[..got.len];
            let peer = got.peer;
            self.out
                .packet(origin, Direction::In, peer, bytes, got.truncated);
            let Role::Server(server) = &mut ep.role else {
                continue;
            };
            server.received += 1;
            let time = SystemTime::now();
            server.peers.heard(peer, bytes.len(), time);
            let incoming = Incoming {
                bytes,
                peer,
                time,
                seq: server.received,
            };
            if let Some(answer) = server.responder.answer(&incoming)
                && let Err(e) = self.out.send(sock, origin, peer, &answer)
            {
                self.out.fail(Some(id), e);
            }
            if let Some(word) = &server.quit_word
                && is_quit(bytes, word, ep.encoding)
            {
                quit = Some(StopReason::QuitWord {
                    peer,
                    word: word.clone(),
                });
                break;
            }
        }
        if let Some(reason) = quit {
            self.close(id, reason);
            return false;
        }
        true
    }

    fn close(&mut self, id: EndpointId, reason: StopReason) {
        let Some(mut ep) = self.endpoints.remove(&id) else {
            return;
        };
        self.ready.remove(&id);
        if let Some(sock) = ep.socket.take() {
            let _gone = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&sock.as_raw_fd()));
        }
        match &mut ep.role {
            Role::Server(s) if s.peers.dirty => {
                s.peers.dirty = false;
                self.out.push(Event::Peers {
                    id,
                    peers: s.peers.snapshot(),
                });
            }
            Role::Client(Client { job: Some(job), .. }) => {
                self.out.push(Event::SendDone { id, sent: job.sent });
            }
            _ => {}
        }
        self.out.push(Event::Stopped { id, reason });
    }
}

/// The quit word matches the datagram's text, ignoring a trailing line break
/// (what `nc -u` and terminals send after it).
fn is_quit(bytes: &[u8], word: &str, encoding: crate::codec::Encoding) -> bool {
    super::reply::strict_text(bytes, encoding)
        .is_some_and(|text| text.trim_end_matches(['\r', '\n']) == word)
}

fn unknown(what: &'static str, id: EndpointId) -> NetError {
    NetError::UnknownEndpoint {
        what,
        id: id.to_string(),
    }
}
