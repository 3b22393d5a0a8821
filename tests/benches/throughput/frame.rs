//! One frame of the whole window, headless (layout and app work, no pixels),
//! with 1,000 and with 1,000,000 packets stored: a frame must not grow with
//! the log.

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
        let ms = frame_ms(stored);
        results.push(ms);
        println!("frame with {stored:>9} packets stored {ms:>8.3} ms");
    }
    println!("  ratio 1,000,000 / 1,000: {:.2}×", results[1] / results[0]);
}

fn frame_ms(stored: usize) -> f64 {
    let settings = Settings::default();
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
