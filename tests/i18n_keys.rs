//! The locale files agree: English and Chinese have the same keys, no text is
//! empty, each text takes the same `%{arguments}` in both, and every key the
//! code asks for with `t!("…")` exists (so a mistyped key fails here rather
//! than showing the key itself in the window), and every text is asked for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LOCALES: [&str; 2] = ["en", "zh-CN"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A locale file's texts by key, without rust-i18n's `_version`.
fn texts(locale: &str) -> BTreeMap<String, String> {
    let path = root().join(format!("assets/locales/{locale}.yml"));
    let file = std::fs::read_to_string(&path).expect("the locale file reads");
    let mut texts: BTreeMap<String, String> =
        serde_yaml::from_str(&file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    texts.remove("_version");
    texts
}

/// The names of the `%{name}` arguments in `text`.
fn arguments(text: &str) -> BTreeSet<&str> {
    text.split("%{")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// The Rust files under `dir`.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every `t!("key"` in the crate's source, with the file it is in.
fn keys_used() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    // `t!(` alone or as `rust_i18n::t!(`, not the end of `format!(`.
    let call = regex::Regex::new(r#"(?:^|[^A-Za-z0-9_])t!\(\s*"([^"]*)""#).unwrap();
    let mut found = Vec::new();
    for path in files {
        let code = std::fs::read_to_string(&path).unwrap();
        for key in call.captures_iter(&code) {
            found.push((key[1].to_owned(), path.clone()));
        }
    }
    found
}

#[test]
fn both_languages_have_the_same_keys_and_arguments() {
    let en = texts("en");
    let zh = texts("zh-CN");
    assert!(en.len() > 100, "only {} English texts", en.len());
    let en_keys: BTreeSet<_> = en.keys().collect();
    let zh_keys: BTreeSet<_> = zh.keys().collect();
    assert_eq!(
        en_keys.difference(&zh_keys).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in English only"
    );
    assert_eq!(
        zh_keys.difference(&en_keys).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in Chinese only"
    );
    for (key, english) in &en {
        let chinese = &zh[key];
        assert!(!english.trim().is_empty(), "{key}: empty in English");
        assert!(!chinese.trim().is_empty(), "{key}: empty in Chinese");
        assert_eq!(
            arguments(english),
            arguments(chinese),
            "{key}: the two take different arguments"
        );
    }
}

#[test]
fn every_key_the_code_asks_for_exists() {
    let used = keys_used();
    assert!(used.len() > 100, "found only {} uses of t!", used.len());
    for locale in LOCALES {
        let texts = texts(locale);
        for (key, path) in &used {
            assert!(
                texts.contains_key(key),
                "{}: t!(\"{key}\") is not in {locale}.yml",
                path.display()
            );
        }
    }
}

#[test]
fn every_text_is_used() {
    let used: BTreeSet<String> = keys_used().into_iter().map(|(key, _)| key).collect();
    let unused: Vec<String> = texts("en")
        .into_keys()
        .filter(|key| !used.contains(key))
        .collect();
    assert!(unused.is_empty(), "no t!(\"…\") asks for {unused:?}");
}

#[test]
fn the_argument_finder_reads_names() {
    assert_eq!(
        arguments("%{a} to %{b}, %{a} again; {text} is no argument"),
        BTreeSet::from(["a", "b"])
    );
}
