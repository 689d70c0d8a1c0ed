//! Trend reports and feeds on a seeded instance: every figure against a count computed here
//! from the seed's own domain objects (not by the store's SQL), sealed cases absent from every
//! output, and both Atom feeds parsed by a real Atom parser.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr as _;

use axum::http::StatusCode;
use sx_domain::{CaseStatus, Language, PublicCaseView};
use sx_server::reports::period::{Period, PeriodRange};
use sx_store::seed::{self, SeedSpec};
use time::OffsetDateTime;

use crate::util::TestApp;

crate::both_backends!(
    a_weekly_report_over_seeded_published_cases_matches_an_independent_count,
    sealed_cases_never_appear_in_reports_or_feeds,
);

/// 3,000 cases, one a minute from a Friday; every published one publishes three days and 0–23
/// hours after receipt, so all publications fall in the week of the following Monday.
fn spec() -> SeedSpec {
    SeedSpec {
        experts: 20,
        projects: 50,
        ..SeedSpec::new(3_000, 2_500)
    }
}

fn nearest_rank(sorted: &[i64], p: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p).div_ceil(100);
    Some(((sorted[rank - 1] as f64 / 1e6) * 10.0).round() / 10.0)
}

async fn seeded_week(app: &TestApp) -> (PeriodRange, serde_json::Value) {
    let spec = spec();
    app.state.store.seed(&spec).await.unwrap();
    let range = PeriodRange::new(Period::Week, (spec.start + time::Duration::days(3)).date());
    assert!(
        sx_server::reports::generate_and_store(&app.state, &range, OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    // A second run (another replica) keeps the stored report.
    assert!(
        !sx_server::reports::generate_and_store(&app.state, &range, OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    let path = format!(
        "/reports/week/{}.json",
        sx_server::reports::period::format_date(range.start)
    );
    let r = app.get_anon(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}");
    (range, r.json)
}

async fn a_weekly_report_over_seeded_published_cases_matches_an_independent_count() {
    let app = TestApp::new().await;
    let (range, json) = seeded_week(&app).await;
    let spec = spec();
    let policy = sx_domain::Policy::default();
    let (from, to) = (range.from(), range.to());
    let (mut received, mut assessed, mut published) = (0u64, 0u64, 0u64);
    let mut verdicts: BTreeMap<String, u64> = BTreeMap::new();
    let mut languages: BTreeMap<String, u64> = BTreeMap::new();
    let mut detectors: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut human: Vec<i64> = Vec::new();
    let mut automated: Vec<i64> = Vec::new();
    for i in 0..spec.cases {
        let case = seed::case(&spec, i).unwrap();
        let PublicCaseView::Published(public) = case.public_view(&policy) else {
            assert_ne!(case.status, CaseStatus::Published);
            continue;
        };
        let p = public.published_at;
        if p >= to {
            continue;
        }
        if (from..to).contains(&public.received_at) {
            received += 1;
        }
        if public
            .first_assessed_at
            .is_some_and(|a| (from..to).contains(&a))
        {
            assessed += 1;
        }
        if p < from {
            continue;
        }
        published += 1;
        let verdict = public
            .effective_verdict
            .as_ref()
            .map_or("none".to_string(), |e| e.verdict.as_str().to_string());
        *verdicts.entry(verdict.clone()).or_default() += 1;
        // A case counts once per ecosystem, however many of its tags name it.
        let langs: BTreeSet<&str> = public
            .concern
            .tags
            .iter()
            .filter_map(|t| Language::from_str(t).ok())
            .map(|l| l.as_str())
            .collect();
        for l in langs {
            *languages.entry(l.to_string()).or_default() += 1;
        }
        let ids: BTreeSet<&String> = public
            .report
            .iter()
            .flat_map(|r| r.finding_ids.iter())
            .collect();
        for id in ids {
            let d = detectors.entry(id.clone()).or_default();
            d.0 += 1;
            d.1 += u64::from(verdict == "malicious" || verdict == "suspicious");
            d.2 += u64::from(verdict == "benign");
        }
        if let Some(a) = public.first_assessed_at {
            human.push(((a - public.received_at).whole_microseconds()) as i64);
        }
        automated.push(seed::report_delay(i).whole_microseconds() as i64);
    }
    assert!(
        published > 2_000,
        "the seed should publish most cases in this week: {published}"
    );
    let v = &json["volumes"];
    assert_eq!(
        (
            v["received"].as_u64(),
            v["assessed"].as_u64(),
            v["published"].as_u64()
        ),
        (Some(received), Some(assessed), Some(published))
    );
    let got: BTreeMap<String, u64> = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                s["cases"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, verdicts);
    let got: BTreeMap<String, u64> = json["ecosystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().unwrap().to_string(),
                t["cases"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, languages);
    for d in json["detectors"].as_array().unwrap() {
        let expected = detectors[d["detector"].as_str().unwrap()];
        assert_eq!(
            (
                d["cases"].as_u64().unwrap(),
                d["confirmed"].as_u64().unwrap(),
                d["refuted"].as_u64().unwrap()
            ),
            expected,
            "{d}"
        );
    }
    assert_eq!(
        json["detectors"].as_array().unwrap().len(),
        detectors.len().min(15)
    );
    human.sort_unstable();
    automated.sort_unstable();
    let t = &json["time_to_human"];
    assert_eq!(t["cases"].as_u64(), Some(human.len() as u64));
    assert_eq!(t["median_seconds"].as_f64(), nearest_rank(&human, 50));
    assert_eq!(t["p90_seconds"].as_f64(), nearest_rank(&human, 90));
    let fast = human.iter().filter(|d| **d <= 86_400_000_000).count() as u64;
    assert_eq!(t["within_24h"].as_u64(), Some(fast));
    let t = &json["time_to_automated"];
    assert_eq!(t["median_seconds"].as_f64(), nearest_rank(&automated, 50));
    assert_eq!(t["p90_seconds"].as_f64(), nearest_rank(&automated, 90));

    // The HTML page draws the charts inline, without inline styles or scripts.
    let path = format!(
        "/reports/week/{}",
        sx_server::reports::period::format_date(range.start)
    );
    let (status, html) = app
        .send_raw(
            axum::http::Request::get(path.as_str())
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg") && html.contains("Verdict mix"));
    assert!(!html.contains("style=") && !html.contains("<script"));
    let (status, md) = app
        .send_raw(
            axum::http::Request::get(format!("{path}.md"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(md.contains(&format!(
        "]({}-verdicts.svg)",
        sx_server::reports::period::format_date(range.start)
    )));
    let (status, svg) = app
        .send_raw(
            axum::http::Request::get(format!("{path}-vectors.svg"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(svg.starts_with("<svg"));
    let index = app
        .send_raw(
            axum::http::Request::get("/reports")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(index.1.contains(&path));
    assert_eq!(
        app.get_anon("/reports/week/2024-10-08").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_anon("/reports/year/2024-10-07").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn sealed_cases_never_appear_in_reports_or_feeds() {
    let app = TestApp::new().await;
    let maintainer = app.maintainer("maint").await;
    let sealed_id = app.submit(&maintainer).await;
    app.run_jobs().await;
    let (range, json) = seeded_week(&app).await;
    let spec = spec();
    let sealed_seeds: Vec<String> = (0..spec.cases)
        .map(|i| seed::case(&spec, i).unwrap())
        .filter(|c| c.published_at.is_none())
        .map(|c| c.id.to_string())
        .collect();
    assert!(sealed_seeds.len() > 200);
    let report = json.to_string();
    let date = sx_server::reports::period::format_date(range.start);
    let mut outputs = vec![report];
    for path in [
        format!("/reports/week/{date}"),
        format!("/reports/week/{date}.md"),
        "/feeds/cases.atom".to_string(),
        "/feeds/reports.atom".to_string(),
    ] {
        let (status, body) = app
            .send_raw(
                axum::http::Request::get(path.as_str())
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        outputs.push(body);
    }
    for out in &outputs {
        assert!(!out.contains(&sealed_id), "a sealed case leaked");
        for id in &sealed_seeds {
            assert!(!out.contains(id.as_str()), "sealed seeded case {id} leaked");
        }
    }
    // Both feeds are valid Atom with ids, links and times.
    let cases = atom_syndication::Feed::from_str(&outputs[3]).unwrap();
    assert_eq!(cases.entries().len(), 50);
    for e in cases.entries() {
        assert!(e.id().starts_with("urn:uuid:"));
        assert!(
            e.links()
                .iter()
                .any(|l| l.rel() == "alternate" && l.href().contains("/cases/"))
        );
    }
    assert!(cases.links().iter().any(|l| l.rel() == "self"));
    assert!(!cases.authors().is_empty());
    let reports = atom_syndication::Feed::from_str(&outputs[4]).unwrap();
    assert_eq!(reports.entries().len(), 1);
    assert!(
        reports.entries()[0]
            .id()
            .ends_with(&format!("/reports/week/{date}"))
    );
}
