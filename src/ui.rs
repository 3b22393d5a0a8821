//! The window's pieces, one panel or widget per file. Each `*_ui` function
//! draws from state and returns what the user asked for; the app applies it.

pub mod capture_bar;
pub mod chart_strip;
pub mod client_panel;
pub mod endpoint_list;
pub mod fonts;
pub mod packet_detail;
pub mod packet_table;
pub mod relay_panel;
pub mod replay_window;
pub mod rows;
pub mod rules_editor;
pub mod sequence_panel;
pub mod server_panel;
pub mod shortcuts;
pub mod status_bar;
pub mod widgets;
