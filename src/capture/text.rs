//! The text log: fixed columns like the window's table, one line per packet
//! followed by its hex, for reading in any editor.

use std::io::{self, Write};

use super::record::local_time;
use crate::codec;
use crate::packet::{Direction, Packet};

/// Hex bytes per continuation line: 32 keeps lines under ~100 columns.
const HEX_PER_LINE: usize = 32;

/// The comment line opening every text log.
const HEADER: &str = "# udpdesk packet log: local time, #seq, endpoint, direction, \
local <- / -> peer, size, text (escaped, decoded with each packet's encoding); hex below each packet\n";

pub(super) fn write_header<W: Write>(w: &mut W) -> io::Result<()> {
    w.write_all(HEADER.as_bytes())
}

/// `2026-11-22 09:30:01.123456  #1      ep1   in   127.0.0.1:9999        <- 127.0.0.1:50000           12 B  Hello\n    48 65 6c 6c 6f\n`
pub(super) fn write_packet<W: Write>(
    w: &mut W,
    p: &Packet,
    name: Option<&String>,
) -> io::Result<()> {
    let time = local_time(p.unix_micros()).format("%Y-%m-%d %H:%M:%S%.6f");
    let arrow = match p.direction {
        Direction::In => "<-",
        Direction::Out => "->",
    };
    // Widths fit the longest IPv4 address ("255.255.255.255:65535"); IPv6 rows overflow rather than truncate.
    let seq = format!("#{}", p.seq);
    let ep = name.map_or_else(|| format!("ep{}", p.endpoint.0), Clone::clone);
    let cut = if p.truncated { "[truncated] " } else { "" };
    writeln!(
        w,
        "{time}  {seq:<7} {ep:<5} {dir:<3}  {local:<21} {arrow} {peer:<21} {size:>6} B  {cut}{text}",
        dir = p.direction.label(),
        local = p.local.to_string(),
        peer = p.peer.to_string(),
        size = p.len(),
        text = codec::decode(&p.bytes, p.encoding),
    )?;
    if p.bytes.is_empty() {
        return writeln!(w, "    (empty datagram)");
    }
    for chunk in p.bytes.chunks(HEX_PER_LINE) {
        writeln!(w, "    {}", codec::to_hex(chunk))?;
    }
    Ok(())
}
