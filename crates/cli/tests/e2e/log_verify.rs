//! `s-express log verify` against a running instance: a case is submitted, assessed, decided
//! and published (revealing its commitments) while another stays sealed; the log verifies over
//! HTTP and as an export file, and tampered exports or a wrong key are rejected.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sx_store::translog::{EntryBody, Export, Hash32};

use crate::http::Client;
use crate::instance::{Backend, Instance, postgres_skipped, run};

const DIFF: &str = "\
diff --git a/package.json b/package.json
--- a/package.json
+++ b/package.json
@@ -1,4 +1,5 @@
 {
   \"name\": \"widget\",
+  \"scripts\": { \"postinstall\": \"node lib/setup.js\" },
   \"version\": \"1.0.0\"
 }
";

fn submission() -> Value {
    json!({
        "project": { "forge": "github", "owner": "acme", "name": "widget" },
        "diff": DIFF,
        "concern": "a new install hook",
        "suspicion": 3
    })
}

/// Creates a JavaScript subgroup with `members` as an operator does, through
/// `s-express admin subgroup`.
fn javascript_subgroup(sx: &Instance, members: &[&str]) {
    sx.admin(
        &[
            "subgroup",
            "create",
            "javascript",
            "--name",
            "JavaScript and npm",
            "--language",
            "javascript",
        ],
        None,
    );
    for handle in members {
        sx.admin(&["subgroup", "add-member", "javascript", handle], None);
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn verify(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["log", "verify"];
    all.extend_from_slice(args);
    let out = run(&all, None, &[]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rechain(export: &mut Export, from: usize) {
    for i in from..export.entries.len() {
        let prev = if i == 0 {
            Hash32::ZERO
        } else {
            export.entries[i - 1].hash
        };
        let e = &mut export.entries[i];
        e.prev_hash = prev;
        e.hash = e.compute_hash();
    }
}

fn journey(backend: Backend) {
    let sx = Instance::start(backend);
    let alice = sx.create_user("alice", &["maintainer"], "alice's long passphrase");
    let eve = sx.create_user("eve", &["expert"], "eve's long passphrase");
    javascript_subgroup(&sx, &["eve"]);
    let anon = Client::new(&sx.base_url);
    let alice = anon.with_token(&alice);
    let eve = anon.with_token(&eve);

    // One case goes all the way to publication; another stays sealed.
    let created = alice.post_json("/api/v1/cases", &submission());
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let sealed = alice.post_json("/api/v1/cases", &submission());
    assert_eq!(sealed.status, 201, "{}", sealed.text);
    let path = format!("/api/v1/cases/{id}");
    wait_for("automated triage", || {
        alice.get(&path).json()["status"] == "triaged"
    });
    let claim = eve.post_json(&format!("{path}/claim"), &json!({}));
    assert_eq!(claim.status, 200, "{}", claim.text);
    let assessed = eve.post_json(
        &format!("{path}/assessments"),
        &json!({
            "verdict": "benign", "confidence": "high",
            "summary": "A build step, nothing hostile.",
            "rationale": "The hook runs a local script that only prints.",
            "recommended_actions": [], "references": [],
            "time_spent_minutes": 5, "thoroughness": "high", "understanding": "high"
        }),
    );
    assert_eq!(assessed.status, 201, "{}", assessed.text);
    let decided = alice.post_json(&format!("{path}/decision"), &json!({ "outcome": "merged" }));
    assert_eq!(decided.status, 200, "{}", decided.text);
    wait_for("publication", || anon.get(&path).status == 200);
    wait_for("a checkpoint covering the publication", || {
        let size = anon.get("/api/v1/log?limit=1").json()["size"].clone();
        let cp = anon.get("/api/v1/log/checkpoint");
        cp.status == 200 && cp.json()["checkpoint"]["size"] == size
    });
    let key = anon.get("/api/v1/log/checkpoint").json()["public_key"]
        .as_str()
        .unwrap()
        .to_string();

    // Over HTTP.
    let (code, out, err) = verify(&["--url", &sx.base_url, "--key", &key]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("log verified"), "{out}");
    let opened: u64 = out
        .split(" sealed entries, ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no reveal count in {out}"));
    assert!(opened > 0, "the publication opened commitments: {out}");
    assert!(!err.contains("warning"), "{err}");

    // As an export file.
    let export_text = anon.get("/api/v1/log/export");
    assert_eq!(export_text.status, 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.json");
    std::fs::write(&file, &export_text.text).unwrap();
    let file_arg = file.to_str().unwrap();
    let (code, out, err) = verify(&["--file", file_arg, "--key", &key]);
    assert_eq!(code, 0, "{out}\n{err}");
    let export: Export = serde_json::from_str(&export_text.text).unwrap();
    assert!(
        export
            .entries
            .iter()
            .any(|e| matches!(e.body, EntryBody::Commitment { .. })
                && e.case_id.map(|c| c.to_string())
                    == sealed.json()["id"].as_str().map(String::from)),
        "the unpublished case is in the log as commitments"
    );

    // Without --key it still verifies, with a warning.
    let (code, _, err) = verify(&["--file", file_arg]);
    assert_eq!(code, 0);
    assert!(err.contains("warning: no --key"), "{err}");

    let tampered = |export: &Export, expect: &str| {
        std::fs::write(&file, serde_json::to_string(export).unwrap()).unwrap();
        let (code, out, err) = verify(&["--file", file_arg, "--key", &key]);
        assert_eq!(code, 1, "a tampered export must fail: {out}\n{err}");
        assert!(err.contains("log verification FAILED"), "{err}");
        assert!(err.contains(expect), "expected {expect:?} in {err}");
    };

    // An altered entry.
    let mut altered = export.clone();
    altered.entries[1].kind = "case.deleted".into();
    tampered(&altered, "entry 1 was altered");

    // A revealed content changed, with the chain re-hashed to hide it.
    let mut forged = export.clone();
    let reveal_at = forged
        .entries
        .iter()
        .position(|e| matches!(e.body, EntryBody::Reveal { .. }))
        .expect("the publication revealed the case's commitments");
    if let EntryBody::Reveal { reveals, .. } = &mut forged.entries[reveal_at].body {
        reveals[0].content = reveals[0].content.replace("benign", "malicious");
        reveals[0].content.push(' ');
    }
    rechain(&mut forged, reveal_at);
    tampered(&forged, "does not match the commitment");

    // A dropped entry.
    let mut dropped = export.clone();
    dropped.entries.remove(0);
    tampered(&dropped, "dropped, duplicated or reordered");

    // The wrong key.
    std::fs::write(&file, &export_text.text).unwrap();
    let other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let (code, _, err) = verify(&["--file", file_arg, "--key", other]);
    assert_eq!(code, 1, "{err}");

    // An unreachable URL is an error of its own (exit 2), not a verdict on the log.
    let (code, _, err) = verify(&["--url", "http://127.0.0.1:9", "--key", &key]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn log_verify_accepts_a_live_sqlite_instance_and_rejects_tampering() {
    journey(Backend::Sqlite);
}

#[test]
fn log_verify_accepts_a_live_postgres_instance_and_rejects_tampering() {
    if postgres_skipped() {
        return;
    }
    journey(Backend::Postgres);
}
