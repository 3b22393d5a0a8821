//! Template source to parts: literal runs parsed as text or hex, placeholders
//! looked up and checked against the scope.

use super::super::checksum::{Algorithm, Sum};
use super::super::encode::encode;
use super::super::encoding::Encoding;
use super::super::error::CodecError;
use super::super::escape::{escape_bytes, parse_escaped};
use super::super::hex::parse_hex;
use super::{Field, Mode, Part, Scope, TemplateError};

/// The most bytes one `{random:N}` writes.
const MAX_RANDOM: usize = 1024;

/// Splits `source` into parts, literal runs merged.
pub(super) fn parts(
    source: &str,
    mode: Mode,
    encoding: Encoding,
    scope: Scope,
) -> Result<Vec<Part>, TemplateError> {
    let mut out = Parts {
        parts: Vec::new(),
        mode,
        encoding,
    };
    // The literal run not yet parsed: its byte offset and character index.
    let mut run = (0, 0);
    let mut chars = source.char_indices().enumerate().peekable();
    while let Some((index, (offset, c))) = chars.next() {
        let doubled = chars.peek().is_some_and(|&(_, (_, n))| n == c);
        match c {
            // An escape is kept whole, so the braces of `\u{4f60}` are not a placeholder.
            '\\' if mode == Mode::Text => {
                if chars.next_if(|&(_, (_, n))| n == 'u').is_some()
                    && chars.peek().is_some_and(|&(_, (_, n))| n == '{')
                {
                    while chars.next().is_some_and(|(_, (_, n))| n != '}') {}
                } else {
                    chars.next();
                }
            }
            '{' | '}' if doubled && mode == Mode::Text => {
                out.literal(source.get(run.0..offset).unwrap_or_default(), run.1)?;
                out.push(Part::Literal(encode(&c.to_string(), encoding)?));
                chars.next();
                run = (offset + 2, index + 2);
            }
            '}' => return Err(TemplateError::Unopened { index, mode }),
            '{' => {
                out.literal(source.get(run.0..offset).unwrap_or_default(), run.1)?;
                let rest = source.get(offset + 1..).unwrap_or_default();
                let Some(end) = rest
                    .find(['{', '}'])
                    .filter(|&e| rest.as_bytes().get(e) == Some(&b'}'))
                else {
                    return Err(TemplateError::Unclosed { index, mode });
                };
                let inner = rest.get(..end).unwrap_or_default();
                out.push(placeholder(inner, index, scope)?);
                let inner_chars = inner.chars().count();
                for _ in 0..=inner_chars {
                    chars.next();
                }
                run = (offset + end + 2, index + inner_chars + 2);
            }
            _ => {}
        }
    }
    out.literal(source.get(run.0..).unwrap_or_default(), run.1)?;
    Ok(out.parts)
}

/// The parts so far, with what literal runs need to be parsed.
struct Parts {
    parts: Vec<Part>,
    mode: Mode,
    encoding: Encoding,
}

impl Parts {
    /// Appends a part, merging adjacent literals.
    fn push(&mut self, part: Part) {
        match (self.parts.last_mut(), part) {
            (Some(Part::Literal(last)), Part::Literal(more)) => last.extend(more),
            (_, Part::Literal(more)) if more.is_empty() => {}
            (_, part) => self.parts.push(part),
        }
    }

    /// Parses a literal run that starts at character `first` of the template.
    fn literal(&mut self, text: &str, first: usize) -> Result<(), TemplateError> {
        let bytes = match self.mode {
            Mode::Text => parse_escaped(text, self.encoding),
            Mode::Hex => parse_hex(text),
        }
        .map_err(|e| shifted(e, first))?;
        self.push(Part::Literal(bytes));
        Ok(())
    }
}

/// `err` with its character index counted from the template's start, not the run's.
fn shifted(err: CodecError, by: usize) -> CodecError {
    match err {
        CodecError::Unrepresentable {
            ch,
            index,
            encoding,
        } => CodecError::Unrepresentable {
            ch,
            index: index + by,
            encoding,
        },
        CodecError::BadEscape { index, detail } => CodecError::BadEscape {
            index: index + by,
            detail,
        },
        CodecError::BadHex { index, found } => CodecError::BadHex {
            index: index + by,
            found,
        },
        other @ (CodecError::UnknownEncoding { .. } | CodecError::OddHexDigits { .. }) => other,
    }
}

/// The part a placeholder's inside (`seq:u16be`) stands for; it starts at character `index`.
fn placeholder(inner: &str, index: usize, scope: Scope) -> Result<Part, TemplateError> {
    let (name, arg) = match inner.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (inner, None),
    };
    let bad = |detail: String| TemplateError::BadArgument {
        placeholder: shown(inner),
        index,
        detail,
    };
    if let Some(field) = reply_field(name) {
        if scope == Scope::Send {
            return Err(TemplateError::ReplyOnly {
                name: shown(inner),
                index,
            });
        }
        return match arg {
            None => Ok(Part::Field(field)),
            Some(_) => Err(bad(format!("{{{name}}} takes no argument"))),
        };
    }
    if Algorithm::from_name(name).is_some() {
        return Sum::parse(inner)
            .map(Part::Sum)
            .map_err(|e| bad(e.to_string()));
    }
    let part = match (name, arg) {
        ("seq", None) => Part::Field(Field::Seq),
        ("seq", Some(width)) => Part::Field(seq_width(width).ok_or_else(|| {
            bad("the width must be u8, u16be, u16le, u32be, u32le, u64be or u64le".into())
        })?),
        ("random", Some(n)) => match n.parse::<usize>() {
            Ok(n @ 1..=MAX_RANDOM) => Part::Field(Field::Random(n)),
            _ => {
                return Err(bad(format!(
                    "the count must be a whole number of bytes from 1 to {MAX_RANDOM}"
                )));
            }
        },
        ("random", None) => return Err(bad("say how many bytes, as in {random:16}".into())),
        ("time" | "unix_ms" | "uuid" | "begin" | "end", Some(_)) => {
            return Err(bad(format!("{{{name}}} takes no argument")));
        }
        ("time", None) => Part::Field(Field::Time),
        ("unix_ms", None) => Part::Field(Field::UnixMs),
        ("uuid", None) => Part::Field(Field::Uuid),
        ("begin", None) => Part::Begin,
        ("end", None) => Part::End,
        _ => {
            return Err(TemplateError::Unknown {
                name: shown(inner),
                index,
                scope,
            });
        }
    };
    Ok(part)
}

/// The fields only a reply has values for.
fn reply_field(name: &str) -> Option<Field> {
    Some(match name {
        "text" => Field::Text,
        "upper" => Field::Upper,
        "hex" => Field::Hex,
        "peer" => Field::Peer,
        "len" => Field::Len,
        _ => {
            let [digit @ b'0'..=b'9'] = name.as_bytes() else {
                return None;
            };
            Field::Capture(usize::from(digit - b'0'))
        }
    })
}

/// `u8`, `u16be`, `u16le` and so on up to `u64le`.
fn seq_width(width: &str) -> Option<Field> {
    let (bits, little_endian) = match width {
        "u8" => ("8", false),
        _ => match (width.strip_suffix("be"), width.strip_suffix("le")) {
            (Some(b), _) => (b, false),
            (_, Some(b)) => (b, true),
            _ => return None,
        },
    };
    let bytes = match bits {
        "8" => 1,
        "u16" => 2,
        "u32" => 4,
        "u64" => 8,
        _ => return None,
    };
    Some(Field::SeqBinary {
        bytes,
        little_endian,
    })
}

/// A placeholder's inside as an error message shows it: control characters
/// escaped, cut at 32 characters.
fn shown(inner: &str) -> String {
    const MAX: usize = 32;
    let mut cut: String = inner.chars().take(MAX).collect();
    let long = cut.len() < inner.len();
    cut = escape_bytes(cut.as_bytes(), Encoding::Utf8);
    if long {
        cut.push('…');
    }
    cut
}
