//! The detector pages: each detector's documentation with this instance's figures (how often it
//! fired on published cases, its precision against expert verdicts, the settled cases behind
//! it), counted over published cases only, and `/detectors`, the list of every detector.

use axum::http::StatusCode;
use scraper::{Html, Selector};
use serde_json::json;
use sx_store::Store;

use crate::util::{DODGY_DIFF, TestApp, TestUser, assessment, submission};

crate::both_backends!(
    a_detector_page_counts_published_cases_only_and_a_sealed_verdict_changes_nothing,
    the_detector_list_shows_every_detector_with_severity_and_precision,
);

/// Submits the dodgy change, has `expert` assess it with `verdict`; returns the case id.
async fn assessed(
    app: &TestApp,
    maintainer: &TestUser,
    expert: &TestUser,
    verdict: &str,
) -> String {
    let r = maintainer
        .post(app, "/api/v1/cases", submission(DODGY_DIFF))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_str().unwrap().to_string();
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");
    let r = expert.post(app, &format!("{path}/claim"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = expert
        .post(app, &format!("{path}/assessments"), assessment(verdict))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    id
}

async fn publish(app: &TestApp, maintainer: &TestUser, id: &str) {
    let r = maintainer
        .post(
            app,
            &format!("/api/v1/cases/{id}/decision"),
            json!({ "outcome": "rejected" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    app.run_jobs().await;
}

/// A detector the dodgy change trips (from the stored automated report).
async fn fired_detector(app: &TestApp, id: &str) -> String {
    let case = app
        .state
        .store
        .get_case(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .value;
    let ids = &case.report.as_ref().unwrap().finding_ids;
    assert!(!ids.is_empty(), "the dodgy change trips a detector");
    ids[0].clone()
}

async fn page(app: &TestApp, path: &str) -> Html {
    let (status, body) = app
        .send_raw(
            axum::http::Request::builder()
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    Html::parse_document(&body)
}

fn text(html: &Html, selector: &str) -> Option<String> {
    let s = Selector::parse(selector).unwrap();
    html.select(&s).next().map(|e| {
        e.text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

async fn a_detector_page_counts_published_cases_only_and_a_sealed_verdict_changes_nothing() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    app.javascript_subgroup(&[&eve]).await;

    // Nothing published yet: the page says so.
    let empty = page(&app, "/detectors/npm-lifecycle-script").await;
    assert!(
        text(&empty, "#instance-figures")
            .unwrap()
            .contains("No case has been published"),
    );

    let suspicious = assessed(&app, &alice, &eve, "suspicious").await;
    let detector = fired_detector(&app, &suspicious).await;
    publish(&app, &alice, &suspicious).await;
    let benign = assessed(&app, &alice, &eve, "benign").await;
    publish(&app, &alice, &benign).await;

    let path = format!("/detectors/{detector}");
    let before = page(&app, &path).await;
    assert_eq!(
        text(&before, "#instance-figures .fired").as_deref(),
        Some("2")
    );
    assert_eq!(
        text(&before, "#instance-figures .published").as_deref(),
        Some("2")
    );
    assert_eq!(
        text(&before, "#instance-figures .precision").as_deref(),
        Some("50.0 %")
    );
    assert_eq!(
        text(&before, "#instance-figures .judged").as_deref(),
        Some("2")
    );
    assert!(
        text(&before, "#instance-figures .small-sample")
            .unwrap()
            .contains("fewer than 30 settled cases")
    );
    // The documentation is still there.
    assert!(text(&before, "#detector-doc h1").is_some());

    // A sealed case with the same finding and a "malicious" verdict moves nothing.
    let sealed = assessed(&app, &alice, &eve, "malicious").await;
    let during = page(&app, &path).await;
    assert_eq!(
        text(&during, "#instance-figures"),
        text(&before, "#instance-figures"),
        "a sealed case's verdict leaked into the detector page"
    );
    let list = page(&app, "/detectors").await;
    assert_eq!(
        text(&list, &format!("#d-{detector} .precision")).as_deref(),
        Some("50.0 % of 2 small sample")
    );

    // Once published, it counts.
    publish(&app, &alice, &sealed).await;
    let after = page(&app, &path).await;
    assert_eq!(
        text(&after, "#instance-figures .fired").as_deref(),
        Some("3")
    );
    assert_eq!(
        text(&after, "#instance-figures .precision").as_deref(),
        Some("66.7 %")
    );
    assert_eq!(
        text(&after, "#instance-figures .judged").as_deref(),
        Some("3")
    );

    // An unknown detector is a 404, not an empty page.
    let (status, _) = app
        .send_raw(
            axum::http::Request::builder()
                .uri("/detectors/no-such-detector")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_detector_list_shows_every_detector_with_severity_and_precision() {
    let app = TestApp::new().await;
    let list = page(&app, "/detectors").await;
    let rows = Selector::parse("#detectors tbody tr").unwrap();
    let n = list.select(&rows).count();
    assert_eq!(n, app.state.analyzer.detectors().count());
    // Every registered detector, by id, with its title and default severity, linked to its
    // page; no precision without published cases.
    for d in app.state.analyzer.detectors() {
        let m = d.meta();
        let row = format!("#d-{}", m.id);
        assert_eq!(
            text(&list, &format!("{row} td:nth-child(2)")).as_deref(),
            Some(m.title.as_ref())
        );
        assert_eq!(
            text(&list, &format!("{row} .badge")),
            Some(m.severity.to_string())
        );
        assert_eq!(
            list.select(&Selector::parse(&format!("{row} a[href='/detectors/{}']", m.id)).unwrap())
                .count(),
            1,
            "{row} links to its page"
        );
        assert_eq!(
            text(&list, &format!("{row} .precision")).as_deref(),
            Some("–")
        );
    }
    // The footer links here from every page.
    let home = page(&app, "/").await;
    assert_eq!(
        home.select(&Selector::parse("footer a[href='/detectors']").unwrap())
            .count(),
        1
    );
}
