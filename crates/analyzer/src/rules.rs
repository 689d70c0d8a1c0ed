//! Declarative rule packs: TOML files under `rules/<subgroup>/` that subgroup experts write
//! without touching Rust. Each rule becomes a detector whose patterns join the shared
//! automaton. See `docs/rule-authors.md` for the format.
//!
//! ```toml
//! [[rule]]
//! id = "curl-pipe-shell"
//! title = "Download piped into a shell"
//! severity = "high"
//! confidence = "high"
//! vectors = ["install-hook"]
//! files = ["execution-path"]          # optional file scopes
//! explanation = "…"
//! unless = '''^\s*#'''                # optional: a line matching this is not reported
//! [[rule.match]]
//! literal = "| sh"
//! regex = '''(curl|wget)[^|]*\|\s*(ba)?sh\b'''
//! ```

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use crate::detector::{
    Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern, LineScope, Role,
};
use crate::finding::{Confidence, Findings, Severity, Vector};

/// A rule pack failed to load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    #[error("rule pack {pack}: not valid TOML: {source}")]
    Toml {
        pack: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("rule pack {pack}, rule {rule}: {message}")]
    Invalid {
        pack: String,
        rule: String,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    title: String,
    severity: String,
    confidence: String,
    vectors: Vec<String>,
    #[serde(default)]
    languages: Vec<String>,
    explanation: String,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    lines: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(rename = "match")]
    matches: Vec<MatchSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchSpec {
    literal: String,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    regex: Option<String>,
}

/// A detector defined by a rule in a pack.
#[derive(Debug)]
pub struct RuleDetector {
    meta: DetectorMeta,
    patterns: Vec<LinePattern>,
    exclude_files: Vec<FileScope>,
    unless: Option<String>,
    unless_re: OnceLock<Option<Regex>>,
    /// The pack file the rule came from (for docs and errors).
    pub pack: String,
}

impl RuleDetector {
    fn unless_matches(&self, line: &str) -> bool {
        let Some(src) = &self.unless else {
            return false;
        };
        self.unless_re
            .get_or_init(|| Regex::new(src).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(line))
    }
}

impl Detector for RuleDetector {
    fn meta(&self) -> &DetectorMeta {
        &self.meta
    }

    fn line_patterns(&self) -> &[LinePattern] {
        &self.patterns
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        if self.exclude_files.iter().any(|s| s.admits(file.class)) || self.unless_matches(hit.text)
        {
            return;
        }
        out.push(
            self.meta
                .finding(hit.location(file.path()))
                .evidence(hit.text.trim())
                .build(),
        );
    }
}

/// Rule packs are loaded once per process; their strings live as long as the analyzer that
/// uses them, so leaking keeps `LinePattern` a plain `'static` value like Rust detectors'.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn static_str(s: &str, known: &[&'static str]) -> Option<&'static str> {
    known.iter().copied().find(|k| *k == s)
}

/// Role kinds a rule may declare (`role = "source:env"`).
pub const ROLE_KINDS: &[&str] = &[
    "env-dump",
    "env-secret",
    "credentials",
    "wallet",
    "request-input",
    "file-read",
    "system-info",
    "decode",
    "decrypt",
    "decompress",
    "serialize",
    "network",
    "exec",
    "eval",
    "write",
    "delete",
];

fn parse_role(s: &str) -> Option<(Role, &'static str)> {
    let (role, kind) = s.split_once(':')?;
    let role = match role {
        "source" => Role::Source,
        "transform" => Role::Transform,
        "network" => Role::NetworkSink,
        "exec" => Role::ExecSink,
        "write" => Role::WriteSink,
        _ => return None,
    };
    Some((role, static_str(kind, ROLE_KINDS)?))
}

/// Parse one pack. With `validate`, every regex is compiled now so a broken user pack fails
/// at load with the rule's id; built-in packs skip this (a test compiles them all) so the
/// CLI starts in milliseconds.
pub fn load_pack(pack: &str, text: &str, validate: bool) -> Result<Vec<RuleDetector>, RuleError> {
    let file: PackFile = toml::from_str(text).map_err(|source| RuleError::Toml {
        pack: pack.to_string(),
        source,
    })?;
    let mut out = Vec::with_capacity(file.rule.len());
    for spec in file.rule {
        let bad = |message: String| RuleError::Invalid {
            pack: pack.to_string(),
            rule: spec.id.clone(),
            message,
        };
        if spec.id.is_empty()
            || !spec
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad(
                "id must be kebab-case: lower-case letters, digits and '-'".into(),
            ));
        }
        let severity = Severity::parse(&spec.severity).ok_or_else(|| {
            bad(format!(
                "unknown severity {:?} (info, low, medium, high, critical)",
                spec.severity
            ))
        })?;
        let confidence = Confidence::parse(&spec.confidence).ok_or_else(|| {
            bad(format!(
                "unknown confidence {:?} (low, medium, high)",
                spec.confidence
            ))
        })?;
        let vectors = spec
            .vectors
            .iter()
            .map(|v| Vector::parse(v).ok_or_else(|| bad(format!("unknown vector {v:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if vectors.is_empty() {
            return Err(bad("at least one vector is required".into()));
        }
        let languages = spec
            .languages
            .iter()
            .map(|l| {
                crate::classify::intern_language(l)
                    .ok_or_else(|| bad(format!("unknown language {l:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scopes = |names: &[String]| {
            names
                .iter()
                .map(|f| {
                    FileScope::parse(f).ok_or_else(|| bad(format!("unknown file scope {f:?}")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let files = scopes(&spec.files)?;
        let exclude_files = scopes(&spec.exclude_files)?;
        let lines = match spec.lines.as_deref() {
            None | Some("added") => LineScope::Added,
            Some("removed") => LineScope::Removed,
            Some("changed") => LineScope::Changed,
            Some("any") => LineScope::Any,
            Some(other) => return Err(bad(format!("unknown lines scope {other:?}"))),
        };
        let role = match &spec.role {
            None => None,
            Some(r) => Some(parse_role(r).ok_or_else(|| bad(format!("unknown role {r:?}")))?),
        };
        if spec.matches.is_empty() {
            return Err(bad("at least one [[rule.match]] is required".into()));
        }
        let leaked_files: &'static [FileScope] = Box::leak(files.into_boxed_slice());
        let mut patterns = Vec::with_capacity(spec.matches.len());
        for m in &spec.matches {
            if m.literal.len() < 3 {
                return Err(bad(format!(
                    "literal {:?} is too short: anchors of under 3 bytes match everywhere and slow every scan",
                    m.literal
                )));
            }
            if let (true, Some(re)) = (validate, &m.regex) {
                Regex::new(re).map_err(|e| bad(format!("bad regex: {e}")))?;
            }
            patterns.push(LinePattern {
                literal: leak(m.literal.clone()),
                ignore_case: m.ignore_case,
                regex: m.regex.clone().map(leak),
                lines,
                files: leaked_files,
                role,
            });
        }
        if let (true, Some(re)) = (validate, &spec.unless) {
            Regex::new(re).map_err(|e| bad(format!("bad unless regex: {e}")))?;
        }
        out.push(RuleDetector {
            meta: DetectorMeta {
                id: Cow::Owned(spec.id.clone()),
                title: Cow::Owned(spec.title),
                severity,
                confidence,
                vectors: Cow::Owned(vectors),
                languages: Cow::Owned(languages),
                explanation: Cow::Owned(spec.explanation.trim().to_string()),
            },
            patterns,
            exclude_files,
            unless: spec.unless,
            unless_re: OnceLock::new(),
            pack: pack.to_string(),
        });
    }
    Ok(out)
}

/// The rule packs shipped in `rules/`, embedded at build time: `(path under rules/, text)`.
pub fn builtin_packs() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_pack_loads_with_valid_regexes() {
        for (name, text) in builtin_packs() {
            let rules = load_pack(name, text, true).unwrap_or_else(|e| panic!("{e}"));
            assert!(!rules.is_empty(), "{name} has no rules");
        }
    }

    #[test]
    fn a_bad_rule_is_named_in_the_error() {
        let text = r#"
[[rule]]
id = "x-rule"
title = "t"
severity = "extreme"
confidence = "high"
vectors = ["ci"]
explanation = "e"
[[rule.match]]
literal = "abc"
"#;
        let err = load_pack("p.toml", text, true).unwrap_err().to_string();
        assert!(err.contains("x-rule") && err.contains("extreme"), "{err}");
    }

    #[test]
    fn short_literals_are_refused() {
        let text = r#"
[[rule]]
id = "x"
title = "t"
severity = "low"
confidence = "high"
vectors = ["ci"]
explanation = "e"
[[rule.match]]
literal = "a"
"#;
        assert!(
            load_pack("p.toml", text, false)
                .unwrap_err()
                .to_string()
                .contains("too short")
        );
    }
}
