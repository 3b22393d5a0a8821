//! A running `udpdesk serve` for tests of the binary, its stderr lines on a
//! channel so a test can wait for the one it needs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Output, Stdio};

use crossbeam_channel::Receiver;

use crate::process::{DEADLINE, udpdesk, wait_exit};

/// A running `udpdesk serve`, with its stderr lines on a channel.
pub struct Server {
    pub child: Child,
    pub stderr: Receiver<String>,
    pub addr: SocketAddr,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut child = udpdesk()
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = stderr_lines(&mut child);
        let line = wait_line(&rx, "listening on");
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|a| a.parse().ok())
            .expect("an address in the banner");
        Server {
            child,
            stderr: rx,
            addr,
        }
    }

    /// Ctrl-C, as a person stops it.
    pub fn interrupt(&self) {
        crate::process::interrupt(&self.child);
    }

    pub fn finish(self) -> (Output, Vec<String>) {
        let out = wait_exit(self.child);
        // The reader thread ends at the pipe's end: take every line up to there.
        let mut rest = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(DEADLINE) {
            rest.push(line);
        }
        (out, rest)
    }
}

pub fn wait_line(rx: &Receiver<String>, needle: &str) -> String {
    loop {
        let line = rx
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("no line with {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

/// The child's stderr, line by line, on a channel (read on a thread of its own).
pub fn stderr_lines(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
