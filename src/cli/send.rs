//! `udpdesk send`: a client on the engine. The messages on the command line go
//! as one job; without them each line of stdin is one datagram, sent in order
//! (the next line waits for the previous send to finish, so none replaces another).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam_channel::select;

use crate::capture::Totals;
use crate::codec;
use crate::net::{ClientConfig, Command, Event, Multicast, SendJob, SocketOptions};

use super::print::Printer;
use super::{CLIENT, CliError, SendArgs, ctrl_c, send_cmd, spawn_engine, stdin_lines};

/// Runs `udpdesk send`.
///
/// # Errors
/// Bad input (status 2), or a failure while sending (status 1).
pub(super) fn send(args: &SendArgs) -> Result<(), CliError> {
    let encode = |m: &str| {
        if args.hex {
            codec::parse_hex(m)
        } else {
            codec::parse_escaped(m, args.encoding)
        }
        .map_err(|e| CliError::input(format!("message \"{m}\": {e}")))
    };
    let payloads = args
        .messages
        .iter()
        .map(|m| encode(m))
        .collect::<Result<Vec<_>, _>>()?;
    crate::net::parse_target(&args.target).map_err(|e| CliError::input(e.to_string()))?;
    let bind = match &args.bind {
        Some(b) => Some(crate::net::parse_bind(b).map_err(|e| CliError::input(e.to_string()))?),
        None => None,
    };
    let options = SocketOptions {
        broadcast: args.broadcast,
        multicast: Some(Multicast {
            ttl: args.ttl,
            interface_v4: args.multicast_if,
            ..Multicast::default()
        }),
        ..SocketOptions::default()
    };
    if payloads.is_empty() && args.count == 0 {
        return Err(CliError::input(
            "--count 0 repeats forever, so it needs the MESSAGE on the command line, not on stdin",
        ));
    }
    let engine = spawn_engine()?;
    let config = ClientConfig {
        bind,
        encoding: args.encoding,
        options,
    };
    send_cmd(&engine, Command::OpenClient { id: CLIENT, config })?;
    let interrupted = ctrl_c()?;
    let job = |payloads: Vec<Vec<u8>>| SendJob {
        target: args.target.clone(),
        payloads,
        count: args.count,
        interval: args.interval,
    };

    let mut out = Printer::new(&args.output);
    let mut tally = Totals::default();
    let mut failure: Option<String> = None;
    // Datagrams waiting their turn, and whether a send job is under way.
    let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
    let mut in_flight = false;
    let mut lines = if payloads.is_empty() {
        stdin_lines()
    } else {
        send_cmd(
            &engine,
            Command::Send {
                id: CLIENT,
                job: job(payloads),
            },
        )?;
        in_flight = true;
        crossbeam_channel::never()
    };
    let mut stdin_open = args.messages.is_empty();
    let mut deadline: Option<Instant> = None;
    loop {
        if !in_flight && let Some(next) = queue.pop_front() {
            send_cmd(
                &engine,
                Command::Send {
                    id: CLIENT,
                    job: job(vec![next]),
                },
            )?;
            in_flight = true;
        }
        let idle = !in_flight && queue.is_empty() && !stdin_open;
        if idle && deadline.is_none() {
            // A reply that arrives later does not extend this, so the command ends on time.
            deadline = Some(
                Instant::now()
                    .checked_add(args.wait)
                    .unwrap_or_else(far_future),
            );
        }
        // Nothing left to send, and either the replies asked for are in or
        // something failed: waiting longer would only delay the answer.
        if idle && (failure.is_some() || args.replies.is_some_and(|n| tally.packets_in >= n)) {
            break;
        }
        let timeout = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else {
                    return Err(CliError::runtime("the network thread stopped"));
                };
                match event {
                    Event::Packets(batch) => {
                        for p in &batch {
                            tally.add(p);
                            out.packet(p);
                        }
                    }
                    Event::SendDone { .. } => in_flight = false,
                    Event::Failed { error, .. } => {
                        // The first failure is the command's answer, printed once at the end.
                        if failure.is_some() {
                            eprintln!("udpdesk: {error}");
                        } else {
                            failure = Some(error.to_string());
                        }
                    }
                    Event::Stopped { reason, .. } => {
                        failure.get_or_insert_with(|| reason.to_string());
                        break;
                    }
                    Event::Started { .. } | Event::Peers { .. } => {}
                }
            }
            recv(lines) -> line => match line {
                Ok(line) => match encode(&line) {
                    Ok(p) => queue.push_back(p),
                    Err(e) => eprintln!("udpdesk: {}", e.message),
                },
                Err(_) => {
                    // Stdin ended: stop listening to it, then wait for the last replies.
                    lines = crossbeam_channel::never();
                    stdin_open = false;
                    if queue.is_empty() && !in_flight && tally.packets_out == 0 && failure.is_none() {
                        return Err(CliError::input(
                            "nothing to send: give a MESSAGE or pipe lines into stdin",
                        ));
                    }
                }
            },
            recv(interrupted) -> _ => break,
            default(timeout) => if deadline.is_some_and(|d| Instant::now() >= d) { break },
        }
    }
    out.flush();
    eprintln!("udpdesk: {tally}");
    match failure {
        Some(f) => Err(CliError::runtime(f)),
        None => Ok(()),
    }
}

/// A deadline nobody will reach, for waits too long to add to the clock.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}
