//! The udpdesk binary: no subcommand (or `window`) opens the window; `serve`,
//! `send`, `relay` and `bench` run headless.

use std::process::ExitCode;

use clap::Parser as _;
use udpdesk::app::{TITLE, UdpDeskApp};
use udpdesk::cli::{self, Cli, CliCommand};
use udpdesk::net::ServerConfig;

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return usage_error(&e),
    };
    let (capture, open) = match &args.command {
        Some(CliCommand::Window(w)) => (w.capture.clone(), w.open.clone()),
        _ => (None, None),
    };
    let serve = match &args.command {
        Some(CliCommand::Window(w)) => match cli::window_server(w) {
            Ok(serve) => Some(serve),
            Err(e) => {
                eprintln!(
                    "udpdesk: {} (see udpdesk window --help)",
                    cli::one_line(&e.message)
                );
                return ExitCode::from(e.status);
            }
        },
        _ => None,
    };
    match args.command {
        None | Some(CliCommand::Window(_)) => match run_window(serve.flatten(), capture, open) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("udpdesk: cannot open the window: {e}");
                eprintln!(
                    "udpdesk: without a display, use `udpdesk serve` or `udpdesk send` (see --help)"
                );
                ExitCode::from(1)
            }
        },
        Some(command) => match cli::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("udpdesk: {}", cli::one_line(&e.message));
                ExitCode::from(e.status)
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

fn run_window(
    serve: Option<ServerConfig>,
    capture: Option<std::path::PathBuf>,
    open: Option<std::path::PathBuf>,
) -> Result<(), eframe::Error> {
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
        renderer: renderer(),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "udpdesk",
        options,
        Box::new(move |cc| {
            let mut app = UdpDeskApp::serving(cc, serve.as_ref());
            if let Some(path) = capture {
                app.start_capture_to(path);
            }
            if let Some(path) = open {
                app.open_capture_from(path);
            }
            Ok(Box::new(app))
        }),
    )
}

/// The renderer: OpenGL through glow, unless `UDPDESK_RENDERER=wgpu` asks for
/// wgpu. On llvmpipe (VMs, remote desktops) glow drew the same mouse motion
/// over the window for a third to a half of wgpu's CPU time.
fn renderer() -> eframe::Renderer {
    match std::env::var("UDPDESK_RENDERER").as_deref() {
        Ok("wgpu") => eframe::Renderer::Wgpu,
        _ => eframe::Renderer::Glow,
    }
}
