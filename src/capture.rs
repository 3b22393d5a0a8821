//! Packet capture: the bounded in-memory packet log the window shows, and
//! saving it to (and loading it back from) log files in text, CSV, JSON Lines
//! pcap and pcapng formats. Pure data and file I/O: no GUI, no sockets.

mod dissect;
mod error;
mod filter;
mod format;
mod frame;
mod live;
mod open;
mod pairing;
mod read;
mod record;
mod replay;
mod store;
mod stream;
mod text;
mod write;

pub use dissect::{Dissected, dissect};
pub use error::CaptureError;
pub use filter::{FilterError, PacketFilter};
pub use format::LogFormat;
pub use live::{CaptureSummary, Closing, FLUSH_EVERY, LiveCapture, QUEUE_BYTES, QUEUE_PACKETS};
pub use open::{FIRST_FILE_ENDPOINT, Opened, open_capture, read_capture};
pub use pairing::{Note, Pairing, RunFigures};
pub use read::load_log;
pub use record::PacketRecord;
pub use replay::{Speed, timetable};
pub use store::{Held, PacketStore, PacketView, Totals};
pub use stream::{EndpointStats, LogWriter};
pub use write::{SaveSummary, Written, save_log, save_named_log, write_log, write_named_log};

/// Shared fixtures for the tests of every capture file.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod testdata;
