//! `LiveCapture`: every packet streamed to a file as it happens, by a thread
//! of its own, so a slow disk never holds up the network. The queue to that
//! thread is bounded; what does not fit is counted, never silently lost. The
//! file gets whole records only and is written out at least every
//! [`FLUSH_EVERY`], so after a crash it reads cleanly up to the last write.
//! A write that fails stops the capture with one line saying why.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use rust_i18n::t;

use super::stream::EndpointStats;
use super::{CaptureError, LogFormat, LogWriter};
use crate::packet::{EndpointId, Packet};

/// The longest a captured packet waits in memory before it is in the file.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Packets waiting for the writer at most; more are counted as dropped.
pub const QUEUE_PACKETS: u64 = 262_144;
/// Payload bytes waiting for the writer at most, likewise.
pub const QUEUE_BYTES: u64 = 64 << 20;
/// Write to the file once this much is encoded, without waiting for the clock.
const WRITE_AT: usize = 256 * 1024;

/// What the capture thread is given.
enum Item {
    Packets(Vec<Packet>),
    Endpoint(EndpointId, String),
    Close {
        stats: Vec<(EndpointId, EndpointStats)>,
    },
}

/// Figures shared between the capture thread and its owner.
#[derive(Default)]
struct Shared {
    written: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
    queued_packets: AtomicU64,
    queued_bytes: AtomicU64,
    /// Packets taken but not written because writing failed.
    lost: AtomicU64,
    failed: AtomicBool,
    error: Mutex<Option<String>>,
}

/// What a capture did, for a status line or a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureSummary {
    /// The capture file.
    pub path: PathBuf,
    /// Its format.
    pub format: LogFormat,
    /// Packets written to it.
    pub packets: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Packets that found the writer's queue full (the disk was slower than the network).
    pub dropped: u64,
    /// Packets not written because writing failed (the capture had stopped).
    pub lost: u64,
    /// Why the capture stopped early, if it did.
    pub error: Option<String>,
}

impl fmt::Display for CaptureSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (packets, bytes, path) = (self.packets, self.bytes, self.path.display());
        let line = if packets == 1 {
            t!(
                "capture.captured_one",
                packets = packets,
                bytes = bytes,
                path = path
            )
        } else {
            t!(
                "capture.captured",
                packets = packets,
                bytes = bytes,
                path = path
            )
        };
        f.write_str(&line)?;
        if self.dropped > 0 {
            f.write_str(&t!("capture.captured_dropped", dropped = self.dropped))?;
        }
        if self.lost > 0 {
            f.write_str(&t!("capture.captured_lost", lost = self.lost))?;
        }
        if let Some(error) = &self.error {
            f.write_str(&t!("capture.captured_stopped", error = error))?;
        }
        Ok(())
    }
}

/// A capture file being written.
pub struct LiveCapture {
    path: PathBuf,
    format: LogFormat,
    started: SystemTime,
    tx: Option<Sender<Item>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LiveCapture {
    /// Creates (or empties) the file at `path`, writes the header of the
    /// format its extension names, and starts the writer. `wake` is called
    /// from the writer's thread when a write fails and when the writer has
    /// closed the file after [`LiveCapture::close`].
    ///
    /// # Errors
    /// `UnknownExtension`, or `Write` when the file cannot be created or written.
    pub fn start(path: &Path, wake: Box<dyn Fn() + Send>) -> Result<LiveCapture, CaptureError> {
        let format = LogFormat::from_path(path)?;
        let fail = |source| CaptureError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut log = LogWriter::new(format).map_err(fail)?;
        let mut file = open_for_writing(path).map_err(fail)?;
        log.drain_to(&mut file).map_err(fail)?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared::default());
        let writer = Writer {
            path: path.to_path_buf(),
            log,
            file,
            shared: Arc::clone(&shared),
            started: SystemTime::now(),
            unwritten: (0, 0),
        };
        let thread = std::thread::Builder::new()
            .name("udpdesk-capture".to_owned())
            .spawn(move || {
                writer.run(&rx, &*wake);
                wake();
            })
            .map_err(fail)?;
        Ok(LiveCapture {
            path: path.to_path_buf(),
            format,
            started: SystemTime::now(),
            tx: Some(tx),
            shared,
            thread: Some(thread),
        })
    }

    /// The capture file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its format.
    #[must_use]
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Hands packets to the writer, or counts them as dropped when its queue
    /// is full. Never blocks.
    pub fn offer(&self, packets: &[Packet]) {
        if packets.is_empty() {
            return;
        }
        let n = packets.len() as u64;
        if self.failed() {
            self.shared.lost.fetch_add(n, Ordering::Relaxed);
            return;
        }
        let bytes: u64 = packets.iter().map(|p| p.len() as u64).sum();
        let s = &self.shared;
        let queued = s.queued_packets.load(Ordering::Relaxed);
        let queued_bytes = s.queued_bytes.load(Ordering::Relaxed);
        if queued + n > QUEUE_PACKETS || queued_bytes + bytes > QUEUE_BYTES {
            s.dropped.fetch_add(n, Ordering::Relaxed);
            return;
        }
        s.queued_packets.fetch_add(n, Ordering::Relaxed);
        s.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(tx) = &self.tx
            && tx.send(Item::Packets(packets.to_vec())).is_err()
        {
            s.dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Gives an endpoint a name (a pcapng interface).
    pub fn name_endpoint(&self, id: EndpointId, name: &str) {
        if let Some(tx) = &self.tx {
            let _gone = tx.send(Item::Endpoint(id, name.to_owned()));
        }
    }

    /// True once a write has failed; the capture has stopped.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// The figures so far (packets counted as written once encoded).
    #[must_use]
    pub fn summary(&self) -> CaptureSummary {
        self.shared.summary(&self.path, self.format)
    }

    /// When the capture started.
    #[must_use]
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// Writes what is queued and the per-endpoint statistics, closes the
    /// file, and says what was captured; waits for all of it.
    #[must_use]
    pub fn finish(self, stats: Vec<(EndpointId, EndpointStats)>) -> CaptureSummary {
        self.close(stats).summary()
    }

    /// Like [`LiveCapture::finish`] without waiting: the writer goes on
    /// writing what is queued on its own thread (a slow disk must not hold up
    /// the caller), calls `wake` once the file is closed, and the returned
    /// handle then gives the summary at once.
    #[must_use]
    pub fn close(mut self, stats: Vec<(EndpointId, EndpointStats)>) -> Closing {
        if let Some(tx) = self.tx.take() {
            let _gone = tx.send(Item::Close { stats });
        }
        Closing {
            path: self.path.clone(),
            format: self.format,
            shared: Arc::clone(&self.shared),
            thread: self.thread.take(),
        }
    }

    /// True when `path` is this capture's file (so a new capture to it must
    /// wait for this one to close).
    #[must_use]
    pub fn writes_to(&self, path: &Path) -> bool {
        same_file(&self.path, path)
    }
}

/// A capture whose writer is finishing its file.
pub struct Closing {
    path: PathBuf,
    format: LogFormat,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Closing {
    /// True once the file is closed.
    #[must_use]
    pub fn done(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the file to be closed (at once when [`Closing::done`]) and
    /// says what was captured.
    #[must_use]
    pub fn summary(mut self) -> CaptureSummary {
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            self.shared
                .set_error("the capture writer crashed".to_owned());
        }
        self.shared.summary(&self.path, self.format)
    }
}

/// Opens a capture file for writing. A FIFO is opened without waiting for a
/// reader (none there is an error to report, not a hang), then written to
/// normally.
#[cfg(unix)]
fn open_for_writing(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    nix::fcntl::fcntl(
        &file,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )
    .map_err(io::Error::from)?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_for_writing(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// True when both paths name one file that exists.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _joined = thread.join();
        }
    }
}

impl Shared {
    /// The figures so far, as a summary of the capture to `path`.
    fn summary(&self, path: &Path, format: LogFormat) -> CaptureSummary {
        CaptureSummary {
            path: path.to_path_buf(),
            format,
            packets: self.written.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            error: self.error.lock().ok().and_then(|e| e.clone()),
        }
    }

    fn set_error(&self, message: String) {
        if let Ok(mut e) = self.error.lock() {
            e.get_or_insert(message);
        }
        self.failed.store(true, Ordering::Relaxed);
    }
}

/// The capture thread's state.
struct Writer {
    path: PathBuf,
    log: LogWriter,
    file: File,
    shared: Arc<Shared>,
    started: SystemTime,
    /// Packets and bytes encoded since the last write to the file.
    unwritten: (u64, u64),
}

impl Writer {
    fn run(mut self, rx: &Receiver<Item>, wake: &dyn Fn()) {
        let mut written_at = Instant::now();
        let mut closing = None;
        loop {
            let wait = if self.log.pending() > 0 {
                (written_at + FLUSH_EVERY).saturating_duration_since(Instant::now())
            } else {
                Duration::from_secs(3600)
            };
            let result = match rx.recv_timeout(wait) {
                Ok(Item::Packets(packets)) => self.packets(&packets),
                Ok(Item::Endpoint(id, name)) => self.log.name_endpoint(id, &name),
                Ok(Item::Close { stats }) => {
                    closing = Some(stats);
                    Ok(())
                }
                Err(RecvTimeoutError::Timeout) => Ok(()),
                Err(RecvTimeoutError::Disconnected) => {
                    closing.get_or_insert_with(Vec::new);
                    Ok(())
                }
            };
            let result = result.and_then(|()| {
                let due = written_at.elapsed() >= FLUSH_EVERY;
                if closing.is_some() || self.log.pending() >= WRITE_AT || due {
                    self.write_out()?;
                    written_at = Instant::now();
                }
                Ok(())
            });
            let result = result.and_then(|()| match closing.take() {
                Some(stats) => self.close(&stats).map(|()| true),
                None => Ok(false),
            });
            match result {
                Ok(false) => {}
                Ok(true) => return,
                Err(e) => {
                    let error = CaptureError::Write {
                        path: self.path.clone(),
                        source: e,
                    };
                    let s = &self.shared;
                    // What was encoded and not written, and what is still
                    // queued, will not reach the file: count it.
                    s.lost.fetch_add(self.unwritten.0, Ordering::Relaxed);
                    s.set_error(error.to_string());
                    wake();
                    while let Ok(item) = rx.recv() {
                        if let Item::Packets(p) = item {
                            s.lost.fetch_add(p.len() as u64, Ordering::Relaxed);
                        }
                    }
                    return;
                }
            }
        }
    }

    fn packets(&mut self, packets: &[Packet]) -> io::Result<()> {
        let s = &self.shared;
        let bytes: u64 = packets.iter().map(|p| p.len() as u64).sum();
        s.queued_packets
            .fetch_sub(packets.len() as u64, Ordering::Relaxed);
        s.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        for (i, p) in packets.iter().enumerate() {
            if let Err(e) = self.log.packet(p) {
                // Those not encoded are lost; the encoded ones are counted by the failure.
                let rest = (packets.len() - i) as u64;
                s.lost.fetch_add(rest, Ordering::Relaxed);
                return Err(e);
            }
            self.unwritten.0 += 1;
            self.unwritten.1 += p.len() as u64;
        }
        Ok(())
    }

    /// Writes the encoded records to the file, after checking the file is
    /// still where the person put it: writing on into a file whose folder was
    /// removed would lose everything while seeming to work.
    fn write_out(&mut self) -> io::Result<()> {
        still_there(&self.path, &self.file)?;
        self.log.drain_to(&mut self.file)?;
        // Counted as captured only now that they are in the file.
        let (n, bytes) = std::mem::take(&mut self.unwritten);
        self.shared.written.fetch_add(n, Ordering::Relaxed);
        self.shared.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    fn close(&mut self, stats: &[(EndpointId, EndpointStats)]) -> io::Result<()> {
        self.log
            .statistics(stats, self.started, SystemTime::now())?;
        self.write_out()?;
        self.file.flush()?;
        // A pipe or a device (a Wireshark reading a FIFO, /dev/null) has
        // nothing to sync, and says so; that is no failure.
        match self.file.sync_data() {
            Err(e)
                if e.raw_os_error() == Some(nix::errno::Errno::EINVAL as i32)
                    || e.kind() == io::ErrorKind::Unsupported =>
            {
                Ok(())
            }
            other => other,
        }
    }
}

#[cfg(unix)]
fn still_there(path: &Path, file: &File) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    let gone =
        || io::Error::other("the file or its folder was removed or replaced while capturing");
    // Character devices (`/dev/null`, `/dev/full`) have no link count to check.
    if open.file_type().is_file() && open.nlink() == 0 {
        return Err(gone());
    }
    match std::fs::metadata(path) {
        Ok(now) if now.dev() == open.dev() && now.ino() == open.ino() => Ok(()),
        _ => Err(gone()),
    }
}

#[cfg(not(unix))]
fn still_there(path: &Path, _file: &File) -> io::Result<()> {
    std::fs::metadata(path).map(|_| ())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::load_log;
    use crate::capture::testdata::sample;

    fn signal() -> (Box<dyn Fn() + Send>, Receiver<()>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (
            Box::new(move || {
                let _ = tx.send(());
            }),
            rx,
        )
    }

    #[test]
    fn packets_reach_the_file_before_finish_and_all_of_them_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.jsonl");
        let (on_fail, failed) = signal();
        let capture = LiveCapture::start(&path, on_fail).unwrap();
        let packets = sample();
        capture.offer(&packets[..3]);
        // Written out within the flush interval, while the capture runs.
        let deadline = Instant::now() + Duration::from_secs(10);
        while load_log(&path).unwrap().len() < 3 {
            assert!(Instant::now() < deadline, "nothing written while running");
            std::thread::sleep(Duration::from_millis(20));
        }
        capture.offer(&packets[3..]);
        let summary = capture.finish(Vec::new());
        // Woken once, as the file closed: no failure on the way.
        assert_eq!(failed.try_iter().count(), 1);
        assert_eq!(load_log(&path).unwrap(), packets);
        assert_eq!(summary.packets, packets.len() as u64);
        assert_eq!((summary.dropped, &summary.error), (0, &None));
        assert!(summary.to_string().starts_with("captured 6 packets ("));
    }

    #[test]
    fn closing_does_not_wait_and_wakes_when_the_file_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("closing.pcapng");
        let (wake, woken) = signal();
        let capture = LiveCapture::start(&path, wake).unwrap();
        assert!(capture.writes_to(&path));
        assert!(!capture.writes_to(&dir.path().join("other.pcapng")));
        capture.offer(&sample());
        let closing = capture.close(Vec::new());
        woken.recv_timeout(Duration::from_secs(10)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !closing.done() {
            assert!(Instant::now() < deadline, "the writer did not end");
            std::thread::yield_now();
        }
        let summary = closing.summary();
        assert_eq!((summary.packets, summary.lost), (6, 0));
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_needs_its_reader_and_then_ends_cleanly() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe.pcapng");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // No reader: said at once, not a hang.
        let err = LiveCapture::start(&path, Box::new(|| {})).err().unwrap();
        assert!(
            err.to_string().contains("nothing is reading that pipe"),
            "{err}"
        );
        let reading = path.clone();
        let reader = std::thread::spawn(move || {
            // Waits in open for a writer (and counts as a reader meanwhile).
            let mut f = std::fs::File::open(&reading).unwrap();
            let mut all = Vec::new();
            f.read_to_end(&mut all).unwrap();
            all
        });
        // The reader opens first; the writer may start then.
        let deadline = Instant::now() + Duration::from_secs(10);
        let capture = loop {
            match LiveCapture::start(&path, Box::new(|| {})) {
                Ok(c) => break c,
                Err(_) if Instant::now() < deadline => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        };
        capture.offer(&sample());
        let summary = capture.finish(Vec::new());
        assert_eq!((summary.packets, &summary.error), (6, &None), "{summary}");
        let bytes = reader.join().unwrap();
        assert_eq!(&bytes[..4], &0x0a0d_0d0a_u32.to_le_bytes());
    }

    #[test]
    fn a_full_queue_counts_what_it_drops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.csv");
        let capture = LiveCapture::start(&path, Box::new(|| {})).unwrap();
        let one = sample().remove(4);
        let flood = vec![one; usize::try_from(QUEUE_PACKETS).unwrap() + 1];
        capture.offer(&flood);
        capture.offer(&sample());
        let summary = capture.finish(Vec::new());
        assert_eq!(summary.dropped, QUEUE_PACKETS + 1);
        assert_eq!(summary.packets, 6);
        assert!(
            summary
                .to_string()
                .contains(", 262145 not captured (the disk was slower than the network)"),
            "{summary}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_full_disk_stops_the_capture_with_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.jsonl");
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
        let (on_fail, failed) = signal();
        let capture = LiveCapture::start(&path, on_fail).unwrap();
        capture.offer(&sample());
        failed.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(capture.failed());
        let error = capture.summary().error.unwrap();
        assert!(error.contains("free some space"), "{error}");
        assert!(!error.contains('\n'));
        // Offers after the failure are ignored, not queued.
        capture.offer(&sample());
        let summary = capture.finish(Vec::new());
        assert!(
            summary.to_string().contains("; stopped: cannot write"),
            "{summary}"
        );
    }

    #[test]
    fn a_header_that_cannot_be_written_fails_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/folder/x.pcapng");
        let err = LiveCapture::start(&missing, Box::new(|| {})).err().unwrap();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let unknown = LiveCapture::start(&dir.path().join("x.doc"), Box::new(|| {}))
            .err()
            .unwrap();
        assert!(matches!(unknown, CaptureError::UnknownExtension { .. }));
    }

    #[test]
    fn a_removed_folder_stops_the_capture() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("caps");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("live.pcapng");
        let (on_fail, failed) = signal();
        let capture = LiveCapture::start(&path, on_fail).unwrap();
        capture.offer(&sample());
        std::fs::remove_dir_all(&folder).unwrap();
        capture.offer(&sample());
        failed.recv_timeout(Duration::from_secs(10)).unwrap();
        let summary = capture.finish(Vec::new());
        let error = summary.error.unwrap();
        assert!(
            error.contains("removed or replaced while capturing"),
            "{error}"
        );
    }
}
