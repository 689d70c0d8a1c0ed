//! The rule pack file format as plain serde types, before any validation.
//!
//! Shared by the analyzer and its build script (`build.rs` includes this file): the build
//! script parses the shipped packs under `rules/` once, at compile time, and emits them as
//! `static` values of these types, so starting the analyzer parses no TOML. Text fields are
//! `Cow<'static, _>` so the same types hold both those borrowed statics and packs parsed at
//! run time (`--rules`). This file must depend on nothing but `std` and `serde`.

use std::borrow::Cow;

use serde::Deserialize;

/// Text of a pack: borrowed from the binary for shipped packs, owned for packs read at run time.
pub type Text = Cow<'static, str>;
/// A list in a pack, borrowed or owned like [`Text`].
pub type List<T> = Cow<'static, [T]>;

/// One pack file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    #[serde(default)]
    pub rule: List<RuleSpec>,
}

/// One `[[rule]]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Text,
    pub title: Text,
    pub severity: Text,
    pub confidence: Text,
    pub vectors: List<Text>,
    #[serde(default)]
    pub languages: List<Text>,
    pub explanation: Text,
    #[serde(default)]
    pub files: List<Text>,
    #[serde(default)]
    pub exclude_files: List<Text>,
    #[serde(default)]
    pub lines: Option<Text>,
    #[serde(default)]
    pub unless: Option<Text>,
    #[serde(default)]
    pub role: Option<Text>,
    #[serde(rename = "match")]
    pub matches: List<MatchSpec>,
}

/// One `[[rule.match]]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    pub literal: Text,
    #[serde(default)]
    pub ignore_case: bool,
    #[serde(default)]
    pub regex: Option<Text>,
}
