//! The message template language: literal text or hex with `{placeholders}` for
//! counters, clocks, random bytes, checksums and (in a server's replies) the request,
//! compiled once and filled per datagram.
//!
//! Placeholders anywhere: `{seq}` (decimal) or `{seq:u8|u16be|u16le|u32be|u32le|u64be|u64le}`
//! (binary, wrapping); `{time}` (local `HH:MM:SS`); `{unix_ms}`; `{random:N}` (N random
//! bytes, 1 to 1024); `{uuid}`; the checksums `{crc16_modbus}`, `{crc16_ccitt}`,
//! `{crc32}`, `{sum8}`, `{xor8}`, each with an optional `:be`, `:le` or `:hex`; and
//! `{begin}` and `{end}`, which write nothing and mark the bytes a checksum covers:
//! from the last `{begin}` (or the datagram's start) to the last `{end}` after it (or
//! the checksum itself). An NMEA sentence is `${begin}GPGLL,4916.45,N{end}*{xor8:hex}\r\n`.
//!
//! In replies only: `{text}` (the request's bytes), `{upper}`, `{hex}`, `{peer}`,
//! `{len}`, and `{0}` to `{9}` (the rule's regex captures).
//!
//! Text-mode literals take the escapes of [`parse_escaped`](super::parse_escaped)
//! (`\u{4f60}` included) and `{{`/`}}` for braces; hex-mode literals are
//! [`parse_hex`](super::parse_hex) input. Everything written as text (decimal numbers,
//! the clock, addresses, hex checksums) is encoded in the template's encoding.

mod error;
mod parse;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

use super::checksum::{Sum, SumFormat};
use super::encode::encode;
use super::encoding::Encoding;
use super::hex::to_hex;
use super::upper::upper;

pub use error::TemplateError;

/// How a template's literal parts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Text with escapes, encoded in the template's encoding.
    #[default]
    Text,
    /// Hex bytes, spaces optional.
    Hex,
}

/// Where a template is used, which decides the placeholders it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A message a client sends on its own.
    Send,
    /// A server's answer to a datagram, which may quote it.
    Reply,
}

/// A compiled template: literal bytes already parsed and encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    encoding: Encoding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Field(Field),
    /// Where the next checksum starts covering.
    Begin,
    /// Where it stops, when not at itself.
    End,
    Sum(Sum),
}

/// What a placeholder other than `{begin}` and the checksums stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Decimal digits.
    Seq,
    /// `bytes` wide, wrapping.
    SeqBinary {
        bytes: usize,
        little_endian: bool,
    },
    Time,
    UnixMs,
    Random(usize),
    Uuid,
    Text,
    Upper,
    Hex,
    Peer,
    Len,
    Capture(usize),
}

impl Field {
    fn needs_request(self) -> bool {
        matches!(
            self,
            Field::Text | Field::Upper | Field::Hex | Field::Peer | Field::Len | Field::Capture(_)
        )
    }
}

/// What one fill may differ by.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The message counter: a client's count of datagrams sent, a server's of those received.
    pub seq: u64,
    pub time: SystemTime,
    /// The datagram being answered: `Some` for replies. Without it, reply fields fill nothing.
    pub request: Option<Request<'a>>,
}

/// The datagram a reply answers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub bytes: &'a [u8],
    pub peer: SocketAddr,
    /// Regex captures as byte ranges of `bytes`; index 0 is the whole match. May be empty.
    pub captures: &'a [Option<Range<usize>>],
}

impl Template {
    /// Parses `source`, written in `mode`, for `encoding` and `scope`.
    ///
    /// # Errors
    /// An unknown or misplaced placeholder, a bad argument, an unbalanced brace,
    /// bad hex or escapes, or literal text `encoding` cannot carry; the message says
    /// at which character and what to write instead.
    pub fn compile(
        source: &str,
        mode: Mode,
        encoding: Encoding,
        scope: Scope,
    ) -> Result<Template, TemplateError> {
        let parts = parse::parts(source, mode, encoding, scope)?;
        Ok(Template { parts, encoding })
    }

    /// Appends one filled datagram to `out`.
    pub fn fill(&self, ctx: &Context<'_>, out: &mut Vec<u8>) {
        let (mut begin, mut end) = (out.len(), None);
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Begin => (begin, end) = (out.len(), None),
                Part::End => end = Some(out.len()),
                Part::Sum(sum) => {
                    let covered = out.get(begin..end.unwrap_or(out.len()));
                    let mut value = Vec::with_capacity(sum.width());
                    sum.write(covered.unwrap_or_default(), &mut value);
                    match sum.format {
                        // The digits are ASCII; the template may be UTF-16.
                        SumFormat::Hex => {
                            self.push_ascii(std::str::from_utf8(&value).unwrap_or_default(), out);
                        }
                        SumFormat::Be | SumFormat::Le => out.extend_from_slice(&value),
                    }
                }
                Part::Field(field) => self.fill_field(*field, ctx, out),
            }
        }
    }

    /// True when the template has no placeholder whose value changes between fills
    /// (so a sender may fill it once and reuse the bytes).
    #[must_use]
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| !matches!(p, Part::Field(_)))
    }

    /// True when it uses any Reply-scope field.
    #[must_use]
    pub fn uses_request(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Field(f) if f.needs_request()))
    }

    fn fill_field(&self, field: Field, ctx: &Context<'_>, out: &mut Vec<u8>) {
        match field {
            Field::Seq => self.push_ascii(&ctx.seq.to_string(), out),
            Field::SeqBinary {
                bytes,
                little_endian,
            } => {
                let be = ctx.seq.to_be_bytes();
                let low = be.get(be.len().saturating_sub(bytes)..).unwrap_or_default();
                if little_endian {
                    out.extend(low.iter().rev());
                } else {
                    out.extend_from_slice(low);
                }
            }
            Field::Time => {
                let t: chrono::DateTime<chrono::Local> = ctx.time.into();
                self.push_ascii(&t.format("%H:%M:%S").to_string(), out);
            }
            Field::UnixMs => {
                let ms = ctx
                    .time
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis());
                self.push_ascii(&ms.to_string(), out);
            }
            Field::Random(n) => push_random(n, out),
            Field::Uuid => {
                let mut buf = uuid::Uuid::encode_buffer();
                let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
                self.push_ascii(text, out);
            }
            _ => {
                if let Some(request) = &ctx.request {
                    self.fill_from_request(field, request, out);
                }
            }
        }
    }

    fn fill_from_request(&self, field: Field, request: &Request<'_>, out: &mut Vec<u8>) {
        match field {
            // The sender's own bytes go back as they came, so the reply is in their encoding.
            Field::Text => out.extend_from_slice(request.bytes),
            Field::Upper => out.extend_from_slice(&upper(request.bytes, self.encoding)),
            Field::Hex => self.push_ascii(&to_hex(request.bytes), out),
            Field::Peer => self.push_ascii(&request.peer.to_string(), out),
            Field::Len => self.push_ascii(&request.bytes.len().to_string(), out),
            Field::Capture(i) => {
                let range = request.captures.get(i).cloned().flatten();
                if let Some(bytes) = range.and_then(|r| request.bytes.get(r)) {
                    out.extend_from_slice(bytes);
                }
            }
            _ => {}
        }
    }

    /// Appends ASCII text in the template's encoding. Digits, letters, dots, colons
    /// and dashes exist in every encoding we offer, and are themselves in all but UTF-16.
    fn push_ascii(&self, ascii: &str, out: &mut Vec<u8>) {
        if self.encoding.is_ascii_compatible() {
            out.extend_from_slice(ascii.as_bytes());
        } else {
            match encode(ascii, self.encoding) {
                Ok(bytes) => out.extend(bytes),
                Err(_) => out.extend_from_slice(ascii.as_bytes()),
            }
        }
    }
}

/// Appends `n` bytes from the system's random source. Should it ever fail (no
/// platform udpdesk runs on has been seen to), the bytes are zeros.
fn push_random(n: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + n, 0);
    if let Some(bytes) = out.get_mut(start..)
        && getrandom::fill(bytes).is_err()
    {
        bytes.fill(0);
    }
}
