//! Query latency at scale: the expert queue, a case lookup and the public list, on SQLite and
//! PostgreSQL, over a database seeded with `S_EXPRESS_BENCH_CASES` cases (default 1,000,000) and
//! a fifth as many assessments.
//!
//! Seeding takes minutes, so it happens once: the SQLite file (`S_EXPRESS_BENCH_SQLITE`, default
//! `target/sx-bench.sqlite`) and the PostgreSQL schema (`S_EXPRESS_BENCH_SCHEMA`, default `sx_bench`, in
//! `S_EXPRESS_BENCH_POSTGRES_URL`, default the test database) are reused when already seeded.
//! Set `S_EXPRESS_BENCH_POSTGRES=skip` to bench SQLite only. Query plans are printed before
//! measuring so an index regression is visible next to the numbers.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark binary: configuration from the environment, panics are failures"
)]

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::{Executor as _, Row as _};
use sx_domain::{CaseId, Verdict};
use sx_store::seed::{self, SeedSpec};
use sx_store::{AnyStore, OpenOptions, PublishedFilter, Store};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn cases() -> u64 {
    env("S_EXPRESS_BENCH_CASES")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

async fn open_seeded(url: &str, options: OpenOptions) -> AnyStore {
    let store = sx_store::open_with(url, &options).await.unwrap();
    let n = cases();
    let spec = SeedSpec::new(n, n / 5);
    let probe = seed::case(&spec, n - 1).unwrap().id;
    if store.get_case(probe).await.unwrap().is_none() {
        eprintln!(
            "seeding {url} with {n} cases and {} assessments (once)…",
            spec.assessments
        );
        let started = Instant::now();
        let report = store.seed(&spec).await.unwrap();
        eprintln!(
            "seeded {report:?} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    store
}

/// The expert queue's SQL for seeded expert 1 (no affiliations), as `expert_queue` builds it
/// (with `TRUE` spelled per backend, see `SQL_TRUE` in the backends).
const QUEUE_SQL: &str = "SELECT c.doc, c.version, c.sla_due FROM cases c WHERE c.queue_open = TRUE \
    AND EXISTS (SELECT 1 FROM case_subgroups cs JOIN subgroup_members m ON m.subgroup_id = cs.subgroup_id \
    WHERE cs.case_id = c.id AND m.user_id = $1) \
    AND NOT EXISTS (SELECT 1 FROM project_maintainers pm WHERE pm.project_id = c.project_id AND pm.user_id = $1) \
    AND (c.author_norm IS NULL OR c.author_norm NOT IN ('expert-1')) ORDER BY c.sla_due, c.id LIMIT 50";

async fn explain(store: &AnyStore) {
    let expert = seed::seed_id(2, 1);
    let case = seed::seed_id(5, cases() / 2);
    match store {
        AnyStore::Sqlite(s) => {
            for (what, sql, id) in [
                ("expert queue", QUEUE_SQL.replace("= TRUE", "= 1"), expert),
                (
                    "case lookup",
                    "SELECT doc, version FROM cases WHERE id = $1".to_string(),
                    case,
                ),
            ] {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .bind(id)
                    .fetch_all(s.pool())
                    .await
                    .unwrap();
                eprintln!("SQLite plan, {what}:");
                for r in rows {
                    eprintln!("  {}", r.get::<String, _>("detail"));
                }
            }
        }
        AnyStore::Postgres(s) => {
            let mut conn = s.pool().acquire().await.unwrap();
            conn.execute("ANALYZE").await.unwrap();
            for (what, sql, id) in [
                ("expert queue", QUEUE_SQL.to_string(), expert),
                (
                    "case lookup",
                    "SELECT doc, version FROM cases WHERE id = $1".to_string(),
                    case,
                ),
            ] {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "EXPLAIN (ANALYZE, BUFFERS) {sql}"
                )))
                .bind(id)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
                eprintln!("PostgreSQL plan, {what}:");
                for r in rows {
                    eprintln!("  {}", r.get::<String, _>(0));
                }
            }
        }
    }
}

fn bench_backend(c: &mut Criterion, name: &str, store: &AnyStore, rt: &tokio::runtime::Runtime) {
    rt.block_on(explain(store));
    let n = cases();
    let spec = SeedSpec::new(n, n / 5);
    let expert = rt
        .block_on(store.get_user(sx_domain::UserId(seed::seed_id(2, 1))))
        .unwrap()
        .unwrap()
        .user;
    let affiliated = rt
        .block_on(store.get_user(sx_domain::UserId(seed::seed_id(2, 0))))
        .unwrap()
        .unwrap()
        .user;
    let mut group = c.benchmark_group(name);
    group.bench_function("expert_queue_first_page_50", |b| {
        b.iter(|| {
            let page = rt.block_on(store.expert_queue(&expert, None, 50)).unwrap();
            assert_eq!(page.len(), 50);
        });
    });
    group.bench_function("expert_queue_with_conflicts_first_page_50", |b| {
        b.iter(|| {
            let page = rt
                .block_on(store.expert_queue(&affiliated, None, 50))
                .unwrap();
            assert_eq!(page.len(), 50);
        });
    });
    let deep = rt
        .block_on(store.expert_queue(&expert, None, 500))
        .unwrap()
        .last()
        .unwrap()
        .cursor();
    group.bench_function("expert_queue_page_after_500", |b| {
        b.iter(|| {
            rt.block_on(store.expert_queue(&expert, Some(deep), 50))
                .unwrap()
        });
    });
    let mut i = 0u64;
    group.bench_function("case_lookup_by_id", |b| {
        b.iter(|| {
            i = (i + 7_919) % n;
            let id: CaseId = seed::case(&spec, i).unwrap().id;
            assert!(rt.block_on(store.get_case(id)).unwrap().is_some());
        });
    });
    let filter = PublishedFilter {
        verdict: Some(Verdict::Malicious),
        limit: 50,
        ..Default::default()
    };
    group.bench_function("published_malicious_first_page_50", |b| {
        b.iter(|| rt.block_on(store.list_published(&filter)).unwrap());
    });
    group.finish();
}

fn queries(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let path = env("S_EXPRESS_BENCH_SQLITE").unwrap_or_else(|| {
        let dir = env("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
        format!("{dir}/sx-bench.sqlite")
    });
    let sqlite = rt.block_on(open_seeded(&path, OpenOptions::default()));
    bench_backend(c, "sqlite", &sqlite, &rt);
    rt.block_on(sqlite.close());

    if env("S_EXPRESS_BENCH_POSTGRES").as_deref() == Some("skip") {
        return;
    }
    let url = env("S_EXPRESS_BENCH_POSTGRES_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = env("S_EXPRESS_BENCH_SCHEMA").unwrap_or_else(|| "sx_bench".into());
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
    bench_backend(c, "postgres", &pg, &rt);
    rt.block_on(pg.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(5));
    targets = queries
}
criterion_main!(benches);
