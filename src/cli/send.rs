//! `udpdesk send`: a client on the engine. The messages on the command line go
//! as one job; without them each line of stdin is one datagram, sent in order
//! (the next line waits for the previous send to finish, so none replaces another).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam_channel::select;

use crate::codec;
use crate::net::{
    ClientConfig, Command, Counters, Engine, Event, Multicast, SendJob, SequenceEnd, SocketOptions,
    StopReason,
};

use super::print::Printer;
use super::{
    CLIENT, CliError, SendArgs, capture, ctrl_c, send_cmd, spawn_engine, stdin_lines, until_stopped,
};

/// Runs `udpdesk send`.
///
/// # Errors
/// Bad input (status 2), or a failure while sending (status 1).
pub(super) fn send(args: &SendArgs) -> Result<(), CliError> {
    let payloads = args
        .messages
        .iter()
        .map(|m| encode(args, m))
        .collect::<Result<Vec<_>, _>>()?;
    let config = client_config(args)?;
    let sequence = args
        .sequence
        .as_deref()
        .map(|p| read_sequence(p, args.encoding))
        .transpose()?;
    if payloads.is_empty() && args.count == 0 && sequence.is_none() {
        return Err(CliError::input(
            "--count 0 repeats forever, so it needs the MESSAGE on the command line, not on stdin",
        ));
    }
    let engine = spawn_engine()?;
    if let Some(path) = &args.capture {
        capture::start(&engine, path)?;
    }
    send_cmd(&engine, Command::OpenClient { id: CLIENT, config })?;
    let interrupted = ctrl_c()?;
    let mut state = SendState::new(args);
    let mut lines = if let Some(sequence) = sequence {
        state.stdin_open = false;
        state.in_flight = true;
        send_cmd(
            &engine,
            Command::RunSequence {
                id: CLIENT,
                target: args.target.clone(),
                sequence,
            },
        )?;
        crossbeam_channel::never()
    } else if payloads.is_empty() {
        stdin_lines()
    } else {
        state.start(&engine, payloads)?;
        crossbeam_channel::never()
    };
    loop {
        state.next_line(&engine)?;
        if state.done() {
            break;
        }
        let timeout = state.deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else {
                    return Err(CliError::runtime("the network thread stopped"));
                };
                if state.on_event(event) {
                    break;
                }
                if engine.events().is_empty() {
                    state.out.flush();
                }
            }
            recv(lines) -> line => match line {
                Ok(line) => state.on_line(&line),
                Err(_) => {
                    // Stdin ended: stop listening to it, then wait for the last replies.
                    lines = crossbeam_channel::never();
                    state.stdin_closed()?;
                }
            },
            recv(interrupted) -> _ => break,
            default(timeout) => if state.deadline.is_some_and(|d| Instant::now() >= d) { break },
        }
    }
    if !state.stopped {
        // Close the client and take everything up to its Stopped: replies
        // still in the engine's batch are printed and counted too.
        let _closing = engine.send(Command::Close { id: CLIENT });
        for event in until_stopped(&engine, CLIENT) {
            state.on_event(event);
        }
    }
    // A capture that already ended said so when it did.
    let capturing = args.capture.is_some() && !state.capture_ended;
    let captured = capturing.then_some(()).and_then(|()| {
        capture::stop(&engine, |e| {
            let _stopped = state.on_event(e);
        })
    });
    state.out.flush();
    eprintln!("udpdesk: {}", state.counters);
    if let Some(checked) = state.out.verify_summary() {
        eprintln!("udpdesk: {checked}");
    }
    if let Some(summary) = captured {
        eprintln!("udpdesk: {summary}");
    }
    match state.failure {
        Some(f) => Err(CliError::runtime(f)),
        None => Ok(()),
    }
}

/// Reads and checks a `--sequence` file.
fn read_sequence(
    path: &std::path::Path,
    encoding: crate::codec::Encoding,
) -> Result<crate::net::Sequence, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("--sequence {shown}: cannot read it: {e}")))?;
    let sequence = crate::net::Sequence::parse(&text)
        .and_then(|s| s.check(encoding).map(|()| s))
        .map_err(|e| CliError::input(format!("--sequence {shown}: {e}")))?;
    if !sequence.client.is_empty() {
        return Err(CliError::input(format!(
            "--sequence {shown}: `client` names a project's client; `send` runs the sequence itself (leave it out, or use `udpdesk run PROJECT`)"
        )));
    }
    Ok(sequence)
}

/// A message as bytes (hex or text with escapes in the chosen encoding), and
/// with `--vars` the template that makes it afresh for each datagram.
fn encode(args: &SendArgs, m: &str) -> Result<Message, CliError> {
    let bad = |e: String| CliError::input(format!("message \"{m}\": {e}"));
    if args.vars {
        let mode = if args.hex {
            codec::Mode::Hex
        } else {
            codec::Mode::Text
        };
        let template = codec::Template::compile(m, mode, args.encoding, codec::Scope::Send)
            .map_err(|e| bad(e.to_string()))?;
        let sample = crate::net::sample_fill(&template);
        return Ok((sample, (!template.is_constant()).then_some(template)));
    }
    if args.hex {
        codec::parse_hex(m)
    } else {
        codec::parse_escaped(m, args.encoding)
    }
    .map(|b| (b, None))
    .map_err(|e| bad(e.to_string()))
}

/// A datagram, and the template that remakes it for each send, if any.
type Message = (Vec<u8>, Option<codec::Template>);

/// The client's settings from the arguments, checked before anything starts.
fn client_config(args: &SendArgs) -> Result<ClientConfig, CliError> {
    crate::net::parse_target(&args.target).map_err(|e| CliError::input(e.to_string()))?;
    let bind = match &args.bind {
        Some(b) => Some(crate::net::parse_bind(b).map_err(|e| CliError::input(e.to_string()))?),
        None => None,
    };
    Ok(ClientConfig {
        bind,
        encoding: args.encoding,
        options: SocketOptions {
            broadcast: args.broadcast,
            multicast: Some(Multicast {
                ttl: args.ttl,
                interface_v4: args.multicast_if,
                ..Multicast::default()
            }),
            ..SocketOptions::default()
        },
    })
}

/// What `send` keeps between events.
struct SendState<'a> {
    /// The capture stopped early (its end was already said).
    capture_ended: bool,
    args: &'a SendArgs,
    out: Printer,
    counters: Counters,
    /// The first failure: the command's answer, printed once at the end.
    failure: Option<String>,
    /// Datagrams typed on stdin waiting their turn.
    queue: VecDeque<Message>,
    /// A send job is under way.
    in_flight: bool,
    stdin_open: bool,
    /// When to stop waiting for replies.
    deadline: Option<Instant>,
    /// The client has stopped (its `Stopped` was seen).
    stopped: bool,
    /// A `--sequence` run has ended: nothing more to wait for.
    sequence_done: bool,
}

impl<'a> SendState<'a> {
    fn new(args: &'a SendArgs) -> Self {
        SendState {
            capture_ended: false,
            args,
            out: Printer::new(&args.output),
            counters: Counters::default(),
            failure: None,
            queue: VecDeque::new(),
            in_flight: false,
            stdin_open: args.messages.is_empty(),
            deadline: None,
            stopped: false,
            sequence_done: false,
        }
    }

    /// Hands `messages` to the engine as one job.
    fn start(&mut self, engine: &Engine, messages: Vec<Message>) -> Result<(), CliError> {
        let mut payloads = Vec::with_capacity(messages.len());
        let mut fill = Vec::new();
        for (i, (bytes, template)) in messages.into_iter().enumerate() {
            payloads.push(bytes);
            if let Some(t) = template {
                fill.push((i, t));
            }
        }
        let job = SendJob {
            target: self.args.target.clone(),
            payloads,
            count: self.args.count,
            interval: self.args.interval,
            at: Vec::new(),
            fill,
        };
        send_cmd(engine, Command::Send { id: CLIENT, job })?;
        self.in_flight = true;
        Ok(())
    }

    /// Sends the next waiting line when nothing is under way, and starts the
    /// wait for replies once everything has gone.
    fn next_line(&mut self, engine: &Engine) -> Result<(), CliError> {
        if !self.in_flight
            && let Some(next) = self.queue.pop_front()
        {
            self.start(engine, vec![next])?;
        }
        if self.idle() && self.deadline.is_none() {
            // A reply that arrives later does not extend this, so the command ends on time.
            self.deadline = Some(
                Instant::now()
                    .checked_add(self.args.wait)
                    .unwrap_or_else(far_future),
            );
        }
        Ok(())
    }

    fn idle(&self) -> bool {
        !self.in_flight && self.queue.is_empty() && !self.stdin_open
    }

    /// Nothing left to send, and either the replies asked for are in or
    /// something failed: waiting longer would only delay the answer.
    fn done(&self) -> bool {
        self.idle()
            && (self.failure.is_some()
                || self.sequence_done
                || self
                    .args
                    .replies
                    .is_some_and(|n| self.counters.packets_in >= n))
    }

    /// Handles one event; true when the client has stopped.
    fn on_event(&mut self, event: Event) -> bool {
        match event {
            Event::Packets { packets, counters } => {
                for p in &packets {
                    self.out.packet(p);
                }
                if let Some((_, c)) = counters.into_iter().find(|(id, _)| *id == CLIENT) {
                    self.counters = c;
                }
            }
            Event::SendDone { .. } => self.in_flight = false,
            Event::SequenceStep { .. } => {}
            Event::SequenceDone {
                end, rounds, sent, ..
            } => {
                self.in_flight = false;
                self.sequence_done = true;
                let name = self
                    .args
                    .sequence
                    .as_ref()
                    .map_or_else(String::new, |p| format!(" {}", p.display()));
                match end {
                    SequenceEnd::Completed => eprintln!(
                        "udpdesk: sequence{name} completed: {rounds} rounds, {sent} datagrams sent, every expected reply met"
                    ),
                    SequenceEnd::TimedOut { round, step } => {
                        self.failure.get_or_insert_with(|| {
                            format!(
                                "sequence{name}: step {step} of round {round} saw no matching reply in time"
                            )
                        });
                    }
                    SequenceEnd::Stopped | SequenceEnd::Failed => {
                        self.failure.get_or_insert_with(|| {
                            format!("sequence{name} stopped after {rounds} rounds")
                        });
                    }
                }
            }
            Event::Failed { error, .. } => {
                if self.failure.is_some() {
                    eprintln!("udpdesk: {error}");
                } else {
                    self.failure = Some(error.to_string());
                }
            }
            Event::Stopped { reason, .. } => {
                // Closed is our own doing, at the end; anything else ends the command.
                if reason != StopReason::Closed {
                    self.failure.get_or_insert_with(|| reason.to_string());
                }
                self.stopped = true;
                return true;
            }
            Event::Started { .. }
            | Event::Peers { .. }
            | Event::RelayMapping { .. }
            | Event::RelayCounters { .. } => {}
            Event::EngineFailed { reason } => {
                self.failure = Some(reason);
                self.stopped = true;
                return true;
            }
            event @ (Event::CaptureStarted { .. }
            | Event::CaptureFailed { .. }
            | Event::CaptureProgress { .. }
            | Event::CaptureStopped { .. }) => self.capture_ended |= capture::on_event(&event),
        }
        false
    }

    /// A line of stdin: one more datagram.
    fn on_line(&mut self, line: &str) {
        match encode(self.args, line) {
            Ok(p) => self.queue.push_back(p),
            Err(e) => eprintln!("udpdesk: {}", super::one_line(&e.message)),
        }
    }

    /// Stdin ended.
    ///
    /// # Errors
    /// It ended before anything was given to send.
    fn stdin_closed(&mut self) -> Result<(), CliError> {
        self.stdin_open = false;
        if self.queue.is_empty()
            && !self.in_flight
            && self.counters.packets_out == 0
            && self.failure.is_none()
        {
            return Err(CliError::input(
                "nothing to send: give a MESSAGE or pipe lines into stdin",
            ));
        }
        Ok(())
    }
}

/// A deadline nobody will reach, for waits too long to add to the clock.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}
