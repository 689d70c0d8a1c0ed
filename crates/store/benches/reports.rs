//! Trend-report aggregation at scale: one monthly and one weekly `report_figures` call on
//! SQLite and PostgreSQL over `S_EXPRESS_BENCH_CASES` seeded cases (default 1,000,000, one a
//! minute, so a month holds about 43,000 received and 39,000 published cases), every case with
//! an automated report and an expert assessment. Target: a monthly report in under 5 s.
//!
//! Seeding takes minutes, so it happens once: the SQLite file (`S_EXPRESS_BENCH_REPORTS_SQLITE`,
//! default `$CARGO_TARGET_DIR/sx-bench-reports.sqlite`) and the PostgreSQL schema
//! (`sx_bench_reports` in `S_EXPRESS_BENCH_POSTGRES_URL`, default the test database) are reused.
//! Set `S_EXPRESS_BENCH_POSTGRES=skip` to bench SQLite only.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark binary: configuration from the environment, panics are failures"
)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::Executor as _;
use sx_store::reports::ReportQuery;
use sx_store::seed::{self, SeedSpec};
use sx_store::{AnyStore, OpenOptions, Store};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn spec() -> SeedSpec {
    let n = env("S_EXPRESS_BENCH_CASES")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    SeedSpec::new(n, n)
}

async fn open_seeded(url: &str, options: OpenOptions) -> AnyStore {
    let store = sx_store::open_with(url, &options).await.unwrap();
    let spec = spec();
    let probe = seed::case(&spec, spec.cases - 1).unwrap().id;
    if store.get_case(probe).await.unwrap().is_none() {
        eprintln!(
            "seeding {url} with {} cases, all assessed (once)…",
            spec.cases
        );
        let started = Instant::now();
        let report = store.seed(&spec).await.unwrap();
        eprintln!(
            "seeded {report:?} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        if let AnyStore::Postgres(s) = &store {
            s.pool().execute("ANALYZE").await.unwrap();
        }
    }
    store
}

fn bench_backend(c: &mut Criterion, name: &str, store: &AnyStore, rt: &tokio::runtime::Runtime) {
    let spec = spec();
    // A month in the middle of the seeded span (cases publish three days after receipt).
    let middle = spec.start + time::Duration::minutes((spec.cases / 2) as i64);
    let month = middle
        .date()
        .replace_day(1)
        .unwrap()
        .midnight()
        .assume_utc();
    let next = (month.date() + time::Duration::days(32))
        .replace_day(1)
        .unwrap()
        .midnight()
        .assume_utc();
    let previous = (month.date() - time::Duration::days(1))
        .replace_day(1)
        .unwrap()
        .midnight()
        .assume_utc();
    let monthly = ReportQuery::new(month, next, previous);
    let weekly = ReportQuery::new(
        month,
        month + time::Duration::days(7),
        month - time::Duration::days(7),
    );
    let started = Instant::now();
    let figures = rt.block_on(store.report_figures(&monthly)).unwrap();
    eprintln!(
        "{name}: monthly report over {} published cases ({} received) in {:.2} s (first, cold)",
        figures.published,
        figures.received,
        started.elapsed().as_secs_f64()
    );
    assert!(figures.published > 0 && !figures.detectors.is_empty());
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("monthly_report_figures", |b| {
        b.iter(|| rt.block_on(store.report_figures(&monthly)).unwrap());
    });
    group.bench_function("weekly_report_figures", |b| {
        b.iter(|| rt.block_on(store.report_figures(&weekly)).unwrap());
    });
    group.finish();
}

fn reports(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let path = env("S_EXPRESS_BENCH_REPORTS_SQLITE").unwrap_or_else(|| {
        let dir = env("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
        format!("{dir}/sx-bench-reports.sqlite")
    });
    let sqlite = rt.block_on(open_seeded(&path, OpenOptions::default()));
    bench_backend(c, "reports_sqlite", &sqlite, &rt);
    rt.block_on(sqlite.close());

    if env("S_EXPRESS_BENCH_POSTGRES").as_deref() == Some("skip") {
        return;
    }
    let url = env("S_EXPRESS_BENCH_POSTGRES_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = "sx_bench_reports";
    rt.block_on(async {
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .await
            .unwrap();
        admin.close().await;
    });
    let pg = rt.block_on(open_seeded(&url, OpenOptions::default().schema(schema)));
    bench_backend(c, "reports_postgres", &pg, &rt);
    rt.block_on(pg.close());
}

criterion_group!(benches, reports);
criterion_main!(benches);
