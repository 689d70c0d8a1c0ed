//! `s-express analyze` on diffs from files and standard input.

use serde_json::Value;

use super::{BENIGN, MALICIOUS, json, stderr, stdout, sx, sx_in, write};

#[test]
fn a_malicious_diff_fails_the_high_gate() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "evil.diff", MALICIOUS.as_bytes());
    let o = sx_in(dir.path(), &["analyze", &f, "--fail-on", "high"], None);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("S-Express risk: HIGH"), "{out}");
    assert!(out.contains("scripts/setup.js"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn a_benign_diff_passes_even_the_review_gate() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "ok.diff", BENIGN.as_bytes());
    let o = sx_in(dir.path(), &["analyze", &f, "--fail-on", "review"], None);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).starts_with("S-Express risk: LOW"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn without_fail_on_even_a_high_risk_exits_zero() {
    let o = sx(&["analyze", "-"], Some(MALICIOUS.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn malformed_input_exits_2_and_names_the_line() {
    let bad =
        "diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ this is not a hunk header\n+x\n";
    let o = sx(&["analyze", "-"], Some(bad.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: cannot parse standard input as a diff"),
        "{err}"
    );
    assert!(err.contains("line 4"), "{err}");
    assert!(err.lines().last().unwrap().starts_with("help: "), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn input_that_is_no_diff_at_all_exits_2_with_help() {
    let o = sx(&["analyze", "-"], Some(b"hello, I am an email\n"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("help:"), "{}", stderr(&o));
}

#[test]
fn a_missing_file_exits_2_and_names_it() {
    let o = sx(&["analyze", "/nonexistent/pr.diff"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/pr.diff"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn invalid_utf8_input_is_analysed_and_noted() {
    let mut input =
        b"diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1,2 @@\n x = 1\n+y = '".to_vec();
    input.extend_from_slice(&[0xff, 0xfe, b'\'', b'\n']);
    let o = sx(&["analyze", "-", "--format", "json"], Some(&input));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["summary"]["added_lines"], 1);
    let kinds: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"invalid-utf8"), "{report}");
}

#[test]
fn stdin_and_file_input_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "evil.diff", MALICIOUS.as_bytes());
    let from_file = sx_in(dir.path(), &["analyze", &f, "--format", "json"], None);
    let from_stdin = sx_in(
        dir.path(),
        &["analyze", "--format", "json"],
        Some(MALICIOUS.as_bytes()),
    );
    assert_eq!(json(&from_file), json(&from_stdin));
}

#[test]
fn json_output_parses_back_into_a_report() {
    let o = sx(
        &["analyze", "-", "--format", "json"],
        Some(MALICIOUS.as_bytes()),
    );
    let v = json(&o);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["risk"]["band"], "high");
    let report: sx_report::Report = serde_json::from_value(v.clone()).unwrap();
    assert!(!report.findings.is_empty());
    for f in &report.findings {
        assert_eq!(f.fingerprint.len(), 64);
    }
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        v,
        "lossless round trip"
    );
}

/// The report type, through the analyzer crate the binary uses.
mod sx_report {
    pub use sx_analyzer::Report;
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let o = sx(
        &["analyze", "-", "--format", "sarif"],
        Some(MALICIOUS.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sarif = json(&o);
    let errors: Vec<String> = crate::sarif_schema::sarif_validator()
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    assert_eq!(sarif["runs"][0]["properties"]["risk"]["band"], "high");
}

#[test]
fn markdown_output_carries_the_badge_and_title_escaped() {
    let o = sx(
        &[
            "analyze",
            "-",
            "--format",
            "markdown",
            "--title",
            "Fix <b>typo</b> @everyone",
        ],
        Some(MALICIOUS.as_bytes()),
    );
    let md = stdout(&o);
    assert!(md.contains("S-Express risk: **HIGH**"), "{md}");
    assert!(
        md.contains("**Change:** ` Fix <b>typo</b> @everyone `"),
        "{md}"
    );
}

#[test]
fn colour_is_used_only_when_asked_for() {
    let o = sx(
        &["analyze", "-", "--color", "always"],
        Some(MALICIOUS.as_bytes()),
    );
    assert!(stdout(&o).contains("\u{1b}[1;31mHIGH"), "{}", stdout(&o));
    let o = sx(
        &["analyze", "-", "--color", "never"],
        Some(MALICIOUS.as_bytes()),
    );
    assert!(!stdout(&o).contains('\u{1b}'));
}

#[test]
fn extra_rule_packs_add_findings_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(
        &rules,
        "local.toml",
        br#"
[[rule]]
id = "local-quick-start"
title = "Quick start wording changed"
severity = "medium"
confidence = "high"
vectors = ["review-evasion"]
explanation = "A local test rule."
[[rule.match]]
literal = "quick start"
"#,
    );
    let o = sx_in(
        dir.path(),
        &[
            "analyze",
            "-",
            "--format",
            "json",
            "--rules",
            rules.to_str().unwrap(),
        ],
        Some(BENIGN.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<String> = json(&o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"local-quick-start".to_string()), "{ids:?}");

    write(&rules, "local.toml", b"[[rule]]\nid = \"broken\"\n");
    let o = sx_in(
        dir.path(),
        &["analyze", "-", "--rules", rules.to_str().unwrap()],
        Some(BENIGN.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("local.toml") && err.contains("help:"), "{err}");
}

#[test]
fn broken_weights_are_refused_with_help() {
    let dir = tempfile::tempdir().unwrap();
    let w = write(dir.path(), "w.toml", b"version = 1\n");
    let o = sx_in(
        dir.path(),
        &["analyze", "-", "--weights", &w],
        Some(BENIGN.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("w.toml") && stderr(&o).contains("help:"),
        "{}",
        stderr(&o)
    );
}

fn findings_in(report: &Value, path: &str) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .cloned()
        .collect()
}

#[test]
fn a_suppression_hides_exactly_its_content_and_not_a_changed_payload() {
    let dir = tempfile::tempdir().unwrap();
    let first = json(&sx_in(
        dir.path(),
        &["analyze", "-", "--format", "json"],
        Some(MALICIOUS.as_bytes()),
    ));
    // Suppress a finding on the `rm -rf ~/` line (line 9 of scripts/setup.js).
    let target = findings_in(&first, "scripts/setup.js")
        .into_iter()
        .find(|f| f["line"] == 9)
        .unwrap_or_else(|| panic!("no finding on the rm line: {first}"));
    let config = format!(
        "[[suppress]]\npath = \"scripts/setup.js\"\ndetector = \"{}\"\nfingerprint = \"{}\"\nreason = \"reviewed: test\"\n",
        target["id"].as_str().unwrap(),
        target["fingerprint"].as_str().unwrap()
    );
    // Found by default in the current directory.
    write(dir.path(), ".s-express.toml", config.as_bytes());
    let second = json(&sx_in(
        dir.path(),
        &["analyze", "-", "--format", "json"],
        Some(MALICIOUS.as_bytes()),
    ));
    assert!(
        !second["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["fingerprint"] == target["fingerprint"]),
        "{second}"
    );
    assert_eq!(second["suppressed"][0]["reason"], "reviewed: test");
    assert_eq!(
        second["findings"].as_array().unwrap().len() + 1,
        first["findings"].as_array().unwrap().len()
    );

    // Same file, same detector, different payload: still reported.
    let changed = MALICIOUS.replace("rm -rf ~/", "rm -rf ~/ --no-preserve-root /");
    let third = json(&sx_in(
        dir.path(),
        &["analyze", "-", "--format", "json"],
        Some(changed.as_bytes()),
    ));
    let suppressed = third["suppressed"].as_array().cloned().unwrap_or_default();
    assert!(!suppressed.iter().any(|s| s["line"] == 9), "{third}");
    assert!(
        findings_in(&third, "scripts/setup.js")
            .iter()
            .any(|f| f["id"] == target["id"] && f["line"] == 9),
        "{third}"
    );
}

#[test]
fn an_invalid_config_is_an_input_error_with_help() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".s-express.toml",
        b"[[suppress]]\npath = \"a\"\ndetector = \"b\"\nfingerprint = \"xyz\"\nreason = \"r\"\n",
    );
    let o = sx_in(dir.path(), &["analyze", "-"], Some(BENIGN.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(".s-express.toml") && err.contains("fingerprint") && err.contains("help:"),
        "{err}"
    );
}
