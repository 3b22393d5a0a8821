//! What `udpdesk bench` checks of its arguments before sending anything, and
//! the line it says on stderr about what it is going to do.

use std::net::SocketAddr;

use super::header::HEADER_LEN;
use super::sender::Limit;
use crate::cli::{BenchArgs, CliError};

/// More sockets than this is more likely a typo than a test plan (a flood
/// from 10,000 source ports is one).
const MAX_SOCKETS: u32 = 16_384;

/// The checks clap cannot make.
pub(super) fn check(args: &BenchArgs, target: SocketAddr) -> Result<(), CliError> {
    let max = crate::net::max_payload(&target);
    let family = if target.is_ipv4() { "IPv4" } else { "IPv6" };
    if args.size < HEADER_LEN {
        return Err(CliError::input(format!(
            "--size {} is too small: each datagram starts with a {HEADER_LEN}-byte header, so the minimum is {HEADER_LEN}",
            args.size
        )));
    }
    if args.size > max {
        return Err(CliError::input(format!(
            "--size {} is over the largest UDP payload on {family} ({max} bytes)",
            args.size
        )));
    }
    if args.sockets == 0 || args.sockets > MAX_SOCKETS {
        return Err(CliError::input(format!(
            "--sockets {} is out of range: use 1 to {MAX_SOCKETS}",
            args.sockets
        )));
    }
    if args.count == Some(0) {
        return Err(CliError::input("--count must be at least 1"));
    }
    for (name, d) in [("--duration", args.duration), ("--timeout", args.timeout)] {
        if d.is_zero() {
            return Err(CliError::input(format!("{name} must be longer than 0")));
        }
    }
    Ok(())
}

/// What is about to happen, for stderr.
pub(super) fn banner(args: &BenchArgs, target: SocketAddr, limit: Limit) -> String {
    let mode = if args.closed {
        "closed loop".to_owned()
    } else if args.rate == 0 {
        "flat out".to_owned()
    } else {
        format!("{}/s", args.rate)
    };
    let until = match limit {
        Limit::Count(1) if args.closed => "1 round trip".to_owned(),
        Limit::Count(1) => "1 datagram".to_owned(),
        Limit::Count(n) if args.closed => format!("{n} round trips"),
        Limit::Count(n) => format!("{n} datagrams"),
        Limit::Time(d) => format!("{:.3} s", d.as_secs_f64()),
    };
    let plural = if args.sockets == 1 { "" } else { "s" };
    format!(
        "bench {target}: {} B datagrams from {} socket{plural}, {mode}, for {until}; Ctrl-C stops",
        args.size, args.sockets
    )
}
