//! Loading JSON Lines and CSV logs back into packets, so a saved log can be
//! checked or reopened. Text and pcap logs drop fields, so they are refused.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::record::PacketRecord;
use super::{CaptureError, LogFormat};
use crate::packet::Packet;

/// Reads every packet of a `.jsonl`/`.ndjson` or `.csv` log, in file order.
///
/// # Errors
/// `UnknownExtension`, `CannotLoad` for text and pcap logs, `Read` for I/O
/// problems, `BadLine` naming the first malformed line.
pub fn load_log(path: &Path) -> Result<Vec<Packet>, CaptureError> {
    let format = LogFormat::from_path(path)?;
    if !format.can_load() {
        return Err(CaptureError::CannotLoad {
            path: path.to_path_buf(),
            format,
        });
    }
    let file = File::open(path).map_err(|source| CaptureError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut packets = Vec::new();
    read_log(path, format, BufReader::new(file), &mut |p, _| {
        packets.push(p);
        Ok(())
    })?;
    Ok(packets)
}

/// Reads a `.jsonl` or `.csv` log from `reader`, handing each packet to
/// `take` as it is read; `take` may stop the reading with an error.
///
/// # Errors
/// `Read` for I/O problems, `BadLine` naming the first malformed line, or
/// whatever `take` returns.
pub(super) fn read_log(
    path: &Path,
    format: LogFormat,
    reader: impl BufRead,
    take: &mut dyn FnMut(Packet, &str) -> Result<(), CaptureError>,
) -> Result<(), CaptureError> {
    match format {
        LogFormat::Csv => read_csv(path, reader, take),
        _ => read_json_lines(path, reader, take),
    }
}

fn bad_line(path: &Path, line: u64, message: String) -> CaptureError {
    CaptureError::BadLine {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// `to_packet` errors carry no line; unwrap the message so `BadLine` reads naturally.
fn record_message(err: CaptureError) -> String {
    match err {
        CaptureError::BadRecord(message) => message,
        other => other.to_string(),
    }
}

fn read_json_lines(
    path: &Path,
    reader: impl BufRead,
    take: &mut dyn FnMut(Packet, &str) -> Result<(), CaptureError>,
) -> Result<(), CaptureError> {
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| CaptureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let number = index as u64 + 1;
        // Editors on Windows may add a BOM; it is not part of the JSON.
        let json = if index == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(&line)
        } else {
            &line
        };
        if json.trim().is_empty() {
            continue;
        }
        let record: PacketRecord =
            serde_json::from_str(json).map_err(|e| bad_line(path, number, json_message(&e)))?;
        let packet = record
            .to_packet()
            .map_err(|e| bad_line(path, number, record_message(e)))?;
        take(packet, &record.endpoint_name)?;
    }
    Ok(())
}

/// serde_json says "at line 1 column N", which is confusing next to the file's
/// line number; keep just the column.
fn json_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let what = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(m, _)| m);
    format!("{what} (column {})", err.column())
}

fn read_csv(
    path: &Path,
    mut reader: impl BufRead,
    take: &mut dyn FnMut(Packet, &str) -> Result<(), CaptureError>,
) -> Result<(), CaptureError> {
    // The csv crate puts a record that follows a CRLF at the LF, one line
    // early; files with CRLF line ends (RFC 4180, ours) need one added.
    let crlf = {
        let start = reader.fill_buf().map_err(|source| CaptureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        start
            .iter()
            .position(|&b| b == b'\n')
            .is_some_and(|at| at > 0 && start[at - 1] == b'\r')
    };
    let line_of =
        |pos: Option<&csv::Position>| pos.map_or(0, csv::Position::line) + u64::from(crlf);
    let mut csv = csv::Reader::from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| csv_error(path, e, 1, false))?
        .clone();
    let mut row = csv::StringRecord::new();
    loop {
        let last_line = row.position().map_or(1, |_| line_of(row.position()));
        match csv.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e, last_line + 1, crlf)),
        }
        let line = line_of(row.position());
        let record: PacketRecord = row
            .deserialize(Some(&headers))
            .map_err(|e| csv_error(path, e, line, crlf))?;
        let packet = record
            .to_packet()
            .map_err(|e| bad_line(path, line, record_message(e)))?;
        take(packet, &record.endpoint_name)?;
    }
    Ok(())
}

/// Turns a csv error into `Read` (I/O) or `BadLine`, naming the column by its header.
fn csv_error(path: &Path, err: csv::Error, fallback_line: u64, crlf: bool) -> CaptureError {
    let line = err
        .position()
        .map_or(fallback_line, |p| p.line() + u64::from(crlf));
    match err.into_kind() {
        csv::ErrorKind::Io(source) => CaptureError::Read {
            path: path.to_path_buf(),
            source,
        },
        csv::ErrorKind::Utf8 { .. } => bad_line(
            path,
            line,
            "not UTF-8 text; save the CSV as UTF-8".to_owned(),
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => bad_line(
            path,
            line,
            format!("{len} fields where the header has {expected_len}"),
        ),
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err
                .field()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| super::write::CSV_HEADER.get(i).copied());
            let what = err.kind().to_string();
            match column {
                Some(name) => bad_line(path, line, format!("column {name}: {what}")),
                None => bad_line(path, line, what),
            }
        }
        other => bad_line(path, line, format!("{other:?}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::save_log;
    use crate::capture::testdata::sample;
    use std::fs;

    #[test]
    fn text_and_pcap_logs_are_refused_with_advice() {
        for name in ["x.txt", "x.pcap"] {
            let err = load_log(Path::new(name)).unwrap_err();
            assert!(matches!(err, CaptureError::CannotLoad { .. }));
            assert!(err.to_string().contains("save as .jsonl or .csv"), "{err}");
        }
        assert!(matches!(
            load_log(Path::new("x.bin")),
            Err(CaptureError::UnknownExtension { .. })
        ));
    }

    #[test]
    fn missing_file_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.jsonl");
        let err = load_log(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read {}: the file does not exist — check the name",
                path.display()
            )
        );
    }

    #[test]
    fn bad_jsonl_line_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        save_log(&path, &sample()[..2]).unwrap();
        let mut text = fs::read_to_string(&path).unwrap();
        text.push('\n'); // blank lines are skipped but still counted
        text.push_str("{\"seq\": 3}\n");
        fs::write(&path, &text).unwrap();
        let err = load_log(&path).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("line 4 of {}: missing field", path.display())),
            "{msg}"
        );

        fs::write(&path, text.replace("\"in\"", "\"up\"")).unwrap();
        let msg = load_log(&path).unwrap_err().to_string();
        assert!(msg.starts_with("line 2 of "), "{msg}");
        assert!(msg.contains("direction \"up\""), "{msg}");
    }

    #[test]
    fn bad_csv_rows_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        save_log(&path, sample()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let row3 = lines[3].replacen(",out,", ",out,nope", 1);
        lines[3] = &row3;
        fs::write(&path, lines.join("\n")).unwrap();
        let msg = load_log(&path).unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!("line 4 of {}: ", path.display())),
            "{msg}"
        );

        let broken_seq = text.replacen("\n1,", "\nx,", 1);
        fs::write(&path, broken_seq).unwrap();
        let msg = load_log(&path).unwrap_err().to_string();
        assert!(
            msg.contains("line 2 of") && msg.contains("column seq"),
            "{msg}"
        );
    }

    #[test]
    fn bom_is_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["log.csv", "log.jsonl"] {
            let path = dir.path().join(name);
            save_log(&path, sample()).unwrap();
            let mut bytes = b"\xef\xbb\xbf".to_vec();
            bytes.extend(fs::read(&path).unwrap());
            fs::write(&path, bytes).unwrap();
            assert_eq!(load_log(&path).unwrap(), sample(), "{name}");
        }
    }

    #[test]
    fn empty_logs_load_empty() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["e.csv", "e.jsonl"] {
            let path = dir.path().join(name);
            save_log(&path, &[] as &[Packet]).unwrap();
            assert!(load_log(&path).unwrap().is_empty());
        }
    }
}
