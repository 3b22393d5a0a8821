//! The live-capture toggle beside the table's tools: start (a file is chosen
//! in the native dialog), the running capture's file and figures, and one line
//! saying why a capture stopped or what the last one wrote.

use std::path::PathBuf;

use egui::{RichText, Ui};
use rust_i18n::t;

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
            .button(t!("capture.stop"))
            .on_hover_text(t!("capture.stop_hover"))
            .clicked()
        {
            action = Some(TableAction::StopCapture);
        }
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let line = match &view.progress {
            None => t!("capture.to", name = name),
            Some(p) if p.dropped == 0 => t!("capture.to_packets", name = name, packets = p.packets),
            Some(p) => t!(
                "capture.to_packets_dropped",
                name = name,
                packets = p.packets,
                dropped = p.dropped
            ),
        };
        let shown = if view.progress.as_ref().is_some_and(|p| p.dropped > 0) {
            RichText::new(line).color(ERROR_RED)
        } else {
            RichText::new(line)
        };
        ui.label(shown).on_hover_text(file.display().to_string());
    } else if view.starting {
        ui.weak(t!("capture.starting"));
    } else if ui
        .button(t!("capture.start"))
        .on_hover_text(t!("capture.start_hover"))
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
