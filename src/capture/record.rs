//! `PacketRecord`: one packet as a flat, self-describing row, the shape of
//! both the JSON Lines and the CSV logs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local, SecondsFormat};
use serde::{Deserialize, Serialize};

use super::CaptureError;
use crate::codec::{self, Encoding};
use crate::packet::{Direction, EndpointId, Packet};

/// One packet as a log row. `hex` and `unix_us` are authoritative when loading;
/// `time`, `size` and `text` are there for people and spreadsheets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketRecord {
    /// Engine-wide sequence number.
    pub seq: u64,
    /// Local time, RFC 3339 with microseconds: `2026-11-22T09:30:01.123456+08:00`.
    pub time: String,
    /// Microseconds since the Unix epoch.
    pub unix_us: u64,
    /// The endpoint id.
    pub endpoint: u32,
    /// The endpoint's name, as the window shows it (`server 127.0.0.1:9999`);
    /// empty in logs written before names were kept.
    #[serde(default)]
    pub endpoint_name: String,
    /// `in` or `out`.
    pub direction: String,
    /// Our socket address: `127.0.0.1:9999` or `[::1]:9999`.
    pub local: String,
    /// The other side's address.
    pub peer: String,
    /// Payload length in bytes.
    pub size: usize,
    /// `Encoding::name()` of the encoding `text` was decoded with.
    pub encoding: String,
    /// The payload as display text (control characters and invalid bytes escaped).
    pub text: String,
    /// The payload as space-separated hex: `48 65 6c`.
    pub hex: String,
    /// True when the kernel cut the datagram to the receive buffer.
    pub truncated: bool,
}

/// The local-time rendering of a packet time, truncated to whole microseconds
/// so it agrees with `unix_us`.
pub(super) fn local_time(unix_us: u64) -> DateTime<Local> {
    let utc = i64::try_from(unix_us)
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .unwrap_or_default();
    utc.with_timezone(&Local)
}

impl PacketRecord {
    /// The row for a packet.
    #[must_use]
    pub fn from_packet(packet: &Packet) -> PacketRecord {
        PacketRecord::named(packet, "")
    }

    /// The row for a packet of the endpoint called `name`.
    #[must_use]
    pub fn named(packet: &Packet, name: &str) -> PacketRecord {
        let unix_us = packet.unix_micros();
        PacketRecord {
            seq: packet.seq,
            time: local_time(unix_us).to_rfc3339_opts(SecondsFormat::Micros, false),
            unix_us,
            endpoint: packet.endpoint.0,
            endpoint_name: name.to_owned(),
            direction: packet.direction.label().to_owned(),
            local: packet.local.to_string(),
            peer: packet.peer.to_string(),
            size: packet.len(),
            encoding: packet.encoding.name().to_owned(),
            text: codec::decode(&packet.bytes, packet.encoding),
            hex: codec::to_hex(&packet.bytes),
            truncated: packet.truncated,
        }
    }

    /// The row as a spreadsheet may safely open it: a `text` beginning with
    /// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so
    /// it is shown as text, never run as a formula. `hex` stays exact, and
    /// it is what loading reads.
    #[must_use]
    pub fn for_spreadsheets(mut self) -> PacketRecord {
        for cell in [&mut self.text, &mut self.endpoint_name] {
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                cell.insert(0, '\'');
            }
        }
        self
    }

    /// The packet a row describes.
    ///
    /// # Errors
    /// `CaptureError::BadRecord` naming the first field that does not parse, or
    /// when `size` disagrees with the bytes in `hex`.
    pub fn to_packet(&self) -> Result<Packet, CaptureError> {
        let bad = |msg: String| CaptureError::BadRecord(msg);
        let direction = match self.direction.as_str() {
            "in" => Direction::In,
            "out" => Direction::Out,
            other => {
                return Err(bad(format!(
                    "direction \"{other}\" is not \"in\" or \"out\""
                )));
            }
        };
        let addr = |field: &str, value: &str| {
            value.parse::<SocketAddr>().map_err(|_| {
                bad(format!(
                    "{field} \"{value}\" is not an address like 127.0.0.1:9999 or [::1]:9999"
                ))
            })
        };
        let local = addr("local", &self.local)?;
        let peer = addr("peer", &self.peer)?;
        let encoding = Encoding::from_name(&self.encoding).ok_or_else(|| {
            let known: Vec<&str> = Encoding::ALL.iter().map(|e| e.name()).collect();
            bad(format!(
                "encoding \"{}\" is not one of {}",
                self.encoding,
                known.join(", ")
            ))
        })?;
        let bytes = codec::parse_hex(&self.hex).map_err(|e| bad(format!("hex: {e}")))?;
        if bytes.len() != self.size {
            return Err(bad(format!(
                "size says {} bytes but hex holds {}",
                self.size,
                bytes.len()
            )));
        }
        let time = SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_micros(self.unix_us))
            .ok_or_else(|| bad(format!("unix_us {} is out of range", self.unix_us)))?;
        Ok(Packet {
            seq: self.seq,
            time,
            endpoint: EndpointId(self.endpoint),
            direction,
            local,
            peer,
            encoding,
            bytes: Arc::from(bytes),
            truncated: self.truncated,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::testdata::{GBK_HELLO, packet, sample};

    #[test]
    fn record_round_trips_every_sample() {
        for p in sample() {
            let rec = PacketRecord::from_packet(&p);
            assert_eq!(rec.to_packet().unwrap(), p);
        }
    }

    #[test]
    fn record_fields_look_right() {
        let mut p = packet(2, Direction::In, GBK_HELLO);
        p.encoding = Encoding::Gbk;
        p.peer = "[::1]:40000".parse().unwrap();
        let rec = PacketRecord::from_packet(&p);
        assert_eq!(rec.direction, "in");
        assert_eq!(rec.local, "127.0.0.1:9999");
        assert_eq!(rec.peer, "[::1]:40000");
        assert_eq!(rec.encoding, "gbk");
        assert_eq!(rec.text, "你好，世界");
        assert_eq!(rec.hex, "c4 e3 ba c3 a3 ac ca c0 bd e7");
        assert_eq!(rec.size, 10);
        assert_eq!(rec.unix_us, p.unix_micros());
        // RFC 3339, microseconds, numeric offset: 2026-11-22T09:30:01.123456+08:00
        let parsed = DateTime::parse_from_rfc3339(&rec.time).unwrap();
        assert_eq!(
            parsed.timestamp_micros(),
            i64::try_from(rec.unix_us).unwrap()
        );
        assert_eq!(
            rec.time.len(),
            "2026-11-22T09:30:01.123456+08:00".len(),
            "{}",
            rec.time
        );
    }

    type Breaker = fn(&mut PacketRecord);

    #[test]
    fn bad_records_name_the_field() {
        let good = PacketRecord::from_packet(&packet(1, Direction::Out, b"hi"));
        let cases: [(Breaker, &str); 5] = [
            (|r| r.direction = "sideways".into(), "direction"),
            (|r| r.peer = "localhost".into(), "peer"),
            (|r| r.encoding = "ebcdic".into(), "encoding"),
            (|r| r.hex = "zz".into(), "hex"),
            (|r| r.size = 3, "size"),
        ];
        for (break_it, field) in cases {
            let mut rec = good.clone();
            break_it(&mut rec);
            let err = rec.to_packet().unwrap_err();
            assert!(matches!(err, CaptureError::BadRecord(_)));
            assert!(err.to_string().contains(field), "{err}");
        }
    }
}
