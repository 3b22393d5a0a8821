//! Opening a capture made by udpdesk, tcpdump or Wireshark: pcap and pcapng
//! (told apart by their first bytes, whatever the name), and udpdesk's own
//! `.jsonl` and `.csv` logs. Only UDP is taken; what is skipped is counted.
//! Packets are handed to the caller one at a time, so a million-packet file
//! needs no more memory than the caller keeps; progress and cancelling are
//! the caller's too.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, PcapError, TsResolution};
use rust_i18n::t;

use super::dissect::{Dissected, dissect};
use super::read::read_log;
use super::{CaptureError, LogFormat};
use crate::codec::Encoding;
use crate::packet::{Direction, EndpointId, Packet};

/// What was found in a capture besides the packets handed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// UDP datagrams handed over.
    pub packets: u64,
    /// Frames that were not UDP (TCP, ARP, ICMP...), skipped.
    pub not_udp: u64,
    /// Later IP fragments, skipped (their datagram's first fragment is kept, marked cut).
    pub fragments: u64,
    /// Frames of link types this reader does not know, skipped.
    pub unknown_link: u64,
    /// The name of each interface, by the endpoint number its packets carry.
    pub interfaces: Vec<(EndpointId, String)>,
}

impl Opened {
    /// One line for a status bar.
    #[must_use]
    pub fn summary(&self, path: &Path) -> String {
        let (packets, path) = (self.packets, path.display());
        let opened = if packets == 1 {
            t!("capture.opened_one", packets = packets, path = path)
        } else {
            t!("capture.opened", packets = packets, path = path)
        };
        let mut skipped = Vec::new();
        if self.not_udp > 0 {
            skipped.push(t!("capture.skipped_not_udp", count = self.not_udp));
        }
        if self.fragments > 0 {
            skipped.push(t!("capture.skipped_fragments", count = self.fragments));
        }
        if self.unknown_link > 0 {
            skipped.push(t!(
                "capture.skipped_unknown_link",
                count = self.unknown_link
            ));
        }
        if skipped.is_empty() {
            opened.into_owned()
        } else {
            let list = skipped.join(t!("capture.list_separator").as_ref());
            t!("capture.opened_skipped", opened = opened, skipped = list).into_owned()
        }
    }
}

impl fmt::Display for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&t!("capture.packets", count = self.packets))
    }
}

/// Endpoint numbers given to a file's interfaces start here, clear of the
/// numbers a running window gives its own endpoints.
pub const FIRST_FILE_ENDPOINT: u32 = 1 << 30;

/// Reads the capture at `path`, handing each UDP datagram to `take` in file
/// order, numbered from 1. `progress` hears the bytes read so far and the
/// file's size now and then; `cancel` stops the reading.
///
/// # Errors
/// `Read` for I/O problems, `NotACapture` for a file that is no capture or
/// log, `BadCapture` for a damaged one (the packets before the damage have
/// been handed over), `Cancelled`.
pub fn open_capture(
    path: &Path,
    take: &mut dyn FnMut(Packet),
    progress: &dyn Fn(u64, u64),
    cancel: &AtomicBool,
) -> Result<Opened, CaptureError> {
    let read_err = |source| CaptureError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    // A pipe has no size; progress then stays at the start until the end.
    let total = file.metadata().map_or(0, |m| m.len());
    read_capture(path, file, total, take, progress, cancel)
}

/// Like [`open_capture`], reading from `source` (`total` bytes long, or 0
/// when unknown); `path` names it in messages and, for logs, its extension
/// says whether it is `.jsonl` or `.csv`.
///
/// # Errors
/// As [`open_capture`].
pub fn read_capture(
    path: &Path,
    source: impl Read,
    total: u64,
    take: &mut dyn FnMut(Packet),
    progress: &dyn Fn(u64, u64),
    cancel: &AtomicBool,
) -> Result<Opened, CaptureError> {
    let read_err = |source| CaptureError::Read {
        path: path.to_path_buf(),
        source,
    };
    let read = Rc::new(Cell::new(0u64));
    // One open, read once: the magic is peeked from the buffer, so a pipe
    // (`<(tcpdump -w -)`) opens as well as a file.
    let mut reader = BufReader::with_capacity(
        1 << 20,
        Counted {
            inner: source,
            read: Rc::clone(&read),
        },
    );
    let start = reader.fill_buf().map_err(read_err)?;
    let magic = start
        .get(..4)
        .and_then(|m| <[u8; 4]>::try_from(m).ok())
        .map(u32::from_le_bytes);
    let kind = match magic {
        Some(0x0a0d_0d0a) => Kind::PcapNg,
        Some(0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1) => Kind::Pcap,
        _ => match LogFormat::from_path(path) {
            Ok(format @ (LogFormat::JsonLines | LogFormat::Csv)) => Kind::Log(format),
            _ => {
                return Err(CaptureError::NotACapture {
                    path: path.to_path_buf(),
                });
            }
        },
    };
    let mut state = State {
        path,
        take,
        opened: Opened::default(),
        progress,
        cancel,
        read,
        total,
        since_told: 0,
    };
    match kind {
        Kind::Pcap => state.pcap(reader)?,
        Kind::PcapNg => state.pcapng(reader)?,
        Kind::Log(format) => {
            // The log's endpoints keep their numbers, moved clear of a
            // running window's own.
            let mut seen = std::collections::HashSet::new();
            read_log(path, format, reader, &mut |mut p, name| {
                state.check()?;
                state.opened.packets += 1;
                p.seq = state.opened.packets;
                let original = p.endpoint.0;
                p.endpoint = EndpointId(FIRST_FILE_ENDPOINT.saturating_add(original));
                if seen.insert(original) {
                    let name = if name.is_empty() {
                        format!("endpoint {original}")
                    } else {
                        name.to_owned()
                    };
                    state.opened.interfaces.push((p.endpoint, name));
                }
                (state.take)(p);
                Ok(())
            })?;
        }
    }
    progress(total, total);
    Ok(state.opened)
}

enum Kind {
    Pcap,
    PcapNg,
    Log(LogFormat),
}

/// A reader that counts the bytes it gives.
struct Counted<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// One interface of a pcapng section.
struct Interface {
    link: DataLink,
    /// Timestamp units per second, and whether they are powers of two.
    resolution: u8,
    offset_secs: u64,
    endpoint: EndpointId,
}

struct State<'a> {
    path: &'a Path,
    take: &'a mut dyn FnMut(Packet),
    opened: Opened,
    progress: &'a dyn Fn(u64, u64),
    cancel: &'a AtomicBool,
    read: Rc<Cell<u64>>,
    total: u64,
    since_told: u32,
}

impl State<'_> {
    /// Stops when cancelled, and tells the progress every few thousand frames.
    fn check(&mut self) -> Result<(), CaptureError> {
        self.since_told += 1;
        if self.since_told >= 4096 {
            self.since_told = 0;
            if self.cancel.load(Ordering::Relaxed) {
                return Err(CaptureError::Cancelled);
            }
            (self.progress)(self.read.get(), self.total);
        }
        Ok(())
    }

    fn bad(&self, e: &PcapError) -> CaptureError {
        CaptureError::BadCapture {
            path: self.path.to_path_buf(),
            message: format!(
                "{e} after {} packets (those were read)",
                self.opened.packets
            ),
        }
    }

    fn pcap(&mut self, reader: impl Read) -> Result<(), CaptureError> {
        let mut pcap = PcapReader::new(reader).map_err(|e| self.bad(&e))?;
        let header = pcap.header();
        let endpoint = EndpointId(FIRST_FILE_ENDPOINT);
        self.opened
            .interfaces
            .push((endpoint, "capture".to_owned()));
        while let Some(raw) = pcap.next_raw_packet() {
            self.check()?;
            // Raw, because the parsed form refuses a frame longer on the wire
            // than the snap length, which a cut capture legitimately has.
            let raw = raw.map_err(|e| self.bad(&e))?;
            let frac = match header.ts_resolution {
                TsResolution::MicroSecond => Duration::from_micros(u64::from(raw.ts_frac)),
                TsResolution::NanoSecond => Duration::from_nanos(u64::from(raw.ts_frac)),
            };
            let time = at(Duration::from_secs(u64::from(raw.ts_sec)) + frac);
            self.frame(header.datalink, &raw.data, time, endpoint, None);
        }
        Ok(())
    }

    fn pcapng(&mut self, reader: impl Read) -> Result<(), CaptureError> {
        let mut ng = PcapNgReader::new(reader).map_err(|e| self.bad(&e))?;
        // Interfaces by number within the current section; endpoints numbered across sections.
        let mut interfaces: Vec<Interface> = Vec::new();
        let mut names: HashMap<u32, usize> = HashMap::new();
        while let Some(block) = ng.next_block() {
            self.check()?;
            match block.map_err(|e| self.bad(&e))? {
                Block::SectionHeader(_) => {
                    interfaces.clear();
                    names.clear();
                }
                Block::InterfaceDescription(idb) => {
                    let endpoint = EndpointId(
                        FIRST_FILE_ENDPOINT
                            + u32::try_from(self.opened.interfaces.len()).unwrap_or(0),
                    );
                    let mut resolution = 6;
                    let mut offset_secs = 0;
                    let mut name = format!("interface {}", interfaces.len());
                    for o in &idb.options {
                        match o {
                            InterfaceDescriptionOption::IfTsResol(r) => resolution = *r,
                            InterfaceDescriptionOption::IfTsOffset(s) => offset_secs = *s,
                            InterfaceDescriptionOption::IfName(n) => name = n.to_string(),
                            _ => {}
                        }
                    }
                    self.opened.interfaces.push((endpoint, name));
                    interfaces.push(Interface {
                        link: idb.linktype,
                        resolution,
                        offset_secs,
                        endpoint,
                    });
                }
                Block::EnhancedPacket(epb) => {
                    let Some(iface) = interfaces.get(epb.interface_id as usize) else {
                        self.opened.unknown_link += 1;
                        continue;
                    };
                    // pcap-file hands the raw 64-bit count over as nanoseconds;
                    // its unit is the interface's.
                    let raw = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                    // A time no clock can hold (a damaged or hostile file) reads as the epoch.
                    let time = Duration::from_secs(iface.offset_secs)
                        .checked_add(ticks(raw, iface.resolution))
                        .map_or(SystemTime::UNIX_EPOCH, at);
                    let direction = epb.options.iter().find_map(|o| match o {
                        EnhancedPacketOption::Flags(f) => match f & 0b11 {
                            1 => Some(Direction::In),
                            2 => Some(Direction::Out),
                            _ => None,
                        },
                        _ => None,
                    });
                    self.frame(iface.link, &epb.data, time, iface.endpoint, direction);
                }
                Block::SimplePacket(spb) => match interfaces.first() {
                    Some(iface) => {
                        let (link, endpoint) = (iface.link, iface.endpoint);
                        self.frame(link, &spb.data, SystemTime::UNIX_EPOCH, endpoint, None);
                    }
                    None => self.opened.unknown_link += 1,
                },
                _ => {}
            }
        }
        Ok(())
    }

    /// One captured frame: its UDP datagram is handed over, anything else counted.
    fn frame(
        &mut self,
        link: DataLink,
        data: &[u8],
        time: SystemTime,
        endpoint: EndpointId,
        direction: Option<Direction>,
    ) {
        match dissect(link, data) {
            Dissected::Udp {
                src,
                dst,
                payload,
                cut,
            } => {
                self.opened.packets += 1;
                // Without a direction flag, a datagram is seen from its receiver.
                let direction = direction.unwrap_or(Direction::In);
                let (local, peer) = match direction {
                    Direction::In => (dst, src),
                    Direction::Out => (src, dst),
                };
                (self.take)(Packet {
                    seq: self.opened.packets,
                    time: crate::packet::micros(time),
                    endpoint,
                    direction,
                    local,
                    peer,
                    encoding: Encoding::Utf8,
                    bytes: payload.into(),
                    truncated: cut,
                });
            }
            Dissected::Fragment => self.opened.fragments += 1,
            Dissected::Other => self.opened.not_udp += 1,
            Dissected::UnknownLink => self.opened.unknown_link += 1,
        }
    }
}

/// The time `since` the epoch, or the epoch itself when the sum overflows
/// what the system clock can hold.
fn at(since: Duration) -> SystemTime {
    SystemTime::UNIX_EPOCH
        .checked_add(since)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A pcapng timestamp in the interface's units (`if_tsresol`: 10^-n seconds,
/// or 2^-n with the high bit set) as a duration.
fn ticks(raw: u64, resolution: u8) -> Duration {
    let per_sec: u64 = if resolution & 0x80 == 0 {
        10u64.checked_pow(u32::from(resolution)).unwrap_or(1)
    } else {
        1u64.checked_shl(u32::from(resolution & 0x7f)).unwrap_or(1)
    };
    let secs = raw / per_sec;
    let frac = u128::from(raw % per_sec) * 1_000_000_000 / u128::from(per_sec);
    // Under a second of nanoseconds: Duration::new cannot overflow here.
    Duration::new(secs, u32::try_from(frac).unwrap_or(0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::save_log;
    use crate::capture::testdata::sample;

    fn open_all(path: &Path) -> (Vec<Packet>, Opened) {
        let mut packets = Vec::new();
        let opened = open_capture(
            path,
            &mut |p| packets.push(p),
            &|_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        (packets, opened)
    }

    #[test]
    fn timestamps_follow_the_interface_resolution() {
        assert_eq!(ticks(1_500_000, 6), Duration::from_millis(1500));
        assert_eq!(ticks(1_500_000_000, 9), Duration::from_millis(1500));
        assert_eq!(ticks(3, 0x81), Duration::from_millis(1500));
        // Nanosecond ticks of the largest count, on top of the largest offset.
        let huge = Duration::from_secs(u64::MAX).checked_add(ticks(u64::MAX, 0));
        assert!(huge.is_none_or(|d| at(d) >= SystemTime::UNIX_EPOCH));
        assert_eq!(at(Duration::MAX), SystemTime::UNIX_EPOCH);
    }

    #[test]
    fn udpdesk_files_open_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let packets = sample();
        for name in ["x.pcapng", "x.pcap", "x.jsonl", "x.csv"] {
            let path = dir.path().join(name);
            save_log(&path, &packets).unwrap();
            let (back, opened) = open_all(&path);
            assert_eq!(opened.packets, packets.len() as u64, "{name}");
            for (b, p) in back.iter().zip(&packets) {
                assert_eq!(b.bytes, p.bytes, "{name}");
                assert_eq!(b.time, p.time, "{name}");
                if name == "x.pcap" && p.direction == Direction::Out {
                    // pcap has no direction: a datagram is seen from its receiver.
                    assert_eq!(b.direction, Direction::In);
                    assert_eq!((b.local, b.peer), (p.peer, p.local), "{name}");
                } else {
                    assert_eq!(b.direction, p.direction, "{name}");
                    assert_eq!((b.local, b.peer), (p.local, p.peer), "{name}");
                }
            }
        }
    }

    #[test]
    fn a_file_that_is_no_capture_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello").unwrap();
        let err =
            open_capture(&path, &mut |_| {}, &|_, _| {}, &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(err, CaptureError::NotACapture { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_capture_arriving_through_a_pipe_opens() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.pcapng");
        save_log(&file, sample()).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        let pipe = dir.path().join("pipe");
        nix::unistd::mkfifo(&pipe, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let writing = pipe.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&writing)
                .unwrap();
            f.write_all(&bytes).unwrap();
        });
        let (packets, opened) = open_all(&pipe);
        writer.join().unwrap();
        assert_eq!(opened.packets, 6);
        assert_eq!(packets[0].bytes, sample()[0].bytes);
    }

    #[test]
    fn a_logs_endpoints_move_clear_of_the_windows_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        save_log(&path, sample()).unwrap();
        let (packets, opened) = open_all(&path);
        assert_eq!(packets[0].endpoint, EndpointId(FIRST_FILE_ENDPOINT + 1));
        assert_eq!(packets[1].endpoint, EndpointId(FIRST_FILE_ENDPOINT + 7));
        let names: Vec<&str> = opened.interfaces.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["endpoint 1", "endpoint 7"]);
    }

    #[test]
    fn cancelling_stops_the_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pcapng");
        let packets: Vec<Packet> = (1..=10_000)
            .map(|s| crate::capture::testdata::packet(s, Direction::In, b"x"))
            .collect();
        save_log(&path, &packets).unwrap();
        let err = open_capture(&path, &mut |_| {}, &|_, _| {}, &AtomicBool::new(true)).unwrap_err();
        assert!(matches!(err, CaptureError::Cancelled));
    }

    #[test]
    fn saved_logs_carry_endpoint_names_and_open_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let packets = crate::capture::testdata::sample();
        let names: Vec<(EndpointId, String)> = packets
            .iter()
            .map(|p| (p.endpoint, format!("PLC sim {}", p.endpoint.0)))
            .collect();
        for ext in ["csv", "jsonl", "txt"] {
            let path = dir.path().join(format!("named.{ext}"));
            crate::capture::save_named_log(&path, &packets, &names).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains("PLC sim"), "{ext}: {text}");
            if ext == "txt" {
                continue;
            }
            let cancel = AtomicBool::new(false);
            let opened = open_capture(&path, &mut |_| {}, &|_, _| {}, &cancel).unwrap();
            assert!(
                opened
                    .interfaces
                    .iter()
                    .all(|(_, n)| n.starts_with("PLC sim")),
                "{ext}: {:?}",
                opened.interfaces
            );
        }
    }
}
