//! The UDP engine: one background thread owns every socket; its owner sends
//! [`Command`]s and receives [`Event`]s over channels, and is woken by a plain
//! callback after each batch. Nothing here knows of any UI.

mod client;
mod command;
mod counters;
mod drops;
mod endpoint;
mod error;
mod guard;
mod handover;
mod interfaces;
mod later;
mod limit;
mod lookup;
mod matcher;
mod outbox;
mod relay;
mod reply;
mod resolve;
mod rules;
mod rules_file;
mod sequence;
mod sequence_run;
mod server;
mod socket;
mod throttle;
mod timer;
mod worker;

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use mio::{Poll, Waker};

pub use client::sample_fill;
#[cfg(feature = "fault-injection")]
pub use command::Fault;
pub use command::{
    Buffers, ClientConfig, Command, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER, Event, MAX_DATAGRAM,
    Multicast, PeerInfo, SendJob, ServerConfig, SocketOptions, StopReason,
};
pub use counters::Counters;
pub use endpoint::{MAX_PEERS, MAX_UNLISTED as MAX_UNLISTED_PEERS};
pub use error::{MAX_PAYLOAD_V4, MAX_PAYLOAD_V6, NetError, max_payload};
pub use handover::{CHANNEL_EVENTS, DEFAULT_HANDOVER_DELAY, MAX_HANDOVER_DELAY};
pub use interfaces::local_addresses;
pub use limit::ReplyLimit;
pub use matcher::{MatchKind, Matcher};
pub use relay::{
    DEFAULT_IDLE_TIMEOUT, InjectTo, Leg, MAX_DELAY, MAX_DUPLICATES, MAX_MAPPINGS, MappingChange,
    RelayAction, RelayConfig, RelayCounters, RelayRule, Rewrite, RuleMatch, Toward, check_rules,
};
pub use reply::{Incoming, ReplyMode, Responder};
pub use resolve::{Target, parse_bind, parse_target};
pub use rules::{MAX_RULES, ReplyFormat, Rule, RuleAction, RuleError, RuleSet, Verdict};
pub use rules_file::RulesFile;
pub(crate) use rules_file::parse_strict;
pub use sequence::{MAX_STEPS, Sequence, SequenceEnd, Step, StepKind};
pub use worker::Resolver;

/// The handle to a running engine. Dropping it ends the network thread.
pub struct Engine {
    commands: Option<Sender<Command>>,
    events: Receiver<Event>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts the network thread. `wake` is called after each batch of events
    /// (a window passes `move || ctx.request_repaint()`).
    ///
    /// # Errors
    /// The system could not create the poller or the thread.
    pub fn spawn(wake: impl Fn() + Send + Sync + 'static) -> Result<Engine, NetError> {
        Engine::spawn_with_resolver(wake, Arc::new(resolve::lookup))
    }

    /// Like [`Engine::spawn`], with another way to look host names up (tests
    /// use this to exercise lookups without sending DNS queries anywhere).
    ///
    /// # Errors
    /// The system could not create the poller or the thread.
    pub fn spawn_with_resolver(
        wake: impl Fn() + Send + Sync + 'static,
        resolver: Resolver,
    ) -> Result<Engine, NetError> {
        let poll = Poll::new().map_err(|e| NetError::io("cannot create the socket poller", &e))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), worker::WAKER)
                .map_err(|e| NetError::io("cannot create the poller's waker", &e))?,
        );
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        // Bounded: a consumer that falls behind costs display copies, not memory.
        let (ev_tx, ev_rx) = crossbeam_channel::bounded(CHANNEL_EVENTS);
        let thread_waker = Arc::clone(&waker);
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(wake);
        let failed_tx = ev_tx.clone();
        let failed_wake = Arc::clone(&wake);
        let thread = std::thread::Builder::new()
            .name("udpdesk-net".to_owned())
            // Made on its own thread: the recvmmsg headers hold raw pointers
            // and may not cross threads.
            .spawn(move || {
                let handover_wake: Box<dyn Fn() + Send> = Box::new(move || wake());
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    worker::Worker::new(poll, thread_waker, cmd_rx, ev_tx, handover_wake, resolver)
                        .run();
                }));
                if let Err(panic) = run {
                    // A bug: say what, so the owner can show it and start anew.
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "an unknown failure".to_owned());
                    let reason = format!("the network thread failed: {what}");
                    let _told = failed_tx.send_timeout(
                        Event::EngineFailed { reason },
                        std::time::Duration::from_secs(5),
                    );
                    failed_wake();
                }
            })
            .map_err(|e| NetError::io("cannot start the network thread", &e))?;
        Ok(Engine {
            commands: Some(cmd_tx),
            events: ev_rx,
            waker,
            thread: Some(thread),
        })
    }

    /// Hands a command to the network thread, which acts on it at once.
    ///
    /// # Errors
    /// The network thread has ended (it only does so on a fatal poller error).
    pub fn send(&self, command: Command) -> Result<(), NetError> {
        let gone = || NetError::Io {
            context: "the network thread has stopped".to_owned(),
            message: "restart udpdesk".to_owned(),
        };
        self.commands
            .as_ref()
            .ok_or_else(gone)?
            .send(command)
            .map_err(|_| gone())?;
        self.waker
            .wake()
            .map_err(|e| NetError::io("cannot wake the network thread", &e))
    }

    /// The events the network thread reports, in order.
    #[must_use]
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// True while the network thread runs.
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Closing the channel is the signal; the wake makes the thread see it now.
        self.commands = None;
        let _woken = self.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _joined = thread.join();
        }
    }
}
