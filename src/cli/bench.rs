//! `udpdesk bench`: a load generator. Numbered datagrams go to a target from one
//! or more sockets, flat out or at a fixed rate (the open loop), or one round
//! trip at a time per socket (the closed loop); an echo server's replies then
//! tell loss, duplicates, reordering and round-trip times, printed at the end as
//! one line or one JSON object.
//!
//! It drives its own sockets rather than the engine: the engine turns every
//! datagram into an event for a window to show, which a load test at hundreds
//! of thousands of datagrams a second has no use for.

mod closed_loop;
mod header;
mod input;
mod receiver;
mod record;
mod rtt;
mod sender;
mod socket;
mod stop;
mod summary;
mod tally;

use std::io::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use crossbeam_channel::{Receiver, select};

use super::{BenchArgs, CliError, ctrl_c};
use receiver::Control;
use sender::{Limit, Pacer};
use stop::stop_pair;
use summary::{Setting, Summary};

/// Runs `udpdesk bench`.
///
/// # Errors
/// Bad input (status 2), or a failure of the sockets (status 1, after the summary).
pub(super) fn bench(args: &BenchArgs) -> Result<(), CliError> {
    let target = super::resolve_target(&args.target)?;
    input::check(args, target)?;
    let limit = match args.count {
        Some(n) => Limit::Count(n),
        None => Limit::Time(args.duration),
    };
    let sockets = socket::open(target, args.sockets).map_err(|e| {
        let advice = if e.raw_os_error() == Some(nix::errno::Errno::EMFILE as i32) {
            " — raise the open-file limit (ulimit -n) or use fewer --sockets"
        } else {
            ""
        };
        CliError::runtime(format!("cannot open a socket to {target}: {e}{advice}"))
    })?;
    let interrupted = ctrl_c()?;
    let recorder = args
        .capture
        .as_deref()
        .map(|path| record::Recorder::start(path, target, &sockets))
        .transpose()?;
    eprintln!("udpdesk: {}", input::banner(args, target, limit));
    let outcome = if args.closed {
        run_closed(
            args,
            target,
            &sockets,
            limit,
            &interrupted,
            recorder.as_ref(),
        )
    } else {
        run_open(
            args,
            target,
            &sockets,
            limit,
            &interrupted,
            recorder.as_ref(),
        )
    };
    if let Some(r) = recorder {
        eprintln!("udpdesk: {}", r.finish());
    }
    let Outcome {
        summary,
        failure,
        refused,
    } = outcome?;
    let line = if args.json {
        serde_json::to_string(&summary)
            .map_err(|e| CliError::runtime(format!("cannot write the summary: {e}")))?
    } else {
        summary.to_string()
    };
    writeln!(std::io::stdout().lock(), "{line}")
        .map_err(|e| CliError::runtime(format!("cannot print the summary: {e}")))?;
    if refused {
        let when = if summary.received == 0 {
            "nothing listens there"
        } else {
            "for a while nothing listened there"
        };
        eprintln!("udpdesk: {target} answered \"port unreachable\": {when}");
    }
    match failure {
        Some(e) => Err(CliError::runtime(e)),
        None => Ok(()),
    }
}

/// How a run went.
struct Outcome {
    summary: Summary,
    /// The failure that cut the run short.
    failure: Option<String>,
    /// The target answered "port unreachable".
    refused: bool,
}

fn run_open(
    args: &BenchArgs,
    target: SocketAddr,
    sockets: &[UdpSocket],
    limit: Limit,
    interrupted: &Receiver<()>,
    recorder: Option<&record::Recorder>,
) -> Result<Outcome, CliError> {
    let (poll, waker) = receiver::watch(sockets)
        .map_err(|e| CliError::runtime(format!("cannot wait for replies: {e}")))?;
    let issued: Vec<AtomicU64> = sockets.iter().map(|_| AtomicU64::new(0)).collect();
    let (control, control_rx) = crossbeam_channel::unbounded();
    let tell = |c: Control| {
        // Fails only when the receiver has already returned, and then needs no telling.
        control.send(c).ok();
        if let Err(e) = waker.wake() {
            eprintln!("udpdesk: cannot wake the receiving thread: {e}");
        }
    };
    let (mut switch, signal) = stop_pair();
    let start = Instant::now();
    std::thread::scope(|scope| {
        let (got_tx, got_rx) = crossbeam_channel::bounded(1);
        let (sent_tx, sent_rx) = crossbeam_channel::bounded(1);
        let issued = &issued;
        std::thread::Builder::new()
            .name("udpdesk-bench-recv".to_owned())
            .spawn_scoped(scope, move || {
                got_tx
                    .send(receiver::receive(
                        sockets,
                        issued,
                        poll,
                        &control_rx,
                        start,
                        recorder,
                    ))
                    .ok();
            })
            .map_err(|e| CliError::runtime(format!("cannot start the receiving thread: {e}")))?;
        let spawned = std::thread::Builder::new()
            .name("udpdesk-bench-send".to_owned())
            .spawn_scoped(scope, move || {
                let pacer = Pacer { rate: args.rate };
                let sent = sender::send_all(
                    sockets, issued, args.size, pacer, limit, start, &signal, recorder,
                );
                sent_tx.send(sent).ok();
            });
        if let Err(e) = spawned {
            tell(Control::Stop);
            return Err(CliError::runtime(format!(
                "cannot start the sending thread: {e}"
            )));
        }
        let mut stopped = false;
        let sent = select! {
            recv(sent_rx) -> sent => sent,
            recv(interrupted) -> _ => {
                stopped = true;
                switch.pull();
                sent_rx.recv()
            }
        };
        let Ok(sent) = sent else {
            tell(Control::Stop);
            return Err(CliError::runtime("the sending thread failed"));
        };
        tell(if stopped {
            Control::Stop
        } else {
            Control::Finish {
                sent: sent.total,
                wait: args.wait,
            }
        });
        let got = select! {
            recv(got_rx) -> got => got,
            recv(interrupted) -> _ => {
                stopped = true;
                tell(Control::Stop);
                got_rx.recv()
            }
        };
        let got = got.map_err(|_| CliError::runtime("the receiving thread failed"))?;
        let failure = match (&sent.error, &got.error) {
            (Some(e), _) => Some(format!("sending to {target} failed: {e}")),
            (None, Some(e)) => Some(format!("receiving from {target} failed: {e}")),
            (None, None) => None,
        };
        let refused = sent.refused || got.refused;
        Ok(Outcome {
            summary: Summary::open(setting(args, target, stopped), &sent, &got),
            failure,
            refused,
        })
    })
}

fn run_closed(
    args: &BenchArgs,
    target: SocketAddr,
    sockets: &[UdpSocket],
    limit: Limit,
    interrupted: &Receiver<()>,
    recorder: Option<&record::Recorder>,
) -> Result<Outcome, CliError> {
    let (poll, waker) = receiver::watch(sockets)
        .map_err(|e| CliError::runtime(format!("cannot wait for replies: {e}")))?;
    let (mut switch, signal) = stop_pair();
    let start = Instant::now();
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("udpdesk-bench-rtt".to_owned())
            .spawn_scoped(scope, move || {
                let timeout = args.timeout;
                let r = closed_loop::round_trips(
                    sockets, poll, args.size, limit, timeout, start, &signal, recorder,
                );
                done_tx.send(r).ok();
            })
            .map_err(|e| CliError::runtime(format!("cannot start the round-trip thread: {e}")))?;
        let mut stopped = false;
        let done = select! {
            recv(done_rx) -> done => done,
            recv(interrupted) -> _ => {
                stopped = true;
                switch.pull();
                if let Err(e) = waker.wake() {
                    eprintln!("udpdesk: cannot wake the round-trip thread: {e}");
                }
                done_rx.recv()
            }
        };
        let r = done.map_err(|_| CliError::runtime("the round-trip thread failed"))?;
        let failure = r
            .error
            .as_ref()
            .map(|e| format!("round trips to {target} failed: {e}"));
        Ok(Outcome {
            summary: Summary::closed(setting(args, target, stopped), &r),
            failure,
            refused: r.refused,
        })
    })
}

fn setting(args: &BenchArgs, target: SocketAddr, interrupted: bool) -> Setting {
    Setting {
        target: target.to_string(),
        size: args.size,
        sockets: args.sockets,
        interrupted,
    }
}
