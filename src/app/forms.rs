//! Checking what the user typed in the panels and turning it into the
//! engine's settings, with an error beside the right field when it is wrong.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rust_i18n::t;

use crate::codec;
use crate::net::{ClientConfig, ReplyMode, SendJob, ServerConfig, SocketOptions};
use crate::settings::{ClientForm, MessageMode, ReplyKind, ServerForm};

use crate::ui::widgets::{Field, FieldError};

/// The reply mode the form describes.
#[must_use]
pub fn reply_mode(form: &ServerForm) -> ReplyMode {
    match form.reply {
        ReplyKind::Echo => ReplyMode::Echo,
        ReplyKind::Upper => ReplyMode::Upper,
        ReplyKind::Template => ReplyMode::Template(form.template.clone()),
        ReplyKind::Fixed => ReplyMode::Fixed(form.fixed.clone()),
        ReplyKind::Manual => ReplyMode::Manual,
        ReplyKind::None => ReplyMode::None,
    }
}

/// The server form for a server given on the command line (`udpdesk window
/// --serve`), keeping the texts of the modes it does not use from `base`.
#[must_use]
pub fn server_form_for(base: &ServerForm, config: &ServerConfig) -> ServerForm {
    let mut form = base.clone();
    form.bind_ip = config.bind.ip().to_string();
    form.port = config.bind.port().to_string();
    form.encoding = config.encoding;
    form.quit_word = config.quit_word.clone().unwrap_or_default();
    form.broadcast = config.options.broadcast;
    form.reply_limit_peer = config.reply_limit.per_peer;
    form.reply_limit_total = config.reply_limit.total;
    form.reply = match &config.reply {
        ReplyMode::Echo => ReplyKind::Echo,
        ReplyMode::Upper => ReplyKind::Upper,
        ReplyMode::Template(t) => {
            form.template.clone_from(t);
            ReplyKind::Template
        }
        ReplyMode::Fixed(t) => {
            form.fixed.clone_from(t);
            ReplyKind::Fixed
        }
        ReplyMode::Manual => ReplyKind::Manual,
        ReplyMode::None => ReplyKind::None,
    };
    form
}

fn field_error(field: Field, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Checks the server form and builds the engine's settings.
///
/// # Errors
/// A bad address or port, with what to type.
pub fn server_config(form: &ServerForm) -> Result<ServerConfig, FieldError> {
    let ip_text = form
        .bind_ip
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let ip: IpAddr = ip_text.parse().map_err(|_| {
        field_error(
            Field::Address,
            t!("form.bad_ip", input = form.bind_ip.trim()),
        )
    })?;
    let port = parse_port(&form.port, Field::Address)?;
    crate::net::RuleSet::new(&form.rules, form.encoding)
        .map_err(|e| field_error(Field::General, t!("form.fix_rules_first", error = e)))?;
    Ok(ServerConfig {
        bind: SocketAddr::new(ip, port),
        reply: reply_mode(form),
        rules: form.rules.clone(),
        encoding: form.encoding,
        quit_word: Some(form.quit_word.clone()).filter(|w| !w.is_empty()),
        options: SocketOptions {
            broadcast: form.broadcast,
            recv_buffer: match form.recv_buffer_mib {
                0 => crate::net::DEFAULT_RECV_BUFFER,
                mib => mib.min(crate::settings::MAX_RECV_BUFFER_MIB) << 20,
            },
            ..SocketOptions::default()
        },
        reply_limit: reply_limit(form),
    })
}

/// The reply rate limit the form asks for.
#[must_use]
pub fn reply_limit(form: &ServerForm) -> crate::net::ReplyLimit {
    crate::net::ReplyLimit {
        per_peer: form.reply_limit_peer,
        total: form.reply_limit_total,
    }
}

fn parse_port(text: &str, field: Field) -> Result<u16, FieldError> {
    text.trim()
        .parse::<u16>()
        .map_err(|_| field_error(field, t!("form.bad_port", input = text.trim())))
}

/// Checks the client form's local address and builds the client's settings.
///
/// # Errors
/// A bad local address.
pub fn client_config(form: &ClientForm) -> Result<ClientConfig, FieldError> {
    let bind = if form.bind.trim().is_empty() {
        None
    } else {
        Some(
            crate::net::parse_bind(&form.bind)
                .map_err(|e| field_error(Field::LocalBind, e.to_string()))?,
        )
    };
    Ok(ClientConfig {
        bind,
        encoding: form.encoding,
        options: SocketOptions {
            broadcast: form.broadcast,
            ..SocketOptions::default()
        },
    })
}

/// The datagrams the message editor holds.
///
/// # Errors
/// Bad hex or escapes, or text the encoding cannot carry.
pub fn payloads(form: &ClientForm) -> Result<Vec<Vec<u8>>, FieldError> {
    messages(form).map(|(payloads, _)| payloads)
}

/// The datagrams of one round, and those that are made afresh for each send
/// from a template (when the form's Variables box is ticked).
fn messages(form: &ClientForm) -> Result<Filled, FieldError> {
    let lines: Vec<&str> = if form.per_line {
        form.message
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        vec![form.message.as_str()]
    };
    if lines.is_empty() {
        return Err(field_error(Field::Message, t!("form.nothing_to_send")));
    }
    let bad = |e: String| field_error(Field::Message, e);
    let mut payloads = Vec::with_capacity(lines.len());
    let mut fill = Vec::new();
    for line in lines {
        if form.variables {
            let mode = match form.mode {
                MessageMode::Text => codec::Mode::Text,
                MessageMode::Hex => codec::Mode::Hex,
            };
            let template = codec::Template::compile(line, mode, form.encoding, codec::Scope::Send)
                .map_err(|e| bad(e.to_string()))?;
            payloads.push(crate::net::sample_fill(&template));
            if !template.is_constant() {
                fill.push((payloads.len() - 1, template));
            }
        } else {
            let bytes = match form.mode {
                MessageMode::Text => codec::parse_escaped(line, form.encoding),
                MessageMode::Hex => codec::parse_hex(line),
            };
            payloads.push(bytes.map_err(|e| bad(e.to_string()))?);
        }
    }
    Ok((payloads, fill))
}

type Filled = (Vec<Vec<u8>>, Vec<(usize, codec::Template)>);

/// Checks the client form and builds the send job.
///
/// # Errors
/// A bad target or message.
pub fn send_job(form: &ClientForm) -> Result<SendJob, FieldError> {
    let target = target(form)?;
    let (payloads, fill) = messages(form)?;
    Ok(SendJob {
        target,
        payloads,
        count: form.count,
        interval: Duration::from_millis(form.interval_ms),
        at: Vec::new(),
        fill,
    })
}

/// The client's target as `host:port` (`[v6]:port`), checked.
///
/// # Errors
/// An empty host, a bad port or an address that does not parse, beside the target.
pub fn target(form: &ClientForm) -> Result<String, FieldError> {
    let host = form.host.trim();
    if host.is_empty() {
        return Err(field_error(Field::Target, t!("form.no_host")));
    }
    // Port 0 parses here; the target check below refuses it, as it does for every sender.
    let port = parse_port(&form.port, Field::Target)?;
    let target = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    crate::net::parse_target(&target).map_err(|e| field_error(Field::Target, e.to_string()))?;
    Ok(target)
}

/// Converts the message between text and hex; on failure the message stays as it was.
///
/// # Errors
/// The message does not parse in its current mode.
pub fn convert_message(form: &mut ClientForm, to: MessageMode) -> Result<(), FieldError> {
    if form.mode == to {
        return Ok(());
    }
    let convert_one = |text: &str| -> Result<String, FieldError> {
        let result = match to {
            MessageMode::Hex => {
                codec::parse_escaped(text, form.encoding).map(|b| codec::to_hex(&b))
            }
            MessageMode::Text => {
                codec::parse_hex(text).map(|b| codec::escape_bytes(&b, form.encoding))
            }
        };
        result.map_err(|e| field_error(Field::Message, t!("form.cannot_convert", error = e)))
    };
    let converted = if form.per_line {
        form.message
            .lines()
            .map(convert_one)
            .collect::<Result<Vec<_>, _>>()?
            .join("\n")
    } else {
        convert_one(&form.message)?
    };
    form.message = converted;
    form.mode = to;
    Ok(())
}

/// The checksum check typed in a Verify field; empty for none.
///
/// # Errors
/// A spec that does not parse, with what to type.
pub fn verify(text: &str) -> Result<Option<crate::codec::Verify>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    crate::codec::Verify::parse(text)
        .map(Some)
        .map_err(|e| field_error(Field::Verify, t!("form.bad_verify", error = e)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::Encoding;

    #[test]
    fn forms_become_settings_or_say_what_is_wrong() {
        let mut server = ServerForm::default();
        assert_eq!(
            server_config(&server).unwrap().bind,
            "127.0.0.1:9999".parse().unwrap()
        );
        server.bind_ip = "::1".into();
        assert!(server_config(&server).unwrap().bind.is_ipv6());
        server.port = "70000".into();
        let err = server_config(&server).unwrap_err();
        assert_eq!(err.field, Field::Address);
        assert!(err.message.contains("0 to 65535"));

        let mut client = ClientForm::default();
        assert_eq!(send_job(&client).unwrap().target, "127.0.0.1:9999");
        client.host = "::1".into();
        assert_eq!(send_job(&client).unwrap().target, "[::1]:9999");
        client.mode = MessageMode::Hex;
        client.message = "48 6x".into();
        assert_eq!(send_job(&client).unwrap_err().field, Field::Message);
    }

    #[test]
    fn per_line_messages_are_separate_datagrams() {
        let form = ClientForm {
            message: "Michael\nTracy\n\nSarah".into(),
            per_line: true,
            ..ClientForm::default()
        };
        assert_eq!(
            payloads(&form).unwrap(),
            vec![b"Michael".to_vec(), b"Tracy".to_vec(), b"Sarah".to_vec()]
        );
    }

    #[test]
    fn switching_modes_converts_the_message() {
        let mut form = ClientForm {
            message: "你好\\r\\n".into(),
            encoding: Encoding::Gbk,
            ..ClientForm::default()
        };
        convert_message(&mut form, MessageMode::Hex).unwrap();
        assert_eq!(form.message, "c4 e3 ba c3 0d 0a");
        convert_message(&mut form, MessageMode::Text).unwrap();
        assert_eq!(form.message, "你好\\r\\n");
        form.mode = MessageMode::Hex;
        form.message = "zz".into();
        assert!(convert_message(&mut form, MessageMode::Text).is_err());
        assert_eq!(form.message, "zz", "a failed conversion keeps the message");
    }
}
