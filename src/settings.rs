//! What the window remembers between runs: its servers, clients and relays
//! with their names, saved messages and the theme. Never packets: settings,
//! not data. Every field has a default, so a file from an older version
//! still loads.

use serde::{Deserialize, Serialize};

use crate::codec::Encoding;

/// Everything remembered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The servers, in the list's order.
    pub servers: Vec<ServerForm>,
    /// The clients.
    pub clients: Vec<ClientForm>,
    /// The relays.
    pub relays: Vec<RelayForm>,
    /// The endpoint whose panel shows.
    pub selected: Selected,
    /// The client that Ctrl+Enter, the saved messages' keys and Replay send
    /// from: the client last shown.
    pub client_shown: usize,
    /// The project last opened or saved: it reopens at start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<std::path::PathBuf>,
    /// The capture file the project names, kept to save it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_capture: Option<std::path::PathBuf>,
    /// Files from before there could be several of each held one server,
    /// client and relay; [`Settings::migrated`] makes them the lists' first.
    #[serde(rename = "server", deserialize_with = "present", skip_serializing)]
    pub old_server: Option<ServerForm>,
    /// See `old_server`.
    #[serde(rename = "client", deserialize_with = "present", skip_serializing)]
    pub old_client: Option<ClientForm>,
    /// See `old_server`.
    #[serde(rename = "relay", deserialize_with = "present", skip_serializing)]
    pub old_relay: Option<RelayForm>,
    /// Messages kept for one-click sending.
    pub saved: Vec<SavedMessage>,
    /// Sequences the client can run.
    pub sequences: Vec<crate::net::Sequence>,
    /// The sequence shown in the client panel.
    pub sequence_shown: usize,
    /// Dark or light.
    pub theme: Theme,
    /// Memory for the packet log, in MiB (0 keeps the default, 256 MiB); the
    /// oldest packets leave memory when it is full.
    pub memory_mib: usize,
    /// How often the window redraws at most while traffic flows.
    pub redraw: crate::app::pacing::RedrawRate,
    /// How long, in milliseconds, the engine lets a packet wait for others to
    /// join its batch before handing it to the window (0 keeps the default, 2 ms).
    pub handover_ms: u64,
    /// Show the chart strip (View → Charts). Off at first: at 1280×800 it
    /// takes a sixth of the table's height, and the table is what most
    /// people came for; the status bar already shows the rates.
    pub charts: bool,
    /// The window's language; `None` follows the system's locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::i18n::Language>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            servers: vec![ServerForm::default()],
            clients: vec![ClientForm::default()],
            relays: Vec::new(),
            selected: Selected::default(),
            client_shown: 0,
            project: None,
            project_capture: None,
            old_server: None,
            old_client: None,
            old_relay: None,
            saved: Vec::new(),
            sequences: Vec::new(),
            sequence_shown: 0,
            theme: Theme::default(),
            memory_mib: 0,
            redraw: crate::app::pacing::RedrawRate::default(),
            handover_ms: 0,
            charts: false,
            language: None,
        }
    }
}

/// A field that, when present, is `Some` (RON writes an `Option` as `Some(..)`,
/// which a file from before the field was optional does not).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The three kinds of endpoint the window runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum EndpointKind {
    /// Answers what it receives.
    #[default]
    Server,
    /// Sends and hears replies.
    Client,
    /// Sits between clients and a server.
    Relay,
}

/// One endpoint in the list: its kind and place among its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Selected {
    /// Server, client or relay.
    pub kind: EndpointKind,
    /// Its index among its kind.
    pub index: usize,
}

/// The first of `prefix 1`, `prefix 2`… that no name in `taken` is.
#[must_use]
pub fn free_name<'a>(prefix: &str, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    (1..)
        .map(|n| format!("{prefix} {n}"))
        .find(|name| !taken.clone().any(|t| t == name))
        .unwrap_or_else(|| prefix.to_owned())
}

/// The largest receive buffer the server panel asks for, in MiB.
pub const MAX_RECV_BUFFER_MIB: usize = 1024;

/// The smallest packet-log budget the settings allow, in MiB.
pub const MIN_MEMORY_MIB: usize = 16;
/// The largest, in MiB.
pub const MAX_MEMORY_MIB: usize = 64 << 10;

/// How a new endpoint's name starts, in the window's language: "Server"
/// makes "Server 1", "Server 2"…
#[must_use]
pub fn name_prefix(kind: EndpointKind) -> std::borrow::Cow<'static, str> {
    match kind {
        EndpointKind::Server => rust_i18n::t!("list.name_server"),
        EndpointKind::Client => rust_i18n::t!("list.name_client"),
        EndpointKind::Relay => rust_i18n::t!("list.name_relay"),
    }
}

impl Settings {
    /// True when an endpoint other than `at` has the name `at` has.
    #[must_use]
    pub fn name_taken(&self, at: Selected) -> bool {
        let Some(name) = self.name(at) else {
            return false;
        };
        let names = self
            .servers
            .iter()
            .map(|f| &f.name)
            .chain(self.clients.iter().map(|f| &f.name))
            .chain(self.relays.iter().map(|f| &f.name));
        names.filter(|n| *n == name).count() > 1
    }

    /// Gives the sequences of the client called `from` to the one called
    /// `to` (empty: to every client).
    pub fn hand_sequences(&mut self, from: &str, to: &str) {
        if from.is_empty() {
            // Those are every client's already.
            return;
        }
        for seq in self.sequences.iter_mut().filter(|s| s.client == from) {
            to.clone_into(&mut seq.client);
        }
    }

    /// The settings with an older file's single server, client and relay
    /// made the first of their lists, and the selection inside the lists.
    #[must_use]
    pub fn migrated(mut self) -> Settings {
        if let Some(server) = self.old_server.take() {
            self.servers = vec![server];
        }
        if let Some(client) = self.old_client.take() {
            self.clients = vec![client];
        }
        if let Some(relay) = self.old_relay.take() {
            // Only a relay that was set up: the default one was never asked for.
            if relay != RelayForm::default() {
                self.relays = vec![relay];
            }
        }
        let len = self.len(self.selected.kind);
        if self.selected.index >= len {
            self.selected = Selected::default();
        }
        self
    }

    /// How many endpoints of `kind` there are.
    #[must_use]
    pub fn len(&self, kind: EndpointKind) -> usize {
        match kind {
            EndpointKind::Server => self.servers.len(),
            EndpointKind::Client => self.clients.len(),
            EndpointKind::Relay => self.relays.len(),
        }
    }

    /// The name of an endpoint in the list, if it is there.
    #[must_use]
    pub fn name(&self, at: Selected) -> Option<&str> {
        match at.kind {
            EndpointKind::Server => self.servers.get(at.index).map(|f| f.name.as_str()),
            EndpointKind::Client => self.clients.get(at.index).map(|f| f.name.as_str()),
            EndpointKind::Relay => self.relays.get(at.index).map(|f| f.name.as_str()),
        }
    }

    /// A new name for an endpoint of `kind` that no endpoint has yet.
    #[must_use]
    pub fn free_name(&self, kind: EndpointKind) -> String {
        let taken = self
            .servers
            .iter()
            .map(|f| f.name.as_str())
            .chain(self.clients.iter().map(|f| f.name.as_str()))
            .chain(self.relays.iter().map(|f| f.name.as_str()));
        free_name(&name_prefix(kind), taken)
    }

    /// The hand-over delay, defaulting to the engine's when unset.
    #[must_use]
    pub fn handover_delay(&self) -> std::time::Duration {
        if self.handover_ms == 0 {
            crate::net::DEFAULT_HANDOVER_DELAY
        } else {
            std::time::Duration::from_millis(self.handover_ms).min(crate::net::MAX_HANDOVER_DELAY)
        }
    }

    /// The packet log's memory budget in bytes, within 16 MiB and 64 GiB so
    /// a bad stored value can neither empty the table nor exhaust the machine.
    #[must_use]
    pub fn memory_budget(&self) -> usize {
        if self.memory_mib == 0 {
            crate::capture::PacketStore::DEFAULT_BUDGET
        } else {
            self.memory_mib.clamp(MIN_MEMORY_MIB, MAX_MEMORY_MIB) << 20
        }
    }
}

/// The window's colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    /// Light text on dark.
    #[default]
    Dark,
    /// Dark text on light.
    Light,
}

/// The kinds of reply the server panel offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ReplyKind {
    /// Send it back.
    #[default]
    Echo,
    /// Send it back upper-cased.
    Upper,
    /// Fill the template.
    Template,
    /// A fixed acknowledgement.
    Fixed,
    /// Reply by hand.
    Manual,
    /// Say nothing.
    None,
}

impl ReplyKind {
    /// Every kind, in menu order.
    pub const ALL: [ReplyKind; 6] = [
        ReplyKind::Echo,
        ReplyKind::Upper,
        ReplyKind::Template,
        ReplyKind::Fixed,
        ReplyKind::Manual,
        ReplyKind::None,
    ];
}

/// The server panel's fields, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerForm {
    /// What the list, the table and saved logs call it ("PLC sim").
    pub name: String,
    /// The address to bind, as typed or picked.
    pub bind_ip: String,
    /// The port, as typed (0 = any free port).
    pub port: String,
    /// How to answer.
    pub reply: ReplyKind,
    /// The template text for template mode.
    pub template: String,
    /// The acknowledgement for fixed mode.
    pub fixed: String,
    /// Received text and replies use this encoding.
    pub encoding: Encoding,
    /// Empty for none.
    pub quit_word: String,
    /// Allow broadcast replies.
    pub broadcast: bool,
    /// The receive buffer to ask the kernel for, in MiB (0 keeps the default, 4 MiB).
    pub recv_buffer_mib: usize,
    /// Automatic replies a second to one peer (0: no limit).
    pub reply_limit_peer: u32,
    /// Automatic replies a second in all (0: no limit).
    pub reply_limit_total: u32,
    /// Reply rules, asked in order before the reply mode.
    pub rules: Vec<crate::net::Rule>,
    /// The checksum received datagrams carry, checked and marked when it
    /// fails (`crc16_modbus`, `xor8:hex@from=1@gap=1@trailer=2`…); empty for none.
    pub verify: String,
}

impl Default for ServerForm {
    fn default() -> Self {
        ServerForm {
            name: format!("{} 1", name_prefix(EndpointKind::Server)),
            bind_ip: "127.0.0.1".to_owned(),
            port: "9999".to_owned(),
            reply: ReplyKind::Echo,
            template: "Hello, {text}!".to_owned(),
            fixed: "收到你的消息了".to_owned(),
            encoding: Encoding::Utf8,
            quit_word: String::new(),
            broadcast: false,
            recv_buffer_mib: 0,
            reply_limit_peer: crate::net::ReplyLimit::default().per_peer,
            reply_limit_total: crate::net::ReplyLimit::default().total,
            rules: Vec::new(),
            verify: String::new(),
        }
    }
}

/// How the client's message is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MessageMode {
    /// Text with escapes such as `\r\n`.
    #[default]
    Text,
    /// Hex bytes.
    Hex,
}

/// The client panel's fields, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientForm {
    /// What the list, the table and saved logs call it ("sensor 2").
    pub name: String,
    /// Host name or address.
    pub host: String,
    /// The port, as typed.
    pub port: String,
    /// Local address to send from; empty for any.
    pub bind: String,
    /// The message being edited.
    pub message: String,
    /// Text or hex.
    pub mode: MessageMode,
    /// Messages and replies use this encoding.
    pub encoding: Encoding,
    /// How many times to send (0 = until stopped).
    pub count: u64,
    /// Milliseconds between datagrams.
    pub interval_ms: u64,
    /// Send each line of the message as its own datagram.
    /// The message is a template: `{seq}`, `{time}`, checksums… are filled
    /// in for every datagram (`{{` for a literal brace).
    pub variables: bool,
    /// The checksum replies carry, checked and marked when it fails; empty for none.
    pub verify: String,
    pub per_line: bool,
    /// Allow sending to broadcast addresses.
    pub broadcast: bool,
}

impl Default for ClientForm {
    fn default() -> Self {
        ClientForm {
            name: format!("{} 1", name_prefix(EndpointKind::Client)),
            host: "127.0.0.1".to_owned(),
            port: "9999".to_owned(),
            bind: String::new(),
            message: "Hello, world".to_owned(),
            mode: MessageMode::Text,
            encoding: Encoding::Utf8,
            count: 1,
            interval_ms: 1000,
            verify: String::new(),
            variables: false,
            per_line: false,
            broadcast: false,
        }
    }
}

/// A message kept for one-click sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SavedMessage {
    /// What the button says.
    pub name: String,
    /// The message as written.
    pub message: String,
    /// Text or hex.
    pub mode: MessageMode,
    /// Its encoding.
    pub encoding: Encoding,
    /// One datagram per line.
    pub per_line: bool,
}

/// The relay panel's fields, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelayForm {
    /// What the list, the table and saved logs call it.
    pub name: String,
    /// Where clients send: `ADDR:PORT`.
    pub listen: String,
    /// The server: `HOST:PORT`.
    pub target: String,
    /// Seconds a client's mapping lives without traffic.
    pub idle_secs: String,
    /// How the packets' text is shown and rewrite templates encoded.
    pub encoding: Encoding,
    /// The rules, in order.
    pub rules: Vec<RelayRuleForm>,
    /// The datagram to inject, as text with escapes or hex.
    pub inject: String,
    /// `inject` is hex.
    pub inject_hex: bool,
}

impl Default for RelayForm {
    fn default() -> Self {
        RelayForm {
            name: format!("{} 1", name_prefix(EndpointKind::Relay)),
            listen: "127.0.0.1:7000".to_owned(),
            target: "127.0.0.1:9999".to_owned(),
            idle_secs: "60".to_owned(),
            encoding: Encoding::Utf8,
            rules: Vec::new(),
            inject: String::new(),
            inject_hex: false,
        }
    }
}

/// One relay rule, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelayRuleForm {
    /// A disabled rule is kept but skipped.
    pub enabled: bool,
    /// Which way it acts.
    pub toward: crate::net::Toward,
    /// How `pattern` is read.
    pub kind: crate::net::MatchKind,
    /// What to look for.
    pub pattern: String,
    /// What it does.
    pub action: RelayActionKind,
    /// The action's value: milliseconds, copies, a template or hex.
    pub value: String,
}

impl Default for RelayRuleForm {
    fn default() -> Self {
        RelayRuleForm {
            enabled: true,
            toward: crate::net::Toward::Server,
            kind: crate::net::MatchKind::Contains,
            pattern: String::new(),
            action: RelayActionKind::Drop,
            value: String::new(),
        }
    }
}

/// What a relay rule does, as picked in the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RelayActionKind {
    /// Pass it on.
    Forward,
    /// Let it vanish.
    #[default]
    Drop,
    /// Pass it on later (value: milliseconds).
    Delay,
    /// Pass it on with extra copies (value: how many).
    Duplicate,
    /// Send a template's text instead (value: the template).
    RewriteText,
    /// Send these bytes instead (value: hex).
    RewriteHex,
}

impl RelayActionKind {
    /// Every kind, as the menu lists them.
    pub const ALL: [RelayActionKind; 6] = [
        RelayActionKind::Forward,
        RelayActionKind::Drop,
        RelayActionKind::Delay,
        RelayActionKind::Duplicate,
        RelayActionKind::RewriteText,
        RelayActionKind::RewriteHex,
    ];

    /// A hint for the value field, or `None` when the action takes no value.
    #[must_use]
    pub fn value_hint(self) -> Option<&'static str> {
        match self {
            RelayActionKind::Forward | RelayActionKind::Drop => None,
            RelayActionKind::Delay => Some("200"),
            RelayActionKind::Duplicate => Some("1"),
            RelayActionKind::RewriteText => Some("{text}"),
            RelayActionKind::RewriteHex => Some("de ad"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_old_file_with_missing_fields_still_loads() {
        let old = r#"{"server":{"port":"7000"},"saved":[{"name":"ping"}]}"#;
        let s: Settings = serde_json::from_str::<Settings>(old).unwrap().migrated();
        assert_eq!(s.servers.len(), 1);
        assert_eq!(s.servers[0].port, "7000");
        assert_eq!(s.servers[0].bind_ip, "127.0.0.1");
        assert_eq!(s.servers[0].name, "Server 1");
        assert_eq!(s.saved[0].name, "ping");
        assert_eq!(s.clients, vec![ClientForm::default()]);
        assert!(s.relays.is_empty());
    }

    #[test]
    fn an_old_ron_file_moves_into_the_lists() {
        let old =
            r#"(server: (port: "7000"), client: (host: "::1"), relay: (listen: "127.0.0.1:7100"))"#;
        let s = ron::from_str::<Settings>(old).unwrap().migrated();
        assert_eq!(s.servers[0].port, "7000");
        assert_eq!(s.clients[0].host, "::1");
        assert_eq!(s.relays[0].listen, "127.0.0.1:7100");
        let again = ron::to_string(&s).unwrap();
        assert!(!again.contains("server:"), "{again}");
        assert_eq!(ron::from_str::<Settings>(&again).unwrap().migrated(), s);
    }

    #[test]
    fn new_names_are_free() {
        let mut s = Settings::default();
        assert_eq!(s.free_name(EndpointKind::Server), "Server 2");
        s.clients[0].name = "Server 2".to_owned();
        assert_eq!(s.free_name(EndpointKind::Server), "Server 3");
        assert_eq!(s.free_name(EndpointKind::Relay), "Relay 1");
    }

    #[test]
    fn settings_round_trip() {
        let mut s = Settings::default();
        s.clients[0].encoding = Encoding::Gbk;
        s.servers.push(ServerForm {
            name: "PLC sim".to_owned(),
            ..ServerForm::default()
        });
        s.theme = Theme::Light;
        let back: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
