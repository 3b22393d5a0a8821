//! A project file: one TOML file holding a test bench's servers, clients and
//! relays with their names, saved messages, sequences and the capture
//! setting, as `udpdesk run PROJECT.toml` starts them.

mod check;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::net::Sequence;
use crate::settings::{ClientForm, RelayForm, SavedMessage, ServerForm};

/// Everything one project file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    /// Written to on every run, from the first packet; the extension picks the
    /// format (`.pcapng`, `.pcap`, `.csv`, `.jsonl`, `.txt`), as `serve --capture`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<PathBuf>,
    /// `[[server]]` tables.
    #[serde(rename = "server")]
    pub servers: Vec<ServerForm>,
    /// `[[client]]` tables.
    #[serde(rename = "client")]
    pub clients: Vec<ClientForm>,
    /// `[[relay]]` tables.
    #[serde(rename = "relay")]
    pub relays: Vec<RelayForm>,
    /// `[[message]]` tables: the window's one-click messages.
    #[serde(rename = "message")]
    pub saved: Vec<SavedMessage>,
    /// `[[sequence]]` tables, each run from its client to that client's target.
    #[serde(rename = "sequence")]
    pub sequences: Vec<Sequence>,
}

impl Project {
    /// Reads a project's text and checks every endpoint and sequence.
    ///
    /// # Errors
    /// The line and field of the first mistake.
    pub fn parse(text: &str) -> Result<Project, String> {
        let project: Project = crate::net::parse_strict(text, &rust_i18n::t!("project.fields"))?;
        check::check(&project, text)?;
        Ok(project)
    }

    /// The index of the client that runs `sequence`.
    #[must_use]
    pub fn client_of(&self, sequence: &Sequence) -> Option<usize> {
        if sequence.client.is_empty() {
            return (!self.clients.is_empty()).then_some(0);
        }
        self.clients.iter().position(|c| c.name == sequence.client)
    }

    /// The file's text.
    ///
    /// # Errors
    /// Never in practice: every field is a string, number, boolean or table.
    pub fn to_text(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }

    /// Reads and checks a project file.
    ///
    /// # Errors
    /// The file cannot be read, or the line and field of its first mistake.
    pub fn load(path: &Path) -> Result<Project, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| rust_i18n::t!("project.cannot_read", path = path.display(), error = e))?;
        Project::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The capture file for the project read from `project_file`: a relative
    /// name lives beside the project, so a project checked into a repository
    /// writes its capture there whatever folder it is run from. The project
    /// keeps the name as written, to save it back so.
    #[must_use]
    pub fn capture_path(&self, project_file: &Path) -> Option<PathBuf> {
        let capture = self.capture.as_ref()?;
        Some(capture_beside(capture, project_file))
    }

    /// Writes the project to `path` through a temporary file in the same
    /// folder, renamed over it: a crash leaves the old file or the new, never half.
    ///
    /// # Errors
    /// The project would not open again (two endpoints of one name), or the
    /// folder cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = self.to_text()?;
        // Only what would open again is written.
        Project::parse(&text).map_err(|e| {
            rust_i18n::t!("project.not_saved", path = path.display(), error = e).into_owned()
        })?;
        let file_name = path
            .file_name()
            .ok_or_else(|| rust_i18n::t!("project.not_a_file_name", path = path.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(".tmp");
        let temp = path.with_file_name(temp_name);
        let said = |e: std::io::Error| {
            rust_i18n::t!("project.cannot_save", path = path.display(), error = e).into_owned()
        };
        std::fs::write(&temp, text).map_err(said)?;
        std::fs::rename(&temp, path).map_err(|e| {
            let _removed = std::fs::remove_file(&temp);
            said(e)
        })
    }
}

/// Where a project's `capture` name points: a relative name is taken from
/// the project file's folder.
#[must_use]
pub fn capture_beside(capture: &Path, project_file: &Path) -> PathBuf {
    match project_file.parent() {
        Some(folder) if capture.is_relative() => folder.join(capture),
        _ => capture.to_path_buf(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BENCH: &str = r#"
[[server]]
name = "PLC 模拟"
port = "0"
reply = "Fixed"
fixed = "收到你的消息了"
encoding = "Gbk"

[[client]]
name = "sensor"
port = "9999"

[[sequence]]
name = "login"
client = "sensor"
repeat = 2

[[sequence.step]]
kind = "send"
text = "hello"
"#;

    #[test]
    fn a_project_round_trips() {
        let project = Project::parse(BENCH).unwrap();
        assert_eq!(project.servers[0].name, "PLC 模拟");
        assert_eq!(project.client_of(&project.sequences[0]), Some(0));
        let again = Project::parse(&project.to_text().unwrap()).unwrap();
        assert_eq!(again, project);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        project.save(&path).unwrap();
        assert_eq!(Project::load(&path).unwrap(), project);
    }

    #[test]
    fn mistakes_name_their_line_and_field() {
        let cases = [
            (
                BENCH.replace("port = \"0\"", "port = \"99999\""),
                "line 4",
                "port",
            ),
            (
                BENCH.replace("name = \"sensor\"", "name = \"PLC 模拟\""),
                "line 10",
                "name",
            ),
            (
                BENCH.replace("client = \"sensor\"", "client = \"nobody\""),
                "line 15",
                "client",
            ),
            (
                BENCH.replace("port = \"9999\"", "port = \"x\""),
                "line 11",
                "port",
            ),
            (
                BENCH.replace("repeat = 2", "repaet = 2"),
                "line 16",
                "repaet",
            ),
        ];
        for (text, line, field) in cases {
            let error = Project::parse(&text).unwrap_err();
            assert!(error.contains(line) && error.contains(field), "{error}");
        }
    }
}
