//! Reading the remembered settings at start. A settings file that cannot be
//! read is not silently replaced by the defaults at the next save: it is
//! kept aside under a new name, and the window says so.

use std::fmt;
use std::path::{Path, PathBuf};

use rust_i18n::t;

use crate::settings::Settings;

/// Remembered settings that could not be read, and what became of their
/// file. It is said with `Display` once the window's language is set, which
/// needs the settings first.
#[derive(Debug)]
pub struct Unreadable {
    /// The parser's complaint, on one line.
    problem: String,
    /// Where the old file was kept, or why it could not be; `None` without a file.
    kept: Option<Result<PathBuf, String>>,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problem = &self.problem;
        let said = match &self.kept {
            Some(Ok(path)) => t!("restore.kept", problem = problem, path = path.display()),
            Some(Err(e)) => t!("restore.not_kept", problem = problem, error = e),
            None => t!("restore.unreadable", problem = problem),
        };
        f.write_str(&said)
    }
}

/// The settings to start with, and what went wrong when the remembered ones
/// could not be read. `stored` is what eframe's storage holds under the
/// app's key; `file` is that storage's file.
#[must_use]
pub fn restore(stored: Option<String>, file: Option<&Path>) -> (Settings, Option<Unreadable>) {
    let problem = match stored {
        Some(raw) => match ron::from_str::<Settings>(&raw) {
            Ok(settings) => return (settings.migrated(), None),
            Err(e) => e.to_string(),
        },
        // Nothing under the key: a first start, or a file eframe itself could not read.
        None => match file.map(std::fs::read_to_string) {
            Some(Ok(text)) if !text.trim().is_empty() => {
                match ron::from_str::<std::collections::HashMap<String, String>>(&text) {
                    Ok(_) => return (Settings::default(), None),
                    Err(e) => e.to_string(),
                }
            }
            _ => return (Settings::default(), None),
        },
    };
    let kept = file.map(|f| keep_aside(f).map_err(|e| e.to_string()));
    let unreadable = Unreadable {
        problem: one_line(&problem),
        kept,
    };
    (Settings::default(), Some(unreadable))
}

/// Copies `file` to `NAME.unreadable-DATE-TIME` beside it.
fn keep_aside(file: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = file
        .file_name()
        .map_or_else(|| "app.ron".into(), |n| n.to_string_lossy());
    let aside = file.with_file_name(format!("{name}.unreadable-{stamp}"));
    std::fs::copy(file, &aside)?;
    Ok(aside)
}

/// A parser's message on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn good_settings_come_back() {
        let s = Settings {
            memory_mib: 64,
            ..Settings::default()
        };
        let raw = ron::to_string(&s).unwrap();
        let (back, message) = restore(Some(raw), None);
        assert_eq!(back, s);
        assert!(message.is_none());
    }

    #[test]
    fn a_first_start_is_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let (s, message) = restore(None, Some(&dir.path().join("app.ron")));
        assert_eq!(s, Settings::default());
        assert!(message.is_none());
    }

    #[test]
    fn unreadable_settings_are_kept_aside_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.ron");
        std::fs::write(&file, "{\"app\": \"(server: (port: 7,\"}").unwrap();
        let (s, message) = restore(Some("(server: (port: 7,".to_owned()), Some(&file));
        assert_eq!(s, Settings::default());
        let message = message.unwrap().to_string();
        assert!(
            message.starts_with("The saved settings could not be read ("),
            "{message}"
        );
        assert!(message.contains("kept the old file as"), "{message}");
        assert!(!message.contains('\n'));
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("app.ron.unreadable-"))
            .collect();
        assert_eq!(kept.len(), 1);
        // A file eframe itself could not read (so nothing under the key).
        std::fs::write(&file, "not ron at all {{{").unwrap();
        let (_, message) = restore(None, Some(&file));
        assert!(message.unwrap().to_string().contains("could not be read"));
    }
}
