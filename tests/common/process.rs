//! Running the udpdesk binary from a test: every wait has a deadline.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read as _;
use std::process::{Child, Command, Output};
use std::time::Duration;

/// How long a process may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The binary under test.
pub fn udpdesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_udpdesk"))
}

/// Ctrl-C, as a person stops a command: SIGINT to the child.
pub fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for a child with a deadline, killing it if it hangs.
pub fn wait_exit(mut child: Child) -> Output {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let id = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    std::thread::spawn(move || {
        let err_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut s) = stderr {
                s.read_to_end(&mut text).ok();
            }
            text
        });
        let mut text = Vec::new();
        if let Some(mut s) = stdout {
            s.read_to_end(&mut text).ok();
        }
        let status = child.wait();
        let err = err_reader.join().unwrap_or_default();
        tx.send((status, text, err)).ok();
    });
    match rx.recv_timeout(DEADLINE) {
        Ok((status, stdout, stderr)) => Output {
            status: status.unwrap(),
            stdout,
            stderr,
        },
        Err(_) => {
            Command::new("kill").arg(id.to_string()).status().ok();
            panic!("the process did not exit in time");
        }
    }
}

/// Output as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
