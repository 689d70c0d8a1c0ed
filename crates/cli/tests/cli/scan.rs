//! `s-express scan`: every commit of a history, ranked by risk.

use super::repo::{ALICE, MALLORY, SETUP_JS, path_str, test_repo};
use super::{json, stderr, stdout, sx};

#[test]
fn scan_ranks_the_payload_commit_first() {
    let mut r = test_repo();
    r.commit(
        ALICE,
        "Initial commit",
        &[("README.md", Some(b"# Project\n"))],
    );
    r.commit(
        ALICE,
        "Document the API",
        &[("docs/api.md", Some(b"# API\n\nCall `run()`.\n"))],
    );
    let evil = r.commit(
        MALLORY,
        "Add setup script",
        &[("scripts/setup.js", Some(SETUP_JS))],
    );
    r.commit(
        ALICE,
        "Fix a typo",
        &[("README.md", Some(b"# The project\n"))],
    );

    let o = sx(
        &[
            "scan",
            "--repo",
            path_str(&r),
            "--format",
            "json",
            "--jobs",
            "2",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let commits = v["commits"].as_array().unwrap();
    assert_eq!(v["scanned"], 4);
    assert_eq!(commits.len(), 4);
    assert_eq!(commits[0]["id"], evil.to_string(), "{v}");
    assert_eq!(commits[0]["subject"], "Add setup script");
    assert_eq!(commits[0]["top_finding"]["path"], "scripts/setup.js");
    let probs: Vec<f64> = commits
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .collect();
    assert!(
        probs.windows(2).all(|w| w[0] >= w[1]),
        "not ranked: {probs:?}"
    );
    assert!(probs[0] > probs[1]);
    // No progress bar when stderr is not a terminal.
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn scan_respects_max_and_since() {
    let mut r = test_repo();
    for i in 0..5 {
        let body = format!("v{i}\n");
        r.commit(
            ALICE,
            &format!("Commit {i}"),
            &[("a.txt", Some(body.as_bytes()))],
        );
    }
    let two = json(&sx(
        &[
            "scan",
            "--repo",
            path_str(&r),
            "--format",
            "json",
            "--max",
            "2",
        ],
        None,
    ));
    assert_eq!(two["scanned"], 2);
    // The test clock starts at 1_700_000_000 and steps one hour per commit: the last two
    // commits are at +4 h and +5 h.
    let since = (1_700_000_000 + 4 * 3600).to_string();
    let recent = json(&sx(
        &[
            "scan",
            "--repo",
            path_str(&r),
            "--format",
            "json",
            "--since",
            &since,
        ],
        None,
    ));
    let subjects: Vec<&str> = recent["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    let mut sorted = subjects.clone();
    sorted.sort();
    assert_eq!(sorted, ["Commit 3", "Commit 4"]);
}

#[test]
fn scan_text_output_is_a_ranked_table() {
    let mut r = test_repo();
    r.commit(
        ALICE,
        "Initial commit",
        &[("README.md", Some(b"# Project\n"))],
    );
    let evil = r.commit(
        MALLORY,
        "Add \u{202e}setup",
        &[("scripts/setup.js", Some(SETUP_JS))],
    );
    let o = sx(&["scan", "--repo", path_str(&r)], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let first_row = out.lines().find(|l| l.starts_with("1 ")).unwrap();
    assert!(first_row.contains(&evil.to_string()[..12]), "{out}");
    assert!(
        first_row.contains("Add <U+202E>setup"),
        "hidden characters shown: {out}"
    );
}

#[test]
fn a_bad_since_date_is_a_usage_error_with_help() {
    let mut r = test_repo();
    r.commit(
        ALICE,
        "Initial commit",
        &[("README.md", Some(b"# Project\n"))],
    );
    let o = sx(
        &["scan", "--repo", path_str(&r), "--since", "yesterday"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("help: use YYYY-MM-DD"),
        "{}",
        stderr(&o)
    );
}
