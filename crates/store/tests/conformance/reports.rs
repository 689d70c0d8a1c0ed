//! Trend-report aggregations: every figure on a small hand-made instance whose answer is
//! known, sealed cases excluded, and stored reports kept once.

use sx_domain::{
    AssessmentId, CaseEvent, CaseId, CaseStatus, DomainEvent, RiskBand, SubgroupId, Verdict,
};
use sx_store::Store;
use sx_store::reports::{
    AgreementCell, DetectorFigures, DetectorQuery, ReportQuery, StoredReport, SubgroupLoad,
    TagCount, TimingFigures,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    report_figures_count_only_public_cases_of_the_period,
    the_first_report_time_is_kept_across_saves,
    a_report_is_stored_once_per_period_and_start,
);

struct Spec {
    status: CaseStatus,
    received: Duration,
    published: Option<Duration>,
    verdict: Option<Verdict>,
    assessed_after: Option<Duration>,
    reported_after: Option<Duration>,
    suspicion: u8,
    detectors: &'static [&'static str],
    tags: &'static [&'static str],
    subgroup: Option<usize>,
}

fn event(case: CaseId, at: OffsetDateTime) -> DomainEvent {
    DomainEvent {
        case_id: case,
        at,
        actor: None,
        change: CaseEvent::ReportAttached {
            band: RiskBand::Review,
        },
    }
}

async fn store_case(
    db: &TestDb,
    project: &sx_domain::Project,
    groups: &[SubgroupId],
    period: OffsetDateTime,
    spec: &Spec,
) -> CaseId {
    let received = period + spec.received;
    let mut c = fixtures::case(project, spec.status, received, vec![]);
    c.published_at = spec.published.map(|d| period + d);
    if c.published_at.is_none() {
        c.tlp = sx_domain::TlpLabel::AmberStrict;
    }
    c.concern.suspicion = sx_domain::SuspicionLevel::new(spec.suspicion).unwrap();
    c.concern.tags = spec.tags.iter().map(|t| t.to_string()).collect();
    let report = c.report.as_mut().unwrap();
    report.finding_ids = spec.detectors.iter().map(|d| d.to_string()).collect();
    report.tags.clear();
    c.subgroups = spec.subgroup.map(|g| vec![groups[g]]).unwrap_or_default();
    if let Some(verdict) = spec.verdict {
        let seeded = sx_store::seed::SeedSpec::new(1, 1);
        let mut a = sx_store::seed::case(&seeded, 0)
            .unwrap()
            .assessments
            .remove(0);
        a.case_id = c.id;
        a.id = AssessmentId(Uuid::new_v4());
        a.revision = c.revision.clone();
        a.body.as_mut().unwrap().verdict = verdict;
        c.assessments = vec![a];
    }
    c.first_assessed_at = spec.assessed_after.map(|d| received + d);
    let events: Vec<DomainEvent> = spec
        .reported_after
        .map(|d| event(c.id, received + d))
        .into_iter()
        .collect();
    db.store.create_case(&c, &events, received).await.unwrap();
    c.id
}

async fn report_figures_count_only_public_cases_of_the_period(db: &TestDb) {
    let s = &db.store;
    let (p, _) = fixtures::stored_project(s, "acme", "reports").await;
    let rust = fixtures::subgroup("rust-r", vec![]);
    let python = fixtures::subgroup("python-r", vec![]);
    s.create_subgroup(&rust).await.unwrap();
    s.create_subgroup(&python).await.unwrap();
    let groups = [rust.id, python.id];
    let period = t0();
    let day = Duration::days(1);
    let base = Spec {
        status: CaseStatus::Published,
        received: day,
        published: Some(day * 3),
        verdict: None,
        assessed_after: None,
        reported_after: None,
        suspicion: 3,
        detectors: &[],
        tags: &[],
        subgroup: None,
    };
    let a = store_case(
        db,
        &p,
        &groups,
        period,
        &Spec {
            verdict: Some(Verdict::Malicious),
            assessed_after: Some(Duration::hours(2)),
            reported_after: Some(Duration::seconds(10)),
            suspicion: 5,
            detectors: &["decode-exec", "dep-new-dependency"],
            tags: &["rust", "exfiltration"],
            subgroup: Some(0),
            ..base
        },
    )
    .await;
    let b = store_case(
        db,
        &p,
        &groups,
        period,
        &Spec {
            published: Some(day * 4),
            verdict: Some(Verdict::Benign),
            assessed_after: Some(Duration::hours(30)),
            reported_after: Some(Duration::seconds(20)),
            suspicion: 2,
            detectors: &["dep-new-dependency"],
            tags: &["python"],
            subgroup: Some(1),
            ..base
        },
    )
    .await;
    let c = store_case(
        db,
        &p,
        &groups,
        period,
        &Spec {
            published: Some(day * 5),
            reported_after: Some(Duration::seconds(30)),
            tags: &["python"],
            ..base
        },
    )
    .await;
    // Previous period.
    store_case(
        db,
        &p,
        &groups,
        period,
        &Spec {
            received: -day * 6,
            published: Some(-day * 5),
            tags: &["python", "ci"],
            ..base
        },
    )
    .await;
    // Sealed: received, assessed and "malicious" in the period, never published.
    store_case(
        db,
        &p,
        &groups,
        period,
        &Spec {
            status: CaseStatus::Decided,
            published: None,
            verdict: Some(Verdict::Malicious),
            assessed_after: Some(Duration::hours(1)),
            reported_after: Some(Duration::seconds(1)),
            suspicion: 5,
            detectors: &["decode-exec"],
            tags: &["rust", "exfiltration"],
            subgroup: Some(0),
            ..base
        },
    )
    .await;
    // Received in the period but published after it: not known at the period's end.
    store_case(
        db,
        &p,
        &groups,
        period,
        &Spec {
            received: day * 2,
            published: Some(day * 8),
            verdict: Some(Verdict::Malicious),
            assessed_after: Some(Duration::hours(1)),
            detectors: &["decode-exec"],
            tags: &["rust"],
            ..base
        },
    )
    .await;

    let f = s
        .report_figures(&ReportQuery::new(
            period,
            period + day * 7,
            period - day * 7,
        ))
        .await
        .unwrap();
    assert_eq!(
        (f.received, f.assessed, f.published, f.previous_published),
        (3, 2, 3, 1)
    );
    assert_eq!(
        f.verdicts,
        vec![
            (None, 1),
            (Some("benign".to_string()), 1),
            (Some("malicious".to_string()), 1)
        ]
    );
    let tag = |kind: &str, value: &str, current, previous| TagCount {
        kind: kind.into(),
        value: value.into(),
        current,
        previous,
    };
    assert_eq!(
        f.tags,
        vec![
            tag("language", "python", 2, 1),
            tag("language", "rust", 1, 0),
            // `ci` is both a file kind and an attack vector.
            tag("language", "ci", 0, 1),
            tag("vector", "exfiltration", 1, 0),
            tag("vector", "ci", 0, 1),
        ]
    );
    let secs = |n: i64| n * 1_000_000;
    assert_eq!(
        f.automated,
        TimingFigures {
            count: 3,
            within_24h: 3,
            median_us: Some(secs(20)),
            p90_us: Some(secs(30)),
        }
    );
    assert_eq!(
        f.human,
        TimingFigures {
            count: 2,
            within_24h: 1,
            median_us: Some(secs(2 * 3600)),
            p90_us: Some(secs(30 * 3600)),
        }
    );
    let cell = |suspicion, verdict: Option<&str>| AgreementCell {
        suspicion,
        verdict: verdict.map(String::from),
        cases: 1,
    };
    assert_eq!(
        f.agreement,
        vec![
            cell(2, Some("benign")),
            cell(3, None),
            cell(5, Some("malicious"))
        ]
    );
    assert_eq!(
        f.detectors,
        vec![
            DetectorFigures {
                detector: "dep-new-dependency".into(),
                cases: 2,
                confirmed: 1,
                refuted: 1
            },
            DetectorFigures {
                detector: "decode-exec".into(),
                cases: 1,
                confirmed: 1,
                refuted: 0
            },
        ]
    );
    assert_eq!(
        f.subgroups,
        vec![
            SubgroupLoad {
                slug: "python-r".into(),
                cases: 1,
                assessed: 1,
                within_24h: 0
            },
            SubgroupLoad {
                slug: "rust-r".into(),
                cases: 1,
                assessed: 1,
                within_24h: 1
            },
        ]
    );
    let notable: Vec<CaseId> = f.notable.iter().map(|v| v.value.id).collect();
    assert_eq!(notable, vec![a, c, b]);

    // An empty period has no percentiles, not zeros.
    let empty = s
        .report_figures(&ReportQuery::new(
            period + day * 70,
            period + day * 77,
            period + day * 63,
        ))
        .await
        .unwrap();
    assert_eq!(empty.published, 0);
    assert_eq!(empty.human, TimingFigures::default());
    assert!(empty.notable.is_empty() && empty.detectors.is_empty());

    // All time (what the detector pages show): the case published after the period counts
    // now, the sealed "malicious" one with `decode-exec` still does not.
    let all = s
        .detector_figures(&DetectorQuery::all_time(period + day * 10))
        .await
        .unwrap();
    assert_eq!(all.published, 5);
    let record = |detector: &str, cases, confirmed, refuted| DetectorFigures {
        detector: detector.into(),
        cases,
        confirmed,
        refuted,
    };
    assert_eq!(
        all.detectors,
        vec![
            record("decode-exec", 2, 2, 0),
            record("dep-new-dependency", 2, 1, 1)
        ]
    );
    let one = s
        .detector_figures(&DetectorQuery {
            detector: Some("dep-new-dependency".into()),
            ..DetectorQuery::all_time(period + day * 10)
        })
        .await
        .unwrap();
    assert_eq!(one.published, 5);
    assert_eq!(one.detectors, vec![record("dep-new-dependency", 2, 1, 1)]);
    let unknown = s
        .detector_figures(&DetectorQuery {
            detector: Some("no-such-detector".into()),
            ..DetectorQuery::all_time(period + day * 10)
        })
        .await
        .unwrap();
    assert!(unknown.detectors.is_empty());
}

async fn the_first_report_time_is_kept_across_saves(db: &TestDb) {
    let s = &db.store;
    let (p, _) = fixtures::stored_project(s, "acme", "timing").await;
    let period = t0();
    let mut c = fixtures::case(&p, CaseStatus::Published, period, vec![]);
    c.published_at = Some(period + Duration::hours(1));
    s.create_case(&c, &[], period).await.unwrap();
    let v = s
        .update_case(&c, 1, &[event(c.id, period + Duration::seconds(7))], period)
        .await
        .unwrap();
    s.update_case(&c, v, &[event(c.id, period + Duration::minutes(9))], period)
        .await
        .unwrap();
    let f = s
        .report_figures(&ReportQuery::new(
            period,
            period + Duration::days(1),
            period - Duration::days(1),
        ))
        .await
        .unwrap();
    assert_eq!(f.automated.median_us, Some(7_000_000));
    assert_eq!(f.automated.count, 1);
}

async fn a_report_is_stored_once_per_period_and_start(db: &TestDb) {
    let s = &db.store;
    let report = |starts_on: &str, generated: i64, n: u32| StoredReport {
        period: "week".into(),
        starts_on: starts_on.into(),
        ends_at: t0() + Duration::days(i64::from(n) * 7),
        generated_at: t0() + Duration::seconds(generated),
        doc: serde_json::json!({ "n": n }),
    };
    assert!(s.save_report(&report("2026-11-09", 1, 1)).await.unwrap());
    assert!(!s.save_report(&report("2026-11-09", 2, 9)).await.unwrap());
    assert!(s.save_report(&report("2026-11-16", 3, 2)).await.unwrap());
    let kept = s.get_report("week", "2026-11-09").await.unwrap().unwrap();
    assert_eq!(kept, report("2026-11-09", 1, 1));
    assert!(s.get_report("month", "2026-11-09").await.unwrap().is_none());
    let listed: Vec<String> = s
        .list_reports(10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.starts_on)
        .collect();
    assert_eq!(listed, vec!["2026-11-16", "2026-11-09"]);
}
