//! Renderers: snapshots of every format on one fixed report, schema validation of JSON
//! (`docs/report.schema.json`) and SARIF (the official 2.1.0 schema), and escaping of hostile
//! paths and evidence.
//!
//! The fixed report is built by the real pipeline (parser, engine, scorer, suppressions) from a
//! small diff, but with three test-only detectors and pinned weights, so snapshots change only
//! when a renderer does — not when someone adds a detector or re-fits the model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of tests: an unexpected error should fail the test loudly"
)]

use std::sync::OnceLock;

use serde_json::Value;
use sx_analyzer::detector::{ChangeCtx, Detector, DetectorMeta, FileCtx, Hit, LinePattern};
use sx_analyzer::engine::AnalyzeOptions;
use sx_analyzer::finding::{Confidence, Findings, Location, Severity, Vector, fingerprint};
use sx_analyzer::output::{self, Format, RenderOptions};
use sx_analyzer::suppress::Suppressions;
use sx_analyzer::{Analyzer, Model, Report};

/// The shipped weights as of schema v1, pinned so snapshots do not follow re-fits.
const WEIGHTS: &str = r#"
version = 1
bias = -4.0
diminishing = 0.35
[bands]
review = 0.30
high = 0.80
[severity]
info = 0.0
low = 1.0
medium = 2.4
high = 4.0
critical = 6.5
[confidence]
low = 0.45
medium = 0.75
high = 1.0
[location]
build = 1.25
ci = 1.25
install = 1.3
release = 1.2
test = 1.1
docs = 0.6
generated = 0.8
"#;

#[derive(Debug)]
struct EvalOfDecoded;

static EVAL_META: DetectorMeta = DetectorMeta::new(
    "test-eval-decoded",
    "Decoded data passed to eval",
    Severity::Critical,
    Confidence::High,
    &[Vector::Payload, Vector::Obfuscation],
    &["javascript"],
    "A string is decoded and executed. Payloads hidden this way are invisible in review; \
     decode it yourself and read what runs.",
);
const EVAL_PATTERNS: &[LinePattern] = &[LinePattern::lit("eval(")];

impl Detector for EvalOfDecoded {
    fn meta(&self) -> &DetectorMeta {
        &EVAL_META
    }
    fn line_patterns(&self) -> &[LinePattern] {
        EVAL_PATTERNS
    }
    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        out.push(
            EVAL_META
                .finding(hit.location(file.path()))
                .evidence(hit.text.trim())
                .related(
                    Location::line(file.path(), 1).with_note("the encoded blob is defined here"),
                )
                .build(),
        );
    }
}

#[derive(Debug)]
struct BidiControl;

static BIDI_META: DetectorMeta = DetectorMeta::new(
    "test-bidi-control",
    "Bidirectional control character",
    Severity::High,
    Confidence::Medium,
    &[Vector::Unicode],
    &[],
    "The line holds a bidi override: the code reads differently from how it runs.",
);
const BIDI_PATTERNS: &[LinePattern] = &[LinePattern::lit("\u{202e}")];

impl Detector for BidiControl {
    fn meta(&self) -> &DetectorMeta {
        &BIDI_META
    }
    fn line_patterns(&self) -> &[LinePattern] {
        BIDI_PATTERNS
    }
    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        out.push(
            BIDI_META
                .finding(hit.location(file.path()))
                .evidence(hit.text)
                .build(),
        );
    }
}

#[derive(Debug)]
struct TypoClaim;

static TYPO_META: DetectorMeta = DetectorMeta::new(
    "test-typo-claim",
    "Message claims a trivial change",
    Severity::Low,
    Confidence::Low,
    &[Vector::ReviewEvasion],
    &[],
    "The commit message says \"typo\" but code changed.",
);

impl Detector for TypoClaim {
    fn meta(&self) -> &DetectorMeta {
        &TYPO_META
    }
    fn check_change(&self, ctx: &ChangeCtx<'_>, out: &mut Findings) {
        for c in &ctx.change.commits {
            if c.subject().to_ascii_lowercase().contains("typo") {
                out.push(
                    TYPO_META
                        .finding(Location::file(""))
                        .evidence(c.subject())
                        .build(),
                );
            }
        }
    }
}

/// A format-patch mail with an encoded eval, a hostile file name holding a bidi override,
/// backticks and a pipe, and a second eval in a test file that `.s-express.toml` suppresses.
const DIFF: &str = "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: Mallory <mallory@example.test>
Date: Tue, 1 Sep 2026 10:00:00 +0000
Subject: [PATCH] Fix typo in loader

---
diff --git a/src/loader.js b/src/loader.js
index 1111111..2222222 100644
--- a/src/loader.js
+++ b/src/loader.js
@@ -1,3 +1,4 @@
 const blob = 'aGVsbG8=';
 function load() {
+  eval(atob(blob));
 }
diff --git a/docs/<img_src=x_onerror=alert(1)>|@org.md b/docs/<img_src=x_onerror=alert(1)>|@org.md
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/docs/<img_src=x_onerror=alert(1)>|@org.md
@@ -0,0 +1,2 @@
+# Notes
+if (isAdmin) { /* \u{202e} } \u{2066}``` begin admins only */ | <script>x</script>
diff --git a/test/fixture.js b/test/fixture.js
new file mode 100644
index 0000000..4444444
--- /dev/null
+++ b/test/fixture.js
@@ -0,0 +1 @@
+eval(atob('dGVzdA=='));
-- 
2.47.0
";

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| {
        let model = Model::from_toml(WEIGHTS).unwrap();
        Analyzer::from_detectors(
            vec![
                Box::new(EvalOfDecoded),
                Box::new(BidiControl),
                Box::new(TypoClaim),
            ],
            model,
        )
        .unwrap()
    })
}

fn fixed_report() -> Report {
    let change =
        sx_analyzer::diff::parse(DIFF.as_bytes(), &sx_analyzer::diff::Limits::default()).unwrap();
    let fp = fingerprint(
        "test-eval-decoded",
        "test/fixture.js",
        "eval(atob('dGVzdA=='));",
    );
    let suppressions = Suppressions::from_toml(&format!(
        "[[suppress]]\npath = \"test/fixture.js\"\ndetector = \"test-eval-decoded\"\n\
         fingerprint = \"{fp}\"\nreason = \"known test vector\"\n"
    ))
    .unwrap();
    analyzer().analyze_with(&change, &AnalyzeOptions { suppressions })
}

fn options() -> RenderOptions {
    RenderOptions {
        title: Some("Fix typo `now` <b>@maintainers</b>".into()),
        doc_base_url: "https://sx.example.test/repo/".into(),
        ..RenderOptions::default()
    }
}

#[test]
fn the_fixed_report_has_the_findings_the_snapshots_rely_on() {
    let r = fixed_report();
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["test-eval-decoded", "test-bidi-control", "test-typo-claim"],
        "{r:#?}"
    );
    assert_eq!(r.suppressed.len(), 1);
    assert_eq!(r.suppressed[0].path, "test/fixture.js");
}

#[test]
fn text_output_matches_its_snapshot() {
    insta::assert_snapshot!(output::render(&fixed_report(), Format::Text, &options()));
}

#[test]
fn coloured_text_output_matches_its_snapshot() {
    let opts = RenderOptions {
        color: true,
        ..options()
    };
    insta::assert_snapshot!(output::render(&fixed_report(), Format::Text, &opts));
}

#[test]
fn json_output_matches_its_snapshot() {
    insta::assert_snapshot!(output::render(&fixed_report(), Format::Json, &options()));
}

#[test]
fn sarif_output_matches_its_snapshot() {
    insta::assert_snapshot!(output::render(&fixed_report(), Format::Sarif, &options()));
}

#[test]
fn markdown_output_matches_its_snapshot() {
    insta::assert_snapshot!(output::render(
        &fixed_report(),
        Format::Markdown,
        &options()
    ));
}

#[test]
fn plain_text_output_contains_no_escape_or_hidden_character() {
    for format in [Format::Text, Format::Markdown] {
        let out = output::render(&fixed_report(), format, &options());
        let bad: Vec<char> = out
            .chars()
            .filter(|c| *c != '\n' && output::is_hidden(*c))
            .collect();
        assert!(bad.is_empty(), "{format}: {bad:?}");
        assert!(out.contains("<U+202E>"), "{format} must show the override");
    }
}

#[test]
fn coloured_text_uses_escapes_only_of_its_own() {
    let opts = RenderOptions {
        color: true,
        ..options()
    };
    let out = output::render(&fixed_report(), Format::Text, &opts);
    // Every ESC starts one of our SGR sequences (digits and ';' then 'm').
    for (i, _) in out.match_indices('\u{1b}') {
        let rest = &out[i + 1..];
        let seq: String = rest.chars().take_while(|c| *c != 'm').collect();
        assert!(
            seq.starts_with('[') && seq[1..].chars().all(|c| c.is_ascii_digit() || c == ';'),
            "{seq:?}"
        );
    }
}

/// Markdown with code removed: fenced blocks, code spans (any fence length) and `<code>`
/// elements. What remains is what a Markdown renderer would interpret.
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(f) if ticks.len() >= f.len() && line.trim_end() == ticks => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(&strip_spans(line));
                out.push('\n');
            }
        }
    }
    out
}

fn strip_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    loop {
        let code_el = rest.find("<code>");
        let tick = rest.find('`');
        match (code_el, tick) {
            (Some(c), t) if t.is_none_or(|t| c < t) => {
                out.push_str(&rest[..c]);
                let Some(end) = rest[c..].find("</code>") else {
                    return out + "<UNCLOSED>";
                };
                rest = &rest[c + end + "</code>".len()..];
            }
            (_, Some(t)) => {
                out.push_str(&rest[..t]);
                let run = rest[t..].chars().take_while(|c| *c == '`').count();
                let fence = "`".repeat(run);
                let after = &rest[t + run..];
                // The closing fence is a backtick run of exactly the same length.
                let mut search = 0;
                let close = loop {
                    let Some(i) = after[search..].find(&fence) else {
                        break None;
                    };
                    let at = search + i;
                    let len = after[at..].chars().take_while(|c| *c == '`').count();
                    if len == run {
                        break Some(at);
                    }
                    search = at + len;
                };
                let Some(close) = close else {
                    return out + "<UNCLOSED>";
                };
                rest = &after[close + run..];
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

#[test]
fn markdown_shows_hostile_names_only_inside_code() {
    let md = output::render(&fixed_report(), Format::Markdown, &options());
    let prose = outside_code(&md);
    for hostile in [
        "<img",
        "img_src",
        "<script",
        "script>",
        "@org",
        "@maintainers",
        "<b>",
        "\u{202e}",
    ] {
        assert!(
            !prose.contains(hostile),
            "{hostile:?} outside code in:\n{prose}"
        );
    }
    assert!(!prose.contains("<UNCLOSED>"), "{prose}");
    // The pipe in the file name cannot split the table row: four columns, five pipes.
    let row = md
        .lines()
        .find(|l| l.contains("test-bidi-control") && l.starts_with('|'))
        .unwrap();
    assert_eq!(
        row.matches('|').count() - row.matches("\\|").count(),
        5,
        "{row}"
    );
    assert!(md.starts_with(sx_analyzer::output::markdown::MARKER));
}

#[test]
fn the_code_stripper_of_these_tests_finds_markup_outside_code() {
    let p = outside_code("a `x` <code>y</code> ``z`z`` <b>\n```\n<img>\n```\n@org\n");
    assert_eq!(p, "a    <b>\n@org\n");
}

fn report_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/report.schema.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

/// The official SARIF 2.1.0 schema with its one known defect repaired: the `anyOf` that the
/// published file nests inside `definitions.region.properties` (where it is a property named
/// "anyOf" and checks nothing) is moved up to `definitions.region`, where it belongs. The
/// meta-schema check of the unrepaired file fails because of that stray array.
fn sarif_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/sarif-schema-2.1.0.json"
        );
        let mut schema: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let region = &mut schema["definitions"]["region"];
        let stray = region["properties"]
            .as_object_mut()
            .unwrap()
            .remove("anyOf")
            .unwrap();
        region["anyOf"] = stray;
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn json_reports_validate_against_the_documented_schema() {
    let fixed: Value =
        serde_json::from_str(&output::render(&fixed_report(), Format::Json, &options())).unwrap();
    assert_valid(report_schema(), &fixed);
    // And a report from the shipped analyzer on the same diff.
    let change =
        sx_analyzer::diff::parse(DIFF.as_bytes(), &sx_analyzer::diff::Limits::default()).unwrap();
    let real = Analyzer::builtin().unwrap().analyze(&change);
    assert_valid(report_schema(), &serde_json::to_value(&real).unwrap());
}

#[test]
fn the_report_schema_rejects_what_it_should() {
    let mut doc: Value = serde_json::to_value(fixed_report()).unwrap();
    doc["findings"][0]["severity"] = "catastrophic".into();
    assert!(!report_schema().is_valid(&doc));
    let mut doc: Value = serde_json::to_value(fixed_report()).unwrap();
    doc["surprise"] = 1.into();
    assert!(
        !report_schema().is_valid(&doc),
        "unknown top-level fields must be documented first"
    );
}

#[test]
fn sarif_logs_validate_against_the_official_schema() {
    let sarif: Value =
        serde_json::from_str(&output::render(&fixed_report(), Format::Sarif, &options())).unwrap();
    assert_valid(sarif_schema(), &sarif);
    let empty = Analyzer::from_detectors(vec![], Model::builtin())
        .unwrap()
        .analyze(&Default::default());
    let sarif = output::sarif::to_value(&empty, &RenderOptions::default());
    assert_valid(sarif_schema(), &sarif);
}

#[test]
fn the_sarif_schema_check_is_not_vacuous() {
    let mut sarif = output::sarif::to_value(&fixed_report(), &options());
    sarif["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_schema().is_valid(&sarif));
    let mut sarif = output::sarif::to_value(&fixed_report(), &options());
    sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] =
        serde_json::json!({ "startColumn": 3 });
    assert!(
        !sarif_schema().is_valid(&sarif),
        "a region without a start must be rejected"
    );
}

#[test]
fn sarif_results_carry_rule_level_location_and_fingerprint() {
    let report = fixed_report();
    let sarif = output::sarif::to_value(&report, &options());
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(
        rules[0]["helpUri"],
        "https://sx.example.test/repo/docs/detectors/test-eval-decoded.md"
    );
    let r0 = &run["results"][0];
    assert_eq!(r0["ruleId"], "test-eval-decoded");
    assert_eq!(r0["level"], "error");
    assert_eq!(
        r0["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(
        r0["locations"][0]["physicalLocation"]["region"]["startColumn"],
        3
    );
    assert_eq!(
        r0["partialFingerprints"]["sxContentFingerprint/v1"],
        report.findings[0].fingerprint.as_str()
    );
    let r1 = &run["results"][1];
    assert_eq!(
        r1["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "docs/%3Cimg_src=x_onerror=alert(1)%3E%7C@org.md"
    );
    assert_eq!(run["properties"]["risk"]["band"], report.risk.band.as_str());
    // The change-level finding has no location rather than a made-up one.
    assert!(run["results"][2].get("locations").is_none());
}
