//! Projects in the window: File → Open project and Save project, and the
//! last project reopened at start. A project holds the endpoints with their
//! names and rules, the saved messages, the sequences and the capture file;
//! `udpdesk run` runs the same file headless.

use std::path::{Path, PathBuf};

use crate::project::Project;
use crate::settings::{EndpointKind, Selected};

use super::UdpDeskApp;

impl UdpDeskApp {
    /// The window's endpoints, messages and sequences as a project.
    #[must_use]
    pub fn project(&self) -> Project {
        let s = &self.settings;
        Project {
            capture: self
                .session
                .capture
                .file
                .clone()
                .or_else(|| s.project_capture.clone()),
            servers: s.servers.clone(),
            clients: s.clients.clone(),
            relays: s.relays.clone(),
            saved: s.saved.clone(),
            sequences: s.sequences.clone(),
        }
    }

    /// Writes the project to `path` and remembers it. The save dialog ends
    /// here too, so tests can hand a path in directly.
    pub fn save_project_to(&mut self, path: PathBuf) {
        match self.project().save(&path) {
            Ok(()) => {
                self.session.status = Some(format!("Project saved to {}", path.display()));
                self.settings.project = Some(path);
            }
            Err(e) => {
                self.session.last_error = Some(format!("{e}; the endpoints are as they were"));
            }
        }
    }

    /// Saves to the project's file, or asks where when there is none yet.
    pub(super) fn save_project(&mut self) {
        match self.settings.project.clone() {
            Some(path) => self.save_project_to(path),
            None => self.ask_path(super::save::Purpose::SaveProject),
        }
    }

    /// Opens the project at `path`: its endpoints replace the window's (those
    /// running stop), and its capture starts. A file that cannot be read
    /// changes nothing. The open dialog ends here too.
    pub fn open_project_from(&mut self, path: PathBuf) {
        match Project::load(&path) {
            Ok(project) => {
                let summary = summary(&project, &path);
                self.use_project(project);
                self.settings.project = Some(path);
                self.session.status = Some(summary);
            }
            Err(e) => {
                self.session.last_error = Some(format!("{e}; the endpoints are as they were"));
            }
        }
    }

    /// At start: the last project again, or the remembered endpoints and why.
    pub(super) fn reopen_project(&mut self, path: PathBuf) {
        match Project::load(&path) {
            Ok(project) => {
                self.session.status = Some(summary(&project, &path));
                self.use_project(project);
            }
            Err(e) => {
                self.session.last_error = Some(format!(
                    "The last project could not be reopened ({e}); the endpoints are those remembered"
                ));
            }
        }
    }

    fn use_project(&mut self, project: Project) {
        for kind in [
            EndpointKind::Server,
            EndpointKind::Client,
            EndpointKind::Relay,
        ] {
            for index in (0..self.session_len(kind)).rev() {
                self.session.remove(kind, index);
            }
        }
        let s = &mut self.settings;
        s.sequences = project.sequences;
        s.servers = project.servers;
        s.clients = project.clients;
        s.relays = project.relays;
        s.saved = project.saved;
        s.sequence_shown = 0;
        s.client_shown = 0;
        s.selected = [
            EndpointKind::Server,
            EndpointKind::Client,
            EndpointKind::Relay,
        ]
        .into_iter()
        .find(|k| s.len(*k) > 0)
        .map(|kind| Selected { kind, index: 0 })
        .unwrap_or_default();
        s.project_capture.clone_from(&project.capture);
        self.session.fit(&self.settings);
        if let Some(file) = project.capture
            && self.session.capture.file.as_deref() != Some(file.as_path())
        {
            if self.session.capture.file.is_some() {
                self.session.stop_capture();
            }
            self.start_capture_to(file);
        }
    }

    fn session_len(&self, kind: EndpointKind) -> usize {
        match kind {
            EndpointKind::Server => self.session.servers.len(),
            EndpointKind::Client => self.session.clients.len(),
            EndpointKind::Relay => self.session.relays.len(),
        }
    }
}

/// "Opened project bench.toml: 2 servers, 1 client, 0 relays, 3 sequences".
fn summary(project: &Project, path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let count = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    format!(
        "Opened project {name}: {}, {}, {}, {}",
        count(project.servers.len(), "server"),
        count(project.clients.len(), "client"),
        count(project.relays.len(), "relay"),
        count(project.sequences.len(), "sequence")
    )
}
