//! The access-control proof: every endpoint × every role × every TLP label, on cases and on
//! comments, checked by content.
//!
//! One case per label (CLEAR, GREEN, AMBER, AMBER+STRICT, RED), each with its own project and
//! its own random markers in the title, the concern, the diff and the project name, and six
//! comments (one per label plus a RED one for the submitter alone), each with its own marker.
//! Nine callers look at everything. What each may see is written down here by hand
//! ([`Role::max_label`]), independently of the domain's `may_view`, so the test checks the
//! rule rather than repeating it.
//!
//! For every answer the test checks that no marker of a case or comment the caller may not
//! see appears anywhere in it (status line aside: headers carry no content). Case-scoped reads
//! must answer 200 with the content for those who may see and, for everyone else, exactly the
//! answer for a case that does not exist; case-scoped writes by those who may not see must
//! answer exactly as for a missing case and change nothing.
//!
//! [`API`] covers every entry of `routes::ROUTES` (a test fails when a route has no entry);
//! [`PAGES`] is where the web UI, feeds, reports and dataset register their read paths. The
//! case page differs from the API's case read in one way: whoever may not read a sealed case
//! gets its public stub there instead of the missing-case answer ([`Scope::CasePage`]).

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use sx_domain::{Affiliation, Role as DomainRole, TlpLabel};
use sx_store::Store;

use crate::util::{DODGY_DIFF, TestApp, TestUser, assessment};

/// How an endpoint touches cases, which decides what the matrix checks on it.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Reads one case (`{id}` in the path): those the label admits get 200 and its content;
    /// everyone else gets byte for byte the answer for a missing case.
    CaseRead,
    /// Reads one case's comments: as [`Scope::CaseRead`], and each comment follows its own
    /// label (the stricter of its own and its case's).
    CommentsRead,
    /// The public stub of one case (`{id}`): the same for everyone, and while the case is
    /// unpublished it shows none of its content, to anyone.
    PublicStub,
    /// The case page (`{id}`): those the label admits get 200 and the case; everyone else gets
    /// the sealed case's public stub (200, `id="sealed-stub"`) with none of the case's content
    /// or comments; a case that does not exist is 404.
    CasePage,
    /// Changes one case: whoever may not see it gets exactly the missing-case answer and the
    /// case does not change. The body is a valid request for the endpoint.
    CaseWrite(fn(&Fixture) -> Option<Value>),
    /// Reads across cases (lists, queue, log, feeds, reports, dataset): must carry nothing of a
    /// case or comment the caller may not see.
    Across,
    /// Holds no case data (health, accounts, tokens): must carry no case content for anyone.
    NoCaseData(fn(&Fixture) -> Option<Value>),
}

/// One endpoint of the matrix.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path as in the route table (`{id}` is the case, `{review_id}` and `{extension_id}`
    /// are filled from the fixture); a query string may follow for [`Scope::Across`].
    pub path: &'static str,
    /// What it does with cases.
    pub scope: Scope,
    /// How callers authenticate: API routes take the bearer token, web pages the session
    /// cookie.
    pub cookie: bool,
}

const fn e(method: &'static str, path: &'static str, scope: Scope) -> Entry {
    Entry {
        method,
        path,
        scope,
        cookie: false,
    }
}

/// A web page, feed or file: read with the session cookie.
const fn page(path: &'static str, scope: Scope) -> Entry {
    Entry {
        method: "GET",
        path,
        scope,
        cookie: true,
    }
}

fn no_body(_: &Fixture) -> Option<Value> {
    None
}

fn empty_body(_: &Fixture) -> Option<Value> {
    Some(json!({}))
}

/// Every route of `routes::ROUTES`, with what the matrix checks on it.
pub const API: &[Entry] = &[
    e("GET", "/api/v1/health", Scope::NoCaseData(no_body)),
    e("GET", "/api/v1/openapi.json", Scope::NoCaseData(no_body)),
    e(
        "POST",
        "/api/v1/session",
        Scope::NoCaseData(|_| Some(json!({ "handle": "nobody", "password": "wrong-password" }))),
    ),
    e("DELETE", "/api/v1/session", Scope::NoCaseData(no_body)),
    e("GET", "/api/v1/me", Scope::NoCaseData(no_body)),
    e("POST", "/api/v1/users", Scope::NoCaseData(empty_body)),
    e("POST", "/api/v1/invitations", Scope::NoCaseData(empty_body)),
    e(
        "POST",
        "/api/v1/invitations/accept",
        Scope::NoCaseData(empty_body),
    ),
    e("POST", "/api/v1/tokens", Scope::NoCaseData(empty_body)),
    e("GET", "/api/v1/tokens", Scope::NoCaseData(no_body)),
    e("DELETE", "/api/v1/tokens/{id}", Scope::NoCaseData(no_body)),
    e(
        "POST",
        "/api/v1/cases",
        Scope::NoCaseData(|_| Some(crate::util::submission(DODGY_DIFF))),
    ),
    e("GET", "/api/v1/cases/{id}", Scope::CaseRead),
    e("GET", "/api/v1/cases/{id}/change", Scope::CaseRead),
    e("GET", "/api/v1/cases/{id}/public", Scope::PublicStub),
    e(
        "POST",
        "/api/v1/cases/{id}/claim",
        Scope::CaseWrite(empty_body),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/unclaim",
        Scope::CaseWrite(empty_body),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/assessments",
        Scope::CaseWrite(|_| Some(assessment("benign"))),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/decision",
        Scope::CaseWrite(|_| Some(json!({ "outcome": "rejected" }))),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/second-reviews",
        Scope::CaseWrite(|f| {
            Some(json!({ "assessment_id": f.missing_id, "reason": "please look again" }))
        }),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/second-reviews/{review_id}",
        Scope::CaseWrite(|_| Some(json!({ "verdict": "benign", "note": "" }))),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/embargo",
        Scope::CaseWrite(|_| {
            let until = time::OffsetDateTime::now_utc() + time::Duration::days(10);
            Some(json!({
                "until": until.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "reason": "a fix is being released",
            }))
        }),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/embargo/approve",
        Scope::CaseWrite(no_body),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/grace-extensions",
        Scope::CaseWrite(|_| {
            Some(json!({ "extra_days": 10, "reason": "distributions need time" }))
        }),
    ),
    e(
        "POST",
        "/api/v1/cases/{id}/grace-extensions/{extension_id}/approve",
        Scope::CaseWrite(no_body),
    ),
    e("GET", "/api/v1/cases/{id}/comments", Scope::CommentsRead),
    e(
        "POST",
        "/api/v1/cases/{id}/comments",
        Scope::CaseWrite(|_| Some(json!({ "body": "a comment from outside" }))),
    ),
    e("GET", "/api/v1/cases", Scope::Across),
    e("GET", "/api/v1/queue", Scope::Across),
    e("GET", "/api/v1/log?limit=1000", Scope::Across),
    e("GET", "/api/v1/log/checkpoint", Scope::Across),
    e("GET", "/api/v1/log/checkpoints", Scope::Across),
    e("GET", "/api/v1/log/export", Scope::Across),
    e(
        "GET",
        "/api/v1/me/notifications",
        Scope::NoCaseData(no_body),
    ),
    e(
        "PUT",
        "/api/v1/me/notifications",
        Scope::NoCaseData(empty_body),
    ),
    e("GET", "/api/v1/me/mail-intake", Scope::NoCaseData(no_body)),
    e("POST", "/api/v1/me/mail-intake", Scope::NoCaseData(no_body)),
    e(
        "DELETE",
        "/api/v1/me/mail-intake",
        Scope::NoCaseData(no_body),
    ),
];

/// Read paths outside the API route table: the web UI (`pages/`), reports and feeds
/// (`reports/`) and the dataset (`dataset/`). Every page, feed or file that can show case data
/// registers here: `{id}` paths as [`Scope::CaseRead`], lists and feeds as [`Scope::Across`].
pub const PAGES: &[Entry] = &[
    page("/", Scope::Across),
    page("/login", Scope::NoCaseData(no_body)),
    page("/settings", Scope::NoCaseData(no_body)),
    page("/submit", Scope::NoCaseData(no_body)),
    page("/cases", Scope::Across),
    page("/cases/{id}", Scope::CasePage),
    page("/queue", Scope::Across),
    page("/log", Scope::Across),
    page("/reports", Scope::Across),
    page("/feeds/cases.atom", Scope::Across),
    page("/feeds/reports.atom", Scope::Across),
    page("/dataset", Scope::Across),
    page("/dataset/latest.json", Scope::Across),
    page("/dataset/latest.jsonl", Scope::Across),
    page("/dataset/latest.csv", Scope::Across),
    page("/dataset/schema.json", Scope::NoCaseData(no_body)),
    page("/detectors", Scope::Across),
];

/// Who is looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Anonymous,
    /// The maintainer who forwarded the case (and registered its project).
    Submitter,
    /// A maintainer of another project.
    OtherMaintainer,
    /// A member of the subgroup the case was routed to (read in by rule at triage).
    SubgroupExpert,
    /// A member of that subgroup affiliated with the project's organization.
    ConflictedExpert,
    /// An expert of another subgroup.
    OutsiderExpert,
    /// The expert who claimed the case (named participant).
    AssignedExpert,
    /// A coordinator of the routed subgroup.
    Coordinator,
    /// An administrator (and coordinator of no subgroup): roles alone open nothing.
    Admin,
}

impl Role {
    const ALL: [Role; 9] = [
        Role::Anonymous,
        Role::Submitter,
        Role::OtherMaintainer,
        Role::SubgroupExpert,
        Role::ConflictedExpert,
        Role::OutsiderExpert,
        Role::AssignedExpert,
        Role::Coordinator,
        Role::Admin,
    ];

    /// The strictest label this caller may read on the fixture's cases (TLP 2.0: CLEAR for
    /// the world, GREEN for the community, AMBER for the routed subgroups, AMBER+STRICT for
    /// the case's participants, RED for named people).
    fn max_label(self) -> TlpLabel {
        match self {
            Role::Anonymous => TlpLabel::Clear,
            Role::OtherMaintainer | Role::ConflictedExpert | Role::OutsiderExpert | Role::Admin => {
                TlpLabel::Green
            }
            Role::SubgroupExpert | Role::Coordinator => TlpLabel::AmberStrict,
            Role::Submitter | Role::AssignedExpert => TlpLabel::Red,
        }
    }
}

const LABELS: [TlpLabel; 5] = [
    TlpLabel::Clear,
    TlpLabel::Green,
    TlpLabel::Amber,
    TlpLabel::AmberStrict,
    TlpLabel::Red,
];

fn rank(label: TlpLabel) -> u8 {
    match label {
        TlpLabel::Clear => 0,
        TlpLabel::Green => 1,
        TlpLabel::Amber => 2,
        TlpLabel::AmberStrict => 3,
        TlpLabel::Red => 4,
    }
}

/// A comment and who may read it.
#[derive(Debug)]
pub struct FixtureComment {
    marker: String,
    label: TlpLabel,
    /// RED for the submitter alone.
    submitter_only: bool,
}

/// One case at one label.
#[derive(Debug)]
pub struct FixtureCase {
    pub id: String,
    label: TlpLabel,
    markers: Vec<String>,
    comments: Vec<FixtureComment>,
    review_id: String,
    extension_id: String,
}

impl FixtureCase {
    fn visible_to(&self, role: Role) -> bool {
        rank(self.label) <= rank(role.max_label())
    }

    fn comment_visible_to(&self, comment: &FixtureComment, role: Role) -> bool {
        if comment.submitter_only {
            return role == Role::Submitter;
        }
        let effective = if rank(comment.label) >= rank(self.label) {
            comment.label
        } else {
            self.label
        };
        rank(effective) <= rank(role.max_label())
    }

    /// Markers `role` must never be shown.
    fn hidden_from(&self, role: Role) -> Vec<&str> {
        let mut hidden: Vec<&str> = Vec::new();
        if !self.visible_to(role) {
            hidden.extend(self.markers.iter().map(String::as_str));
        }
        hidden.extend(
            self.comments
                .iter()
                .filter(|c| !self.comment_visible_to(c, role))
                .map(|c| c.marker.as_str()),
        );
        hidden
    }
}

/// The world the matrix looks at.
pub struct Fixture {
    app: TestApp,
    users: Vec<(Role, Option<TestUser>)>,
    /// Each signed-in role's session cookie secret.
    sessions: Vec<(Role, String)>,
    cases: Vec<FixtureCase>,
    /// An id no case, review or extension has.
    missing_id: String,
}

fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// The dodgy diff with a marker line in the added file.
fn marked_diff(marker: &str) -> String {
    DODGY_DIFF
        .replace("@@ -0,0 +1,2 @@", "@@ -0,0 +1,3 @@")
        .replace("+eval(p);\n", &format!("+eval(p);\n+// {marker}\n"))
}

impl Fixture {
    async fn build() -> Fixture {
        let app = TestApp::new().await;
        let submitter = app.maintainer("submitter").await;
        let other_maintainer = app.maintainer("othermaint").await;
        let subgroup_expert = app.expert("sgexpert").await;
        let conflicted = app.expert("conflicted").await;
        let outsider = app.expert("outsider").await;
        let assigned = app.expert("assigned").await;
        let coordinator = app.user("coordinator", &[DomainRole::Coordinator]).await;
        let admin = app
            .user("admin", &[DomainRole::Admin, DomainRole::Coordinator])
            .await;
        app.javascript_subgroup_with(&[&subgroup_expert, &conflicted, &assigned], &[&coordinator])
            .await;
        // The conflicted expert works for the projects' owner organization.
        let record = app
            .state
            .store
            .get_user(conflicted.user.id)
            .await
            .unwrap()
            .unwrap();
        let mut user = record.user.clone();
        user.expert
            .get_or_insert_with(Default::default)
            .affiliations
            .push(Affiliation::Organization {
                name: "acme".into(),
            });
        app.state
            .store
            .update_user(&user, record.version)
            .await
            .unwrap();

        let mut cases = Vec::new();
        for label in LABELS {
            let t = token();
            let markers = vec![
                format!("Title{t}"),
                format!("Concern{t}"),
                format!("Diff{t}"),
                format!("proj{t}"),
            ];
            let body = json!({
                "project": { "forge": "github", "owner": "acme", "name": markers[3] },
                "diff": marked_diff(&markers[2]),
                "concern": format!("the hook looks wrong {}", markers[1]),
                "suspicion": 4,
                "author": "newcomer42",
                "title": format!("Add install hook {}", markers[0]),
            });
            let r = submitter.post(&app, "/api/v1/cases", body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
            let id = r.json["id"].as_str().unwrap().to_string();
            app.run_jobs().await;
            let claimed = assigned
                .post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
                .await;
            assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.json);
            let assessed = assigned
                .post(
                    &app,
                    &format!("/api/v1/cases/{id}/assessments"),
                    assessment("malicious"),
                )
                .await;
            assert_eq!(assessed.status, StatusCode::CREATED, "{:?}", assessed.json);
            let review_id = assessed.json["second_reviews"][0]["id"]
                .as_str()
                .unwrap()
                .to_string();
            let extension = submitter
                .post(
                    &app,
                    &format!("/api/v1/cases/{id}/grace-extensions"),
                    json!({ "extra_days": 5, "reason": "distributions need time" }),
                )
                .await;
            assert_eq!(
                extension.status,
                StatusCode::CREATED,
                "{:?}",
                extension.json
            );
            let extension_id = extension.json["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|e| e["extension_id"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| panic!("no grace extension id in {:?}", extension.json));

            // The label under test (only the service's own rules change labels; the fixture
            // sets it directly to cover every label).
            let case_id: sx_domain::CaseId = id.parse().unwrap();
            let stored = app.state.store.get_case(case_id).await.unwrap().unwrap();
            let mut case = stored.value.clone();
            case.tlp = label;
            app.state
                .store
                .update_case(&case, stored.version, &[], time::OffsetDateTime::now_utc())
                .await
                .unwrap();

            let mut comments = Vec::new();
            for (comment_label, submitter_only) in LABELS
                .iter()
                .map(|l| (*l, false))
                .chain([(TlpLabel::Red, true)])
            {
                let marker = format!("Comment{}", token());
                let mut body = json!({
                    "body": format!("note {marker}"),
                    "tlp": comment_label.as_str(),
                });
                if submitter_only {
                    body["recipients"] = json!([submitter.user.id]);
                }
                let r = submitter
                    .post(&app, &format!("/api/v1/cases/{id}/comments"), body)
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
                comments.push(FixtureComment {
                    marker,
                    label: comment_label,
                    submitter_only,
                });
            }
            cases.push(FixtureCase {
                id,
                label,
                markers,
                comments,
                review_id,
                extension_id,
            });
        }
        let users = vec![
            (Role::Anonymous, None),
            (Role::Submitter, Some(submitter)),
            (Role::OtherMaintainer, Some(other_maintainer)),
            (Role::SubgroupExpert, Some(subgroup_expert)),
            (Role::ConflictedExpert, Some(conflicted)),
            (Role::OutsiderExpert, Some(outsider)),
            (Role::AssignedExpert, Some(assigned)),
            (Role::Coordinator, Some(coordinator)),
            (Role::Admin, Some(admin)),
        ];
        assert_eq!(users.len(), Role::ALL.len());
        let mut sessions = Vec::new();
        for (role, user) in &users {
            if let Some(u) = user {
                let session = sx_server::accounts::start_session(
                    &app.state,
                    u.user.id,
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .unwrap();
                sessions.push((*role, session.secret));
            }
        }
        Fixture {
            app,
            users,
            sessions,
            cases,
            missing_id: uuid::Uuid::now_v7().to_string(),
        }
    }

    fn token_of(&self, role: Role) -> Option<&str> {
        self.users
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, u)| u.as_ref())
            .map(|u| u.token.as_str())
    }

    /// The path with the case's ids filled in (`case = None`: a case that does not exist).
    fn fill(&self, path: &str, case: Option<&FixtureCase>) -> String {
        let (id, review, extension) = match case {
            Some(c) => (c.id.as_str(), c.review_id.as_str(), c.extension_id.as_str()),
            None => (
                self.missing_id.as_str(),
                self.missing_id.as_str(),
                self.missing_id.as_str(),
            ),
        };
        path.replace("{id}", id)
            .replace("{review_id}", review)
            .replace("{extension_id}", extension)
    }

    async fn call(&self, entry: &Entry, path: &str, role: Role, body: Option<Value>) -> Answer {
        let mut builder = Request::builder()
            .method(entry.method.parse::<Method>().unwrap())
            .uri(path);
        if entry.cookie {
            if let Some((_, secret)) = self.sessions.iter().find(|(r, _)| *r == role) {
                builder = builder.header(header::COOKIE, format!("sx_session={secret}"));
            }
        } else if let Some(token) = self.token_of(role) {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .unwrap();
        let r = self.app.send_raw(request).await;
        Answer {
            status: r.0,
            body: r.1,
        }
    }

    /// Every marker `role` must not see, with where it comes from.
    fn hidden_from(&self, role: Role) -> Vec<(&str, &FixtureCase)> {
        self.cases
            .iter()
            .flat_map(|c| c.hidden_from(role).into_iter().map(move |m| (m, c)))
            .collect()
    }

    fn assert_no_leak(&self, role: Role, what: &str, answer: &Answer) {
        for (marker, case) in self.hidden_from(role) {
            assert!(
                !answer.body.contains(marker),
                "LEAK: {role:?} on {what} sees {marker} of the {} case: {}",
                case.label.as_str(),
                answer.body
            );
        }
    }
}

/// Status and raw body (JSON, HTML, Atom, CSV: the leak check is textual).
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: String,
}

impl Answer {
    /// The body with the case's ids replaced, to compare with the missing case's answer.
    fn normalized(&self, f: &Fixture, case: Option<&FixtureCase>) -> (StatusCode, String) {
        let mut body = self.body.clone();
        if let Some(c) = case {
            for id in [&c.id, &c.review_id, &c.extension_id] {
                body = body.replace(id.as_str(), "{ID}");
            }
        }
        (
            self.status,
            blank_nonces(&body.replace(&f.missing_id, "{ID}")),
        )
    }
}

/// Blanks per-response values (CSP nonces) so two HTML answers can be compared.
fn blank_nonces(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("nonce=\"") {
        let (head, tail) = rest.split_at(at + "nonce=\"".len());
        out.push_str(head);
        match tail.find('"') {
            Some(end) => rest = &tail[end..],
            None => {
                rest = tail;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

crate::both_backends!(
    every_endpoint_has_a_matrix_entry,
    no_endpoint_shows_any_role_a_case_or_comment_its_label_does_not_admit,
);

async fn every_endpoint_has_a_matrix_entry() {
    let routed: BTreeSet<(String, String)> = sx_server::routes::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let in_matrix: BTreeSet<(String, String)> = API
        .iter()
        .map(|e| {
            let path = e.path.split('?').next().unwrap_or(e.path);
            (e.method.to_string(), path.to_string())
        })
        .collect();
    let missing: Vec<_> = routed.difference(&in_matrix).collect();
    assert!(
        missing.is_empty(),
        "routes without an entry in tlp_matrix::API (add one saying how the route touches cases): {missing:?}"
    );
    let stale: Vec<_> = in_matrix.difference(&routed).collect();
    assert!(
        stale.is_empty(),
        "tlp_matrix::API names routes that do not exist: {stale:?}"
    );
    // Registered pages must be served (not the API's "no such endpoint" fallback).
    let app = TestApp::new().await;
    for entry in PAGES {
        let path = entry
            .path
            .replace("{id}", "0190f5c4-0000-7000-8000-000000000000");
        let r = app
            .call(entry.method.parse().unwrap(), &path, None, None)
            .await;
        assert!(
            !(r.status == StatusCode::NOT_FOUND
                && r.json["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such endpoint")),
            "tlp_matrix::PAGES names {} {}, which is not routed",
            entry.method,
            entry.path
        );
    }
}

async fn no_endpoint_shows_any_role_a_case_or_comment_its_label_does_not_admit() {
    let f = Fixture::build().await;
    let entries: Vec<&Entry> = API.iter().chain(PAGES).collect();
    let mut checks = 0usize;

    // Reads first: nothing below changes a case.
    for entry in &entries {
        for role in Role::ALL {
            match entry.scope {
                Scope::CaseRead | Scope::CommentsRead => {
                    let what = format!("{} {}", entry.method, entry.path);
                    let missing = f.call(entry, &f.fill(entry.path, None), role, None).await;
                    assert_eq!(
                        missing.status,
                        StatusCode::NOT_FOUND,
                        "{role:?} on {what} for a missing case"
                    );
                    for case in &f.cases {
                        let label = case.label.as_str();
                        let answer = f
                            .call(entry, &f.fill(entry.path, Some(case)), role, None)
                            .await;
                        checks += 1;
                        f.assert_no_leak(role, &what, &answer);
                        if case.visible_to(role) {
                            assert_eq!(
                                answer.status,
                                StatusCode::OK,
                                "{role:?} may read the {label} case on {what}: {}",
                                answer.body
                            );
                            if let Scope::CommentsRead = entry.scope {
                                for c in case
                                    .comments
                                    .iter()
                                    .filter(|c| case.comment_visible_to(c, role))
                                {
                                    assert!(
                                        answer.body.contains(&c.marker),
                                        "{role:?} may read the {} comment on the {label} case: {}",
                                        c.label.as_str(),
                                        answer.body
                                    );
                                }
                            } else if entry.path.ends_with("/change") {
                                assert!(answer.body.contains(&case.markers[2]), "{role:?}: {what}");
                            } else {
                                assert!(answer.body.contains(&case.markers[0]), "{role:?}: {what}");
                            }
                        } else {
                            assert_eq!(
                                answer.normalized(&f, Some(case)),
                                missing.normalized(&f, None),
                                "{role:?} on {what}: the {label} case must answer exactly like a missing one"
                            );
                        }
                    }
                }
                Scope::PublicStub => {
                    let what = format!("{} {}", entry.method, entry.path);
                    let missing = f.call(entry, &f.fill(entry.path, None), role, None).await;
                    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{role:?} on {what}");
                    for case in &f.cases {
                        let answer = f
                            .call(entry, &f.fill(entry.path, Some(case)), role, None)
                            .await;
                        checks += 1;
                        f.assert_no_leak(role, &what, &answer);
                        assert_eq!(answer.status, StatusCode::OK, "{role:?} on {what}");
                        assert!(answer.body.contains(&case.id), "{role:?} on {what}");
                        assert!(
                            answer.body.contains("\"state\":\"sealed\""),
                            "{role:?} on {what}: {}",
                            answer.body
                        );
                        // Unpublished: no content for anyone, whatever their own access.
                        for marker in case
                            .markers
                            .iter()
                            .chain(case.comments.iter().map(|c| &c.marker))
                        {
                            assert!(
                                !answer.body.contains(marker.as_str()),
                                "LEAK: {role:?} on {what} sees {marker} in the public stub of the {} case",
                                case.label.as_str()
                            );
                        }
                    }
                }
                Scope::CasePage => {
                    let what = format!("{} {}", entry.method, entry.path);
                    let missing = f.call(entry, &f.fill(entry.path, None), role, None).await;
                    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{role:?} on {what}");
                    assert!(!missing.body.contains("sealed-stub"), "{role:?} on {what}");
                    for case in &f.cases {
                        let label = case.label.as_str();
                        let answer = f
                            .call(entry, &f.fill(entry.path, Some(case)), role, None)
                            .await;
                        checks += 1;
                        f.assert_no_leak(role, &what, &answer);
                        assert_eq!(answer.status, StatusCode::OK, "{role:?} on {what}");
                        if case.visible_to(role) {
                            assert!(
                                answer.body.contains(&case.markers[0]),
                                "{role:?} may read the {label} case on {what}: {}",
                                answer.body
                            );
                            assert!(!answer.body.contains("sealed-stub"), "{role:?} on {what}");
                        } else {
                            assert!(
                                answer.body.contains("id=\"sealed-stub\""),
                                "{role:?} on {what}: the {label} case must show its public stub: {}",
                                answer.body
                            );
                            for marker in case
                                .markers
                                .iter()
                                .chain(case.comments.iter().map(|c| &c.marker))
                            {
                                assert!(
                                    !answer.body.contains(marker.as_str()),
                                    "LEAK: {role:?} on {what} sees {marker} in the stub of the {label} case"
                                );
                            }
                        }
                    }
                }
                Scope::Across => {
                    let answer = f.call(entry, entry.path, role, None).await;
                    checks += 1;
                    f.assert_no_leak(role, &format!("{} {}", entry.method, entry.path), &answer);
                }
                Scope::NoCaseData(body) => {
                    let answer = f
                        .call(entry, &f.fill(entry.path, None), role, body(&f))
                        .await;
                    checks += 1;
                    f.assert_no_leak(role, &format!("{} {}", entry.method, entry.path), &answer);
                }
                Scope::CaseWrite(_) => {}
            }
        }
    }

    // Writes by everyone who may not see the case: the missing-case answer, no change.
    let versions = case_versions(&f).await;
    for entry in &entries {
        let Scope::CaseWrite(body) = entry.scope else {
            continue;
        };
        let what = format!("{} {}", entry.method, entry.path);
        for role in Role::ALL {
            let missing = f
                .call(entry, &f.fill(entry.path, None), role, body(&f))
                .await;
            assert!(
                !missing.status.is_success(),
                "{role:?} on {what} for a missing case"
            );
            for case in f.cases.iter().filter(|c| !c.visible_to(role)) {
                let answer = f
                    .call(entry, &f.fill(entry.path, Some(case)), role, body(&f))
                    .await;
                checks += 1;
                f.assert_no_leak(role, &what, &answer);
                assert_eq!(
                    answer.normalized(&f, Some(case)),
                    missing.normalized(&f, None),
                    "{role:?} on {what}: the {} case must answer exactly like a missing one",
                    case.label.as_str()
                );
            }
        }
    }
    assert_eq!(
        versions,
        case_versions(&f).await,
        "a write by someone who may not see a case changed it"
    );
    // 9 roles × 5 labels × 3 case reads, plus writes and lists: the matrix really ran.
    assert!(checks > 300, "only {checks} checks ran");
}

async fn case_versions(f: &Fixture) -> Vec<i64> {
    let mut versions = Vec::new();
    for c in &f.cases {
        let stored = f
            .app
            .state
            .store
            .get_case(c.id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        versions.push(stored.version);
    }
    versions
}
