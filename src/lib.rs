//! udpdesk: a desktop UDP messenger and tester.
//!
//! The core ([`net`], [`packet`], [`codec`], [`capture`]) knows nothing of the
//! window: the engine in [`net`] owns every socket on a background thread and
//! talks to its owner (the window in [`app`], or the command line in [`cli`])
//! only through its `Command` and `Event` types.

pub mod app;
pub mod capture;
pub mod cli;
pub mod codec;
pub mod net;
pub mod packet;
pub mod project;
pub mod settings;
pub mod ui;
