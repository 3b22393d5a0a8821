//! How a server answers each datagram: the reply modes people know from the
//! classic tutorial servers, made ready once per server start.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::SystemTime;

use crate::codec::{self, Context, Encoding, Mode, Request, Scope, Template};

use super::error::NetError;

/// A server's answer rule, as the user chooses it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ReplyMode {
    /// Send every datagram back unchanged.
    #[default]
    Echo,
    /// Send the text back upper-cased.
    Upper,
    /// Fill a template (the language of [`codec::Template`]): the request as `{text}`,
    /// `{upper}`, `{hex}`, `{len}`, its sender as `{peer}`; `{seq}` (this server's count
    /// of datagrams received, also binary as `{seq:u16be}` and the like), `{time}`,
    /// `{unix_ms}`, `{random:N}`, `{uuid}`; checksums such as `{crc16_modbus}` or
    /// `{xor8:hex}` over the reply so far, or from the last `{begin}` to the last `{end}`;
    /// `{{` and `}}` for braces; escapes such as `\r\n` in the literal parts.
    Template(String),
    /// The same text every time, escapes allowed. It is a template too, for a counter
    /// or a checksum, so `{{` and `}}` write braces.
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
    Template(Template),
    Silent,
}

impl Responder {
    /// Compiles `mode` for `encoding`.
    ///
    /// # Errors
    /// A template with an unknown placeholder, a bad argument or an unbalanced brace,
    /// or literal text the encoding cannot carry.
    pub fn new(mode: &ReplyMode, encoding: Encoding) -> Result<Responder, NetError> {
        let kind = match mode {
            ReplyMode::Echo => Kind::Echo,
            ReplyMode::Upper => Kind::Upper,
            ReplyMode::Manual | ReplyMode::None => Kind::Silent,
            ReplyMode::Fixed(text) | ReplyMode::Template(text) => Kind::Template(
                Template::compile(text, Mode::Text, encoding, Scope::Reply)
                    .map_err(|e| NetError::Template(e.to_string()))?,
            ),
        };
        Ok(Responder { kind, encoding })
    }

    /// The automatic answer to a datagram, if the mode gives one.
    #[must_use]
    pub fn answer(&self, msg: &Incoming<'_>) -> Option<Vec<u8>> {
        match &self.kind {
            Kind::Silent => None,
            Kind::Echo => Some(msg.bytes.to_vec()),
            Kind::Upper => Some(codec::upper(msg.bytes, self.encoding)),
            Kind::Template(template) => {
                let mut out = Vec::new();
                let ctx = Context {
                    seq: msg.seq,
                    time: msg.time,
                    request: Some(Request {
                        bytes: msg.bytes,
                        peer: msg.peer,
                        captures: &[],
                    }),
                };
                template.fill(&ctx, &mut out);
                Some(out)
            }
        }
    }
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
    fn fixed_and_template_replies_take_variables_and_checksums() {
        let fixed = ReplyMode::Fixed("ack {seq:u8}{crc16_modbus}".into());
        let out = answer(fixed, Encoding::Utf8, b"x").unwrap();
        let mut want = b"ack \x07".to_vec();
        codec::Sum::parse("crc16_modbus")
            .unwrap()
            .write(&want.clone(), &mut want);
        assert_eq!(out, want);
        let braces = ReplyMode::Fixed("{{ok}}".into());
        assert_eq!(answer(braces, Encoding::Utf8, b"x"), Some(b"{ok}".to_vec()));
        let mode = ReplyMode::Template("\\u{4f60} {upper}*{xor8:hex}".into());
        let out = answer(mode, Encoding::Utf8, b"ab").unwrap();
        assert_eq!(out, "你 AB*".bytes().chain(*b"F0").collect::<Vec<u8>>());
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
