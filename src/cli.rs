//! The command line: `serve` and `send` run headless on the same engine as the
//! window, `bench` loads a server with datagrams; no subcommand, or `window`,
//! opens the window.

mod bench;
mod capture;
mod print;
mod relay;
mod replay;
mod run;
mod send;
mod serve;

use std::io::{BufRead, IsTerminal};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use crossbeam_channel::Receiver;

use crate::codec::Encoding;
use crate::net::{Command, Engine, ReplyMode};
use crate::packet::EndpointId;

pub use print::packet_line;

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
    /// Load a server with numbered datagrams and report rate, loss and round-trip times.
    Bench(BenchArgs),
    /// Send the datagrams of a capture again, with their timing, and print the replies.
    Replay(ReplayArgs),
    /// Relay datagrams between clients and one server, dropping, delaying or
    /// duplicating some on the way, and print both legs.
    Relay(RelayArgs),
    /// Run a project file: start its servers, relays and clients, run its
    /// sequences, and exit 0 only if every expected reply came.
    Run(RunArgs),
    /// Open the window, with a server already running when --serve is given.
    Window(WindowArgs),
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
    /// Print only errors and the summary, no packets.
    #[arg(long, short = 'Q', conflicts_with_all = ["dump", "json"])]
    pub quiet: bool,
    /// Print each packet's whole text; by default a line stops at 256 characters.
    #[arg(long)]
    pub full: bool,
    /// Check the checksum every received datagram carries at its end and mark
    /// those that fail: ALG[:be|le|hex][@from=N][@gap=N][@trailer=N], ALG one of
    /// crc16_modbus, crc16_ccitt, crc32, sum8, xor8 (NMEA: xor8:hex@from=1@gap=1@trailer=2).
    #[arg(long, value_name = "SPEC")]
    pub verify: Option<crate::codec::Verify>,
}

/// How a server answers, shared by `serve` and `window --serve`.
#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// echo, upper, none, manual (type replies on stdin), fixed:TEXT or template:TEXT
    /// ({text} {upper} {hex} {peer} {len} {seq} {seq:u16be} {time} {unix_ms} {random:N} {uuid};
    /// checksums {crc16_modbus} {crc16_ccitt} {crc32} {sum8} {xor8}, with :be :le or :hex,
    /// over the bytes from {begin} to {end}; {{ and }} for braces).
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
    /// Automatic replies a second to any one peer; 0 for no limit. A spoofed
    /// source cannot then turn the server into a flood.
    #[arg(long, value_name = "N", default_value_t = crate::net::ReplyLimit::default().per_peer)]
    pub reply_limit: u32,
    /// Automatic replies a second to all peers together; 0 for no limit.
    #[arg(long, value_name = "N", default_value_t = crate::net::ReplyLimit::default().total)]
    pub reply_limit_total: u32,
    /// Answer from the reply rules in this TOML file first (see the README);
    /// a datagram no rule matches gets the --reply answer.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<std::path::PathBuf>,
}

/// `udpdesk window`.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Start a server on this address and port as the window opens.
    #[arg(long, value_name = "ADDR:PORT")]
    pub serve: Option<String>,
    /// How that server answers.
    #[command(flatten)]
    pub server: ReplyArgs,
    /// Capture every packet to this file from the start (the extension picks
    /// the format: .pcapng, .pcap, .jsonl, .csv or .txt).
    #[arg(long, value_name = "FILE")]
    pub capture: Option<std::path::PathBuf>,
    /// Open this capture (pcapng, pcap, .jsonl or .csv) in the table.
    #[arg(long, value_name = "FILE")]
    pub open: Option<std::path::PathBuf>,
}

/// `udpdesk serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on; 0.0.0.0 or :: for every interface, port 0 for any free port.
    #[arg(long, short, default_value = "127.0.0.1:9999")]
    pub bind: String,
    /// How it answers.
    #[command(flatten)]
    pub server: ReplyArgs,
    /// Join this multicast group.
    #[arg(long)]
    pub multicast: Option<std::net::IpAddr>,
    /// The receive buffer to ask the kernel for, in bytes (a flood that
    /// outruns the reader is dropped by the kernel once it is full; Linux caps
    /// the request at net.core.rmem_max).
    #[arg(long, value_name = "BYTES", default_value_t = crate::net::DEFAULT_RECV_BUFFER)]
    pub recv_buffer: usize,
    /// The IPv4 interface address to join the group on (default: the kernel's choice).
    #[arg(long, requires = "multicast")]
    pub multicast_if: Option<Ipv4Addr>,
    /// Stream every packet, both directions, to this file as it happens; the
    /// extension picks the format: .pcapng, .pcap, .jsonl, .csv or .txt.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<std::path::PathBuf>,
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
    /// Each MESSAGE is a template: {seq} (or {seq:u16be}…), {time},
    /// {unix_ms}, {random:N}, {uuid} and checksums ({crc16_modbus}, {crc32},
    /// {sum8}, {xor8}…) are filled in for every datagram; {{ is a brace.
    #[arg(long)]
    pub vars: bool,
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
    /// Stop waiting once this many replies have arrived.
    #[arg(long, short)]
    pub replies: Option<u64>,
    /// Hop limit for multicast targets (0 keeps them on this machine).
    #[arg(long, default_value_t = 1)]
    pub ttl: u32,
    /// The IPv4 interface address to send multicast from.
    #[arg(long)]
    pub multicast_if: Option<Ipv4Addr>,
    /// Run the sequence in this TOML file (steps: send, sendhex, pause,
    /// expect) instead of sending MESSAGEs; the exit status is 1 if an expect
    /// step saw no matching reply in time.
    #[arg(long, value_name = "FILE", conflicts_with = "messages")]
    pub sequence: Option<std::path::PathBuf>,
    /// Stream every packet, both directions, to this file as it happens; the
    /// extension picks the format: .pcapng, .pcap, .jsonl, .csv or .txt.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<std::path::PathBuf>,
    /// Printing options.
    #[command(flatten)]
    pub output: Output,
}

/// `udpdesk relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where clients send: ADDR:PORT (0.0.0.0 or :: for every interface).
    #[arg(long, short, default_value = "127.0.0.1:7000")]
    pub listen: String,
    /// The server: HOST:PORT, IP:PORT or [IPv6]:PORT.
    #[arg(long)]
    pub to: String,
    /// A client's upstream socket closes after this long without traffic, such as 60s or 5m.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// How the packets' text is shown.
    #[arg(long, short, default_value = "utf-8")]
    pub encoding: Encoding,
    /// Drop datagrams holding this text (escapes such as \x00 work); repeatable.
    #[arg(long, value_name = "TEXT")]
    pub drop: Vec<String>,
    /// Hold every datagram --drop does not take this long, such as 200ms.
    #[arg(long, value_parser = parse_duration, conflicts_with = "duplicate")]
    pub delay: Option<Duration>,
    /// Send every datagram --drop does not take N more times.
    #[arg(long, value_name = "N")]
    pub duplicate: Option<u32>,
    /// Which way --drop, --delay and --duplicate act: server, client or both.
    #[arg(long, default_value = "server")]
    pub way: crate::net::Toward,
    /// The receive buffer to ask the kernel for, in bytes, for each socket.
    #[arg(long, value_name = "BYTES", default_value_t = crate::net::DEFAULT_RECV_BUFFER)]
    pub recv_buffer: usize,
    /// Stream every packet of both legs to this file as it happens; the
    /// extension picks the format: .pcapng, .pcap, .jsonl, .csv or .txt.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<std::path::PathBuf>,
    /// Printing options.
    #[command(flatten)]
    pub output: Output,
}

/// `udpdesk replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The capture: pcapng or pcap (from udpdesk, tcpdump or Wireshark), or a udpdesk .jsonl or .csv log.
    pub file: std::path::PathBuf,
    /// Where to send: HOST:PORT, IP:PORT or [IPv6]:PORT.
    #[arg(long)]
    pub to: String,
    /// Go this many times the captured pace (0.1 to 100; 2 is twice as fast).
    #[arg(long, conflicts_with = "fast")]
    pub speed: Option<f64>,
    /// Send back to back, ignoring the captured timing.
    #[arg(long)]
    pub fast: bool,
    /// Replay only the packets this passes, such as 'udp.dstport == 5000 && dir == in'
    /// (fields udp.port, udp.srcport, udp.dstport, ip.addr, ip.src, ip.dst, len, dir).
    #[arg(long)]
    pub filter: Option<String>,
    /// Local address to send from (default: any free port).
    #[arg(long, short)]
    pub bind: Option<String>,
    /// How replies are decoded.
    #[arg(long, short, default_value = "utf-8")]
    pub encoding: Encoding,
    /// How long to wait for replies after the last datagram.
    #[arg(long, short, default_value = "1s", value_parser = parse_duration)]
    pub wait: Duration,
    /// Printing options.
    #[command(flatten)]
    pub output: Output,
}

/// `udpdesk run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The project file (TOML), as the window's File → Save project writes it.
    pub project: std::path::PathBuf,
    /// Stream every packet to this file instead of the project's own capture
    /// file; the extension picks the format: .pcapng, .pcap, .jsonl, .csv or .txt.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<std::path::PathBuf>,
    /// End the run after this long (such as 30s); sequences still running
    /// then count as failed. Without sequences, serve this long.
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Printing options.
    #[command(flatten)]
    pub output: Output,
}

/// `udpdesk bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Where to send: HOST:PORT, IP:PORT or [IPv6]:PORT.
    pub target: String,
    /// Datagrams per second across all sockets; 0 sends as fast as possible.
    #[arg(long, short, default_value_t = 0, conflicts_with = "closed")]
    pub rate: u64,
    /// Payload bytes per datagram, at least 24 (the header that numbers each one).
    #[arg(long, short, default_value_t = 64)]
    pub size: usize,
    /// How long to send, such as 10s or 500ms.
    #[arg(long, short, default_value = "10s", value_parser = parse_duration, conflicts_with = "count")]
    pub duration: Duration,
    /// Send this many datagrams in all (round trips with --closed) instead of for a duration.
    #[arg(long, short)]
    pub count: Option<u64>,
    /// Sockets to send from, each on its own ephemeral port and receiving its own replies.
    #[arg(long, default_value_t = 1)]
    pub sockets: u32,
    /// Closed loop: one datagram out per socket at a time; reports round-trip times.
    #[arg(long)]
    pub closed: bool,
    /// With --closed, how long a reply may take before the datagram counts as lost.
    #[arg(long, short, default_value = "1s", value_parser = parse_duration, requires = "closed")]
    pub timeout: Duration,
    /// How long to wait for replies after the last datagram (ends sooner once all are in).
    #[arg(long, short, default_value = "1s", value_parser = parse_duration, conflicts_with = "closed")]
    pub wait: Duration,
    /// Print the summary as one JSON object instead of a line of text.
    #[arg(long)]
    pub json: bool,
    /// Capture what is sent (whole) and the replies (their first 64 bytes) to
    /// this file; the extension picks the format.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<std::path::PathBuf>,
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
    pub(crate) fn input(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            status: 2,
        }
    }

    pub(crate) fn runtime(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            status: 1,
        }
    }
}

/// A message on one line: line breaks and other control characters (which
/// come from what a person typed or a file held) are written as escapes, so
/// "one line per error" stays true whatever the input.
#[must_use]
pub fn one_line(message: &str) -> std::borrow::Cow<'_, str> {
    if !message.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
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
    if !(0.0..=MAX_DURATION_SECS).contains(&secs) {
        return Err(format!("\"{s}\" is out of range: at most one day"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("\"{s}\" is out of range"))
}

/// The longest duration the command line takes: a day.
const MAX_DURATION_SECS: f64 = 86_400.0;

const SERVER: EndpointId = EndpointId(1);
const CLIENT: EndpointId = EndpointId(2);

/// Runs a headless command.
///
/// # Errors
/// Bad input or a failure that ends the command.
pub fn run(command: CliCommand) -> Result<(), CliError> {
    match command {
        CliCommand::Serve(args) => serve::serve(&args),
        CliCommand::Send(args) => send::send(&args),
        CliCommand::Bench(args) => bench::bench(&args),
        CliCommand::Replay(args) => replay::replay(&args),
        CliCommand::Relay(args) => relay::relay(&args),
        CliCommand::Run(args) => run::run(&args),
        CliCommand::Window(_) => Err(CliError::runtime(
            "the window is opened by the binary, not by cli::run",
        )),
    }
}

/// The server `udpdesk window --serve` asks for, if any.
///
/// # Errors
/// A bad address.
pub fn window_server(args: &WindowArgs) -> Result<Option<crate::net::ServerConfig>, CliError> {
    args.serve
        .as_deref()
        .map(|bind| {
            let bind = crate::net::parse_bind(bind).map_err(|e| CliError::input(e.to_string()))?;
            serve::server_config(bind, &args.server)
        })
        .transpose()
}

/// A target's address for a command that needs one before it starts
/// (`bench`, `relay`): an IPv4 one when a name has both. The name is looked
/// up here, on the command's own thread, after `parse_target` has refused
/// what is no address or name.
pub(super) fn resolve_target(input: &str) -> Result<SocketAddr, CliError> {
    let input = input.trim();
    crate::net::parse_target(input).map_err(|e| CliError::input(e.to_string()))?;
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(input)
        .map_err(|e| CliError::input(format!("cannot resolve \"{input}\": {e}")))?
        .collect();
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| CliError::input(format!("\"{input}\" has no addresses")))?;
    if addr.port() == 0 {
        return Err(CliError::input(format!(
            "\"{input}\": port 0 cannot be sent to; give the server's port"
        )));
    }
    Ok(addr)
}

pub(super) fn spawn_engine() -> Result<Engine, CliError> {
    Engine::spawn(|| {}).map_err(|e| CliError::runtime(e.to_string()))
}

pub(super) fn send_cmd(engine: &Engine, command: Command) -> Result<(), CliError> {
    engine
        .send(command)
        .map_err(|e| CliError::runtime(e.to_string()))
}

/// The events the engine still has for endpoint `id`, up to and including its
/// `Stopped` (after a `Close`), for at most a second: everything it saw is
/// printed and counted before a summary.
pub(super) fn until_stopped(
    engine: &Engine,
    id: EndpointId,
) -> impl Iterator<Item = crate::net::Event> + '_ {
    let until = std::time::Instant::now() + Duration::from_secs(1);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        let event = engine.events().recv_timeout(left).ok()?;
        done = matches!(&event, crate::net::Event::Stopped { id: i, .. } if *i == id);
        Some(event)
    })
}

/// A channel that fires on Ctrl-C.
pub(super) fn ctrl_c() -> Result<Receiver<()>, CliError> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    ctrlc::set_handler(move || {
        let _full = tx.try_send(());
    })
    .map_err(|e| CliError::runtime(format!("cannot catch Ctrl-C: {e}")))?;
    Ok(rx)
}

/// Lines of stdin, read on their own thread.
pub(super) fn stdin_lines() -> Receiver<String> {
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
        assert!(parse_duration("9999999999999999999s").is_err());
        assert!(parse_duration("25h").is_err());
        assert_eq!(
            parse_duration("1440m").unwrap(),
            Duration::from_secs(86_400)
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
