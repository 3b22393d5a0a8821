//! The udpdesk binary: no subcommand opens the window; `serve` and `send` run headless.

use std::process::ExitCode;

use clap::Parser;
use udpdesk::cli::{self, Cli};

fn main() -> ExitCode {
    let args = Cli::parse();
    match args.command {
        Some(command) => match cli::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("udpdesk: {}", e.message);
                ExitCode::from(e.status)
            }
        },
        None => {
            eprintln!(
                "udpdesk: the window is not built yet; use `udpdesk serve` or `udpdesk send` (see --help)"
            );
            ExitCode::from(2)
        }
    }
}
