//! The case journey through the API: submission, analysis job, queue, claim, assessment,
//! decision.

use axum::http::StatusCode;
use serde_json::json;
use sx_domain::{Affiliation, Role};
use sx_server::ConfigLayer;
use sx_store::Store;

use crate::util::{DODGY_DIFF, TestApp, TestUser, assessment, submission};

crate::both_backends!(
    a_submission_is_stored_before_the_ack_and_analysed_and_routed_by_the_job,
    the_running_worker_attaches_the_report_within_a_second_of_receipt,
    only_maintainers_may_submit_and_only_to_projects_they_maintain,
    malformed_submissions_are_refused_with_a_clear_code,
    submissions_are_rate_limited_per_account,
    an_expert_finds_claims_and_assesses_and_the_maintainer_decides,
    a_malicious_verdict_asks_for_a_second_review,
    a_conflicted_expert_neither_sees_nor_can_claim_the_case,
    roles_are_checked_before_anything_else,
    a_decided_case_is_published_by_the_job_then_public_and_the_log_verifies,
    a_case_nobody_decides_has_its_publication_scheduled_at_the_grace_deadline,
    an_independent_second_expert_makes_a_malicious_verdict_final,
    a_grace_extension_needs_two_different_coordinators_and_moves_the_publication,
    an_approved_embargo_holds_publication_after_the_decision,
);

async fn affiliate(app: &TestApp, expert: &TestUser, organization: &str) {
    let record = app
        .state
        .store
        .get_user(expert.user.id)
        .await
        .unwrap()
        .unwrap();
    let mut user = record.user.clone();
    user.expert
        .get_or_insert_with(Default::default)
        .affiliations
        .push(Affiliation::Organization {
            name: organization.into(),
        });
    app.state
        .store
        .update_user(&user, record.version)
        .await
        .unwrap();
}

fn kinds(case: &serde_json::Value) -> Vec<String> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn a_submission_is_stored_before_the_ack_and_analysed_and_routed_by_the_job() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let js = app.javascript_subgroup(&[&eve]).await;

    let r = alice
        .post(&app, "/api/v1/cases", submission(DODGY_DIFF))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["status"], "received");
    let id = r.json["id"].as_str().unwrap().to_string();
    assert!(
        r.headers
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with(&id)
    );
    // Durable: the case is in the store when the ack arrives.
    let stored = app
        .state
        .store
        .get_case(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.value.source.author.as_deref(), Some("newcomer42"));

    let before = alice.get(&app, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(before.json["status"], "received");
    assert!(before.json["report"].is_null());

    assert_eq!(app.run_jobs().await, 1);
    let after = alice.get(&app, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json["status"], "triaged", "{:?}", after.json);
    assert!(["low", "review", "high"].contains(&after.json["report"]["band"].as_str().unwrap()));
    assert!(
        !after.json["report"]["full"]["findings"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the dodgy change has findings"
    );
    assert_eq!(after.json["subgroups"][0]["slug"], "javascript");
    assert_eq!(after.json["subgroups"][0]["id"], js.id.to_string());
    let k = kinds(&after.json);
    for expected in ["case-received", "report-attached", "case-triaged"] {
        assert!(
            k.iter().any(|x| x == expected),
            "{expected} missing from {k:?}"
        );
    }
    // Running the jobs again does nothing: the analysis job completed once.
    assert_eq!(app.run_jobs().await, 0);
}

async fn the_running_worker_attaches_the_report_within_a_second_of_receipt() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(sx_server::jobs::run_worker(app.state.clone(), stop_rx));
    let started = std::time::Instant::now();
    let id = app.submit(&alice).await;
    let mut attached = false;
    while started.elapsed() < std::time::Duration::from_secs(1) {
        if !alice.get(&app, &format!("/api/v1/cases/{id}")).await.json["report"].is_null() {
            attached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert!(attached, "no report after {:?}", started.elapsed());
}

async fn only_maintainers_may_submit_and_only_to_projects_they_maintain() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let bob = app.maintainer("bob").await;
    let r = eve
        .post(&app, "/api/v1/cases", submission(DODGY_DIFF))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    app.submit(&alice).await;
    let r = bob
        .post(&app, "/api/v1/cases", submission(DODGY_DIFF))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "bob does not maintain acme/widget: {:?}",
        r.json
    );
    let anonymous = app
        .call(
            axum::http::Method::POST,
            "/api/v1/cases",
            None,
            Some(submission(DODGY_DIFF)),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn malformed_submissions_are_refused_with_a_clear_code() {
    let app = TestApp::with(ConfigLayer {
        max_change_bytes: Some(4096),
        ..ConfigLayer::default()
    })
    .await;
    let alice = app.maintainer("alice").await;
    let not_a_diff = alice
        .post(
            &app,
            "/api/v1/cases",
            submission("hello, this is not a patch\n"),
        )
        .await;
    assert_eq!(
        (not_a_diff.status, not_a_diff.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_change")
    );
    let mut bad_level = submission(DODGY_DIFF);
    bad_level["suspicion"] = json!(9);
    let r = alice.post(&app, "/api/v1/cases", bad_level).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );
    let big = format!("{DODGY_DIFF}{}", "+x\n".repeat(2000));
    let r = alice.post(&app, "/api/v1/cases", submission(&big)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("4096"),
        "{:?}",
        r.json
    );
    let mut unknown_field = submission(DODGY_DIFF);
    unknown_field["sneaky"] = json!(true);
    assert_eq!(
        alice
            .post(&app, "/api/v1/cases", unknown_field)
            .await
            .code(),
        "invalid_input"
    );
    // Nothing was stored or enqueued.
    assert_eq!(app.run_jobs().await, 0);
}

async fn submissions_are_rate_limited_per_account() {
    let app = TestApp::with(ConfigLayer {
        submit_burst: Some(1),
        submit_per_minute: Some(1),
        ..ConfigLayer::default()
    })
    .await;
    let alice = app.maintainer("alice").await;
    app.submit(&alice).await;
    let r = alice
        .post(&app, "/api/v1/cases", submission(DODGY_DIFF))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
}

async fn an_expert_finds_claims_and_assesses_and_the_maintainer_decides() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;

    let queue = eve.get(&app, "/api/v1/queue").await;
    assert_eq!(queue.status, StatusCode::OK, "{:?}", queue.json);
    assert_eq!(queue.json["items"][0]["case_id"], id.as_str());
    assert!(queue.json["items"][0]["sla_due"].is_string());
    assert!(
        alice.get(&app, "/api/v1/queue").await.status == StatusCode::FORBIDDEN,
        "maintainers have no queue"
    );

    let claimed = eve
        .post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.json);
    assert_eq!(claimed.json["status"], "claimed");
    let again = eve
        .post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "invalid_state")
    );

    let assessed = eve
        .post(
            &app,
            &format!("/api/v1/cases/{id}/assessments"),
            assessment("suspicious"),
        )
        .await;
    assert_eq!(assessed.status, StatusCode::CREATED, "{:?}", assessed.json);
    assert_eq!(assessed.json["status"], "assessed");
    assert_eq!(assessed.json["effective_verdict"]["verdict"], "suspicious");

    let not_hers = eve
        .post(
            &app,
            &format!("/api/v1/cases/{id}/decision"),
            json!({ "outcome": "rejected" }),
        )
        .await;
    assert_eq!(not_hers.status, StatusCode::FORBIDDEN);
    let decided = alice
        .post(
            &app,
            &format!("/api/v1/cases/{id}/decision"),
            json!({ "outcome": "rejected", "note": "closed the PR" }),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.json);
    assert_eq!(decided.json["status"], "decided");
    assert_eq!(decided.json["decision"]["outcome"], "rejected");
    let k = kinds(&decided.json);
    for expected in ["case-claimed", "assessment-submitted", "case-decided"] {
        assert!(
            k.iter().any(|x| x == expected),
            "{expected} missing from {k:?}"
        );
    }
    // Every state change reached the transparency log.
    let (entries, _) = app.state.store.log_head().await.unwrap();
    assert!(
        entries >= k.len() as u64,
        "{entries} log entries for {} events",
        k.len()
    );
}

async fn a_malicious_verdict_asks_for_a_second_review() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    eve.post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;
    let r = eve
        .post(
            &app,
            &format!("/api/v1/cases/{id}/assessments"),
            assessment("malicious"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["effective_verdict"]["finality"], "preliminary");
    assert_eq!(r.json["second_reviews"][0]["status"], "requested");
}

async fn a_conflicted_expert_neither_sees_nor_can_claim_the_case() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;
    affiliate(&app, &eve, "acme").await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let queue = eve.get(&app, "/api/v1/queue").await;
    assert_eq!(queue.json["items"], json!([]));
    assert_eq!(
        eve.get(&app, &format!("/api/v1/cases/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let claim = eve
        .post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;
    assert_eq!(claim.status, StatusCode::NOT_FOUND);
}

async fn roles_are_checked_before_anything_else() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let admin = app.user("root", &[Role::Admin]).await;
    let id = app.submit(&alice).await;
    let r = admin
        .post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.json["message"].as_str().unwrap().contains("expert"),
        "{:?}",
        r.json
    );
}

async fn a_decided_case_is_published_by_the_job_then_public_and_the_log_verifies() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");
    eve.post(&app, &format!("{path}/claim"), json!({})).await;
    eve.post(&app, &format!("{path}/assessments"), assessment("benign"))
        .await;
    assert_eq!(
        app.get_anon(&path).await.status,
        StatusCode::NOT_FOUND,
        "sealed until published"
    );
    assert_eq!(app.get_anon("/api/v1/cases").await.json["items"], json!([]));

    let decided = alice
        .post(
            &app,
            &format!("{path}/decision"),
            json!({ "outcome": "merged" }),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.json);
    assert_eq!(
        app.run_jobs().await,
        1,
        "the publication job runs at the decision"
    );

    let public = app.get_anon(&path).await;
    assert_eq!(public.status, StatusCode::OK, "{:?}", public.json);
    assert_eq!(
        (public.json["status"].as_str(), public.json["tlp"].as_str()),
        (Some("published"), Some("clear"))
    );
    assert_eq!(
        public.json["assessments"][0]["body"]["verdict"], "benign",
        "assessments open up with the case"
    );
    assert!(
        public.json["participants"].is_null(),
        "the named list stays with participants"
    );
    assert!(
        !kinds(&public.json)
            .iter()
            .any(|k| k.starts_with("participant-")),
        "nor does the timeline name them"
    );
    assert!(
        kinds(&decided.json)
            .iter()
            .any(|k| k == "participant-added"),
        "participants see them"
    );
    let list = app.get_anon("/api/v1/cases").await;
    assert_eq!(list.json["items"][0]["id"], id.as_str());
    assert_eq!(list.json["items"][0]["decision"], "merged");

    let checkpoint = app.get_anon("/api/v1/log/checkpoint").await;
    assert_eq!(
        checkpoint.status,
        StatusCode::OK,
        "publication signs a checkpoint"
    );
    let log = app.get_anon("/api/v1/log?limit=1000").await;
    let size = log.json["size"].as_u64().unwrap();
    assert_eq!(log.json["entries"].as_array().unwrap().len() as u64, size);
    assert_eq!(checkpoint.json["checkpoint"]["size"].as_u64(), Some(size));
    let export = app.state.store.export_log().await.unwrap();
    let summary =
        sx_store::translog::verify_export(&export, &app.state.store.log_public_key()).unwrap();
    assert_eq!(summary.entries, size);
    assert_eq!(
        summary.sealed, summary.revealed,
        "every sealed entry of the published case was revealed"
    );
}

async fn a_case_nobody_decides_has_its_publication_scheduled_at_the_grace_deadline() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let id = app.submit(&alice).await;
    let jobs = app
        .state
        .store
        .list_jobs(sx_store::JobState::Queued, 10)
        .await
        .unwrap();
    let publish = jobs
        .iter()
        .find(|j| j.name == "publish_case")
        .expect("a publication job");
    assert_eq!(publish.payload["case_id"], id.as_str());
    let case = app
        .state
        .store
        .get_case(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .value;
    // The store keeps microseconds.
    let expected = case.received_at + time::Duration::days(90);
    assert!(
        (publish.run_at - expected).abs() < time::Duration::milliseconds(1),
        "{} vs {expected}",
        publish.run_at
    );
}

async fn an_independent_second_expert_makes_a_malicious_verdict_final() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let frank = app.expert("frank").await;
    app.javascript_subgroup(&[&eve, &frank]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");
    eve.post(&app, &format!("{path}/claim"), json!({})).await;
    let assessed = eve
        .post(
            &app,
            &format!("{path}/assessments"),
            assessment("malicious"),
        )
        .await;
    let review_id = assessed.json["second_reviews"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let review_path = format!("{path}/second-reviews/{review_id}");

    let own = eve
        .post(&app, &review_path, json!({ "verdict": "malicious" }))
        .await;
    assert_eq!(
        own.status,
        StatusCode::FORBIDDEN,
        "the author cannot review herself"
    );
    // (The store's queue does not list assessed cases awaiting a second review yet; frank gets
    // the review id from the case, which he may read as a member of the routed subgroup.)
    let seen = frank.get(&app, &path).await;
    assert_eq!(seen.json["second_reviews"][0]["id"], review_id.as_str());
    let reviewed = frank
        .post(
            &app,
            &review_path,
            json!({ "verdict": "malicious", "note": "confirmed" }),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{:?}", reviewed.json);
    assert_eq!(reviewed.json["effective_verdict"]["finality"], "final");

    // The maintainer may ask for another look at the now-final verdict.
    let assessment_id = reviewed.json["assessments"][0]["id"].clone();
    let asked = alice
        .post(
            &app,
            &format!("{path}/second-reviews"),
            json!({ "assessment_id": assessment_id, "reason": "please double-check" }),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{:?}", asked.json);
}

async fn a_grace_extension_needs_two_different_coordinators_and_moves_the_publication() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let carol = app.user("carol", &[Role::Coordinator]).await;
    let dave = app.user("dave", &[Role::Coordinator]).await;
    app.javascript_subgroup_with(&[&eve], &[&carol, &dave])
        .await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");
    let before = alice.get(&app, &path).await.json["publishes_at"].clone();

    let asked = alice
        .post(
            &app,
            &format!("{path}/grace-extensions"),
            json!({ "extra_days": 30, "reason": "the fix needs a coordinated release" }),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{:?}", asked.json);
    let kinds_now = kinds(&asked.json);
    let extension_id = asked.json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["extension_id"].as_str())
        .expect("the request event names the extension")
        .to_string();
    let approve = format!("{path}/grace-extensions/{extension_id}/approve");
    assert_eq!(
        alice.post(&app, &approve, json!({})).await.status,
        StatusCode::FORBIDDEN,
        "maintainers cannot approve"
    );
    let first = carol.post(&app, &approve, json!({})).await;
    assert_eq!(
        first.status,
        StatusCode::OK,
        "{:?} after {kinds_now:?}",
        first.json
    );
    assert_eq!(
        first.json["publishes_at"], before,
        "one approval is not enough"
    );
    let twice = carol.post(&app, &approve, json!({})).await;
    assert_eq!(
        twice.status,
        StatusCode::FORBIDDEN,
        "the same coordinator cannot approve twice"
    );
    let second = dave.post(&app, &approve, json!({})).await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.json);
    assert_ne!(
        second.json["publishes_at"], before,
        "the second coordinator grants it"
    );
}

async fn an_approved_embargo_holds_publication_after_the_decision() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let carol = app.user("carol", &[Role::Coordinator]).await;
    app.javascript_subgroup_with(&[&eve], &[&carol]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");
    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let proposed = alice
        .post(
            &app,
            &format!("{path}/embargo"),
            json!({ "until": until, "reason": "fix ships next week" }),
        )
        .await;
    assert_eq!(proposed.status, StatusCode::CREATED, "{:?}", proposed.json);
    let approved = carol
        .post(&app, &format!("{path}/embargo/approve"), json!({}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.json);
    let decided = alice
        .post(
            &app,
            &format!("{path}/decision"),
            json!({ "outcome": "rejected" }),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK);
    let publishes_at = decided.json["publishes_at"].as_str().unwrap();
    assert!(
        publishes_at > decided.json["decision"]["at"].as_str().unwrap(),
        "held by the embargo: {publishes_at}"
    );
    app.run_jobs().await;
    assert_eq!(
        app.get_anon(&path).await.status,
        StatusCode::NOT_FOUND,
        "still sealed under the embargo"
    );
}
