//! Keyboard shortcuts in the window, pressed as a person presses them:
//! Ctrl+1 sends the first saved message, Ctrl+F puts the cursor in the
//! filter, Ctrl+L clears the log; the menus show them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable as _;
use udpdesk::codec::Encoding;
use udpdesk::settings::{MessageMode, SavedMessage, Settings};
use window::Ui;

fn saved(name: &str, message: &str) -> SavedMessage {
    SavedMessage {
        name: name.into(),
        message: message.into(),
        mode: MessageMode::Text,
        encoding: Encoding::Utf8,
        per_line: false,
    }
}

#[test]
fn saved_messages_filter_and_clear_answer_to_the_keyboard() {
    let mut settings = Settings::default();
    settings.servers[0].port = "0".into();
    settings.saved = vec![saved("first", "one"), saved("second", "two")];
    let mut ui = Ui::with(settings);
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());

    ui.h.key_press_modifiers(Modifiers::COMMAND, Key::Num2);
    ui.wait_until("saved message 2 echoed", |a| a.session.store.len() == 4);
    ui.h.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    ui.wait_until("saved message 1 echoed", |a| a.session.store.len() == 8);
    let texts: Vec<String> = ui
        .app()
        .session
        .store
        .views()
        .map(|p| String::from_utf8_lossy(p.bytes).into_owned())
        .collect();
    assert_eq!(texts[0], "two");
    assert_eq!(texts[4], "one");
    // A key with no saved message behind it does nothing.
    ui.h.key_press_modifiers(Modifiers::COMMAND, Key::Num9);
    ui.h.run_ok();
    assert_eq!(ui.app().session.store.len(), 8);

    // Ctrl+F, then typing, filters the table.
    ui.h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    ui.h.run_ok();
    assert!(
        ui.h.get_by_label("Filter").is_focused(),
        "Ctrl+F focuses the filter"
    );
    ui.h.get_by_label("Filter").type_text("two");
    ui.h.run_ok();
    assert_eq!(ui.app().table.filter.text, "two");

    // Ctrl+L clears the log.
    ui.h.key_press_modifiers(Modifiers::COMMAND, Key::L);
    ui.h.run_ok();
    assert_eq!(ui.app().session.store.len(), 0);

    // The File menu shows the keys beside its entries.
    ui.click("File");
    assert!(ui.h.query_all_by_label_contains("Ctrl+S").count() > 0);
}

#[test]
fn the_table_shows_only_the_endpoints_ticked() {
    let mut ui = Ui::new();
    let at = ui.start_server();
    ui.select("Client 1");
    ui.type_into("Port", 0, &at.port().to_string());
    ui.click("Send");
    ui.wait_until("the echo", |a| a.session.store.len() == 4);
    ui.click("Endpoints: all");
    ui.h.get_by_role_and_label(egui::Role::CheckBox, "Server 1")
        .click();
    ui.h.run_ok();
    ui.wait_until("the server's rows only", |a| {
        a.table.view.len(&a.session.store) == 2
    });
    let s = &ui.app().session;
    assert!(
        ui.app()
            .table
            .filter
            .endpoints
            .iter()
            .all(|id| s.name(*id).starts_with("Server 1")),
        "the filter holds the server"
    );
    ui.click("Endpoint: Server 1");
    ui.click("All");
    ui.wait_until("every row again", |a| {
        a.table.view.len(&a.session.store) == 4
    });
}
