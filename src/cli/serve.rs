//! `udpdesk serve`: a server on the engine, printing every packet, with
//! replies typed on stdin in manual mode; ends on the quit word or Ctrl-C.

use std::net::SocketAddr;

use crossbeam_channel::select;

use crate::codec::{self, Encoding};
use crate::net::{
    Command, Counters, Engine, Event, Multicast, ReplyMode, ServerConfig, SocketOptions,
};
use crate::packet::Direction;

use super::print::Printer;
use super::{
    CliError, ReplyArgs, SERVER, ServeArgs, capture, ctrl_c, send_cmd, spawn_engine, stdin_lines,
    until_stopped,
};

/// The engine's settings for a server on `bind` answering as `reply` says.
///
/// # Errors
/// A rules file that cannot be read or has a bad rule, said with its line or rule.
pub fn server_config(bind: SocketAddr, reply: &ReplyArgs) -> Result<ServerConfig, CliError> {
    let rules = match &reply.rules {
        Some(path) => read_rules(path, reply.encoding)?,
        None => Vec::new(),
    };
    Ok(ServerConfig {
        bind,
        reply: reply.reply.clone(),
        rules,
        encoding: reply.encoding,
        quit_word: reply.quit_word.clone(),
        options: SocketOptions {
            broadcast: reply.broadcast,
            ..SocketOptions::default()
        },
        reply_limit: crate::net::ReplyLimit {
            per_peer: reply.reply_limit,
            total: reply.reply_limit_total,
        },
    })
}

/// Reads and checks a rules file, so a mistake is said before anything binds.
fn read_rules(
    path: &std::path::Path,
    encoding: crate::codec::Encoding,
) -> Result<Vec<crate::net::Rule>, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("--rules {shown}: cannot read it: {e}")))?;
    let file = crate::net::RulesFile::parse(&text)
        .map_err(|e| CliError::input(format!("--rules {shown}: {e}")))?;
    crate::net::RuleSet::new(&file.rules, encoding)
        .map_err(|e| CliError::input(format!("--rules {shown}: {e}")))?;
    Ok(file.rules)
}

pub(super) fn serve(args: &ServeArgs) -> Result<(), CliError> {
    let bind = crate::net::parse_bind(&args.bind).map_err(|e| CliError::input(e.to_string()))?;
    let mut config = server_config(bind, &args.server)?;
    config.options.recv_buffer = args.recv_buffer;
    if let Some(group) = args.multicast.filter(|g| !g.is_multicast()) {
        return Err(CliError::input(format!(
            "--multicast {group}: not a multicast group; use 224.0.0.0 to 239.255.255.255, or ff00::/8"
        )));
    }
    if let Some(group) = args.multicast {
        config.options.multicast = Some(Multicast {
            group: Some(group),
            interface_v4: args.multicast_if,
            ..Multicast::default()
        });
    }
    let engine = spawn_engine()?;
    if let Some(path) = &args.capture {
        capture::start(&engine, path)?;
    }
    send_cmd(&engine, Command::StartServer { id: SERVER, config })?;
    let interrupted = ctrl_c()?;
    let manual = args.server.reply == ReplyMode::Manual;
    let mut lines = if manual {
        stdin_lines()
    } else {
        crossbeam_channel::never()
    };
    let mut state = ServeState::new(args);
    let mut stopped = false;
    let reason = loop {
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else { break "the network thread stopped".to_owned() };
                if let Some(end) = state.on_event(event)? {
                    stopped = true;
                    break end;
                }
                if engine.events().is_empty() {
                    state.out.flush();
                }
            }
            recv(interrupted) -> _ => break "interrupted".to_owned(),
            recv(lines) -> line => match line {
                Ok(line) => state.on_line(&engine, &line),
                // Stdin closed: go on serving; the quit word or Ctrl-C ends it.
                Err(_) => lines = crossbeam_channel::never(),
            }
        }
    };
    if !stopped {
        // Close the server and take everything up to its Stopped: the packets
        // and counters still in the engine's batch belong in the summary.
        let _closing = engine.send(Command::Close { id: SERVER });
        for event in until_stopped(&engine, SERVER) {
            state.on_event(event)?;
        }
    }
    // A capture that already ended said so when it did.
    let capturing = args.capture.is_some() && !state.capture_ended;
    let captured = capturing.then_some(()).and_then(|()| {
        capture::stop(&engine, |e| {
            let _said = state.on_event(e);
        })
    });
    state.out.flush();
    let at = state.bound.map(|b| format!(" on {b}")).unwrap_or_default();
    eprintln!(
        "udpdesk: server{at} stopped ({reason}): {}",
        state.summary()
    );
    if let Some(checked) = state.out.verify_summary() {
        eprintln!("udpdesk: {checked}");
    }
    if let Some(summary) = captured {
        eprintln!("udpdesk: {summary}");
    }
    Ok(())
}

/// What `serve` keeps between events.
struct ServeState<'a> {
    /// The capture stopped early (its end was already said).
    capture_ended: bool,
    args: &'a ServeArgs,
    out: Printer,
    counters: Counters,
    last_peer: Option<SocketAddr>,
    bound: Option<SocketAddr>,
}

impl<'a> ServeState<'a> {
    fn new(args: &'a ServeArgs) -> Self {
        ServeState {
            capture_ended: false,
            args,
            out: Printer::new(&args.output),
            counters: Counters::default(),
            last_peer: None,
            bound: None,
        }
    }

    /// Handles one event; `Some(reason)` when the server has stopped.
    ///
    /// # Errors
    /// The server could not start.
    fn on_event(&mut self, event: Event) -> Result<Option<String>, CliError> {
        match event {
            Event::Started { local, buffers, .. } => {
                self.bound = Some(local);
                let r = &self.args.server;
                let quit = r
                    .quit_word
                    .as_ref()
                    .map(|w| format!(", quit word: \"{w}\""))
                    .unwrap_or_default();
                eprintln!(
                    "udpdesk: listening on {local} (reply: {}, encoding: {}{quit}; buffers granted: receive {} B, send {} B)",
                    r.reply, r.encoding, buffers.recv, buffers.send
                );
                let automatic = !matches!(r.reply, ReplyMode::Manual | ReplyMode::None);
                if automatic {
                    eprintln!(
                        "udpdesk: reply limit: {} (--reply-limit, --reply-limit-total)",
                        crate::net::ReplyLimit {
                            per_peer: r.reply_limit,
                            total: r.reply_limit_total,
                        }
                    );
                }
                if automatic && !local.ip().is_loopback() {
                    eprintln!(
                        "udpdesk: warning: {local} is reachable from other machines, and this server answers anyone who sends to it (a spoofed source can aim its replies at someone else; the reply limit caps them)"
                    );
                }
                if r.reply == ReplyMode::Manual {
                    eprintln!(
                        "udpdesk: type a line to answer the last peer, or \"@IP:PORT text\" to answer another"
                    );
                }
            }
            Event::Packets { packets, counters } => {
                for p in &packets {
                    if p.direction == Direction::In {
                        self.last_peer = Some(p.peer);
                    }
                    self.out.packet(p);
                }
                if let Some((_, c)) = counters.into_iter().find(|(id, _)| *id == SERVER) {
                    self.counters = c;
                }
            }
            Event::Stopped { reason, .. } => return Ok(Some(reason.to_string())),
            Event::Failed { error, .. } => {
                if self.bound.is_none() {
                    return Err(CliError::runtime(error.to_string()));
                }
                eprintln!("udpdesk: {error}");
            }
            Event::Peers { .. }
            | Event::SendDone { .. }
            | Event::SequenceStep { .. }
            | Event::SequenceDone { .. }
            | Event::RelayMapping { .. }
            | Event::RelayCounters { .. } => {}
            Event::EngineFailed { reason } => return Err(CliError::runtime(reason)),
            event @ (Event::CaptureStarted { .. }
            | Event::CaptureFailed { .. }
            | Event::CaptureProgress { .. }
            | Event::CaptureStopped { .. }) => self.capture_ended |= capture::on_event(&event),
        }
        Ok(None)
    }

    /// A line typed on stdin: a manual reply.
    fn on_line(&mut self, engine: &Engine, line: &str) {
        manual_reply(engine, line, self.last_peer, self.args.server.encoding);
    }

    fn summary(&self) -> String {
        let c = &self.counters;
        let mut s = c.to_string();
        if self.args.server.reply != ReplyMode::Manual && self.args.server.reply != ReplyMode::None
        {
            s.push_str(&format!(", {} automatic replies", c.replies));
        }
        s
    }
}

/// Sends a typed line to the last peer, or to the one named by `@IP:PORT text`.
pub(super) fn manual_reply(engine: &Engine, line: &str, last: Option<SocketAddr>, enc: Encoding) {
    let (peer, text) = match line.strip_prefix('@').and_then(|r| r.split_once(' ')) {
        Some((addr, text)) => match addr.parse::<SocketAddr>() {
            Ok(a) => (Some(a), text),
            Err(_) => {
                eprintln!("udpdesk: \"{addr}\" is not an address; write @127.0.0.1:5000 text");
                return;
            }
        },
        None => (last, line),
    };
    let Some(peer) = peer else {
        eprintln!("udpdesk: nobody has sent anything yet, so there is no one to answer");
        return;
    };
    match codec::parse_escaped(text, enc) {
        Ok(payload) => {
            if let Err(e) = engine.send(Command::Reply {
                id: SERVER,
                peer,
                payload,
            }) {
                eprintln!("udpdesk: {}", super::one_line(&e.to_string()));
            }
        }
        Err(e) => eprintln!("udpdesk: {}", super::one_line(&e.to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn a_failed_engine_ends_serve_with_status_1_and_the_reason() {
        let cli = crate::cli::Cli::try_parse_from(["udpdesk", "serve"]).unwrap();
        let Some(crate::cli::CliCommand::Serve(args)) = cli.command else {
            panic!("serve")
        };
        let mut state = ServeState::new(&args);
        let reason = "the network thread failed: a test".to_owned();
        let err = state
            .on_event(Event::EngineFailed {
                reason: reason.clone(),
            })
            .unwrap_err();
        assert_eq!((err.status, err.message), (1, reason));
    }
}
