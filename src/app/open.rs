//! Opening a capture without freezing the window: the file is read on a
//! thread of its own into a packet log of the window's budget, with progress
//! and Cancel; the window swaps the finished log in.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crossbeam_channel::{Receiver, Sender};
use rust_i18n::t;

use crate::capture::{self, CaptureError, Opened, PacketStore};

/// What an opening ended with.
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    /// The capture, in a log of its own, and what was skipped.
    Done {
        /// The file.
        path: PathBuf,
        /// Its UDP packets.
        store: PacketStore,
        /// What was found besides.
        opened: Opened,
    },
    /// It could not be read; the message says why.
    Failed(String),
    /// The person cancelled it.
    Cancelled,
}

/// Opens captures off the UI thread, one at a time.
pub struct Opener {
    tx: Sender<Loaded>,
    rx: Receiver<Loaded>,
    wake: Arc<dyn Fn() + Send + Sync>,
    cancel: Arc<AtomicBool>,
    /// Thousandths of the file read.
    permille: Arc<AtomicU32>,
    busy: Option<PathBuf>,
}

impl Opener {
    /// An opener that calls `wake` whenever there is progress or an end.
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Opener {
        let (tx, rx) = crossbeam_channel::unbounded();
        Opener {
            tx,
            rx,
            wake,
            cancel: Arc::new(AtomicBool::new(false)),
            permille: Arc::new(AtomicU32::new(0)),
            busy: None,
        }
    }

    /// Starts reading `path` into a log that keeps at most `budget` bytes.
    ///
    /// # Errors
    /// Another file is being opened, or the thread could not start.
    pub fn open(&mut self, path: PathBuf, budget: usize) -> Result<(), String> {
        if let Some(busy) = &self.busy {
            return Err(t!("open.busy", path = busy.display()).into_owned());
        }
        self.cancel = Arc::new(AtomicBool::new(false));
        self.permille.store(0, Ordering::Relaxed);
        let (tx, wake, cancel, permille) = (
            self.tx.clone(),
            Arc::clone(&self.wake),
            Arc::clone(&self.cancel),
            Arc::clone(&self.permille),
        );
        let file = path.clone();
        std::thread::Builder::new()
            .name("udpdesk-open".to_owned())
            .spawn(move || {
                let mut store = PacketStore::new(budget);
                let progress = |read: u64, total: u64| {
                    let p = read.saturating_mul(1000) / total.max(1);
                    permille.store(
                        u32::try_from(p.min(1000)).unwrap_or(1000),
                        Ordering::Relaxed,
                    );
                    wake();
                };
                // Whatever happens in the reader, the window hears an end:
                // otherwise "Opening…" would stay up and block every later open.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    capture::open_capture(&file, &mut |p| store.push(&p), &progress, &cancel)
                }));
                let loaded = match result {
                    Ok(Ok(opened)) => Loaded::Done {
                        path: file,
                        store,
                        opened,
                    },
                    Ok(Err(CaptureError::Cancelled)) => Loaded::Cancelled,
                    Ok(Err(e)) => Loaded::Failed(e.to_string()),
                    Err(_) => {
                        Loaded::Failed(t!("open.reader_failed", path = file.display()).into_owned())
                    }
                };
                if tx.send(loaded).is_ok() {
                    wake();
                }
            })
            .map_err(|e| t!("open.cannot_start", error = e).into_owned())?;
        self.busy = Some(path);
        Ok(())
    }

    /// Asks the opening under way to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The file being opened and how much of it is read (0 to 1).
    #[must_use]
    pub fn progress(&self) -> Option<(&Path, f32)> {
        #[allow(clippy::cast_precision_loss)]
        let done = self.permille.load(Ordering::Relaxed) as f32 / 1000.0;
        self.busy.as_deref().map(|p| (p, done))
    }

    /// An opening that has ended since the last poll.
    pub fn poll(&mut self) -> Option<Loaded> {
        let loaded = self.rx.try_recv().ok()?;
        self.busy = None;
        Some(loaded)
    }
}
