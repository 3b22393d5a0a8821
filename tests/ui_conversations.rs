//! Conversations in the window: reply rules added and typed by clicking,
//! tried in the Try box, applied to a running server, a bad rule shown beside
//! itself while the server keeps the rules it had; round-trip times on reply
//! rows, and replies from an unexpected source flagged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use std::net::UdpSocket;

use egui_kittest::kittest::Queryable as _;
use udpdesk::net::{MatchKind, Rule};
use udpdesk::settings::Settings;
use window::{DEADLINE, Ui};

fn ask(at: std::net::SocketAddr, msg: &[u8]) -> Vec<u8> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.send_to(msg, at).unwrap();
    let mut buf = [0; 256];
    let (n, _) = s.recv_from(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn a_rule_typed_in_the_window_answers_and_the_try_box_says_which() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    ui.click("Reply rules");
    ui.click("Add rule");
    ui.type_into("matches", 0, "ping");
    ui.type_into("with", 0, "pong");
    // Leaving the field applies the rule to the running server.
    ui.type_into("Try", 0, "ping");
    ui.h.get_by_label_contains("rule 1 answers: pong");
    ui.wait_until("the rule to reach the server", |a| {
        a.settings.servers[0].rules.len() == 1
    });
    assert_eq!(ask(at, b"ping"), b"pong");
    assert_eq!(ask(at, b"other"), b"other", "no match: echo");
    // Clicks land once the window has caught up with the traffic.
    ui.wait_until("four packets", |a| a.session.store.len() == 4);

    // A second rule above it, by the arrows, wins. A click can land in a
    // frame that lays the panel out anew (the peers above it change as
    // packets come); it is clicked again until it took.
    let end = std::time::Instant::now() + DEADLINE;
    while ui.h.query_all_by_label("matches").count() < 2 {
        assert!(std::time::Instant::now() < end, "the rule was never added");
        ui.click("Add rule");
    }
    ui.type_into("matches", 1, "ping");
    ui.type_into("with", 1, "second");
    while ui.app().settings.servers[0].rules[0].reply != "second" {
        assert!(std::time::Instant::now() < end, "the rule never moved up");
        ui.h.get_all_by_label("↑").nth(1).unwrap().click();
        ui.h.run_ok();
    }
    ui.h.get_by_label_contains("rule 1 answers: second");
    assert_eq!(ask(at, b"ping"), b"second");

    ui.wait_until("six packets", |a| a.session.store.len() == 6);
    // A reply that is not hex is said beside its rule, and the server
    // keeps the rules it had.
    ui.h.get_all_by_label("hex").next().unwrap().click();
    ui.h.run_ok();
    assert_eq!(
        ui.h.query_all_by_label_contains("reply: ").count(),
        2,
        "said beside the rule and in the Try box"
    );
    ui.h.get_by_label_contains("rule 1 has a mistake");
    assert_eq!(ask(at, b"ping"), b"second");
}

#[test]
fn chinese_rules_from_the_settings_show_and_answer_in_gbk() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    settings.servers[0].encoding = udpdesk::codec::Encoding::Gbk;
    settings.servers[0].rules = vec![Rule {
        kind: MatchKind::Contains,
        pattern: "温度".into(),
        reply: "二十五度".into(),
        ..Rule::default()
    }];
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    ui.click("Reply rules (1 on)");
    assert!(
        ui.h.query_all_by_value("温度").count() > 0,
        "the pattern shows in Chinese"
    );
    let gbk = |s: &str| udpdesk::codec::encode(s, udpdesk::codec::Encoding::Gbk).unwrap();
    assert_eq!(ask(at, &gbk("今天温度多少")), gbk("二十五度"));
}

#[test]
fn replies_show_their_round_trip_time_and_strangers_are_flagged() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.type_into("Count", 0, "3");
    ui.type_into("Interval", 0, "10");
    ui.click("Send");
    ui.wait_until("three echoes", |a| a.session.store.len() == 12);
    ui.h.get_by_label_contains("answered 3 of 3 (0.0% unanswered)   RTT min ");
    let rtts = ui.h.query_all_by_label_contains(" µs").count()
        + ui.h.query_all_by_label_contains(" ms").count();
    assert!(
        rtts >= 4,
        "three reply rows and the figures line show times"
    );
    let s = &ui.app().session;
    let paired = s
        .store
        .views()
        .filter(|p| {
            matches!(
                s.pairing.note(p.seq),
                Some(udpdesk::capture::Note { rtt: Some(_), .. })
            )
        })
        .count();
    assert_eq!(paired, 3, "each reply the client received is paired");

    // A datagram to the client from an address it never sent to.
    let client = ui.app().session.clients[0]
        .local
        .expect("the client's address");
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    stranger.send_to(b"surprise", client).unwrap();
    ui.wait_until("the stranger's datagram", |a| a.session.store.len() == 13);
    ui.h.get_by_label("other source");
    ui.h.get_by_label_contains("1 replies from an unexpected source");
}

#[test]
fn a_sequence_made_by_clicking_runs_and_says_how_it_ended() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    settings.servers[0].reply = udpdesk::settings::ReplyKind::Upper;
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.click("Sequences");
    ui.click("New sequence");
    ui.type_into("message", 0, "hello");
    ui.click("Add step");
    ui.type_into("reply", 0, "HELLO");
    ui.click("Run sequence");
    ui.wait_until("the sequence to end", |a| {
        a.session.clients[0].sequence.outcome.is_some()
    });
    ui.h.get_by_label_contains("done: 1 rounds, 1 sent, every expected reply met");
    assert_eq!(ui.app().settings.sequences.len(), 1, "kept in the settings");

    // A reply that never matches: the expect step times out, said in red.
    ui.type_into("reply", 0, "never");
    ui.click("Run sequence");
    ui.wait_until("the sequence to time out", |a| {
        a.session.clients[0].sequence.outcome.is_some() && !a.session.clients[0].sequence.running
    });
    ui.h.get_by_label_contains("step 2 of round 1: no matching reply in time");
}

#[test]
fn ticking_variables_numbers_each_datagram() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.type_into("Message text", 0, "n={seq} {crc16_modbus:hex}");
    ui.type_into("Count", 0, "3");
    ui.type_into("Interval", 0, "0");
    ui.click("Variables");
    ui.click("Send");
    ui.wait_until("three echoes", |a| a.session.store.len() == 12);
    let s = &ui.app().session;
    let sent: Vec<String> = s
        .store
        .views()
        .filter(|p| {
            p.direction == udpdesk::packet::Direction::Out && s.name(p.endpoint) == "Client 1"
        })
        .map(|p| String::from_utf8_lossy(p.bytes).into_owned())
        .collect();
    assert_eq!(sent.len(), 3);
    for (i, text) in sent.iter().enumerate() {
        assert!(text.starts_with(&format!("n={} ", i + 1)), "{text}");
        assert_eq!(text.len(), "n=1 ABCD".len(), "{text}");
    }
    // A placeholder that does not exist is said under the message.
    ui.type_into("Message text", 0, "{nope}");
    ui.click("Send");
    ui.h.get_by_label_contains("unknown placeholder {nope}");
}

#[test]
fn a_checksum_that_fails_marks_its_row_and_a_bad_spec_is_said() {
    let mut ui = Ui::new();
    ui.type_into("Verify", 0, "crc16_modbus");
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.h.get_by_role_and_label(egui::Role::RadioButton, "Hex")
        .click();
    ui.h.run_ok();
    ui.type_into("Message text", 0, "01 03 00 00 00 0A {crc16_modbus}");
    ui.click("Variables");
    ui.click("Send");
    ui.wait_until("the echo", |a| a.session.store.len() == 4);
    assert_eq!(ui.h.query_all_by_label("bad sum").count(), 0, "a good CRC");
    ui.click("Variables");
    ui.type_into("Message text", 0, "01 03 00 00 00 0A 00 00");
    ui.click("Send");
    ui.wait_until("the second echo", |a| a.session.store.len() == 8);
    assert_eq!(
        ui.h.query_all_by_label("bad sum").count(),
        1,
        "the server's row"
    );
    ui.select("Server 1");
    ui.h.get_by_label("1 received datagrams failed the checksum check");

    ui.select("Client 1");
    ui.type_into("Verify", 0, "crc99");
    ui.click("Send");
    ui.h.get_by_label_contains("for example crc16_modbus");
}

#[test]
fn a_sequence_step_can_send_a_saved_message() {
    let mut settings = Settings::default();
    settings.saved = vec![udpdesk::settings::SavedMessage {
        name: "modbus read".into(),
        message: "01 03 00 00 00 0A".into(),
        mode: udpdesk::settings::MessageMode::Hex,
        encoding: udpdesk::codec::Encoding::Utf8,
        per_line: false,
    }];
    let mut ui = Ui::with(settings);
    ui.select("Client 1");
    ui.click("Sequences");
    ui.click("New sequence");
    ui.click("…");
    ui.h.get_all_by_label("modbus read").last().unwrap().click();
    ui.h.run_ok();
    let step = &ui.app().settings.sequences[0].steps[0];
    assert_eq!(step.kind, udpdesk::net::StepKind::SendHex);
    assert_eq!(step.text, "01 03 00 00 00 0A");
}
