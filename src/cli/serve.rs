//! `udpdesk serve`: a server on the engine, printing every packet, with
//! replies typed on stdin in manual mode; ends on the quit word or Ctrl-C.

use std::net::SocketAddr;

use crossbeam_channel::select;

use crate::capture::Totals;
use crate::codec::{self, Encoding};
use crate::net::{Command, Engine, Event, Multicast, ReplyMode, ServerConfig, SocketOptions};
use crate::packet::Direction;

use super::print::Printer;
use super::{CliError, SERVER, ServeArgs, ctrl_c, send_cmd, spawn_engine, stdin_lines};

pub(super) fn serve(args: &ServeArgs) -> Result<(), CliError> {
    let bind = crate::net::parse_bind(&args.bind).map_err(|e| CliError::input(e.to_string()))?;
    let engine = spawn_engine()?;
    let mut options = SocketOptions {
        broadcast: args.broadcast,
        ..SocketOptions::default()
    };
    if let Some(group) = args.multicast {
        options.multicast = Some(Multicast {
            group: Some(group),
            interface_v4: args.multicast_if,
            ..Multicast::default()
        });
    }
    let config = ServerConfig {
        bind,
        reply: args.reply.clone(),
        encoding: args.encoding,
        quit_word: args.quit_word.clone(),
        options,
    };
    send_cmd(&engine, Command::StartServer { id: SERVER, config })?;
    let interrupted = ctrl_c()?;
    let manual = args.reply == ReplyMode::Manual;
    let mut lines = if manual {
        stdin_lines()
    } else {
        crossbeam_channel::never()
    };
    let mut out = Printer::new(&args.output);
    let mut tally = Totals::default();
    let mut last_peer: Option<SocketAddr> = None;
    let mut bound: Option<SocketAddr> = None;
    let reason = loop {
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else { break "the network thread stopped".to_owned() };
                match event {
                    Event::Started { local, .. } => {
                        bound = Some(local);
                        eprintln!("udpdesk: listening on {local} (reply: {}, encoding: {}{})",
                            args.reply, args.encoding,
                            args.quit_word.as_ref().map(|w| format!(", quit word: \"{w}\"")).unwrap_or_default());
                        if manual {
                            eprintln!("udpdesk: type a line to answer the last peer, or \"@IP:PORT text\" to answer another");
                        }
                    }
                    Event::Packets(batch) => {
                        for p in &batch {
                            tally.add(p);
                            if p.direction == Direction::In { last_peer = Some(p.peer); }
                            out.packet(p);
                        }
                    }
                    Event::Stopped { reason, .. } => break reason.to_string(),
                    Event::Failed { error, .. } => {
                        if bound.is_none() {
                            return Err(CliError::runtime(error.to_string()));
                        }
                        eprintln!("udpdesk: {error}");
                    }
                    Event::Peers { .. } | Event::SendDone { .. } => {}
                }
            }
            recv(interrupted) -> _ => break "interrupted".to_owned(),
            recv(lines) -> line => {
                if let Ok(line) = line {
                    manual_reply(&engine, &line, last_peer, args.encoding);
                } else {
                    // Stdin closed: go on serving; the quit word or Ctrl-C ends it.
                    lines = crossbeam_channel::never();
                }
            }
        }
    };
    out.flush();
    let at = bound.map(|b| format!(" on {b}")).unwrap_or_default();
    eprintln!("udpdesk: server{at} stopped ({reason}): {tally}");
    Ok(())
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
                eprintln!("udpdesk: {e}");
            }
        }
        Err(e) => eprintln!("udpdesk: {e}"),
    }
}
