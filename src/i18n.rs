//! The window's language: English or Simplified Chinese, following the
//! system's locale unless the person picks one in the View menu.
//!
//! The texts live in `assets/locales/*.yml` and are compiled in by
//! `rust_i18n::i18n!` (in `lib.rs`); code asks for them by key with `t!`.
//! The locale is process-wide and starts as English: only the window calls
//! [`apply`], so the command line, whose output scripts parse, stays English.

use rust_i18n::t;
use serde::{Deserialize, Serialize};

// `i18n!` reads the locale files when the crate compiles but does not tell
// cargo about them; including them here does, so editing one rebuilds.
const _: &str = include_str!("../assets/locales/en.yml");
const _: &str = include_str!("../assets/locales/zh-CN.yml");

/// A language the window can be shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    English,
    /// Simplified Chinese.
    Chinese,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::Chinese];

    /// The language of the system's locale: Chinese for any `zh` locale,
    /// English for everything else (and when there is no locale to read).
    #[must_use]
    pub fn system() -> Language {
        Language::from_locale(sys_locale::get_locale().as_deref().unwrap_or(""))
    }

    /// The language for a locale name such as `zh_CN.UTF-8`, `zh-Hans-CN` or `en-US`.
    /// Traditional Chinese locales (`zh_TW`, `zh_HK`) get Simplified Chinese
    /// too: it is the only Chinese there is, and closer to them than English.
    #[must_use]
    pub fn from_locale(locale: &str) -> Language {
        let lang = locale.split(['_', '-', '.', '@']).next().unwrap_or("");
        if lang.eq_ignore_ascii_case("zh") {
            Language::Chinese
        } else {
            Language::English
        }
    }

    /// The rust-i18n locale code of the language's texts.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    /// The language's name in itself, so a person who reads only one of
    /// them still finds it whatever the window is shown in.
    #[must_use]
    pub fn native_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Chinese => "中文",
        }
    }
}

/// Shows the window in `choice`, or in the system's language when it is `None`.
pub fn apply(choice: Option<Language>) {
    rust_i18n::set_locale(choice.unwrap_or_else(Language::system).code());
}

/// The label of a language choice in the View menu; `None` follows the system.
#[must_use]
pub fn choice_label(choice: Option<Language>) -> String {
    match choice {
        Some(language) => language.native_name().to_owned(),
        None => t!(
            "language.follow_system",
            language = Language::system().native_name()
        )
        .into_owned(),
    }
}

/// The View menu's language choices. Applies a new choice at once and
/// returns true when it changed, so the caller can save the setting.
pub fn language_menu_ui(ui: &mut egui::Ui, choice: &mut Option<Language>) -> bool {
    let before = *choice;
    ui.label(t!("language.title"));
    for option in [None, Some(Language::English), Some(Language::Chinese)] {
        ui.radio_value(choice, option, choice_label(option));
    }
    if *choice == before {
        return false;
    }
    apply(*choice);
    // Every label changes: draw again with the new texts.
    ui.ctx().request_repaint();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_of_every_form_pick_chinese() {
        for locale in [
            "zh_CN.UTF-8",
            "zh-CN",
            "zh-Hans-CN",
            "zh_TW",
            "zh_HK.UTF-8",
            "zh",
            "ZH_cn",
        ] {
            assert_eq!(Language::from_locale(locale), Language::Chinese, "{locale}");
        }
        for locale in ["en_US.UTF-8", "C", "POSIX", "", "de-DE", "zu_ZA", "ja_JP"] {
            assert_eq!(Language::from_locale(locale), Language::English, "{locale}");
        }
    }

    #[test]
    fn the_setting_is_saved_by_lowercase_name() {
        let saved = ron::to_string(&Some(Language::Chinese)).unwrap_or_default();
        assert_eq!(saved, "Some(chinese)");
        let back: Option<Language> = ron::from_str("Some(english)").unwrap_or(None);
        assert_eq!(back, Some(Language::English));
    }
}
