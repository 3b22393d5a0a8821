//! Text and hex codecs: bytes to safe display text and back, in the encodings udpdesk supports.

mod chars;
mod checksum;
mod decode;
mod drawable;
mod dump;
mod encode;
mod encoding;
mod error;
mod escape;
mod hex;
#[cfg(test)]
mod roundtrip_tests;
mod template;
mod upper;

pub use checksum::{Algorithm, ChecksumError, Sum, SumFormat, Verdict, Verify};
pub use decode::{decode, decode_into};
pub use drawable::escape_undrawable;
pub use dump::hex_dump;
pub use encode::encode;
pub use encoding::Encoding;
pub use error::CodecError;
pub use escape::{escape_bytes, parse_escaped};
pub use hex::{hex_preview, parse_hex, to_hex, write_hex};
pub use template::{Context, Mode, Request, Scope, Template, TemplateError};
pub use upper::{strict_text, upper};
