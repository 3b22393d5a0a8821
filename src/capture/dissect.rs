//! Finding the UDP datagram in a captured frame: Ethernet (with 802.1Q and
//! 802.1ad VLAN tags), raw IP, Linux cooked captures (SLL and SLL2) and BSD
//! loopback, then IPv4 (options, fragments) or IPv6 (extension headers,
//! fragments), then UDP. Anything else is named, to be counted and skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use pcap_file::DataLink;

/// What a frame holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dissected<'a> {
    /// A UDP datagram.
    Udp {
        /// The sender.
        src: SocketAddr,
        /// The receiver.
        dst: SocketAddr,
        /// The payload as captured.
        payload: &'a [u8],
        /// The capture (or a first fragment) holds less than the datagram.
        cut: bool,
    },
    /// A later IP fragment: its bytes belong to a datagram begun elsewhere.
    Fragment,
    /// Not UDP (TCP, ARP, ICMP...), or too short to tell.
    Other,
    /// A link type this reader does not know.
    UnknownLink,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const VLAN_TAGS: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const PROTO_UDP: u8 = 17;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The UDP datagram in `frame`, captured with link type `link`.
#[must_use]
pub fn dissect(link: DataLink, frame: &[u8]) -> Dissected<'_> {
    match link {
        DataLink::ETHERNET => ethernet(frame),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => ip(frame),
        // SLL: packet type, ARPHRD, address length, 8 address bytes, protocol.
        DataLink::LINUX_SLL => by_ethertype(be16(frame, 14), frame.get(16..)),
        // SLL2: protocol first, then 18 more bytes.
        DataLink::LINUX_SLL2 => by_ethertype(be16(frame, 0), frame.get(20..)),
        // BSD loopback: a 4-byte address family (host or network order); the
        // IP version nibble says the same more simply.
        DataLink::NULL | DataLink::LOOP => frame.get(4..).map_or(Dissected::Other, ip),
        _ => Dissected::UnknownLink,
    }
}

fn ethernet(frame: &[u8]) -> Dissected<'_> {
    let mut at = 12;
    let mut ethertype = be16(frame, at);
    while ethertype.is_some_and(|t| VLAN_TAGS.contains(&t)) {
        at += 4;
        ethertype = be16(frame, at);
    }
    by_ethertype(ethertype, frame.get(at + 2..))
}

fn by_ethertype(ethertype: Option<u16>, rest: Option<&[u8]>) -> Dissected<'_> {
    match (ethertype, rest) {
        (Some(ETHERTYPE_IPV4 | ETHERTYPE_IPV6), Some(rest)) => ip(rest),
        _ => Dissected::Other,
    }
}

fn ip(packet: &[u8]) -> Dissected<'_> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => ipv4(packet),
        Some(6) => ipv6(packet),
        _ => Dissected::Other,
    }
}

fn ipv4(p: &[u8]) -> Dissected<'_> {
    let Some(&first) = p.first() else {
        return Dissected::Other;
    };
    let header = usize::from(first & 0x0f) * 4;
    let (Some(total), Some(frag), Some(&proto)) = (be16(p, 2), be16(p, 6), p.get(9)) else {
        return Dissected::Other;
    };
    if header < 20 || p.len() < header {
        return Dissected::Other;
    }
    if frag & 0x1fff != 0 {
        return Dissected::Fragment;
    }
    if proto != PROTO_UDP {
        return Dissected::Other;
    }
    let more_fragments = frag & 0x2000 != 0;
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    let end = usize::from(total).clamp(header, p.len());
    udp(src.into(), dst.into(), &p[header..end], more_fragments)
}

fn ipv6(p: &[u8]) -> Dissected<'_> {
    if p.len() < 40 {
        return Dissected::Other;
    }
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&p[8..24]);
    let src = Ipv6Addr::from(octets);
    octets.copy_from_slice(&p[24..40]);
    let dst = Ipv6Addr::from(octets);
    let end = (40 + usize::from(be16(p, 4).unwrap_or(0))).min(p.len());
    let mut next = p[6];
    let mut at = 40;
    let mut more_fragments = false;
    loop {
        match next {
            PROTO_UDP => {
                let body = p.get(at..end.max(at)).unwrap_or_default();
                return udp(src.into(), dst.into(), body, more_fragments);
            }
            // Hop-by-hop, routing, destination options.
            0 | 43 | 60 => {
                let (Some(&n), Some(&len)) = (p.get(at), p.get(at + 1)) else {
                    return Dissected::Other;
                };
                next = n;
                at += (usize::from(len) + 1) * 8;
            }
            // Fragment header.
            44 => {
                let (Some(&n), Some(off)) = (p.get(at), be16(p, at + 2)) else {
                    return Dissected::Other;
                };
                if off >> 3 != 0 {
                    return Dissected::Fragment;
                }
                more_fragments = off & 1 != 0;
                next = n;
                at += 8;
            }
            _ => return Dissected::Other,
        }
    }
}

fn udp(src: IpAddr, dst: IpAddr, u: &[u8], fragmented: bool) -> Dissected<'_> {
    let (Some(sport), Some(dport), Some(len)) = (be16(u, 0), be16(u, 2), be16(u, 4)) else {
        return Dissected::Other;
    };
    let want = usize::from(len).max(8);
    let end = want.min(u.len());
    Dissected::Udp {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        payload: u.get(8..end).unwrap_or_default(),
        cut: fragmented || want > u.len(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::frame::ip_udp;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn ether(ethertype: u16, vlans: &[u16], payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        for v in vlans {
            f.extend_from_slice(&v.to_be_bytes());
            f.extend_from_slice(&[0x00, 0x05]);
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn every_link_type_yields_the_datagram() {
        let (v4, _) = ip_udp(addr("10.0.0.1:5000"), addr("10.0.0.2:53"), b"hello", 1);
        let (v6, _) = ip_udp(addr("[fe80::1]:5000"), addr("[fe80::2]:53"), b"hi6", 1);
        let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        sll.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        sll.extend_from_slice(&v4);
        let mut sll2 = ETHERTYPE_IPV6.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0; 18]);
        sll2.extend_from_slice(&v6);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&v4);
        let mut lo = 30u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&v6);
        let cases: Vec<(DataLink, Vec<u8>, &[u8])> = vec![
            (DataLink::RAW, v4.clone(), b"hello"),
            (DataLink::IPV6, v6.clone(), b"hi6"),
            (
                DataLink::ETHERNET,
                ether(ETHERTYPE_IPV4, &[], &v4),
                b"hello",
            ),
            (
                DataLink::ETHERNET,
                ether(ETHERTYPE_IPV6, &[0x8100], &v6),
                b"hi6",
            ),
            (
                DataLink::ETHERNET,
                ether(ETHERTYPE_IPV4, &[0x88a8, 0x8100], &v4),
                b"hello",
            ),
            (DataLink::LINUX_SLL, sll, b"hello"),
            (DataLink::LINUX_SLL2, sll2, b"hi6"),
            (DataLink::NULL, null, b"hello"),
            (DataLink::LOOP, lo, b"hi6"),
        ];
        for (link, frame, want) in cases {
            match dissect(link, &frame) {
                Dissected::Udp {
                    payload, cut, src, ..
                } => {
                    assert_eq!(payload, want, "{link:?}");
                    assert!(!cut);
                    assert_eq!(src.port(), 5000);
                }
                other => panic!("{link:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn tcp_arp_fragments_and_unknown_links_are_told_apart() {
        let (mut tcp, _) = ip_udp(addr("10.0.0.1:80"), addr("10.0.0.2:81"), b"x", 1);
        tcp[9] = 6;
        assert_eq!(dissect(DataLink::RAW, &tcp), Dissected::Other);
        assert_eq!(
            dissect(DataLink::ETHERNET, &ether(0x0806, &[], &[0; 28])),
            Dissected::Other
        );
        let (mut later, _) = ip_udp(addr("10.0.0.1:80"), addr("10.0.0.2:81"), b"x", 1);
        later[6..8].copy_from_slice(&0x0010u16.to_be_bytes());
        assert_eq!(dissect(DataLink::RAW, &later), Dissected::Fragment);
        let (mut first, _) = ip_udp(addr("10.0.0.1:80"), addr("10.0.0.2:81"), b"xyz", 1);
        first[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
        assert!(matches!(
            dissect(DataLink::RAW, &first),
            Dissected::Udp { cut: true, .. }
        ));
        assert_eq!(
            dissect(DataLink::IEEE802_11, &first),
            Dissected::UnknownLink
        );
        for short in [
            &b""[..],
            &[0x45][..],
            &[0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17][..],
        ] {
            assert_eq!(dissect(DataLink::RAW, short), Dissected::Other);
        }
    }

    #[test]
    fn a_capture_cut_short_keeps_what_it_has() {
        let (v4, _) = ip_udp(addr("10.0.0.1:5000"), addr("10.0.0.2:53"), &[7; 100], 1);
        match dissect(DataLink::RAW, &v4[..60]) {
            Dissected::Udp { payload, cut, .. } => {
                assert_eq!(payload.len(), 32);
                assert!(cut);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ipv6_extension_headers_are_walked() {
        let (v6, _) = ip_udp(addr("[fe80::1]:5000"), addr("[fe80::2]:53"), b"deep", 1);
        // Insert a hop-by-hop header (8 bytes) before the UDP header.
        let mut p = v6[..40].to_vec();
        p[6] = 0;
        let len = u16::from_be_bytes([p[4], p[5]]) + 8;
        p[4..6].copy_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[PROTO_UDP, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&v6[40..]);
        assert!(matches!(
            dissect(DataLink::RAW, &p),
            Dissected::Udp {
                payload: b"deep",
                ..
            }
        ));
    }
}
