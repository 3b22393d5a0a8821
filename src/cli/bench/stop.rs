//! Stopping a run at once from the thread that sees Ctrl-C: a flag the sending
//! loop checks between batches, and a channel whose closing cuts short any sleep.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// Pulled once to stop the run.
pub(super) struct StopSwitch {
    flag: Arc<AtomicBool>,
    closer: Option<Sender<()>>,
}

/// What the working threads watch.
#[derive(Clone)]
pub(super) struct StopSignal {
    flag: Arc<AtomicBool>,
    closed: Receiver<()>,
}

pub(super) fn stop_pair() -> (StopSwitch, StopSignal) {
    let flag = Arc::new(AtomicBool::new(false));
    // Nothing is ever sent: dropping the sender is the signal every sleeper sees.
    let (closer, closed) = crossbeam_channel::bounded(0);
    (
        StopSwitch {
            flag: Arc::clone(&flag),
            closer: Some(closer),
        },
        StopSignal { flag, closed },
    )
}

impl StopSwitch {
    pub(super) fn pull(&mut self) {
        self.flag.store(true, Ordering::Release);
        self.closer = None;
    }
}

impl StopSignal {
    pub(super) fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Sleeps until `at`; returns true if the run was stopped meanwhile.
    pub(super) fn sleep_until(&self, at: Instant) -> bool {
        match self.closed.recv_deadline(at) {
            Err(RecvTimeoutError::Timeout) => self.is_set(),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pulling_the_switch_ends_a_long_sleep() {
        let (mut switch, signal) = stop_pair();
        assert!(!signal.sleep_until(Instant::now()));
        let sleeper = signal.clone();
        let woke = std::thread::spawn(move || {
            sleeper.sleep_until(Instant::now() + Duration::from_secs(3600))
        });
        switch.pull();
        assert!(woke.join().unwrap_or(false));
        assert!(signal.is_set());
    }
}
