//! Writing logs: `write_log` to any writer, and `save_log` to a file, which
//! goes through a temporary file so a failed save never leaves half a log.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rust_i18n::t;

use super::{CaptureError, LogFormat, LogWriter};
use crate::packet::{EndpointId, Packet};

/// The CSV header row: `PacketRecord`'s fields in order (checked by a test).
/// Written explicitly so an empty log still has a header.
pub(super) const CSV_HEADER: [&str; 13] = [
    "seq",
    "time",
    "unix_us",
    "endpoint",
    "endpoint_name",
    "direction",
    "local",
    "peer",
    "size",
    "encoding",
    "text",
    "hex",
    "truncated",
];

/// What `write_log` wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Packets written.
    pub packets: u64,
    /// Their payload bytes (not the file size).
    pub bytes: u64,
}

/// What `save_log` saved, for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveSummary {
    /// The log file.
    pub path: PathBuf,
    /// The format chosen from its extension.
    pub format: LogFormat,
    /// Packets written.
    pub packets: u64,
    /// Their payload bytes (not the file size).
    pub bytes: u64,
}

impl fmt::Display for SaveSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (packets, bytes) = (self.packets, self.bytes);
        let (format, path) = (self.format.label(), self.path.display());
        f.write_str(&if packets == 1 {
            t!(
                "capture.saved_one",
                packets = packets,
                bytes = bytes,
                format = format,
                path = path
            )
        } else {
            t!(
                "capture.saved",
                packets = packets,
                bytes = bytes,
                format = format,
                path = path
            )
        })
    }
}

/// Writes `packets` in `format` to `w` and flushes it.
///
/// # Errors
/// Whatever error `w` reports.
pub fn write_log<W: Write, P: std::borrow::Borrow<Packet>>(
    w: W,
    format: LogFormat,
    packets: impl IntoIterator<Item = P>,
) -> io::Result<Written> {
    write_named_log(w, format, packets, &[])
}

/// Like [`write_log`], with the endpoints' names (a CSV's `endpoint_name`,
/// a pcapng interface's name).
///
/// # Errors
/// Whatever error `w` reports.
pub fn write_named_log<W: Write, P: std::borrow::Borrow<Packet>>(
    mut w: W,
    format: LogFormat,
    packets: impl IntoIterator<Item = P>,
    names: &[(EndpointId, String)],
) -> io::Result<Written> {
    /// Buffer this much before handing it to `w`.
    const CHUNK: usize = 256 * 1024;
    let mut log = LogWriter::new(format)?;
    for (id, name) in names {
        log.name_endpoint(*id, name)?;
    }
    for p in packets {
        log.packet(p.borrow())?;
        if log.pending() >= CHUNK {
            log.drain_to(&mut w)?;
        }
    }
    log.drain_to(&mut w)?;
    w.flush()?;
    Ok(log.written())
}

/// Saves `packets` to `path` in the format its extension names.
///
/// The log is written to a temporary file in the same folder and renamed over
/// `path` only once complete, so on failure an older file at `path` is untouched.
///
/// # Errors
/// `UnknownExtension` before touching the disk; `Write` with advice for the person.
pub fn save_log<P: std::borrow::Borrow<Packet>>(
    path: &Path,
    packets: impl IntoIterator<Item = P>,
) -> Result<SaveSummary, CaptureError> {
    save_named_log(path, packets, &[])
}

/// Like [`save_log`], with the endpoints' names.
///
/// # Errors
/// As [`save_log`].
pub fn save_named_log<P: std::borrow::Borrow<Packet>>(
    path: &Path,
    packets: impl IntoIterator<Item = P>,
    names: &[(EndpointId, String)],
) -> Result<SaveSummary, CaptureError> {
    let format = LogFormat::from_path(path)?;
    let written = save_with(path, |w| write_named_log(w, format, packets, names))?;
    Ok(SaveSummary {
        path: path.to_path_buf(),
        format,
        packets: written.packets,
        bytes: written.bytes,
    })
}

/// The temp-file-and-rename part of `save_log`, separate so tests can make the
/// writing fail halfway.
fn save_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<Written>,
) -> Result<Written, CaptureError> {
    let fail = |source| CaptureError::Write {
        path: path.to_path_buf(),
        source,
    };
    let (tmp_path, file) = create_temp(path).map_err(fail)?;
    let result = (|| {
        let mut buffered = BufWriter::new(file);
        let written = write(&mut buffered)?;
        let file = buffered
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        // Data must be on disk before the rename makes it the log, or a crash could leave an empty file.
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp_path, path)?;
        Ok(written)
    })();
    result.map_err(|e| {
        // Best effort: the real error matters more than a leftover temp file.
        let _ = fs::remove_file(&tmp_path);
        fail(e)
    })
}

/// Creates `.NAME.udpdesk-PID-N.tmp` next to `path` (same folder, so the
/// rename stays on one filesystem and is atomic).
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "log".into(), |n| n.to_string_lossy());
    let mut attempt = 0;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".{name}.udpdesk-{}-{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::record::PacketRecord;
    use crate::capture::testdata::{GBK_HELLO, packet, sample};
    use crate::capture::{PacketStore, load_log};
    use crate::packet::Direction;

    fn temp_entries(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn jsonl_and_csv_round_trip_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let packets = sample();
        for name in ["log.jsonl", "log.ndjson", "log.csv"] {
            let path = dir.path().join(name);
            let summary = save_log(&path, &packets).unwrap();
            assert_eq!(summary.packets, 6);
            assert_eq!(
                summary.bytes,
                packets.iter().map(|p| p.len() as u64).sum::<u64>()
            );
            assert_eq!(load_log(&path).unwrap(), packets, "{name}");
        }
        assert!(temp_entries(dir.path()).is_empty());
    }

    #[test]
    fn jsonl_is_one_record_per_line() {
        let mut out = Vec::new();
        write_log(&mut out, LogFormat::JsonLines, sample()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 6);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["direction"], "out");
        assert_eq!(first["text"], "Hello, 世界\\r\\n");
        assert!(text.contains("\"text\":\"你好，世界\""), "{text}");
    }

    #[test]
    fn csv_header_matches_record_fields_and_has_no_bom() {
        let mut out = Vec::new();
        write_log(&mut out, LogFormat::Csv, &[] as &[Packet]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\r\n", CSV_HEADER.join(","))
        );
        let mut serde_header = csv::Writer::from_writer(Vec::new());
        serde_header
            .serialize(PacketRecord::from_packet(&packet(1, Direction::In, b"")))
            .unwrap();
        let bytes = serde_header.into_inner().unwrap();
        let first = String::from_utf8(bytes).unwrap();
        assert_eq!(first.lines().next(), Some(CSV_HEADER.join(",").as_str()));
    }

    #[test]
    fn text_log_shows_decoded_text_and_hex() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        save_log(&path, sample()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# udpdesk packet log"));
        assert!(text.contains("你好，世界"), "{text}");
        assert!(
            text.contains("    c4 e3 ba c3 a3 ac ca c0 bd e7\n"),
            "{text}"
        );
        assert!(
            text.contains("#1      ep1   out  127.0.0.1:9999        -> 127.0.0.1:50000"),
            "{text}"
        );
        assert!(text.contains("<- [2001:db8::5]:40000"), "{text}");
        assert!(text.contains("    (empty datagram)\n"));
        assert!(text.contains("[truncated] "));
        let gbk_line = text.lines().find(|l| l.contains("你好")).unwrap();
        assert!(gbk_line.contains("  10 B  你好，世界"), "{gbk_line}");
        assert!(GBK_HELLO.len() == 10);
    }

    #[test]
    fn csv_cells_cannot_run_as_spreadsheet_formulas() {
        let payloads: [&[u8]; 7] = [
            b"=1+2",
            b"+cmd",
            b"-2",
            b"@SUM(A1)",
            b"\tx",
            b"\rx",
            b"plain = fine",
        ];
        let packets: Vec<Packet> = payloads
            .iter()
            .enumerate()
            .map(|(i, b)| packet(i as u64 + 1, Direction::In, b))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        save_log(&path, &packets).unwrap();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let texts: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[10].to_owned())
            .collect();
        assert_eq!(
            texts,
            [
                "'=1+2",
                "'+cmd",
                "'-2",
                "'@SUM(A1)",
                "\\tx",
                "\\rx",
                "plain = fine"
            ]
        );
        // RFC 4180 line ends, and the payloads themselves come back untouched.
        assert!(fs::read_to_string(&path).unwrap().contains("\r\n"));
        assert_eq!(load_log(&path).unwrap(), packets);
    }

    #[test]
    fn store_saves_in_order() {
        let mut store = PacketStore::default();
        store.extend(sample());
        let mut out = Vec::new();
        let packets = store.views().map(|v| v.to_packet());
        let written = write_log(&mut out, LogFormat::JsonLines, packets).unwrap();
        assert_eq!(written.packets, 6);
        let mut direct = Vec::new();
        write_log(&mut direct, LogFormat::JsonLines, sample()).unwrap();
        assert_eq!(out, direct);
    }

    #[test]
    fn unknown_extension_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.doc");
        fs::write(&path, "old").unwrap();
        let err = save_log(&path, sample()).unwrap_err();
        assert!(matches!(err, CaptureError::UnknownExtension { .. }));
        assert!(
            err.to_string()
                .ends_with("unknown log format; use .txt, .csv, .jsonl, .pcapng or .pcap")
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
    }

    #[test]
    fn missing_folder_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope").join("log.csv");
        let err = save_log(&path, sample()).unwrap_err();
        assert!(
            matches!(&err, CaptureError::Write { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("cannot write {}", path.display())),
            "{msg}"
        );
        assert!(
            msg.contains("does not exist — choose an existing folder"),
            "{msg}"
        );
        assert!(!dir.path().join("nope").exists());
    }

    #[test]
    fn parent_that_is_a_file_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        fs::write(&file, "x").unwrap();
        let err = save_log(&file.join("log.jsonl"), sample()).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    }

    #[test]
    fn target_that_is_a_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("looks.csv");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), "k").unwrap();
        assert!(save_log(&target, sample()).is_err());
        assert!(target.join("keep").exists());
        assert!(temp_entries(dir.path()).is_empty());
    }

    #[test]
    fn failed_write_leaves_old_log_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        save_log(&path, sample()).unwrap();
        let before = fs::read(&path).unwrap();
        let err = save_with(&path, |w| {
            w.write_all(b"half a log")?;
            w.flush()?;
            Err(io::Error::from(io::ErrorKind::StorageFull))
        })
        .unwrap_err();
        assert!(err.to_string().contains("free some space"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), before);
        assert!(temp_entries(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn read_only_folder_leaves_old_log_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        fs::write(&path, "old log").unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        // root ignores directory permissions; the test proves nothing there.
        let probe = dir.path().join("probe");
        let as_root = File::create(&probe).is_ok();
        let result = (!as_root).then(|| save_log(&path, sample()));
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        if let Some(result) = result {
            let err = result.unwrap_err();
            assert!(
                err.to_string()
                    .ends_with("permission denied — choose another folder"),
                "{err}"
            );
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), "old log");
    }

    #[test]
    fn saving_replaces_an_older_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        fs::write(&path, "old").unwrap();
        let summary = save_log(&path, &sample()[..2]).unwrap();
        assert_eq!(
            summary.to_string(),
            format!("saved 2 packets (25 B) as CSV to {}", path.display())
        );
        assert_eq!(load_log(&path).unwrap(), sample()[..2].to_vec());
    }
}
