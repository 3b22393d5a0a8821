//! The client's sequences: pick or make one, edit its steps (send, send hex,
//! pause, expect a reply), run it with progress and Stop, and see how it ended.

use std::borrow::Cow;

use egui::{RichText, TextEdit, Ui};
use rust_i18n::t;

use crate::codec::Encoding;
use crate::net::{MAX_STEPS, MatchKind, Sequence, Step, StepKind};
use crate::settings::{MessageMode, SavedMessage};

use super::widgets::{ERROR_RED, OK_GREEN, match_kind_label};

/// A sequence run as the client panel shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceView {
    /// A run is under way.
    pub running: bool,
    /// Where it is: round and step, from 1.
    pub at: Option<(u64, usize)>,
    /// How the last run ended, and whether that was a success.
    pub outcome: Option<(String, bool)>,
}

/// What the panel keeps between frames: the shown sequence's check, redone
/// only when the sequence or the encoding changes.
#[derive(Default)]
pub struct SequenceState {
    checked: Option<(Sequence, Encoding, Result<(), String>)>,
}

impl SequenceState {
    fn check(&mut self, seq: &Sequence, encoding: Encoding) -> &Result<(), String> {
        if !matches!(&self.checked, Some((s, e, _)) if s == seq && *e == encoding) {
            self.checked = None;
        }
        let (_, _, result) = self
            .checked
            .get_or_insert_with(|| (seq.clone(), encoding, seq.check(encoding)));
        result
    }
}

/// What the user asked of the sequences.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceAction {
    /// Run the sequence shown.
    Run,
    /// Stop the one running.
    Stop,
}

/// The client a sequences section is drawn under.
#[derive(Debug, Clone, Copy)]
pub struct SequenceClient<'a> {
    /// Its name: the sequences it owns carry it.
    pub name: &'a str,
    /// How its messages are encoded, to check the steps.
    pub encoding: Encoding,
}

/// Draws the sequences section under `client`: the sequences that are its
/// own or any client's. `state` says what is wrong with the shown sequence,
/// if anything.
pub fn sequence_panel_ui(
    ui: &mut Ui,
    client: SequenceClient<'_>,
    sequences: &mut Vec<Sequence>,
    shown: &mut usize,
    view: &SequenceView,
    saved: &[SavedMessage],
    state: &mut SequenceState,
) -> Option<SequenceAction> {
    let SequenceClient {
        name: client,
        encoding,
    } = client;
    let mut action = None;
    let mine = |s: &Sequence| s.client.is_empty() || s.client == client;
    let visible: Vec<usize> = (0..sequences.len())
        .filter(|&i| mine(&sequences[i]))
        .collect();
    if !visible.contains(shown)
        && let Some(&first) = visible.first()
    {
        *shown = first;
    }
    let title = match visible.len() {
        0 => t!("sequence.title"),
        n => t!("sequence.title_count", count = n),
    };
    egui::CollapsingHeader::new(title)
        .id_salt("sequences")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                if let Some(seq) = sequences.get(*shown).filter(|s| mine(s)) {
                    let label = ui.label(t!("sequence.pick")).id;
                    egui::ComboBox::from_id_salt("sequence-pick")
                        .selected_text(seq.name.clone())
                        .show_ui(ui, |ui| {
                            for &i in &visible {
                                ui.selectable_value(shown, i, &sequences[i].name);
                            }
                        })
                        .response
                        .labelled_by(label);
                }
                if ui.button(t!("sequence.new")).clicked() {
                    sequences.push(Sequence {
                        name: t!("sequence.default_name", number = sequences.len() + 1)
                            .into_owned(),
                        client: client.to_owned(),
                        steps: vec![Step::default()],
                        ..Sequence::default()
                    });
                    *shown = sequences.len() - 1;
                }
                if !visible.is_empty()
                    && !view.running
                    && ui.button(t!("sequence.delete")).clicked()
                {
                    sequences.remove(*shown);
                    *shown = shown.saturating_sub(1);
                }
            });
            let Some(seq) = sequences.get_mut(*shown).filter(|s| mine(s)) else {
                ui.weak(t!("sequence.intro"));
                return;
            };
            ui.add_enabled_ui(!view.running, |ui| {
                edit_ui(ui, seq, saved);
                let mut own = !seq.client.is_empty();
                if ui
                    .checkbox(&mut own, t!("sequence.own_client"))
                    .on_hover_text(t!("sequence.own_client_hover"))
                    .changed()
                {
                    seq.client = if own {
                        client.to_owned()
                    } else {
                        String::new()
                    };
                }
            });
            let verdict = state.check(seq, encoding).clone();
            if let Err(e) = &verdict {
                ui.label(RichText::new(e).color(ERROR_RED));
            }
            ui.horizontal(|ui| {
                if view.running {
                    if ui.button(t!("sequence.stop")).clicked() {
                        action = Some(SequenceAction::Stop);
                    }
                    ui.spinner();
                    if let Some((round, step)) = view.at {
                        ui.label(t!(
                            "sequence.progress",
                            round = round,
                            step = step,
                            steps = seq.steps.len()
                        ));
                    }
                } else if ui
                    .add_enabled(verdict.is_ok(), egui::Button::new(t!("sequence.run")))
                    .clicked()
                {
                    action = Some(SequenceAction::Run);
                }
            });
            if let Some((text, ok)) = &view.outcome {
                let colour = if *ok { OK_GREEN } else { ERROR_RED };
                ui.label(RichText::new(text).color(colour));
            }
        });
    action
}

/// The name, the repeat count and the steps.
fn edit_ui(ui: &mut Ui, seq: &mut Sequence, saved: &[SavedMessage]) {
    // A row wider than the panel must not widen it, frame after frame.
    ui.set_max_width(ui.available_width());
    ui.horizontal(|ui| {
        let label = ui.label(t!("sequence.name")).id;
        ui.add(TextEdit::singleline(&mut seq.name).desired_width(140.0))
            .labelled_by(label);
        let label = ui.label(t!("sequence.runs")).id;
        ui.add(
            egui::DragValue::new(&mut seq.repeat)
                .range(0..=1_000_000)
                .custom_formatter(|n, _| {
                    if n == 0.0 {
                        t!("sequence.loop").into_owned()
                    } else {
                        format!("{n}×")
                    }
                })
                .custom_parser(|s| match s.trim().trim_end_matches('×') {
                    typed if typed == t!("sequence.loop") || typed == "loop" => Some(0.0),
                    typed => typed.parse().ok(),
                }),
        )
        .labelled_by(label)
        .on_hover_text(t!("sequence.runs_hover"));
    });
    let mut change = None;
    for (i, step) in seq.steps.iter_mut().enumerate() {
        ui.push_id(("step", i), |ui| {
            ui.horizontal(|ui| {
                ui.label(format!("{}", i + 1));
                egui::ComboBox::from_id_salt("step-kind")
                    .width(70.0)
                    .selected_text(step_kind_label(step.kind))
                    .show_ui(ui, |ui| {
                        for kind in StepKind::ALL {
                            ui.selectable_value(&mut step.kind, kind, step_kind_label(kind));
                        }
                    })
                    .response
                    .widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::ComboBox, true, t!("sequence.step"))
                    });
                step_fields_ui(ui, step, saved);
                if ui
                    .small_button("↑")
                    .on_hover_text(t!("sequence.move_up"))
                    .clicked()
                {
                    change = Some((i, -1));
                }
                if ui
                    .small_button("×")
                    .on_hover_text(t!("sequence.remove"))
                    .clicked()
                {
                    change = Some((i, 0));
                }
            });
        });
    }
    match change {
        Some((i, -1)) if i > 0 => seq.steps.swap(i, i - 1),
        Some((i, 0)) => {
            seq.steps.remove(i);
        }
        _ => {}
    }
    if ui
        .add_enabled(
            seq.steps.len() < MAX_STEPS,
            egui::Button::new(t!("sequence.add_step")),
        )
        .clicked()
    {
        let kind = match seq.steps.last().map(|s| s.kind) {
            Some(StepKind::Send | StepKind::SendHex) => StepKind::Expect,
            _ => StepKind::Send,
        };
        seq.steps.push(Step {
            kind,
            ms: if kind == StepKind::Expect { 1000 } else { 0 },
            matching: MatchKind::Contains,
            ..Step::default()
        });
    }
}

/// The fields a step of its kind has.
fn step_fields_ui(ui: &mut Ui, step: &mut Step, saved: &[SavedMessage]) {
    // What is left of the row once the label is drawn, less the buttons after
    // the field; never the whole panel, or the panel would grow every frame.
    let room = |ui: &Ui, after: f32| (ui.available_width() - after).max(40.0);
    match step.kind {
        StepKind::Send | StepKind::SendHex => {
            let hint = if step.kind == StepKind::Send {
                t!("sequence.text_hint")
            } else {
                "01 03 00 00".into()
            };
            let label = ui.label(t!("sequence.message")).id;
            ui.add(
                TextEdit::singleline(&mut step.text)
                    .desired_width(room(ui, 96.0))
                    .hint_text(hint),
            )
            .labelled_by(label);
            if !saved.is_empty() {
                ui.menu_button("…", |ui| {
                    for m in saved {
                        if ui.button(&m.name).clicked() {
                            step.text.clone_from(&m.message);
                            step.kind = match m.mode {
                                MessageMode::Text => StepKind::Send,
                                MessageMode::Hex => StepKind::SendHex,
                            };
                            ui.close();
                        }
                    }
                })
                .response
                .on_hover_text(t!("sequence.saved_hover"));
            }
        }
        StepKind::Pause => {
            let label = ui.label(t!("sequence.pause_for")).id;
            ui.add(
                egui::DragValue::new(&mut step.ms)
                    .range(0..=86_400_000)
                    .suffix(" ms"),
            )
            .labelled_by(label);
        }
        StepKind::Expect => {
            egui::ComboBox::from_id_salt("expect-kind")
                .width(60.0)
                .selected_text(match_kind_label(step.matching))
                .show_ui(ui, |ui| {
                    for kind in MatchKind::ALL {
                        ui.selectable_value(&mut step.matching, kind, match_kind_label(kind));
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, t!("sequence.matching"))
                });
            let label = ui.label(t!("sequence.reply")).id;
            ui.add(
                TextEdit::singleline(&mut step.text)
                    .desired_width(room(ui, 180.0))
                    .hint_text("OK"),
            )
            .labelled_by(label);
            ui.add(
                egui::DragValue::new(&mut step.ms)
                    .range(1..=86_400_000)
                    .prefix("≤ ")
                    .suffix(" ms"),
            )
            .on_hover_text(t!("sequence.timeout_hover"))
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::SpinButton, true, t!("sequence.timeout"))
            });
        }
    }
}

/// A step's kind as its menu names it, in the window's language
/// (`StepKind::name` is the token project files use).
fn step_kind_label(kind: StepKind) -> Cow<'static, str> {
    match kind {
        StepKind::Send => t!("sequence.kind_send"),
        StepKind::SendHex => t!("sequence.kind_send_hex"),
        StepKind::Pause => t!("sequence.kind_pause"),
        StepKind::Expect => t!("sequence.kind_expect"),
    }
}
