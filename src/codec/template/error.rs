//! Why a template did not compile, said so the user can mend it.

use rust_i18n::t;

use super::super::error::CodecError;
use super::{Mode, Scope};

/// A template that cannot be compiled. Every `index` is a 0-based character
/// position in the template; the messages count from 1. Placeholder names are
/// shown with control characters escaped and cut short when long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{}", t!("template.unknown", name = .name, at = .index + 1, known = known(*.scope)))]
    Unknown {
        name: String,
        index: usize,
        scope: Scope,
    },
    #[error("{}", t!("template.reply_only", name = .name, at = .index + 1))]
    ReplyOnly { name: String, index: usize },
    #[error("{}", t!("template.bad_argument", name = .placeholder, at = .index + 1, detail = .detail))]
    BadArgument {
        placeholder: String,
        index: usize,
        detail: String,
    },
    #[error("{}", t!("template.unclosed", at = .index + 1, hint = brace_hint(*.mode, '{')))]
    Unclosed { index: usize, mode: Mode },
    #[error("{}", t!("template.unopened", at = .index + 1, hint = brace_hint(*.mode, '}')))]
    Unopened { index: usize, mode: Mode },
    /// Bad escapes, bad hex or text the encoding cannot carry, counted in the whole template.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

fn known(scope: Scope) -> std::borrow::Cow<'static, str> {
    match scope {
        Scope::Send => t!("template.known_send"),
        Scope::Reply => t!("template.known_reply"),
    }
}

fn brace_hint(mode: Mode, brace: char) -> std::borrow::Cow<'static, str> {
    match mode {
        Mode::Text => t!("template.brace_text", brace = brace),
        Mode::Hex => t!(
            "template.brace_hex",
            byte = format!("{:02x}", u32::from(brace)),
            brace = brace
        ),
    }
}
