//! How the command line prints packets: one line of text each (with an
//! optional hex dump), one JSON object each, or nothing (`--quiet`). Output is
//! buffered and flushed when the engine has nothing more waiting, so a flood
//! costs one `write` per hand-over while an interactive user still sees each
//! line at once.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::capture::PacketRecord;
use crate::codec;
use crate::packet::{Direction, Packet, write_clock};

use super::Output;

/// Characters of text a line shows unless `--full` is given.
pub const LINE_TEXT: usize = 256;

/// Prints packets as lines of text or JSON.
pub struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    dump: bool,
    json: bool,
    quiet: bool,
    full: bool,
    line: String,
    verify: Option<codec::Verify>,
    /// Received datagrams whose checksum failed.
    bad_sums: u64,
    /// Some packet was checked (by `--verify` or an endpoint's own check).
    checked: bool,
}

impl Printer {
    pub fn new(o: &Output) -> Printer {
        Printer {
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            dump: o.dump,
            json: o.json,
            quiet: o.quiet,
            full: o.full,
            line: String::with_capacity(512),
            verify: o.verify,
            bad_sums: 0,
            checked: false,
        }
    }

    /// What `--verify` found, for the summary, if it was asked for.
    #[must_use]
    pub fn verify_summary(&self) -> Option<String> {
        match self.verify {
            Some(v) => Some(format!(
                "{} received datagrams failed the {v} check",
                self.bad_sums
            )),
            None => self.checked.then(|| {
                format!(
                    "{} received datagrams failed their endpoint's checksum check",
                    self.bad_sums
                )
            }),
        }
    }

    /// Writes one packet into the buffer; [`Printer::flush`] sends it out.
    pub fn packet(&mut self, p: &Packet) {
        self.packet_on(p, None);
    }

    /// Writes one packet with the leg of a relay it travelled (`relay → server`)
    /// in place of its direction; JSON carries the addresses that tell it.
    pub fn packet_on(&mut self, p: &Packet, leg: Option<&str>) {
        self.print(p, None, leg, self.verify);
    }

    /// Writes one packet of the endpoint called `name` (`udpdesk run`, where
    /// several endpoints print together), checked with `verify` when given.
    pub fn packet_named(
        &mut self,
        p: &Packet,
        name: &str,
        leg: Option<&str>,
        verify: Option<codec::Verify>,
    ) {
        self.print(p, Some(name), leg, verify.or(self.verify));
    }

    fn print(
        &mut self,
        p: &Packet,
        name: Option<&str>,
        leg: Option<&str>,
        verify: Option<codec::Verify>,
    ) {
        self.checked |= verify.is_some();
        let failed = match (verify, p.direction) {
            (Some(v), crate::packet::Direction::In) => match v.check(&p.bytes) {
                codec::Verdict::Good => None,
                codec::Verdict::Bad { expected, found } => Some(format!(
                    "bad checksum: expected {}, found {}",
                    codec::to_hex(&expected),
                    codec::to_hex(&found)
                )),
                codec::Verdict::TooShort => Some("too short to carry the checksum".to_owned()),
            },
            _ => None,
        };
        self.bad_sums += u64::from(failed.is_some());
        if self.quiet {
            return;
        }
        self.line.clear();
        if self.json {
            let record = match name {
                Some(name) => PacketRecord::named(p, name),
                None => PacketRecord::from_packet(p),
            };
            match serde_json::to_string(&record) {
                Ok(json) => self.line.push_str(&json),
                Err(e) => {
                    let _infallible = write!(self.line, "{{\"error\":\"{e}\"}}");
                }
            }
        } else {
            if let Some(name) = name {
                let _infallible = write!(self.line, "[{name}] ");
            }
            match leg {
                Some(leg) => write_leg_line(&mut self.line, p, leg, self.full),
                None => write_packet_line(&mut self.line, p, self.full),
            }
            if let Some(failed) = &failed {
                let _infallible = write!(self.line, "   [{failed}]");
            }
            if self.dump && !p.is_empty() {
                self.line.push('\n');
                self.line.push_str(&codec::hex_dump(&p.bytes));
            }
        }
        self.line.push('\n');
        // A closed stdout (`| head`) is not an error worth dying for; the server goes on.
        let _written = self.out.write_all(self.line.as_bytes());
    }

    pub fn flush(&mut self) {
        let _flushed = self.out.flush();
    }
}

/// One packet as a line: time, direction, peer, size, text.
#[must_use]
pub fn packet_line(p: &Packet) -> String {
    let mut line = String::with_capacity(96);
    write_packet_line(&mut line, p, true);
    line
}

/// Appends a packet's line to `out`. Unless `full`, the text covers at most
/// the first [`LINE_TEXT`] bytes and [`LINE_TEXT`] characters and then says
/// what it left out: `… (+N B)`, or `… (N B in all)` when escapes of binary
/// bytes filled the line first.
pub fn write_packet_line(out: &mut String, p: &Packet, full: bool) {
    write_clock(out, p.time);
    let arrow = match p.direction {
        Direction::In => "from",
        Direction::Out => "to  ",
    };
    let _infallible = write!(out, "  {:<3} {arrow} ", p.direction.label());
    write_tail(out, p, full);
}

/// A relayed packet's line: time, leg, peer, size, text.
pub fn write_leg_line(out: &mut String, p: &Packet, leg: &str, full: bool) {
    write_clock(out, p.time);
    let _infallible = write!(out, "  {leg}  ");
    write_tail(out, p, full);
}

/// What every packet line ends with: the peer, the size and the text.
fn write_tail(out: &mut String, p: &Packet, full: bool) {
    let cut = if p.truncated { " (truncated)" } else { "" };
    let _infallible = write!(out, "{:<21} {:>5} B{cut}  ", p.peer, p.len());
    if full {
        codec::decode_into(&p.bytes, p.encoding, out);
        return;
    }
    let start = out.len();
    let shown = &p.bytes[..p.encoding.prefix_len(&p.bytes, LINE_TEXT)];
    codec::decode_into(shown, p.encoding, out);
    if let Some((at, _)) = out[start..].char_indices().nth(LINE_TEXT) {
        out.truncate(start + at);
        let _infallible = write!(out, "… ({} B in all)", p.len());
    } else if p.len() > shown.len() {
        let _infallible = write!(out, "… (+{} B)", p.len() - shown.len());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::Encoding;
    use crate::packet::EndpointId;

    fn packet(bytes: &[u8]) -> Packet {
        Packet {
            seq: 1,
            time: std::time::SystemTime::UNIX_EPOCH,
            endpoint: EndpointId(1),
            direction: Direction::In,
            local: "127.0.0.1:9999".parse().unwrap(),
            peer: "127.0.0.1:5000".parse().unwrap(),
            encoding: Encoding::Utf8,
            bytes: bytes.into(),
            truncated: false,
        }
    }

    fn text_of(line: &str) -> &str {
        line.split_once(" B  ").unwrap().1
    }

    #[test]
    fn short_text_is_shown_whole() {
        let line = packet_line(&packet(b"Hello, world"));
        assert!(line.contains("in  from 127.0.0.1:5000"), "{line}");
        assert_eq!(text_of(&line), "Hello, world");
    }

    #[test]
    fn long_text_stops_at_256_characters_and_counts_the_rest() {
        let p = packet(&[b'a'; 1400]);
        let mut line = String::new();
        write_packet_line(&mut line, &p, false);
        assert_eq!(text_of(&line), format!("{}… (+1144 B)", "a".repeat(256)));
        let mut full = String::new();
        write_packet_line(&mut full, &p, true);
        assert_eq!(text_of(&full), "a".repeat(1400));
    }

    #[test]
    fn escaped_binary_stops_at_256_characters_too() {
        let p = packet(&[0xff; 200]);
        let mut line = String::new();
        write_packet_line(&mut line, &p, false);
        let text = text_of(&line);
        assert!(text.ends_with("… (200 B in all)"), "{text}");
        assert_eq!(
            text.chars().count(),
            256 + "… (200 B in all)".chars().count()
        );
    }

    #[test]
    fn chinese_is_cut_on_a_character() {
        let p = packet("你好".repeat(100).as_bytes());
        let mut line = String::new();
        write_packet_line(&mut line, &p, false);
        let text = text_of(&line);
        assert!(text.starts_with("你好你好"), "{text}");
        assert!(!text.contains("\\x"), "no half character: {text}");
        assert!(text.ends_with("… (+345 B)"), "{text}");
    }
}
