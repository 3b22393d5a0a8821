//! Bad input in the window, case by case, as a table: each mistake gets a
//! message beside its field, nothing is sent, and nothing already in the log
//! is lost. Driven with egui_kittest by clicking Send and Start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use udpdesk::app::UdpDeskApp;
use udpdesk::codec::Encoding;
use udpdesk::settings::{ClientForm, MessageMode, ReplyKind, ServerForm, Settings};
use udpdesk::ui::server_panel::RunState;
use udpdesk::ui::widgets::Field;

const DEADLINE: Duration = Duration::from_secs(15);

/// Shows the endpoint called `name` by clicking it in the list.
fn show(h: &mut Harness<'static, UdpDeskApp>, name: &str) {
    h.get_all_by_label(name)
        .find(|n| n.accesskit_node().role() == egui::Role::Button)
        .expect("the endpoint in the list")
        .click();
    h.run_ok();
}

/// A window whose log already holds one echo (two packets), so a test can
/// see that a mistake loses nothing.
fn window(
    server: ServerForm,
    client: ClientForm,
) -> (
    Harness<'static, UdpDeskApp>,
    crossbeam_channel::Receiver<()>,
) {
    let (tx, woken) = crossbeam_channel::unbounded();
    let settings = Settings {
        servers: vec![server],
        clients: vec![client],
        ..Settings::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_context_setup(udpdesk::ui::fonts::install)
        .build_eframe(move |cc| {
            UdpDeskApp::with_wake(&cc.egui_ctx, settings, move || {
                let _ = tx.send(());
            })
        });
    h.run_ok();
    (h, woken)
}

fn wait(
    h: &mut Harness<'static, UdpDeskApp>,
    woken: &crossbeam_channel::Receiver<()>,
    what: &str,
    done: impl Fn(&UdpDeskApp) -> bool,
) {
    let end = Instant::now() + DEADLINE;
    loop {
        h.step();
        if done(h.state()) {
            h.run_ok();
            return;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        let _ = woken.recv_timeout(Duration::from_millis(100));
    }
}

fn running_server() -> ServerForm {
    ServerForm {
        port: "0".into(),
        ..ServerForm::default()
    }
}

/// Starts the server and puts one echo in the log; returns where it listens.
fn with_one_echo(
    h: &mut Harness<'static, UdpDeskApp>,
    woken: &crossbeam_channel::Receiver<()>,
) -> std::net::SocketAddr {
    h.get_by_label("Start").click();
    wait(h, woken, "the server", |a| {
        matches!(a.session.servers[0].state(), RunState::Running(_))
    });
    let RunState::Running(at) = h.state().session.servers[0].state() else {
        unreachable!()
    };
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"keep", at)
        .unwrap();
    wait(h, woken, "the echo", |a| a.session.store.len() == 2);
    at
}

#[test]
fn each_client_mistake_is_said_beside_its_field_and_nothing_is_sent() {
    let text = |s: &str| ClientForm {
        message: s.to_owned(),
        ..ClientForm::default()
    };
    let hex = |s: &str| ClientForm {
        message: s.to_owned(),
        mode: MessageMode::Hex,
        ..ClientForm::default()
    };
    let cases: Vec<(&str, ClientForm, Field, &str)> = vec![
        (
            "port 0",
            ClientForm {
                port: "0".into(),
                ..text("x")
            },
            Field::Target,
            "port",
        ),
        (
            "port 65536",
            ClientForm {
                port: "65536".into(),
                ..text("x")
            },
            Field::Target,
            "65536",
        ),
        (
            "port -1",
            ClientForm {
                port: "-1".into(),
                ..text("x")
            },
            Field::Target,
            "-1",
        ),
        (
            "port abc",
            ClientForm {
                port: "abc".into(),
                ..text("x")
            },
            Field::Target,
            "abc",
        ),
        (
            "host 999.1.1.1",
            ClientForm {
                host: "999.1.1.1".into(),
                ..text("x")
            },
            Field::Target,
            "999.1.1.1",
        ),
        (
            "empty host",
            ClientForm {
                host: String::new(),
                ..text("x")
            },
            Field::Target,
            "host",
        ),
        (
            "host [::1",
            ClientForm {
                host: "[::1".into(),
                ..text("x")
            },
            Field::Target,
            "[::1",
        ),
        ("hex 4G", hex("4G"), Field::Message, "not a hex digit"),
        ("odd hex digits", hex("abc"), Field::Message, "hex"),
        ("\\x4", text("\\x4"), Field::Message, "\\x"),
        ("\\u{110000}", text("\\u{110000}"), Field::Message, "110000"),
        (
            "a character the encoding cannot carry",
            ClientForm {
                encoding: Encoding::Windows1252,
                ..text("你好")
            },
            Field::Message,
            "你",
        ),
        (
            "65,508 B on IPv4",
            text(&"x".repeat(65_508)),
            Field::Message,
            "65508",
        ),
        (
            "a local address not on this machine",
            ClientForm {
                bind: "192.0.2.1:0".into(),
                ..text("x")
            },
            Field::LocalBind,
            "192.0.2.1",
        ),
    ];
    for (name, client, field, says) in cases {
        let (mut h, woken) = window(running_server(), client);
        let at = with_one_echo(&mut h, &woken);
        show(&mut h, "Client 1");
        show(&mut h, "Client 1");
        if h.state().settings.clients[0].port == ClientForm::default().port {
            // Aim at the running server, unless the case is about the port.
            h.state_mut().settings.clients[0].port = at.port().to_string();
        }
        // Ctrl+Enter sends as the button does, wherever the message has
        // pushed the button (64 KiB of text makes the editor tall).
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
        wait(&mut h, &woken, name, |a| {
            a.session.clients[0].error.is_some()
        });
        let app = h.state();
        let error = app.session.clients[0].error.clone().unwrap();
        assert_eq!(error.field, field, "{name}: {error:?}");
        assert!(error.message.contains(says), "{name}: {}", error.message);
        assert!(!error.message.contains('\n'), "{name}: one line");
        assert_eq!(
            app.session.store.len(),
            2,
            "{name}: nothing sent, nothing lost"
        );
        h.get_by_label(&error.message);
    }
}

#[test]
fn each_server_mistake_is_said_beside_its_field() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cases: Vec<(&str, ServerForm, Field, String)> = vec![
        (
            "port 65536",
            ServerForm {
                port: "65536".into(),
                ..ServerForm::default()
            },
            Field::Address,
            "65536".into(),
        ),
        (
            "port abc",
            ServerForm {
                port: "abc".into(),
                ..ServerForm::default()
            },
            Field::Address,
            "abc".into(),
        ),
        (
            "an address not on this machine",
            ServerForm {
                bind_ip: "192.0.2.1".into(),
                port: "0".into(),
                ..ServerForm::default()
            },
            Field::Address,
            "192.0.2.1".into(),
        ),
        (
            "a port in use",
            ServerForm {
                port: taken.local_addr().unwrap().port().to_string(),
                ..ServerForm::default()
            },
            Field::Address,
            "already in use".into(),
        ),
        (
            "an unknown template placeholder",
            ServerForm {
                port: "0".into(),
                reply: ReplyKind::Template,
                template: "Hello, {nosuch}!".into(),
                ..ServerForm::default()
            },
            Field::Reply,
            "{nosuch}".into(),
        ),
    ];
    for (name, server, field, says) in cases {
        let (mut h, woken) = window(server, ClientForm::default());
        h.get_by_label("Start").click();
        wait(&mut h, &woken, name, |a| {
            a.session.servers[0].error.is_some()
        });
        let app = h.state();
        let error = app.session.servers[0].error.clone().unwrap();
        assert_eq!(error.field, field, "{name}: {error:?}");
        assert!(error.message.contains(&says), "{name}: {}", error.message);
        assert!(
            !matches!(app.session.servers[0].state(), RunState::Running(_)),
            "{name}"
        );
        h.get_by_label(&error.message);
    }
}

#[test]
fn an_empty_message_is_a_zero_length_datagram_sent_and_shown() {
    let (mut h, woken) = window(
        running_server(),
        ClientForm {
            message: String::new(),
            ..ClientForm::default()
        },
    );
    let at = with_one_echo(&mut h, &woken);
    show(&mut h, "Client 1");
    h.state_mut().settings.clients[0].port = at.port().to_string();
    h.get_by_label("Send").click();
    // Sent, received, echoed, echo received: four more rows, all empty.
    wait(&mut h, &woken, "the empty echo", |a| {
        a.session.store.len() == 6
    });
    let app = h.state();
    assert!(app.session.clients[0].error.is_none());
    assert!((2..6).all(|i| app.session.store.get(i).unwrap().bytes.is_empty()));
}

#[test]
fn endless_back_to_back_sending_shows_its_rate_and_stops_at_once() {
    let client = ClientForm {
        message: "x".into(),
        count: 0,
        interval_ms: 0,
        ..ClientForm::default()
    };
    let (mut h, woken) = window(running_server(), client);
    let at = with_one_echo(&mut h, &woken);
    show(&mut h, "Client 1");
    h.state_mut().settings.clients[0].port = at.port().to_string();
    h.get_by_label("Send").click();
    wait(&mut h, &woken, "sending", |a| {
        a.session.clients[0].sending()
            && a.session.tally(a.session.clients[0].id).packets_out > 1_000
    });
    // The client's Stop: the lower of the two on screen (the server has one too).
    // Once the reply limit's count shows above (it moves the panel down), the
    // Stop button stays put; it is clicked with the pointer where it is drawn.
    wait(&mut h, &woken, "the held-back count", |a| {
        a.session.tally(a.session.servers[0].last_id).held_back > 0
    });
    for _ in 0..3 {
        h.step();
    }
    let rect = h
        .get_all_by_label("Stop")
        .filter_map(|n| n.accesskit_node().bounding_box())
        .max_by(|a, b| a.y0.total_cmp(&b.y0))
        .unwrap();
    let at = egui::pos2(
        ((rect.x0 + rect.x1) / 2.0) as f32,
        ((rect.y0 + rect.y1) / 2.0) as f32,
    );
    h.event(egui::Event::PointerMoved(at));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    wait(&mut h, &woken, "the stop", |a| {
        !a.session.clients[0].sending()
    });
    let out = h
        .state()
        .session
        .tally(h.state().session.clients[0].id)
        .packets_out;
    // Nothing more goes once stopped.
    for _ in 0..20 {
        h.step();
    }
    assert_eq!(
        h.state()
            .session
            .tally(h.state().session.clients[0].id)
            .packets_out,
        out
    );
}
