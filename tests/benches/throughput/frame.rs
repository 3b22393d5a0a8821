//! One frame of the whole window, headless (layout and app work, no pixels),
//! with 1,000 and with 1,000,000 packets stored: a frame must not grow with
//! the log. Then the same with the chart strip shown, a full minute of
//! samples for four endpoints and a client's round-trip times in it.

use std::time::{Duration, Instant, SystemTime};

use egui_kittest::Harness;
use udpdesk::app::UdpDeskApp;
use udpdesk::codec::Encoding;
use udpdesk::packet::{Direction, EndpointId, Packet};
use udpdesk::settings::Settings;

use super::median;

pub fn compare() {
    let mut results = Vec::new();
    for stored in [1_000usize, 1_000_000] {
        let ms = frame_ms(stored, false);
        results.push(ms);
        println!("frame with {stored:>9} packets stored {ms:>8.3} ms");
    }
    println!("  ratio 1,000,000 / 1,000: {:.2}×", results[1] / results[0]);
    let ms = frame_ms(1_000, true);
    println!(
        "frame with     1,000 packets stored and the charts shown {ms:>8.3} ms ({:+.3} ms)",
        ms - results[0]
    );
}

/// A minute of samples at the sampler's rate: four endpoints that all move,
/// the first a client with replies timed.
fn fill_charts(app: &mut UdpDeskApp) {
    let end = app.charts.clock();
    let period = udpdesk::app::charts::PERIOD;
    for id in 1..=4u32 {
        let name = if id == 1 {
            "client".to_owned()
        } else {
            format!("server {id}")
        };
        app.session.names.insert(EndpointId(id), name);
    }
    let samples = (udpdesk::ui::chart_strip::SPAN_SECS / period) as u64;
    for k in 0..=samples {
        let now = end - (samples - k) as f64 * period;
        let counters = (1..=4u32).map(|id| {
            let n = k * u64::from(id) * 20 + (k % 7) * 3;
            let c = udpdesk::net::Counters {
                packets_in: n,
                bytes_in: n * 48,
                packets_out: n / 2,
                bytes_out: n * 24,
                ..udpdesk::net::Counters::default()
            };
            (EndpointId(id), c)
        });
        let rtt = Duration::from_micros(300 + (k % 11) * 40);
        app.charts
            .sample(now, counters, [(EndpointId(1), vec![rtt, rtt * 2])]);
    }
}

fn frame_ms(stored: usize, charts: bool) -> f64 {
    let settings = Settings {
        charts,
        ..Settings::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_context_setup(udpdesk::ui::fonts::install)
        .build_eframe(move |cc| UdpDeskApp::with_settings(&cc.egui_ctx, settings));
    let peer = "127.0.0.1:5000".parse().expect("an address");
    let local = "127.0.0.1:9999".parse().expect("an address");
    let text = "Hello, world: a datagram of a typical length.".as_bytes();
    h.state_mut()
        .session
        .store
        .extend((1..=stored as u64).map(|seq| Packet {
            seq,
            time: SystemTime::now(),
            endpoint: EndpointId(1),
            direction: if seq % 2 == 0 {
                Direction::Out
            } else {
                Direction::In
            },
            local,
            peer,
            encoding: Encoding::Utf8,
            bytes: text.into(),
            truncated: false,
        }));
    if charts {
        fill_charts(h.state_mut());
    }
    for _ in 0..5 {
        h.step();
    }
    let mut samples = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        h.step();
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(Duration::ZERO);
    }
    median(&mut samples)
}
