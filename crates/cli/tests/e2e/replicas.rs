//! Several `serve` processes on one PostgreSQL database cooperate: submissions through either
//! are analysed exactly once (by whichever worker leases the job first), a session made on one
//! replica works on the other (and so does a token it mints), a change text submitted to one
//! is readable on the other, and SIGTERM stops a replica cleanly while the other keeps serving.
//!
//! Rate limits are per replica (documented in docs/operators.md), so this test raises the
//! submission burst rather than asserting a shared limit.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::Client;
use crate::instance::{Backend, Instance, Options, postgres_skipped};

/// Submissions per replica.
const PER_REPLICA: usize = 12;

fn options() -> Options {
    Options {
        env: vec![("S_EXPRESS_SUBMIT_BURST".into(), "1000".into())],
        ..Options::default()
    }
}

fn diff(i: usize) -> String {
    format!(
        "diff --git a/src/lib{i}.rs b/src/lib{i}.rs\n--- a/src/lib{i}.rs\n+++ b/src/lib{i}.rs\n@@ -1,2 +1,3 @@\n fn main() {{\n+    println!(\"change {i}\");\n }}\n"
    )
}

fn submit(client: &Client, i: usize) -> String {
    let answer = client.post_json(
        "/api/v1/cases",
        &json!({
            "project": {"forge": "github", "owner": "acme", "name": "widget"},
            "diff": diff(i),
            "concern": format!("submission {i}"),
            "suspicion": 3,
        }),
    );
    assert_eq!(answer.status, 201, "submission {i}: {}", answer.text);
    answer.json()["id"].as_str().expect("a case id").to_string()
}

fn count_lines(instance: &Instance, needle: &[&str]) -> usize {
    instance
        .log_text()
        .lines()
        .filter(|l| needle.iter().all(|n| l.contains(n)))
        .count()
}

#[test]
fn two_replicas_on_one_postgres_database_share_jobs_sessions_and_change_texts() {
    if postgres_skipped() {
        return;
    }
    let mut a = Instance::start_with(Backend::Postgres, options());
    let mut b = a.start_replica(options());
    assert_ne!(a.base_url, b.base_url);
    let token = a.create_user("mona", &["maintainer"], "a long enough passphrase");
    let (ca, cb) = (
        Client::new(&a.base_url).with_token(&token),
        Client::new(&b.base_url).with_token(&token),
    );

    // Many submissions through both replicas at once.
    let ids: Vec<String> = thread::scope(|s| {
        let ta = s.spawn(|| (0..PER_REPLICA).map(|i| submit(&ca, i)).collect::<Vec<_>>());
        let tb = s.spawn(|| {
            (PER_REPLICA..2 * PER_REPLICA)
                .map(|i| submit(&cb, i))
                .collect::<Vec<_>>()
        });
        let mut ids = ta.join().expect("submitter a");
        ids.extend(tb.join().expect("submitter b"));
        ids
    });

    // Every case gets its automated report, readable on both replicas.
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &ids {
        loop {
            let case: Value = cb.get(&format!("/api/v1/cases/{id}")).json();
            if !case["report"].is_null() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "case {id} has no report after 60 s:\n--- a ---\n{}\n--- b ---\n{}",
                a.log_text(),
                b.log_text()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    // Each analysis job ran exactly once: leased once, done, and reported once in the logs.
    let jobs = a.sql(
        "SELECT count(*), count(*) FILTER (WHERE state = 'done' AND attempts = 1) \
         FROM jobs WHERE name = 'analyze_case'",
    );
    let n = ids.len();
    assert_eq!(
        jobs,
        format!("{n}|{n}"),
        "analysis jobs: total | done after one lease"
    );
    let done_a = count_lines(&a, &["job done", "name=analyze_case"]);
    let done_b = count_lines(&b, &["job done", "name=analyze_case"]);
    assert_eq!(done_a + done_b, n, "a ran {done_a}, b ran {done_b}");
    let reports = count_lines(&a, &["automated report attached"])
        + count_lines(&b, &["automated report attached"]);
    assert_eq!(reports, n, "each report is attached once");
    // One publication job per case, scheduled for the grace deadline in the same transaction.
    assert_eq!(
        a.sql("SELECT count(*) FROM jobs WHERE name = 'publish_case' AND state = 'queued'"),
        n.to_string()
    );

    // A change submitted through a is readable through b, byte for byte.
    let change = cb.get(&format!("/api/v1/cases/{}/change", ids[0])).json();
    assert_eq!(change["diff"], diff(0));
    let change = ca
        .get(&format!("/api/v1/cases/{}/change", ids[n - 1]))
        .json();
    assert_eq!(change["diff"], diff(n - 1));

    // A session made on a works on b; logging out on b ends it on a.
    let login = Client::new(&a.base_url).post_json(
        "/api/v1/session",
        &json!({"handle": "mona", "password": "a long enough passphrase"}),
    );
    assert_eq!(login.status, 201, "{}", login.text);
    let cookie = login
        .set_cookies
        .first()
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let csrf = login.json()["csrf_token"]
        .as_str()
        .expect("a CSRF token")
        .to_string();
    let on_b = Client::new(&b.base_url).with_cookie(&cookie);
    let me = on_b.get("/api/v1/me");
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["authenticated_by"], "session");
    // A token minted by that session on b works on a.
    let minted = on_b.post_bytes(
        "/api/v1/tokens",
        "application/json",
        json!({"name": "made on b"}).to_string().as_bytes(),
        &[("X-CSRF-Token", &csrf)],
    );
    assert_eq!(minted.status, 201, "{}", minted.text);
    let secret = minted.json()["token_secret"]
        .as_str()
        .expect("a token secret")
        .to_string();
    let me = Client::new(&a.base_url)
        .with_token(&secret)
        .get("/api/v1/me");
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["authenticated_by"], "token");

    // SIGTERM stops b cleanly; a keeps serving and leaves no job leased behind.
    let status = b.stop().expect("b was running");
    assert!(
        status.success(),
        "b exited with {status}:\n{}",
        b.log_text()
    );
    assert!(
        b.log_text().contains("shut down cleanly"),
        "{}",
        b.log_text()
    );
    let late = submit(&ca, 2 * PER_REPLICA);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ca.get(&format!("/api/v1/cases/{late}")).json()["report"].is_null() {
        assert!(Instant::now() < deadline, "a alone did not analyse {late}");
        thread::sleep(Duration::from_millis(100));
    }
    let status = a.stop().expect("a was running");
    assert!(
        status.success(),
        "a exited with {status}:\n{}",
        a.log_text()
    );
    assert_eq!(
        a.sql("SELECT count(*) FROM jobs WHERE state = 'running'"),
        "0"
    );
}
