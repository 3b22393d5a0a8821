//! The soak: the window (headless: layout and app work, no pixels) with its
//! server capturing to pcapng, flooded by `udpdesk bench` flat out for ten
//! minutes (`UDPDESK_SOAK_MINUTES` or `UDPDESK_SOAK_SECONDS` change that). Memory must stay within
//! the log's budget, frames must stay short, and at the end every datagram
//! is accounted for. Runs only when asked: `cargo bench -- soak`.

use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use udpdesk::app::UdpDeskApp;
use udpdesk::settings::{ServerForm, Settings};
use udpdesk::ui::server_panel::RunState;

/// Resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p) as usize]
}

pub fn run() {
    let seconds: u64 = std::env::var("UDPDESK_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .or_else(|| {
            std::env::var("UDPDESK_SOAK_MINUTES")
                .ok()
                .and_then(|m| m.parse::<u64>().ok())
                .map(|m| m * 60)
        })
        .unwrap_or(600);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let capture = dir.path().join("soak.pcapng");
    let settings = Settings {
        servers: vec![ServerForm {
            port: "0".into(),
            ..ServerForm::default()
        }],
        ..Settings::default()
    };
    let budget = settings.memory_budget();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_context_setup(udpdesk::ui::fonts::install)
        // The flood is binary: some bytes decode to letters no bundled font
        // has, which the window draws as boxes, as it would for a person.
        .allow_missing_glyphs()
        .build_eframe(move |cc| UdpDeskApp::with_settings(&cc.egui_ctx, settings));
    h.get_by_label("Start").click();
    let start_deadline = Instant::now() + Duration::from_secs(10);
    let at = loop {
        h.step();
        if let RunState::Running(at) = h.state().session.servers[0].state() {
            break at;
        }
        assert!(Instant::now() < start_deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(10));
    };
    h.state_mut().start_capture_to(capture.clone());
    let rss_before = rss_mb();
    let mut bench = Process::new(env!("CARGO_BIN_EXE_udpdesk"))
        .args(["bench", &at.to_string(), "--duration"])
        .arg(format!("{seconds}s"))
        .args(["--wait", "0ms", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("udpdesk bench starts");
    println!(
        "soak: {seconds} s of `udpdesk bench` flat out into the window's echo server, capturing to pcapng"
    );
    let started = Instant::now();
    let mut frames = Vec::new();
    let mut rss_max = rss_before;
    let mut over_budget = 0;
    let mut next_sample = Instant::now();
    while bench.try_wait().ok().flatten().is_none() {
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
        if h.state().session.store.memory() > budget {
            over_budget += 1;
        }
        if Instant::now() >= next_sample {
            rss_max = rss_max.max(rss_mb());
            next_sample = Instant::now() + Duration::from_secs(5);
        }
        // About 30 frames a second, as a window on a GPU redraws under traffic.
        std::thread::sleep(Duration::from_millis(33).saturating_sub(t.elapsed()));
    }
    let out = bench.wait_with_output().expect("the bench ends");
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let sent = summary["sent"].as_u64().unwrap_or(0);
    let bench_secs = summary["seconds"].as_f64().unwrap_or(1.0);
    // Let the last datagrams land, then stop the capture and wait for its summary.
    for _ in 0..60 {
        h.step();
        std::thread::sleep(Duration::from_millis(33));
    }
    h.state_mut().session.stop_capture();
    let end = Instant::now() + Duration::from_secs(60);
    while h.state().session.capture.message.is_none() && Instant::now() < end {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let app = h.state();
    let id = app.session.servers[0].last_id;
    let tally = app.session.tally(id);
    let held = id.map(|i| app.session.store.held(i)).unwrap_or_default();
    let _ = started;
    println!(
        "  sent {sent} in {bench_secs:.0} s ({:.0}/s); the server: {tally}",
        sent as f64 / bench_secs
    );
    println!(
        "  received {} + dropped by the kernel {} = {} of {sent} sent",
        tally.packets_in,
        tally.kernel_drops,
        tally.packets_in + tally.kernel_drops
    );
    println!(
        "  carried {} = {} in memory + {} left memory + {} not shown: {}",
        tally.packets(),
        held.kept,
        held.evicted,
        tally.not_shown,
        if tally.packets() == held.kept + held.evicted + tally.not_shown {
            "adds up"
        } else {
            "DOES NOT ADD UP"
        }
    );
    let c = &app.session.capture;
    println!(
        "  capture: {}",
        c.message.clone().unwrap_or_else(|| format!(
            "still closing ({:?}, {:?})",
            c.file,
            c.progress.as_ref().map(ToString::to_string)
        ))
    );
    println!(
        "  log memory {:.0} MB of a {:.0} MB budget (over it in {over_budget} frames); process {:.0} MB before, {:.0} MB at most",
        app.session.store.memory() as f64 / 1e6,
        budget as f64 / 1e6,
        rss_before,
        rss_max
    );
    println!(
        "  frames: {} drawn, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        frames.len(),
        pct(&mut frames, 0.5),
        pct(&mut frames, 0.99),
        pct(&mut frames, 1.0)
    );
}
