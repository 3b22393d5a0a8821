//! What the engine counts per endpoint: the wire's truth, kept on the network
//! thread and handed over with every batch, so the figures on screen stay
//! right while the table catches up or drops display copies.

use crate::packet::{Direction, Packet};

/// Totals for one endpoint since it opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams received.
    pub packets_in: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Datagrams sent (automatic and manual replies, client sends).
    pub packets_out: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Automatic replies a server sent (a subset of `packets_out`).
    pub replies: u64,
    /// Packets whose display copy was dropped because the window or the
    /// printer fell behind; they were received or sent all the same.
    pub not_shown: u64,
    /// Datagrams the kernel dropped before udpdesk could read them, because
    /// the socket's receive buffer was full (Linux reports this).
    pub kernel_drops: u64,
    /// Automatic replies not sent: over the reply rate limit, or to the
    /// server itself or another server of this engine (a reply loop).
    pub held_back: u64,
}

impl Counters {
    /// Counts one datagram.
    pub fn count(&mut self, direction: Direction, len: usize) {
        let len = len as u64;
        match direction {
            Direction::In => {
                self.packets_in += 1;
                self.bytes_in += len;
            }
            Direction::Out => {
                self.packets_out += 1;
                self.bytes_out += len;
            }
        }
    }

    /// Counts one packet.
    pub fn add(&mut self, packet: &Packet) {
        self.count(packet.direction, packet.len());
    }

    /// What was counted after `base`, a reading taken earlier.
    #[must_use]
    pub fn since(&self, base: &Counters) -> Counters {
        Counters {
            packets_in: self.packets_in.saturating_sub(base.packets_in),
            bytes_in: self.bytes_in.saturating_sub(base.bytes_in),
            packets_out: self.packets_out.saturating_sub(base.packets_out),
            bytes_out: self.bytes_out.saturating_sub(base.bytes_out),
            replies: self.replies.saturating_sub(base.replies),
            not_shown: self.not_shown.saturating_sub(base.not_shown),
            kernel_drops: self.kernel_drops.saturating_sub(base.kernel_drops),
            held_back: self.held_back.saturating_sub(base.held_back),
        }
    }

    /// Two endpoints' counters added up.
    #[must_use]
    pub fn plus(&self, other: &Counters) -> Counters {
        Counters {
            packets_in: self.packets_in + other.packets_in,
            bytes_in: self.bytes_in + other.bytes_in,
            packets_out: self.packets_out + other.packets_out,
            bytes_out: self.bytes_out + other.bytes_out,
            replies: self.replies + other.replies,
            not_shown: self.not_shown + other.not_shown,
            kernel_drops: self.kernel_drops + other.kernel_drops,
            held_back: self.held_back + other.held_back,
        }
    }

    /// Datagrams in both directions.
    #[must_use]
    pub fn packets(&self) -> u64 {
        self.packets_in + self.packets_out
    }

    /// Payload bytes in both directions.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes_in + self.bytes_out
    }
}

impl std::fmt::Display for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |n: u64| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} packet{} ({} B) in, {} packet{} ({} B) out",
            self.packets_in,
            s(self.packets_in),
            self.bytes_in,
            self.packets_out,
            s(self.packets_out),
            self.bytes_out
        )?;
        if self.kernel_drops > 0 {
            write!(
                f,
                ", {} dropped by the kernel (receive buffer full)",
                self.kernel_drops
            )?;
        }
        if self.not_shown > 0 {
            write!(f, ", {} not shown (display too slow)", self.not_shown)?;
        }
        if self.held_back > 0 {
            write!(
                f,
                ", {} automatic replies held back (reply limit or loop)",
                self.held_back
            )?;
        }
        Ok(())
    }
}
