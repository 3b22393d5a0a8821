//! The window, driven through egui_kittest by label as a person drives it:
//! start a server, type, click Send, read the table; real sockets underneath.
//! Waits are on the engine's wake-ups with a deadline, never on sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Role};
use egui_kittest::kittest::Queryable as _;
use udpdesk::codec::{self, Encoding};
use udpdesk::packet::Direction;
use udpdesk::settings::Settings;
use udpdesk::ui::server_panel::RunState;
use window::{DEADLINE, Ui};

#[test]
fn send_a_message_and_see_it_and_the_echo_in_the_table() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.h.get_by_label_contains(&format!("listening on {at}"));
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.type_into("Message text", 0, "Hello, udpdesk");
    ui.click("Send");
    ui.wait_until("the echo", |a| a.session.store.len() == 4);

    // The client's sent row: its peer is the server, with the text and a hex preview.
    let rows: Vec<_> = ui.h.get_all_by_label("Hello, udpdesk").collect();
    assert_eq!(rows.len(), 4, "sent, received, echoed, echo received");
    ui.h.get_all_by_label(&at.to_string())
        .next()
        .expect("the server as peer");
    assert!(
        ui.h.query_all_by_label_contains("48 65 6c 6c 6f 2c 20 75")
            .count()
            >= 4
    );
    assert_eq!(ui.count_packets(Direction::Out, "Client 1"), 1);
    assert_eq!(
        ui.count_packets(Direction::In, "Client 1"),
        1,
        "the echo came back"
    );
    assert_eq!(ui.count_packets(Direction::In, "Server 1"), 1);

    // Selecting a row shows its hex dump.
    ui.h.get_all_by_label("Hello, udpdesk")
        .next()
        .unwrap()
        .click();
    ui.h.run_ok();
    assert!(ui.app().table.selected.is_some());
    let dump =
        ui.h.query_all_by(|n| n.value().is_some_and(|v| v.contains("|Hello, udpdesk|")))
            .count();
    assert!(dump > 0, "the detail view shows the hex dump");
}

#[test]
fn ctrl_enter_sends_too() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    ui.wait_until("the echo", |a| a.session.store.len() == 4);
}

#[test]
fn gbk_text_is_sent_and_decoded_as_chinese() {
    let mut ui = Ui::new();
    ui.choose("Encoding", 0, "GBK");
    let at = ui.start_server();
    ui.select("Client 1");
    ui.choose("Encoding", 0, "GBK");
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.type_into("Message text", 0, "你好");
    ui.click("Send");
    ui.wait_until("the echo", |a| a.session.store.len() == 4);
    let sent = ui.app().session.store.get(0).unwrap();
    assert_eq!(&*sent.bytes, &[0xc4, 0xe3, 0xba, 0xc3], "GBK on the wire");
    assert_eq!(sent.encoding, Encoding::Gbk);
    assert_eq!(
        ui.h.get_all_by_label("你好").count(),
        4,
        "every row decodes it"
    );
    assert_eq!(ui.h.query_all_by_label("c4 e3 ba c3").count(), 4);
}

#[test]
fn manual_reply_reaches_the_selected_peer() {
    let mut ui = Ui::new();
    ui.choose("Reply", 0, "manual");
    let at = ui.start_server();
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&alice, &bob] {
        s.set_read_timeout(Some(DEADLINE)).unwrap();
    }
    alice.send_to("在吗".as_bytes(), at).unwrap();
    ui.wait_until("alice", |a| a.session.servers[0].peers.len() == 1);
    bob.send_to(b"hi", at).unwrap();
    ui.wait_until("bob", |a| a.session.servers[0].peers.len() == 2);
    // The first peer heard is selected on its own; pick Bob instead, by clicking him.
    let bob_addr = bob.local_addr().unwrap();
    ui.h.get_by_label_contains(&format!("{bob_addr}   1 pkt"))
        .click();
    ui.h.run_ok();
    assert_eq!(ui.app().session.servers[0].selected_peer, Some(bob_addr));
    ui.type_into("Reply text", 0, "收到你的消息了");
    ui.click("Send reply");
    let mut buf = [0u8; 64];
    let (n, from) = bob.recv_from(&mut buf).expect("the manual reply");
    assert_eq!(from, at);
    assert_eq!(&buf[..n], "收到你的消息了".as_bytes());
    ui.wait_until("the reply in the table", |a| a.session.store.len() == 3);
    assert_eq!(ui.h.get_all_by_label("收到你的消息了").count(), 1);
    // Alice got nothing: the first thing she receives is a later reply picked for her.
    ui.h.get_by_label_contains(&format!("{}   1 pkt", alice.local_addr().unwrap()))
        .click();
    ui.h.run_ok();
    ui.type_into("Reply text", 0, "later");
    ui.click("Send reply");
    let (n, _) = alice.recv_from(&mut buf).expect("a reply for alice");
    assert_eq!(&buf[..n], b"later");
}

#[test]
fn both_panels_and_the_table_fit_a_1280_by_800_window() {
    let mut ui = Ui::new();
    ui.h.run_ok();
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0));
    let fits = |ui: &Ui, labels: &[&str]| {
        for label in labels {
            let rect = ui.h.get_by_label(label).rect();
            assert!(
                window.contains_rect(rect),
                "{label} at {rect:?} is outside the window"
            );
        }
    };
    fits(
        &ui,
        &[
            "Start",
            "Filter",
            "Save log…",
            "+ Server",
            "+ Client",
            "+ Relay",
        ],
    );
    ui.select("Client 1");
    fits(&ui, &["Send", "Save message"]);
    for header in ["#", "Time", "Peer", "Text", "Hex"] {
        let rect = ui.h.get_all_by_label(header).next().unwrap().rect();
        assert!(window.contains_rect(rect), "column {header} at {rect:?}");
    }
}

#[test]
fn a_bad_template_applied_to_a_running_server_is_shown_under_the_template() {
    let mut ui = Ui::new();
    ui.choose("Reply", 0, "template");
    ui.start_server();
    ui.type_into("Template", 0, "Hi {name}");
    // The template applies when the field loses focus.
    ui.h.key_press(Key::Tab);
    ui.h.run_ok();
    ui.wait_until("the error", |a| a.session.servers[0].error.is_some());
    let e = ui.app().session.servers[0].error.clone().unwrap();
    assert_eq!(e.field, udpdesk::ui::widgets::Field::Reply);
    assert!(
        e.message.contains("unknown placeholder {name}"),
        "{}",
        e.message
    );
    ui.h.get_by_label_contains("keeps answering by its previous rule");
}

#[test]
fn a_port_in_use_is_shown_in_the_server_panel_and_the_app_goes_on() {
    let holder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap();
    let mut ui = Ui::new();
    ui.type_into("Port", 0, &taken.port().to_string());
    ui.click("Start");
    ui.wait_until("the error", |a| a.session.servers[0].error.is_some());
    let message =
        format!("{taken} is already in use: stop the program using it or pick another port");
    ui.h.get_by_label(&message);
    assert_eq!(ui.app().session.servers[0].state(), RunState::Stopped);
    // Fix the port and start again.
    ui.type_into("Port", 0, "0");
    let at = ui.start_server();
    assert_ne!(at, taken);
    assert!(ui.h.query_by_label(&message).is_none(), "the error clears");
}

#[test]
fn bad_hex_is_shown_under_the_message_and_nothing_is_sent() {
    let mut ui = Ui::new();
    ui.select("Client 1");
    ui.h.get_by_role_and_label(Role::RadioButton, "Hex").click();
    ui.h.run_ok();
    assert_eq!(
        ui.app().settings.clients[0].message,
        "48 65 6c 6c 6f 2c 20 77 6f 72 6c 64",
        "switching converts"
    );
    ui.type_into("Message text", 0, "48 6g");
    ui.click("Send");
    ui.h.get_by_label_contains("'g' at character 5 is not a hex digit");
    assert!(ui.app().session.store.is_empty());
}

#[test]
fn saving_the_log_writes_a_file_that_reads_back() {
    let mut ui = Ui::new();
    ui.choose("Encoding", 0, "GBK");
    let at = ui.start_server();
    ui.select("Client 1");
    ui.choose("Encoding", 0, "GBK");
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.type_into("Message text", 0, "你好，世界");
    ui.click("Send");
    ui.wait_until("the echo", |a| a.session.store.len() == 4);

    let dir = tempfile::tempdir().unwrap();
    for ext in ["jsonl", "csv", "txt", "pcap"] {
        let path = dir.path().join(format!("log.{ext}"));
        ui.h.state_mut().save_log_to(path.clone());
        ui.wait_until("the save", |a| !a.saving());
        let status = ui.app().session.status.clone().unwrap_or_default();
        assert!(status.starts_with("saved 4 packets"), "{status}");
        let text = std::fs::read(&path).unwrap();
        if ext == "pcap" {
            assert_eq!(&text[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        } else {
            assert!(
                String::from_utf8(text).unwrap().contains("你好，世界"),
                "{ext} keeps the Chinese"
            );
        }
    }
    let back = udpdesk::capture::load_log(&dir.path().join("log.jsonl")).unwrap();
    let kept: Vec<_> = ui
        .app()
        .session
        .store
        .views()
        .map(|v| v.to_packet())
        .collect();
    assert_eq!(back, kept);
    assert_eq!(
        codec::decode(&back[0].bytes, back[0].encoding),
        "你好，世界"
    );

    // A save into a folder that does not exist says why and keeps the log.
    ui.h.state_mut()
        .save_log_to(dir.path().join("missing/log.csv"));
    ui.wait_until("the failed save", |a| !a.saving());
    let error = ui.app().session.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("does not exist") && error.contains("the log is still here"),
        "{error}"
    );
    assert_eq!(ui.app().session.store.len(), 4);
    ui.h.get_by_label_contains("the log is still here");
}

#[test]
fn stop_ends_endless_sending_even_after_send_was_pressed_twice() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.h.state_mut().settings.clients[0].count = 0;
    ui.h.state_mut().settings.clients[0].interval_ms = 20;
    ui.click("Send");
    ui.wait_until("packets", |a| a.session.store.len() >= 4);
    ui.click("Send");
    ui.wait_until("the first send to be replaced", |a| {
        a.session.clients[0].pending == 1
    });
    assert!(
        ui.app().session.clients[0].sending(),
        "the second send is still running"
    );
    ui.click("Stop");
    ui.wait_until("sending to stop", |a| !a.session.clients[0].sending());
    assert_eq!(ui.app().session.clients[0].pending, 0);
}

/// Echoes `rounds` × `per_round` datagrams through the server at `at`, a
/// round at a time, without drawing a frame, and returns how many came back:
/// every one the server received, since replies are never held back.
fn echo_rounds(at: SocketAddr, rounds: usize, per_round: usize) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 64];
    let mut echoed = 0;
    for round in 0..rounds {
        for i in 0..per_round {
            sock.send_to(&((round * per_round + i) as u32).to_be_bytes(), at)
                .unwrap();
        }
        // A datagram the kernel dropped before the server read it never comes
        // back: the read times out and the next round goes on.
        for _ in 0..per_round {
            if sock.recv_from(&mut buf).is_err() {
                break;
            }
            echoed += 1;
        }
    }
    echoed
}

#[test]
fn a_flood_beyond_the_hand_over_bound_is_counted_and_the_window_catches_up() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    // Every datagram answered: no reply limit.
    settings.servers[0].reply_limit_peer = 0;
    settings.servers[0].reply_limit_total = 0;
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    // 200,000 packets (in and out) while the window draws nothing: far more
    // than the engine's bounded hand-over holds (about 82,000 packets).
    let echoed = echo_rounds(at, 500, 200);
    assert!(echoed > 50_000, "the server answered most rounds: {echoed}");
    let mut frames = 0;
    loop {
        ui.h.step();
        frames += 1;
        let s = &ui.app().session;
        let counted = s.totals();
        // Caught up: every packet the engine counted is in the table or was
        // counted as not shown.
        if counted.packets_in == echoed
            && s.store.totals().packets() + counted.not_shown == counted.packets()
        {
            break;
        }
        assert!(frames < 500, "the window never caught up");
        let _ = ui.woken.recv_timeout(Duration::from_millis(50));
    }
    let s = &ui.app().session;
    let counted = s.totals();
    let shown = s.store.totals();
    assert_eq!(
        counted.packets_in, echoed,
        "the engine counted every datagram"
    );
    assert_eq!(counted.packets_out, echoed, "and every echo");
    assert!(
        counted.not_shown > 0,
        "the window fell behind and was told so"
    );
    assert_eq!(
        shown.packets() + counted.not_shown,
        counted.packets(),
        "every packet is either in the table or counted as not shown"
    );
    ui.h.run_ok();
    let said = format!("{} not shown (display too slow)", counted.not_shown);
    // Beside the server's counters, and in the status bar.
    assert_eq!(ui.h.get_all_by_label_contains(&said).count(), 2);
}

#[test]
fn an_idle_window_with_a_server_running_asks_for_no_frames() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"ping", at).unwrap();
    ui.wait_until("the ping and its echo", |a| a.session.store.len() == 2);
    // The rate shown falls to zero a second after traffic stops; until then
    // the window looks once a second. Then it asks for nothing at all.
    let end = Instant::now() + DEADLINE;
    loop {
        ui.h.step();
        if !ui.h.ctx.has_requested_repaint() {
            break;
        }
        assert!(Instant::now() < end, "the window keeps asking for frames");
        let _ = ui.woken.recv_timeout(Duration::from_millis(100));
    }
    ui.h.get_by_label_contains("(0/s, 0 B/s)");
}

#[test]
fn the_view_menu_sets_the_redraw_cap() {
    let mut ui = Ui::new();
    assert_eq!(
        ui.app().redraw_fps(),
        30,
        "no CPU renderer here: 30 a second"
    );
    ui.click("View");
    assert!(
        ui.h.get_all_by_label("Batch packets for up to").count() >= 1,
        "the hand-over delay is offered beside it"
    );
    ui.click("5 per second");
    assert_eq!(ui.app().redraw_fps(), 5);
    assert_eq!(
        ui.app().settings.redraw,
        udpdesk::app::pacing::RedrawRate::Fps5,
        "remembered with the settings"
    );
}

#[test]
fn missed_datagrams_are_said_beside_the_server_and_in_the_status_bar() {
    let mut ui = Ui::new();
    ui.start_server();
    let id = ui.app().session.servers[0].id.unwrap();
    let counters = udpdesk::net::Counters {
        packets_in: 10,
        kernel_drops: 7,
        not_shown: 3,
        ..udpdesk::net::Counters::default()
    };
    ui.h.state_mut().session.counters.insert(id, counters);
    ui.h.run_ok();
    for said in [
        "7 dropped by the kernel (receive buffer full)",
        "3 not shown (display too slow)",
    ] {
        assert_eq!(ui.h.get_all_by_label(said).count(), 2, "{said}");
    }
}

#[test]
fn capturing_from_the_window_writes_every_packet_and_stops_on_a_click() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("window.jsonl");
    // The native dialog ends in this call; the test hands the path in directly.
    ui.h.state_mut().start_capture_to(path.clone());
    ui.wait_until("the capture to start", |a| a.session.capture.file.is_some());
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    for word in ["一", "two", "three"] {
        peer.send_to(word.as_bytes(), at).unwrap();
    }
    ui.wait_until("the echoes", |a| a.session.store.len() == 6);
    ui.click("■ Stop capture");
    ui.wait_until("the capture to end", |a| {
        a.session.capture.message.is_some()
    });
    let message = ui.app().session.capture.message.clone().unwrap();
    assert!(
        message.starts_with("captured 6 packets (22 B)"),
        "{message}"
    );
    assert!(!ui.app().session.capture.failed);
    ui.h.get_by_label(&message);
    ui.h.get_by_label("● Capture…");
    let packets = udpdesk::capture::load_log(&path).unwrap();
    assert_eq!(packets.len(), 6);
    assert_eq!(&packets[0].bytes[..], "一".as_bytes());
    // The file names the server as the list does.
    let lines = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        lines.matches("\"endpoint_name\":\"Server 1\"").count(),
        6,
        "{lines}"
    );
    // The window's log is untouched by the capture ending.
    assert_eq!(ui.app().session.store.len(), 6);
}

#[test]
fn a_capture_that_cannot_start_says_why_beside_the_toggle() {
    let mut ui = Ui::new();
    let dir = tempfile::tempdir().unwrap();
    ui.h.state_mut()
        .start_capture_to(dir.path().join("gone/x.pcapng"));
    ui.wait_until("the failure", |a| a.session.capture.message.is_some());
    let app = ui.app();
    assert!(app.session.capture.failed);
    assert!(app.session.capture.file.is_none());
    let message = app.session.capture.message.clone().unwrap();
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(message.lines().count(), 1);
    ui.h.get_by_label(&message);
    ui.h.get_by_label("● Capture…");
}

#[test]
fn a_full_packet_memory_evicts_the_oldest_and_the_figures_add_up() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    settings.servers[0].reply_limit_peer = 0;
    settings.servers[0].reply_limit_total = 0;
    // The smallest budget the settings allow.
    settings.memory_mib = 16;
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    // 6,000 echoes of 1,400 B: about 17 MB of payload in and out.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let payload = [b'x'; 1400];
    let mut buf = [0u8; 1500];
    for _ in 0..300 {
        for _ in 0..20 {
            sock.send_to(&payload, at).unwrap();
        }
        for _ in 0..20 {
            sock.recv_from(&mut buf).unwrap();
        }
        ui.h.step();
    }
    ui.wait_until("every packet to be counted", |a| {
        a.session.tally(a.session.servers[0].last_id).packets() == 12_000
    });
    let app = ui.app();
    let id = app.session.servers[0].last_id.unwrap();
    let tally = app.session.tally(Some(id));
    let held = app.session.store.held(id);
    assert!(held.evicted > 0, "{held:?}");
    assert!(app.session.store.memory() <= 16 << 20);
    assert_eq!(held.kept, app.session.store.len() as u64);
    assert_eq!(held.kept + held.evicted + tally.not_shown, tally.packets());
    ui.h.get_by_label(&format!(
        "{} oldest left memory (packet memory full)",
        held.evicted
    ));
}

/// A capture file at `path` holding `texts` as datagrams received by
/// 127.0.0.1:9999 from 127.0.0.1:5000, `gap` apart.
fn capture_file(path: &std::path::Path, texts: &[String], gap: Duration) {
    let t0 = std::time::SystemTime::now();
    let packets: Vec<udpdesk::packet::Packet> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| udpdesk::packet::Packet {
            seq: i as u64 + 1,
            time: t0 + gap * u32::try_from(i).unwrap(),
            endpoint: udpdesk::packet::EndpointId(1),
            direction: Direction::In,
            local: "127.0.0.1:9999".parse().unwrap(),
            peer: "127.0.0.1:5000".parse().unwrap(),
            encoding: Encoding::Utf8,
            bytes: text.as_bytes().into(),
            truncated: false,
        })
        .collect();
    udpdesk::capture::save_log(path, &packets).unwrap();
}

/// A file dropped on the window, as the windowing layer hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_capture_dropped_on_the_window_opens_in_the_table() {
    let mut ui = Ui::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wireshark-mixed.pcapng");
    ui.h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(fixture)));
    ui.wait_until("the capture to open", |a| {
        !a.opening() && a.session.store.len() == 5
    });
    let app = ui.app();
    let status = app.session.status.clone().unwrap();
    assert!(
        status.starts_with("opened 5 UDP packets from ")
            && status.ends_with("; skipped 2 not UDP, 1 IP fragments"),
        "{status}"
    );
    ui.h.get_by_label(&status);
    // The rows show the capture's addresses and text, named by interface.
    ui.h.get_by_label("10.1.1.1:5000");
    ui.h.get_by_label("vlan 你好");
    let first = app.session.store.get(0).unwrap();
    // Named by the capture's interface (text2pcap calls its own "Fake IF").
    assert!(app.session.name(first.endpoint).starts_with("Fake IF"));
}

#[test]
fn live_packets_after_an_opened_capture_follow_it_in_order() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    let me = UdpSocket::bind("127.0.0.1:0").unwrap();
    me.send_to(b"before", at).unwrap();
    ui.wait_until("the first echo", |a| a.session.store.len() == 2);
    // A udpdesk capture of 10,000 packets, opened over the live log.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.pcapng");
    let texts: Vec<String> = (1..=10_000).map(|seq| format!("old {seq}")).collect();
    capture_file(&path, &texts, Duration::ZERO);
    ui.h.state_mut().open_capture_from(path);
    ui.wait_until("the capture to open", |a| {
        !a.opening() && a.session.store.len() == 10_000
    });
    me.send_to(b"after", at).unwrap();
    ui.wait_until("the live echo", |a| a.session.store.len() == 10_002);
    let store = &ui.app().session.store;
    let seqs: Vec<u64> = (0..store.len()).map(|i| store.seq(i).unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "numbers only rise");
    assert_eq!(&store.get(10_000).unwrap().bytes[..], b"after");
}

#[test]
fn a_file_that_is_no_capture_is_said_and_the_log_stays() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"keep me", at)
        .unwrap();
    ui.wait_until("the echo", |a| a.session.store.len() == 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a capture").unwrap();
    ui.h.state_mut().open_capture_from(path);
    ui.wait_until("the failure", |a| {
        !a.opening() && a.session.last_error.is_some()
    });
    let error = ui.app().session.last_error.clone().unwrap();
    assert!(error.contains("not a capture udpdesk can open"), "{error}");
    assert_eq!(ui.app().session.store.len(), 2);
}

#[test]
fn the_rows_shown_replay_to_the_clients_target() {
    let mut ui = Ui::new();
    // A capture from elsewhere: three datagrams 30 ms apart, plus one filtered out.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.jsonl");
    let texts = ["alpha 1", "alpha 2", "beta", "alpha 3"].map(String::from);
    capture_file(&path, &texts, Duration::from_millis(30));
    ui.h.state_mut().open_capture_from(path);
    ui.wait_until("the capture to open", |a| {
        !a.opening() && a.session.store.len() == 4
    });
    ui.type_into("Filter", 0, "alpha");
    ui.wait_until("the filter", |a| a.table.view.len(&a.session.store) == 3);
    // A plain socket receives what the client replays.
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_read_timeout(Some(DEADLINE)).unwrap();
    let port = receiver.local_addr().unwrap().port();
    ui.select("Client 1");
    ui.type_into("Port", 0, &port.to_string());
    ui.click("Replay…");
    ui.h.get_by_label_contains("Sends the 3 rows the table shows");
    ui.click("Start replay");
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    for _ in 0..3 {
        let (n, _) = receiver.recv_from(&mut buf).unwrap();
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(got, ["alpha 1", "alpha 2", "alpha 3"]);
    ui.wait_until("the replay to end", |a| {
        a.session.status.as_deref() == Some("replayed 3 of 3 datagrams")
    });
    ui.h.get_by_label("Start replay");
}

#[test]
fn the_receive_buffer_asked_for_is_the_one_granted() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    settings.servers[0].recv_buffer_mib = 1;
    let mut ui = Ui::with(settings);
    ui.start_server();
    let granted = ui.app().session.servers[0].buffers.unwrap().recv;
    // Linux doubles the request for its own bookkeeping (and caps it at rmem_max).
    assert!(granted > 0 && granted <= 2 << 20, "{granted}");
    ui.h.get_by_label_contains(&format!(
        "granted: receive {}",
        udpdesk::ui::widgets::bytes_label(granted as u64)
    ));
}

#[test]
fn only_this_peer_narrows_the_table_to_one_flow() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    let alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    alice.send_to(b"from alice", at).unwrap();
    bob.send_to(b"from bob", at).unwrap();
    ui.wait_until("both echoes", |a| a.session.store.len() == 4);
    ui.h.get_all_by_label("from alice").next().unwrap().click();
    ui.h.run_ok();
    ui.click("Only this peer");
    ui.wait_until("the filter", |a| a.table.view.len(&a.session.store) == 2);
    let app = ui.app();
    assert_eq!(
        app.table.filter.peer,
        alice.local_addr().unwrap().to_string()
    );
    assert_eq!(ui.h.query_all_by_label("from bob").count(), 0);
}

#[test]
fn a_capture_opened_under_a_filter_shows_its_own_matches() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.type_into("Filter", 0, "zz");
    let me = UdpSocket::bind("127.0.0.1:0").unwrap();
    for text in ["a", "b", "zz live"] {
        me.send_to(text.as_bytes(), at).unwrap();
    }
    ui.wait_until("the echoes", |a| a.session.store.len() == 6);
    ui.wait_until("the live match", |a| {
        a.table.view.len(&a.session.store) == 2
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("five.jsonl");
    let texts = ["p1", "p2", "zz file", "p4", "p5"].map(String::from);
    capture_file(&path, &texts, Duration::ZERO);
    ui.h.state_mut().open_capture_from(path);
    ui.wait_until("the capture and its one match", |a| {
        !a.opening() && a.session.store.len() == 5 && a.table.view.len(&a.session.store) == 1
    });
    let app = ui.app();
    let shown = app.table.view.packet(&app.session.store, 0).unwrap();
    assert_eq!(&shown.bytes[..], b"zz file");
}

#[test]
fn a_failed_engine_shows_a_banner_keeps_the_packets_and_restarts() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"kept", at)
        .unwrap();
    ui.wait_until("the echo", |a| a.session.store.len() == 2);
    ui.h.state_mut()
        .session
        .send_command_for_tests(udpdesk::net::Command::Fault(udpdesk::net::Fault::Panic));
    ui.wait_until("the failure", |a| a.session.engine_failure.is_some());
    ui.h.get_by_label_contains(
        "the network thread failed: a fault injected by a test. The servers and clients stopped",
    );
    assert!(matches!(
        ui.app().session.servers[0].state(),
        RunState::Stopped
    ));
    assert_eq!(ui.app().session.store.len(), 2, "the packets are kept");
    ui.click("Restart engine");
    assert!(ui.app().session.engine_failure.is_none());
    assert_eq!(ui.h.query_all_by_label("Restart engine").count(), 0);
    // The server starts again on the new engine, and the log goes on.
    let at = ui.start_server();
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"after", at)
        .unwrap();
    ui.wait_until("the new echo", |a| a.session.store.len() == 4);
    // The log's numbers go on rising across the restart, so a filter finds
    // the new packets too.
    let store = &ui.app().session.store;
    let seqs: Vec<u64> = (0..store.len()).map(|i| store.seq(i).unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    ui.type_into("Filter", 0, "after");
    ui.wait_until("the filter", |a| a.table.view.len(&a.session.store) == 2);
}

#[test]
fn a_flood_from_many_sources_lists_1024_peers_and_counts_the_rest() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    // 2,000 sources, each one datagram (a bench --sockets flood, in small).
    let socks: Vec<UdpSocket> = (0..2_000)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for s in &socks {
        s.send_to(b"hi", at).unwrap();
    }
    ui.wait_until("every peer counted", |a| {
        a.session.servers[0].peers.len() + a.session.servers[0].unlisted as usize == 2_000
    });
    let app = ui.app();
    assert_eq!(app.session.servers[0].peers.len(), udpdesk::net::MAX_PEERS);
    assert_eq!(app.session.servers[0].unlisted, 976);
    ui.h.get_by_label("and 976 more");
    // Everyone was answered all the same.
    let id = app.session.servers[0].last_id;
    ui.wait_until("every echo", |a| a.session.tally(id).packets_out == 2_000);
}
