//! `bench --capture FILE`: what the load generator sends, whole, and the
//! replies it reads (their first 64 bytes, marked cut when longer), streamed
//! to a capture file by the same writer as the engine's captures. What the
//! writer cannot keep up with is counted in the summary, not lost silently.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::capture::{CaptureSummary, LiveCapture};
use crate::codec::Encoding;
use crate::packet::{Direction, EndpointId, Packet};

use super::header::HEADER_LEN;
use crate::cli::CliError;

/// The bench's capture, shared by its sending and receiving threads.
pub(super) struct Recorder {
    live: LiveCapture,
    target: SocketAddr,
    locals: Vec<SocketAddr>,
    seq: AtomicU64,
}

impl Recorder {
    /// Opens the capture file; each socket becomes an interface of its own.
    ///
    /// # Errors
    /// The file cannot be created, or its extension names no format (status 2).
    pub(super) fn start(
        path: &Path,
        target: SocketAddr,
        sockets: &[UdpSocket],
    ) -> Result<Recorder, CliError> {
        let live = LiveCapture::start(path, Box::new(|| {}))
            .map_err(|e| CliError::input(e.to_string()))?;
        let locals: Vec<SocketAddr> = sockets
            .iter()
            .map(|s| s.local_addr().unwrap_or(target))
            .collect();
        for (k, local) in locals.iter().enumerate() {
            live.name_endpoint(endpoint(k), &format!("bench socket {local}"));
        }
        eprintln!(
            "udpdesk: capturing to {} ({})",
            path.display(),
            live.format().extension()
        );
        Ok(Recorder {
            live,
            target,
            locals,
            seq: AtomicU64::new(0),
        })
    }

    /// Datagrams socket `k` sent: each header followed by the padding.
    pub(super) fn sent(&self, k: usize, headers: &[[u8; HEADER_LEN]], padding: &[u8]) {
        let packets: Vec<Packet> = headers
            .iter()
            .map(|h| {
                let mut bytes = Vec::with_capacity(HEADER_LEN + padding.len());
                bytes.extend_from_slice(h);
                bytes.extend_from_slice(padding);
                self.packet(k, Direction::Out, bytes, false)
            })
            .collect();
        self.live.offer(&packets);
    }

    /// Datagrams socket `k` read: what the buffer held of each, and whether it was cut.
    pub(super) fn received(&self, k: usize, replies: Vec<(Vec<u8>, bool)>) {
        let packets: Vec<Packet> = replies
            .into_iter()
            .map(|(bytes, cut)| self.packet(k, Direction::In, bytes, cut))
            .collect();
        self.live.offer(&packets);
    }

    fn packet(&self, k: usize, direction: Direction, bytes: Vec<u8>, cut: bool) -> Packet {
        Packet {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            time: crate::packet::now_micros(),
            endpoint: endpoint(k),
            direction,
            local: self.locals.get(k).copied().unwrap_or(self.target),
            peer: self.target,
            encoding: Encoding::Utf8,
            bytes: bytes.into(),
            truncated: cut,
        }
    }

    /// Closes the file and says what it holds.
    pub(super) fn finish(self) -> CaptureSummary {
        self.live.finish(Vec::new())
    }
}

/// The replies of one read, kept for the capture only when there is one.
pub(super) struct Kept<'r> {
    recorder: Option<&'r Recorder>,
    replies: Vec<(Vec<u8>, bool)>,
}

impl<'r> Kept<'r> {
    pub(super) fn new(recorder: Option<&'r Recorder>) -> Kept<'r> {
        Kept {
            recorder,
            replies: Vec::new(),
        }
    }

    /// One reply as read (its start), and whether it was longer.
    pub(super) fn keep(&mut self, bytes: &[u8], cut: bool) {
        if self.recorder.is_some() {
            self.replies.push((bytes.to_vec(), cut));
        }
    }

    /// Hands what was kept to the capture, as read by socket `k`.
    pub(super) fn offer(self, k: usize) {
        if let Some(r) = self.recorder
            && !self.replies.is_empty()
        {
            r.received(k, self.replies);
        }
    }
}

fn endpoint(k: usize) -> EndpointId {
    EndpointId(u32::try_from(k).unwrap_or(u32::MAX).saturating_add(1))
}
