//! Why a template did not compile, said so the user can mend it.

use super::super::error::CodecError;
use super::{Mode, Scope};

/// A template that cannot be compiled. Every `index` is a 0-based character
/// position in the template; the messages count from 1. Placeholder names are
/// shown with control characters escaped and cut short when long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}} at character {}: {}", .index + 1, known(*.scope))]
    Unknown {
        name: String,
        index: usize,
        scope: Scope,
    },
    #[error(
        "{{{name}}} at character {} only works in a server's replies, where there is a datagram to answer",
        .index + 1
    )]
    ReplyOnly { name: String, index: usize },
    #[error("{{{placeholder}}} at character {}: {detail}", .index + 1)]
    BadArgument {
        placeholder: String,
        index: usize,
        detail: String,
    },
    #[error("the brace at character {} is never closed; {}", .index + 1, brace_hint(*.mode, '{'))]
    Unclosed { index: usize, mode: Mode },
    #[error("the brace at character {} was never opened; {}", .index + 1, brace_hint(*.mode, '}'))]
    Unopened { index: usize, mode: Mode },
    /// Bad escapes, bad hex or text the encoding cannot carry, counted in the whole template.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

fn known(scope: Scope) -> &'static str {
    match scope {
        Scope::Send => {
            "use {seq}, {seq:u16be} (or u8, u16le, u32be, u32le, u64be, u64le), {time}, {unix_ms}, \
             {random:N}, {uuid}, {begin}, {end}, or a checksum: {crc16_modbus}, {crc16_ccitt}, {crc32}, \
             {sum8}, {xor8} ({text}, {upper}, {hex}, {peer}, {len} and {0} to {9} only in replies)"
        }
        Scope::Reply => {
            "use {text}, {upper}, {hex}, {peer}, {len}, {0} to {9}, {seq}, {seq:u16be} (or u8, u16le, \
             u32be, u32le, u64be, u64le), {time}, {unix_ms}, {random:N}, {uuid}, {begin}, {end}, or a \
             checksum: {crc16_modbus}, {crc16_ccitt}, {crc32}, {sum8}, {xor8}"
        }
    }
}

fn brace_hint(mode: Mode, brace: char) -> String {
    match mode {
        Mode::Text => format!("write {brace}{brace} for a literal brace"),
        Mode::Hex => format!("write {:02x} for a {brace} byte", u32::from(brace)),
    }
}
