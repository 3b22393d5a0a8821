//! `udpdesk relay`: a relay between clients and one server on the engine,
//! printing every datagram of both legs, mappings as they open and close,
//! and a summary at Ctrl-C.

use std::net::SocketAddr;

use crossbeam_channel::select;

use crate::net::{
    Command, Counters, Event, Leg, MappingChange, MatchKind, RelayAction, RelayConfig,
    RelayCounters, RelayRule, RuleMatch, SocketOptions,
};
use crate::packet::EndpointId;

use super::print::Printer;
use super::{CliError, RelayArgs, capture, ctrl_c, send_cmd, spawn_engine, until_stopped};

const RELAY: EndpointId = EndpointId(1);

/// The engine's settings for the relay the arguments describe, `--to`
/// resolved (and refused if it is no address or name) before anything runs.
///
/// # Errors
/// A bad address or rule (status 2).
pub fn relay_config(args: &RelayArgs) -> Result<RelayConfig, CliError> {
    let listen =
        crate::net::parse_bind(&args.listen).map_err(|e| CliError::input(e.to_string()))?;
    let upstream = super::resolve_target(&args.to)?;
    let config = RelayConfig {
        listen,
        upstream,
        encoding: args.encoding,
        idle_timeout: args.idle_timeout,
        rules: simple_rules(args),
        options: SocketOptions {
            recv_buffer: args.recv_buffer,
            ..SocketOptions::default()
        },
    };
    crate::net::check_rules(&config.rules, config.encoding)
        .map_err(|e| CliError::input(e.to_string()))?;
    Ok(config)
}

/// `--drop TEXT` (each), then `--delay` or `--duplicate`, all on `--way`.
fn simple_rules(args: &RelayArgs) -> Vec<RelayRule> {
    let way = args.way;
    let mut rules: Vec<RelayRule> = args
        .drop
        .iter()
        .map(|text| {
            RelayRule::new(
                way,
                RuleMatch::new(MatchKind::Contains, text.clone()),
                RelayAction::Drop,
            )
        })
        .collect();
    if let Some(delay) = args.delay {
        rules.push(RelayRule::new(
            way,
            RuleMatch::any(),
            RelayAction::Delay(delay),
        ));
    }
    if let Some(n) = args.duplicate {
        rules.push(RelayRule::new(
            way,
            RuleMatch::any(),
            RelayAction::Duplicate(n),
        ));
    }
    rules
}

pub(super) fn relay(args: &RelayArgs) -> Result<(), CliError> {
    let config = relay_config(args)?;
    let upstream = config.upstream;
    let engine = spawn_engine()?;
    if let Some(path) = &args.capture {
        capture::start(&engine, path)?;
    }
    send_cmd(&engine, Command::StartRelay { id: RELAY, config })?;
    let interrupted = ctrl_c()?;
    let mut state = RelayState::new(args, upstream);
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
        }
    };
    if !stopped {
        let _closing = engine.send(Command::Close { id: RELAY });
        for event in until_stopped(&engine, RELAY) {
            state.on_event(event)?;
        }
    }
    let capturing = args.capture.is_some() && !state.capture_ended;
    let captured = capturing.then_some(()).and_then(|()| {
        capture::stop(&engine, |e| {
            let _said = state.on_event(e);
        })
    });
    state.out.flush();
    let at = state
        .listen
        .map(|l| format!(" on {l} to {upstream}"))
        .unwrap_or_default();
    eprintln!(
        "udpdesk: relay{at} stopped ({reason}): {}; {}",
        state.packets, state.relayed
    );
    if let Some(checked) = state.out.verify_summary() {
        eprintln!("udpdesk: {checked}");
    }
    if let Some(summary) = captured {
        eprintln!("udpdesk: {summary}");
    }
    Ok(())
}

/// What `relay` keeps between events.
struct RelayState {
    out: Printer,
    upstream: SocketAddr,
    listen: Option<SocketAddr>,
    packets: Counters,
    relayed: RelayCounters,
    capture_ended: bool,
}

impl RelayState {
    fn new(args: &RelayArgs, upstream: SocketAddr) -> Self {
        RelayState {
            out: Printer::new(&args.output),
            upstream,
            listen: None,
            packets: Counters::default(),
            relayed: RelayCounters::default(),
            capture_ended: false,
        }
    }

    /// Handles one event; `Some(reason)` when the relay has stopped.
    ///
    /// # Errors
    /// The relay could not start, or the engine failed.
    fn on_event(&mut self, event: Event) -> Result<Option<String>, CliError> {
        match event {
            Event::Started { local, buffers, .. } => {
                self.listen = Some(local);
                eprintln!(
                    "udpdesk: relaying {local} to {} (buffers granted: receive {} B, send {} B)",
                    self.upstream, buffers.recv, buffers.send
                );
                if !local.ip().is_loopback() {
                    eprintln!(
                        "udpdesk: warning: {local} is reachable from other machines, and anyone who sends to it reaches {} through this relay",
                        self.upstream
                    );
                }
            }
            Event::Packets { packets, counters } => {
                for p in &packets {
                    let leg = self.listen.map(|l| Leg::of(p, l).label());
                    self.out.packet_on(p, leg);
                }
                if let Some((_, c)) = counters.into_iter().find(|(id, _)| *id == RELAY) {
                    self.packets = c;
                }
            }
            Event::RelayMapping {
                client,
                upstream_local,
                change,
                ..
            } => {
                self.out.flush();
                match change {
                    MappingChange::Opened => {
                        eprintln!("udpdesk: {client} speaks to the server from {upstream_local}");
                    }
                    MappingChange::Expired => eprintln!(
                        "udpdesk: {client} was idle: its upstream socket {upstream_local} is closed"
                    ),
                }
            }
            Event::RelayCounters { counters, .. } => self.relayed = counters,
            Event::Stopped { reason, .. } => return Ok(Some(reason.to_string())),
            Event::Failed { error, .. } => {
                if self.listen.is_none() {
                    return Err(CliError::runtime(error.to_string()));
                }
                eprintln!("udpdesk: {}", super::one_line(&error.to_string()));
            }
            Event::EngineFailed { reason } => return Err(CliError::runtime(reason)),
            Event::Peers { .. }
            | Event::SendDone { .. }
            | Event::SequenceStep { .. }
            | Event::SequenceDone { .. } => {}
            event @ (Event::CaptureStarted { .. }
            | Event::CaptureFailed { .. }
            | Event::CaptureProgress { .. }
            | Event::CaptureStopped { .. }) => self.capture_ended |= capture::on_event(&event),
        }
        Ok(None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::net::Toward;
    use clap::Parser as _;

    fn args(line: &[&str]) -> RelayArgs {
        let mut all = vec!["udpdesk", "relay"];
        all.extend_from_slice(line);
        let cli = crate::cli::Cli::try_parse_from(all).unwrap();
        let Some(crate::cli::CliCommand::Relay(args)) = cli.command else {
            panic!("relay")
        };
        args
    }

    #[test]
    fn simple_rule_flags_become_rules_in_order() {
        let a = args(&[
            "--to",
            "127.0.0.1:9000",
            "--drop",
            "secret",
            "--drop",
            "\\x00",
            "--delay",
            "250ms",
            "--way",
            "both",
        ]);
        let config = relay_config(&a).unwrap();
        assert_eq!(config.upstream, "127.0.0.1:9000".parse().unwrap());
        let actions: Vec<_> = config.rules.iter().map(|r| r.action.clone()).collect();
        assert_eq!(
            actions,
            [
                RelayAction::Drop,
                RelayAction::Drop,
                RelayAction::Delay(std::time::Duration::from_millis(250))
            ]
        );
        assert!(config.rules.iter().all(|r| r.toward == Toward::Both));
    }

    #[test]
    fn bad_targets_are_input_errors() {
        for to in ["127.0.0.1", "127.0.0.1:0", "[::1:9000", "999.1.1.1:5"] {
            let err = relay_config(&args(&["--to", to])).unwrap_err();
            assert_eq!(err.status, 2, "{to}: {}", err.message);
        }
    }
}
