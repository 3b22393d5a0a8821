//! Rule files: reading a `--rules` TOML file of `[[rule]]` tables (and any
//! TOML file udpdesk reads) strictly, with the line of each mistake.

use serde::{Deserialize, Serialize};

use super::rules::Rule;

/// A rules file: `[[rule]]` tables, as `udpdesk serve --rules FILE` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesFile {
    /// The rules, in order.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

impl RulesFile {
    /// Reads a rules file's text.
    ///
    /// # Errors
    /// The line and field of the first mistake.
    pub fn parse(text: &str) -> Result<RulesFile, String> {
        parse_strict(
            text,
            "a rule has name, enabled, match, pattern, peer, action, reply, format, delay_ms and times",
        )
    }

    /// The file's text for these rules.
    ///
    /// # Errors
    /// Never in practice: every field is a string, number or boolean.
    pub fn to_text(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }
}

/// Reads a TOML file into `T`, refusing keys `T` does not have: a misspelt
/// field would otherwise be ignored and do something else. `fields` says
/// which there are.
pub(crate) fn parse_strict<T: serde::de::DeserializeOwned>(
    text: &str,
    fields: &str,
) -> Result<T, String> {
    let mut unknown = Vec::new();
    let value = toml::Deserializer::parse(text)
        .and_then(|de| serde_ignored::deserialize(de, |path| unknown.push(path.to_string())))
        .map_err(|e| toml_error(text, &e))?;
    if let Some(path) = unknown.first() {
        let key = path.rsplit('.').next().unwrap_or(path);
        let line = text
            .lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map_or_else(String::new, |i| format!("line {}: ", i + 1));
        return Err(format!("{line}unknown field `{key}`; {fields}"));
    }
    Ok(value)
}

/// A TOML mistake in one line, with the line it is on.
pub(super) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let line = e.span().map(|s| {
        text.as_bytes()[..s.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    let msg = e.message().trim().to_owned();
    match line {
        Some(l) => format!("line {l}: {msg}"),
        None => msg,
    }
}
