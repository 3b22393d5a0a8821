//! The window's keyboard shortcuts, in one place: what each does, how menus
//! and buttons show it, and which one the keyboard pressed this frame.

use egui::{Key, KeyboardShortcut, Modifiers};

/// Ctrl+Enter: send the client's message.
pub const SEND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
/// Ctrl+F: put the cursor in the table's filter.
pub const FILTER: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
/// Ctrl+S: save the log.
pub const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
/// Ctrl+L: clear the log.
pub const CLEAR: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::L);

/// Ctrl+1 … Ctrl+9: send saved message 1 … 9.
pub const SAVED: [KeyboardShortcut; 9] = [
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num2),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num3),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num4),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num5),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num6),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num7),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num8),
    KeyboardShortcut::new(Modifiers::COMMAND, Key::Num9),
];

/// A shortcut pressed this frame.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressed {
    /// Send the client's message.
    Send,
    /// Focus the filter.
    Filter,
    /// Save the log.
    Save,
    /// Clear the log.
    Clear,
    /// Send saved message `n` (from 0).
    Saved(usize),
}

/// Takes this frame's shortcuts from the input (so a text field does not
/// also see them), in the order they were pressed.
pub fn pressed(ctx: &egui::Context) -> Vec<Pressed> {
    ctx.input_mut(|i| {
        let mut out = Vec::new();
        for (shortcut, what) in [
            (SEND, Pressed::Send),
            (FILTER, Pressed::Filter),
            (SAVE, Pressed::Save),
            (CLEAR, Pressed::Clear),
        ] {
            if i.consume_shortcut(&shortcut) {
                out.push(what);
            }
        }
        for (n, shortcut) in SAVED.iter().enumerate() {
            if i.consume_shortcut(shortcut) {
                out.push(Pressed::Saved(n));
            }
        }
        out
    })
}

/// How `shortcut` is written on this platform: `Ctrl+S`, or `⌘S` on a Mac.
#[must_use]
pub fn label(ctx: &egui::Context, shortcut: &KeyboardShortcut) -> String {
    ctx.format_shortcut(shortcut)
}
