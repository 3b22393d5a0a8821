//! `LogFormat`: which kind of log file a path asks for, by its extension.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::CaptureError;

/// A log file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogFormat {
    /// Human-readable fixed columns, one line per packet plus its hex (`.txt`, `.log`).
    Text,
    /// A header row plus one `PacketRecord` per row (`.csv`).
    Csv,
    /// One `PacketRecord` JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// Classic libpcap with synthesized IP/UDP headers, for Wireshark (`.pcap`).
    Pcap,
    /// pcapng: one interface per endpoint, nanosecond times, capture
    /// statistics, and the writer named in the file (`.pcapng`).
    PcapNg,
}

impl LogFormat {
    /// Every format, in the order a save dialog should offer them.
    pub const ALL: [LogFormat; 5] = [
        LogFormat::Text,
        LogFormat::Csv,
        LogFormat::JsonLines,
        LogFormat::PcapNg,
        LogFormat::Pcap,
    ];

    /// The format a path's extension (case-insensitive) asks for.
    ///
    /// # Errors
    /// `CaptureError::UnknownExtension` when the extension is missing or not one of ours.
    pub fn from_path(path: &Path) -> Result<LogFormat, CaptureError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        LogFormat::ALL
            .into_iter()
            .find(|f| ext.as_deref().is_some_and(|e| f.extensions().contains(&e)))
            .ok_or_else(|| CaptureError::UnknownExtension {
                path: path.to_path_buf(),
            })
    }

    /// The preferred extension, without the dot.
    #[must_use]
    pub fn extension(self) -> &'static str {
        self.extensions()[0]
    }

    /// Every extension that selects this format, preferred first (for file-dialog filters).
    #[must_use]
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            LogFormat::Text => &["txt", "log"],
            LogFormat::Csv => &["csv"],
            LogFormat::JsonLines => &["jsonl", "ndjson"],
            LogFormat::Pcap => &["pcap"],
            LogFormat::PcapNg => &["pcapng"],
        }
    }

    /// A name for menus and file-dialog filters.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            LogFormat::Text => "Text",
            LogFormat::Csv => "CSV",
            LogFormat::JsonLines => "JSON Lines",
            LogFormat::Pcap => "pcap (Wireshark)",
            LogFormat::PcapNg => "pcapng (Wireshark)",
        }
    }

    /// True when `load_log` can read this format back without losing anything.
    #[must_use]
    pub fn can_load(self) -> bool {
        matches!(self, LogFormat::Csv | LogFormat::JsonLines)
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn extensions_pick_formats_case_insensitively() {
        let cases = [
            ("a.txt", LogFormat::Text),
            ("dir.x/a.LOG", LogFormat::Text),
            ("a.csv", LogFormat::Csv),
            ("a.jsonl", LogFormat::JsonLines),
            ("a.NDJSON", LogFormat::JsonLines),
            ("a.pcap", LogFormat::Pcap),
            ("a.PcapNG", LogFormat::PcapNg),
        ];
        for (path, want) in cases {
            assert_eq!(
                LogFormat::from_path(Path::new(path)).unwrap(),
                want,
                "{path}"
            );
        }
        for f in LogFormat::ALL {
            let name = format!("x.{}", f.extension());
            assert_eq!(LogFormat::from_path(Path::new(&name)).unwrap(), f);
        }
    }

    #[test]
    fn unknown_or_missing_extension_is_explained() {
        for path in ["/tmp/x.doc", "/tmp/log", "/tmp/.csv.bak"] {
            let err = LogFormat::from_path(Path::new(path)).unwrap_err();
            assert!(matches!(err, CaptureError::UnknownExtension { .. }));
            let msg = err.to_string();
            assert!(msg.starts_with(path), "{msg}");
            assert!(
                msg.contains(".txt, .csv, .jsonl, .pcapng or .pcap"),
                "{msg}"
            );
        }
    }
}
