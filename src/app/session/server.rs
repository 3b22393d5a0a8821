//! The servers' side of the session: starting, updating and stopping them,
//! manual replies, and their events folded into their panels.

use rust_i18n::t;

use crate::codec;
use crate::net::{Command, Event, NetError};
use crate::settings::ServerForm;
use crate::ui::server_panel::RunState;
use crate::ui::widgets::{Field, FieldError};

use super::super::forms::{reply_mode, server_config};
use super::Session;

impl Session {
    /// The server whose running id is `id`.
    fn server_of(&self, id: crate::packet::EndpointId) -> Option<usize> {
        self.servers.iter().position(|s| s.id == Some(id))
    }

    /// Folds in an event of a server; false if it was no server's.
    pub(super) fn server_event(&mut self, event: &Event) -> bool {
        let id = match event {
            Event::Started { id, .. } | Event::Peers { id, .. } | Event::Stopped { id, .. } => *id,
            Event::Failed { id: Some(id), .. } => *id,
            _ => return false,
        };
        let Some(i) = self.server_of(id) else {
            return false;
        };
        match event {
            Event::Started { local, buffers, .. } => {
                let server = &mut self.servers[i];
                server.state = Some(RunState::Running(*local));
                server.buffers = Some(*buffers);
                server.error = None;
            }
            Event::Peers {
                changed, unlisted, ..
            } => {
                let server = &mut self.servers[i];
                server.merge_peers(changed.clone());
                server.unlisted = *unlisted;
            }
            Event::Stopped { reason, .. } => {
                let server = &mut self.servers[i];
                server.id = None;
                server.state = Some(RunState::Stopped);
                server.note = match reason {
                    crate::net::StopReason::Closed => None,
                    other => Some(t!("session.server_stopped", reason = other).into_owned()),
                };
            }
            Event::Failed { error, .. } => self.server_failed(i, error),
            _ => return false,
        }
        true
    }

    /// Places a server's error beside the control it is about.
    fn server_failed(&mut self, i: usize, said: &NetError) {
        // Placed by what failed; said with how often.
        let error = said.cause();
        let message = said.to_string();
        self.last_error = Some(message.clone());
        let server = &mut self.servers[i];
        let field = match error {
            NetError::Template(_) | NetError::Codec(_) => Field::Reply,
            NetError::AddrInUse { .. }
            | NetError::AddrNotAvailable { .. }
            | NetError::PermissionDenied { .. } => Field::Address,
            _ => Field::General,
        };
        let starting = server.state() == RunState::Starting;
        if starting {
            // It never started: the id is spent.
            server.state = Some(RunState::Stopped);
            server.id = None;
        }
        let field = match error {
            NetError::Template(_) | NetError::Codec(_) => Field::Reply,
            _ if starting => field,
            _ if server.manual_pending => Field::ManualReply,
            _ => Field::General,
        };
        let message = if !starting && field == Field::Reply {
            t!("session.keeps_previous_rule", error = message).into_owned()
        } else {
            message
        };
        server.manual_pending = false;
        server.error = Some(FieldError { field, message });
    }

    /// Starts server `i` as its form describes.
    pub fn start_server(&mut self, i: usize, form: &ServerForm) {
        let Some(server) = self.servers.get_mut(i) else {
            return;
        };
        server.unlisted = 0;
        server.note = None;
        let config = match server_config(form) {
            Ok(c) => c,
            Err(error) => {
                server.error = Some(error);
                return;
            }
        };
        let verify = match super::super::forms::verify(&form.verify) {
            Ok(v) => v,
            Err(error) => {
                server.error = Some(error);
                return;
            }
        };
        if let Some(old) = server.id.take() {
            // Ignoring a failure: there is nothing left to stop if the engine is gone.
            let _sent = self.command(Command::Close { id: old });
        }
        let id = self.new_id(&form.name);
        self.set_verify(id, verify);
        let server = &mut self.servers[i];
        server.error = None;
        server.peers.clear();
        server.peer_index.clear();
        server.buffers = None;
        server.selected_peer = None;
        server.id = Some(id);
        server.last_id = Some(id);
        server.rules_applied = Some((form.rules.clone(), form.encoding));
        server.state = Some(RunState::Starting);
        if let Err(message) = self.command(Command::StartServer { id, config }) {
            let server = &mut self.servers[i];
            server.state = Some(RunState::Stopped);
            server.id = None;
            server.error = Some(FieldError {
                field: Field::General,
                message,
            });
        }
    }

    /// Stops server `i`.
    pub fn stop_server(&mut self, i: usize) {
        if let Some(id) = self.servers.get(i).and_then(|s| s.id) {
            let _sent = self.command(Command::Close { id });
        }
    }

    /// Applies the form's reply settings to running server `i` without restarting it.
    pub fn update_server(&mut self, i: usize, form: &ServerForm) {
        let Some(id) = self.servers.get(i).and_then(|s| s.id) else {
            return;
        };
        let reply = reply_mode(form);
        let quit_word = Some(form.quit_word.clone()).filter(|w| !w.is_empty());
        self.servers[i].error = None;
        match super::super::forms::verify(&form.verify) {
            Ok(v) => self.set_verify(id, v),
            Err(error) => self.servers[i].error = Some(error),
        }
        let _sent = self.command(Command::UpdateServer {
            id,
            reply,
            encoding: form.encoding,
            quit_word,
        });
        let _sent = self.command(Command::SetReplyLimit {
            id,
            limit: super::super::forms::reply_limit(form),
        });
        self.set_rules(i, form);
    }

    /// Hands running server `i` the form's rules (the editor has checked them).
    /// Only a change is sent: setting rules starts their `times` counts over,
    /// which changing the reply limit or the quit word must not do.
    pub fn set_rules(&mut self, i: usize, form: &ServerForm) {
        let Some(server) = self.servers.get(i) else {
            return;
        };
        let Some(id) = server.id else { return };
        let wanted = (form.rules.clone(), form.encoding);
        if server.rules_applied.as_ref() == Some(&wanted)
            || crate::net::RuleSet::new(&form.rules, form.encoding).is_err()
        {
            return;
        }
        if self
            .command(Command::SetRules {
                id,
                rules: form.rules.clone(),
            })
            .is_ok()
        {
            self.servers[i].rules_applied = Some(wanted);
        }
    }

    /// Sends the manual reply typed in server `i`'s panel to its selected peer.
    pub fn manual_reply(&mut self, i: usize, form: &ServerForm) {
        let Some(server) = self.servers.get_mut(i) else {
            return;
        };
        let error = |message: &str| {
            Some(FieldError {
                field: Field::ManualReply,
                message: message.to_owned(),
            })
        };
        let Some(id) = server.id else {
            server.error = error(&t!("session.start_server_first"));
            return;
        };
        let Some(peer) = server.selected_peer else {
            server.error = error(&t!("session.pick_peer"));
            return;
        };
        match codec::parse_escaped(&server.reply_text, form.encoding) {
            Ok(payload) => {
                server.error = None;
                server.manual_pending = true;
                let _sent = self.command(Command::Reply { id, peer, payload });
            }
            Err(e) => server.error = error(&e.to_string()),
        }
    }
}
