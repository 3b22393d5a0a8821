//! Many endpoints in one window, clicked as a person clicks: servers and
//! clients added from the list, renamed, run at once, each with its own
//! counters; the table, its filter and a saved log name them; removing one
//! stops it and keeps its packets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use egui_kittest::kittest::Queryable as _;
use udpdesk::packet::Direction;
use udpdesk::settings::{EndpointKind, Selected};
use udpdesk::ui::server_panel::RunState;
use window::Ui;

fn listening(ui: &Ui, i: usize) -> std::net::SocketAddr {
    match ui.app().session.servers[i].state() {
        RunState::Running(at) => at,
        other => panic!("server {i} is {other:?}"),
    }
}

#[test]
fn two_servers_and_two_clients_run_at_once_each_with_its_own_counters() {
    let mut ui = Ui::new();
    // The first server, then a second one added, renamed and started.
    let first = ui.start_server();
    ui.click("+ Server");
    assert_eq!(
        ui.app().settings.selected,
        Selected {
            kind: EndpointKind::Server,
            index: 1
        },
        "a new endpoint shows at once"
    );
    ui.type_into("Name", 0, "PLC sim");
    ui.choose("Reply", 0, "upper-case");
    ui.click("Start");
    ui.wait_until("the second server", |a| {
        matches!(a.session.servers[1].state(), RunState::Running(_))
    });
    let plc = listening(&ui, 1);
    assert_ne!(plc, first);
    // Still running: starting the second left the first alone.
    assert_eq!(listening(&ui, 0), first);

    // Client 1 talks to the first server, a new client to the PLC sim.
    ui.select("Client 1");
    ui.type_into("Port", 0, &first.port().to_string());
    ui.type_into("Message text", 0, "ping");
    ui.click("Send");
    ui.click("+ Client");
    ui.type_into("Name", 0, "sensor 2");
    ui.type_into("Port", 0, &plc.port().to_string());
    ui.type_into("Message text", 0, "read");
    ui.type_into("Count", 0, "3");
    ui.type_into("Interval", 0, "0");
    ui.click("Send");
    ui.wait_until("every echo", |a| a.session.store.len() == 4 + 12);

    let s = &ui.app().session;
    let tally = |id| s.tally(id);
    assert_eq!(tally(s.servers[0].last_id).packets_in, 1);
    assert_eq!(tally(s.servers[1].last_id).packets_in, 3);
    assert_eq!(tally(s.clients[0].id).packets_out, 1);
    assert_eq!(tally(s.clients[1].id).packets_out, 3);
    assert_eq!(tally(s.clients[1].id).packets_in, 3);
    assert_eq!(ui.count_packets(Direction::In, "PLC sim"), 3);
    assert_eq!(ui.count_packets(Direction::In, "sensor 2"), 3);
    assert_eq!(ui.count_packets(Direction::In, "Server 1"), 1);
    assert!(
        s.store
            .views()
            .filter(|p| s.name(p.endpoint) == "sensor 2" && p.direction == Direction::In)
            .all(|p| p.bytes == b"READ"),
        "the PLC sim upper-cases"
    );
    // The list shows each one's counters.
    ui.h.get_by_label(&format!("{plc} · in 3 · out 3"));
    ui.h.get_by_label(&format!("{first} · in 1 · out 1"));

    // The filter picks two endpoints by name.
    for (menu, name) in [
        ("Endpoints: all", "PLC sim"),
        ("Endpoint: PLC sim", "sensor 2"),
    ] {
        if ui
            .h
            .query_by_role_and_label(egui::Role::CheckBox, name)
            .is_none()
        {
            ui.click(menu);
        }
        ui.h.get_by_role_and_label(egui::Role::CheckBox, name)
            .click();
        ui.h.run_ok();
    }
    ui.wait_until("the PLC conversation only", |a| {
        a.table.view.len(&a.session.store) == 12
    });
    ui.h.get_by_label("Endpoints: 2 of 4");
}

#[test]
fn a_renamed_endpoint_names_its_rows_and_its_saved_log() {
    let mut ui = Ui::new();
    ui.type_into("Name", 0, "echo box");
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Name", 0, "tester");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.click("Send");
    ui.wait_until("the echo", |a| a.session.store.len() == 4);
    assert_eq!(ui.count_packets(Direction::In, "echo box"), 1);
    assert_eq!(ui.count_packets(Direction::In, "tester"), 1);
    // A rename while running renames what the table shows from this run.
    ui.type_into("Name", 0, "prober");
    assert_eq!(ui.count_packets(Direction::In, "prober"), 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    ui.h.state_mut().save_log_to(path.clone());
    ui.wait_until("the save", |a| !a.saving());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("echo box"), "{text}");
    assert!(text.contains("prober"), "{text}");
}

#[test]
fn removing_an_endpoint_stops_it_and_keeps_its_packets() {
    let mut ui = Ui::new();
    ui.click("+ Server");
    let second = ui.start_server();
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.send_to(b"hi", second).unwrap();
    ui.wait_until("the datagram and its echo", |a| a.session.store.len() == 2);
    // Server 2 is the second row's × (the list is servers, then clients).
    let remove: Vec<_> = ui.h.get_all_by_label("×").collect();
    assert_eq!(remove.len(), 3, "one × per endpoint");
    remove[1].click();
    ui.h.run_ok();
    assert_eq!(ui.app().settings.servers.len(), 1);
    assert_eq!(ui.app().session.servers.len(), 1);
    assert_eq!(
        ui.h.query_all_by_label("Server 2").count(),
        2,
        "its rows keep its name"
    );
    // Its socket is closed: the port can be bound again.
    ui.wait_until("the port to be free", |_| {
        std::net::UdpSocket::bind(second).is_ok()
    });
    assert_eq!(ui.app().session.store.len(), 2, "nothing lost");
    // The panel shown moved to an endpoint that is still there.
    assert!(ui.app().settings.selected.index < ui.app().settings.servers.len());
}

#[test]
fn the_last_endpoint_removed_leaves_a_hint_and_adding_works_again() {
    let mut ui = Ui::new();
    for _ in 0..2 {
        ui.h.get_all_by_label("×").next().unwrap().click();
        ui.h.run_ok();
    }
    ui.h.get_by_label("No endpoints: add a server, a client or a relay.");
    ui.click("+ Relay");
    ui.h.get_by_label("Start relay");
    assert_eq!(ui.app().settings.relays[0].name, "Relay 1");
}
