//! The relay panel through egui_kittest, by label: start a relay by clicking,
//! see a datagram pass both ways and a client appear, inject one by hand.
//! Waits are on the engine's wake-ups with a deadline, never on sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use std::net::UdpSocket;

use egui_kittest::kittest::Queryable as _;
use udpdesk::settings::Settings;
use window::{DEADLINE, Ui};

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s
}

fn recv(s: &UdpSocket) -> (Vec<u8>, std::net::SocketAddr) {
    let mut buf = [0; 1500];
    let (n, from) = s.recv_from(&mut buf).expect("a datagram in time");
    (buf[..n].to_vec(), from)
}

#[test]
fn a_relay_started_by_clicking_passes_datagrams_both_ways_and_injects() {
    let server = socket();
    let mut settings = Settings::default();
    settings
        .relays
        .push(udpdesk::settings::RelayForm::default());
    settings.relays[0].listen = "127.0.0.1:0".into();
    settings.relays[0].target = server.local_addr().unwrap().to_string();
    settings.relays[0].inject = "你好\\r\\n".into();
    let mut ui = Ui::with(settings);
    ui.select("Relay 1");
    ui.click("Start relay");
    ui.wait_until("the relay to listen", |a| {
        a.session.relays[0].listening.is_some()
    });
    let at = ui.h.state().session.relays[0].listening.unwrap();
    ui.h.get_by_label_contains(&format!("relaying {at}"));

    let client = socket();
    client.send_to(b"hello", at).unwrap();
    let (got, upstream) = recv(&server);
    assert_eq!(got, b"hello");
    server.send_to(b"world", upstream).unwrap();
    assert_eq!(recv(&client), (b"world".to_vec(), at));
    ui.wait_until("both legs in the table", |a| {
        a.session.store.len() == 4 && a.session.relays[0].counters.to_client == 1
    });
    let me = client.local_addr().unwrap().to_string();
    assert!(
        ui.h.query_all_by_label(&me).count() >= 1,
        "the client is listed"
    );
    ui.h.get_by_label_contains("1 to server · 1 to clients");
    // The table's direction column names each leg.
    for leg in ["c→r", "r→s", "s→r", "r→c"] {
        assert_eq!(ui.h.query_all_by_label(leg).count(), 1, "{leg}");
    }

    ui.click("to client");
    ui.click("Send inject");
    assert_eq!(recv(&client), ("你好\r\n".as_bytes().to_vec(), at));
    ui.wait_until("the injection counted", |a| {
        a.session.relays[0].counters.injected == 1
    });

    // A rule row is drawn with every control named.
    ui.click("Add rule");
    assert_eq!(ui.h.state().settings.relays[0].rules.len(), 1);

    ui.click("Stop relay");
    ui.wait_until("the relay to stop", |a| !a.session.relays[0].active());
    ui.h.get_by_label("Start relay");
}
