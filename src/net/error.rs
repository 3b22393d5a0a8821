//! Network failures, worded for the person at the keyboard: what went wrong
//! and what to do about it.

use std::io;
use std::net::SocketAddr;

use crate::codec::CodecError;

/// The largest UDP payload over IPv4 (65,535 − 20 IP header − 8 UDP header).
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// The largest UDP payload over IPv6 without jumbograms (65,535 − 8 UDP header).
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// Everything the engine can report as failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Another socket already holds the address.
    #[error("{addr} is already in use: stop the program using it or pick another port")]
    AddrInUse {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The IP address is not one of this host's.
    #[error(
        "{addr} is not an address of this machine: use 127.0.0.1, ::1, 0.0.0.0 or one of its interface addresses"
    )]
    AddrNotAvailable {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The kernel refused the operation.
    #[error("permission denied for {addr}: {hint}")]
    PermissionDenied {
        /// The address concerned.
        addr: SocketAddr,
        /// What usually causes it.
        hint: String,
    },
    /// A host name did not resolve.
    #[error("could not resolve \"{host}\": {detail}")]
    Resolve {
        /// The name.
        host: String,
        /// Why.
        detail: String,
    },
    /// A target or bind address the user typed is malformed.
    #[error("\"{input}\" is not a valid address: {detail}")]
    BadAddress {
        /// What was typed.
        input: String,
        /// What is wrong.
        detail: String,
    },
    /// A datagram bigger than UDP can carry.
    #[error(
        "datagram too large: {size} bytes, but UDP over {family} carries at most {max} bytes; shorten the message"
    )]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
        /// "IPv4" or "IPv6".
        family: &'static str,
    },
    /// The same failure again, held back while it repeated.
    #[error("{error} (and {more} more like it since it was last said)")]
    Repeated {
        /// The failure.
        error: Box<NetError>,
        /// How many times it happened since it was last said.
        more: u64,
    },
    /// A server would have answered itself or another server of this engine.
    #[error(
        "not answering {peer}: it is {whom}, and the two would answer each other forever; no automatic reply goes there"
    )]
    ReplyLoop {
        /// The source that would have been answered.
        peer: SocketAddr,
        /// Which server it is.
        whom: String,
    },
    /// The kernel's ICMP port-unreachable came back for something we sent.
    #[error("nobody is listening at {peer} (the host answered \"port unreachable\")")]
    Unreachable {
        /// Where we sent.
        peer: SocketAddr,
    },
    /// An IPv4 socket asked to reach an IPv6 peer or the other way round.
    #[error(
        "cannot send from {local} to {peer}: the addresses are of different IP families; bind the other family or clear the local address"
    )]
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
    #[error("template: {0}")]
    Template(String),
    /// A command named an endpoint that does not exist (or is of the other kind).
    #[error("{what} {id} is not running")]
    UnknownEndpoint {
        /// "server", "client" or "endpoint".
        what: &'static str,
        /// The id as shown to people.
        id: String,
    },
    /// An id already names a running endpoint.
    #[error("endpoint {id} already exists; close it first")]
    DuplicateId {
        /// The id as shown to people.
        id: String,
    },
    /// A relay rule cannot be used as written.
    #[error("rule {rule}: {detail}")]
    RelayRule {
        /// Its place in the list, from 1.
        rule: usize,
        /// What is wrong and how to write it.
        detail: String,
    },
    /// A relay has as many clients as it maps; new ones are dropped (counted).
    #[error(
        "the relay maps {max} clients at most: datagrams from new clients are dropped until one goes idle"
    )]
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
                hint: "ports below 1024 need administrator rights; pick a port from 1024 up"
                    .to_owned(),
            },
            _ => NetError::io(format!("cannot bind {addr}"), err),
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
                hint: "sending to a broadcast address needs the broadcast option turned on"
                    .to_owned(),
            };
        }
        if err.raw_os_error() == Some(EMSGSIZE) {
            return NetError::too_large(size, peer.is_ipv6());
        }
        if err.kind() == io::ErrorKind::AddrNotAvailable || err.raw_os_error() == Some(ENETUNREACH)
        {
            return NetError::Io {
                context: format!("cannot reach {peer}"),
                message: "no route to that address from this socket's interface".to_owned(),
            };
        }
        NetError::io(format!("cannot send to {peer}"), err)
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
