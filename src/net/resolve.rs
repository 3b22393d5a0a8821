//! Turning what a person types as a target (`host:port`, `[::1]:9999`,
//! `127.0.0.1:9999`) into socket addresses, without ever blocking the engine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use super::error::NetError;

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Already addresses: IP literals and the names that never need a lookup.
    Ready(Vec<SocketAddr>),
    /// A host name to look up (on another thread: DNS may take seconds).
    Lookup {
        /// The name.
        host: String,
        /// The port.
        port: u16,
    },
}

/// Parses `host:port`, `ip:port` or `[ipv6]:port`.
///
/// `localhost` resolves to the loopback addresses at once and names under
/// `.invalid` fail at once, as RFC 6761 asks of resolvers.
///
/// # Errors
/// A missing or bad port, an empty host, a name under `.invalid`.
pub fn parse_target(input: &str) -> Result<Target, NetError> {
    let input = input.trim();
    let bad = |detail: &str| NetError::BadAddress {
        input: input.to_owned(),
        detail: detail.to_owned(),
    };
    if let Ok(addr) = input.parse::<SocketAddr>() {
        if addr.port() == 0 {
            return Err(bad(
                "port 0 cannot be sent to: give the port the peer listens on",
            ));
        }
        return Ok(Target::Ready(vec![addr]));
    }
    let Some((host, port)) = input.rsplit_once(':') else {
        return Err(bad("add the port, as in 127.0.0.1:9999"));
    };
    if host.contains(':') && !host.starts_with('[') {
        return Err(bad("write an IPv6 address in brackets, as in [::1]:9999"));
    }
    if host.starts_with('[') != host.ends_with(']') {
        return Err(bad(
            "a bracket is not closed: write an IPv6 address as [::1]:9999",
        ));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port must be a number from 1 to 65535"))?;
    if port == 0 {
        return Err(bad(
            "port 0 cannot be sent to: give the port the peer listens on",
        ));
    }
    let bracketed = host.starts_with('[');
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad("the host is missing, as in 127.0.0.1:9999"));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Target::Ready(vec![SocketAddr::new(ip, port)]));
    }
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Ok(Target::Ready(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]));
    }
    // A host name is letters, digits, '-', '_' and '.' (a bracketed IPv6
    // address may carry a zone, as in [fe80::1%eth0]); anything else is a
    // typing mistake, said now rather than asked of the name service. So is
    // a host of digits and dots that is no IPv4 address (999.1.1.1).
    let name_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    let zoned = bracketed && host.contains('%');
    if !zoned && !host.chars().all(name_char) {
        return Err(bad(
            "that is not an IP address or a host name: use 127.0.0.1, [::1] or a name like example.com",
        ));
    }
    if host.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad(
            "that is not an IPv4 address: four numbers from 0 to 255, as in 127.0.0.1",
        ));
    }
    if lower == "invalid" || lower.ends_with(".invalid") {
        return Err(NetError::Resolve {
            host: host.to_owned(),
            detail: "no such host (names under .invalid never exist); check the spelling"
                .to_owned(),
        });
    }
    Ok(Target::Lookup {
        host: host.to_owned(),
        port,
    })
}

/// Looks a host name up with the system resolver. Blocks: call it off the engine thread.
///
/// # Errors
/// The name does not resolve, or resolves to nothing.
pub fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, NetError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| NetError::Resolve {
            host: host.to_owned(),
            detail: format!("{e}; check the spelling or use an IP address"),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(NetError::Resolve {
            host: host.to_owned(),
            detail: "the name has no addresses".to_owned(),
        });
    }
    Ok(addrs)
}

/// Picks the address to use: one of `family_of`'s family when a socket is already
/// bound, else the first IPv4 address (what most servers listen on), else the first.
#[must_use]
pub fn choose(addrs: &[SocketAddr], family_of: Option<SocketAddr>) -> Option<SocketAddr> {
    match family_of {
        Some(local) => addrs
            .iter()
            .find(|a| a.is_ipv6() == local.is_ipv6())
            .copied(),
        None => addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied(),
    }
}

/// Parses an address to bind: `ip:port`, `[v6]:port`, or a bare IP (port 0).
///
/// # Errors
/// Anything else, with what to type instead.
pub fn parse_bind(input: &str) -> Result<SocketAddr, NetError> {
    let input = input.trim();
    if let Ok(addr) = input.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = input
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 0));
    }
    Err(NetError::BadAddress {
        input: input.to_owned(),
        detail: "use an IP address and port such as 127.0.0.1:9999, [::1]:9999 or 0.0.0.0:9999"
            .to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ready(s: &str) -> Vec<SocketAddr> {
        match parse_target(s).unwrap() {
            Target::Ready(a) => a,
            Target::Lookup { .. } => panic!("{s} should not need a lookup"),
        }
    }

    #[test]
    fn literals_and_localhost_need_no_lookup() {
        assert_eq!(
            ready("127.0.0.1:9999"),
            vec!["127.0.0.1:9999".parse().unwrap()]
        );
        assert_eq!(ready(" [::1]:53 "), vec!["[::1]:53".parse().unwrap()]);
        assert_eq!(ready("localhost:7").len(), 2);
        assert_eq!(ready("LOCALHOST.:7")[0], "127.0.0.1:7".parse().unwrap());
    }

    #[test]
    fn names_are_looked_up_later() {
        assert_eq!(
            parse_target("example.org:9").unwrap(),
            Target::Lookup {
                host: "example.org".into(),
                port: 9
            }
        );
    }

    #[test]
    fn bad_targets_say_what_to_type() {
        for (input, needle) in [
            ("127.0.0.1", "add the port"),
            ("::1:99", "brackets"),
            ("host:99999", "1 to 65535"),
            ("127.0.0.1:0", "port 0 cannot be sent to"),
            ("host:0", "port 0 cannot be sent to"),
            ("999.1.1.1:9", "not an IPv4 address"),
            ("[::1:9", "bracket is not closed"),
            ("a b:9", "not an IP address or a host name"),
            (":99", "host is missing"),
            ("nowhere.invalid:9", "could not resolve"),
        ] {
            let err = parse_target(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn a_link_local_address_with_its_zone_goes_to_the_lookup() {
        assert!(matches!(
            parse_target("[fe80::1%lo]:9"),
            Ok(Target::Lookup { .. } | Target::Ready(_))
        ));
    }

    #[test]
    fn choose_prefers_the_bound_family_then_ipv4() {
        let both = ready("localhost:7");
        assert!(choose(&both, None).unwrap().is_ipv4());
        assert!(
            choose(&both, Some("[::]:0".parse().unwrap()))
                .unwrap()
                .is_ipv6()
        );
        let v6only = vec!["[::1]:7".parse().unwrap()];
        assert_eq!(choose(&v6only, Some("0.0.0.0:0".parse().unwrap())), None);
    }

    #[test]
    fn bind_addresses_parse() {
        assert_eq!(
            parse_bind("127.0.0.1").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(parse_bind("[::1]:5").unwrap(), "[::1]:5".parse().unwrap());
        assert_eq!(parse_bind("::").unwrap(), "[::]:0".parse().unwrap());
        assert!(parse_bind("1.2.3").is_err());
    }
}
