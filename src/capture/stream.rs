//! `LogWriter`: a log written packet by packet into a buffer that its owner
//! empties into a file whenever it likes. Both a one-off save and a live
//! capture use it, so every format has one writer. Records are whole in the
//! buffer, so a file that gets only whole buffers ends on a whole record.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::interface_statistics::{
    InterfaceStatisticsBlock, InterfaceStatisticsOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use super::record::PacketRecord;
use super::write::Written;
use super::{LogFormat, frame, text};
use crate::packet::{Direction, EndpointId, Packet};

/// Largest frame a record holds: tcpdump's default snap length, more than a
/// maximal IPv6 UDP datagram with its headers.
pub(super) const SNAPLEN: u32 = 262_144;

/// What the section of every pcapng file says about its writer.
fn writer_name() -> String {
    format!("udpdesk {}", env!("CARGO_PKG_VERSION"))
}

/// Per-endpoint figures for a pcapng Interface Statistics Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams the endpoint's socket received while the log was written.
    pub received: u64,
    /// Datagrams the kernel dropped on that socket in that time.
    pub dropped: u64,
}

/// A log being written, record by record.
pub struct LogWriter {
    format: LogFormat,
    out: Out,
    written: Written,
    /// Something was added since the buffer was last emptied.
    dirty: bool,
    /// Endpoint names: pcapng interfaces, the CSV and JSON `endpoint_name`, the text log's column.
    names: HashMap<EndpointId, String>,
}

enum Out {
    Text(Vec<u8>),
    Csv(Box<csv::Writer<Vec<u8>>>),
    JsonLines(Vec<u8>),
    Pcap(Pcap),
    PcapNg(PcapNg),
}

/// The classic pcap writer. It only gives its buffer up by value, so draining
/// swaps in a fresh writer, whose copy of the file header is then skipped.
struct Pcap {
    writer: PcapWriter<Vec<u8>>,
    /// Bytes at the start of the buffer that are already in the file.
    skip: usize,
    /// Bytes in the buffer after those.
    pending: usize,
}

/// The classic pcap file header's size.
const PCAP_HEADER: usize = 24;

/// The pcapng writer plus the interface number given to each endpoint.
struct PcapNg {
    writer: PcapNgWriter<Vec<u8>>,
    interfaces: HashMap<EndpointId, u32>,
}

fn pcap_error(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

impl LogWriter {
    /// A writer whose buffer already holds the format's header.
    ///
    /// # Errors
    /// Only if a header cannot be encoded (it always can).
    pub fn new(format: LogFormat) -> io::Result<LogWriter> {
        let out = match format {
            LogFormat::Text => {
                let mut buf = Vec::new();
                text::write_header(&mut buf)?;
                Out::Text(buf)
            }
            LogFormat::Csv => {
                let mut csv = csv_writer();
                csv.write_record(super::write::CSV_HEADER)?;
                Out::Csv(Box::new(csv))
            }
            LogFormat::JsonLines => Out::JsonLines(Vec::new()),
            LogFormat::Pcap => Out::Pcap(Pcap {
                writer: PcapWriter::with_header(Vec::new(), pcap_header()).map_err(pcap_error)?,
                skip: 0,
                pending: PCAP_HEADER,
            }),
            LogFormat::PcapNg => {
                let section = SectionHeaderBlock {
                    endianness: Endianness::Little,
                    options: vec![
                        SectionHeaderOption::Comment(Cow::Owned(format!(
                            "written by {}",
                            writer_name()
                        ))),
                        SectionHeaderOption::UserApplication(Cow::Owned(writer_name())),
                        SectionHeaderOption::OS(Cow::Borrowed(std::env::consts::OS)),
                    ],
                    ..SectionHeaderBlock::default()
                };
                let writer =
                    PcapNgWriter::with_section_header(Vec::new(), section).map_err(pcap_error)?;
                Out::PcapNg(PcapNg {
                    writer,
                    interfaces: HashMap::new(),
                })
            }
        };
        Ok(LogWriter {
            format,
            out,
            names: HashMap::new(),
            written: Written::default(),
            // The header waits to be written.
            dirty: true,
        })
    }

    /// The format being written.
    #[must_use]
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Packets and payload bytes written so far.
    #[must_use]
    pub fn written(&self) -> Written {
        self.written
    }

    /// Names an endpoint: in pcapng it becomes an interface of that name (the
    /// first name given wins). Other formats say the endpoint's number.
    ///
    /// # Errors
    /// Only if the block cannot be encoded.
    pub fn name_endpoint(&mut self, id: EndpointId, name: &str) -> io::Result<()> {
        self.names.entry(id).or_insert_with(|| name.to_owned());
        if let Out::PcapNg(ng) = &mut self.out {
            ng.interface(id, name)?;
            self.dirty = true;
        }
        Ok(())
    }

    /// Appends one packet.
    ///
    /// # Errors
    /// Only if the record cannot be encoded.
    pub fn packet(&mut self, p: &Packet) -> io::Result<()> {
        match &mut self.out {
            Out::Text(buf) => text::write_packet(buf, p, self.names.get(&p.endpoint))?,
            Out::Csv(csv) => {
                let name = self.names.get(&p.endpoint).map_or("", String::as_str);
                csv.serialize(PacketRecord::named(p, name).for_spreadsheets())?;
            }
            Out::JsonLines(buf) => {
                let name = self.names.get(&p.endpoint).map_or("", String::as_str);
                serde_json::to_writer(&mut *buf, &PacketRecord::named(p, name))?;
                buf.push(b'\n');
            }
            Out::Pcap(pcap) => {
                let (data, orig_len) = wire_frame(p);
                let packet = PcapPacket::new(since_epoch(p.time), orig_len, &data);
                pcap.pending += pcap.writer.write_packet(&packet).map_err(pcap_error)?;
            }
            Out::PcapNg(ng) => {
                let interface_id = ng.interface(p.endpoint, &format!("endpoint {}", p.endpoint))?;
                let (data, orig_len) = wire_frame(p);
                let flags = match p.direction {
                    Direction::In => 0b01,
                    Direction::Out => 0b10,
                };
                let block = EnhancedPacketBlock {
                    interface_id,
                    timestamp: since_epoch(p.time),
                    original_len: orig_len,
                    data: Cow::Borrowed(&data),
                    options: vec![EnhancedPacketOption::Flags(flags)],
                };
                ng.writer.write_pcapng_block(block).map_err(pcap_error)?;
            }
        }
        self.written.packets += 1;
        self.written.bytes += p.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// In pcapng, an Interface Statistics Block per endpoint (received and
    /// kernel-dropped datagrams, as Wireshark's capture file properties show
    /// them); other formats have no place for it.
    ///
    /// # Errors
    /// Only if a block cannot be encoded.
    pub fn statistics(
        &mut self,
        stats: &[(EndpointId, EndpointStats)],
        start: SystemTime,
        end: SystemTime,
    ) -> io::Result<()> {
        let Out::PcapNg(ng) = &mut self.out else {
            return Ok(());
        };
        self.dirty = true;
        let nanos = |t: SystemTime| u64::try_from(since_epoch(t).as_nanos()).unwrap_or(u64::MAX);
        for (id, s) in stats {
            let interface_id = ng.interface(*id, &format!("endpoint {id}"))?;
            let block = InterfaceStatisticsBlock {
                interface_id,
                timestamp: nanos(end),
                options: vec![
                    InterfaceStatisticsOption::IsbStartTime(nanos(start)),
                    InterfaceStatisticsOption::IsbEndTime(nanos(end)),
                    InterfaceStatisticsOption::IsbIfRecv(s.received),
                    InterfaceStatisticsOption::IsbIfDrop(s.dropped),
                ],
            };
            ng.writer.write_pcapng_block(block).map_err(pcap_error)?;
        }
        Ok(())
    }

    /// Bytes waiting in the buffer.
    #[must_use]
    pub fn pending(&self) -> usize {
        if !self.dirty {
            return 0;
        }
        match &self.out {
            Out::Text(buf) | Out::JsonLines(buf) => buf.len(),
            // The csv writer keeps a small buffer of its own until flushed.
            Out::Csv(csv) => csv.get_ref().len() + 8 * 1024,
            Out::Pcap(pcap) => pcap.pending,
            Out::PcapNg(ng) => ng.writer.get_ref().len(),
        }
    }

    /// Writes every whole record waiting to `w` and empties the buffer.
    ///
    /// # Errors
    /// Whatever `w` reports. The file then ends on an unknown record: a log
    /// that failed is abandoned, not retried.
    pub fn drain_to(&mut self, w: &mut impl Write) -> io::Result<()> {
        self.dirty = false;
        let buf = match &mut self.out {
            Out::Text(buf) | Out::JsonLines(buf) => buf,
            Out::Csv(csv) => {
                // The csv writer gives its buffer up only by value.
                let buf = std::mem::replace(&mut **csv, csv_writer())
                    .into_inner()
                    .map_err(|e| io::Error::other(e.error().to_string()))?;
                return w.write_all(&buf);
            }
            Out::Pcap(pcap) => return pcap.drain_to(w),
            Out::PcapNg(ng) => ng.writer.get_mut(),
        };
        w.write_all(buf)?;
        buf.clear();
        Ok(())
    }
}

impl PcapNg {
    /// The interface number of an endpoint, describing it first if it is new.
    fn interface(&mut self, id: EndpointId, name: &str) -> io::Result<u32> {
        if let Some(&n) = self.interfaces.get(&id) {
            return Ok(n);
        }
        let n = u32::try_from(self.interfaces.len()).unwrap_or(u32::MAX);
        let block = InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: SNAPLEN,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(name.to_owned())),
                InterfaceDescriptionOption::IfDescription(Cow::Owned(format!(
                    "udpdesk endpoint {id}"
                ))),
                // Nanoseconds: the unit pcap-file writes every timestamp in.
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        self.writer.write_pcapng_block(block).map_err(pcap_error)?;
        self.interfaces.insert(id, n);
        Ok(n)
    }
}

/// RFC 4180: CRLF line ends, quotes only where needed, no header of its own
/// (ours is written once, explicitly, so an empty log still has one).
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn pcap_header() -> PcapHeader {
    PcapHeader {
        snaplen: SNAPLEN,
        datalink: DataLink::RAW,
        ts_resolution: TsResolution::MicroSecond,
        endianness: Endianness::Little,
        ..PcapHeader::default()
    }
}

impl Pcap {
    fn drain_to(&mut self, w: &mut impl Write) -> io::Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let fresh = PcapWriter::with_header(Vec::new(), pcap_header()).map_err(pcap_error)?;
        let buf = std::mem::replace(&mut self.writer, fresh).into_writer();
        let skip = std::mem::replace(&mut self.skip, PCAP_HEADER);
        self.pending = 0;
        w.write_all(buf.get(skip..).unwrap_or_default())?;
        Ok(())
    }
}

/// The packet as a sniffer would have seen it: IP and UDP headers, then the
/// payload. Also the length before any cut (a payload too large for IP's
/// 16-bit lengths, which real UDP never has, is cut).
fn wire_frame(p: &Packet) -> (Vec<u8>, u32) {
    let (src, dst) = match p.direction {
        Direction::In => (p.peer, p.local),
        Direction::Out => (p.local, p.peer),
    };
    let (data, header_len) = frame::ip_udp(src, dst, &p.bytes, p.seq);
    let orig = u32::try_from(header_len + p.len()).unwrap_or(u32::MAX);
    (data, orig)
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::save_log;
    use crate::capture::testdata::sample;
    use pcap_file::pcapng::{Block, PcapNgReader};

    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn pcapng_of(packets: &[Packet], names: &[(EndpointId, &str)]) -> Vec<u8> {
        let mut log = LogWriter::new(LogFormat::PcapNg).unwrap();
        for (id, name) in names {
            log.name_endpoint(*id, name).unwrap();
        }
        for p in packets {
            log.packet(p).unwrap();
        }
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_100);
        let stats = EndpointStats {
            received: 4,
            dropped: 3,
        };
        log.statistics(&[(EndpointId(1), stats)], t, t + Duration::from_secs(2))
            .unwrap();
        let mut out = Vec::new();
        log.drain_to(&mut out).unwrap();
        out
    }

    #[test]
    fn pcapng_section_header_worked_out_by_hand() {
        let mut log = LogWriter::new(LogFormat::PcapNg).unwrap();
        let mut file = Vec::new();
        log.drain_to(&mut file).unwrap();
        // Section Header Block: type, total length, byte-order magic, version 1.0, length unknown.
        assert_eq!(le32(&file, 0), 0x0A0D_0D0A);
        let total = le32(&file, 4) as usize;
        assert_eq!(le32(&file, 8), 0x1A2B_3C4D);
        assert_eq!(&file[12..16], &[1, 0, 0, 0]);
        assert_eq!(&file[16..24], &(-1i64).to_le_bytes());
        // First option: opt_comment (code 1), padded to 4 bytes.
        let comment = format!("written by udpdesk {}", env!("CARGO_PKG_VERSION"));
        assert_eq!(u16::from_le_bytes([file[24], file[25]]), 1);
        assert_eq!(
            u16::from_le_bytes([file[26], file[27]]) as usize,
            comment.len()
        );
        assert_eq!(&file[28..28 + comment.len()], comment.as_bytes());
        // The block ends with its length repeated, and the file is only this block.
        assert_eq!(le32(&file, total - 4) as usize, total);
        assert_eq!(file.len(), total);
    }

    #[test]
    fn pcapng_reads_back_with_pcap_file() {
        let packets = sample();
        let file = pcapng_of(&packets, &[(EndpointId(7), "server 0.0.0.0:9999")]);
        let mut reader = PcapNgReader::new(&file[..]).unwrap();
        let section = reader.section().clone();
        assert!(section.options.iter().any(|o| matches!(o,
            SectionHeaderOption::Comment(c) if c.starts_with("written by udpdesk"))));
        let mut names = Vec::new();
        let mut epbs = Vec::new();
        let mut isbs = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.unwrap() {
                Block::InterfaceDescription(idb) => {
                    assert_eq!(idb.linktype, DataLink::RAW);
                    assert!(
                        idb.options
                            .contains(&InterfaceDescriptionOption::IfTsResol(9))
                    );
                    names.extend(idb.options.iter().filter_map(|o| match o {
                        InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                        _ => None,
                    }));
                }
                Block::EnhancedPacket(epb) => epbs.push(epb.into_owned()),
                Block::InterfaceStatistics(isb) => isbs.push(isb.into_owned()),
                other => panic!("unexpected block {other:?}"),
            }
        }
        // Named before use; the other endpoint is described on its first packet.
        assert_eq!(names, ["server 0.0.0.0:9999", "endpoint #1"]);
        assert_eq!(epbs.len(), packets.len());
        for (epb, p) in epbs.iter().zip(&packets) {
            let want = if p.endpoint == EndpointId(7) { 0 } else { 1 };
            assert_eq!(epb.interface_id, want);
            assert_eq!(epb.timestamp, since_epoch(p.time));
            let (frame, orig) = wire_frame(p);
            assert_eq!(&epb.data[..], &frame[..]);
            assert_eq!(epb.original_len, orig);
            let flags = if p.direction == Direction::In { 1 } else { 2 };
            assert_eq!(epb.options, [EnhancedPacketOption::Flags(flags)]);
            // The payload sits after the IP and UDP headers.
            assert!(epb.data.ends_with(&p.bytes));
        }
        assert_eq!(isbs.len(), 1);
        assert_eq!(isbs[0].interface_id, 1);
        assert!(
            isbs[0]
                .options
                .contains(&InterfaceStatisticsOption::IsbIfDrop(3))
        );
        assert!(
            isbs[0]
                .options
                .contains(&InterfaceStatisticsOption::IsbIfRecv(4))
        );
    }

    #[test]
    fn every_format_drains_whole_records_in_pieces() {
        let packets = sample();
        for format in LogFormat::ALL {
            let mut whole = Vec::new();
            crate::capture::write_log(&mut whole, format, &packets).unwrap();
            let mut log = LogWriter::new(format).unwrap();
            let mut pieces = Vec::new();
            for p in &packets {
                log.packet(p).unwrap();
                log.drain_to(&mut pieces).unwrap();
                log.drain_to(&mut pieces).unwrap();
            }
            assert_eq!(pieces, whole, "{format}");
            assert_eq!(log.written().packets, packets.len() as u64);
        }
    }

    #[test]
    fn pcap_reads_back_with_pcap_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pcap");
        let packets = sample();
        save_log(&path, &packets).unwrap();
        let file = std::fs::read(&path).unwrap();
        let mut reader = pcap_file::pcap::PcapReader::new(&file[..]).unwrap();
        assert_eq!(reader.header().datalink, DataLink::RAW);
        let mut n = 0;
        while let Some(pkt) = reader.next_packet() {
            let pkt = pkt.unwrap();
            let p = &packets[n];
            assert_eq!(pkt.timestamp, since_epoch(p.time));
            assert_eq!(&pkt.data[..], &wire_frame(p).0[..]);
            n += 1;
        }
        assert_eq!(n, packets.len());
    }
}
