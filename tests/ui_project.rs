//! Projects through the window: endpoints set up by clicking saved as a
//! project, opened again into a fresh window with their names and rules,
//! reopened at start, and a bad file refused with its line while the
//! window keeps what it had.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/process.rs"]
mod process;
mod window;

use egui_kittest::kittest::Queryable as _;
use udpdesk::net::{MatchKind, Sequence, Step, StepKind};
use udpdesk::settings::{ReplyKind, Settings};
use window::Ui;

#[test]
fn a_project_saved_from_the_window_opens_again_with_its_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.toml");
    let mut ui = Ui::new();
    ui.type_into("Name", 0, "PLC 模拟");
    ui.choose("Reply", 0, "fixed reply");
    ui.type_into("Fixed reply", 0, "收到你的消息了");
    ui.choose("Encoding", 0, "GBK");
    ui.click("+ Client");
    ui.type_into("Name", 0, "传感器 2");
    ui.click("File");
    ui.h.get_by_label("Save project");
    ui.h.get_by_label("Open project…");
    ui.h.key_press(egui::Key::Escape);
    ui.h.run_ok();
    ui.h.state_mut().save_project_to(path.clone());
    ui.h.run_ok();
    assert_eq!(ui.app().settings.project.as_deref(), Some(path.as_path()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("PLC 模拟") && text.contains("收到你的消息了"),
        "{text}"
    );

    let mut fresh = Ui::with(Settings::default());
    fresh.h.state_mut().open_project_from(path.clone());
    fresh.h.run_ok();
    let s = &fresh.app().settings;
    assert_eq!(s.servers.len(), 1);
    assert_eq!(s.servers[0].name, "PLC 模拟");
    assert_eq!(s.servers[0].reply, ReplyKind::Fixed);
    assert_eq!(s.servers[0].fixed, "收到你的消息了");
    assert_eq!(s.servers[0].encoding, udpdesk::codec::Encoding::Gbk);
    let clients: Vec<_> = s.clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(clients, ["Client 1", "传感器 2"]);
    fresh
        .h
        .get_by_label_contains("Opened project bench.toml: 1 server, 2 clients");
    fresh.select("传感器 2");
    fresh.h.get_by_label("Send");
}

#[test]
fn a_project_made_in_the_window_runs_headless_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.toml");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let step = |kind, text: &str| Step {
        kind,
        text: text.into(),
        matching: MatchKind::Exact,
        ms: 2000,
    };
    let settings = Settings {
        sequences: vec![Sequence {
            client: String::new(),
            name: "ack".into(),
            repeat: 3,
            steps: vec![
                step(StepKind::Send, "你好"),
                step(StepKind::Expect, "收到你的消息了"),
            ],
        }],
        ..Settings::default()
    };
    let mut ui = Ui::with(settings);
    ui.type_into("Name", 0, "PLC 模拟");
    ui.type_into("Port", 0, &port);
    ui.choose("Reply", 0, "fixed reply");
    ui.type_into("Fixed reply", 0, "收到你的消息了");
    ui.choose("Encoding", 0, "GBK");
    ui.select("Client 1");
    ui.type_into("Name", 0, "传感器 2");
    ui.type_into("Port", 0, &port);
    ui.choose("Encoding", 0, "GBK");
    ui.h.state_mut().save_project_to(path.clone());
    ui.h.run_ok();

    let child = process::udpdesk()
        .arg("run")
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = process::wait_exit(child);
    let (stdout, stderr) = (process::text(&out.stdout), process::text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("sequence \"ack\" (client \"传感器 2\") passed: 3 rounds"),
        "{stderr}"
    );
    let acks = stdout
        .lines()
        .filter(|l| l.starts_with("[传感器 2] ") && l.ends_with("收到你的消息了"))
        .count();
    assert_eq!(acks, 3, "{stdout}");
}

#[test]
fn sequences_keep_their_client_through_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.toml");
    let step = "\n[[sequence.step]]\ntext = \"hi\"\n";
    let mut text = String::from(
        "[[client]]\nname = \"A\"\n\n[[client]]\nname = \"B\"\n\n[[server]]\nname = \"S\"\n",
    );
    for (name, client) in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("any", "")] {
        text.push_str(&format!(
            "\n[[sequence]]\nname = \"{name}\"\nclient = \"{client}\"\n{step}"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let mut ui = Ui::with(Settings::default());
    ui.h.state_mut().open_project_from(path.clone());
    ui.h.run_ok();

    // Each client shows its own sequences and those of every client.
    ui.select("A");
    ui.h.get_by_label("Sequences (3)");
    ui.select("B");
    ui.h.get_by_label("Sequences (2)");
    ui.click("Sequences (2)");
    ui.click("New sequence");
    assert_eq!(ui.app().settings.sequences[4].client, "B");

    // A rename takes the client's sequences along; a removal gives them to
    // every client. The project saved then opens again.
    ui.type_into("Name", 0, "B2");
    assert_eq!(
        ui.app().settings.sequence_shown,
        4,
        "the sequence shown stays shown through the rename"
    );
    let remove: Vec<_> = ui.h.get_all_by_label("×").collect();
    remove[1].click(); // A: the list holds the server first, then the clients
    ui.h.run_ok();
    let clients: Vec<_> = ui
        .app()
        .settings
        .sequences
        .iter()
        .map(|s| s.client.as_str())
        .collect();
    assert_eq!(clients, ["", "", "B2", "", "B2"]);
    let saved = dir.path().join("saved.toml");
    ui.h.state_mut().save_project_to(saved.clone());
    let project = udpdesk::project::Project::load(&saved).unwrap();
    assert_eq!(project.client_of(&project.sequences[2]), Some(0));
    assert_eq!(project.clients[0].name, "B2");
}

#[test]
fn two_endpoints_of_one_name_are_flagged_and_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.toml");
    let mut ui = Ui::new();
    ui.type_into("Name", 0, "dev");
    assert!(
        ui.h.query_by_label_contains("Another endpoint has this name")
            .is_none()
    );
    ui.select("Client 1");
    ui.type_into("Name", 0, "dev");
    ui.h.get_by_label_contains("Another endpoint has this name");
    ui.h.state_mut().save_project_to(path.clone());
    ui.h.run_ok();
    assert!(!path.exists(), "nothing written");
    let said = ui.app().session.last_error.clone().unwrap_or_default();
    assert!(
        said.contains("not saved") && said.contains("\"dev\" is taken"),
        "{said}"
    );
    ui.type_into("Name", 0, "dev 2");
    assert!(
        ui.h.query_by_label_contains("Another endpoint has this name")
            .is_none()
    );
    ui.h.state_mut().save_project_to(path.clone());
    assert!(path.exists());
}

#[test]
fn a_relative_capture_is_written_beside_the_project_and_saved_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.toml");
    std::fs::write(
        &path,
        "capture = \"run.jsonl\"\n\n[[server]]\nname = \"s\"\nport = \"0\"\n",
    )
    .unwrap();
    let mut ui = Ui::with(Settings::default());
    ui.h.state_mut().open_project_from(path.clone());
    ui.wait_until("the capture to start", |a| a.session.capture.file.is_some());
    assert_eq!(
        ui.app().session.capture.file.as_deref(),
        Some(dir.path().join("run.jsonl").as_path())
    );
    ui.h.state_mut().save_project_to(path.clone());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("capture = \"run.jsonl\"\n"), "{text}");
}

#[test]
fn a_client_renamed_key_by_key_keeps_its_sequences_and_no_one_else_s() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.toml");
    let mut text = String::from("[[client]]\nname = \"A\"\n\n[[client]]\nname = \"B\"\n");
    for (name, client) in [("a1", "A"), ("b1", "B")] {
        text.push_str(&format!(
            "\n[[sequence]]\nname = \"{name}\"\nclient = \"{client}\"\n\n[[sequence.step]]\ntext = \"hi\"\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let mut ui = Ui::with(Settings::default());
    ui.h.state_mut().open_project_from(path);
    ui.h.run_ok();
    ui.select("A");
    // Emptied, then "B" (another client's name), then "B2", a key at a time.
    ui.h.get_by_label("Name").click();
    ui.h.run_ok();
    ui.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    ui.h.key_press(egui::Key::Backspace);
    ui.h.run_ok();
    for key in ["B", "2"] {
        ui.h.get_by_label("Name").type_text(key);
        ui.h.run_ok();
        // Meanwhile the panel still shows the client's own sequence.
        ui.h.get_by_label("Sequences (1)");
    }
    // Leaving the field ends the rename.
    ui.h.key_press(egui::Key::Tab);
    ui.h.run_ok();
    let owners: Vec<_> = ui
        .app()
        .settings
        .sequences
        .iter()
        .map(|s| s.client.as_str())
        .collect();
    assert_eq!(owners, ["B2", "B"]);
}

#[test]
fn a_bad_project_is_refused_with_its_line_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[[server]]\nname = \"a\"\nprot = \"9\"\n").unwrap();
    let mut ui = Ui::new();
    let before = ui.app().settings.clone();
    ui.h.state_mut().open_project_from(path);
    ui.h.run_ok();
    let error = ui.app().session.last_error.clone().unwrap();
    assert!(
        error.contains("line 3") && error.contains("prot"),
        "{error}"
    );
    assert!(error.contains("the endpoints are as they were"), "{error}");
    assert_eq!(ui.app().settings, before);
    ui.h.get_by_label_contains("line 3");
}

#[test]
fn the_last_project_reopens_at_start_and_a_lost_one_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("last.toml");
    std::fs::write(
        &path,
        "[[server]]\nname = \"sim\"\nport = \"0\"\n\n[[relay]]\nname = \"lossy\"\n",
    )
    .unwrap();
    let settings = Settings {
        project: Some(path.clone()),
        ..Settings::default()
    };
    let ui = Ui::with(settings.clone());
    let s = &ui.app().settings;
    assert_eq!(s.servers[0].name, "sim");
    assert!(s.clients.is_empty());
    assert_eq!(s.relays[0].name, "lossy");

    std::fs::remove_file(&path).unwrap();
    let ui = Ui::with(settings);
    let error = ui.app().session.last_error.clone().unwrap();
    assert!(error.contains("could not be reopened"), "{error}");
    assert_eq!(
        ui.app().settings.servers[0].name,
        "Server 1",
        "the remembered ones"
    );
}
