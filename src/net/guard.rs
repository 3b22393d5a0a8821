//! Reply-loop protection: a server never answers a datagram whose source is
//! itself or another server of the same engine, since two echo servers would
//! otherwise answer each other for ever (and a spoofed source could start it).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use crate::packet::EndpointId;

/// Pairs said once at most, before saying stops growing the set.
const SAID_MAX: usize = 1024;

/// The engine's servers, by the addresses they listen on.
#[derive(Debug, Default)]
pub struct LoopGuard {
    servers: Vec<(EndpointId, SocketAddr)>,
    /// This machine's own addresses, for servers bound to every address.
    local_ips: Vec<IpAddr>,
    said: HashSet<(EndpointId, SocketAddr)>,
}

impl LoopGuard {
    /// A guard that knows this machine's addresses.
    #[must_use]
    pub fn new(local_ips: Vec<IpAddr>) -> LoopGuard {
        LoopGuard {
            local_ips,
            ..LoopGuard::default()
        }
    }

    /// This machine's addresses as they are now (interfaces come and go).
    pub fn set_local_ips(&mut self, local_ips: Vec<IpAddr>) {
        self.local_ips = local_ips;
    }

    /// A server now listens at `addr`.
    pub fn add(&mut self, id: EndpointId, addr: SocketAddr) {
        self.servers.retain(|(i, _)| *i != id);
        self.servers.push((id, addr));
    }

    /// An endpoint has closed.
    pub fn remove(&mut self, id: EndpointId) {
        self.servers.retain(|(i, _)| *i != id);
    }

    /// The server that `peer` is, if it is one of ours, with where it listens.
    #[must_use]
    pub fn server_at(&self, peer: SocketAddr) -> Option<(EndpointId, SocketAddr)> {
        self.servers.iter().copied().find(|(_, at)| {
            at.port() == peer.port()
                && (at.ip() == peer.ip()
                    || at.ip().is_unspecified()
                        && (peer.ip().is_loopback() || self.local_ips.contains(&peer.ip())))
        })
    }

    /// True the first time `server` meets `peer` as a loop (say it then only).
    pub fn first_time(&mut self, server: EndpointId, peer: SocketAddr) -> bool {
        if self.said.len() >= SAID_MAX {
            return false;
        }
        self.said.insert((server, peer))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn own_servers_are_known_by_address_and_port() {
        let mut g = LoopGuard::new(vec!["192.168.1.5".parse().unwrap()]);
        g.add(EndpointId(1), "127.0.0.1:9999".parse().unwrap());
        g.add(EndpointId(2), "0.0.0.0:7000".parse().unwrap());
        let at = |g: &LoopGuard, s: &str| g.server_at(s.parse().unwrap()).map(|(id, _)| id.0);
        assert_eq!(at(&g, "127.0.0.1:9999"), Some(1));
        assert_eq!(at(&g, "127.0.0.2:9999"), None);
        assert_eq!(at(&g, "127.0.0.1:9998"), None);
        assert_eq!(at(&g, "127.0.0.1:7000"), Some(2));
        assert_eq!(at(&g, "192.168.1.5:7000"), Some(2));
        assert_eq!(at(&g, "192.168.1.6:7000"), None);
        g.remove(EndpointId(1));
        assert_eq!(at(&g, "127.0.0.1:9999"), None);
        // Addresses that come later (a VPN, a link-local one) count once told.
        g.add(EndpointId(3), "[::]:7001".parse().unwrap());
        assert_eq!(at(&g, "[fe80::1]:7001"), None);
        g.set_local_ips(vec!["fe80::1".parse().unwrap()]);
        assert_eq!(at(&g, "[fe80::1]:7001"), Some(3));
        assert!(g.first_time(EndpointId(2), "127.0.0.1:7000".parse().unwrap()));
        assert!(!g.first_time(EndpointId(2), "127.0.0.1:7000".parse().unwrap()));
    }
}
