//! Carrying out a client's sequence on the network thread: each step when it
//! is due, pauses and reply timeouts on the poll's clock, and one
//! `SequenceDone` for every run, however it ends.

use std::time::{Duration, Instant};

use crate::packet::EndpointId;

use super::client::fill_sent;
use super::command::Event;
use super::endpoint::{Endpoint, Role};
use super::error::NetError;
use super::outbox;
use super::resolve::{self, Target};
use super::sequence::{Ready, Running, Sequence, SequenceEnd};
use super::worker::{BURST, Worker, unknown};

/// Progress is told at most this often (and at every expect step).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl Worker {
    pub(super) fn start_sequence(&mut self, id: EndpointId, target: &str, sequence: &Sequence) {
        self.supersede(id);
        let started = self.prepare_sequence(id, target, sequence);
        if let Err(e) = started {
            self.out.fail(Some(id), e);
            self.out.push(Event::SequenceDone {
                id,
                end: SequenceEnd::Failed,
                rounds: 0,
                sent: 0,
            });
            return;
        }
        self.run_sequence(id);
    }

    fn prepare_sequence(
        &mut self,
        id: EndpointId,
        target: &str,
        sequence: &Sequence,
    ) -> Result<(), NetError> {
        let Some(mut ep) = self.endpoints.remove(&id) else {
            return Err(unknown("client", id));
        };
        let result = (|| {
            let Role::Client(client) = &ep.role else {
                return Err(unknown("client", id));
            };
            let fixed = client.fixed_bind;
            let steps = sequence.compile(ep.encoding).map_err(|e| NetError::Io {
                context: rust_i18n::t!("error.sequence", name = sequence.name).into_owned(),
                message: e,
            })?;
            let addrs = match resolve::parse_target(target)? {
                Target::Ready(addrs) => addrs,
                Target::Lookup { host, .. } => {
                    return Err(NetError::BadAddress {
                        input: host,
                        detail: "a sequence's target is an IP address or localhost".to_owned(),
                    });
                }
            };
            let to = resolve::choose(&addrs, fixed).ok_or_else(|| NetError::BadAddress {
                input: target.to_owned(),
                detail: "no address of the client's family".to_owned(),
            })?;
            for step in &steps {
                let size = match step {
                    Ready::Send(b) => b.len(),
                    Ready::Fill(t) => super::client::sample_fill(t).len(),
                    _ => 0,
                };
                if size > super::error::max_payload(&to) {
                    return Err(NetError::too_large(size, to.is_ipv6()));
                }
            }
            self.bind_for(&mut ep, to, fixed)?;
            if let Role::Client(client) = &mut ep.role {
                client.sequence = Some(Running {
                    target: to,
                    steps,
                    repeat: sequence.repeat,
                    index: 0,
                    rounds: 0,
                    sent: 0,
                    next_at: Instant::now(),
                    deadline: None,
                    met: false,
                    told: None,
                });
            }
            Ok(())
        })();
        self.endpoints.insert(id, ep);
        result
    }

    /// Moves every running sequence on as far as it can go now.
    pub(super) fn run_sequences(&mut self) {
        let ids: Vec<EndpointId> = self
            .endpoints
            .values()
            .filter(|e| matches!(&e.role, Role::Client(c) if c.sequence.is_some()))
            .map(|e| e.id)
            .collect();
        for id in ids {
            self.run_sequence(id);
        }
    }

    fn run_sequence(&mut self, id: EndpointId) {
        let now = Instant::now();
        let Some(ep) = self.endpoints.get_mut(&id) else {
            return;
        };
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return;
        };
        let Role::Client(client) = &mut ep.role else {
            return;
        };
        let Some(run) = &mut client.sequence else {
            return;
        };
        let mut end = None;
        let mut burst = 0;
        let mut filled = Vec::new();
        let mut progress = false;
        // Every step counts against the turn, a pause of 0 ms too: a run of
        // steps that take no time must still let the loop serve the rest.
        while burst < BURST {
            burst += 1;
            if let Some(deadline) = run.deadline {
                if run.met {
                    run.deadline = None;
                    run.met = false;
                    run.index += 1;
                    progress = true;
                } else if now >= deadline {
                    end = Some(SequenceEnd::TimedOut {
                        round: run.rounds + 1,
                        step: run.index + 1,
                    });
                    break;
                } else {
                    break;
                }
            }
            if now < run.next_at {
                break;
            }
            if run.index == run.steps.len() {
                run.index = 0;
                run.rounds += 1;
                progress = true;
                if run.repeat != 0 && run.rounds >= run.repeat {
                    end = Some(SequenceEnd::Completed);
                    break;
                }
            }
            match &run.steps[run.index] {
                step @ (Ready::Send(_) | Ready::Fill(_)) => {
                    filled.clear();
                    let bytes = match step {
                        Ready::Fill(template) => {
                            fill_sent(template, run.sent + 1, &mut filled);
                            filled.as_slice()
                        }
                        Ready::Send(bytes) => bytes.as_slice(),
                        Ready::Pause(_) | Ready::Expect(..) => &[],
                    };
                    match outbox::send(
                        sock,
                        origin,
                        run.target,
                        bytes,
                        &mut self.out,
                        &mut self.icmp,
                    ) {
                        Ok(()) => run.sent += 1,
                        // The target may answer the next one: said, and on it goes.
                        Err(e @ NetError::Unreachable { .. }) => self.out.fail(Some(id), e),
                        Err(e) => {
                            self.out.fail(Some(id), e);
                            end = Some(SequenceEnd::Failed);
                            break;
                        }
                    }
                    run.index += 1;
                }
                Ready::Pause(d) => {
                    // From this moment, not the turn's start: sends before it took time.
                    run.next_at = Instant::now() + *d;
                    run.index += 1;
                }
                Ready::Expect(_, timeout) => {
                    run.deadline = Some(now + *timeout);
                    run.met = false;
                    // Waiting on a reply is always worth telling.
                    run.told = None;
                    progress = true;
                    break;
                }
            }
        }
        if progress && run.told.is_none_or(|t| now >= t + PROGRESS_EVERY) {
            run.told = Some(now);
            self.out.push(Event::SequenceStep {
                id,
                round: run.rounds + 1,
                step: (run.index + 1).min(run.steps.len()),
            });
        }
        if let Some(end) = end {
            self.end_sequence(id, end);
        }
    }

    /// Ends a client's sequence, if one runs, with its one `SequenceDone`.
    pub(super) fn end_sequence(&mut self, id: EndpointId, end: SequenceEnd) {
        if let Some(Endpoint {
            role: Role::Client(client),
            ..
        }) = self.endpoints.get_mut(&id)
            && let Some(run) = client.sequence.take()
        {
            self.out.push(Event::SequenceDone {
                id,
                end,
                rounds: run.rounds,
                sent: run.sent,
            });
        }
    }
}
