//! This machine's own IP addresses, offered as places a server can bind.

use std::net::IpAddr;

/// The addresses of this host's interfaces (loopback included), without
/// duplicates, IPv4 first, leaving out IPv6 link-local ones (they need a
/// scope id to bind). Empty if the system will not say.
#[must_use]
pub fn local_addresses() -> Vec<IpAddr> {
    let mut out = own_addresses();
    out.retain(|ip| !is_link_local_v6(*ip));
    out
}

/// Every address of this host's interfaces, link-local ones included: what
/// a datagram from this machine may carry as its source.
#[must_use]
pub fn own_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for ifa in addrs {
        let Some(addr) = ifa.address else { continue };
        let ip = if let Some(v4) = addr.as_sockaddr_in() {
            IpAddr::V4(v4.ip())
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            IpAddr::V6(v6.ip())
        } else {
            continue;
        };
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out.sort_by_key(IpAddr::is_ipv6);
    out
}

fn is_link_local_v6(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_among_them() {
        let addrs = local_addresses();
        assert!(addrs.contains(&IpAddr::from([127, 0, 0, 1])), "{addrs:?}");
    }
}
