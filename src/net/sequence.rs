//! Sequences: a named list of steps a client carries out in order (send a
//! message, pause, or wait for a reply matching a pattern within a timeout),
//! once, N times or in a loop. The user's form of a sequence, and the state
//! the network thread keeps while one runs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rust_i18n::t;
use serde::{Deserialize, Serialize};

use crate::codec::{self, Encoding};

use super::matcher::{MatchKind, Matcher};

/// The longest pause or timeout a step may have: a day.
pub const MAX_STEP_WAIT: Duration = Duration::from_secs(86_400);
/// Steps a sequence may have.
pub const MAX_STEPS: usize = 1024;

/// What kind of step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Send `text` as text with escapes, in the client's encoding.
    #[default]
    Send,
    /// Send `text` as hex bytes.
    SendHex,
    /// Wait `ms` milliseconds.
    Pause,
    /// Wait up to `ms` for a datagram from the target that matches `text` (as `matching` says).
    Expect,
}

impl StepKind {
    /// Every kind, in menu order.
    pub const ALL: [StepKind; 4] = [
        StepKind::Send,
        StepKind::SendHex,
        StepKind::Pause,
        StepKind::Expect,
    ];

    /// Its name in files and menus.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Send => "send",
            StepKind::SendHex => "sendhex",
            StepKind::Pause => "pause",
            StepKind::Expect => "expect",
        }
    }
}

/// One step as the user writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// The message (send), or the pattern (expect).
    pub text: String,
    /// How an expect step's pattern is read.
    pub matching: MatchKind,
    /// The pause, or an expect step's timeout, in milliseconds.
    pub ms: u64,
}

/// A named list of steps, as saved and as a `--sequence` file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sequence {
    /// Its name in lists.
    pub name: String,
    /// The client that runs it, by name, in a project and in the window;
    /// empty for the client shown (the first client in a project). The
    /// engine does not read it: [`Command::RunSequence`](super::Command)
    /// names the client.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client: String,
    /// How many times the whole list runs; 0 loops until stopped.
    pub repeat: u64,
    /// The steps, in order.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

impl Default for Sequence {
    fn default() -> Self {
        Sequence {
            name: "sequence".to_owned(),
            client: String::new(),
            repeat: 1,
            steps: Vec::new(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceEnd {
    /// Every round ran, and every expect step was met.
    Completed,
    /// An expect step saw no matching reply in time; the run stops there.
    TimedOut {
        /// The round, from 1.
        round: u64,
        /// The step, from 1.
        step: usize,
    },
    /// Stopped by the owner, or replaced by another send.
    Stopped,
    /// A send failed (the error was reported before).
    Failed,
}

/// A step made ready to run.
#[derive(Debug, Clone)]
pub(super) enum Ready {
    Send(Vec<u8>),
    /// A message made afresh for each send (`{seq}`, `{time}`, checksums…).
    Fill(Box<crate::codec::Template>),
    Pause(Duration),
    Expect(Box<Matcher>, Duration),
}

impl Sequence {
    /// Reads a `--sequence` file (TOML: `name`, `repeat` and `[[step]]` tables).
    ///
    /// # Errors
    /// The line of the first mistake.
    pub fn parse(text: &str) -> Result<Sequence, String> {
        super::rules_file::parse_strict(
            text,
            "a sequence has name, repeat and [[step]] tables; a step has kind, text, matching and ms",
        )
    }

    /// Checks every step, with messages in `encoding`, as a run would.
    ///
    /// # Errors
    /// The first bad step: `step 3: …`.
    pub fn check(&self, encoding: Encoding) -> Result<(), String> {
        self.compile(encoding).map(|_| ())
    }

    /// Checks every step and makes it ready, with messages in `encoding`.
    ///
    /// # Errors
    /// The first bad step: `step 3: …`.
    pub(super) fn compile(&self, encoding: Encoding) -> Result<Vec<Ready>, String> {
        if self.steps.is_empty() {
            return Err(t!("sequence_error.no_steps").into_owned());
        }
        if !self.steps.iter().any(|s| s.kind != StepKind::Pause) {
            return Err(t!("sequence_error.only_pauses").into_owned());
        }
        if self.steps.len() > MAX_STEPS {
            return Err(t!("sequence_error.too_many", max = MAX_STEPS).into_owned());
        }
        if !self
            .steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::Pause | StepKind::Expect) && s.ms > 0)
            && self.repeat == 0
        {
            return Err(t!("sequence_error.loop_floods").into_owned());
        }
        self.steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.compile(encoding)
                    .map_err(|e| t!("sequence_error.step", step = i + 1, error = e).into_owned())
            })
            .collect()
    }
}

impl Step {
    fn compile(&self, encoding: Encoding) -> Result<Ready, String> {
        let wait = Duration::from_millis(self.ms);
        if wait > MAX_STEP_WAIT {
            return Err(t!("sequence_error.too_long", ms = self.ms).into_owned());
        }
        Ok(match self.kind {
            StepKind::Send | StepKind::SendHex => {
                let mode = if self.kind == StepKind::Send {
                    codec::Mode::Text
                } else {
                    codec::Mode::Hex
                };
                let template =
                    codec::Template::compile(&self.text, mode, encoding, codec::Scope::Send)
                        .map_err(|e| e.to_string())?;
                if template.is_constant() {
                    Ready::Send(super::client::sample_fill(&template))
                } else {
                    Ready::Fill(Box::new(template))
                }
            }
            StepKind::Pause => Ready::Pause(wait),
            StepKind::Expect => {
                if wait.is_zero() {
                    return Err(t!("sequence_error.no_timeout").into_owned());
                }
                Ready::Expect(
                    Box::new(Matcher::new(self.matching, &self.text, encoding)?),
                    wait,
                )
            }
        })
    }
}

/// A sequence being carried out by a client.
pub(super) struct Running {
    pub target: SocketAddr,
    pub steps: Vec<Ready>,
    pub repeat: u64,
    /// The step to do next (or being waited on).
    pub index: usize,
    /// Rounds finished.
    pub rounds: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// When the next step may go (after a pause).
    pub next_at: Instant,
    /// While an expect step waits: its deadline.
    pub deadline: Option<Instant>,
    /// A matching reply arrived for the step waited on.
    pub met: bool,
    /// When progress was last told.
    pub told: Option<Instant>,
}

impl Running {
    /// When the engine must look at this run again, if it waits on time.
    pub fn wake_at(&self) -> Option<Instant> {
        self.deadline.or(Some(self.next_at))
    }

    /// A datagram from `peer` arrived on the client: meets an expect step that matches.
    pub fn heard(&mut self, peer: SocketAddr, bytes: &[u8]) {
        if self.deadline.is_some()
            && peer == self.target
            && let Some(Ready::Expect(m, _)) = self.steps.get(self.index)
            && m.is_match(bytes)
        {
            self.met = true;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_read_and_bad_steps_are_named() {
        let text = r#"
name = "ping twice"
repeat = 2

[[step]]
text = "ping\r\n"

[[step]]
kind = "expect"
text = "pong"
matching = "prefix"
ms = 500

[[step]]
kind = "pause"
ms = 100

[[step]]
kind = "sendhex"
text = "01 02"
"#;
        let s = Sequence::parse(text).unwrap();
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[1].matching, MatchKind::Prefix);
        assert_eq!(s.steps[2].ms, 100);
        assert_eq!(s.compile(Encoding::Utf8).unwrap().len(), 4);

        let mut bad = s.clone();
        bad.steps[1].ms = 0;
        let e = bad.compile(Encoding::Utf8).unwrap_err();
        assert!(e.starts_with("step 2: "), "{e}");
        bad.steps[1].ms = 10;
        bad.steps[3].text = "zz".into();
        assert!(
            bad.compile(Encoding::Utf8)
                .unwrap_err()
                .starts_with("step 4: ")
        );
        let flood = Sequence {
            repeat: 0,
            steps: vec![Step::default()],
            ..Sequence::default()
        };
        assert!(
            flood
                .compile(Encoding::Utf8)
                .unwrap_err()
                .contains("floods")
        );
        assert!(
            Sequence::parse("repeat = \"x\"")
                .unwrap_err()
                .starts_with("line 1:")
        );
        let e = Sequence::parse("[[step]]\nmsg = \"hi\"\n").unwrap_err();
        assert!(e.starts_with("line 2: unknown field `msg`"), "{e}");
    }
}
