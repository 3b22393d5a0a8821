//! Reply rules: an ordered list a server answers from before its reply mode.
//! The first enabled rule whose pattern and peer match decides: it answers
//! (from a template or hex, after an optional delay) or drops the datagram.

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::codec::{Context, Encoding, Mode, Request, Scope, Template};

use super::matcher::{MatchKind, Matcher};
use super::reply::Incoming;

/// The longest delay a rule may ask for.
pub const MAX_RULE_DELAY: Duration = Duration::from_secs(3600);

/// How many rules a server takes.
pub const MAX_RULES: usize = 256;

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Send the rule's reply.
    #[default]
    Reply,
    /// Send nothing (and the reply mode is not asked either).
    Drop,
}

/// How the reply text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyFormat {
    /// A template in the server's encoding, with escapes and placeholders.
    #[default]
    Text,
    /// Hex bytes.
    Hex,
}

/// One rule as the user writes it (in the window, or a `[[rule]]` table of a
/// rules file). Unknown fields are ignored here, so settings saved by a newer
/// version still load; a rules file refuses them (see [`RulesFile::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rule {
    /// A label for the list; optional.
    pub name: String,
    /// A disabled rule is kept but never matches.
    pub enabled: bool,
    /// How `pattern` is read.
    #[serde(rename = "match")]
    pub kind: MatchKind,
    /// What to look for.
    pub pattern: String,
    /// Only datagrams from this peer: `IP`, `:PORT` or `IP:PORT`; empty for anyone.
    pub peer: String,
    /// Reply or drop.
    pub action: RuleAction,
    /// The answer (for `action = "reply"`).
    pub reply: String,
    /// How `reply` is read.
    pub format: ReplyFormat,
    /// Milliseconds to wait before answering.
    pub delay_ms: u64,
    /// How many times the rule fires; 0 for every time.
    pub times: u64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            name: String::new(),
            enabled: true,
            kind: MatchKind::Exact,
            pattern: String::new(),
            peer: String::new(),
            action: RuleAction::Reply,
            reply: String::new(),
            format: ReplyFormat::Text,
            delay_ms: 0,
            times: 0,
        }
    }
}

/// A rule that cannot be used, and which one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {}: {message}", .index + 1)]
pub struct RuleError {
    /// Its place in the list, from 0.
    pub index: usize,
    /// What is wrong, in one line.
    pub message: String,
}

/// Which peers a rule listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerMatch {
    Anyone,
    Ip(IpAddr),
    Port(u16),
    Exact(SocketAddr),
}

impl PeerMatch {
    fn parse(text: &str) -> Result<PeerMatch, String> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(PeerMatch::Anyone);
        }
        if let Ok(addr) = t.parse::<SocketAddr>() {
            return Ok(PeerMatch::Exact(addr));
        }
        if let Ok(ip) = t.trim_start_matches('[').trim_end_matches(']').parse() {
            return Ok(PeerMatch::Ip(ip));
        }
        if let Some(port) = t.strip_prefix(':')
            && let Ok(port) = port.parse()
        {
            return Ok(PeerMatch::Port(port));
        }
        Err(rust_i18n::t!("rule_error.bad_peer", peer = t).into_owned())
    }

    fn admits(self, peer: SocketAddr) -> bool {
        match self {
            PeerMatch::Anyone => true,
            PeerMatch::Ip(ip) => peer.ip() == ip || canonical(peer.ip()) == ip,
            PeerMatch::Port(p) => peer.port() == p,
            PeerMatch::Exact(a) => {
                peer == a || (canonical(peer.ip()) == a.ip() && peer.port() == a.port())
            }
        }
    }
}

/// An IPv4 peer seen on a dual-stack socket arrives as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Debug, Clone)]
enum Answer {
    Template(Template),
    Drop,
}

#[derive(Debug, Clone)]
struct Compiled {
    matcher: Matcher,
    peer: PeerMatch,
    answer: Answer,
    delay: Duration,
    /// Firings left, for a rule limited to a number of times.
    left: Option<u64>,
    /// The reply uses regex groups (`{0}`…`{9}`): only then are they found,
    /// which costs more than telling a match.
    groups: bool,
    fired: u64,
}

/// What the rules decided about one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No rule matched: the reply mode answers.
    NoMatch,
    /// A rule matched and sends nothing.
    Drop {
        /// Which rule, from 0.
        rule: usize,
    },
    /// A rule matched and answers.
    Reply {
        /// Which rule, from 0.
        rule: usize,
        /// The answer.
        bytes: Vec<u8>,
        /// How long to wait before sending it.
        delay: Duration,
    },
}

/// A server's rules, compiled once when they are set.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Enabled rules only, each with its index in the user's list.
    rules: Vec<(usize, Compiled)>,
    groups: Vec<Option<Range<usize>>>,
}

impl RuleSet {
    /// Compiles `rules` for a server speaking `encoding`.
    ///
    /// # Errors
    /// The first rule that cannot be used, with what is wrong.
    pub fn new(rules: &[Rule], encoding: Encoding) -> Result<RuleSet, RuleError> {
        if rules.len() > MAX_RULES {
            return Err(RuleError {
                index: MAX_RULES,
                message: rust_i18n::t!("rule_error.too_many", max = MAX_RULES).into_owned(),
            });
        }
        let mut compiled = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.enabled {
                let c = compile(rule, encoding).map_err(|message| RuleError { index, message })?;
                compiled.push((index, c));
            }
        }
        Ok(RuleSet {
            rules: compiled,
            groups: Vec::new(),
        })
    }

    /// True when there are no enabled rules.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Decides about one datagram, counting the firing against the rule's limit.
    pub fn decide(&mut self, msg: &Incoming<'_>) -> Verdict {
        let RuleSet { rules, groups } = self;
        for (index, rule) in rules.iter_mut() {
            if rule.left == Some(0) || !rule.peer.admits(msg.peer) {
                continue;
            }
            let hit = if rule.groups {
                rule.matcher.find(msg.bytes, groups)
            } else {
                groups.clear();
                rule.matcher.is_match(msg.bytes)
            };
            if !hit {
                continue;
            }
            if let Some(left) = &mut rule.left {
                *left -= 1;
            }
            rule.fired += 1;
            let rule_index = *index;
            return match &rule.answer {
                Answer::Drop => Verdict::Drop { rule: rule_index },
                Answer::Template(t) => {
                    let mut bytes = Vec::new();
                    t.fill(
                        &Context {
                            seq: msg.seq,
                            time: msg.time,
                            request: Some(Request {
                                bytes: msg.bytes,
                                peer: msg.peer,
                                captures: groups,
                            }),
                        },
                        &mut bytes,
                    );
                    Verdict::Reply {
                        rule: rule_index,
                        bytes,
                        delay: rule.delay,
                    }
                }
            };
        }
        Verdict::NoMatch
    }

    /// How often each rule has fired since the rules were set, by index in the user's list.
    #[must_use]
    pub fn fired(&self) -> Vec<(usize, u64)> {
        self.rules.iter().map(|(i, r)| (*i, r.fired)).collect()
    }
}

fn compile(rule: &Rule, encoding: Encoding) -> Result<Compiled, String> {
    let matcher = Matcher::new(rule.kind, &rule.pattern, encoding)?;
    let peer = PeerMatch::parse(&rule.peer)?;
    let mode = match rule.format {
        ReplyFormat::Text => Mode::Text,
        ReplyFormat::Hex => Mode::Hex,
    };
    let answer = match rule.action {
        RuleAction::Drop => Answer::Drop,
        RuleAction::Reply => Answer::Template(
            Template::compile(&rule.reply, mode, encoding, Scope::Reply)
                .map_err(|e| rust_i18n::t!("rule_error.reply", error = e).into_owned())?,
        ),
    };
    let delay = Duration::from_millis(rule.delay_ms);
    if delay > MAX_RULE_DELAY {
        return Err(rust_i18n::t!("rule_error.delay", ms = rule.delay_ms).into_owned());
    }
    Ok(Compiled {
        matcher,
        peer,
        answer,
        delay,
        left: (rule.times > 0).then_some(rule.times),
        groups: uses_groups(&rule.reply),
        fired: 0,
    })
}

/// True when a reply template names a regex group, `{0}` to `{9}`.
fn uses_groups(reply: &str) -> bool {
    reply
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'{' && w[1].is_ascii_digit() && w[2] == b'}')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::net::rules_file::RulesFile;
    use std::time::SystemTime;

    fn msg<'a>(bytes: &'a [u8], peer: &str) -> Incoming<'a> {
        Incoming {
            bytes,
            peer: peer.parse().unwrap(),
            time: SystemTime::now(),
            seq: 1,
        }
    }

    fn rule(kind: MatchKind, pattern: &str, reply: &str) -> Rule {
        Rule {
            kind,
            pattern: pattern.into(),
            reply: reply.into(),
            ..Rule::default()
        }
    }

    #[test]
    fn first_match_wins_and_no_match_falls_through() {
        let mut set = RuleSet::new(
            &[
                rule(MatchKind::Exact, "ping", "pong"),
                rule(MatchKind::Prefix, "p", "p-something"),
            ],
            Encoding::Utf8,
        )
        .unwrap();
        let got = set.decide(&msg(b"ping\n", "127.0.0.1:5"));
        assert!(matches!(got, Verdict::Reply { rule: 0, ref bytes, .. } if bytes == b"pong"));
        let got = set.decide(&msg(b"pear", "127.0.0.1:5"));
        assert!(matches!(got, Verdict::Reply { rule: 1, .. }));
        assert_eq!(set.decide(&msg(b"x", "127.0.0.1:5")), Verdict::NoMatch);
        assert_eq!(set.fired(), vec![(0, 1), (1, 1)]);
    }

    #[test]
    fn peers_times_drop_delay_and_disabled() {
        let mut only_5000 = rule(MatchKind::Any, "", "hi 5000");
        only_5000.peer = ":5000".into();
        let mut twice = rule(MatchKind::Exact, "x", "again");
        twice.times = 2;
        twice.delay_ms = 250;
        let mut off = rule(MatchKind::Any, "", "never");
        off.enabled = false;
        let mut drop = rule(MatchKind::Any, "", "");
        drop.action = RuleAction::Drop;
        let mut set = RuleSet::new(&[only_5000, twice, off, drop], Encoding::Utf8).unwrap();
        assert!(matches!(
            set.decide(&msg(b"x", "127.0.0.1:5000")),
            Verdict::Reply { rule: 0, .. }
        ));
        for _ in 0..2 {
            assert_eq!(
                set.decide(&msg(b"x", "127.0.0.1:6000")),
                Verdict::Reply {
                    rule: 1,
                    bytes: b"again".to_vec(),
                    delay: Duration::from_millis(250)
                }
            );
        }
        assert_eq!(
            set.decide(&msg(b"x", "127.0.0.1:6000")),
            Verdict::Drop { rule: 3 }
        );
        // A v4 peer seen through a dual-stack socket still matches its IP.
        let mut v4 = rule(MatchKind::Any, "", "v4");
        v4.peer = "127.0.0.1".into();
        let mut set = RuleSet::new(&[v4], Encoding::Utf8).unwrap();
        assert!(matches!(
            set.decide(&msg(b"x", "[::ffff:127.0.0.1]:9")),
            Verdict::Reply { .. }
        ));
    }

    #[test]
    fn hex_replies_and_bad_rules() {
        let mut hex = rule(MatchKind::Hex, "02 ?? 03", "06");
        hex.format = ReplyFormat::Hex;
        let mut set = RuleSet::new(&[hex], Encoding::Utf8).unwrap();
        assert!(
            matches!(set.decide(&msg(b"\x02A\x03", "127.0.0.1:1")), Verdict::Reply { ref bytes, .. } if bytes == &[6])
        );
        let mut bad_peer = rule(MatchKind::Any, "", "x");
        bad_peer.peer = "somewhere".into();
        let mut bad_hex = rule(MatchKind::Any, "", "zz");
        bad_hex.format = ReplyFormat::Hex;
        let mut slow = rule(MatchKind::Any, "", "x");
        slow.delay_ms = 3_600_001;
        for (i, (r, needle)) in [
            (rule(MatchKind::Regex, "(", "x"), "regular expression"),
            (rule(MatchKind::Any, "", "{nope}"), "unknown placeholder"),
            (bad_peer, "is not IP"),
            (bad_hex, "reply"),
            (slow, "hour"),
        ]
        .into_iter()
        .enumerate()
        {
            let ok = rule(MatchKind::Any, "", "fine");
            let err = RuleSet::new(&[ok, r], Encoding::Utf8).unwrap_err();
            assert_eq!(err.index, 1, "case {i}");
            assert!(err.to_string().starts_with("rule 2: "), "{err}");
            assert!(err.message.contains(needle), "case {i}: {err}");
        }
    }

    #[test]
    fn rules_files_read_and_say_where_they_are_wrong() {
        let text = r#"
[[rule]]
name = "ping"
match = "exact"
pattern = "ping"
reply = "pong"

[[rule]]
match = "regex"
pattern = '^GET (\w+)$'
reply = "value of {text}"
delay_ms = 20
times = 1

[[rule]]
match = "hex"
pattern = "02 ?? 03"
format = "hex"
reply = "06"

[[rule]]
match = "any"
action = "drop"
"#;
        let file = RulesFile::parse(text).unwrap();
        assert_eq!(file.rules.len(), 4);
        assert_eq!(file.rules[1].kind, MatchKind::Regex);
        assert_eq!(file.rules[3].action, RuleAction::Drop);
        assert!(file.rules[3].enabled);
        RuleSet::new(&file.rules, Encoding::Utf8).unwrap();
        let again = RulesFile::parse(&file.to_text().unwrap()).unwrap();
        assert_eq!(again, file);

        let err = RulesFile::parse("[[rule]]\nmatch = \"exact\"\nreplay = \"x\"\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(err.contains("replay"), "{err}");
        let err = RulesFile::parse("[[rule]]\n\nmatch = \"fuzzy\"\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
