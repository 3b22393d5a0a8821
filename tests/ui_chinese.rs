//! The window in Simplified Chinese, clicked through by its Chinese labels:
//! a relay started and stopped, an engine error ("address in use") said in
//! Chinese, relay and reply rules, a sequence, the View menu, and the language
//! choice switching back and forth without a restart.
//!
//! rust-i18n's locale is one per process, so this file is its own test
//! binary with a single test: the other UI tests stay in English. The bundled
//! CJK font is installed as the app does, and kittest fails on any glyph it
//! cannot draw, so a missing character would fail here too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod window;

use std::net::UdpSocket;

use egui_kittest::kittest::Queryable as _;
use udpdesk::i18n::{self, Language};
use udpdesk::settings::{RelayActionKind, RelayForm, Settings};
use window::Ui;

fn relay_settings() -> Settings {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut settings = Settings::default();
    settings.relays.push(RelayForm::default());
    settings.relays[0].listen = "127.0.0.1:0".into();
    settings.relays[0].target = server.local_addr().unwrap().to_string();
    settings
}

#[test]
fn the_chinese_window_runs_a_relay_says_its_errors_and_switches_language() {
    i18n::apply(Some(Language::Chinese));
    let mut ui = Ui::with(relay_settings());
    ui.select("Relay 1");

    // The endpoint list.
    for label in ["+ 服务器", "+ 客户端", "+ 中继"] {
        ui.h.get_by_label(label);
    }
    ui.h.get_by_label("名称");

    // Started and stopped by the Chinese buttons.
    ui.h.get_by_label("中继");
    ui.h.get_by_label("已停止");
    ui.click("启动中继");
    ui.wait_until("the relay to listen", |a| {
        a.session.relays[0].listening.is_some()
    });
    let at = ui.app().session.relays[0].listening.unwrap();
    ui.h.get_by_label_contains(&format!("正在中继 {at}"));
    ui.h.get_by_label_contains("发往服务器 0 · 发往客户端 0");
    ui.click("停止中继");
    ui.wait_until("the relay to stop", |a| !a.session.relays[0].active());

    // The engine's error comes back in Chinese.
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap();
    ui.type_into("监听地址", 0, &taken.to_string());
    ui.click("启动中继");
    ui.wait_until("the relay to fail", |a| {
        !a.session.relays[0].active() && a.session.relays[0].error.is_some()
    });
    // Beside the address, and in the status bar.
    let said = format!("{taken} 已被占用：请关闭占用它的程序，或换一个端口");
    ui.h.get_by_label(&said);
    ui.h.get_by_label(&format!("最近的错误：{said}"));

    // A rule row, its menus named in Chinese.
    ui.click("添加规则");
    ui.choose("则", 0, "丢弃");
    assert_eq!(
        ui.app().settings.relays[0].rules[0].action,
        RelayActionKind::Drop
    );
    ui.choose("匹配", 0, "包含");
    assert_eq!(
        ui.app().settings.relays[0].rules[0].kind,
        udpdesk::net::MatchKind::Contains
    );

    // The server's reply rules: a rule added, and the Try box says which answers.
    ui.select("Server 1");
    ui.click("应答规则");
    ui.click("添加规则");
    ui.h.get_by_label("应答规则（已启用 1 条）");
    ui.type_into("试一试", 0, "ping");
    ui.h.get_by_label("没有规则匹配：由应答方式应答");

    // The client's sequences.
    ui.select("Client 1");
    ui.click("序列");
    ui.click("新建序列");
    ui.h.get_by_label("运行序列");

    // The View menu.
    ui.click("视图");
    for item in [
        "深色主题",
        "浅色主题",
        "图表",
        "有流量时的刷新频率",
        "数据包内存",
    ] {
        ui.h.get_by_label(item);
    }
    ui.click("视图");

    // The language choice, drawn as the View menu will draw it, switches at once.
    let mut menu = egui_kittest::Harness::builder()
        .with_context_setup(udpdesk::ui::fonts::install)
        .build_ui_state(
            |ui, choice: &mut Option<Language>| {
                i18n::language_menu_ui(ui, choice);
            },
            Some(Language::Chinese),
        );
    menu.run();
    menu.get_by_label("语言");
    menu.get_by_label("English").click();
    menu.run();
    assert_eq!(*menu.state(), Some(Language::English));
    assert_eq!(&*rust_i18n::locale(), "en");
    menu.get_by_label("Language");

    // The window follows on its next frame, without a restart.
    ui.h.run_ok();
    ui.h.get_by_label("Run sequence");

    menu.get_by_label("中文").click();
    menu.run();
    assert_eq!(*menu.state(), Some(Language::Chinese));
    assert_eq!(&*rust_i18n::locale(), "zh-CN");
    ui.h.run_ok();
    ui.h.get_by_label("运行序列");
}
