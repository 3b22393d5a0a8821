//! udpdesk: a desktop UDP messenger and tester.
//!
//! The core ([`net`], [`packet`], [`codec`], [`capture`]) knows nothing of the
//! window: the engine in [`net`] owns every socket on a background thread and
//! talks to its owner (the window in [`app`], or the command line in [`cli`])
//! only through its `Command` and `Event` types.

// The window's texts in every language (`assets/locales`), looked up with
// `rust_i18n::t!`. Until something sets the locale it is English, which is
// what the command line and the tests read.
rust_i18n::i18n!("assets/locales", fallback = "en");

pub mod app;
pub mod capture;
pub mod cli;
pub mod codec;
pub mod i18n;
pub mod net;
pub mod packet;
pub mod project;
pub mod settings;
pub mod ui;
