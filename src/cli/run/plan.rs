//! What `udpdesk run` starts: every endpoint of the project turned into the
//! engine's command, by the same form checks the window uses, before
//! anything binds; and the sequences queued on their clients.

use std::collections::VecDeque;

use crate::codec::Verify;
use crate::net::{Command, Sequence};
use crate::packet::EndpointId;
use crate::project::Project;
use crate::settings::EndpointKind;

use super::super::CliError;

/// One endpoint of the project.
pub(super) struct Planned {
    pub id: EndpointId,
    pub kind: EndpointKind,
    pub name: String,
    /// The command that starts it.
    pub start: Command,
    /// The checksum its received datagrams carry, if the form names one.
    pub verify: Option<Verify>,
    /// How its replies are made, for the line that says it is listening.
    pub about: String,
    /// A client's target; empty for servers and relays.
    pub target: String,
    /// A client's sequences, in the project's order, as indexes into
    /// [`Plan::sequences`].
    pub queue: VecDeque<usize>,
}

impl Planned {
    /// An endpoint with no checksum, target or sequences yet.
    fn new(id: EndpointId, kind: EndpointKind, name: &str, start: Command, about: String) -> Self {
        Planned {
            id,
            kind,
            name: name.to_owned(),
            start,
            verify: None,
            about,
            target: String::new(),
            queue: VecDeque::new(),
        }
    }
}

/// A sequence and the client that runs it.
pub(super) struct PlannedSequence {
    pub sequence: Sequence,
    /// Index into [`Plan::endpoints`].
    pub client: usize,
}

/// Everything a run starts, in the project's order: servers, relays, clients.
pub(super) struct Plan {
    pub endpoints: Vec<Planned>,
    pub sequences: Vec<PlannedSequence>,
}

impl Plan {
    /// Builds the commands for `project`.
    ///
    /// # Errors
    /// An endpoint the form checks refuse (status 2). [`Project::load`] has
    /// run the same checks with the line and field, so this is a second line
    /// of defence rather than the usual way a mistake is said.
    pub(super) fn new(project: &Project) -> Result<Plan, CliError> {
        let mut endpoints = Vec::new();
        let next_id = |endpoints: &Vec<Planned>| {
            EndpointId(u32::try_from(endpoints.len()).unwrap_or(u32::MAX - 1) + 1)
        };
        let refuse = |kind: &str, name: &str, message: &str| {
            CliError::input(format!("{kind} \"{name}\": {message}"))
        };
        for form in &project.servers {
            let config = crate::app::forms::server_config(form)
                .map_err(|e| refuse("server", &form.name, &e.message))?;
            let verify = crate::app::forms::verify(&form.verify)
                .map_err(|e| refuse("server", &form.name, &e.message))?;
            let quit = config
                .quit_word
                .as_ref()
                .map(|w| format!(", quit word \"{w}\""))
                .unwrap_or_default();
            let manual = if config.reply == crate::net::ReplyMode::Manual {
                " (nobody types replies in `run`: it stays silent)"
            } else {
                ""
            };
            let about = format!(
                "reply: {}{manual}, encoding: {}{quit}",
                config.reply, config.encoding
            );
            let id = next_id(&endpoints);
            let start = Command::StartServer { id, config };
            endpoints.push(Planned {
                verify,
                ..Planned::new(id, EndpointKind::Server, &form.name, start, about)
            });
        }
        for form in &project.relays {
            let config = crate::app::relay::relay_config(form)
                .map_err(|(_, message)| refuse("relay", &form.name, &message))?;
            let about = format!("to {}, {} rules", config.upstream, config.rules.len());
            let id = next_id(&endpoints);
            let start = Command::StartRelay { id, config };
            endpoints.push(Planned::new(
                id,
                EndpointKind::Relay,
                &form.name,
                start,
                about,
            ));
        }
        let first_client = endpoints.len();
        for form in &project.clients {
            let config = crate::app::forms::client_config(form)
                .map_err(|e| refuse("client", &form.name, &e.message))?;
            let target = crate::app::forms::target(form)
                .map_err(|e| refuse("client", &form.name, &e.message))?;
            let verify = crate::app::forms::verify(&form.verify)
                .map_err(|e| refuse("client", &form.name, &e.message))?;
            let about = format!("to {target}, encoding: {}", config.encoding);
            let id = next_id(&endpoints);
            let start = Command::OpenClient { id, config };
            endpoints.push(Planned {
                verify,
                target,
                ..Planned::new(id, EndpointKind::Client, &form.name, start, about)
            });
        }
        let mut sequences = Vec::new();
        for planned in &project.sequences {
            let client = project.client_of(planned).ok_or_else(|| {
                CliError::input(format!(
                    "sequence \"{}\": no [[client]] to run it",
                    planned.name
                ))
            })? + first_client;
            if let Some(c) = endpoints.get_mut(client) {
                c.queue.push_back(sequences.len());
            }
            sequences.push(PlannedSequence {
                sequence: planned.clone(),
                client,
            });
        }
        Ok(Plan {
            endpoints,
            sequences,
        })
    }
}

/// How a kind of endpoint is called in what `run` prints.
pub(super) fn kind_word(kind: EndpointKind) -> &'static str {
    match kind {
        EndpointKind::Server => "server",
        EndpointKind::Client => "client",
        EndpointKind::Relay => "relay",
    }
}
