//! Network failures, worded for the person at the keyboard: what went wrong
//! and what to do about it.

use std::io;
use std::net::SocketAddr;

use rust_i18n::t;

use crate::codec::CodecError;

/// The largest UDP payload over IPv4 (65,535 − 20 IP header − 8 UDP header).
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// The largest UDP payload over IPv6 without jumbograms (65,535 − 8 UDP header).
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// Everything the engine can report as failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Another socket already holds the address.
    #[error("{}", t!("error.addr_in_use", addr = .addr))]
    AddrInUse {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The IP address is not one of this host's.
    #[error("{}", t!("error.addr_not_available", addr = .addr))]
    AddrNotAvailable {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The kernel refused the operation.
    #[error("{}", t!("error.permission_denied", addr = .addr, hint = .hint))]
    PermissionDenied {
        /// The address concerned.
        addr: SocketAddr,
        /// What usually causes it.
        hint: String,
    },
    /// A host name did not resolve.
    #[error("{}", t!("error.resolve", host = .host, detail = .detail))]
    Resolve {
        /// The name.
        host: String,
        /// Why.
        detail: String,
    },
    /// A target or bind address the user typed is malformed.
    #[error("{}", t!("error.bad_address", input = .input, detail = .detail))]
    BadAddress {
        /// What was typed.
        input: String,
        /// What is wrong.
        detail: String,
    },
    /// A datagram bigger than UDP can carry.
    #[error("{}", t!("error.too_large", size = .size, family = .family, max = .max))]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
        /// "IPv4" or "IPv6".
        family: &'static str,
    },
    /// The same failure again, held back while it repeated.
    #[error("{}", t!("error.repeated", error = .error, more = .more))]
    Repeated {
        /// The failure.
        error: Box<NetError>,
        /// How many times it happened since it was last said.
        more: u64,
    },
    /// A server would have answered itself or another server of this engine.
    #[error("{}", t!("error.reply_loop", peer = .peer, whom = .whom))]
    ReplyLoop {
        /// The source that would have been answered.
        peer: SocketAddr,
        /// Which server it is.
        whom: String,
    },
    /// The kernel's ICMP port-unreachable came back for something we sent.
    #[error("{}", t!("error.unreachable", peer = .peer))]
    Unreachable {
        /// Where we sent.
        peer: SocketAddr,
    },
    /// An IPv4 socket asked to reach an IPv6 peer or the other way round.
    #[error("{}", t!("error.family_mismatch", local = .local, peer = .peer))]
    FamilyMismatch {
        /// Our socket's address.
        local: SocketAddr,
        /// The target.
        peer: SocketAddr,
    },
    /// A reply or payload could not be encoded.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// A reply rule cannot be used.
    #[error("{0}")]
    Rule(#[from] super::rules::RuleError),
    /// A reply template is malformed.
    #[error("{}", t!("error.template", detail = .0))]
    Template(String),
    /// A command named an endpoint that does not exist (or is of the other kind).
    #[error("{}", t!("error.unknown_endpoint", what = endpoint_kind(.what), id = .id))]
    UnknownEndpoint {
        /// "server", "client" or "endpoint".
        what: &'static str,
        /// The id as shown to people.
        id: String,
    },
    /// An id already names a running endpoint.
    #[error("{}", t!("error.duplicate_id", id = .id))]
    DuplicateId {
        /// The id as shown to people.
        id: String,
    },
    /// A relay rule cannot be used as written.
    #[error("{}", t!("error.relay_rule", rule = .rule, detail = .detail))]
    RelayRule {
        /// Its place in the list, from 1.
        rule: usize,
        /// What is wrong and how to write it.
        detail: String,
    },
    /// A relay has as many clients as it maps; new ones are dropped (counted).
    #[error("{}", t!("error.relay_full", max = .max))]
    RelayFull {
        /// The limit.
        max: usize,
    },
    /// Any other operating-system error, with what we were doing.
    #[error("{context}: {message}")]
    Io {
        /// What we were doing.
        context: String,
        /// The system's words.
        message: String,
    },
}

impl NetError {
    /// Turns an error from binding `addr` into the clearest variant.
    #[must_use]
    pub fn from_bind(err: &io::Error, addr: SocketAddr) -> NetError {
        match err.kind() {
            io::ErrorKind::AddrInUse => NetError::AddrInUse { addr },
            io::ErrorKind::AddrNotAvailable => NetError::AddrNotAvailable { addr },
            io::ErrorKind::PermissionDenied => NetError::PermissionDenied {
                addr,
                hint: t!("error.hint_low_port").into_owned(),
            },
            _ => NetError::io(t!("error.cannot_bind", addr = addr), err),
        }
    }

    /// The failure itself, whatever repeat count wraps it.
    #[must_use]
    pub fn cause(&self) -> &NetError {
        match self {
            NetError::Repeated { error, .. } => error.cause(),
            other => other,
        }
    }

    /// This failure, saying how many more like it were held back (none: as it is).
    #[must_use]
    pub fn repeated(self, more: u64) -> NetError {
        if more == 0 {
            self
        } else {
            NetError::Repeated {
                error: Box::new(self),
                more,
            }
        }
    }

    /// Turns an error from sending to `peer` into the clearest variant.
    #[must_use]
    pub fn from_send(err: &io::Error, peer: SocketAddr, size: usize) -> NetError {
        if err.kind() == io::ErrorKind::ConnectionRefused {
            return NetError::Unreachable { peer };
        }
        if err.kind() == io::ErrorKind::PermissionDenied {
            return NetError::PermissionDenied {
                addr: peer,
                hint: t!("error.hint_broadcast").into_owned(),
            };
        }
        if err.raw_os_error() == Some(EMSGSIZE) {
            return NetError::too_large(size, peer.is_ipv6());
        }
        if err.kind() == io::ErrorKind::AddrNotAvailable || err.raw_os_error() == Some(ENETUNREACH)
        {
            return NetError::Io {
                context: t!("error.cannot_reach", peer = peer).into_owned(),
                message: t!("error.no_route").into_owned(),
            };
        }
        NetError::io(t!("error.cannot_send", peer = peer), err)
    }

    /// A datagram of `size` bytes is over the family's limit.
    #[must_use]
    pub fn too_large(size: usize, ipv6: bool) -> NetError {
        if ipv6 {
            NetError::TooLarge {
                size,
                max: MAX_PAYLOAD_V6,
                family: "IPv6",
            }
        } else {
            NetError::TooLarge {
                size,
                max: MAX_PAYLOAD_V4,
                family: "IPv4",
            }
        }
    }

    /// Any other I/O error with its context.
    #[must_use]
    pub fn io(context: impl Into<String>, err: &io::Error) -> NetError {
        NetError::Io {
            context: context.into(),
            message: err.to_string(),
        }
    }
}

/// "server", "client" or "endpoint" in the window's language.
fn endpoint_kind(what: &str) -> std::borrow::Cow<'static, str> {
    match what {
        "server" => t!("error.kind_server"),
        "client" => t!("error.kind_client"),
        "relay" => t!("error.kind_relay"),
        _ => t!("error.kind_endpoint"),
    }
}

/// Linux's "message too long".
const EMSGSIZE: i32 = 90;
/// Linux's "network is unreachable".
const ENETUNREACH: i32 = 101;

/// The payload limit for a peer's family.
#[must_use]
pub fn max_payload(peer: &SocketAddr) -> usize {
    if peer.is_ipv6() {
        MAX_PAYLOAD_V6
    } else {
        MAX_PAYLOAD_V4
    }
}
