//! `CaptureError`: what went wrong saving or loading a log, worded for the
//! person who picked the file, with the path and what to do next.

use std::io;
use std::path::{Path, PathBuf};

use rust_i18n::t;

use super::LogFormat;

/// A failed save or load. `Display` is a complete sentence for a status bar or dialog.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file name's extension does not say which format to use.
    #[error("{}", t!("capture_error.unknown_extension", path = .path.display()))]
    UnknownExtension {
        /// The path as given.
        path: PathBuf,
    },
    /// Creating, writing or renaming the log file failed.
    #[error("{}", t!("capture_error.write", path = .path.display(), advice = write_advice(.source, .path)))]
    Write {
        /// The log file that was being saved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Opening or reading the log file failed.
    #[error("{}", t!("capture_error.read", path = .path.display(), advice = read_advice(.source)))]
    Read {
        /// The log file that was being loaded.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The format can be saved but not loaded back without inventing data.
    #[error("{}", t!("capture_error.cannot_load", path = .path.display(), format = .format.label()))]
    CannotLoad {
        /// The log file.
        path: PathBuf,
        /// Its format.
        format: LogFormat,
    },
    /// One line or row of a log is malformed.
    #[error("{}", t!("capture_error.bad_line", line = .line, path = .path.display(), message = .message))]
    BadLine {
        /// The log file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// The file is neither a pcap or pcapng capture nor a udpdesk log.
    #[error("{}", t!("capture_error.not_a_capture", path = .path.display()))]
    NotACapture {
        /// The file.
        path: PathBuf,
    },
    /// A capture is damaged part way through.
    #[error("{}", t!("capture_error.bad_capture", path = .path.display(), message = .message))]
    BadCapture {
        /// The file.
        path: PathBuf,
        /// What is wrong, and how much was read before it.
        message: String,
    },
    /// The person cancelled the opening.
    #[error("{}", t!("capture_error.cancelled"))]
    Cancelled,
    /// A `PacketRecord` does not describe a valid packet (no file involved yet).
    #[error("{}", t!("capture_error.bad_record", detail = .0))]
    BadRecord(String),
}

impl CaptureError {
    /// The file the error is about, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            CaptureError::UnknownExtension { path }
            | CaptureError::Write { path, .. }
            | CaptureError::Read { path, .. }
            | CaptureError::CannotLoad { path, .. }
            | CaptureError::BadLine { path, .. }
            | CaptureError::NotACapture { path }
            | CaptureError::BadCapture { path, .. } => Some(path),
            CaptureError::BadRecord(_) | CaptureError::Cancelled => None,
        }
    }
}

fn folder_of(path: &Path) -> String {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.display().to_string(),
        _ => ".".to_owned(),
    }
}

fn write_advice(err: &io::Error, path: &Path) -> String {
    use io::ErrorKind as K;
    #[cfg(unix)]
    if err.raw_os_error() == Some(nix::errno::Errno::ENXIO as i32) {
        return t!("capture_error.no_pipe_reader").into_owned();
    }
    match err.kind() {
        K::NotFound => t!("capture_error.no_folder", folder = folder_of(path)),
        K::NotADirectory => t!("capture_error.write_not_a_directory"),
        K::PermissionDenied => t!("capture_error.write_permission"),
        K::ReadOnlyFilesystem => t!("capture_error.read_only"),
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => {
            t!("capture_error.disk_full", error = err)
        }
        K::IsADirectory => t!("capture_error.write_is_a_directory"),
        _ => t!("capture_error.write_other", error = err),
    }
    .into_owned()
}

fn read_advice(err: &io::Error) -> String {
    use io::ErrorKind as K;
    match err.kind() {
        K::NotFound => t!("capture_error.no_file").into_owned(),
        K::NotADirectory => t!("capture_error.read_not_a_directory").into_owned(),
        K::PermissionDenied => t!("capture_error.read_permission").into_owned(),
        K::IsADirectory => t!("capture_error.read_is_a_directory").into_owned(),
        K::InvalidData => t!("capture_error.invalid_data", error = err).into_owned(),
        _ => err.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write_err(kind: io::ErrorKind) -> String {
        CaptureError::Write {
            path: PathBuf::from("/root/logs/x.csv"),
            source: io::Error::from(kind),
        }
        .to_string()
    }

    #[test]
    fn write_errors_say_what_to_do() {
        assert_eq!(
            write_err(io::ErrorKind::PermissionDenied),
            "cannot write /root/logs/x.csv: permission denied — choose another folder"
        );
        assert_eq!(
            write_err(io::ErrorKind::NotFound),
            "cannot write /root/logs/x.csv: the folder /root/logs does not exist — choose an existing folder"
        );
        assert!(write_err(io::ErrorKind::ReadOnlyFilesystem).contains("read-only"));
        assert!(write_err(io::ErrorKind::StorageFull).contains("free some space"));
    }

    #[test]
    fn read_errors_and_paths() {
        let err = CaptureError::Read {
            path: PathBuf::from("log.jsonl"),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(
            err.to_string(),
            "cannot read log.jsonl: the file does not exist — check the name"
        );
        assert_eq!(err.path(), Some(Path::new("log.jsonl")));
        let line = CaptureError::BadLine {
            path: PathBuf::from("log.jsonl"),
            line: 3,
            message: "bad hex".to_owned(),
        };
        assert_eq!(line.to_string(), "line 3 of log.jsonl: bad hex");
        assert_eq!(CaptureError::BadRecord("x".into()).path(), None);
    }
}
