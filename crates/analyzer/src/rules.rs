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

mod spec;

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use spec::{MatchSpec, PackFile, RuleSpec};

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

/// A detector defined by a rule in a pack.
#[derive(Debug)]
pub struct RuleDetector {
    meta: DetectorMeta,
    patterns: Vec<LinePattern>,
    exclude_files: Vec<FileScope>,
    unless: Option<spec::Text>,
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
/// Shipped packs are `'static` already and leak nothing.
fn leak(s: &spec::Text) -> &'static str {
    match s {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => Box::leak(s.clone().into_boxed_str()),
    }
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
    let file = parse_pack(pack, text)?;
    rules_from_specs(pack, &file.rule, validate)
}

/// Parse a pack's TOML without validating its rules.
fn parse_pack(pack: &str, text: &str) -> Result<PackFile, RuleError> {
    toml::from_str(text).map_err(|source| RuleError::Toml {
        pack: pack.to_string(),
        source,
    })
}

/// The rules of every shipped pack, from the specs the build script parsed: no TOML is parsed
/// at run time. Validated like any pack, except that regexes are compiled on first use (a
/// test compiles them all).
pub fn builtin_rules() -> Result<Vec<RuleDetector>, RuleError> {
    let mut out = Vec::new();
    for (pack, specs) in BUILTIN_SPECS {
        out.extend(rules_from_specs(pack, specs, false)?);
    }
    Ok(out)
}

/// Check parsed rules and turn them into detectors (see [`load_pack`] for `validate`).
fn rules_from_specs(
    pack: &str,
    specs: &[RuleSpec],
    validate: bool,
) -> Result<Vec<RuleDetector>, RuleError> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let bad = |message: String| RuleError::Invalid {
            pack: pack.to_string(),
            rule: spec.id.to_string(),
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
        let scopes = |names: &[spec::Text]| {
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
        for m in spec.matches.iter() {
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
                literal: leak(&m.literal),
                ignore_case: m.ignore_case,
                regex: m.regex.as_ref().map(leak),
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
                id: spec.id.clone(),
                title: spec.title.clone(),
                severity,
                confidence,
                vectors: Cow::Owned(vectors),
                languages: Cow::Owned(languages),
                explanation: match &spec.explanation {
                    Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
                    Cow::Owned(text) => Cow::Owned(text.trim().to_string()),
                },
            },
            patterns,
            exclude_files,
            unless: spec.unless.clone(),
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
    fn the_rules_parsed_at_build_time_are_the_packs_as_parsed_at_run_time() {
        let names: Vec<&str> = BUILTIN_SPECS.iter().map(|(name, _)| *name).collect();
        let texts: Vec<&str> = builtin_packs().iter().map(|(name, _)| *name).collect();
        assert_eq!(names, texts);
        assert!(names.len() >= 7, "{names:?}");
        for ((name, specs), (_, text)) in BUILTIN_SPECS.iter().zip(builtin_packs()) {
            let parsed = parse_pack(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&parsed.rule[..], *specs, "{name}");
        }
        let built = builtin_rules().unwrap();
        let mut loaded = Vec::new();
        for (name, text) in builtin_packs() {
            loaded.extend(load_pack(name, text, false).unwrap());
        }
        assert_eq!(format!("{built:?}"), format!("{loaded:?}"));
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
