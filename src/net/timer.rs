//! The wake-up for the hand-over's deadlines. A poll timeout arms a kernel
//! timer on every sleep, which at 20,000 datagrams a second is 20,000 timers a
//! second; a `timerfd` in the poll is armed once per batch instead (Linux).
//! Elsewhere, or if the system will not make one, the deadline simply becomes
//! the poll's timeout.

use std::time::Instant;

use mio::{Registry, Token};

/// A one-shot timer that wakes the poll by a deadline.
pub struct DeadlineTimer {
    #[cfg(target_os = "linux")]
    fd: Option<nix::sys::timerfd::TimerFd>,
    /// The deadline the timer is set for, while it is.
    armed: Option<Instant>,
}

impl DeadlineTimer {
    /// A timer whose expiry shows up in `registry`'s poll as `token`.
    #[cfg(target_os = "linux")]
    pub fn new(registry: &Registry, token: Token) -> DeadlineTimer {
        use mio::Interest;
        use mio::unix::SourceFd;
        use nix::sys::timerfd::{ClockId, TimerFd, TimerFlags};
        use std::os::fd::{AsFd, AsRawFd};

        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .ok()
        .filter(|fd| {
            registry
                .register(
                    &mut SourceFd(&fd.as_fd().as_raw_fd()),
                    token,
                    Interest::READABLE,
                )
                .is_ok()
        });
        DeadlineTimer { fd, armed: None }
    }

    /// A timer that lends its deadline to the poll's timeout.
    #[cfg(not(target_os = "linux"))]
    pub fn new(_registry: &Registry, _token: Token) -> DeadlineTimer {
        DeadlineTimer { armed: None }
    }

    /// Makes sure the poll wakes by `at`. Returns the deadline the poll's own
    /// timeout must still honour: one that is already due, or every one when
    /// there is no timerfd.
    pub fn arm(&mut self, at: Option<Instant>) -> Option<Instant> {
        let at = at?;
        let now = Instant::now();
        if at <= now {
            return Some(at);
        }
        if self.armed.is_some_and(|t| t <= at) {
            // It goes off sooner; that wake-up arms it again if need be.
            return None;
        }
        self.set(at, now)
    }

    #[cfg(target_os = "linux")]
    fn set(&mut self, at: Instant, now: Instant) -> Option<Instant> {
        use nix::sys::time::TimeSpec;
        use nix::sys::timerfd::{Expiration, TimerSetTimeFlags};

        let Some(fd) = &self.fd else {
            return Some(at);
        };
        let after = TimeSpec::from_duration(at - now);
        if fd
            .set(Expiration::OneShot(after), TimerSetTimeFlags::empty())
            .is_ok()
        {
            self.armed = Some(at);
            None
        } else {
            Some(at)
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn set(&mut self, at: Instant, _now: Instant) -> Option<Instant> {
        Some(at)
    }

    /// The timer went off: clear it so the poll stops reporting it.
    pub fn fired(&mut self) {
        self.armed = None;
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            let mut expirations = [0u8; 8];
            // Nothing to read means it was cleared already: fine either way.
            let _read = nix::unistd::read(fd, &mut expirations);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use mio::{Events, Poll};
    use std::time::Duration;

    #[test]
    fn an_armed_timer_wakes_the_poll_by_its_deadline() {
        let mut poll = Poll::new().unwrap();
        let mut timer = DeadlineTimer::new(poll.registry(), Token(7));
        let at = Instant::now() + Duration::from_millis(5);
        let left = timer.arm(Some(at));
        if cfg!(target_os = "linux") {
            assert!(left.is_none(), "the timerfd carries it, not the poll");
            let mut events = Events::with_capacity(4);
            poll.poll(&mut events, Some(Duration::from_secs(10)))
                .unwrap();
            assert!(events.iter().any(|e| e.token() == Token(7)));
            assert!(Instant::now() >= at, "not before its time");
            timer.fired();
        } else {
            assert_eq!(left, Some(at));
        }
        let due = Instant::now();
        assert_eq!(
            timer.arm(Some(due)),
            Some(due),
            "a due deadline shortens the poll"
        );
        assert_eq!(timer.arm(None), None);
    }
}
