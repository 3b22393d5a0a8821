//! The relay panel's requests made into engine commands, and the relay's
//! events folded into what the panel shows.

use std::time::{Duration, Instant};

use rust_i18n::t;

use crate::codec;
use crate::net::{
    Command, Event, InjectTo, Leg, MappingChange, RelayAction, RelayConfig, RelayRule, Rewrite,
    RuleMatch,
};
use crate::packet::Packet;
use crate::settings::{RelayActionKind, RelayForm, RelayRuleForm};
use crate::ui::relay_panel::{MappingRow, RelayField, RelayView};

use super::session::Session;

/// The rules as typed, made into the engine's.
///
/// # Errors
/// A value that is not a number where one is needed, or a rule the engine
/// would refuse (a bad pattern, template or hex), named by its place.
pub fn relay_rules(form: &RelayForm) -> Result<Vec<RelayRule>, String> {
    let rules = form
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            rule(r).map_err(|e| t!("relay_form.rule", rule = i + 1, error = e).into_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    crate::net::check_rules(&rules, form.encoding).map_err(|e| e.to_string())?;
    Ok(rules)
}

fn rule(r: &RelayRuleForm) -> Result<RelayRule, String> {
    let value = r.value.trim();
    let number = |what: std::borrow::Cow<'static, str>| {
        value
            .parse::<u64>()
            .map_err(|_| t!("relay_form.not_a_number", what = what).into_owned())
    };
    let action = match r.action {
        RelayActionKind::Forward => RelayAction::Forward,
        RelayActionKind::Drop => RelayAction::Drop,
        RelayActionKind::Delay => {
            RelayAction::Delay(Duration::from_millis(number(t!("relay_form.the_delay"))?))
        }
        RelayActionKind::Duplicate => RelayAction::Duplicate(
            u32::try_from(number(t!("relay_form.the_copies"))?).unwrap_or(u32::MAX),
        ),
        RelayActionKind::RewriteText => RelayAction::Rewrite(Rewrite::Template(r.value.clone())),
        RelayActionKind::RewriteHex => RelayAction::Rewrite(Rewrite::Hex(r.value.clone())),
    };
    Ok(RelayRule {
        enabled: r.enabled,
        toward: r.toward,
        matcher: RuleMatch::new(r.kind, r.pattern.clone()),
        action,
    })
}

/// The idle timeout the form asks for.
///
/// # Errors
/// Not a whole number of seconds from 1 to a day.
pub fn idle_timeout(form: &RelayForm) -> Result<Duration, String> {
    match form.idle_secs.trim().parse::<u64>() {
        Ok(s) if (1..=86_400).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(t!("relay_form.bad_idle_timeout").into_owned()),
    }
}

/// The relay the form describes; the error says beside which control.
///
/// # Errors
/// A bad address, server, idle timeout or rule.
pub fn relay_config(form: &RelayForm) -> Result<RelayConfig, (RelayField, String)> {
    let address = |e: crate::net::NetError| (RelayField::Address, e.to_string());
    let listen = crate::net::parse_bind(&form.listen).map_err(address)?;
    let upstream = match crate::net::parse_target(&form.target).map_err(address)? {
        crate::net::Target::Ready(addrs) => addrs
            .iter()
            .find(|a| a.is_ipv4() == listen.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| {
                (
                    RelayField::Address,
                    t!("relay_form.no_address").into_owned(),
                )
            })?,
        crate::net::Target::Lookup { host, .. } => {
            // The window never blocks on a name service: the relay takes addresses.
            return Err((
                RelayField::Address,
                t!("relay_form.give_address", host = host).into_owned(),
            ));
        }
    };
    let rules_error = |e| (RelayField::Rules, e);
    Ok(RelayConfig {
        encoding: form.encoding,
        idle_timeout: idle_timeout(form).map_err(rules_error)?,
        rules: relay_rules(form).map_err(rules_error)?,
        ..RelayConfig::new(listen, upstream)
    })
}

impl Session {
    /// Starts relay `i` as its form describes (stopping it if it runs).
    pub fn start_relay(&mut self, i: usize, form: &RelayForm) {
        let Some(relay) = self.relays.get_mut(i) else {
            return;
        };
        relay.note = None;
        let config = match relay_config(form) {
            Ok(c) => c,
            Err(e) => {
                relay.error = Some(e);
                return;
            }
        };
        let inject_to_server = relay.inject_to_server;
        if let Some(old) = relay.id.take() {
            let _sent = self.command(Command::Close { id: old });
        }
        let id = self.new_id(&form.name);
        self.relays[i] = RelayView {
            id: Some(id),
            starting: true,
            upstream: Some(config.upstream),
            inject_to_server,
            ..RelayView::default()
        };
        if let Err(message) = self.command(Command::StartRelay { id, config }) {
            let relay = &mut self.relays[i];
            relay.id = None;
            relay.starting = false;
            relay.error = Some((RelayField::General, message));
        }
    }

    /// Stops relay `i`.
    pub fn stop_relay(&mut self, i: usize) {
        if let Some(id) = self.relays.get(i).and_then(|r| r.id) {
            let _sent = self.command(Command::Close { id });
        }
    }

    /// Gives running relay `i` the form's rules and idle timeout.
    pub fn update_relay(&mut self, i: usize, form: &RelayForm) {
        let Some(id) = self.relays.get(i).and_then(|r| r.id) else {
            return;
        };
        let update = idle_timeout(form).and_then(|idle| Ok((idle, relay_rules(form)?)));
        match update {
            Ok((idle_timeout, rules)) => {
                self.relays[i].error = None;
                let _sent = self.command(Command::UpdateRelay {
                    id,
                    rules,
                    idle_timeout,
                });
            }
            Err(e) => self.relays[i].error = Some((RelayField::Rules, e)),
        }
    }

    /// Sends relay `i`'s inject box's datagram toward the chosen side.
    pub fn inject(&mut self, i: usize, form: &RelayForm) {
        let Some(relay) = self.relays.get_mut(i) else {
            return;
        };
        let (Some(id), Some(client)) = (relay.id, relay.client) else {
            return;
        };
        let payload = if form.inject_hex {
            codec::parse_hex(&form.inject)
        } else {
            codec::parse_escaped(&form.inject, form.encoding)
        };
        let payload = match payload {
            Ok(p) => p,
            Err(e) => {
                relay.error = Some((RelayField::Inject, e.to_string()));
                return;
            }
        };
        let to = if relay.inject_to_server {
            InjectTo::Server { client }
        } else {
            InjectTo::Client { client }
        };
        relay.error = None;
        let _sent = self.command(Command::Inject { id, to, payload });
    }

    /// Folds in a relay event; false if it was no relay's.
    pub(super) fn relay_event(&mut self, event: &Event) -> bool {
        let id = match event {
            Event::Started { id, .. }
            | Event::RelayMapping { id, .. }
            | Event::RelayCounters { id, .. }
            | Event::Stopped { id, .. } => *id,
            Event::Failed { id: Some(id), .. } => *id,
            _ => return false,
        };
        let Some(relay) = self.relays.iter_mut().find(|r| r.id == Some(id)) else {
            return false;
        };
        match event {
            Event::Started { local, .. } => {
                relay.starting = false;
                relay.listening = Some(*local);
                relay.error = None;
            }
            Event::RelayMapping {
                client,
                upstream_local,
                change,
                ..
            } => match change {
                MappingChange::Opened => relay.mappings.push(MappingRow {
                    client: *client,
                    upstream_local: *upstream_local,
                    last: Instant::now(),
                }),
                MappingChange::Expired => {
                    relay.mappings.retain(|m| m.client != *client);
                    relay.note =
                        Some(t!("relay_form.mapping_closed", client = client).into_owned());
                }
            },
            Event::RelayCounters { counters, .. } => relay.counters = *counters,
            Event::Stopped { reason, .. } => {
                relay.id = None;
                relay.starting = false;
                relay.listening = None;
                relay.mappings.clear();
                relay.note = match reason {
                    crate::net::StopReason::Closed => None,
                    other => Some(t!("relay_form.stopped", reason = other).into_owned()),
                };
            }
            Event::Failed { error, .. } => {
                let field = match error.cause() {
                    crate::net::NetError::RelayRule { .. } => RelayField::Rules,
                    crate::net::NetError::AddrInUse { .. }
                    | crate::net::NetError::AddrNotAvailable { .. }
                    | crate::net::NetError::PermissionDenied { .. }
                    | crate::net::NetError::BadAddress { .. }
                        if relay.starting =>
                    {
                        RelayField::Address
                    }
                    _ => RelayField::General,
                };
                if relay.starting {
                    // It never started: the id is spent.
                    relay.id = None;
                    relay.starting = false;
                }
                relay.error = Some((field, error.to_string()));
                self.last_error = Some(error.to_string());
            }
            _ => return false,
        }
        true
    }

    /// Notes when each relay's mapped clients were last heard of either way.
    pub(super) fn relay_packets(&mut self, packets: &[Packet]) {
        for relay in &mut self.relays {
            let (Some(id), Some(listen)) = (relay.id, relay.listening) else {
                continue;
            };
            note_activity(relay, id, listen, packets);
        }
    }
}

/// Who was active in this batch, then one pass over the mappings: a flood
/// through many clients costs no scan per packet.
fn note_activity(
    relay: &mut RelayView,
    id: crate::packet::EndpointId,
    listen: std::net::SocketAddr,
    packets: &[Packet],
) {
    let now = Instant::now();
    let mut clients = std::collections::HashSet::new();
    let mut upstreams = std::collections::HashSet::new();
    for p in packets.iter().filter(|p| p.endpoint == id) {
        match Leg::of(p, listen) {
            Leg::ClientToRelay | Leg::RelayToClient => clients.insert(p.peer),
            // An upstream socket's port is its own, whatever address it used.
            Leg::RelayToServer | Leg::ServerToRelay => upstreams.insert(p.local.port()),
        };
    }
    if clients.is_empty() && upstreams.is_empty() {
        return;
    }
    for m in &mut relay.mappings {
        if clients.contains(&m.client) || upstreams.contains(&m.upstream_local.port()) {
            m.last = now;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_a_relay_or_says_what_is_wrong_where() {
        let mut form = RelayForm::default();
        let config = relay_config(&form).unwrap();
        assert_eq!(config.upstream, "127.0.0.1:9999".parse().unwrap());
        form.target = "example.com:9".into();
        assert_eq!(relay_config(&form).unwrap_err().0, RelayField::Address);
        form.target = "127.0.0.1:9".into();
        form.rules.push(RelayRuleForm {
            action: RelayActionKind::Delay,
            value: "soon".into(),
            ..RelayRuleForm::default()
        });
        let (field, message) = relay_config(&form).unwrap_err();
        assert_eq!(field, RelayField::Rules);
        assert!(message.starts_with("rule 1: the delay"), "{message}");
        form.rules[0].value = "250".into();
        assert_eq!(
            relay_config(&form).unwrap().rules[0].action,
            RelayAction::Delay(Duration::from_millis(250))
        );
        form.idle_secs = "0".into();
        assert_eq!(relay_config(&form).unwrap_err().0, RelayField::Rules);
    }
}
