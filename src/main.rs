//! The udpdesk binary: no subcommand opens the window; `serve`, `send` and `bench` run headless.

use std::process::ExitCode;

use clap::Parser as _;
use udpdesk::app::{TITLE, UdpDeskApp};
use udpdesk::cli::{self, Cli};

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return usage_error(&e),
    };
    match args.command {
        Some(command) => match cli::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("udpdesk: {}", e.message);
                ExitCode::from(e.status)
            }
        },
        None => match run_window() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("udpdesk: cannot open the window: {e}");
                eprintln!(
                    "udpdesk: without a display, use `udpdesk serve` or `udpdesk send` (see --help)"
                );
                ExitCode::from(1)
            }
        },
    }
}

/// Help and version print as clap writes them; a usage error prints one line.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _printed = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("bad arguments");
    let mut reason = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    // "required arguments were not provided:" lists them on the lines below.
    let named: Vec<&str> = lines
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    if !named.is_empty() {
        reason = format!("{} {}", reason.trim_end(), named.join(", "));
    }
    eprintln!("udpdesk: {reason} (see udpdesk --help)");
    ExitCode::from(2)
}

fn run_window() -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(TITLE)
        .with_app_id("udpdesk")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([900.0, 600.0]);
    match eframe::icon_data::from_png_bytes(include_bytes!("../assets/icon.png")) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(e) => eprintln!("udpdesk: the window icon is unreadable ({e}); going on without it"),
    }
    let options = eframe::NativeOptions {
        viewport,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "udpdesk",
        options,
        Box::new(|cc| Ok(Box::new(UdpDeskApp::new(cc)))),
    )
}
