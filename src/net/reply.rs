//! How a server answers each datagram: the reply modes people know from the
//! classic tutorial servers, and the template language of `template` mode.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::SystemTime;

use crate::codec::{self, Encoding};

use super::error::NetError;

/// A server's answer rule, as the user chooses it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ReplyMode {
    /// Send every datagram back unchanged.
    #[default]
    Echo,
    /// Send the text back upper-cased.
    Upper,
    /// Fill a template: `{text}`, `{peer}`, `{time}`, `{seq}`, `{len}`, `{hex}`; `{{` and `}}` for braces;
    /// escapes such as `\r\n` in the literal parts.
    Template(String),
    /// Always send the same text (escapes allowed).
    Fixed(String),
    /// No automatic answer: the owner replies to a chosen peer by command.
    Manual,
    /// Stay silent.
    None,
}

impl ReplyMode {
    /// The mode's name as typed on the command line.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            ReplyMode::Echo => "echo",
            ReplyMode::Upper => "upper",
            ReplyMode::Template(_) => "template",
            ReplyMode::Fixed(_) => "fixed",
            ReplyMode::Manual => "manual",
            ReplyMode::None => "none",
        }
    }
}

impl fmt::Display for ReplyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyMode::Template(t) => write!(f, "template:{t}"),
            ReplyMode::Fixed(t) => write!(f, "fixed:{t}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for ReplyMode {
    type Err = String;

    /// `echo`, `upper`, `none`, `manual`, `fixed:TEXT` or `template:TEXT`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        match (name.to_ascii_lowercase().as_str(), arg) {
            ("echo", None) => Ok(ReplyMode::Echo),
            ("upper", None) => Ok(ReplyMode::Upper),
            ("none", None) => Ok(ReplyMode::None),
            ("manual", None) => Ok(ReplyMode::Manual),
            ("fixed", Some(t)) => Ok(ReplyMode::Fixed(t.to_owned())),
            ("template", Some(t)) => Ok(ReplyMode::Template(t.to_owned())),
            ("fixed" | "template", None) => Err(format!("{name} needs its text: {name}:TEXT")),
            _ => Err(format!(
                "unknown reply mode \"{s}\": use echo, upper, none, manual, fixed:TEXT or template:TEXT"
            )),
        }
    }
}

/// What a template placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Text,
    Peer,
    Time,
    Seq,
    Len,
    Hex,
}

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Literal bytes, escapes already applied and encoded.
    Bytes(Vec<u8>),
    Field(Field),
}

/// What a reply is made from.
pub struct Incoming<'a> {
    /// The datagram.
    pub bytes: &'a [u8],
    /// Who sent it.
    pub peer: SocketAddr,
    /// When it arrived.
    pub time: SystemTime,
    /// The server's count of datagrams received, this one included (1 for the first).
    pub seq: u64,
}

/// A reply mode made ready for the hot path: templates parsed and literal text
/// encoded once, when the server starts, so bad text fails then and not per packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    kind: Kind,
    encoding: Encoding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Echo,
    Upper,
    Parts(Vec<Part>),
    Silent,
}

impl Responder {
    /// Compiles `mode` for `encoding`.
    ///
    /// # Errors
    /// A template with an unknown placeholder or unbalanced brace, or literal text the encoding cannot carry.
    pub fn new(mode: &ReplyMode, encoding: Encoding) -> Result<Responder, NetError> {
        let kind = match mode {
            ReplyMode::Echo => Kind::Echo,
            ReplyMode::Upper => Kind::Upper,
            ReplyMode::Manual | ReplyMode::None => Kind::Silent,
            ReplyMode::Fixed(text) => {
                Kind::Parts(vec![Part::Bytes(codec::parse_escaped(text, encoding)?)])
            }
            ReplyMode::Template(text) => Kind::Parts(compile(text, encoding)?),
        };
        Ok(Responder { kind, encoding })
    }

    /// The automatic answer to a datagram, if the mode gives one.
    #[must_use]
    pub fn answer(&self, msg: &Incoming<'_>) -> Option<Vec<u8>> {
        match &self.kind {
            Kind::Silent => None,
            Kind::Echo => Some(msg.bytes.to_vec()),
            Kind::Upper => Some(upper(msg.bytes, self.encoding)),
            Kind::Parts(parts) => {
                let mut out = Vec::new();
                for part in parts {
                    match part {
                        Part::Bytes(b) => out.extend_from_slice(b),
                        Part::Field(f) => self.fill(*f, msg, &mut out),
                    }
                }
                Some(out)
            }
        }
    }

    fn fill(&self, field: Field, msg: &Incoming<'_>, out: &mut Vec<u8>) {
        match field {
            // The sender's own bytes go back as they came, so the reply is in their encoding.
            Field::Text => out.extend_from_slice(msg.bytes),
            Field::Hex => out.extend_from_slice(codec::to_hex(msg.bytes).as_bytes()),
            Field::Peer => self.push_ascii(&msg.peer.to_string(), out),
            Field::Seq => self.push_ascii(&msg.seq.to_string(), out),
            Field::Len => self.push_ascii(&msg.bytes.len().to_string(), out),
            Field::Time => {
                let t: chrono::DateTime<chrono::Local> = msg.time.into();
                self.push_ascii(&t.format("%H:%M:%S").to_string(), out);
            }
        }
    }

    /// Digits, dots and colons exist in every encoding we offer.
    fn push_ascii(&self, s: &str, out: &mut Vec<u8>) {
        match codec::encode(s, self.encoding) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(_) => out.extend_from_slice(s.as_bytes()),
        }
    }
}

/// Upper-cases the text of `bytes` in `encoding`. Bytes that are not valid text
/// in that encoding fall back to ASCII upper-casing, as the tutorial's `data.upper()` does.
fn upper(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
    if let Some(text) = strict_text(bytes, encoding)
        && let Ok(out) = codec::encode(&text.to_uppercase(), encoding)
    {
        return out;
    }
    if encoding.is_ascii_compatible() {
        bytes.to_ascii_uppercase()
    } else {
        bytes.to_vec()
    }
}

/// The text of `bytes` if they are valid in `encoding`, with no escapes or replacements.
pub fn strict_text(bytes: &[u8], encoding: Encoding) -> Option<String> {
    encoding
        .to_encoding_rs()
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(std::borrow::Cow::into_owned)
}

/// Splits a template into literal bytes and placeholders.
fn compile(template: &str, encoding: Encoding) -> Result<Vec<Part>, NetError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let rest = &template[i + 1..];
                let Some(end) = rest.find('}') else {
                    return Err(NetError::Template(format!(
                        "the brace at character {} is never closed; write {{{{ for a literal brace",
                        template[..i].chars().count() + 1
                    )));
                };
                let name = &rest[..end];
                let field = match name {
                    "text" => Field::Text,
                    "peer" => Field::Peer,
                    "time" => Field::Time,
                    "seq" => Field::Seq,
                    "len" => Field::Len,
                    "hex" => Field::Hex,
                    _ => {
                        return Err(NetError::Template(format!(
                            "unknown placeholder {{{name}}}: use {{text}}, {{peer}}, {{time}}, {{seq}}, {{len}} or {{hex}}"
                        )));
                    }
                };
                for _ in 0..=name.chars().count() {
                    chars.next();
                }
                if !literal.is_empty() {
                    parts.push(Part::Bytes(codec::parse_escaped(&literal, encoding)?));
                    literal.clear();
                }
                parts.push(Part::Field(field));
            }
            '}' => {
                return Err(NetError::Template(format!(
                    "the brace at character {} was never opened; write }}}} for a literal brace",
                    template[..i].chars().count() + 1
                )));
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Bytes(codec::parse_escaped(&literal, encoding)?));
    }
    Ok(parts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn msg(bytes: &[u8]) -> Incoming<'_> {
        Incoming {
            bytes,
            peer: "127.0.0.1:5000".parse().unwrap(),
            time: SystemTime::now(),
            seq: 7,
        }
    }

    fn answer(mode: ReplyMode, enc: Encoding, bytes: &[u8]) -> Option<Vec<u8>> {
        Responder::new(&mode, enc).unwrap().answer(&msg(bytes))
    }

    #[test]
    fn modes_answer_as_named() {
        assert_eq!(
            answer(ReplyMode::Echo, Encoding::Utf8, b"hi"),
            Some(b"hi".to_vec())
        );
        assert_eq!(
            answer(ReplyMode::Upper, Encoding::Utf8, b"hello"),
            Some(b"HELLO".to_vec())
        );
        assert_eq!(answer(ReplyMode::None, Encoding::Utf8, b"x"), None);
        assert_eq!(answer(ReplyMode::Manual, Encoding::Utf8, b"x"), None);
        assert_eq!(
            answer(
                ReplyMode::Fixed("收到你的消息了".into()),
                Encoding::Utf8,
                b"x"
            ),
            Some("收到你的消息了".as_bytes().to_vec())
        );
    }

    #[test]
    fn upper_handles_non_ascii_and_gbk() {
        assert_eq!(
            answer(ReplyMode::Upper, Encoding::Utf8, "straße é".as_bytes()),
            Some("STRASSE É".as_bytes().to_vec())
        );
        let gbk = codec::encode("你好abc", Encoding::Gbk).unwrap();
        let want = codec::encode("你好ABC", Encoding::Gbk).unwrap();
        assert_eq!(answer(ReplyMode::Upper, Encoding::Gbk, &gbk), Some(want));
        // Not valid UTF-8: ASCII letters still go up, other bytes stay.
        assert_eq!(
            answer(ReplyMode::Upper, Encoding::Utf8, b"ab\xff"),
            Some(b"AB\xff".to_vec())
        );
    }

    #[test]
    fn template_fills_fields() {
        let mode =
            ReplyMode::Template("Hello, {text}! #{seq} from {peer} ({len} B) {{x}}\\r\\n".into());
        let out = answer(mode, Encoding::Utf8, b"Michael").unwrap();
        assert_eq!(
            out,
            b"Hello, Michael! #7 from 127.0.0.1:5000 (7 B) {x}\r\n".to_vec()
        );
        let hex = answer(ReplyMode::Template("{hex}".into()), Encoding::Utf8, b"AB").unwrap();
        assert_eq!(hex, b"41 42".to_vec());
        let time = answer(ReplyMode::Template("{time}".into()), Encoding::Utf8, b"").unwrap();
        assert_eq!(time.len(), 8, "HH:MM:SS");
    }

    #[test]
    fn template_in_gbk_encodes_literals() {
        let mode = ReplyMode::Template("你好，{text}".into());
        let name = codec::encode("世界", Encoding::Gbk).unwrap();
        let out = answer(mode, Encoding::Gbk, &name).unwrap();
        assert_eq!(out, codec::encode("你好，世界", Encoding::Gbk).unwrap());
    }

    #[test]
    fn bad_templates_are_rejected_with_reasons() {
        for (t, needle) in [
            ("Hi {name}", "unknown placeholder {name}"),
            ("Hi {text", "never closed"),
            ("Hi }", "never opened"),
        ] {
            let err = Responder::new(&ReplyMode::Template(t.into()), Encoding::Utf8).unwrap_err();
            assert!(err.to_string().contains(needle), "{t}: {err}");
        }
        let err =
            Responder::new(&ReplyMode::Fixed("你".into()), Encoding::Windows1252).unwrap_err();
        assert!(err.to_string().contains('你'), "{err}");
    }

    #[test]
    fn reply_modes_parse_from_the_command_line() {
        for (s, want) in [
            ("echo", ReplyMode::Echo),
            ("UPPER", ReplyMode::Upper),
            ("none", ReplyMode::None),
            ("manual", ReplyMode::Manual),
            ("fixed:ok:1", ReplyMode::Fixed("ok:1".into())),
            (
                "template:Hello, {text}!",
                ReplyMode::Template("Hello, {text}!".into()),
            ),
        ] {
            assert_eq!(s.parse::<ReplyMode>(), Ok(want.clone()), "{s}");
            assert_eq!(want.to_string().parse::<ReplyMode>(), Ok(want));
        }
        assert!("shout".parse::<ReplyMode>().is_err());
        assert!("fixed".parse::<ReplyMode>().is_err());
    }
}
