//! The chart strip: packets and bytes a second, in and out, per endpoint over
//! the last minute, and a client's round-trip times, drawn with egui_plot
//! from the samples it is handed. The plots only show: they take no wheel,
//! drag or zoom, so scrolling the panels around them works as before.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::RangeInclusive;

use egui::{RichText, Ui};
use egui_plot::{AxisHints, Corner, GridMark, Legend, Line, Plot, PlotPoints};
use rust_i18n::t;

/// How far back the charts look, in seconds.
pub const SPAN_SECS: f64 = 60.0;

/// The heading over the strip, in the window's language.
#[must_use]
pub fn heading() -> Cow<'static, str> {
    t!("charts.heading")
}

/// One endpoint's rates at time `t` (seconds on the sampler's clock), each a
/// second's worth averaged.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RatePoint {
    pub t: f64,
    pub packets_in: f64,
    pub packets_out: f64,
    pub bytes_in: f64,
    pub bytes_out: f64,
}

impl RatePoint {
    /// Nothing moved.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.packets_in == 0.0 && self.packets_out == 0.0
    }
}

/// The round-trip times of the replies that came in one sample period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttPoint {
    pub t: f64,
    pub median_ms: f64,
    pub max_ms: f64,
}

/// One endpoint's lines, named as the packet table names it.
#[derive(Debug, Clone, Copy)]
pub struct Trace<'a> {
    pub name: &'a str,
    pub rates: &'a VecDeque<RatePoint>,
    pub rtts: &'a VecDeque<RttPoint>,
}

/// What the strip asks for.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartAction {
    /// Hide the strip (View → Charts shows it again).
    Hide,
}

/// Draws the strip filling `ui`: a heading, then the packet, byte and (when a
/// client measured any) RTT plots side by side. `now` is the sampler's clock:
/// the right edge of every plot.
pub fn chart_strip_ui(ui: &mut Ui, traces: &[Trace<'_>], now: f64) -> Option<ChartAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new(heading()).strong());
        if traces.is_empty() {
            ui.weak(t!("charts.no_traffic"));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .small_button(t!("charts.hide"))
                .on_hover_text(t!("charts.hide_hover"))
                .clicked()
            {
                action = Some(ChartAction::Hide);
            }
        });
    });
    let with_rtt = traces.iter().any(|t| !t.rtts.is_empty());
    let plots = if with_rtt { 3 } else { 2 };
    ui.columns(plots, |cols| {
        if let [packets, bytes, rest @ ..] = cols {
            plot_ui(packets, "chart-packets", PACKETS, |ui| {
                for t in traces {
                    rate_lines_ui(ui, t, now, |p| (p.packets_in, p.packets_out));
                }
            });
            plot_ui(bytes, "chart-bytes", BYTES, |ui| {
                for t in traces {
                    rate_lines_ui(ui, t, now, |p| (p.bytes_in, p.bytes_out));
                }
            });
            if let [rtt, ..] = rest {
                plot_ui(rtt, "chart-rtt", RTT, |ui| {
                    for t in traces.iter().filter(|t| !t.rtts.is_empty()) {
                        rtt_lines_ui(ui, t, now);
                    }
                });
            }
        }
    });
    action
}

/// How a plot's y axis reads its values, and the least it shows.
#[derive(Clone, Copy)]
struct Scale {
    unit: fn() -> Cow<'static, str>,
    tick: fn(f64) -> String,
    /// The top of the y axis when every value is below it, so an idle plot
    /// shows a scale rather than a flat line in the middle.
    floor: f64,
}

const PACKETS: Scale = Scale {
    unit: || t!("charts.packets_per_s"),
    tick: count_tick,
    floor: 1.0,
};
const BYTES: Scale = Scale {
    unit: || t!("charts.bytes_per_s"),
    tick: bytes_tick,
    floor: 64.0,
};
const RTT: Scale = Scale {
    unit: || t!("charts.rtt_ms"),
    tick: count_tick,
    floor: 0.0,
};

/// One plot with a fixed 60 s window that slides with `now`, and no zoom,
/// pan or wheel of its own.
fn plot_ui<'a>(
    ui: &mut Ui,
    id: &str,
    scale: Scale,
    lines: impl FnOnce(&mut egui_plot::PlotUi<'a>) + 'a,
) {
    ui.label(RichText::new((scale.unit)()).small().weak());
    // A tick every 5 s, labelled every 15 s: a plot a quarter of the window
    // wide has room for that, not for egui_plot's default of every 10 s.
    let seconds = AxisHints::new_x()
        .formatter(|mark: GridMark, _: &RangeInclusive<f64>| format!("{:.0} s", mark.value))
        .label_spacing(40.0..=60.0);
    let tick = scale.tick;
    Plot::new(id)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_axis_zoom_drag(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_crosshair(false)
        .include_y(0.0)
        .include_y(scale.floor)
        .custom_x_axes(vec![seconds])
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [5.0, 15.0, 60.0]))
        .y_grid_spacer(egui_plot::uniform_grid_spacer(nice_steps))
        .y_axis_formatter(move |mark: GridMark, _: &RangeInclusive<f64>| tick(mark.value))
        .y_axis_min_width(44.0)
        .legend(
            Legend::default()
                .position(Corner::LeftTop)
                .text_style(egui::TextStyle::Small)
                .background_alpha(0.5),
        )
        .show(ui, |plot| {
            plot.set_plot_bounds_x(-SPAN_SECS..=0.0);
            lines(plot);
        });
}

fn rate_lines_ui(
    plot: &mut egui_plot::PlotUi<'_>,
    trace: &Trace<'_>,
    now: f64,
    pick: impl Fn(&RatePoint) -> (f64, f64),
) {
    let since = now - SPAN_SECS;
    let shown = || trace.rates.iter().filter(|p| p.t >= since);
    let ins: PlotPoints<'_> = shown().map(|p| [p.t - now, pick(p).0]).collect();
    let outs: PlotPoints<'_> = shown().map(|p| [p.t - now, pick(p).1]).collect();
    plot.line(Line::new(t!("charts.line_in", name = trace.name), ins));
    plot.line(Line::new(t!("charts.line_out", name = trace.name), outs));
}

fn rtt_lines_ui(plot: &mut egui_plot::PlotUi<'_>, trace: &Trace<'_>, now: f64) {
    let since = now - SPAN_SECS;
    let shown = || trace.rtts.iter().filter(|p| p.t >= since);
    let median: PlotPoints<'_> = shown().map(|p| [p.t - now, p.median_ms]).collect();
    let max: PlotPoints<'_> = shown().map(|p| [p.t - now, p.max_ms]).collect();
    plot.line(Line::new(
        t!("charts.line_median", name = trace.name),
        median,
    ));
    plot.line(
        Line::new(t!("charts.line_max", name = trace.name), max)
            .style(egui_plot::LineStyle::dotted_dense()),
    );
}

/// Grid steps of 1, 2 or 5 times a power of ten, about three labels high:
/// a plot 90 points high has no room for egui_plot's powers of ten, which
/// leave 80 B/s with a lone 0 on its axis.
fn nice_steps(input: egui_plot::GridInput) -> [f64; 3] {
    let wanted = ((input.bounds.1 - input.bounds.0) / 3.0).max(1e-9);
    let power = 10f64.powf(wanted.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= wanted)
        .unwrap_or(10.0 * power);
    [step / 2.0, step, step * 2.0]
}

fn count_tick(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v.abs() >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        // Grid steps such as 0.1 come out as 0.30000000000000004.
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

fn bytes_tick(v: f64) -> String {
    if v.abs() >= 1024.0 * 1024.0 {
        format!("{:.1} MB", v / (1024.0 * 1024.0))
    } else if v.abs() >= 1024.0 {
        format!("{:.1} KB", v / 1024.0)
    } else {
        format!("{} B", v.round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_steps_leave_about_three_labels() {
        let steps = |lo, hi| {
            nice_steps(egui_plot::GridInput {
                bounds: (lo, hi),
                base_step_size: 1.0,
            })[1]
        };
        assert_eq!(steps(0.0, 84.0), 50.0);
        assert_eq!(steps(0.0, 21.0), 10.0);
        assert_eq!(steps(-0.05, 1.05), 0.5);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(count_tick(2500.0), "2.5k");
        assert_eq!(count_tick(3.0), "3");
        assert_eq!(count_tick(0.1 + 0.2), "0.3");
        assert_eq!(bytes_tick(2048.0), "2.0 KB");
        assert_eq!(bytes_tick(5.0 * 1024.0 * 1024.0), "5.0 MB");
    }
}
