//! The header at the start of every `bench` datagram, so that an echoed reply
//! says which socket and which datagram it answers and when that datagram left.
//!
//! 24 bytes, little endian: the magic `b"udpB"`, the socket's index (u32), the
//! datagram's sequence number on that socket (u64, counting from 0), and the
//! send time in nanoseconds since the run began (u64). Zeros pad the rest.

use std::time::{Duration, Instant};

/// Bytes taken by the header: the smallest `--size`.
pub(super) const HEADER_LEN: usize = 24;

const MAGIC: [u8; 4] = *b"udpB";

/// What one datagram carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub socket: u32,
    pub seq: u64,
    pub sent_ns: u64,
}

impl Header {
    pub(super) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (magic, rest) = out.split_at_mut(4);
        magic.copy_from_slice(&MAGIC);
        let (socket, rest) = rest.split_at_mut(4);
        socket.copy_from_slice(&self.socket.to_le_bytes());
        let (seq, sent) = rest.split_at_mut(8);
        seq.copy_from_slice(&self.seq.to_le_bytes());
        sent.copy_from_slice(&self.sent_ns.to_le_bytes());
        out
    }

    /// The header at the start of `bytes`, if they begin with one.
    pub(super) fn decode(bytes: &[u8]) -> Option<Header> {
        let (magic, rest) = bytes.split_first_chunk::<4>()?;
        if *magic != MAGIC {
            return None;
        }
        let (socket, rest) = rest.split_first_chunk::<4>()?;
        let (seq, rest) = rest.split_first_chunk::<8>()?;
        let (sent, _padding) = rest.split_first_chunk::<8>()?;
        Some(Header {
            socket: u32::from_le_bytes(*socket),
            seq: u64::from_le_bytes(*seq),
            sent_ns: u64::from_le_bytes(*sent),
        })
    }
}

/// Nanoseconds since `start`, as the header's send time counts them.
pub(super) fn since(start: Instant) -> u64 {
    nanos(start.elapsed())
}

pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_reads_back_as_written() {
        let h = Header {
            socket: 7,
            seq: u64::MAX - 1,
            sent_ns: 123_456_789,
        };
        let bytes = h.encode();
        assert_eq!(&bytes[..4], b"udpB");
        assert_eq!(Header::decode(&bytes), Some(h));
        let mut padded = bytes.to_vec();
        padded.extend_from_slice(&[0; 40]);
        assert_eq!(Header::decode(&padded), Some(h));
    }

    #[test]
    fn other_payloads_carry_no_header() {
        let bytes = Header {
            socket: 0,
            seq: 1,
            sent_ns: 2,
        }
        .encode();
        assert_eq!(Header::decode(&bytes[..HEADER_LEN - 1]), None);
        assert_eq!(Header::decode(b""), None);
        assert_eq!(Header::decode(b"hello, this is a fixed reply"), None);
        let mut wrong = bytes;
        wrong[0] = b'U';
        assert_eq!(Header::decode(&wrong), None);
    }
}
