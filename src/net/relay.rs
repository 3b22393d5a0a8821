//! The relay: a man-in-the-middle between UDP clients and one server, with
//! rules that drop, delay, duplicate or rewrite what passes. These are its
//! settings and the pure helpers front ends share; the sockets live in
//! `relay/run.rs`, the per-relay state in `relay/state.rs`.

mod run;
mod state;

use std::net::SocketAddr;
use std::time::Duration;

use crate::codec::Encoding;
use crate::packet::{Direction, Packet};

use super::command::SocketOptions;
use super::error::NetError;
use super::matcher::MatchKind;

pub(super) use state::{Relay, Slots};

/// How long a client's mapping lives without traffic either way.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Clients a relay maps at most; datagrams from more are dropped and counted.
pub const MAX_MAPPINGS: usize = 4096;
/// Extra copies a duplicate rule may make of one datagram.
pub const MAX_DUPLICATES: u32 = 100;
/// The longest delay a rule may ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// How a relay is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Where clients send; port 0 picks a free port (reported in `Event::Started`).
    pub listen: SocketAddr,
    /// The server every client's datagrams go to.
    pub upstream: SocketAddr,
    /// How the packets' text is shown, and how rewrite templates are encoded.
    pub encoding: Encoding,
    /// A client's mapping closes after this long without traffic either way.
    pub idle_timeout: Duration,
    /// The first enabled rule that matches a datagram decides its fate; none forwards it.
    pub rules: Vec<RelayRule>,
    /// Settings of the listening socket (upstream sockets take its buffer sizes).
    pub options: SocketOptions,
}

impl RelayConfig {
    /// A relay from `listen` to `upstream` with no rules, in UTF-8.
    #[must_use]
    pub fn new(listen: SocketAddr, upstream: SocketAddr) -> Self {
        RelayConfig {
            listen,
            upstream,
            encoding: Encoding::Utf8,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            rules: Vec::new(),
            options: SocketOptions::default(),
        }
    }
}

/// One rule: which way, which datagrams, and what happens to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRule {
    /// A disabled rule is skipped.
    pub enabled: bool,
    /// The datagrams it looks at.
    pub toward: Toward,
    /// Which of those it takes.
    pub matcher: RuleMatch,
    /// What it does with them.
    pub action: RelayAction,
}

impl RelayRule {
    /// An enabled rule.
    #[must_use]
    pub fn new(toward: Toward, matcher: RuleMatch, action: RelayAction) -> Self {
        RelayRule {
            enabled: true,
            toward,
            matcher,
            action,
        }
    }
}

/// Which way a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Toward {
    /// Client to server.
    #[default]
    Server,
    /// Server back to the client.
    Client,
    /// Either way.
    Both,
}

impl Toward {
    /// True if a datagram going `way` is this rule's.
    #[must_use]
    pub fn covers(self, way: Way) -> bool {
        matches!(
            (self, way),
            (Toward::Both, _) | (Toward::Server, Way::ToServer) | (Toward::Client, Way::ToClient)
        )
    }
}

impl std::str::FromStr for Toward {
    type Err = String;

    /// `server`, `client` or `both`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "server" => Ok(Toward::Server),
            "client" => Ok(Toward::Client),
            "both" => Ok(Toward::Both),
            _ => Err(format!("\"{s}\": use server, client or both")),
        }
    }
}

impl std::fmt::Display for Toward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Toward::Server => "server",
            Toward::Client => "client",
            Toward::Both => "both",
        })
    }
}

/// The way one datagram goes through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Way {
    /// From a client, on to the server.
    ToServer,
    /// From the server, back to a client.
    ToClient,
}

/// Which datagrams a rule takes: a pattern read as its kind says, with the
/// matcher reply rules use (text patterns take escapes and the relay's encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// How the pattern is read.
    pub kind: MatchKind,
    /// What to look for.
    pub pattern: String,
}

impl RuleMatch {
    /// Every datagram.
    #[must_use]
    pub fn any() -> Self {
        RuleMatch::new(MatchKind::Any, "")
    }

    /// `pattern` read as `kind`.
    #[must_use]
    pub fn new(kind: MatchKind, pattern: impl Into<String>) -> Self {
        RuleMatch {
            kind,
            pattern: pattern.into(),
        }
    }
}

/// What a rule does with a datagram it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayAction {
    /// Pass it on unchanged (a rule that shields a datagram from later ones).
    Forward,
    /// Let it vanish.
    Drop,
    /// Pass it on this much later (at most [`MAX_DELAY`]); the relay keeps
    /// serving others meanwhile.
    Delay(Duration),
    /// Pass it on, then this many extra copies (at most [`MAX_DUPLICATES`]).
    Duplicate(u32),
    /// Pass on other bytes instead.
    Rewrite(Rewrite),
}

/// What a rewrite sends instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// A reply template (`{text}`, `{1}`…`{9}` from a regex rule's groups,
    /// `{hex}`, `{peer}`, `{seq}`, `{len}`, `{time}`, checksums, escapes),
    /// filled from the datagram; `{peer}` is its sender, `{seq}` the relay's
    /// count of datagrams that way.
    Template(String),
    /// Bytes written in hex (`de ad be ef`), with the same placeholders
    /// (`01 03 {2} {crc16_modbus}`).
    Hex(String),
}

/// A datagram to send by hand through a running relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectTo {
    /// To the server, from this client's upstream socket (opened if need be),
    /// so the server sees it as that client's.
    Server {
        /// Whose upstream socket.
        client: SocketAddr,
    },
    /// To this client, from the listening socket, as if the server had said it.
    Client {
        /// Whom.
        client: SocketAddr,
    },
}

/// How a client's mapping changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingChange {
    /// Its first datagram (or an injection) opened an upstream socket for it.
    Opened,
    /// It was idle for the idle timeout; its upstream socket is closed.
    Expired,
}

/// What one relay has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayCounters {
    /// Datagrams sent to the server (copies and injections included).
    pub to_server: u64,
    /// Datagrams sent back to clients (copies and injections included).
    pub to_client: u64,
    /// Datagrams a rule dropped.
    pub dropped: u64,
    /// Datagrams a rule delayed.
    pub delayed: u64,
    /// Extra copies sent by duplicate rules.
    pub duplicated: u64,
    /// Datagrams a rule rewrote.
    pub rewritten: u64,
    /// Datagrams sent by hand.
    pub injected: u64,
    /// Datagrams from new clients dropped because [`MAX_MAPPINGS`] were open,
    /// or to be delayed while the delay queue was full.
    pub refused: u64,
    /// Datagrams that reached an upstream socket from someone other than the server.
    pub strays: u64,
    /// Mappings open now.
    pub mappings: u64,
}

impl std::fmt::Display for RelayCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to the server, {} to clients, {} dropped, {} delayed, {} extra copies, {} rewritten, {} injected",
            self.to_server,
            self.to_client,
            self.dropped,
            self.delayed,
            self.duplicated,
            self.rewritten,
            self.injected
        )?;
        if self.refused > 0 {
            write!(
                f,
                ", {} refused (too many clients or delayed)",
                self.refused
            )?;
        }
        if self.strays > 0 {
            write!(f, ", {} from strangers ignored", self.strays)?;
        }
        Ok(())
    }
}

/// Which stretch of the relay a packet travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leg {
    /// A client's datagram arriving at the listening socket.
    ClientToRelay,
    /// Passed on to the server from the client's upstream socket.
    RelayToServer,
    /// The server's answer arriving at an upstream socket.
    ServerToRelay,
    /// Passed back to the client from the listening socket.
    RelayToClient,
}

impl Leg {
    /// The leg of a relay's packet, told by its local address: the listening
    /// socket carries the client side, the upstream sockets the server side.
    #[must_use]
    pub fn of(packet: &Packet, listen: SocketAddr) -> Leg {
        Leg::between(packet.local, packet.direction, listen)
    }

    /// The leg of a datagram that went `direction` on the relay's socket at
    /// `local`, for a relay listening on `listen`.
    #[must_use]
    pub fn between(local: SocketAddr, direction: Direction, listen: SocketAddr) -> Leg {
        match (is_listen(local, listen), direction) {
            (true, Direction::In) => Leg::ClientToRelay,
            (false, Direction::Out) => Leg::RelayToServer,
            (false, Direction::In) => Leg::ServerToRelay,
            (true, Direction::Out) => Leg::RelayToClient,
        }
    }

    /// `client → relay`, `relay → server`, `server → relay` or `relay → client`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Leg::ClientToRelay => "client → relay",
            Leg::RelayToServer => "relay → server",
            Leg::ServerToRelay => "server → relay",
            Leg::RelayToClient => "relay → client",
        }
    }

    /// The leg in three characters, for a narrow column: `c→r`, `r→s`, `s→r`, `r→c`.
    #[must_use]
    pub fn short(self) -> &'static str {
        match self {
            Leg::ClientToRelay => "c→r",
            Leg::RelayToServer => "r→s",
            Leg::ServerToRelay => "s→r",
            Leg::RelayToClient => "r→c",
        }
    }
}

/// True if `local` is the listening socket's address. A socket bound to every
/// address records the one each datagram used, so only its port and family
/// must agree then.
fn is_listen(local: SocketAddr, listen: SocketAddr) -> bool {
    local.port() == listen.port()
        && local.is_ipv6() == listen.is_ipv6()
        && (listen.ip().is_unspecified() || local.ip() == listen.ip())
}

/// Checks rules as the engine would compile them, so a front end can say
/// what is wrong beside the rule before starting anything.
///
/// # Errors
/// A rewrite template or hex that does not parse, or a delay or copy count
/// beyond its limit; the error names the rule (from 1).
pub fn check_rules(rules: &[RelayRule], encoding: Encoding) -> Result<(), NetError> {
    state::compile(rules, encoding).map(|_| ())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::packet::EndpointId;

    fn packet(direction: Direction, local: &str) -> Packet {
        Packet {
            seq: 1,
            time: std::time::SystemTime::UNIX_EPOCH,
            endpoint: EndpointId(1),
            direction,
            local: local.parse().unwrap(),
            peer: "127.0.0.1:9".parse().unwrap(),
            encoding: Encoding::Utf8,
            bytes: b"x".as_slice().into(),
            truncated: false,
        }
    }

    #[test]
    fn the_leg_follows_from_the_local_address_and_direction() {
        let listen = "127.0.0.1:7000".parse().unwrap();
        let cases = [
            (Direction::In, "127.0.0.1:7000", Leg::ClientToRelay),
            (Direction::Out, "127.0.0.1:40000", Leg::RelayToServer),
            (Direction::In, "127.0.0.1:40000", Leg::ServerToRelay),
            (Direction::Out, "127.0.0.1:7000", Leg::RelayToClient),
            // Same port, other family: an upstream socket, not the listener.
            (Direction::Out, "[::1]:7000", Leg::RelayToServer),
        ];
        for (dir, local, leg) in cases {
            assert_eq!(Leg::of(&packet(dir, local), listen), leg, "{dir} {local}");
        }
        let any = "0.0.0.0:7000".parse().unwrap();
        assert_eq!(
            Leg::of(&packet(Direction::In, "192.168.1.5:7000"), any),
            Leg::ClientToRelay,
            "a wildcard listener records the address used"
        );
        assert_eq!(Leg::ClientToRelay.label(), "client → relay");
    }

    #[test]
    fn directions_cover_their_way() {
        assert!(Toward::Server.covers(Way::ToServer));
        assert!(!Toward::Server.covers(Way::ToClient));
        assert!(Toward::Client.covers(Way::ToClient));
        assert!(Toward::Both.covers(Way::ToServer) && Toward::Both.covers(Way::ToClient));
    }

    #[test]
    fn bad_rules_are_caught_before_starting() {
        let rule = |action| RelayRule::new(Toward::Both, RuleMatch::any(), action);
        let enc = Encoding::Utf8;
        assert!(check_rules(&[rule(RelayAction::Delay(Duration::from_millis(5)))], enc).is_ok());
        let bad = [
            RelayAction::Rewrite(Rewrite::Template("{nope}".into())),
            RelayAction::Rewrite(Rewrite::Hex("zz".into())),
            RelayAction::Delay(MAX_DELAY + Duration::from_secs(1)),
            RelayAction::Duplicate(MAX_DUPLICATES + 1),
        ];
        let regex = RelayRule::new(
            Toward::Both,
            RuleMatch::new(MatchKind::Regex, "(unclosed"),
            RelayAction::Drop,
        );
        assert!(
            check_rules(&[regex], enc)
                .unwrap_err()
                .to_string()
                .starts_with("rule 1")
        );
        for action in bad {
            let err = check_rules(&[rule(RelayAction::Forward), rule(action.clone())], enc)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("rule 2"), "{action:?}: {err}");
        }
    }
}
