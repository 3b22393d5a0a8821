//! `udpdesk run PROJECT.toml`: the project's servers, relays and clients on
//! one engine, its sequences run from their clients (each client's in order,
//! the clients side by side), every packet printed with its endpoint's name.
//! It ends when the last sequence ends, or at Ctrl-C when there is none; the
//! exit status says whether every expected reply came (0), one did not (1),
//! or the project could not be read or started (2).

mod plan;
mod state;

use std::time::{Duration, Instant};

use crossbeam_channel::select;

use crate::net::Command;
use crate::project::Project;

use super::{CliError, RunArgs, capture, ctrl_c, send_cmd, spawn_engine};
use plan::Plan;
use state::{End, RunState};

/// How long every endpoint may take to bind before the run gives up.
const START_PATIENCE: Duration = Duration::from_secs(10);
/// How long the endpoints may take to stop, their last packets printed.
const STOP_PATIENCE: Duration = Duration::from_secs(2);

/// Runs `udpdesk run`.
///
/// # Errors
/// A bad project or an endpoint that cannot start (status 2), an expected
/// reply that never came or a run cut short (status 1).
pub(super) fn run(args: &RunArgs) -> Result<(), CliError> {
    let project = Project::load(&args.project).map_err(CliError::input)?;
    let plan = Plan::new(&project)?;
    let serves = plan
        .endpoints
        .iter()
        .any(|e| e.kind != crate::settings::EndpointKind::Client);
    if plan.sequences.is_empty() && !serves {
        return Err(CliError::input(format!(
            "{}: nothing to run: the project has no [[server]] or [[relay]] to serve and no [[sequence]] for its clients",
            args.project.display()
        )));
    }
    let engine = spawn_engine()?;
    let capture_file = args
        .capture
        .clone()
        .or_else(|| project.capture_path(&args.project));
    if let Some(path) = &capture_file {
        capture::start(&engine, path)?;
    }
    let mut state = RunState::new(&plan, &args.output);
    for planned in &plan.endpoints {
        let name = planned.name.clone();
        send_cmd(
            &engine,
            Command::NameEndpoint {
                id: planned.id,
                name,
            },
        )?;
        send_cmd(&engine, planned.start.clone())?;
    }
    let interrupted = ctrl_c()?;
    let started_by = Instant::now() + START_PATIENCE;
    let give_up = args.timeout.map(|t| Instant::now() + t);
    let end = loop {
        state.launch_when_ready(&engine);
        if let Some(end) = state.end() {
            break end;
        }
        if state.starting() && Instant::now() >= started_by {
            break End::Setup(state.not_started());
        }
        if give_up.is_some_and(|at| Instant::now() >= at) {
            break End::TimedOut;
        }
        let next = if state.starting() {
            Some(started_by)
        } else {
            give_up
        };
        let wait = next.map_or(Duration::from_secs(3600), |at| {
            at.saturating_duration_since(Instant::now())
        });
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else {
                    return Err(CliError::runtime("the network thread stopped"));
                };
                state.on_event(&engine, event)?;
                if engine.events().is_empty() {
                    state.out.flush();
                }
            }
            recv(interrupted) -> _ => break End::Interrupted,
            default(wait) => {}
        }
    };
    // Close every endpoint and take its last events: packets and counters
    // still in the engine's batch belong in the summary.
    state.ending();
    for id in state.running() {
        let _closing = engine.send(Command::Close { id });
    }
    let until = Instant::now() + STOP_PATIENCE;
    while !state.running().is_empty() {
        let left = until.saturating_duration_since(Instant::now());
        let Ok(event) = engine.events().recv_timeout(left) else {
            break;
        };
        state.on_event(&engine, event)?;
    }
    let captured = if capture_file.is_some() && !state.capture_ended {
        capture::stop(&engine, |e| {
            if let Err(e) = state.on_event(&engine, e) {
                eprintln!("udpdesk: {}", e.message);
            }
        })
    } else {
        None
    };
    state.out.flush();
    state.summary(&end);
    if let Some(summary) = &captured {
        eprintln!("udpdesk: {summary}");
    }
    state.verdict(&end, captured.as_ref())
}
