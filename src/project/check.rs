//! The checks a project passes before anything binds: each endpoint's fields
//! as the window's forms check them, unique names, and sequences whose client
//! exists; every mistake named with its line and field.

use std::collections::HashSet;

use crate::app::forms;
use crate::ui::relay_panel::RelayField;
use crate::ui::widgets::Field;

use super::Project;

/// Checks `project`, read from `text`.
///
/// # Errors
/// The first mistake: `line N: server "echo", field `port`: …`.
pub(super) fn check(project: &Project, text: &str) -> Result<(), String> {
    let mut names = HashSet::new();
    for (i, form) in project.servers.iter().enumerate() {
        let at = Place::new(text, "server", i, &form.name);
        unique(&mut names, &form.name, &at)?;
        forms::server_config(form).map_err(|e| {
            // Which field, from the form's values: the message is in the
            // window's language and says nothing a program should read.
            let key = match e.field {
                Field::General => "rules",
                // The form checks the address before the port.
                _ if form
                    .bind_ip
                    .trim()
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_err() =>
                {
                    "bind_ip"
                }
                _ if form.port.trim().parse::<u16>().is_err() => "port",
                _ => "bind_ip",
            };
            at.say(key, &e.message)
        })?;
        forms::verify(&form.verify).map_err(|e| at.say("verify", &e.message))?;
    }
    for (i, form) in project.clients.iter().enumerate() {
        let at = Place::new(text, "client", i, &form.name);
        unique(&mut names, &form.name, &at)?;
        forms::client_config(form).map_err(|e| at.say("bind", &e.message))?;
        forms::target(form).map_err(|e| {
            let port_ok = form.port.trim().parse::<u16>().is_ok_and(|p| p != 0);
            let key = if !form.host.trim().is_empty() && !port_ok {
                "port"
            } else {
                "host"
            };
            at.say(key, &e.message)
        })?;
        forms::verify(&form.verify).map_err(|e| at.say("verify", &e.message))?;
    }
    for (i, form) in project.relays.iter().enumerate() {
        let at = Place::new(text, "relay", i, &form.name);
        unique(&mut names, &form.name, &at)?;
        crate::app::relay::relay_config(form).map_err(|(field, message)| {
            let key = match field {
                RelayField::Rules if crate::app::relay::idle_timeout(form).is_err() => "idle_secs",
                RelayField::Rules => "rule",
                RelayField::Inject => "inject",
                _ if crate::net::parse_bind(&form.listen).is_ok() => "target",
                _ => "listen",
            };
            at.say(key, &message)
        })?;
    }
    for (i, seq) in project.sequences.iter().enumerate() {
        let at = Place::new(text, "sequence", i, &seq.name);
        let Some(client) = project.client_of(seq) else {
            return Err(if seq.client.is_empty() {
                at.say("client", &rust_i18n::t!("project.no_client"))
            } else {
                at.say(
                    "client",
                    &rust_i18n::t!("project.no_client_named", name = seq.client),
                )
            });
        };
        // The engine runs a sequence to an address, never after a lookup.
        if let Ok(target) = forms::target(&project.clients[client])
            && let Ok(crate::net::Target::Lookup { host, .. }) = crate::net::parse_target(&target)
        {
            return Err(at.say(
                "client",
                &rust_i18n::t!("project.sequence_needs_address", host = host),
            ));
        }
        let encoding = project.clients[client].encoding;
        seq.check(encoding).map_err(|e| at.say("step", &e))?;
    }
    Ok(())
}

/// Refuses a second endpoint of the same name: the output and the
/// sequences' `client` tell endpoints apart by name.
fn unique<'a>(names: &mut HashSet<&'a str>, name: &'a str, at: &Place<'_>) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(at.say("name", &rust_i18n::t!("project.no_name")));
    }
    if !names.insert(name) {
        return Err(at.say("name", &rust_i18n::t!("project.name_taken", name = name)));
    }
    Ok(())
}

/// The `index`th `[[table]]` of the file, to say where a mistake is.
struct Place<'a> {
    text: &'a str,
    table: &'static str,
    index: usize,
    name: &'a str,
}

impl<'a> Place<'a> {
    fn new(text: &'a str, table: &'static str, index: usize, name: &'a str) -> Self {
        Place {
            text,
            table,
            index,
            name,
        }
    }

    /// `line N: server "echo", field `port`: message`, with the key's line
    /// (the table's when the key is not written, the file's start when neither is found).
    fn say(&self, key: &str, message: &str) -> String {
        let line = self.line_of(key).map_or_else(String::new, |n| {
            rust_i18n::t!("project.line", line = n).into_owned()
        });
        rust_i18n::t!(
            "project.mistake",
            line = line,
            table = self.table,
            name = self.name,
            key = key,
            message = message
        )
        .into_owned()
    }

    fn line_of(&self, key: &str) -> Option<usize> {
        let header = format!("[[{}]]", self.table);
        let sub = format!("[[{}.", self.table);
        let lines: Vec<&str> = self.text.lines().collect();
        let start = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim() == header)
            .nth(self.index)
            .map(|(i, _)| i)?;
        for (i, l) in lines.iter().enumerate().skip(start + 1) {
            let l = l.trim_start();
            if l.starts_with('[') {
                if l.starts_with(&sub) {
                    // A sub-table (`[[sequence.step]]`): its own keys are its own.
                    if key == "step" || key == "rules" || key == "rule" {
                        return Some(i + 1);
                    }
                    continue;
                }
                break;
            }
            if l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return Some(i + 1);
            }
        }
        Some(start + 1)
    }
}
