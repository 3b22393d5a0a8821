//! The clients' side of the session: sending, replays and sequences, the
//! socket each client keeps, and their events folded into their panels.

use std::time::Duration;

use rust_i18n::t;

use crate::net::{Command, Event, NetError};
use crate::packet::{Direction, EndpointId, Packet};
use crate::settings::ClientForm;
use crate::ui::client_panel::ClientView;
use crate::ui::sequence_panel::SequenceView;
use crate::ui::widgets::{Field, FieldError};

use super::super::forms::{client_config, send_job};
use super::{ReplayRun, Session};

impl Session {
    /// The client whose open socket is `id`.
    fn client_of(&self, id: EndpointId) -> Option<usize> {
        self.clients.iter().position(|c| c.id == Some(id))
    }

    /// Folds in an event of a client; false if it was no client's.
    pub(super) fn client_event(&mut self, event: &Event) -> bool {
        let id = match event {
            Event::Started { id, .. }
            | Event::SendDone { id, .. }
            | Event::SequenceStep { id, .. }
            | Event::SequenceDone { id, .. }
            | Event::Stopped { id, .. } => *id,
            Event::Failed { id: Some(id), .. } => *id,
            _ => return false,
        };
        let Some(i) = self.client_of(id) else {
            return false;
        };
        let client = &mut self.clients[i];
        match event {
            Event::Started { local, .. } => client.local = Some(*local),
            Event::SendDone { sent, .. } => {
                // A send replaced by a newer one also ends in SendDone: only the
                // last outstanding one means nothing is sending any more.
                client.pending = client.pending.saturating_sub(1);
                if client.pending == 0
                    && let Some(run) = self.replay.take_if(|r| r.id == id)
                {
                    self.status =
                        Some(t!("session.replayed", sent = sent, total = run.total).into_owned());
                }
            }
            Event::SequenceStep { round, step, .. } => {
                client.sequence.at = Some((*round, *step));
            }
            Event::SequenceDone {
                end, rounds, sent, ..
            } => {
                client.sequence.running = false;
                client.sequence.outcome = Some(sequence_outcome(end, *rounds, *sent));
            }
            Event::Stopped { .. } => {
                // Gone (a failed open, or closed): the next send opens a new
                // one, and a replay it was sending is over.
                let _over = self.replay.take_if(|r| r.id == id);
                let error = client.error.take();
                *client = ClientView {
                    error,
                    ..ClientView::default()
                };
            }
            Event::Failed { error, .. } => {
                let message = error.to_string();
                self.last_error = Some(message.clone());
                let field = match error.cause() {
                    NetError::Resolve { .. } | NetError::BadAddress { .. } => Field::Target,
                    NetError::Unreachable { .. } | NetError::FamilyMismatch { .. } => Field::Target,
                    NetError::TooLarge { .. } | NetError::Codec(_) => Field::Message,
                    NetError::AddrInUse { .. }
                    | NetError::AddrNotAvailable { .. }
                    | NetError::PermissionDenied { .. }
                        if client.local.is_none() =>
                    {
                        Field::LocalBind
                    }
                    _ => Field::General,
                };
                client.error = Some(FieldError { field, message });
            }
            _ => return false,
        }
        true
    }

    /// Pairs the clients' replies with their requests.
    pub(super) fn pair(&mut self, packets: &[Packet]) {
        let offset = self.seq_offset;
        let ids: Vec<EndpointId> = self.clients.iter().filter_map(|c| c.id).collect();
        if ids.is_empty() {
            return;
        }
        for p in packets.iter().filter(|p| ids.contains(&p.endpoint)) {
            match p.direction {
                Direction::Out => self.pairing.sent(p.endpoint, p.peer, &p.bytes, p.time),
                Direction::In => {
                    let _note =
                        self.pairing
                            .received(p.endpoint, p.seq + offset, p.peer, &p.bytes, p.time);
                }
            }
        }
    }

    /// Sends what client `i`'s form describes.
    pub fn send(&mut self, i: usize, form: &ClientForm) {
        let job = match send_job(form) {
            Ok(job) => job,
            Err(error) => {
                if let Some(client) = self.clients.get_mut(i) {
                    client.error = Some(error);
                }
                return;
            }
        };
        let _sent = self.send_from_client(i, form, job);
    }

    /// Replays packets (payload and capture time each) to client `i`'s
    /// target, from its socket, at `speed`.
    pub fn replay(
        &mut self,
        i: usize,
        form: &ClientForm,
        packets: Vec<(Vec<u8>, std::time::SystemTime)>,
        speed: crate::capture::Speed,
    ) {
        let Some(target) = self.target_of(i, form) else {
            return;
        };
        let times: Vec<_> = packets.iter().map(|(_, t)| *t).collect();
        let total = packets.len() as u64;
        let job = crate::net::SendJob {
            target,
            payloads: packets.into_iter().map(|(b, _)| b).collect(),
            count: 1,
            interval: Duration::ZERO,
            at: crate::capture::timetable(&times, speed),
            fill: Vec::new(),
        };
        if self.send_from_client(i, form, job)
            && let Some(id) = self.clients.get(i).and_then(|c| c.id)
        {
            let before = self.tally(Some(id)).packets_out;
            self.replay = Some(ReplayRun { id, total, before });
        }
    }

    /// Client `i`'s target as its form says, or `None` with the mistake shown.
    fn target_of(&mut self, i: usize, form: &ClientForm) -> Option<String> {
        match super::super::forms::target(form) {
            Ok(t) => Some(t),
            Err(error) => {
                if let Some(client) = self.clients.get_mut(i) {
                    client.error = Some(error);
                }
                None
            }
        }
    }

    /// How far the replay under way has got: datagrams sent and in all.
    #[must_use]
    pub fn replay_progress(&self) -> Option<(u64, u64)> {
        let run = self.replay.as_ref()?;
        let sent = self
            .tally(Some(run.id))
            .packets_out
            .saturating_sub(run.before);
        Some((sent.min(run.total), run.total))
    }

    /// Runs `sequence` from client `i` to its form's target.
    pub fn run_sequence(&mut self, i: usize, form: &ClientForm, sequence: &crate::net::Sequence) {
        let Some(target) = self.target_of(i, form) else {
            return;
        };
        let Some(id) = self.open_client(i, form) else {
            return;
        };
        if self
            .command(Command::RunSequence {
                id,
                target,
                sequence: sequence.clone(),
            })
            .is_ok()
        {
            self.pairing.new_run(id);
            self.clients[i].sequence = SequenceView {
                running: true,
                at: None,
                outcome: None,
            };
        }
    }

    /// Hands `job` to client `i`, opening (or reopening) it as the form says;
    /// false when it could not (the reason is beside the form's field).
    fn send_from_client(&mut self, i: usize, form: &ClientForm, job: crate::net::SendJob) -> bool {
        if let Some(id) = self.open_client(i, form)
            && self.command(Command::Send { id, job }).is_ok()
        {
            self.pairing.new_run(id);
            self.clients[i].pending += 1;
            return true;
        }
        false
    }

    /// Client `i` as the form asks for it: kept if only its encoding changed,
    /// reopened otherwise. `None` (with the error shown) if the form is wrong.
    fn open_client(&mut self, i: usize, form: &ClientForm) -> Option<EndpointId> {
        let client = self.clients.get_mut(i)?;
        let checked = client_config(form)
            .and_then(|c| super::super::forms::verify(&form.verify).map(|v| (c, v)));
        let (config, verify) = match checked {
            Ok(c) => c,
            Err(error) => {
                client.error = Some(error);
                return None;
            }
        };
        client.error = None;
        let same_socket = client
            .config
            .as_ref()
            .is_some_and(|c| c.bind == config.bind && c.options == config.options);
        match client.id {
            Some(id) if same_socket => {
                // Only the encoding changed: keep the socket, so replies still find it.
                if client
                    .config
                    .as_ref()
                    .is_some_and(|c| c.encoding != config.encoding)
                {
                    let encoding = config.encoding;
                    client.config = Some(config);
                    let _sent = self.command(Command::SetEncoding { id, encoding });
                }
            }
            _ => {
                if let Some(old) = client.id.take() {
                    let _sent = self.command(Command::Close { id: old });
                }
                let id = self.new_id(&form.name);
                self.clients[i] = ClientView {
                    id: Some(id),
                    config: Some(config.clone()),
                    ..ClientView::default()
                };
                if self.command(Command::OpenClient { id, config }).is_err() {
                    return None;
                }
            }
        }
        let id = self.clients[i].id?;
        self.set_verify(id, verify);
        Some(id)
    }

    /// Stops client `i`'s repeated sending.
    pub fn stop_sending(&mut self, i: usize) {
        if let Some(id) = self.clients.get(i).and_then(|c| c.id) {
            let _sent = self.command(Command::StopSending { id });
        }
    }
}

/// How a sequence ended, for its panel, and whether that is success.
fn sequence_outcome(end: &crate::net::SequenceEnd, rounds: u64, sent: u64) -> (String, bool) {
    match end {
        crate::net::SequenceEnd::Completed => (
            t!("session.sequence_done", rounds = rounds, sent = sent).into_owned(),
            true,
        ),
        &crate::net::SequenceEnd::TimedOut { round, step } => (
            t!("session.sequence_timed_out", step = step, round = round).into_owned(),
            false,
        ),
        crate::net::SequenceEnd::Stopped => {
            let said = t!("session.sequence_stopped", rounds = rounds, sent = sent);
            (said.into_owned(), false)
        }
        crate::net::SequenceEnd::Failed => (t!("session.sequence_failed").into_owned(), false),
    }
}
