//! The chart strip in the window: turned on from the View menu, fed by
//! datagrams sent by clicking, laid out with the table at 1280×800, and
//! asking for no frames once the traffic stops; a flood charted from the
//! engine's counters a few times a second (its frame cost is measured by
//! `cargo bench`, frame with the charts shown).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable as _;
use udpdesk::app::UdpDeskApp;
use udpdesk::ui::chart_strip;
use window::{DEADLINE, Ui};

/// The most a chart shows for the endpoint named `name`: packets in and out a second, and replies timed.
fn charted(app: &UdpDeskApp, name: &str) -> (f64, f64, usize) {
    app.charts
        .traces()
        .filter(|(id, ..)| app.session.name(*id) == name)
        .map(|(_, rates, rtts)| {
            let most = |f: fn(&udpdesk::ui::chart_strip::RatePoint) -> f64| {
                rates.iter().map(f).fold(0.0, f64::max)
            };
            (most(|p| p.packets_in), most(|p| p.packets_out), rtts.len())
        })
        .next()
        .unwrap_or_default()
}

#[test]
fn sent_datagrams_show_in_the_charts() {
    let mut ui = Ui::new();
    let title = chart_strip::heading().into_owned();
    assert!(!ui.app().settings.charts, "off until asked for");
    assert_eq!(ui.h.query_all_by_label(&title).count(), 0);
    ui.click("View");
    ui.click("Charts");
    assert!(ui.app().settings.charts, "remembered with the settings");
    ui.h.key_press(egui::Key::Escape);
    ui.h.run_ok();
    ui.h.get_by_label(&title);

    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    for round in 1..=3 {
        ui.click("Send");
        ui.wait_until("the echo", |a| a.session.store.len() == 4 * round);
    }
    ui.wait_until("the charts to show the traffic", |a| {
        let (client_in, client_out, rtts) = charted(a, "Client 1");
        let (server_in, server_out, _) = charted(a, "Server 1");
        client_out > 0.0 && client_in > 0.0 && server_in > 0.0 && server_out > 0.0 && rtts > 0
    });
    let (_, _, rtts) = charted(ui.app(), "Client 1");
    let rtt = ui
        .app()
        .charts
        .traces()
        .flat_map(|(_, _, r)| r.iter())
        .next()
        .copied()
        .unwrap();
    assert!(
        rtts >= 1 && rtt.median_ms >= 0.0 && rtt.max_ms < 15_000.0,
        "{rtt:?}"
    );
    // The legend names endpoints as the table does; the RTT plot joins.
    ui.h.run_ok();
    ui.h.get_by_label(&title);
    assert!(ui.h.query_all_by_label_contains("RTT ms").count() >= 1);

    // The table still has room at 1280×800.
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0));
    for label in ["Send", "Filter", title.as_str()] {
        let rect = ui.h.get_by_label(label).rect();
        assert!(window.contains_rect(rect), "{label} at {rect:?}");
    }
    let text = ui.h.get_all_by_label("Text").next().unwrap().rect();
    let heading = ui.h.get_by_label(&title).rect();
    assert!(
        heading.top() - text.bottom() > 250.0,
        "the table keeps room for rows: header at {text:?}, charts at {heading:?}"
    );

    // Idle again: once the rates are back to zero no frame is asked for.
    let end = Instant::now() + DEADLINE;
    loop {
        ui.h.step();
        if !ui.h.ctx.has_requested_repaint() {
            break;
        }
        assert!(Instant::now() < end, "the window keeps asking for frames");
        let _ = ui.woken.recv_timeout(Duration::from_millis(100));
    }

    ui.click("Hide");
    assert!(!ui.app().settings.charts);
    assert_eq!(ui.h.query_all_by_label(&title).count(), 0);
}

#[test]
fn a_flood_is_charted_from_the_counters_a_few_times_a_second() {
    let mut settings = udpdesk::settings::Settings::default();
    settings.servers[0].port = "0".into();
    settings.servers[0].reply = udpdesk::settings::ReplyKind::None;
    settings.charts = true;
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    let began = ui.app().charts.clock();
    let flood = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let payload = [0x55u8; 64];
    for _ in 0..20_000 {
        flood.send_to(&payload, at).unwrap();
    }
    // Until the server's rate has risen and fallen back to nothing.
    ui.wait_until("the flood charted and over", |a| {
        let trace = a
            .charts
            .traces()
            .find(|(id, ..)| a.session.name(*id) == "Server 1");
        trace.is_some_and(|(_, rates, _)| {
            rates.iter().any(|p| p.packets_in > 0.0) && rates.back().is_some_and(|p| p.is_idle())
        })
    });
    let app = ui.app();
    let received = app.session.tally(app.session.servers[0].last_id).packets_in;
    assert!(received > 1_000, "the kernel kept {received} of 20,000");
    let (_, rates, _) = app
        .charts
        .traces()
        .find(|(id, ..)| app.session.name(*id) == "Server 1")
        .unwrap();
    let elapsed = app.charts.clock() - began;
    // Sampled from the engine's counters a few times a second, never per packet.
    let most = elapsed / udpdesk::app::charts::PERIOD + 3.0;
    assert!(
        (rates.len() as f64) <= most,
        "{} samples in {elapsed:.2} s",
        rates.len()
    );
    let peak = rates.iter().map(|p| p.packets_in).fold(0.0, f64::max);
    assert!(peak >= 1_000.0, "a peak of {peak}/s");
    // The rate is the counters' rise over the last second (or, just after
    // the server started, over the time since, but never less than a
    // period): at least what came in over a second, at most what came in
    // over one period.
    let got = received as f64;
    let (slowest, fastest) = (
        got / udpdesk::app::charts::RATE_WINDOW,
        got / udpdesk::app::charts::PERIOD,
    );
    assert!(
        peak >= 0.9 * slowest && peak <= 1.01 * fastest,
        "a peak of {peak:.0}/s for {received} received"
    );
    assert!(
        rates.iter().all(|p| p.packets_out == 0.0),
        "a silent server"
    );
}
