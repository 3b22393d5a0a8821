//! Saving the packet log without freezing the window: the native dialog runs
//! on its own thread, and so does the writing, on a snapshot of the packets.

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use rust_i18n::t;

use crate::capture::{self, CaptureError, LogFormat, SaveSummary};
use crate::packet::Packet;

/// What a file is being chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Saving the log as it is.
    SaveLog,
    /// Capturing every packet from now on.
    Capture,
    /// Opening a capture into the table.
    Open,
    /// Opening a project: its endpoints replace the window's.
    OpenProject,
    /// Saving the window's endpoints as a project.
    SaveProject,
}

/// What a background save step reports.
enum Msg {
    /// The dialog closed with a path, or was cancelled.
    Picked(Purpose, Option<PathBuf>),
    /// The log was written, or not.
    Done(Result<SaveSummary, CaptureError>),
}

/// What the window should do after polling.
pub enum Outcome {
    /// The user picked a path: for a log, snapshot the packets and call
    /// [`Saver::save_to`]; for a capture, start it.
    Picked(Purpose, PathBuf),
    /// The save finished; the message is for the status bar.
    Saved(String),
    /// The save failed; the message says why and what to do.
    Failed(String),
    /// The dialog closed without a path.
    Cancelled(Purpose),
}

/// Runs dialogs and saves off the UI thread.
pub struct Saver {
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    wake: Arc<dyn Fn() + Send + Sync>,
    busy: bool,
}

impl Saver {
    /// A saver that calls `wake` when something finishes.
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Saver {
        let (tx, rx) = crossbeam_channel::unbounded();
        Saver {
            tx,
            rx,
            wake,
            busy: false,
        }
    }

    /// True while a dialog is open or a save is running.
    #[must_use]
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Opens the native file dialog on its own thread.
    ///
    /// # Errors
    /// The thread could not start.
    pub fn ask_path(&mut self, purpose: Purpose) -> Result<(), String> {
        let tx = self.tx.clone();
        let wake = Arc::clone(&self.wake);
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let (title, name) = match purpose {
            Purpose::SaveLog => (t!("dialog.save_log"), format!("udpdesk-{stamp}.jsonl")),
            Purpose::Capture => (
                t!("dialog.capture_to"),
                format!("udpdesk-capture-{stamp}.pcapng"),
            ),
            Purpose::Open => (t!("dialog.open_capture"), String::new()),
            Purpose::OpenProject => (t!("dialog.open_project"), String::new()),
            Purpose::SaveProject => (t!("dialog.save_project"), "udpdesk-project.toml".to_owned()),
        };
        let project_filter = t!("dialog.project_filter");
        std::thread::Builder::new()
            .name("udpdesk-dialog".to_owned())
            .spawn(move || {
                let mut dialog = rfd::FileDialog::new().set_title(title);
                if matches!(purpose, Purpose::OpenProject | Purpose::SaveProject) {
                    dialog = dialog.add_filter(project_filter, &["toml"]);
                } else {
                    for format in LogFormat::ALL {
                        dialog = dialog.add_filter(format.label(), format.extensions());
                    }
                }
                // Opening asks for a file that exists; saving names one.
                let picked = match purpose {
                    Purpose::Open | Purpose::OpenProject => dialog.pick_file(),
                    Purpose::SaveLog | Purpose::Capture | Purpose::SaveProject => {
                        dialog.set_file_name(name).save_file()
                    }
                };
                if tx.send(Msg::Picked(purpose, picked)).is_ok() {
                    wake();
                }
            })
            .map_err(|e| t!("dialog.cannot_open", error = e).into_owned())?;
        self.busy = true;
        Ok(())
    }

    /// Writes `packets` to `path` on its own thread; the format follows the extension.
    ///
    /// # Errors
    /// The thread could not start.
    pub fn save_to(
        &mut self,
        path: PathBuf,
        packets: Vec<Packet>,
        names: Vec<(crate::packet::EndpointId, String)>,
    ) -> Result<(), String> {
        let tx = self.tx.clone();
        let wake = Arc::clone(&self.wake);
        std::thread::Builder::new()
            .name("udpdesk-save".to_owned())
            .spawn(move || {
                let result = capture::save_named_log(&path, &packets, &names);
                if tx.send(Msg::Done(result)).is_ok() {
                    wake();
                }
            })
            .map_err(|e| t!("dialog.cannot_save", error = e).into_owned())?;
        self.busy = true;
        Ok(())
    }

    /// What has finished since the last poll.
    pub fn poll(&mut self) -> Option<Outcome> {
        let msg = self.rx.try_recv().ok()?;
        self.busy = false;
        match msg {
            Msg::Picked(purpose, Some(path)) => Some(Outcome::Picked(purpose, path)),
            Msg::Picked(purpose, None) => Some(Outcome::Cancelled(purpose)),
            Msg::Done(Ok(summary)) => Some(Outcome::Saved(summary.to_string())),
            Msg::Done(Err(e)) => Some(Outcome::Failed(
                t!("dialog.save_failed", error = e).into_owned(),
            )),
        }
    }
}
