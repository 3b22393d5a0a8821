//! The server's reply rules: the list (add, move, enable, remove), each rule's
//! mistake beside it, and a Try box that shows which rule a typed message hits
//! and what it would answer.

use std::time::SystemTime;

use egui::{RichText, TextEdit, Ui};
use rust_i18n::t;

use crate::codec::{self, Encoding};
use crate::net::{
    Incoming, MAX_RULES, MatchKind, ReplyFormat, Rule, RuleAction, RuleError, RuleSet, Verdict,
};

use super::widgets::{ERROR_RED, OK_GREEN, match_kind_label};

/// What the editor keeps between frames: the rules compiled for the check
/// and the Try box, redone only when the rules or the encoding change.
#[derive(Default)]
pub struct RulesState {
    checked: Option<(Vec<Rule>, Encoding, Result<RuleSet, RuleError>)>,
    /// The message typed in the Try box.
    pub trial: String,
}

impl RulesState {
    /// The compiled rules, or the first mistake.
    pub fn check(&mut self, rules: &[Rule], encoding: Encoding) -> &Result<RuleSet, RuleError> {
        let stale = !matches!(&self.checked, Some((r, e, _)) if r == rules && *e == encoding);
        if stale {
            self.checked = None;
        }
        let (_, _, result) = self
            .checked
            .get_or_insert_with(|| (rules.to_vec(), encoding, RuleSet::new(rules, encoding)));
        result
    }
}

/// What the user did to the rules.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesEdit {
    /// A finished change to a list that compiles: the running server should take it.
    Apply,
}

/// Draws the rules of a server speaking `encoding`.
pub fn rules_editor_ui(
    ui: &mut Ui,
    rules: &mut Vec<Rule>,
    encoding: Encoding,
    state: &mut RulesState,
) -> Option<RulesEdit> {
    let mut committed = false;
    let on = rules.iter().filter(|r| r.enabled).count();
    let title = match (on, state.check(rules, encoding)) {
        (_, Err(e)) => {
            RichText::new(t!("rules.title_mistake", rule = e.index + 1)).color(ERROR_RED)
        }
        (0, Ok(_)) => RichText::new(t!("rules.title")),
        (n, Ok(_)) => RichText::new(t!("rules.title_on", count = n)),
    };
    // Closed at first: the list is long, and the client panel sits below it.
    egui::CollapsingHeader::new(title)
        .id_salt("reply-rules")
        .show(ui, |ui| {
            // A row wider than the panel must not widen it, frame after frame.
            ui.set_max_width(ui.available_width());
            ui.weak(t!("rules.intro"));
            let failed = state.check(rules, encoding).as_ref().err().cloned();
            let mut change = None;
            for (i, rule) in rules.iter_mut().enumerate() {
                ui.push_id(("rule", i), |ui| {
                    ui.group(|ui| {
                        let (c, ch) = rule_ui(ui, i, rule);
                        committed |= c;
                        change = change.or(ch);
                        if let Some(e) = failed.as_ref().filter(|e| e.index == i) {
                            ui.label(RichText::new(&e.message).color(ERROR_RED));
                        }
                    });
                });
            }
            if let Some(change) = change {
                committed = true;
                change.apply(rules);
            }
            let room = rules.len() < MAX_RULES;
            if ui
                .add_enabled(room, egui::Button::new(t!("rules.add")))
                .clicked()
            {
                rules.push(Rule::default());
            }
            try_ui(ui, state, rules, encoding);
        });
    let valid = state.check(rules, encoding).is_ok();
    (committed && valid).then_some(RulesEdit::Apply)
}

/// A move or removal asked for by one rule's buttons.
#[derive(Clone, Copy)]
enum Change {
    Up(usize),
    Down(usize),
    Remove(usize),
}

impl Change {
    fn apply(self, rules: &mut Vec<Rule>) {
        match self {
            Change::Up(i) if i > 0 => rules.swap(i, i - 1),
            Change::Down(i) if i + 1 < rules.len() => rules.swap(i, i + 1),
            Change::Remove(i) if i < rules.len() => {
                rules.remove(i);
            }
            _ => {}
        }
    }
}

/// One rule's three rows; whether a change is finished, and any move asked for.
fn rule_ui(ui: &mut Ui, i: usize, rule: &mut Rule) -> (bool, Option<Change>) {
    let before = rule.clone();
    let mut typed = false;
    let mut change = None;
    ui.horizontal(|ui| {
        ui.checkbox(&mut rule.enabled, format!("{}", i + 1))
            .on_hover_text(t!("rules.enabled_hover"));
        egui::ComboBox::from_id_salt("kind")
            .width(80.0)
            .selected_text(match_kind_label(rule.kind))
            .show_ui(ui, |ui| {
                for kind in MatchKind::ALL {
                    ui.selectable_value(&mut rule.kind, kind, match_kind_label(kind));
                }
            })
            .response
            .on_hover_text(t!("rules.kind_hover"))
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, t!("rules.kind"))
            });
        if rule.kind != MatchKind::Any {
            let hint = match rule.kind {
                MatchKind::Regex => r"^GET (\w+)$".into(),
                MatchKind::Hex => "02 ?? ?? 03".into(),
                _ => t!("rules.pattern_hint"),
            };
            let label = ui.label(t!("rules.matches")).id;
            typed |= ui
                .add(
                    TextEdit::singleline(&mut rule.pattern)
                        .desired_width(ui.available_width() - 4.0)
                        .hint_text(hint),
                )
                .labelled_by(label)
                .lost_focus();
        }
    });
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("action")
            .width(60.0)
            .selected_text(match rule.action {
                RuleAction::Reply => t!("rules.reply"),
                RuleAction::Drop => t!("rules.drop"),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut rule.action, RuleAction::Reply, t!("rules.reply"));
                ui.selectable_value(&mut rule.action, RuleAction::Drop, t!("rules.drop"));
            })
            .response
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, t!("rules.action"))
            });
        if rule.action == RuleAction::Reply {
            let mut hex = rule.format == ReplyFormat::Hex;
            let label = ui.label(t!("rules.with")).id;
            typed |= ui
                .add(
                    TextEdit::singleline(&mut rule.reply)
                        .desired_width(ui.available_width() - 54.0)
                        .hint_text(if hex { "06" } else { "pong {seq}" }),
                )
                .labelled_by(label)
                .lost_focus();
            ui.checkbox(&mut hex, t!("rules.hex"));
            rule.format = if hex {
                ReplyFormat::Hex
            } else {
                ReplyFormat::Text
            };
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label(t!("rules.from")).id;
        typed |= ui
            .add(
                TextEdit::singleline(&mut rule.peer)
                    .desired_width(100.0)
                    .hint_text(t!("rules.from_hint")),
            )
            .labelled_by(label)
            .on_hover_text(t!("rules.from_hover"))
            .lost_focus();
        ui.add(
            egui::DragValue::new(&mut rule.delay_ms)
                .range(0..=3_600_000)
                .suffix(" ms"),
        )
        .on_hover_text(t!("rules.delay_hover"))
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, t!("rules.delay")));
        ui.add(
            egui::DragValue::new(&mut rule.times)
                .range(0..=1_000_000)
                .custom_formatter(|n, _| {
                    if n == 0.0 {
                        t!("rules.always").into_owned()
                    } else {
                        format!("{n}×")
                    }
                })
                .custom_parser(|s| match s.trim().trim_end_matches('×') {
                    typed if typed == t!("rules.always") || typed == "always" => Some(0.0),
                    typed => typed.parse().ok(),
                }),
        )
        .on_hover_text(t!("rules.times_hover"))
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, t!("rules.times")));
        if ui
            .small_button("↑")
            .on_hover_text(t!("rules.move_up"))
            .clicked()
        {
            change = Some(Change::Up(i));
        }
        if ui
            .small_button("↓")
            .on_hover_text(t!("rules.move_down"))
            .clicked()
        {
            change = Some(Change::Down(i));
        }
        if ui
            .small_button("×")
            .on_hover_text(t!("rules.remove"))
            .clicked()
        {
            change = Some(Change::Remove(i));
        }
    });
    // Text counts when its field is left; every other control at once.
    let mut untyped = rule.clone();
    untyped.pattern.clone_from(&before.pattern);
    untyped.reply.clone_from(&before.reply);
    untyped.peer.clone_from(&before.peer);
    (typed || untyped != before, change)
}

/// The Try box and what the rules make of its message.
fn try_ui(ui: &mut Ui, state: &mut RulesState, rules: &[Rule], encoding: Encoding) {
    ui.horizontal(|ui| {
        let label = ui.label(t!("rules.try")).id;
        ui.add(
            TextEdit::singleline(&mut state.trial)
                .desired_width(ui.available_width())
                .hint_text(t!("rules.try_hint")),
        )
        .labelled_by(label);
    });
    if state.trial.is_empty() {
        return;
    }
    let trial = state.trial.clone();
    let (text, color) = match state.check(rules, encoding) {
        Err(e) => (t!("rules.fix_first", error = e).into_owned(), ERROR_RED),
        Ok(set) => match codec::parse_escaped(&trial, encoding) {
            Err(e) => (e.to_string(), ERROR_RED),
            Ok(bytes) => (verdict_text(set, rules, &bytes, encoding), OK_GREEN),
        },
    };
    ui.label(RichText::new(text).color(color));
}

/// What the rules would do with `bytes`, in words.
fn verdict_text(set: &RuleSet, rules: &[Rule], bytes: &[u8], encoding: Encoding) -> String {
    // A copy, so trying does not use up a rule's firings.
    let mut set = set.clone();
    let msg = Incoming {
        bytes,
        peer: std::net::SocketAddr::from(([127, 0, 0, 1], 50_000)),
        time: SystemTime::now(),
        seq: 1,
    };
    let name = |i: usize| match rules.get(i).map(|r| r.name.trim()) {
        Some(n) if !n.is_empty() => t!("rules.rule_named", rule = i + 1, name = n),
        _ => t!("rules.rule", rule = i + 1),
    };
    match set.decide(&msg) {
        Verdict::NoMatch => t!("rules.no_match").into_owned(),
        Verdict::Drop { rule } => t!("rules.drops", rule = name(rule)).into_owned(),
        Verdict::Reply { rule, bytes, delay } => {
            let shown = codec::escape_bytes(&bytes, encoding);
            if delay.is_zero() {
                t!("rules.answers", rule = name(rule), reply = shown).into_owned()
            } else {
                t!(
                    "rules.answers_after",
                    rule = name(rule),
                    ms = delay.as_millis(),
                    reply = shown
                )
                .into_owned()
            }
        }
    }
}
