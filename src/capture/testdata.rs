//! Packets shared by the capture tests: the awkward cases a log must survive.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::codec::Encoding;
use crate::packet::{Direction, EndpointId, Packet};

/// "你好，世界" in GBK.
pub(crate) const GBK_HELLO: &[u8] = &[0xc4, 0xe3, 0xba, 0xc3, 0xa3, 0xac, 0xca, 0xc0, 0xbd, 0xe7];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A plain IPv4 packet; times are whole microseconds, as logs store them.
pub(crate) fn packet(seq: u64, direction: Direction, bytes: &[u8]) -> Packet {
    Packet {
        seq,
        time: SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456 + seq * 1_001),
        endpoint: EndpointId(1),
        direction,
        local: addr("127.0.0.1:9999"),
        peer: addr("127.0.0.1:50000"),
        encoding: Encoding::Utf8,
        bytes: Arc::from(bytes),
        truncated: false,
    }
}

/// UTF-8 text, GBK Chinese, binary, IPv6, empty and truncated datagrams.
pub(crate) fn sample() -> Vec<Packet> {
    let mut gbk = packet(2, Direction::In, GBK_HELLO);
    gbk.encoding = Encoding::Gbk;
    gbk.endpoint = EndpointId(7);
    let mut v6 = packet(4, Direction::In, b"v6 \"quoted\", comma\r\n");
    v6.local = addr("[::1]:9999");
    v6.peer = addr("[2001:db8::5]:40000");
    let mut truncated = packet(6, Direction::In, &[0x41; 64]);
    truncated.truncated = true;
    truncated.encoding = Encoding::Windows1252;
    vec![
        packet(1, Direction::Out, "Hello, 世界\r\n".as_bytes()),
        gbk,
        packet(3, Direction::Out, b"\0\x01bin\xff\xfe\x00"),
        v6,
        packet(5, Direction::Out, b""),
        truncated,
    ]
}
