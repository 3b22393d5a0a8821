//! How the command line prints packets: one line of text each (with an
//! optional hex dump), or one JSON object each.

use std::io::Write;

use crate::capture::PacketRecord;
use crate::codec;
use crate::packet::{Direction, Packet};

use super::Output;

/// Prints packets as lines of text or JSON.
pub struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    dump: bool,
    json: bool,
}

impl Printer {
    pub fn new(o: &Output) -> Printer {
        Printer {
            out: std::io::BufWriter::new(std::io::stdout()),
            dump: o.dump,
            json: o.json,
        }
    }

    pub fn packet(&mut self, p: &Packet) {
        // A closed stdout (`| head`) is not an error worth dying for; the server goes on.
        let _written = if self.json {
            match serde_json::to_string(&PacketRecord::from_packet(p)) {
                Ok(line) => writeln!(self.out, "{line}"),
                Err(e) => writeln!(self.out, "{{\"error\":\"{e}\"}}"),
            }
        } else {
            writeln!(self.out, "{}", packet_line(p)).and_then(|()| {
                if self.dump && !p.is_empty() {
                    writeln!(self.out, "{}", codec::hex_dump(&p.bytes))
                } else {
                    Ok(())
                }
            })
        };
        self.flush();
    }

    pub fn flush(&mut self) {
        let _flushed = self.out.flush();
    }
}

/// One packet as a line: time, direction, peer, size, text.
#[must_use]
pub fn packet_line(p: &Packet) -> String {
    let time: chrono::DateTime<chrono::Local> = p.time.into();
    let arrow = match p.direction {
        Direction::In => "from",
        Direction::Out => "to  ",
    };
    let cut = if p.truncated { " (truncated)" } else { "" };
    format!(
        "{}  {:<3} {arrow} {:<21} {:>5} B{cut}  {}",
        time.format("%H:%M:%S%.6f"),
        p.direction.label(),
        p.peer.to_string(),
        p.len(),
        codec::decode(&p.bytes, p.encoding)
    )
}
