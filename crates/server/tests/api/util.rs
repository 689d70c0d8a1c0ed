//! The test application and per-role request helpers.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use sx_domain::{Role, Subgroup, SubgroupId, SubgroupKind, User};
use sx_server::accounts::{self, NewUser};
use sx_server::{AppState, Config, ConfigLayer};
use sx_store::{Store, UserRecord};
use time::OffsetDateTime;
use tower::ServiceExt;

/// A suspicious JavaScript change: a new postinstall hook and an eval of a decoded blob.
pub const DODGY_DIFF: &str = "\
diff --git a/package.json b/package.json
--- a/package.json
+++ b/package.json
@@ -1,4 +1,5 @@
 {
   \"name\": \"widget\",
+  \"scripts\": { \"postinstall\": \"node lib/setup.js\" },
   \"version\": \"1.0.0\"
 }
diff --git a/lib/setup.js b/lib/setup.js
new file mode 100644
--- /dev/null
+++ b/lib/setup.js
@@ -0,0 +1,2 @@
+const p = Buffer.from('Y29uc29sZS5sb2coImRlZmFuZ2VkIik=', 'base64').toString();
+eval(p);
";

/// The application under test.
pub struct TestApp {
    pub state: AppState,
    router: Router,
    _dir: tempfile::TempDir,
    /// PostgreSQL `(url, schema)` to drop afterwards.
    pg_schema: Option<(String, String)>,
}

/// The database a test runs on. The `both_backends!` macro runs every test once per backend;
/// the choice travels to [`TestApp::with`] in a task-local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the test's temporary directory.
    Sqlite,
    /// A fresh schema in the PostgreSQL database named by `S_EXPRESS_TEST_POSTGRES_URL`,
    /// dropped afterwards.
    Postgres,
}

tokio::task_local! {
    static BACKEND: Backend;
}

impl Backend {
    /// Runs one test body on this backend. A PostgreSQL run returns at once (passing) when
    /// `S_EXPRESS_TEST_POSTGRES=skip`; otherwise an unreachable PostgreSQL fails the test.
    pub async fn run(self, test: impl std::future::Future<Output = ()>) {
        if self == Backend::Postgres
            && std::env::var("S_EXPRESS_TEST_POSTGRES").is_ok_and(|v| v == "skip")
        {
            eprintln!("S_EXPRESS_TEST_POSTGRES=skip: skipping the PostgreSQL run of this test");
            return;
        }
        BACKEND.scope(self, test).await;
    }

    /// The backend of the running test (SQLite outside `both_backends!`).
    pub fn current() -> Backend {
        BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
    }
}

fn postgres_url() -> String {
    std::env::var("S_EXPRESS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

async fn open_postgres(url: &str, config: &Config) -> (sx_store::AnyStore, String) {
    use sqlx::Executor as _;
    let schema = format!("sx_server_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {url} is unreachable ({e}). Start it, point S_EXPRESS_TEST_POSTGRES_URL at one, \
             or set S_EXPRESS_TEST_POSTGRES=skip to skip the PostgreSQL half of the API suite"
        )
    });
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .await
        .unwrap();
    admin.close().await;
    let mut options = sx_store::OpenOptions::default().schema(schema.clone());
    options.sla_first_assessment_due = time::Duration::hours(i64::from(config.sla_hours));
    (sx_store::open_with(url, &options).await.unwrap(), schema)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some((url, schema)) = self.pg_schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime: clean up on a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Executor as _;
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let _ = pool
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                        )))
                        .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// A user with an API token.
pub struct TestUser {
    pub user: User,
    pub token: String,
}

/// A response with its JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl TestResponse {
    /// The error code of a JSON error answer.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with(ConfigLayer::default()).await
    }

    /// An app whose configuration is `layer` over test defaults (generous rate limits, no
    /// background worker: tests run jobs explicitly with [`TestApp::run_jobs`]).
    pub async fn with(layer: ConfigLayer) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let defaults = ConfigLayer {
            data_dir: Some(dir.path().to_path_buf()),
            login_per_minute: Some(600),
            login_burst: Some(100),
            submit_per_minute: Some(600),
            submit_burst: Some(100),
            run_worker: Some(false),
            ..ConfigLayer::default()
        };
        let config = Config::resolve(layer.over(defaults)).unwrap();
        let (state, pg_schema) = match Backend::current() {
            Backend::Postgres => {
                let url = postgres_url();
                let (store, schema) = open_postgres(&url, &config).await;
                (
                    AppState::with_store(config, store).unwrap(),
                    Some((url, schema)),
                )
            }
            Backend::Sqlite => (AppState::open(config).await.unwrap(), None),
        };
        let router = sx_server::routes::router(state.clone());
        TestApp {
            state,
            router,
            _dir: dir,
            pg_schema,
        }
    }

    /// Sends a request.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            json,
        }
    }

    /// Sends a request; returns the status and the body as text (for HTML, feeds and leak
    /// checks by content).
    pub async fn send_raw(&self, request: Request<Body>) -> (StatusCode, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// An anonymous GET.
    pub async fn get_anon(&self, path: &str) -> TestResponse {
        self.call(Method::GET, path, None, None).await
    }

    /// Creates a user with these roles and a fresh API token.
    pub async fn user(&self, handle: &str, roles: &[Role]) -> TestUser {
        let roles: BTreeSet<Role> = roles.iter().copied().collect();
        let now = OffsetDateTime::now_utc();
        let new = NewUser {
            handle: handle.into(),
            display_name: None,
            password: None,
            roles,
        };
        let user = accounts::create_user(&self.state.store, new, now)
            .await
            .unwrap();
        let token = accounts::issue_token(&self.state.store, user.id, "tests", None, now)
            .await
            .unwrap();
        TestUser {
            user,
            token: token.secret,
        }
    }

    /// A maintainer.
    pub async fn maintainer(&self, handle: &str) -> TestUser {
        self.user(handle, &[Role::Maintainer]).await
    }

    /// An expert.
    pub async fn expert(&self, handle: &str) -> TestUser {
        self.user(handle, &[Role::Expert]).await
    }

    /// An admin.
    pub async fn admin(&self, handle: &str) -> TestUser {
        self.user(handle, &[Role::Admin]).await
    }

    /// A coordinator.
    pub async fn coordinator(&self, handle: &str) -> TestUser {
        self.user(handle, &[Role::Coordinator]).await
    }

    /// The stored account `handle`, which must exist.
    pub async fn account(&self, handle: &str) -> UserRecord {
        self.state
            .store
            .get_user_by_handle(handle)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no account {handle:?}"))
    }

    /// The stored subgroup `slug`, which must exist.
    pub async fn subgroup(&self, slug: &str) -> Subgroup {
        self.state
            .store
            .get_subgroup_by_slug(slug)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no subgroup {slug:?}"))
            .value
    }

    /// Creates a JavaScript subgroup with these members.
    pub async fn javascript_subgroup(&self, members: &[&TestUser]) -> Subgroup {
        self.javascript_subgroup_with(members, &[]).await
    }

    /// Creates a JavaScript subgroup with these members and coordinators.
    pub async fn javascript_subgroup_with(
        &self,
        members: &[&TestUser],
        coordinators: &[&TestUser],
    ) -> Subgroup {
        let subgroup = Subgroup {
            id: SubgroupId::from_uuid(uuid::Uuid::now_v7()),
            slug: "javascript".into(),
            name: "JavaScript and npm".into(),
            kind: SubgroupKind::Language,
            members: members.iter().map(|m| m.user.id).collect(),
            coordinators: coordinators.iter().map(|c| c.user.id).collect(),
            routing: sx_domain::RoutingRules {
                languages: [sx_domain::Language::JavaScript].into_iter().collect(),
                vectors: BTreeSet::new(),
            },
        };
        self.state.store.create_subgroup(&subgroup).await.unwrap();
        subgroup
    }

    /// Runs due jobs until none is left; returns how many ran.
    pub async fn run_jobs(&self) -> usize {
        let mut n = 0;
        while let Some((job, outcome)) = sx_server::jobs::work_once(&self.state, "test-worker")
            .await
            .unwrap()
        {
            assert!(outcome.is_ok(), "job {} failed: {outcome:?}", job.name);
            n += 1;
        }
        n
    }

    /// Submits the dodgy change to `acme/widget` as `maintainer`; returns the case id.
    pub async fn submit(&self, maintainer: &TestUser) -> String {
        let r = maintainer
            .post(self, "/api/v1/cases", submission(DODGY_DIFF))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        r.json["id"].as_str().unwrap().to_string()
    }
}

/// A submission body for `acme/widget` on GitHub.
pub fn submission(diff: &str) -> Value {
    serde_json::json!({
        "project": { "forge": "github", "owner": "acme", "name": "widget" },
        "diff": diff,
        "concern": "a first-time contributor added an install hook",
        "suspicion": 4,
        "author": "newcomer42"
    })
}

/// A complete assessment body.
pub fn assessment(verdict: &str) -> Value {
    serde_json::json!({
        "verdict": verdict,
        "confidence": "high",
        "summary": "The install hook evaluates a decoded blob.",
        "rationale": "lib/setup.js decodes base64 and passes it to eval; postinstall runs it on every install.",
        "recommended_actions": ["reject the pull request"],
        "references": [],
        "time_spent_minutes": 20,
        "thoroughness": "high",
        "understanding": "high"
    })
}

impl TestUser {
    pub async fn get(&self, app: &TestApp, path: &str) -> TestResponse {
        app.call(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> TestResponse {
        app.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }
}
