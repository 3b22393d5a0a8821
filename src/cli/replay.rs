//! `udpdesk replay FILE --to HOST:PORT`: the datagrams of a capture sent again
//! from a client on the engine, with the captured timing (or scaled, or as
//! fast as possible), printing the replies as `send` does.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crossbeam_channel::select;

use crate::capture::{self, PacketFilter, PacketView, Speed};
use crate::net::{ClientConfig, Command, Counters, Event, SendJob, SocketOptions, StopReason};

use super::print::Printer;
use super::{CLIENT, CliError, ReplayArgs, ctrl_c, send_cmd, spawn_engine, until_stopped};

/// Runs `udpdesk replay`.
///
/// # Errors
/// Bad input (status 2), or a failure while sending (status 1).
pub(super) fn replay(args: &ReplayArgs) -> Result<(), CliError> {
    let filter = args
        .filter
        .as_deref()
        .map(PacketFilter::parse)
        .transpose()
        .map_err(|e| CliError::input(format!("--filter: {e}")))?;
    crate::net::parse_target(&args.to).map_err(|e| CliError::input(e.to_string()))?;
    let bind = match &args.bind {
        Some(b) => Some(crate::net::parse_bind(b).map_err(|e| CliError::input(e.to_string()))?),
        None => None,
    };
    let speed = match (args.fast, args.speed) {
        (true, _) => Speed::Fast,
        (false, Some(x)) if (Speed::SLOWEST..=Speed::FASTEST).contains(&x) => Speed::Scaled(x),
        (false, Some(x)) => {
            return Err(CliError::input(format!(
                "--speed {x}: use a factor from {} to {} (2 is twice as fast), or --fast",
                Speed::SLOWEST,
                Speed::FASTEST
            )));
        }
        (false, None) => Speed::Original,
    };
    let mut payloads = Vec::new();
    let mut times = Vec::new();
    let opened = capture::open_capture(
        &args.file,
        &mut |p| {
            if filter.as_ref().is_none_or(|f| f.keeps(&PacketView::of(&p))) {
                times.push(p.time);
                payloads.push(p.bytes.to_vec());
            }
        },
        &|_, _| {},
        &AtomicBool::new(false),
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    if payloads.is_empty() {
        return Err(CliError::input(format!(
            "nothing to replay: {} UDP packets in {}, none passed the filter",
            opened.packets,
            args.file.display()
        )));
    }
    let total = payloads.len();
    let job = SendJob {
        target: args.to.clone(),
        at: capture::timetable(&times, speed),
        payloads,
        count: 1,
        interval: Duration::ZERO,
        fill: Vec::new(),
    };
    let engine = spawn_engine()?;
    let config = ClientConfig {
        bind,
        encoding: args.encoding,
        options: SocketOptions::default(),
    };
    send_cmd(&engine, Command::OpenClient { id: CLIENT, config })?;
    let interrupted = ctrl_c()?;
    eprintln!(
        "udpdesk: replaying {total} datagrams from {} to {} ({speed})",
        args.file.display(),
        args.to
    );
    let started = Instant::now();
    send_cmd(&engine, Command::Send { id: CLIENT, job })?;
    let mut out = Printer::new(&args.output);
    let mut counters = Counters::default();
    let mut sent = None;
    let mut failure = None;
    let mut deadline: Option<Instant> = None;
    let mut stopped = false;
    loop {
        let wait = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else { break };
                match event {
                    Event::Packets { packets, counters: c } => {
                        for p in &packets {
                            out.packet(p);
                        }
                        if let Some((_, c)) = c.into_iter().find(|(id, _)| *id == CLIENT) {
                            counters = c;
                        }
                    }
                    Event::SendDone { sent: n, .. } => {
                        sent = Some((n, started.elapsed()));
                        deadline = Some(Instant::now() + args.wait);
                    }
                    Event::Failed { error, .. } => {
                        eprintln!("udpdesk: {error}");
                        failure.get_or_insert_with(|| error.to_string());
                    }
                    Event::Stopped { reason, .. } => {
                        if reason != StopReason::Closed {
                            failure.get_or_insert_with(|| reason.to_string());
                        }
                        stopped = true;
                        break;
                    }
                    Event::EngineFailed { reason } => {
                        failure.get_or_insert(reason);
                        stopped = true;
                        break;
                    }
                    _ => {}
                }
                if engine.events().is_empty() {
                    out.flush();
                }
            }
            recv(interrupted) -> _ => {
                let _stopping = engine.send(Command::StopSending { id: CLIENT });
                break;
            }
            default(wait) => if deadline.is_some_and(|d| Instant::now() >= d) { break },
        }
    }
    if !stopped {
        let _closing = engine.send(Command::Close { id: CLIENT });
        for event in until_stopped(&engine, CLIENT) {
            match event {
                Event::Packets {
                    packets,
                    counters: c,
                } => {
                    for p in &packets {
                        out.packet(p);
                    }
                    if let Some((_, c)) = c.into_iter().find(|(id, _)| *id == CLIENT) {
                        counters = c;
                    }
                }
                Event::SendDone { sent: n, .. } => {
                    sent.get_or_insert((n, started.elapsed()));
                }
                _ => {}
            }
        }
    }
    out.flush();
    let (n, took) = sent.unwrap_or((counters.packets_out, started.elapsed()));
    eprintln!(
        "udpdesk: replayed {n} of {total} datagrams to {} in {:.2} s; {counters}",
        args.to,
        took.as_secs_f64()
    );
    if let Some(checked) = out.verify_summary() {
        eprintln!("udpdesk: {checked}");
    }
    match failure {
        Some(f) => Err(CliError::runtime(f)),
        None => Ok(()),
    }
}
