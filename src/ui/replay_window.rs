//! The Replay window: the rows the table shows, sent again from the client
//! to its target, with their captured timing, faster or slower, or back to
//! back; progress and Stop while it runs.

use egui::{Context, RichText};
use rust_i18n::t;

use crate::capture::Speed;

use super::widgets::ERROR_RED;

/// How fast, as chosen in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpeedChoice {
    /// As captured.
    #[default]
    Original,
    /// The factor beside it.
    Scaled,
    /// Back to back.
    Fast,
}

/// The window's own state.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayState {
    /// Shown.
    pub open: bool,
    /// The speed chosen.
    pub choice: SpeedChoice,
    /// The factor for [`SpeedChoice::Scaled`].
    pub factor: f64,
}

impl Default for ReplayState {
    fn default() -> Self {
        ReplayState {
            open: false,
            choice: SpeedChoice::Original,
            factor: 2.0,
        }
    }
}

impl ReplayState {
    /// The speed the window asks for.
    #[must_use]
    pub fn speed(&self) -> Speed {
        match self.choice {
            SpeedChoice::Original => Speed::Original,
            SpeedChoice::Scaled => Speed::Scaled(self.factor),
            SpeedChoice::Fast => Speed::Fast,
        }
    }
}

/// What the window asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayAction {
    /// Replay the rows shown.
    Start,
    /// Stop the replay under way.
    Stop,
}

/// Draws the window when open. `target` is the client's target (or why it is
/// not usable); `progress` is (sent, total) while a replay runs.
pub fn replay_window(
    ctx: &Context,
    state: &mut ReplayState,
    rows: usize,
    target: Result<&str, &str>,
    progress: Option<(u64, u64)>,
) -> Option<ReplayAction> {
    let mut action = None;
    let mut open = state.open;
    // The id `Window::new("Replay")` made (it hashes its title as an
    // `Option`), so the window keeps its saved place in every language.
    egui::Window::new(t!("replay.title"))
        .id(egui::Id::unique(Some("Replay")))
        .open(&mut open)
        // Over the table, clear of the panels on the left.
        .default_pos([760.0, 90.0])
        .resizable(false)
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(t!("replay.intro", rows = rows));
            match target {
                Ok(to) => ui.label(t!("replay.target", target = to)),
                Err(why) => {
                    ui.label(RichText::new(t!("replay.no_target", why = why)).color(ERROR_RED))
                }
            };
            ui.horizontal(|ui| {
                ui.radio_value(
                    &mut state.choice,
                    SpeedChoice::Original,
                    t!("replay.original"),
                );
                ui.radio_value(&mut state.choice, SpeedChoice::Scaled, t!("replay.scaled"));
                ui.add_enabled(
                    state.choice == SpeedChoice::Scaled,
                    egui::DragValue::new(&mut state.factor)
                        .range(Speed::SLOWEST..=Speed::FASTEST)
                        .speed(0.1)
                        .prefix("×"),
                )
                .on_hover_text(t!("replay.scaled_hover"));
                ui.radio_value(&mut state.choice, SpeedChoice::Fast, t!("replay.fast"));
            });
            match progress {
                Some((sent, total)) => {
                    ui.horizontal(|ui| {
                        #[allow(clippy::cast_precision_loss)]
                        let done = sent as f32 / total.max(1) as f32;
                        ui.add(egui::ProgressBar::new(done).desired_width(220.0).text(t!(
                            "replay.progress",
                            sent = sent,
                            total = total
                        )));
                        if ui.button(t!("replay.stop")).clicked() {
                            action = Some(ReplayAction::Stop);
                        }
                    });
                }
                None => {
                    let ready = rows > 0 && target.is_ok();
                    if ui
                        .add_enabled(ready, egui::Button::new(t!("replay.start")))
                        .clicked()
                    {
                        action = Some(ReplayAction::Start);
                    }
                }
            }
        });
    state.open = open;
    action
}
