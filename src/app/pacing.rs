//! How often the window redraws while traffic flows. The engine's wake-ups
//! (hundreds a second in a flood) ask for a frame no sooner than the frame
//! interval after the last one, so traffic costs a capped number of frames and
//! an idle window none. The cap follows the renderer: each frame on a CPU
//! renderer (llvmpipe in a VM or a remote desktop) costs 50 to 200 ms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The redraw cap the user picks in the View menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RedrawRate {
    /// 30 a second on a GPU, 10 on a CPU renderer.
    #[default]
    Auto,
    /// 5 a second.
    Fps5,
    /// 10 a second.
    Fps10,
    /// 30 a second.
    Fps30,
    /// 60 a second.
    Fps60,
}

impl RedrawRate {
    /// Every choice, in menu order.
    pub const ALL: [RedrawRate; 5] = [
        RedrawRate::Auto,
        RedrawRate::Fps5,
        RedrawRate::Fps10,
        RedrawRate::Fps30,
        RedrawRate::Fps60,
    ];

    /// The menu's words, in the window's language.
    #[must_use]
    pub fn label(self) -> std::borrow::Cow<'static, str> {
        match self {
            RedrawRate::Auto => rust_i18n::t!("menu.redraw_auto"),
            RedrawRate::Fps5 => rust_i18n::t!("menu.redraw_fps", fps = 5),
            RedrawRate::Fps10 => rust_i18n::t!("menu.redraw_fps", fps = 10),
            RedrawRate::Fps30 => rust_i18n::t!("menu.redraw_fps", fps = 30),
            RedrawRate::Fps60 => rust_i18n::t!("menu.redraw_fps", fps = 60),
        }
    }

    /// Frames a second while traffic flows, given whether the renderer is the CPU.
    #[must_use]
    pub fn fps(self, cpu_renderer: bool) -> u64 {
        match self {
            RedrawRate::Auto if cpu_renderer => 10,
            RedrawRate::Auto | RedrawRate::Fps30 => 30,
            RedrawRate::Fps5 => 5,
            RedrawRate::Fps10 => 10,
            RedrawRate::Fps60 => 60,
        }
    }
}

/// Shared between the UI thread (which notes each frame) and the engine's
/// wake callback (which asks when the next frame may come).
#[derive(Debug)]
pub struct Pacing {
    start: Instant,
    /// Microseconds from `start` to the last frame.
    last_frame: AtomicU64,
    /// The least time between two frames, in microseconds.
    interval: AtomicU64,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            start: Instant::now(),
            last_frame: AtomicU64::new(0),
            interval: AtomicU64::new(1_000_000 / 30),
        }
    }
}

impl Pacing {
    /// Sets the cap in frames a second.
    pub fn set_fps(&self, fps: u64) {
        self.interval
            .store(1_000_000 / fps.max(1), Ordering::Relaxed);
    }

    /// The least time between two frames.
    #[must_use]
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.interval.load(Ordering::Relaxed))
    }

    /// Notes that a frame is being made now.
    pub fn frame(&self) {
        self.last_frame.store(self.micros(), Ordering::Relaxed);
    }

    /// How long until the next frame may come (zero when it may come now).
    #[must_use]
    pub fn wait(&self) -> Duration {
        let next = self.last_frame.load(Ordering::Relaxed) + self.interval.load(Ordering::Relaxed);
        Duration::from_micros(next.saturating_sub(self.micros()))
    }

    fn micros(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_pushes_the_next_one_back_by_the_interval() {
        let p = Pacing::default();
        p.set_fps(10);
        p.frame();
        let wait = p.wait();
        assert!(wait > Duration::from_millis(50) && wait <= Duration::from_millis(100));
    }

    #[test]
    fn the_automatic_rate_is_lower_on_a_cpu_renderer() {
        assert_eq!(RedrawRate::Auto.fps(true), 10);
        assert_eq!(RedrawRate::Auto.fps(false), 30);
        assert_eq!(RedrawRate::Fps60.fps(true), 60);
    }
}
