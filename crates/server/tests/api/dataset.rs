//! The open dataset: published cases only, secrets redacted, every record valid against the
//! JSON Schema, and the `/dataset` page with licence and checksums.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sx_server::ConfigLayer;
use sx_server::dataset::{self, record};
use sx_store::Store as _;

use crate::util::{DODGY_DIFF, TestApp, TestUser, assessment, submission};

crate::both_backends!(
    only_published_cases_enter_the_dataset_redacted_and_valid_against_the_schema,
    the_dataset_page_offers_the_snapshot_with_its_licence_and_checksums,
    the_daily_job_stores_one_snapshot_that_every_download_serves,
    while_the_first_snapshot_is_built_elsewhere_the_page_asks_to_come_back,
);

// Assembled at run time so this file does not trip secret scanners.
fn github_token() -> String {
    format!("ghp_{}", "R4nd0mT0k3nV4lu3x".repeat(2))
}

fn aws_key() -> String {
    format!("AKIA{}", "QW3RTY9UIOPASDFG")
}

/// Submits a case with `concern`, has `eve` assess it, and returns its id.
async fn assessed_case(app: &TestApp, alice: &TestUser, eve: &TestUser, concern: &str) -> String {
    let mut body = submission(DODGY_DIFF);
    body["concern"] = json!(concern);
    body["title"] = json!(format!("Add install hook; CI token was {}", aws_key()));
    let r = alice.post(app, "/api/v1/cases", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_str().unwrap().to_string();
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");
    eve.post(app, &format!("{path}/claim"), json!({})).await;
    let mut a = assessment("suspicious");
    a["summary"] = json!("Decodes and evals a blob; password: Tr0ub4dor3xyz in the fixture");
    let r = eve.post(app, &format!("{path}/assessments"), a).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    id
}

fn schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(dataset::SCHEMA_JSON).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

async fn collect(app: &TestApp) -> Vec<record::Record> {
    let mut out = Vec::new();
    dataset::for_each_record(&app.state.store, true, None, |r| {
        out.push(r.clone());
        Ok(())
    })
    .await
    .unwrap();
    out
}

async fn only_published_cases_enter_the_dataset_redacted_and_valid_against_the_schema() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;

    let published = assessed_case(
        &app,
        &alice,
        &eve,
        &format!("the workflow log showed {} being sent away", github_token()),
    )
    .await;
    let sealed_marker = "SEALED-CASE-MARKER-7731";
    let sealed = assessed_case(&app, &alice, &eve, sealed_marker).await;
    let received_only = {
        let mut body = submission(DODGY_DIFF);
        body["concern"] = json!("RECEIVED-ONLY-MARKER-9120");
        alice.post(&app, "/api/v1/cases", body).await.json["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(collect(&app).await.is_empty(), "nothing is published yet");

    let note = format!("rejected; the key {} was revoked", aws_key());
    let r = alice
        .post(
            &app,
            &format!("/api/v1/cases/{published}/decision"),
            json!({ "outcome": "rejected", "note": note }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    app.run_jobs().await;

    let records = collect(&app).await;
    assert_eq!(records.len(), 1, "exactly the one published case");
    let r = &records[0];
    assert_eq!(r.case_id, published);

    // The sealed cases never appear, not even by id or content.
    let jsonl: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    for leak in [
        sealed.as_str(),
        received_only.as_str(),
        sealed_marker,
        "RECEIVED-ONLY-MARKER-9120",
    ] {
        assert!(!jsonl.contains(leak), "{leak} leaked into the dataset");
    }

    // Secrets are gone from every text field, and counted.
    for secret in [github_token(), aws_key(), "Tr0ub4dor3xyz".to_string()] {
        assert!(
            !jsonl.contains(&secret),
            "{secret} was not redacted: {jsonl}"
        );
    }
    assert!(
        r.concern.text.contains("[REDACTED:github-token]"),
        "{}",
        r.concern.text
    );
    assert!(
        r.change
            .title
            .as_deref()
            .unwrap()
            .contains("[REDACTED:aws-access-key]")
    );
    assert!(
        r.decision
            .as_ref()
            .unwrap()
            .note
            .contains("[REDACTED:aws-access-key]")
    );
    assert!(r.assessments[0].summary.contains("[REDACTED:assignment]"));
    assert_eq!(r.redactions, 4);

    // The content the issue asks for.
    assert_eq!(r.concern.suspicion, 4);
    assert_eq!(r.change.ecosystems, vec!["npm".to_string()]);
    assert!(r.change.languages.contains(&"javascript".to_string()));
    assert_eq!(r.change.files, Some(2));
    let kinds = r
        .change
        .files_by_kind
        .as_ref()
        .expect("change text is in the store");
    assert_eq!(kinds.get("manifest"), Some(&1), "{kinds:?}");
    let auto = r.automated.as_ref().unwrap();
    assert!(
        auto.findings
            .iter()
            .any(|f| f.detector == "npm-lifecycle-script")
    );
    assert!(
        auto.findings
            .iter()
            .all(|f| f.severity.is_some() && f.confidence.is_some())
    );
    assert_eq!(r.assessments.len(), 1);
    assert_eq!(
        (
            r.assessments[0].verdict.as_str(),
            r.assessments[0].confidence.as_str()
        ),
        ("suspicious", "high")
    );
    assert_eq!(r.verdict.as_deref(), Some("suspicious"));
    assert_eq!(r.decision.as_ref().unwrap().outcome, "rejected");
    assert!(r.timings.hours_to_first_assessment.is_some());
    assert!(r.timings.hours_to_publication >= 0.0);

    // Every record validates against the published JSON Schema, and the schema is strict
    // enough to reject a broken one.
    let validator = schema();
    for r in &records {
        let value = serde_json::to_value(r).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    let mut broken = serde_json::to_value(r).unwrap();
    broken["concern"]["suspicion"] = json!(9);
    assert!(!validator.is_valid(&broken));
    let mut extra = serde_json::to_value(r).unwrap();
    extra["reporter_email"] = json!("x@example.org");
    assert!(!validator.is_valid(&extra));

    // `--since` filtering: a date after the publication excludes it.
    let mut later = Vec::new();
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    dataset::for_each_record(&app.state.store, false, Some(tomorrow), |r| {
        later.push(r.case_id.clone());
        Ok(())
    })
    .await
    .unwrap();
    assert!(later.is_empty());
}

async fn the_dataset_page_offers_the_snapshot_with_its_licence_and_checksums() {
    let app = TestApp::with(ConfigLayer {
        dataset_license: Some("CC-BY-4.0".into()),
        ..ConfigLayer::default()
    })
    .await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;
    let id = assessed_case(
        &app,
        &alice,
        &eve,
        "an install hook <script>alert(1)</script>",
    )
    .await;
    let sealed = assessed_case(&app, &alice, &eve, "still sealed").await;
    alice
        .post(
            &app,
            &format!("/api/v1/cases/{id}/decision"),
            json!({ "outcome": "merged" }),
        )
        .await;
    app.run_jobs().await;

    let (status, html) = app.send_raw(get("/dataset")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("CC-BY-4.0"), "licence shown");
    assert!(html.contains("https://creativecommons.org/licenses/by/4.0/"));
    assert!(html.contains("/dataset/schema.json"));

    let meta = app.get_anon("/dataset/latest.json").await;
    assert_eq!(meta.status, StatusCode::OK);
    assert_eq!(meta.json["records"], 1);
    assert_eq!(meta.json["license"], "CC-BY-4.0");
    let jsonl_sha = meta.json["jsonl"]["sha256"].as_str().unwrap().to_string();
    let csv_sha = meta.json["csv"]["sha256"].as_str().unwrap().to_string();
    assert!(
        html.contains(&jsonl_sha) && html.contains(&csv_sha),
        "checksums on the page"
    );

    let (status, jsonl) = app.send_raw(get("/dataset/latest.jsonl")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hex::encode(Sha256::digest(jsonl.as_bytes())), jsonl_sha);
    assert_eq!(jsonl.lines().count(), 1);
    assert!(jsonl.contains(&id) && !jsonl.contains(&sealed));
    let validator = schema();
    for line in jsonl.lines() {
        assert!(validator.is_valid(&serde_json::from_str(line).unwrap()));
    }

    let (status, csv) = app.send_raw(get("/dataset/latest.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hex::encode(Sha256::digest(csv.as_bytes())), csv_sha);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "header and one row: {csv}");
    assert!(lines[0].starts_with("schema_version,case_id,"));
    assert!(lines[1].contains(&id) && !csv.contains(&sealed));

    let (_, sums) = app.send_raw(get("/dataset/latest.sha256")).await;
    assert!(sums.contains(&format!("{jsonl_sha}  s-express-dataset-v1-")));

    // Before any scheduled build, the first request built the snapshot and stored it; it is
    // served again (same file) from the database.
    let stored = app
        .state
        .store
        .latest_dataset_snapshot()
        .await
        .unwrap()
        .unwrap();
    assert!(stored.builder.starts_with("request:"), "{}", stored.builder);
    assert_eq!(stored.doc.as_ref(), Some(&meta.json));
    let again = app.get_anon("/dataset/latest.json").await;
    assert_eq!(again.json["jsonl"]["name"], meta.json["jsonl"]["name"]);

    let (status, schema_text) = app.send_raw(get("/dataset/schema.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(schema_text, dataset::SCHEMA_JSON);
}

async fn the_daily_job_stores_one_snapshot_that_every_download_serves() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;
    let mut published = Vec::new();
    for n in 0..3 {
        let id = assessed_case(&app, &alice, &eve, &format!("case {n}")).await;
        alice
            .post(
                &app,
                &format!("/api/v1/cases/{id}/decision"),
                json!({ "outcome": "rejected" }),
            )
            .await;
        published.push(id);
    }
    let sealed = assessed_case(&app, &alice, &eve, "still sealed").await;
    app.run_jobs().await;

    // Housekeeping schedules the day's build once; the job stores it.
    let now = time::OffsetDateTime::now_utc();
    assert!(
        sx_server::jobs::build_dataset::schedule(&app.state, now)
            .await
            .unwrap()
    );
    assert_eq!(app.run_jobs().await, 1);
    assert!(
        !sx_server::jobs::build_dataset::schedule(&app.state, now)
            .await
            .unwrap(),
        "today's snapshot exists: nothing more to schedule"
    );
    let day = dataset::snapshot_day(now);
    let row = app
        .state
        .store
        .get_dataset_snapshot(&day)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, "complete");
    assert!(row.builder.starts_with("job:"), "{}", row.builder);
    // A second job (another replica's) finds the day complete and changes nothing.
    app.state
        .store
        .enqueue_job(&sx_store::NewJob::now(
            sx_server::jobs::build_dataset::NAME,
            json!({}),
            now,
        ))
        .await
        .unwrap();
    assert_eq!(app.run_jobs().await, 1);
    let latest = app
        .state
        .store
        .latest_dataset_snapshot()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, row.id);

    // Every download serves the stored snapshot: its description, checksums and bytes.
    let meta = app.get_anon("/dataset/latest.json").await;
    assert_eq!(Some(&meta.json), row.doc.as_ref());
    assert_eq!(meta.json["records"], 3);
    let (status, jsonl) = app.send_raw(get("/dataset/latest.jsonl")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        hex::encode(Sha256::digest(jsonl.as_bytes())),
        meta.json["jsonl"]["sha256"].as_str().unwrap()
    );
    assert_eq!(
        jsonl.len() as u64,
        meta.json["jsonl"]["bytes"].as_u64().unwrap()
    );
    for id in &published {
        assert!(jsonl.contains(id.as_str()));
    }
    assert!(!jsonl.contains(&sealed));
    let (_, page) = app.send_raw(get("/dataset")).await;
    assert!(page.contains(meta.json["csv"]["sha256"].as_str().unwrap()));

    // A case published after the build does not change what is served until the next day's
    // snapshot: the pages read the stored snapshot, they do not rebuild it.
    alice
        .post(
            &app,
            &format!("/api/v1/cases/{sealed}/decision"),
            json!({ "outcome": "merged" }),
        )
        .await;
    app.run_jobs().await;
    assert_eq!(
        dataset::for_each_record(&app.state.store, false, None, |_| Ok(()))
            .await
            .unwrap(),
        4
    );
    let after = app.get_anon("/dataset/latest.json").await;
    assert_eq!(after.json, meta.json);
    let (_, jsonl_after) = app.send_raw(get("/dataset/latest.jsonl")).await;
    assert_eq!(jsonl_after, jsonl);

    // Built in tiny chunks, the files stream back byte for byte, and the newest snapshot wins.
    let tomorrow = now + time::Duration::days(1);
    let mut options = dataset::BuildOptions::new("test");
    options.chunk_bytes = 64;
    let dataset::BuildOutcome::Built(next) = dataset::build(&app.state, tomorrow, &options)
        .await
        .unwrap()
    else {
        panic!("tomorrow's snapshot is built");
    };
    assert_eq!(next.snapshot.records, 4);
    assert!(next.snapshot.jsonl.bytes > 64 * 4, "several chunks");
    let (_, jsonl) = app.send_raw(get("/dataset/latest.jsonl")).await;
    assert_eq!(
        hex::encode(Sha256::digest(jsonl.as_bytes())),
        next.snapshot.jsonl.sha256
    );
    assert_eq!(jsonl.lines().count(), 4);
    let (_, csv) = app.send_raw(get("/dataset/latest.csv")).await;
    assert_eq!(
        hex::encode(Sha256::digest(csv.as_bytes())),
        next.snapshot.csv.sha256
    );
    assert_eq!(
        dataset::build(&app.state, tomorrow, &options)
            .await
            .unwrap(),
        dataset::BuildOutcome::AlreadyComplete
    );
}

async fn while_the_first_snapshot_is_built_elsewhere_the_page_asks_to_come_back() {
    let app = TestApp::new().await;
    let now = time::OffsetDateTime::now_utc();
    let claim = app
        .state
        .store
        .claim_dataset_snapshot(
            &dataset::snapshot_day(now),
            "job:elsewhere",
            now - dataset::STALE_BUILD,
            now,
        )
        .await
        .unwrap();
    assert!(matches!(claim, sx_store::dataset::DatasetClaim::Started(_)));
    for path in ["/dataset", "/dataset/latest.json", "/dataset/latest.jsonl"] {
        let r = app.send(get(path)).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(r.headers[axum::http::header::RETRY_AFTER], "60");
    }
    // The schema does not depend on a snapshot.
    let (status, _) = app.send_raw(get("/dataset/schema.json")).await;
    assert_eq!(status, StatusCode::OK);
    // Housekeeping leaves a live build alone.
    assert!(
        !sx_server::jobs::build_dataset::schedule(&app.state, now)
            .await
            .unwrap()
    );
}

fn get(path: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .uri(path)
        .body(axum::body::Body::empty())
        .unwrap()
}
