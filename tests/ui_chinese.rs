//! The window in Simplified Chinese, clicked through by its Chinese labels:
//! a relay started and stopped, an engine error ("address in use") said in
//! Chinese, a server refusing a bad port and then answering a client over
//! loopback, the packet table's Chinese columns, relay and reply rules, a
//! sequence, and the View menu's language choice switching back and forth
//! without a restart.
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
use udpdesk::packet::Direction;
use udpdesk::settings::{RelayActionKind, RelayForm, Settings};
use udpdesk::ui::server_panel::RunState;
use window::Ui;

fn relay_settings() -> Settings {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut settings = Settings::default();
    settings.servers[0].bind_ip = "127.0.0.1".into();
    settings.relays.push(RelayForm::default());
    settings.relays[0].listen = "127.0.0.1:0".into();
    settings.relays[0].target = server.local_addr().unwrap().to_string();
    settings
}

#[test]
fn the_chinese_window_runs_a_relay_says_its_errors_and_switches_language() {
    i18n::apply(Some(Language::Chinese));
    let mut ui = Ui::with(relay_settings());
    ui.select("中继 1");

    // The endpoint list.
    for label in ["+ 服务器", "+ 客户端", "+ 中继"] {
        ui.h.get_by_label(label);
    }
    ui.h.get_by_label("名称");
    // New endpoints are named in Chinese too.
    ui.click("+ 中继");
    assert_eq!(ui.app().settings.relays[1].name, "中继 2");
    ui.h.get_all_by_label("×").last().unwrap().click();
    ui.h.run_ok();
    assert_eq!(ui.app().settings.relays.len(), 1);
    ui.select("中继 1");

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

    // A server refuses a bad port in Chinese, then starts on a free one.
    ui.select("服务器 1");
    ui.h.get_by_label("服务器");
    ui.h.get_by_label("绑定地址");
    ui.type_into("端口", 0, "70000");
    ui.click("启动");
    ui.h.get_by_label("“70000”不是端口：请填 0 到 65535 之间的数字");
    assert_eq!(ui.app().session.servers[0].state(), RunState::Stopped);
    ui.type_into("端口", 0, "0");
    ui.click("启动");
    ui.wait_until("the server to start", |a| {
        matches!(a.session.servers[0].state(), RunState::Running(_))
    });
    let RunState::Running(at) = ui.app().session.servers[0].state() else {
        unreachable!()
    };
    ui.h.get_by_label(&format!("正在监听 {at}"));
    // The Reply menu names its modes in Chinese.
    ui.choose("应答", 0, "原样回显");

    // The client sends to it over loopback; the echo comes back.
    ui.select("客户端 1");
    ui.type_into("目标", 0, "127.0.0.1");
    ui.type_into("端口", 0, &at.port().to_string());
    ui.type_into("消息内容", 0, "你好");
    ui.click("发送");
    ui.wait_until("the echo to come back", |a| {
        a.session
            .store
            .views()
            .any(|p| p.direction == Direction::In && a.session.name(p.endpoint) == "客户端 1")
    });
    assert_eq!(ui.count_packets(Direction::In, "服务器 1"), 1);
    ui.h.get_by_label_contains("发 1 /");
    ui.h.get_by_label_contains("已应答 1 / 1");

    // The packet table speaks Chinese: its toolbar, its columns, its directions.
    for label in [
        "筛选",
        "时间",
        "端点",
        "长度",
        "备注",
        "文本",
        "清空",
        "保存记录…",
        "重放…",
    ] {
        ui.h.get_by_label(label);
    }
    for label in ["方向", "对端", "十六进制"] {
        // Also the name of a field or a choice above the table.
        assert!(
            ui.h.get_all_by_label(label).count() >= 2,
            "{label} as a column and a field"
        );
    }
    assert!(ui.h.get_all_by_label("收").count() >= 2, "rows received");
    assert!(ui.h.get_all_by_label("发").count() >= 2, "rows sent");
    ui.h.get_by_label("4 行");

    // The server's reply rules: a rule added, and the Try box says which answers.
    ui.select("服务器 1");
    ui.h.get_by_label_contains("收 1 /");
    ui.click("应答规则");
    ui.click("添加规则");
    ui.h.get_by_label("应答规则（已启用 1 条）");
    ui.type_into("试一试", 0, "ping");
    ui.h.get_by_label("没有规则匹配：由应答方式应答");

    // The client's sequences.
    ui.select("客户端 1");
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
        "语言",
    ] {
        ui.h.get_by_label(item);
    }

    // Its language choice switches the window at once, without a restart
    // (the menu closes on the click).
    ui.click("English");
    assert_eq!(ui.app().settings.language, Some(Language::English));
    assert_eq!(&*rust_i18n::locale(), "en");
    ui.h.get_by_label("Run sequence");
    ui.click("View");
    ui.h.get_by_label("Language");
    ui.click("中文");
    assert_eq!(ui.app().settings.language, Some(Language::Chinese));
    assert_eq!(&*rust_i18n::locale(), "zh-CN");
    ui.h.get_by_label("运行序列");
    ui.click("视图");
    ui.h.get_by_label("语言");
    ui.click("视图");

    // A project's mistake names its field in Chinese too: the field is
    // found from the file's values, not from the message's words.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[server]]\nname = \"a\"\nport = \"99999\"\n").unwrap();
    ui.h.state_mut().open_project_from(bad);
    ui.h.run_ok();
    let said = ui.app().session.last_error.clone().unwrap_or_default();
    assert!(
        said.contains("第 3 行") && said.contains("字段 `port`"),
        "{said}"
    );

    // The server panel back in English, by the same menu.
    ui.select("服务器 1");
    ui.h.get_by_label(&format!("正在监听 {at}"));
    ui.click("视图");
    ui.click("English");
    ui.h.get_by_label(&format!("listening on {at}"));
    ui.choose("Reply", 0, "echo");
}
