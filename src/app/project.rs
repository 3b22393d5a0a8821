//! Projects in the window: File → Open project and Save project, and the
//! last project reopened at start. A project holds the endpoints with their
//! names and rules, the saved messages, the sequences and the capture file;
//! `udpdesk run` runs the same file headless.

use std::path::{Path, PathBuf};

use rust_i18n::t;

use crate::project::Project;
use crate::settings::{EndpointKind, Selected};

use super::UdpDeskApp;

impl UdpDeskApp {
    /// The window's endpoints, messages and sequences as a project.
    #[must_use]
    pub fn project(&self) -> Project {
        let s = &self.settings;
        Project {
            capture: self.capture_to_save(),
            servers: s.servers.clone(),
            clients: s.clients.clone(),
            relays: s.relays.clone(),
            saved: s.saved.clone(),
            sequences: s.sequences.clone(),
        }
    }

    /// The capture a saved project names: the project's own as it was
    /// written (relative names stay relative) while that is the file being
    /// captured to, else the file being captured to, else the project's.
    fn capture_to_save(&self) -> Option<PathBuf> {
        let s = &self.settings;
        let raw = s.project_capture.as_ref();
        let resolved = match (raw, &s.project) {
            (Some(raw), Some(file)) => Some(crate::project::capture_beside(raw, file)),
            _ => raw.cloned(),
        };
        match &self.session.capture.file {
            Some(now) if Some(now) != resolved.as_ref() => Some(now.clone()),
            _ => raw.cloned(),
        }
    }

    /// Writes the project to `path` and remembers it. The save dialog ends
    /// here too, so tests can hand a path in directly.
    pub fn save_project_to(&mut self, path: PathBuf) {
        self.finish_rename();
        match self.project().save(&path) {
            Ok(()) => {
                self.session.status =
                    Some(t!("project_window.saved", path = path.display()).into_owned());
                self.settings.project = Some(path);
            }
            Err(e) => {
                self.session.last_error =
                    Some(t!("project_window.unchanged", error = e).into_owned());
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
                self.use_project(project, &path);
                self.settings.project = Some(path);
                self.session.status = Some(summary);
            }
            Err(e) => {
                self.session.last_error =
                    Some(t!("project_window.unchanged", error = e).into_owned());
            }
        }
    }

    /// At start: the last project again, or the remembered endpoints and why.
    pub(super) fn reopen_project(&mut self, path: PathBuf) {
        match Project::load(&path) {
            Ok(project) => {
                self.session.status = Some(summary(&project, &path));
                self.use_project(project, &path);
            }
            Err(e) => {
                self.session.last_error =
                    Some(t!("project_window.cannot_reopen", error = e).into_owned());
            }
        }
    }

    fn use_project(&mut self, project: Project, path: &Path) {
        let capture = project.capture_path(path);
        for kind in [
            EndpointKind::Server,
            EndpointKind::Client,
            EndpointKind::Relay,
        ] {
            for index in (0..self.session.len(kind)).rev() {
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
        if let Some(file) = capture
            && self.session.capture.file.as_deref() != Some(file.as_path())
        {
            if self.session.capture.file.is_some() {
                self.session.stop_capture();
            }
            self.start_capture_to(file);
        }
    }
}

/// "Opened project bench.toml: 2 servers, 1 client, 0 relays, 3 sequences".
fn summary(project: &Project, path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let p = project;
    let (servers, clients, relays, sequences) = (
        p.servers.len(),
        p.clients.len(),
        p.relays.len(),
        p.sequences.len(),
    );
    t!(
        "project_window.opened",
        name = name,
        servers = if servers == 1 {
            t!("project_window.server", count = servers)
        } else {
            t!("project_window.servers", count = servers)
        },
        clients = if clients == 1 {
            t!("project_window.client", count = clients)
        } else {
            t!("project_window.clients", count = clients)
        },
        relays = if relays == 1 {
            t!("project_window.relay", count = relays)
        } else {
            t!("project_window.relays", count = relays)
        },
        sequences = if sequences == 1 {
            t!("project_window.sequence", count = sequences)
        } else {
            t!("project_window.sequences", count = sequences)
        }
    )
    .into_owned()
}
