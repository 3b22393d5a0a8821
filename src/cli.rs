//! The command line: `serve` and `send` run headless on the same engine as the
//! window; no subcommand opens the window.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use crossbeam_channel::{Receiver, select};

use crate::capture::{PacketRecord, Totals};
use crate::codec::{self, Encoding};
use crate::net::{
    ClientConfig, Command, Engine, Event, Multicast, ReplyMode, SendJob, ServerConfig,
    SocketOptions,
};
use crate::packet::{Direction, EndpointId, Packet};

/// udpdesk: a UDP messenger and tester. With no command it opens the window.
#[derive(Debug, Parser)]
#[command(name = "udpdesk", version, about)]
pub struct Cli {
    /// What to do; none opens the window.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// The headless commands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run a UDP server that answers each datagram by a reply rule.
    Serve(ServeArgs),
    /// Send datagrams and print the replies.
    Send(SendArgs),
}

/// How packets are printed.
#[derive(Debug, Args)]
pub struct Output {
    /// Add a hex dump under each packet.
    #[arg(long)]
    pub dump: bool,
    /// Print one JSON object per packet instead of a line of text.
    #[arg(long, conflicts_with = "dump")]
    pub json: bool,
}

/// `udpdesk serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on; 0.0.0.0 or :: for every interface, port 0 for any free port.
    #[arg(long, short, default_value = "127.0.0.1:9999")]
    pub bind: String,
    /// echo, upper, none, manual (type replies on stdin), fixed:TEXT or template:TEXT ({text} {peer} {time} {seq} {len} {hex}).
    #[arg(long, short, default_value = "echo")]
    pub reply: ReplyMode,
    /// Stop after answering a datagram whose text is this word.
    #[arg(long, short)]
    pub quit_word: Option<String>,
    /// Text encoding of received text and replies (utf-8, gbk, gb18030, big5, shift_jis, euc-kr, utf-16le, utf-16be, windows-1252).
    #[arg(long, short, default_value = "utf-8")]
    pub encoding: Encoding,
    /// Allow sending to broadcast addresses.
    #[arg(long)]
    pub broadcast: bool,
    /// Join this multicast group.
    #[arg(long)]
    pub multicast: Option<std::net::IpAddr>,
    /// Printing options.
    #[command(flatten)]
    pub output: Output,
}

/// `udpdesk send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Where to send: HOST:PORT, IP:PORT or [IPv6]:PORT.
    pub target: String,
    /// Each message is one datagram, in order; escapes \r \n \t \0 \\ \xNN \u{...} work. With none, each line of stdin is one.
    pub messages: Vec<String>,
    /// Messages are hex ("48 65 6c", "0x48,0x65") instead of text.
    #[arg(long)]
    pub hex: bool,
    /// Text encoding of messages and replies.
    #[arg(long, short, default_value = "utf-8")]
    pub encoding: Encoding,
    /// Send the messages this many times over; 0 repeats until Ctrl-C.
    #[arg(long, short, default_value_t = 1)]
    pub count: u64,
    /// Pause between rounds (one round sends every MESSAGE once, back to back), such as 100ms or 1s.
    #[arg(long, short, default_value = "0ms", value_parser = parse_duration)]
    pub interval: Duration,
    /// How long to wait for replies after the last datagram.
    #[arg(long, short, default_value = "1s", value_parser = parse_duration)]
    pub wait: Duration,
    /// Local address to send from (default: any free port).
    #[arg(long, short)]
    pub bind: Option<String>,
    /// Allow sending to broadcast addresses.
    #[arg(long)]
    pub broadcast: bool,
    /// Hop limit for multicast targets.
    #[arg(long, default_value_t = 1)]
    pub ttl: u32,
    /// Printing options.
    #[command(flatten)]
    pub output: Output,
}

/// A failure that ends the command, with the exit status to use.
#[derive(Debug)]
pub struct CliError {
    /// The one-line reason.
    pub message: String,
    /// 2 for bad input, 1 for a failure at run time.
    pub status: u8,
}

impl CliError {
    fn input(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            status: 2,
        }
    }

    fn runtime(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            status: 1,
        }
    }
}

/// Parses `250ms`, `1s`, `1.5s`, `2m`, `500us`; a bare number is milliseconds.
///
/// # Errors
/// Anything else.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("\"{s}\" is not a duration: write 100ms, 1s or 2m"))?;
    let secs = match unit.trim() {
        "" | "ms" => value / 1000.0,
        "us" | "µs" => value / 1_000_000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        other => return Err(format!("unknown unit \"{other}\": use us, ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("\"{s}\" is out of range"))
}

const SERVER: EndpointId = EndpointId(1);
const CLIENT: EndpointId = EndpointId(2);

/// Runs a headless command.
///
/// # Errors
/// Bad input or a failure that ends the command.
pub fn run(command: CliCommand) -> Result<(), CliError> {
    match command {
        CliCommand::Serve(args) => serve(&args),
        CliCommand::Send(args) => send(&args),
    }
}

fn spawn_engine() -> Result<Engine, CliError> {
    Engine::spawn(|| {}).map_err(|e| CliError::runtime(e.to_string()))
}

fn serve(args: &ServeArgs) -> Result<(), CliError> {
    let bind = crate::net::parse_bind(&args.bind).map_err(|e| CliError::input(e.to_string()))?;
    let engine = spawn_engine()?;
    let mut options = SocketOptions {
        broadcast: args.broadcast,
        ..SocketOptions::default()
    };
    if let Some(group) = args.multicast {
        options.multicast = Some(Multicast {
            group: Some(group),
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
fn manual_reply(engine: &Engine, line: &str, last: Option<SocketAddr>, enc: Encoding) {
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

fn send(args: &SendArgs) -> Result<(), CliError> {
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
            ..Multicast::default()
        }),
        ..SocketOptions::default()
    };
    let engine = spawn_engine()?;
    send_cmd(
        &engine,
        Command::OpenClient {
            id: CLIENT,
            config: ClientConfig {
                bind,
                encoding: args.encoding,
                options,
            },
        },
    )?;
    let interrupted = ctrl_c()?;
    let mut out = Printer::new(&args.output);
    let mut tally = Totals::default();
    let mut failure: Option<String> = None;
    let job = |payloads: Vec<Vec<u8>>| SendJob {
        target: args.target.clone(),
        payloads,
        count: args.count,
        interval: args.interval,
    };
    // Messages on the command line go as one job; without them each stdin line is one.
    let (mut lines, mut pending) = if payloads.is_empty() {
        (stdin_lines(), 0usize)
    } else {
        send_cmd(
            &engine,
            Command::Send {
                id: CLIENT,
                job: job(payloads),
            },
        )?;
        (crossbeam_channel::never(), 1usize)
    };
    let mut stdin_open = args.messages.is_empty();
    let mut deadline: Option<Instant> = None;
    loop {
        let timeout = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        select! {
            recv(engine.events()) -> event => {
                let Ok(event) = event else { break };
                match event {
                    Event::Packets(batch) => for p in &batch { tally.add(p); out.packet(p); },
                    Event::SendDone { .. } => pending = pending.saturating_sub(1),
                    Event::Failed { error, .. } => {
                        eprintln!("udpdesk: {error}");
                        failure.get_or_insert_with(|| error.to_string());
                    }
                    Event::Stopped { reason, .. } => { failure.get_or_insert_with(|| reason.to_string()); break; }
                    Event::Started { .. } | Event::Peers { .. } => {}
                }
            }
            recv(lines) -> line => match line {
                Ok(line) => match encode(&line) {
                    Ok(p) => { send_cmd(&engine, Command::Send { id: CLIENT, job: job(vec![p]) })?; pending += 1; }
                    Err(e) => eprintln!("udpdesk: {}", e.message),
                },
                Err(_) => {
                    // Stdin ended: stop listening to it, then wait for the last replies.
                    lines = crossbeam_channel::never();
                    stdin_open = false;
                    if pending == 0 && tally.packets_out == 0 && failure.is_none() {
                        return Err(CliError::input("nothing to send: give a MESSAGE or pipe lines into stdin"));
                    }
                }
            },
            recv(interrupted) -> _ => break,
            default(timeout) => if deadline.is_some() { break },
        }
        deadline_if_idle(&mut deadline, pending, stdin_open, args.wait);
    }
    out.flush();
    eprintln!("udpdesk: {tally}");
    match failure {
        Some(f) => Err(CliError::runtime(f)),
        None => Ok(()),
    }
}

/// Once nothing is left to send, replies have `wait` to arrive; a reply that
/// arrives does not extend it, so the command ends on time.
fn deadline_if_idle(
    deadline: &mut Option<Instant>,
    pending: usize,
    stdin_open: bool,
    wait: Duration,
) {
    if pending == 0 && !stdin_open && deadline.is_none() {
        *deadline = Some(Instant::now() + wait);
    }
}

fn send_cmd(engine: &Engine, command: Command) -> Result<(), CliError> {
    engine
        .send(command)
        .map_err(|e| CliError::runtime(e.to_string()))
}

/// A channel that fires on Ctrl-C.
fn ctrl_c() -> Result<Receiver<()>, CliError> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    ctrlc::set_handler(move || {
        let _full = tx.try_send(());
    })
    .map_err(|e| CliError::runtime(format!("cannot catch Ctrl-C: {e}")))?;
    Ok(rx)
}

/// Lines of stdin, read on their own thread.
fn stdin_lines() -> Receiver<String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let interactive = std::io::stdin().is_terminal();
    let spawned = std::thread::Builder::new()
        .name("udpdesk-stdin".to_owned())
        .spawn(move || {
            if interactive {
                eprintln!("udpdesk: type a message and press Enter; Ctrl-D ends");
            }
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    if spawned.is_err() {
        eprintln!("udpdesk: cannot read stdin");
    }
    rx
}

/// Prints packets as lines of text or JSON.
struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    dump: bool,
    json: bool,
}

impl Printer {
    fn new(o: &Output) -> Printer {
        Printer {
            out: std::io::BufWriter::new(std::io::stdout()),
            dump: o.dump,
            json: o.json,
        }
    }

    fn packet(&mut self, p: &Packet) {
        // A closed stdout (`| head`) is not an error worth dying for; the server goes on.
        let _written = if self.json {
            match serde_json::to_string(&PacketRecord::from_packet(p)) {
                Ok(line) => writeln!(self.out, "{line}"),
                Err(e) => writeln!(self.out, "{{\"error\":\"{e}\"}}"),
            }
        } else {
            writeln!(self.out, "{}", packet_line(p)).and_then(|()| {
                if self.dump && !p.is_empty() {
                    writeln!(self.out, "{}", codec::hex_dump(&p.bytes))
                } else {
                    Ok(())
                }
            })
        };
        self.flush();
    }

    fn flush(&mut self) {
        let _flushed = self.out.flush();
    }
}

/// One packet as a line: time, direction, peer, size, text.
#[must_use]
pub fn packet_line(p: &Packet) -> String {
    let time: chrono::DateTime<chrono::Local> = p.time.into();
    let arrow = match p.direction {
        Direction::In => "from",
        Direction::Out => "to  ",
    };
    let cut = if p.truncated { " (truncated)" } else { "" };
    format!(
        "{}  {:<3} {arrow} {:<21} {:>5} B{cut}  {}",
        time.format("%H:%M:%S%.6f"),
        p.direction.label(),
        p.peer.to_string(),
        p.len(),
        codec::decode(&p.bytes, p.encoding)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_people_write_them() {
        for (s, ms) in [
            ("100ms", 100),
            ("1s", 1000),
            ("1.5s", 1500),
            ("2m", 120_000),
            ("250", 250),
        ] {
            assert_eq!(parse_duration(s).unwrap(), Duration::from_millis(ms), "{s}");
        }
        assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
