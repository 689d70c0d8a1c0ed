//! SARIF 2.1.0, as read by GitHub code scanning and other dashboards.
//!
//! One run: `tool.driver.rules` holds one rule per detector id present in the report (its
//! title, explanation, doc link, tags, default level and a GitHub `security-severity`);
//! each finding becomes a result with its level, message, location (percent-encoded path
//! relative to `%SRCROOT%`, line and column in Unicode code points), related locations, the
//! content fingerprint as a partial fingerprint, and confidence and score as properties. The
//! case-level risk sits in `run.properties.risk`, parser notes become tool execution
//! notifications. Findings about the change as a whole (empty path) have no location.

use serde_json::{Map, Value, json};

use super::{RenderOptions, prose, visible};
use crate::finding::{Confidence, Finding, Location, Severity};
use crate::report::Report;

pub const SARIF_VERSION: &str = "2.1.0";
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Key of the content fingerprint in `partialFingerprints` (versioned, as SARIF recommends).
pub const FINGERPRINT_KEY: &str = "sxContentFingerprint/v1";

/// SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like number as a string) of a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// GitHub's `precision` of a confidence.
fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// Render the report as a SARIF 2.1.0 log (pretty JSON followed by a newline).
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = serde_json::to_string_pretty(&to_value(report, opts)).unwrap_or_default();
    out.push('\n');
    out
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &Report, opts: &RenderOptions) -> Value {
    // Rules in order of first appearance (the highest-scoring finding of each id describes it).
    let mut rule_ids: Vec<&str> = Vec::new();
    let mut rules = Vec::new();
    for f in &report.findings {
        if !rule_ids.contains(&f.id.as_str()) {
            rule_ids.push(&f.id);
            rules.push(rule(f, opts));
        }
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = rule_ids.iter().position(|id| *id == f.id).unwrap_or(0);
            result(f, index)
        })
        .collect();

    let notifications: Vec<Value> = report
        .notes
        .iter()
        .map(|n| {
            let kind = serde_json::to_value(n.kind).unwrap_or(Value::Null);
            let mut v = json!({
                "level": "warning",
                "message": { "text": format!("input line {}: {}", n.input_line, visible(&n.message)) },
                "descriptor": { "id": kind },
            });
            if let Some(path) = n.path.as_deref().filter(|p| !p.is_empty()) {
                v["locations"] = json!([{ "physicalLocation": { "artifactLocation": artifact(path) } }]);
            }
            v
        })
        .collect();

    let mut invocation = json!({ "executionSuccessful": true });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }

    let mut log = json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.analyzer.name,
                    "version": report.analyzer.version,
                    "semanticVersion": report.analyzer.version,
                    "rules": rules,
                }
            },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The repository root." } } },
            "results": results,
            "properties": {
                "schemaVersion": report.schema_version,
                "modelVersion": report.analyzer.model_version,
                "risk": {
                    "probability": report.risk.probability,
                    "band": report.risk.band,
                    "logit": report.risk.logit,
                },
                "summary": report.summary,
                "suppressed": report.suppressed.len(),
            }
        }]
    });
    let info = opts.doc_url("README.md");
    if is_absolute_uri(&info) {
        log["runs"][0]["tool"]["driver"]["informationUri"] = json!(info);
    }
    log
}

/// The rule's display name: the id in PascalCase (`payload-eval` → `PayloadEval`).
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn rule(f: &Finding, opts: &RenderOptions) -> Value {
    let mut tags: Vec<String> = vec!["security".into()];
    tags.extend(f.tags.iter().map(|t| t.as_str().to_string()));
    tags.extend(f.languages.iter().cloned());
    let help_uri = opts.doc_url(&f.doc);
    let mut rule = json!({
        "id": f.id,
        "name": rule_name(&f.id),
        "shortDescription": { "text": visible(&f.title) },
        "fullDescription": { "text": prose(&f.explanation) },
        "help": {
            "text": format!("{} See {help_uri}", prose(&f.explanation)),
        },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": {
            "tags": tags,
            "precision": precision(f.confidence),
            "security-severity": security_severity(f.severity),
        }
    });
    // `helpUri` must be an absolute URI; a misconfigured base would make the log invalid.
    if is_absolute_uri(&help_uri) {
        rule["helpUri"] = json!(help_uri);
    }
    rule
}

/// `scheme://rest` with an RFC 3986 scheme and no whitespace or control characters.
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let mut cs = scheme.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic())
        && cs.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let mut message = visible(&f.title).into_owned();
    if !f.evidence.is_empty() {
        message.push_str(": ");
        message.push_str(&visible(&f.evidence));
    }
    let mut r = json!({
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
        "properties": {
            "severity": f.severity,
            "confidence": f.confidence,
            "score": f.score,
            "tags": f.tags,
            "explanation": prose(&f.explanation),
        }
    });
    if !f.path.is_empty() {
        let mut phys = Map::new();
        phys.insert("artifactLocation".into(), artifact(&f.path));
        if let Some(region) = region(f.line, f.end_line, f.column, Some(&f.evidence)) {
            phys.insert("region".into(), region);
        }
        r["locations"] = json!([{ "physicalLocation": phys }]);
    }
    let related: Vec<Value> = f
        .related
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.path.is_empty())
        .map(|(i, l)| related_location(i, l))
        .collect();
    if !related.is_empty() {
        r["relatedLocations"] = Value::Array(related);
    }
    r
}

fn related_location(i: usize, l: &Location) -> Value {
    let mut phys = Map::new();
    phys.insert("artifactLocation".into(), artifact(&l.path));
    if let Some(region) = region(l.line, l.end_line, l.column, None) {
        phys.insert("region".into(), region);
    }
    let mut v = json!({ "id": i, "physicalLocation": phys });
    if let Some(note) = &l.note {
        v["message"] = json!({ "text": visible(note) });
    }
    v
}

fn region(
    line: Option<u32>,
    end: Option<u32>,
    column: Option<u32>,
    snippet: Option<&str>,
) -> Option<Value> {
    // SARIF lines and columns are 1-based; a 0 would make the log invalid.
    let line = line.filter(|l| *l >= 1)?;
    let mut r = json!({ "startLine": line });
    if let Some(e) = end.filter(|e| *e >= line) {
        r["endLine"] = json!(e);
    }
    if let Some(c) = column.filter(|c| *c >= 1) {
        r["startColumn"] = json!(c);
    }
    if let Some(s) = snippet.filter(|s| !s.is_empty()) {
        r["snippet"] = json!({ "text": visible(s) });
    }
    Some(r)
}

fn artifact(path: &str) -> Value {
    json!({ "uri": uri_path(path), "uriBaseId": "%SRCROOT%" })
}

/// Percent-encode a repository path into a relative URI reference. Everything but unreserved
/// characters, `/` and a few safe sub-delimiters is encoded — including `:` (which would
/// otherwise read as a scheme), `%`, `?`, `#`, spaces and all non-ASCII bytes.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(uri_path("src/main.rs"), "src/main.rs");
        assert_eq!(uri_path("c:evil"), "c%3Aevil");
        assert_eq!(uri_path("a b#?%.rs"), "a%20b%23%3F%25.rs");
        assert_eq!(uri_path("é\u{202e}"), "%C3%A9%E2%80%AE");
        assert_eq!(uri_path("/abs/x"), "abs/x");
    }

    #[test]
    fn rule_names_are_pascal_case_ids() {
        assert_eq!(rule_name("payload-eval"), "PayloadEval");
        assert_eq!(rule_name("ci.pull_request_target"), "CiPullRequestTarget");
    }

    #[test]
    fn only_absolute_uris_count_as_help_links() {
        assert!(is_absolute_uri("https://x.test/docs/a.md"));
        assert!(!is_absolute_uri("/blob/main/README.md"));
        assert!(!is_absolute_uri("docs/detectors/a.md"));
        assert!(!is_absolute_uri("https://x.test/a b"));
    }

    #[test]
    fn lines_below_one_produce_no_region() {
        assert!(region(Some(0), None, None, None).is_none());
        let r = region(Some(3), Some(2), Some(0), None).unwrap();
        assert_eq!(r, json!({ "startLine": 3 }));
    }
}
