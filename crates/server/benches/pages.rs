//! Server time to render the case page (`GET /cases/{id}`) for a case with a 5,000-line diff
//! and at least 50 findings, through the real router on a temporary SQLite database, as the
//! case's maintainer (so every section renders: findings inline, actions, timeline).
//!
//! `cargo bench -p sx-server --bench pages`. Target: under 100 ms per page.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    reason = "a benchmark fails by panicking"
)]

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use sx_domain::{Role, Subgroup, SubgroupId, SubgroupKind};
use sx_server::accounts::{self, NewUser};
use sx_server::{AppState, Config, ConfigLayer};
use sx_store::Store;
use time::OffsetDateTime;
use tower::ServiceExt;

const FILES: usize = 50;
const LINES_PER_FILE: usize = 100;

/// 50 new JavaScript files of 100 lines each; every file hides one decode-and-execute line and
/// one line with an invisible character among ordinary code.
fn big_diff() -> String {
    let mut d = String::with_capacity(FILES * LINES_PER_FILE * 48);
    for f in 0..FILES {
        let path = format!("lib/module_{f:02}.js");
        let _ = write!(
            d,
            "diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{LINES_PER_FILE} @@\n"
        );
        for l in 0..LINES_PER_FILE {
            match l {
                40 => d.push_str(
                    "+const p = Buffer.from('Y29uc29sZS5sb2coImRlZmFuZ2VkIik=', 'base64').toString(); eval(p);\n",
                ),
                70 => d.push_str("+const total\u{200b}Count = values.length;\n"),
                _ => {
                    let _ = writeln!(d, "+  const value_{l} = compute(input, {l}); // step {l}");
                }
            }
        }
    }
    d
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (router, path, cookie) = rt.block_on(async {
        let config = Config::resolve(
            ConfigLayer {
                data_dir: Some(dir.path().to_path_buf()),
                run_worker: Some(false),
                ..ConfigLayer::default()
            }
            .over(ConfigLayer::default()),
        )
        .unwrap();
        let state = AppState::open(config).await.unwrap();
        let now = OffsetDateTime::now_utc();
        let new = |handle: &str, role: Role| NewUser {
            handle: handle.into(),
            display_name: None,
            password: None,
            roles: [role].into_iter().collect::<BTreeSet<_>>(),
        };
        let maintainer =
            accounts::create_user(&state.store, new("maintainer", Role::Maintainer), now)
                .await
                .unwrap();
        let expert = accounts::create_user(&state.store, new("expert", Role::Expert), now)
            .await
            .unwrap();
        state
            .store
            .create_subgroup(&Subgroup {
                id: SubgroupId::from_uuid(uuid::Uuid::now_v7()),
                slug: "javascript".into(),
                name: "JavaScript and npm".into(),
                kind: SubgroupKind::Language,
                members: vec![expert.id],
                coordinators: Vec::new(),
                routing: sx_domain::RoutingRules {
                    languages: [sx_domain::Language::JavaScript].into_iter().collect(),
                    vectors: BTreeSet::new(),
                },
            })
            .await
            .unwrap();
        let token = accounts::issue_token(&state.store, maintainer.id, "bench", None, now)
            .await
            .unwrap();
        let router = sx_server::routes::router(state.clone());
        let body = serde_json::json!({
            "project": { "forge": "github", "owner": "acme", "name": "widget" },
            "diff": big_diff(),
            "concern": "fifty new modules from a first-time contributor",
            "suspicion": 4,
        });
        let response = router
            .clone()
            .oneshot(
                Request::post("/api/v1/cases")
                    .header(header::AUTHORIZATION, format!("Bearer {}", token.secret))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let created: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        while sx_server::jobs::work_once(&state, "bench")
            .await
            .unwrap()
            .is_some()
        {}
        let case = state
            .store
            .get_case(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .value;
        let findings = case.report.as_ref().unwrap().full["findings"]
            .as_array()
            .unwrap()
            .len();
        assert!(
            findings >= 50,
            "the benchmark case needs 50 findings, has {findings}"
        );
        eprintln!(
            "benchmark case: {FILES} files, {} diff lines, {findings} findings",
            FILES * LINES_PER_FILE
        );
        let session = accounts::start_session(&state, maintainer.id, now)
            .await
            .unwrap();
        (
            router,
            format!("/cases/{id}"),
            format!("sx_session={}", session.secret),
        )
    });
    let get = || {
        Request::get(&path)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let size = rt.block_on(async {
        let response = router.clone().oneshot(get()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap()
            .len()
    });
    eprintln!("case page: {size} bytes of HTML");
    let mut group = c.benchmark_group("pages");
    group.sample_size(30);
    group.bench_function("case page, 5000-line diff, 50+ findings", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = router.clone().oneshot(get()).await.unwrap();
                axum::body::to_bytes(response.into_body(), 64 << 20)
                    .await
                    .unwrap()
                    .len()
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
