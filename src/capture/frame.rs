//! The IPv4 or IPv6 header and the UDP header synthesised around a datagram,
//! so pcap and pcapng files (link type RAW) dissect in Wireshark with the
//! right addresses, ports, lengths and checksums.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const UDP_HEADER: usize = 8;
const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const PROTO_UDP: u8 = 17;
const TTL: u8 = 64;

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Both addresses as one family: IPv4 when both are IPv4 (or v4-mapped, as a
/// dual-stack socket reports them), otherwise IPv6 with IPv4 mapped in.
enum Ips {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

fn ips(src: IpAddr, dst: IpAddr) -> Ips {
    let v4 = |ip: IpAddr| match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(a) => a.to_ipv4_mapped(),
    };
    let v6 = |ip: IpAddr| match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    };
    // A dual-stack socket bound to [::] talking to a v4-mapped peer is IPv4 on the wire.
    let any6 = |ip: IpAddr| matches!(ip, IpAddr::V6(a) if a.is_unspecified());
    match (v4(src), v4(dst)) {
        (Some(s), Some(d)) => Ips::V4(s, d),
        (Some(s), None) if any6(dst) => Ips::V4(s, Ipv4Addr::UNSPECIFIED),
        (None, Some(d)) if any6(src) => Ips::V4(Ipv4Addr::UNSPECIFIED, d),
        _ => Ips::V6(v6(src), v6(dst)),
    }
}

/// The IP packet for one datagram. Length fields are 16 bits, so a payload
/// too big for them (impossible for real UDP) is cut to fit. Also returns the
/// IP + UDP header length.
pub(super) fn ip_udp(
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
    seq: u64,
) -> (Vec<u8>, usize) {
    match ips(src.ip(), dst.ip()) {
        Ips::V4(s, d) => {
            let payload = &payload[..payload
                .len()
                .min(usize::from(u16::MAX) - IPV4_HEADER - UDP_HEADER)];
            let udp_len = UDP_HEADER + payload.len();
            let total = IPV4_HEADER + udp_len;
            let mut f = Vec::with_capacity(total);
            f.extend_from_slice(&[0x45, 0]);
            f.extend_from_slice(&len16(total).to_be_bytes());
            // Identification: the low bits of seq, handy for matching rows in Wireshark.
            f.extend_from_slice(&((seq & 0xffff) as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0, TTL, PROTO_UDP, 0, 0]);
            f.extend_from_slice(&s.octets());
            f.extend_from_slice(&d.octets());
            let csum = checksum(0, &f);
            f[10..12].copy_from_slice(&csum.to_be_bytes());
            let mut pseudo = Vec::with_capacity(12);
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, PROTO_UDP]);
            pseudo.extend_from_slice(&len16(udp_len).to_be_bytes());
            push_udp(&mut f, &pseudo, src.port(), dst.port(), payload);
            (f, IPV4_HEADER + UDP_HEADER)
        }
        Ips::V6(s, d) => {
            let payload = &payload[..payload.len().min(usize::from(u16::MAX) - UDP_HEADER)];
            let udp_len = UDP_HEADER + payload.len();
            let mut f = Vec::with_capacity(IPV6_HEADER + udp_len);
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&len16(udp_len).to_be_bytes());
            f.extend_from_slice(&[PROTO_UDP, TTL]);
            f.extend_from_slice(&s.octets());
            f.extend_from_slice(&d.octets());
            let mut pseudo = Vec::with_capacity(40);
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&len32(udp_len).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, PROTO_UDP]);
            push_udp(&mut f, &pseudo, src.port(), dst.port(), payload);
            (f, IPV6_HEADER + UDP_HEADER)
        }
    }
}

fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Appends the UDP header (checksum over pseudo-header, header and payload) and payload.
fn push_udp(f: &mut Vec<u8>, pseudo: &[u8], sport: u16, dport: u16, payload: &[u8]) {
    let start = f.len();
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&len16(UDP_HEADER + payload.len()).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    let sum = checksum(sum_words(0, pseudo), &f[start..]);
    // 0 means "no checksum" in UDP, so a computed 0 is sent as its ones'-complement twin.
    let sum = if sum == 0 { 0xffff } else { sum };
    f[start + 6..start + 8].copy_from_slice(&sum.to_be_bytes());
}

fn sum_words(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
        acc = (acc & 0xffff) + (acc >> 16);
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// The Internet checksum (RFC 1071) of `data`, continuing a partial sum.
fn checksum(acc: u32, data: &[u8]) -> u16 {
    let mut acc = sum_words(acc, data);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::stream::SNAPLEN;
    use crate::capture::{LogFormat, LogWriter};
    use crate::packet::Direction;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
        assert_eq!(
            checksum(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        // Odd length pads with a zero byte.
        assert_eq!(checksum(0, &[0x01]), !0x0100);
    }

    #[test]
    fn families_are_unified() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(matches!(ips(v4, mapped), Ips::V4(_, d) if d == Ipv4Addr::new(10, 0, 0, 2)));
        let any6: IpAddr = "::".parse().unwrap();
        assert!(matches!(ips(any6, mapped), Ips::V4(s, _) if s.is_unspecified()));
        assert!(matches!(ips(any6, v6), Ips::V6(..)));
        assert!(
            matches!(ips(v4, v6), Ips::V6(s, _) if s == "::ffff:10.0.0.1".parse::<Ipv6Addr>().unwrap())
        );
    }

    /// Reads a little-endian u32 at `at`.
    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn be16(b: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    /// Splits a pcap file into (ts_sec, ts_usec, orig_len, frame) records.
    fn records(file: &[u8]) -> Vec<(u32, u32, u32, &[u8])> {
        let mut out = Vec::new();
        let mut at = 24;
        while at < file.len() {
            let incl = le32(file, at + 8) as usize;
            out.push((
                le32(file, at),
                le32(file, at + 4),
                le32(file, at + 12),
                &file[at + 16..at + 16 + incl],
            ));
            at += 16 + incl;
        }
        assert_eq!(at, file.len(), "records must tile the file exactly");
        out
    }

    #[test]
    fn pcap_file_parses_by_hand() {
        use crate::capture::save_log;
        use crate::capture::testdata::sample;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cap.pcap");
        let packets = sample();
        save_log(&path, &packets).unwrap();
        let file = std::fs::read(&path).unwrap();

        assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]); // a1b2c3d4, little-endian
        assert_eq!(u16::from_le_bytes([file[4], file[5]]), 2);
        assert_eq!(u16::from_le_bytes([file[6], file[7]]), 4);
        assert_eq!(le32(&file, 16), SNAPLEN);
        assert_eq!(le32(&file, 20), 101);

        let recs = records(&file);
        assert_eq!(recs.len(), packets.len());
        for ((sec, usec, orig, frame), p) in recs.iter().zip(&packets) {
            let us = p.unix_micros();
            assert_eq!(u64::from(*sec), us / 1_000_000);
            assert_eq!(u64::from(*usec), us % 1_000_000);
            assert_eq!(*orig as usize, frame.len());
            let (src, dst) = match p.direction {
                Direction::In => (p.peer, p.local),
                Direction::Out => (p.local, p.peer),
            };
            let udp = if p.peer.is_ipv4() {
                assert_eq!(frame[0], 0x45);
                assert_eq!(be16(frame, 2) as usize, frame.len()); // total length
                assert_eq!(be16(frame, 4), p.seq as u16); // identification
                assert_eq!((frame[8], frame[9]), (64, 17)); // ttl, protocol
                assert_eq!(
                    checksum(0, &frame[..20]),
                    0,
                    "IPv4 header checksum verifies"
                );
                assert_eq!(
                    &frame[12..16],
                    &src.ip().to_string().parse::<Ipv4Addr>().unwrap().octets()
                );
                assert_eq!(
                    &frame[16..20],
                    &dst.ip().to_string().parse::<Ipv4Addr>().unwrap().octets()
                );
                let mut pseudo = frame[12..20].to_vec();
                pseudo.extend_from_slice(&[0, 17]);
                pseudo.extend_from_slice(&((8 + p.len()) as u16).to_be_bytes());
                assert_eq!(
                    checksum(sum_words(0, &pseudo), &frame[20..]),
                    0,
                    "UDP checksum verifies"
                );
                &frame[20..]
            } else {
                assert_eq!(frame[0] >> 4, 6);
                assert_eq!(be16(frame, 4) as usize, 8 + p.len()); // payload length
                assert_eq!((frame[6], frame[7]), (17, 64)); // next header, hop limit
                assert_eq!(
                    &frame[8..24],
                    &src.ip().to_string().parse::<Ipv6Addr>().unwrap().octets()
                );
                assert_eq!(
                    &frame[24..40],
                    &dst.ip().to_string().parse::<Ipv6Addr>().unwrap().octets()
                );
                let mut pseudo = frame[8..40].to_vec();
                pseudo.extend_from_slice(&((8 + p.len()) as u32).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, 17]);
                assert_ne!(be16(frame, 46), 0, "IPv6 UDP checksum is mandatory");
                assert_eq!(
                    checksum(sum_words(0, &pseudo), &frame[40..]),
                    0,
                    "UDP checksum verifies"
                );
                &frame[40..]
            };
            assert_eq!(be16(udp, 0), src.port());
            assert_eq!(be16(udp, 2), dst.port());
            assert_eq!(be16(udp, 4) as usize, 8 + p.len());
            assert_eq!(&udp[8..], &p.bytes[..]);
        }
    }

    #[test]
    fn oversized_payload_is_cut_but_orig_len_is_full() {
        let p = crate::capture::testdata::packet(1, Direction::Out, &vec![7u8; 70_000]);
        let mut log = LogWriter::new(LogFormat::Pcap).unwrap();
        log.packet(&p).unwrap();
        let mut out = Vec::new();
        log.drain_to(&mut out).unwrap();
        let rec = &out[24..];
        let incl = le32(rec, 8) as usize;
        assert_eq!(incl, 65_535);
        assert_eq!(le32(rec, 12) as usize, 70_000 + 28);
        assert_eq!(rec.len(), 16 + incl);
        assert_eq!(checksum(0, &rec[16..36]), 0);
    }
}
