//! Reply rules over real loopback sockets: first match wins, regex groups,
//! hex patterns, peers, drop, delay (checked against packet timestamps),
//! limited firings, live replacement, and a bad list that keeps the old one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{ask, incoming, peer, start_server, wait_failure, wait_packets};
use udpdesk::codec::{self, Encoding};
use udpdesk::net::{
    Command, Engine, MatchKind, ReplyFormat, ReplyMode, Rule, RuleAction, RulesFile, ServerConfig,
};
use udpdesk::packet::{Direction, EndpointId};

fn engine() -> Engine {
    Engine::spawn(|| {}).unwrap()
}

fn rule(kind: MatchKind, pattern: &str, reply: &str) -> Rule {
    Rule {
        kind,
        pattern: pattern.into(),
        reply: reply.into(),
        ..Rule::default()
    }
}

fn server_with(rules: Vec<Rule>, fallback: ReplyMode) -> ServerConfig {
    ServerConfig {
        reply: fallback,
        rules,
        ..ServerConfig::new("127.0.0.1:0".parse().unwrap())
    }
}

#[test]
fn rules_answer_before_the_reply_mode() {
    let e = engine();
    let mut hex = rule(MatchKind::Hex, "02 ?? ?? 03", "06");
    hex.format = ReplyFormat::Hex;
    let mut quiet = rule(MatchKind::Prefix, "noise", "");
    quiet.action = RuleAction::Drop;
    let at = start_server(
        &e,
        1,
        server_with(
            vec![
                rule(MatchKind::Exact, "ping", "pong"),
                rule(MatchKind::Regex, r"^GET (\w+)$", "you asked for {text}"),
                hex,
                quiet,
                rule(MatchKind::Contains, "ping", "a ping inside"),
            ],
            ReplyMode::Upper,
        ),
    );
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"ping\n"), b"pong");
    assert_eq!(ask(&me, at, b"GET temp"), b"you asked for GET temp");
    assert_eq!(ask(&me, at, b"\x02AB\x03"), [6]);
    assert_eq!(ask(&me, at, b"say ping"), b"a ping inside");
    // No rule: the reply mode answers.
    assert_eq!(ask(&me, at, b"other"), b"OTHER");
    // Dropped: the next answer the peer gets is the one to the datagram after.
    me.send_to(b"noise 1", at).unwrap();
    assert_eq!(ask(&me, at, b"after"), b"AFTER");
    let answered = wait_packets(&e, 13, |_| true)
        .iter()
        .filter(|p| p.direction == Direction::Out)
        .count();
    assert_eq!(
        answered, 6,
        "seven datagrams, all answered but the dropped one"
    );
}

#[test]
fn a_delayed_rule_answers_after_its_delay_and_others_do_not_wait() {
    let e = engine();
    let mut slow = rule(MatchKind::Exact, "slow", "at last");
    slow.delay_ms = 300;
    let at = start_server(&e, 1, server_with(vec![slow], ReplyMode::Echo));
    let me = peer("127.0.0.1:0");
    me.send_to(b"slow", at).unwrap();
    // The loop is not held up: a datagram after it is echoed at once.
    assert_eq!(ask(&me, at, b"quick"), b"quick");
    let mut buf = [0; 64];
    me.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (n, _) = me.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"at last");
    let packets = wait_packets(&e, 4, |_| true);
    let asked = packets.iter().find(|p| &*p.bytes == b"slow").unwrap();
    let answered = packets.iter().find(|p| &*p.bytes == b"at last").unwrap();
    let gap = answered.time.duration_since(asked.time).unwrap();
    assert!(
        gap >= Duration::from_millis(300),
        "the answer left {gap:?} after the question"
    );
}

#[test]
fn peers_and_firing_limits_choose_the_rule() {
    let e = engine();
    let a = peer("127.0.0.1:0");
    let b = peer("127.0.0.1:0");
    let mut for_a = rule(MatchKind::Any, "", "hello a");
    for_a.peer = a.local_addr().unwrap().to_string();
    let mut once = rule(MatchKind::Any, "", "first time only");
    once.times = 1;
    let at = start_server(&e, 1, server_with(vec![for_a, once], ReplyMode::Echo));
    assert_eq!(ask(&a, at, b"x"), b"hello a");
    assert_eq!(ask(&b, at, b"x"), b"first time only");
    assert_eq!(ask(&b, at, b"x"), b"x");
    assert_eq!(ask(&a, at, b"x"), b"hello a");
}

#[test]
fn rules_in_gbk_match_and_answer_chinese() {
    let e = engine();
    let mut config = server_with(
        vec![rule(MatchKind::Regex, r"^温度\?$", "温度是 25 度")],
        ReplyMode::Echo,
    );
    config.encoding = Encoding::Gbk;
    let at = start_server(&e, 1, config);
    let me = peer("127.0.0.1:0");
    let asked = codec::encode("温度?", Encoding::Gbk).unwrap();
    assert_eq!(
        ask(&me, at, &asked),
        codec::encode("温度是 25 度", Encoding::Gbk).unwrap()
    );
}

#[test]
fn rules_change_live_and_a_bad_list_keeps_the_old_one() {
    let e = engine();
    let at = start_server(
        &e,
        1,
        server_with(vec![rule(MatchKind::Any, "", "old")], ReplyMode::Echo),
    );
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"x"), b"old");
    let id = EndpointId(1);
    e.send(Command::SetRules {
        id,
        rules: vec![rule(MatchKind::Any, "", "new")],
    })
    .unwrap();
    assert_eq!(ask(&me, at, b"x"), b"new");
    e.send(Command::SetRules {
        id,
        rules: vec![
            rule(MatchKind::Any, "", "fine"),
            rule(MatchKind::Regex, "(", "broken"),
        ],
    })
    .unwrap();
    let err = wait_failure(&e, 1).to_string();
    assert!(
        err.starts_with("rule 2: not a valid regular expression"),
        "{err}"
    );
    assert_eq!(ask(&me, at, b"x"), b"new", "the old rules still answer");
    e.send(Command::SetRules { id, rules: vec![] }).unwrap();
    assert_eq!(ask(&me, at, b"x"), b"x", "no rules: the reply mode");
    let _ = wait_packets(&e, 1, incoming);
}

#[test]
fn the_readme_rules_file_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n")
        .expect("the README shows a rules file");
    let body = &readme[start + 8..];
    let text = &body[..body.find("```").unwrap()];
    let file = RulesFile::parse(text).unwrap();
    let e = engine();
    let at = start_server(&e, 1, server_with(file.rules, ReplyMode::Echo));
    let me = peer("127.0.0.1:0");
    assert_eq!(ask(&me, at, b"ping"), b"pong");
}
