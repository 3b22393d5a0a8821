//! How a run ends: the summary of every endpoint and sequence, and the
//! exit status it earns.

use super::super::super::CliError;
use super::{End, Ep, Outcome, RunState};

impl RunState {
    /// Prints each endpoint's counters and the sequences' tally.
    pub(in crate::cli::run) fn summary(&self, end: &End) {
        let reason = match end {
            End::Done => "done",
            End::Interrupted => "interrupted",
            End::TimedOut => "--timeout reached",
            End::Setup(_) => "an endpoint could not start",
        };
        eprintln!("udpdesk: run ended ({reason})");
        for ep in &self.endpoints {
            let at = ep.local.map(|l| format!(" on {l}")).unwrap_or_default();
            let relayed = ep.relayed.map(|r| format!("; {r}")).unwrap_or_default();
            eprintln!("udpdesk: {}{at}: {}{relayed}", ep.called(), ep.counters);
        }
        if let Some(checked) = self.out.verify_summary() {
            eprintln!("udpdesk: {checked}");
        }
        if !self.sequences.is_empty() && !matches!(end, End::Setup(_)) {
            let met = self
                .sequences
                .iter()
                .filter(|s| {
                    matches!(s.outcome, Outcome::Met { .. })
                        || (s.loops && matches!(s.outcome, Outcome::Running))
                })
                .count();
            eprintln!(
                "udpdesk: {met} of {} sequences met every expected reply",
                self.sequences.len()
            );
        }
    }

    /// The run's answer: success when every sequence met every expected reply.
    ///
    /// # Errors
    /// Status 2 when an endpoint could not start, 1 when a sequence failed or
    /// did not finish, or the capture asked for failed.
    pub(in crate::cli::run) fn verdict(
        &self,
        end: &End,
        captured: Option<&crate::capture::CaptureSummary>,
    ) -> Result<(), CliError> {
        if let End::Setup(failure) = end {
            return Err(CliError::input(failure.clone()));
        }
        let mut failed = self.sequences.iter().filter_map(|s| {
            let why = match &s.outcome {
                Outcome::Met { .. } => return None,
                Outcome::Running if s.loops => return None,
                Outcome::Missed(why) => why.as_str(),
                Outcome::Running => "still running when the run ended",
                Outcome::Waiting => "never started",
            };
            let client = self
                .endpoints
                .get(s.client)
                .map(Ep::called)
                .unwrap_or_default();
            Some(format!("sequence \"{}\" ({client}): {why}", s.name))
        });
        let Some(first) = failed.next() else {
            // A CI job that asked for the capture must not pass without it.
            let failed = captured.and_then(|c| c.error.as_ref());
            if self.capture_ended || failed.is_some() {
                return Err(CliError::runtime(format!(
                    "the capture failed, so the run is not recorded: {}",
                    failed.map_or("it ended early (said above)", String::as_str)
                )));
            }
            return Ok(());
        };
        let more = failed.count();
        Err(CliError::runtime(if more == 0 {
            first
        } else {
            format!("{first}; and {more} more failed")
        }))
    }
}
