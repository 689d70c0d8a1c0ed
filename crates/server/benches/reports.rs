//! A monthly trend report over 1,000,000 cases, end to end, on SQLite and PostgreSQL: the
//! store's aggregation over published cases, the report document
//! ([`sx_server::reports::generate`], what the `generate_reports` job and `s-express report`
//! call), and rendering it as HTML with its SVG charts and as Markdown. Target: under 5 s.
//!
//! `cargo bench -p sx-server --bench reports`. The instance is `S_EXPRESS_BENCH_CASES` cases
//! (default 1,000,000) seeded by `sx_store::seed` (one case a minute over about 23 months, 90 %
//! published, 85 % assessed, realistic verdict mix, 1–4 findings per case, 1–3 KB case
//! documents), so a month holds about 43,000 received and 39,000 published cases.
//!
//! Seeding takes minutes, so it is cached: a SQLite file (`S_EXPRESS_BENCH_REPORTS_SQLITE`,
//! default `$CARGO_TARGET_DIR/sx-bench-reports.sqlite`) and a dedicated PostgreSQL database
//! (`sx_bench_reports` on the server of `S_EXPRESS_BENCH_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), each with a marker table naming the seed
//! version and size; a database with another marker (or none) is dropped and seeded again.
//! Set `S_EXPRESS_BENCH_POSTGRES=skip` to bench SQLite only, `S_EXPRESS_BENCH_SQLITE=skip`
//! for PostgreSQL only.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark binary: configuration from the environment, panics are failures"
)]

use std::time::{Duration, Instant};

use askama::Template as _;
use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::{Executor as _, Row as _};
use sx_server::reports::period::{Period, PeriodRange};
use sx_server::reports::{self, render};
use sx_store::reports::ReportQuery;
use sx_store::seed::SeedSpec;
use sx_store::{AnyStore, OpenOptions, Store as _};
use time::OffsetDateTime;

/// Bump when the seed generator changes, so cached databases are seeded again.
const SEED_VERSION: &str = "seed-2026-11-realistic-1";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn spec() -> SeedSpec {
    let n: u64 = env("S_EXPRESS_BENCH_CASES")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    SeedSpec::new(n, n * 85 / 100)
}

fn marker() -> String {
    let s = spec();
    format!(
        "{SEED_VERSION} cases={} assessments={}",
        s.cases, s.assessments
    )
}

/// CPU time this process has used so far (user + system), in seconds: with SQLite the store's
/// work runs in this process, so the difference across a report is its CPU cost whatever else
/// the machine is doing (PostgreSQL's work is in the server's processes and not counted).
fn process_cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 a second on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let ticks: u64 =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The marker a cached database carries, if any.
async fn read_marker(store: &AnyStore) -> Option<String> {
    match store {
        AnyStore::Sqlite(s) => marker_in(s.pool()).await,
        AnyStore::Postgres(s) => marker_in(s.pool()).await,
    }
}

/// [`read_marker`] on either backend's pool.
async fn marker_in<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Option<String>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'i> &'i str: sqlx::ColumnIndex<DB::Row>,
{
    sqlx::query("SELECT marker FROM sx_bench_seed")
        .fetch_optional(pool)
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get::<String, _>("marker").ok())
}

/// Seeds a fresh database, refreshes the planner's statistics and writes the marker.
async fn seed(store: &AnyStore, name: &str) {
    let spec = spec();
    eprintln!(
        "{name}: seeding {} cases ({} assessed), once; load average {}",
        spec.cases,
        spec.assessments,
        load_average()
    );
    let started = Instant::now();
    let report = store.seed(&spec).await.unwrap();
    eprintln!(
        "{name}: seeded {report:?} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let marker = marker();
    match store {
        AnyStore::Sqlite(s) => write_marker(s.pool(), "ANALYZE", &marker).await,
        AnyStore::Postgres(s) => write_marker(s.pool(), "VACUUM ANALYZE", &marker).await,
    }
}

/// Refreshes the planner's statistics with `analyze` (each backend has its own statement) and
/// writes `marker`, on either backend's pool.
async fn write_marker<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    analyze: &'static str,
    marker: &str,
) where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    pool.execute(analyze).await.unwrap();
    pool.execute("CREATE TABLE sx_bench_seed (marker TEXT NOT NULL)")
        .await
        .unwrap();
    sqlx::query("INSERT INTO sx_bench_seed (marker) VALUES ($1)")
        .bind(marker)
        .execute(pool)
        .await
        .unwrap();
}

async fn open_sqlite(path: &str) -> AnyStore {
    if std::path::Path::new(path).exists() {
        let store = sx_store::open(path).await.unwrap();
        if read_marker(&store).await.as_deref() == Some(marker().as_str()) {
            return store;
        }
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let store = sx_store::open(path).await.unwrap();
    seed(&store, "sqlite").await;
    store
}

async fn open_postgres(server: &str) -> AnyStore {
    let db = env("S_EXPRESS_BENCH_POSTGRES_DB").unwrap_or_else(|| "sx_bench_reports".into());
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{db}"));
    let url = url.to_string();
    let admin = sqlx::PgPool::connect(server).await.unwrap();
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&db)
        .fetch_optional(&admin)
        .await
        .unwrap()
        .is_some();
    if exists {
        let store = sx_store::open(&url).await.unwrap();
        if read_marker(&store).await.as_deref() == Some(marker().as_str()) {
            admin.close().await;
            return store;
        }
        store.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE \"{db}\" WITH (FORCE)"
            )))
            .await
            .unwrap();
    }
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .await
        .unwrap();
    admin.close().await;
    let store = sx_store::open_with(&url, &OpenOptions::default())
        .await
        .unwrap();
    seed(&store, "postgres").await;
    store
}

/// What `s-express report --format html` and `--format md` do after opening the store.
async fn monthly_report(store: &AnyStore, range: &PeriodRange) -> (reports::model::Report, usize) {
    let report = reports::generate(
        store,
        &sx_domain::Policy::default(),
        "https://sx.example.org",
        range,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let bytes = render_both(&report);
    (report, bytes)
}

/// The report as HTML (with its inline SVG charts) and as Markdown; returns their total size.
fn render_both(report: &reports::model::Report) -> usize {
    let charts = render::charts(report).unwrap();
    let html = render::ReportPage {
        css: sx_server::pages::assets::css_url(),
        report,
        charts: &charts,
        base_path: format!("/reports/{}/{}", report.period, report.starts_on),
    }
    .render()
    .unwrap();
    let md = render::markdown(report, "month-");
    html.len() + md.len()
}

/// The same work as [`monthly_report`] (`reports::generate` is `report_figures` then
/// `Report::build`), timed per step: the store's aggregations, building the document, and
/// rendering it with its charts.
async fn monthly_report_timed(
    store: &AnyStore,
    range: &PeriodRange,
) -> (reports::model::Report, usize, [f64; 3]) {
    let started = Instant::now();
    let query = ReportQuery::new(range.from(), range.to(), range.previous_from());
    let figures = store.report_figures(&query).await.unwrap();
    let sql = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let report = reports::model::Report::build(
        range,
        &figures,
        &sx_domain::Policy::default(),
        "https://sx.example.org",
        OffsetDateTime::now_utc(),
    );
    let build = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let bytes = render_both(&report);
    let render = started.elapsed().as_secs_f64();
    (report, bytes, [sql, build, render])
}

fn bench_backend(c: &mut Criterion, name: &str, store: &AnyStore, rt: &tokio::runtime::Runtime) {
    let spec = spec();
    // A month in the middle of the seeded span.
    let middle = spec.start + time::Duration::minutes((spec.cases / 2) as i64);
    let range = PeriodRange::new(Period::Month, middle.date());
    // Cold first run, then a few timed runs with the load average beside them: criterion's
    // figures below are the warm ones.
    for run in 0..4 {
        let load = load_average();
        let (started, cpu) = (Instant::now(), process_cpu_seconds());
        let (report, bytes, [sql, build, render]) =
            rt.block_on(monthly_report_timed(store, &range));
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = process_cpu_seconds() - cpu;
        eprintln!(
            "{name}: {} report, {} published / {} received cases, {} detectors, {bytes} bytes of HTML+Markdown: {elapsed:.2} s{} (store aggregations {sql:.2} s, document {build:.3} s, rendering {render:.3} s; bench process CPU {cpu:.2} s; load average {load})",
            report.title,
            report.volumes.published,
            report.volumes.received,
            report.detectors.len(),
            if run == 0 { " (first run)" } else { "" }
        );
        assert!(report.volumes.published > 0 && !report.detectors.is_empty());
    }
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("monthly_report_end_to_end", |b| {
        b.iter(|| rt.block_on(monthly_report(store, &range)));
    });
    let weekly = PeriodRange::new(Period::Week, middle.date());
    group.bench_function("weekly_report_end_to_end", |b| {
        b.iter(|| rt.block_on(monthly_report(store, &weekly)));
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if env("S_EXPRESS_BENCH_SQLITE").as_deref() != Some("skip") {
        let path = env("S_EXPRESS_BENCH_REPORTS_SQLITE").unwrap_or_else(|| {
            let dir = env("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
            format!("{dir}/sx-bench-reports.sqlite")
        });
        let sqlite = rt.block_on(open_sqlite(&path));
        bench_backend(c, "reports_sqlite", &sqlite, &rt);
        rt.block_on(sqlite.close());
    }
    if env("S_EXPRESS_BENCH_POSTGRES").as_deref() != Some("skip") {
        let server = env("S_EXPRESS_BENCH_POSTGRES_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
        let pg = rt.block_on(open_postgres(&server));
        bench_backend(c, "reports_postgres", &pg, &rt);
        rt.block_on(pg.close());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
