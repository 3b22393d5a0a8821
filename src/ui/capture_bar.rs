//! The live-capture toggle beside the table's tools: start (a file is chosen
//! in the native dialog), the running capture's file and figures, and one line
//! saying why a capture stopped or what the last one wrote.

use std::path::PathBuf;

use egui::{RichText, Ui};

use crate::capture::CaptureSummary;

use super::packet_table::TableAction;
use super::widgets::ERROR_RED;

/// The live capture as the window shows it.
#[derive(Debug, Default)]
pub struct CaptureView {
    /// The file being written, once the engine has it open.
    pub file: Option<PathBuf>,
    /// Asked for and not yet answered.
    pub starting: bool,
    /// The latest figures of the running capture.
    pub progress: Option<CaptureSummary>,
    /// One line beside the toggle: why a capture failed, or what the last one did.
    pub message: Option<String>,
    /// True when `message` reports a failure.
    pub failed: bool,
}

/// Draws the toggle; returns a click on it.
pub fn capture_ui(ui: &mut Ui, view: &CaptureView) -> Option<TableAction> {
    let mut action = None;
    if let Some(file) = &view.file {
        if ui
            .button("■ Stop capture")
            .on_hover_text("Close the capture file; the log in the window stays")
            .clicked()
        {
            action = Some(TableAction::StopCapture);
        }
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut line = format!("Capturing to {name}");
        if let Some(p) = &view.progress {
            line.push_str(&format!(": {} packets", p.packets));
            if p.dropped > 0 {
                line.push_str(&format!(", {} not captured (disk too slow)", p.dropped));
            }
        }
        let shown = if view.progress.as_ref().is_some_and(|p| p.dropped > 0) {
            RichText::new(line).color(ERROR_RED)
        } else {
            RichText::new(line)
        };
        ui.label(shown).on_hover_text(file.display().to_string());
    } else if view.starting {
        ui.weak("Starting capture…");
    } else if ui
        .button("● Capture…")
        .on_hover_text(
            "Stream every packet, both directions, to a file as it happens: \
             .pcapng or .pcap for Wireshark, .jsonl, .csv or .txt",
        )
        .clicked()
    {
        action = Some(TableAction::Capture);
    }
    if let Some(message) = &view.message {
        if view.failed {
            ui.label(RichText::new(message).color(ERROR_RED));
        } else {
            ui.weak(message);
        }
    }
    action
}
