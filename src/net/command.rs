//! The engine's vocabulary: the commands its owner sends in, the events it
//! sends back, and the settings of each endpoint.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::capture::{CaptureSummary, LogFormat};
use crate::codec::Encoding;
use crate::packet::{EndpointId, Packet};

use super::counters::Counters;
use super::error::NetError;
use super::limit::ReplyLimit;
use super::relay::{InjectTo, MappingChange, RelayConfig, RelayCounters, RelayRule};
use super::reply::ReplyMode;
use super::rules::Rule;
use super::sequence::{Sequence, SequenceEnd};

/// Default `SO_RCVBUF` request: the default kernel buffer, not the code, is the
/// first limit on a busy loopback (a 4 MiB buffer nearly doubled the sustained rate).
pub const DEFAULT_RECV_BUFFER: usize = 4 * 1024 * 1024;

/// Default `SO_SNDBUF` request: room for a burst of replies or a fast send job.
pub const DEFAULT_SEND_BUFFER: usize = 1024 * 1024;

/// The largest datagram payload any socket can receive; our buffers hold this much.
pub const MAX_DATAGRAM: usize = 65_535;

/// Socket settings shared by servers and clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOptions {
    /// Allow sending to broadcast addresses (`SO_BROADCAST`).
    pub broadcast: bool,
    /// Join a multicast group, and the TTL / loopback / interface for sending to one.
    pub multicast: Option<Multicast>,
    /// The receive buffer size to ask the kernel for (`SO_RCVBUF`); 0 keeps the system default.
    pub recv_buffer: usize,
    /// The send buffer size to ask the kernel for (`SO_SNDBUF`); 0 keeps the system default.
    pub send_buffer: usize,
    /// How many bytes of each datagram to keep; a longer one is flagged `truncated`.
    pub max_datagram: usize,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            broadcast: false,
            multicast: None,
            recv_buffer: DEFAULT_RECV_BUFFER,
            send_buffer: DEFAULT_SEND_BUFFER,
            max_datagram: MAX_DATAGRAM,
        }
    }
}

/// Multicast settings of a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multicast {
    /// The group to join (224.0.0.0/4 or ff00::/8); `None` only sets the sending options.
    pub group: Option<IpAddr>,
    /// IPv4: the interface address to join on and send from (`None`: the kernel's choice).
    pub interface_v4: Option<std::net::Ipv4Addr>,
    /// IPv6: the interface index to join on and send from (0: the kernel's choice).
    pub interface_v6: u32,
    /// Hop limit of datagrams sent to a group.
    pub ttl: u32,
    /// Whether our own datagrams sent to a group come back to this host.
    pub loopback: bool,
}

impl Default for Multicast {
    fn default() -> Self {
        Multicast {
            group: None,
            interface_v4: None,
            interface_v6: 0,
            ttl: 1,
            loopback: true,
        }
    }
}

/// How a server is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port (reported in [`Event::Started`]).
    pub bind: SocketAddr,
    /// How each datagram is answered when no rule matches.
    pub reply: ReplyMode,
    /// Reply rules, asked in order before the reply mode.
    pub rules: Vec<Rule>,
    /// How received text is decoded and replies are encoded.
    pub encoding: Encoding,
    /// A datagram whose text is this word gets its answer, then the server stops.
    pub quit_word: Option<String>,
    /// Socket settings.
    pub options: SocketOptions,
    /// Automatic replies allowed a second, a peer and in all.
    pub reply_limit: ReplyLimit,
}

impl ServerConfig {
    /// An echo server on `bind` in UTF-8 with default socket settings.
    #[must_use]
    pub fn new(bind: SocketAddr) -> Self {
        ServerConfig {
            bind,
            reply: ReplyMode::Echo,
            rules: Vec::new(),
            encoding: Encoding::Utf8,
            quit_word: None,
            options: SocketOptions::default(),
            reply_limit: ReplyLimit::default(),
        }
    }
}

/// How a client is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The local address to bind; `None` binds a free port of the target's family at the first send.
    pub bind: Option<SocketAddr>,
    /// How replies are decoded.
    pub encoding: Encoding,
    /// Socket settings.
    pub options: SocketOptions,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            bind: None,
            encoding: Encoding::Utf8,
            options: SocketOptions::default(),
        }
    }
}

/// What a client sends: a list of payloads, sent in order, `count` times over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendJob {
    /// Where to: `host:port`, `[v6]:port` or `ip:port`; host names are resolved off the engine thread.
    pub target: String,
    /// The datagrams of one round, in order (seed 001 sends three names).
    pub payloads: Vec<Vec<u8>>,
    /// How many rounds; 0 repeats until [`Command::StopSending`].
    pub count: u64,
    /// The pause between two rounds; the datagrams of one round go back to back,
    /// as a batch does. Zero sends every round back to back.
    pub interval: Duration,
    /// When each payload goes, counted from the job's start (a replay keeps a
    /// capture's timing so); empty for back to back. With it, one round goes.
    pub at: Vec<Duration>,
    /// Payloads made afresh for every datagram from a template (`{seq}`,
    /// `{time}`, checksums…), by index into `payloads`; that payload holds one
    /// filling, for the size check.
    pub fill: Vec<(usize, crate::codec::Template)>,
}

impl SendJob {
    /// One datagram, once.
    #[must_use]
    pub fn once(target: impl Into<String>, payload: Vec<u8>) -> Self {
        SendJob {
            target: target.into(),
            payloads: vec![payload],
            count: 1,
            interval: Duration::ZERO,
            at: Vec::new(),
            fill: Vec::new(),
        }
    }
}

/// What the owner asks of the engine.
#[derive(Debug, Clone)]
pub enum Command {
    /// Bind a server; answers with [`Event::Started`] or [`Event::Failed`].
    StartServer {
        /// The id the owner gives it; later commands and events name it.
        id: EndpointId,
        /// Its settings.
        config: ServerConfig,
    },
    /// Change a running server's reply mode, encoding and quit word without rebinding.
    UpdateServer {
        /// Which server.
        id: EndpointId,
        /// The new reply mode.
        reply: ReplyMode,
        /// The new encoding.
        encoding: Encoding,
        /// The new quit word.
        quit_word: Option<String>,
    },
    /// Replace a server's reply rules. A list with a bad rule is refused with
    /// [`Event::Failed`] naming it, and the server keeps the rules it had.
    SetRules {
        /// Which server.
        id: EndpointId,
        /// The new rules, in order.
        rules: Vec<Rule>,
    },
    /// Change a server's reply rate limit.
    SetReplyLimit {
        /// Which server.
        id: EndpointId,
        /// The new limit.
        limit: ReplyLimit,
    },
    /// Create a client; a fixed `bind` is bound at once, otherwise at the first send.
    OpenClient {
        /// The id the owner gives it.
        id: EndpointId,
        /// Its settings.
        config: ClientConfig,
    },
    /// Send datagrams from a client, replacing any sending still in progress.
    /// Every `Send` is answered by exactly one [`Event::SendDone`], after any failure.
    Send {
        /// Which client.
        id: EndpointId,
        /// What to send, where, how often.
        job: SendJob,
    },
    /// Run a sequence from a client, replacing any sending in progress
    /// ([`Command::StopSending`] stops it). Ends with exactly one [`Event::SequenceDone`].
    RunSequence {
        /// Which client.
        id: EndpointId,
        /// Where to: an IP address and port, or `localhost:PORT`.
        target: String,
        /// The steps, and how many times.
        sequence: Sequence,
    },
    /// Change how a client's packets are decoded, without reopening its socket.
    SetEncoding {
        /// Which client.
        id: EndpointId,
        /// The new encoding.
        encoding: Encoding,
    },
    /// Stop a client's repeated sending.
    StopSending {
        /// Which client.
        id: EndpointId,
    },
    /// Send one datagram from a server to a peer (manual replies, seed 004).
    Reply {
        /// Which server.
        id: EndpointId,
        /// To whom.
        peer: SocketAddr,
        /// The bytes.
        payload: Vec<u8>,
    },
    /// Start a relay; answers with [`Event::Started`] (the listening address)
    /// or [`Event::Failed`]. [`Command::Close`] stops it.
    StartRelay {
        /// The id the owner gives it.
        id: EndpointId,
        /// Its settings.
        config: RelayConfig,
    },
    /// Replace a running relay's rules and idle timeout; its mappings stay.
    UpdateRelay {
        /// Which relay.
        id: EndpointId,
        /// The new rules, in order.
        rules: Vec<RelayRule>,
        /// The new idle timeout (open mappings are measured against it at once).
        idle_timeout: Duration,
    },
    /// Send a datagram by hand through a relay, past its rules, recorded like
    /// relayed traffic.
    Inject {
        /// Which relay.
        id: EndpointId,
        /// Which way, and for which client.
        to: InjectTo,
        /// The bytes.
        payload: Vec<u8>,
    },
    /// Give an endpoint the name capture files show for it (a pcapng
    /// interface, the `endpoint_name` of CSV and JSON Lines) in place of the
    /// engine's `server 127.0.0.1:9999`. Best sent before it starts.
    NameEndpoint {
        /// Which endpoint.
        id: EndpointId,
        /// Its name.
        name: String,
    },
    /// Close an endpoint's socket; answers with [`Event::Stopped`].
    Close {
        /// Which endpoint.
        id: EndpointId,
    },
    /// How long a packet may wait for others to join its batch before it is
    /// handed over (2 ms by default, 100 ms at most). Replies never wait.
    SetHandoverDelay {
        /// The longest wait.
        delay: Duration,
    },
    /// Stream every packet from now on, both directions, to a file (the
    /// extension picks the format), replacing any capture running. Answers
    /// with [`Event::CaptureStarted`] or [`Event::CaptureFailed`].
    StartCapture {
        /// The capture file; created, or emptied if it exists.
        path: PathBuf,
    },
    /// End the capture; answers with [`Event::CaptureStopped`].
    StopCapture,
    /// Break the engine on purpose (tests only: see the `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
    Fault(Fault),
}

/// How a test breaks the engine.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The network thread panics.
    Panic,
}

/// The socket buffer sizes the kernel granted (Linux reports twice what it
/// allows for data, and caps requests at `net.core.rmem_max` / `wmem_max`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buffers {
    /// `SO_RCVBUF` as read back.
    pub recv: usize,
    /// `SO_SNDBUF` as read back.
    pub send: usize,
}

/// What the engine tells its owner.
#[derive(Debug, Clone)]
pub enum Event {
    /// An endpoint's socket is bound (a client may report again when it rebinds for another family).
    Started {
        /// Which endpoint.
        id: EndpointId,
        /// The address really bound (the real port when 0 was asked).
        local: SocketAddr,
        /// The buffer sizes the kernel granted.
        buffers: Buffers,
    },
    /// Datagrams seen since the last hand-over, both directions, in order, with
    /// the counters of every endpoint that changed since. A batch goes when
    /// 1,024 packets wait or shortly after the first (2 ms by default), never
    /// once per datagram. When the owner falls behind, the display copies of
    /// the oldest packets are dropped and counted in [`Counters::not_shown`].
    Packets {
        /// The packets, oldest first; may be empty when only counters changed.
        packets: Vec<Packet>,
        /// Totals since each endpoint opened, as of this hand-over.
        counters: Vec<(EndpointId, Counters)>,
    },
    /// Peers of a server that are new or sent something since the last update;
    /// sent at most ten times a second.
    Peers {
        /// Which server.
        id: EndpointId,
        /// The changed peers, by first contact.
        changed: Vec<PeerInfo>,
        /// Peers heard from that the table (1,024) has no room for.
        unlisted: u64,
    },
    /// A client finished its send job.
    SendDone {
        /// Which client.
        id: EndpointId,
        /// How many datagrams it sent in this job.
        sent: u64,
    },
    /// A sequence moved on; told at most ten times a second, and at every
    /// expect step it starts waiting on.
    SequenceStep {
        /// Which client.
        id: EndpointId,
        /// The round under way, from 1.
        round: u64,
        /// The step under way, from 1.
        step: usize,
    },
    /// A sequence ended.
    SequenceDone {
        /// Which client.
        id: EndpointId,
        /// How.
        end: SequenceEnd,
        /// Rounds completed.
        rounds: u64,
        /// Datagrams it sent.
        sent: u64,
    },
    /// A relay opened an upstream socket for a client, or closed an idle one.
    RelayMapping {
        /// Which relay.
        id: EndpointId,
        /// The client, as the listening socket sees it.
        client: SocketAddr,
        /// The upstream socket that speaks to the server for it.
        upstream_local: SocketAddr,
        /// Opened or expired.
        change: MappingChange,
    },
    /// What a relay has done so far; sent at most ten times a second while
    /// it changes, and once more as it stops (before its [`Event::Stopped`]).
    RelayCounters {
        /// Which relay.
        id: EndpointId,
        /// Totals since it started.
        counters: RelayCounters,
    },
    /// An endpoint's socket is closed.
    Stopped {
        /// Which endpoint.
        id: EndpointId,
        /// Why.
        reason: StopReason,
    },
    /// Every packet from now on goes to this file.
    CaptureStarted {
        /// The capture file.
        path: PathBuf,
        /// Its format.
        format: LogFormat,
    },
    /// A capture could not start (the file could not be created, or its
    /// extension names no format); nothing else changed.
    CaptureFailed {
        /// The file asked for.
        path: PathBuf,
        /// Why, in one line, with what to do.
        message: String,
    },
    /// How a running capture is doing; sent at most once a second, when its
    /// figures changed.
    CaptureProgress {
        /// Packets written and dropped so far.
        summary: CaptureSummary,
    },
    /// A capture ended: asked to, or because writing failed (`summary.error`).
    CaptureStopped {
        /// What it captured and why it stopped.
        summary: CaptureSummary,
    },
    /// The network thread itself failed (a bug): every endpoint is gone.
    /// Packets already handed over stay with the owner; a new engine can be
    /// started.
    EngineFailed {
        /// What failed, in one line.
        reason: String,
    },
    /// Something went wrong; the engine and every other endpoint keep running.
    Failed {
        /// The endpoint concerned, if any.
        id: Option<EndpointId>,
        /// What went wrong, worded for a person.
        error: NetError,
    },
}

/// Why an endpoint stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The owner asked ([`Command::Close`]).
    Closed,
    /// A peer sent the quit word.
    QuitWord {
        /// Who sent it.
        peer: SocketAddr,
        /// The word.
        word: String,
    },
    /// The socket failed beyond repair.
    Error(NetError),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Closed => f.write_str(&rust_i18n::t!("stop.closed")),
            StopReason::QuitWord { peer, word } => {
                f.write_str(&rust_i18n::t!("stop.quit_word", peer = peer, word = word))
            }
            StopReason::Error(e) => f.write_str(&rust_i18n::t!("stop.error", error = e)),
        }
    }
}

/// A peer a server has heard from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its address.
    pub addr: SocketAddr,
    /// Datagrams received from it.
    pub packets: u64,
    /// Bytes received from it.
    pub bytes: u64,
    /// When it was first heard.
    pub first_seen: SystemTime,
    /// When it was last heard.
    pub last_seen: SystemTime,
}
