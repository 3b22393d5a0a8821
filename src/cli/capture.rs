//! `--capture FILE` for `serve` and `send`: the engine streams every packet to
//! the file; these start it, report it in one line, and end it for the summary.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::capture::CaptureSummary;
use crate::net::{Command, Engine, Event};

use super::{CliError, send_cmd};

/// How long the engine may take to open the file or finish writing it.
const PATIENCE: Duration = Duration::from_secs(30);

/// Starts capturing to `path` before anything else runs, so nothing is missed.
///
/// # Errors
/// The file cannot be created or its extension names no format (status 2).
pub(super) fn start(engine: &Engine, path: &Path) -> Result<(), CliError> {
    send_cmd(
        engine,
        Command::StartCapture {
            path: path.to_path_buf(),
        },
    )?;
    let until = Instant::now() + PATIENCE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match engine.events().recv_timeout(left) {
            Ok(Event::CaptureStarted { path, format }) => {
                eprintln!(
                    "udpdesk: capturing to {} ({})",
                    path.display(),
                    format.extension()
                );
                return Ok(());
            }
            Ok(Event::CaptureFailed { message, .. }) => return Err(CliError::input(message)),
            // Nothing else runs yet, so nothing else can be said.
            Ok(_) => {}
            Err(_) => return Err(CliError::runtime("the capture did not start")),
        }
    }
}

/// Ends the capture and waits for its summary, handing any other event that
/// comes first to `other`.
pub(super) fn stop(engine: &Engine, mut other: impl FnMut(Event)) -> Option<CaptureSummary> {
    engine.send(Command::StopCapture).ok()?;
    let until = Instant::now() + PATIENCE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match engine.events().recv_timeout(left).ok()? {
            Event::CaptureStopped { summary } => return Some(summary),
            event => other(event),
        }
    }
}

/// A capture event met while running: a stop is said at once, in one line.
/// True when the capture has ended.
pub(super) fn on_event(event: &Event) -> bool {
    if let Event::CaptureStopped { summary } = event {
        eprintln!("udpdesk: capture ended early, {summary}");
        return true;
    }
    false
}
