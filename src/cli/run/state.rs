//! What `udpdesk run` keeps while it runs: each endpoint's name, address,
//! counters and queue of sequences, and how each sequence ended.

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::codec::Verify;
use crate::net::{
    Command, Counters, Engine, Event, Leg, MappingChange, RelayCounters, Sequence, SequenceEnd,
    StopReason,
};
use crate::packet::EndpointId;
use crate::settings::EndpointKind;

use super::super::print::Printer;
use super::super::{CliError, Output, capture, one_line};
use super::plan::{Plan, kind_word};

mod verdict;

/// Why the run ended.
pub(in crate::cli) enum End {
    /// Every sequence ended; with none, every server and relay stopped.
    Done,
    /// Ctrl-C.
    Interrupted,
    /// `--timeout` passed.
    TimedOut,
    /// An endpoint could not start: what went wrong.
    Setup(String),
}

/// How a sequence stands.
enum Outcome {
    /// Queued behind another sequence of its client, or before the start.
    Waiting,
    Running,
    /// Every round ran and every expected reply came.
    Met {
        rounds: u64,
        sent: u64,
    },
    /// It ended without: why.
    Missed(String),
}

struct Ep {
    id: EndpointId,
    kind: EndpointKind,
    name: String,
    verify: Option<Verify>,
    about: String,
    target: String,
    queue: VecDeque<usize>,
    running: Option<usize>,
    /// The run waits for its `Started` before any sequence begins.
    awaited: bool,
    local: Option<SocketAddr>,
    counters: Counters,
    relayed: Option<RelayCounters>,
    stopped: bool,
    /// What the engine last said went wrong with it.
    failure: Option<String>,
}

impl Ep {
    fn called(&self) -> String {
        format!("{} \"{}\"", kind_word(self.kind), self.name)
    }
}

struct Seq {
    name: String,
    /// It loops until stopped (`repeat = 0`): a soak test, met if nothing
    /// failed by the time Ctrl-C or `--timeout` ends the run.
    loops: bool,
    /// Taken when it is handed to the engine.
    sequence: Option<Sequence>,
    client: usize,
    outcome: Outcome,
}

/// The run's bookkeeping.
pub(in crate::cli) struct RunState {
    pub out: Printer,
    /// The capture ended early (and said so).
    pub capture_ended: bool,
    endpoints: Vec<Ep>,
    sequences: Vec<Seq>,
    /// Why the endpoints could not all start.
    setup_failure: Option<String>,
    /// The sequences have been handed out.
    launched: bool,
    /// The run is closing its endpoints: a sequence stopped now was cut
    /// short by Ctrl-C or `--timeout`, not by a failure.
    ending: bool,
}

impl RunState {
    pub(super) fn new(plan: &Plan, output: &Output) -> RunState {
        let endpoints = plan
            .endpoints
            .iter()
            .map(|p| Ep {
                id: p.id,
                kind: p.kind,
                name: p.name.clone(),
                verify: p.verify,
                about: p.about.clone(),
                target: p.target.clone(),
                queue: p.queue.clone(),
                running: None,
                awaited: match &p.start {
                    Command::OpenClient { config, .. } => config.bind.is_some(),
                    _ => true,
                },
                local: None,
                counters: Counters::default(),
                relayed: None,
                stopped: false,
                failure: None,
            })
            .collect();
        let sequences = plan
            .sequences
            .iter()
            .map(|s| Seq {
                name: s.sequence.name.clone(),
                loops: s.sequence.repeat == 0,
                sequence: Some(s.sequence.clone()),
                client: s.client,
                outcome: Outcome::Waiting,
            })
            .collect();
        RunState {
            out: Printer::new(output),
            capture_ended: false,
            endpoints,
            sequences,
            setup_failure: None,
            launched: false,
            ending: false,
        }
    }

    /// The run is over: what stops from here on was stopped by the run.
    pub(super) fn ending(&mut self) {
        self.ending = true;
    }

    /// Still waiting for an endpoint to bind.
    pub(super) fn starting(&self) -> bool {
        !self.launched
            && self.setup_failure.is_none()
            && self.endpoints.iter().any(|e| e.awaited && !e.stopped)
    }

    /// The endpoints that have not bound yet, for the give-up message.
    pub(super) fn not_started(&self) -> String {
        let names: Vec<String> = self
            .endpoints
            .iter()
            .filter(|e| e.awaited && !e.stopped)
            .map(Ep::called)
            .collect();
        format!("{} did not start in time", names.join(", "))
    }

    /// The endpoints still open.
    pub(super) fn running(&self) -> Vec<EndpointId> {
        self.endpoints
            .iter()
            .filter(|e| !e.stopped)
            .map(|e| e.id)
            .collect()
    }

    /// Starts the sequences once every endpoint is bound.
    pub(super) fn launch_when_ready(&mut self, engine: &Engine) {
        if self.launched || self.ending || self.starting() || self.setup_failure.is_some() {
            return;
        }
        self.launched = true;
        if self.sequences.is_empty() {
            eprintln!(
                "udpdesk: no sequences to run: serving until Ctrl-C or until every server and relay stops"
            );
        }
        for client in 0..self.endpoints.len() {
            self.next_sequence(engine, client);
        }
    }

    /// Why the run should end now, if it should.
    pub(super) fn end(&self) -> Option<End> {
        if let Some(failure) = &self.setup_failure {
            return Some(End::Setup(failure.clone()));
        }
        if !self.launched {
            return None;
        }
        if self.sequences.is_empty() {
            let serving = self
                .endpoints
                .iter()
                .any(|e| e.kind != EndpointKind::Client && !e.stopped);
            return (!serving).then_some(End::Done);
        }
        let open = self
            .sequences
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Waiting | Outcome::Running));
        (!open).then_some(End::Done)
    }

    /// Handles one event from the engine.
    ///
    /// # Errors
    /// The engine failed.
    pub(super) fn on_event(&mut self, engine: &Engine, event: Event) -> Result<(), CliError> {
        match event {
            Event::Started { id, local, buffers } => {
                if let Some(ep) = self.endpoint_mut(id) {
                    ep.local = Some(local);
                    ep.awaited = false;
                    let how = match ep.kind {
                        EndpointKind::Server => "listening on",
                        EndpointKind::Relay => "relaying",
                        EndpointKind::Client => "sending from",
                    };
                    eprintln!(
                        "udpdesk: {} {how} {local} ({}; buffers granted: receive {} B, send {} B)",
                        ep.called(),
                        ep.about,
                        buffers.recv,
                        buffers.send
                    );
                }
            }
            Event::Packets { packets, counters } => {
                for p in &packets {
                    let Some(ep) = self.endpoints.iter().find(|e| e.id == p.endpoint) else {
                        continue;
                    };
                    let leg = match (ep.kind, ep.local) {
                        (EndpointKind::Relay, Some(listen)) => Some(Leg::of(p, listen).label()),
                        _ => None,
                    };
                    self.out.packet_named(p, &ep.name, leg, ep.verify);
                }
                for (id, c) in counters {
                    if let Some(ep) = self.endpoint_mut(id) {
                        ep.counters = c;
                    }
                }
            }
            Event::Failed { id, error } => {
                let said = one_line(&error.to_string()).into_owned();
                let launched = self.launched;
                match id.and_then(|id| self.endpoints.iter_mut().find(|e| e.id == id)) {
                    Some(ep) if ep.awaited && !launched => {
                        self.setup_failure
                            .get_or_insert_with(|| format!("{}: {said}", ep.called()));
                    }
                    Some(ep) => {
                        self.out.flush();
                        eprintln!("udpdesk: {}: {said}", ep.called());
                        ep.failure = Some(said);
                    }
                    None => {
                        self.out.flush();
                        eprintln!("udpdesk: {said}");
                    }
                }
            }
            Event::Stopped { id, reason } => self.on_stopped(id, &reason),
            Event::SequenceDone {
                id,
                end,
                rounds,
                sent,
            } => self.on_sequence_done(engine, id, &end, rounds, sent),
            Event::RelayMapping {
                id,
                client,
                upstream_local,
                change,
                ..
            } => {
                if let Some(ep) = self.endpoints.iter().find(|e| e.id == id) {
                    self.out.flush();
                    match change {
                        MappingChange::Opened => eprintln!(
                            "udpdesk: {}: {client} speaks to the server from {upstream_local}",
                            ep.called()
                        ),
                        MappingChange::Expired => eprintln!(
                            "udpdesk: {}: {client} was idle: its upstream socket {upstream_local} is closed",
                            ep.called()
                        ),
                    }
                }
            }
            Event::RelayCounters { id, counters } => {
                if let Some(ep) = self.endpoint_mut(id) {
                    ep.relayed = Some(counters);
                }
            }
            Event::EngineFailed { reason } => return Err(CliError::runtime(reason)),
            Event::Peers { .. } | Event::SendDone { .. } | Event::SequenceStep { .. } => {}
            event @ (Event::CaptureStarted { .. }
            | Event::CaptureFailed { .. }
            | Event::CaptureProgress { .. }
            | Event::CaptureStopped { .. }) => self.capture_ended |= capture::on_event(&event),
        }
        self.launch_when_ready(engine);
        Ok(())
    }

    fn endpoint_mut(&mut self, id: EndpointId) -> Option<&mut Ep> {
        self.endpoints.iter_mut().find(|e| e.id == id)
    }

    fn on_stopped(&mut self, id: EndpointId, reason: &StopReason) {
        let Some(at) = self.endpoints.iter().position(|e| e.id == id) else {
            return;
        };
        let launched = self.launched;
        let ep = &mut self.endpoints[at];
        ep.stopped = true;
        if *reason == StopReason::Closed {
            return;
        }
        let why = one_line(&reason.to_string()).into_owned();
        if ep.awaited && !launched {
            self.setup_failure
                .get_or_insert_with(|| format!("{}: {why}", ep.called()));
            return;
        }
        self.out.flush();
        eprintln!("udpdesk: {} stopped: {why}", ep.called());
        // Its sequences can no longer run.
        let called = ep.called();
        let left: Vec<usize> = ep
            .running
            .take()
            .into_iter()
            .chain(ep.queue.drain(..))
            .collect();
        for s in left {
            if let Some(seq) = self.sequences.get_mut(s) {
                seq.outcome = Outcome::Missed(format!("{called} stopped: {why}"));
            }
        }
    }

    fn on_sequence_done(
        &mut self,
        engine: &Engine,
        id: EndpointId,
        end: &SequenceEnd,
        rounds: u64,
        sent: u64,
    ) {
        let Some(client) = self.endpoints.iter().position(|e| e.id == id) else {
            return;
        };
        let Some(s) = self.endpoints[client].running.take() else {
            return;
        };
        let called = self.endpoints[client].called();
        let failure = self.endpoints[client].failure.take();
        let Some(seq) = self.sequences.get_mut(s) else {
            return;
        };
        seq.outcome = match end {
            SequenceEnd::Completed => Outcome::Met { rounds, sent },
            SequenceEnd::TimedOut { round, step } => Outcome::Missed(format!(
                "step {step} of round {round} saw no matching reply in time"
            )),
            // Closing a client ends its sequence as stopped or failed.
            SequenceEnd::Stopped | SequenceEnd::Failed if self.ending && seq.loops => {
                Outcome::Met { rounds, sent }
            }
            SequenceEnd::Stopped | SequenceEnd::Failed if self.ending => Outcome::Missed(format!(
                "cut short after {rounds} rounds, {sent} datagrams sent"
            )),
            // A send or the start failed: the engine said why just before.
            SequenceEnd::Failed if failure.is_some() => {
                Outcome::Missed(failure.unwrap_or_default())
            }
            SequenceEnd::Stopped | SequenceEnd::Failed => Outcome::Missed(format!(
                "stopped after {rounds} rounds, {sent} datagrams sent"
            )),
        };
        self.out.flush();
        match &seq.outcome {
            Outcome::Met { rounds, sent } => eprintln!(
                "udpdesk: sequence \"{}\" ({called}) passed: {rounds} rounds, {sent} datagrams sent, every expected reply met",
                seq.name
            ),
            Outcome::Missed(why) => {
                eprintln!(
                    "udpdesk: sequence \"{}\" ({called}) FAILED: {why}",
                    seq.name
                );
            }
            Outcome::Waiting | Outcome::Running => {}
        }
        self.next_sequence(engine, client);
    }

    /// Hands client `client`'s next queued sequence to the engine.
    fn next_sequence(&mut self, engine: &Engine, client: usize) {
        let Some(ep) = self.endpoints.get_mut(client) else {
            return;
        };
        if ep.running.is_some() || ep.stopped {
            return;
        }
        let Some(s) = ep.queue.pop_front() else {
            return;
        };
        let Some(seq) = self.sequences.get_mut(s) else {
            return;
        };
        let Some(sequence) = seq.sequence.take() else {
            return;
        };
        let command = Command::RunSequence {
            id: ep.id,
            target: ep.target.clone(),
            sequence,
        };
        match engine.send(command) {
            Ok(()) => {
                eprintln!(
                    "udpdesk: sequence \"{}\" runs from {} to {}",
                    seq.name,
                    ep.called(),
                    ep.target
                );
                ep.running = Some(s);
                seq.outcome = Outcome::Running;
            }
            Err(e) => seq.outcome = Outcome::Missed(e.to_string()),
        }
    }
}
