//! The web UI, in process: pages by role, checked by CSS selector; forms with and without
//! their CSRF token; Post/Redirect/Get; hostile file names, lines and messages escaped with
//! their invisible characters drawn as markers; TLP on every read.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use scraper::{Html, Selector};
use sx_domain::{Role, User};
use sx_server::security::PAGE_CONTENT_SECURITY_POLICY;
use sx_store::Store;
use time::OffsetDateTime;
use tower::ServiceExt;

use crate::util::{DODGY_DIFF, TestApp};

crate::both_backends!(
    public_pages_are_html_with_the_strict_policy_and_no_script,
    unknown_paths_get_an_html_404_while_the_api_keeps_json,
    static_assets_are_embedded_and_cached_by_version,
    a_maintainer_registers_logs_in_and_forwards_a_change_through_the_forms,
    forms_without_the_csrf_token_change_nothing,
    the_case_page_shows_findings_at_their_lines_and_offers_only_allowed_actions,
    an_expert_claims_and_assesses_a_second_expert_reviews_and_the_maintainer_decides,
    hostile_names_lines_and_messages_are_escaped_and_hidden_characters_are_marked,
    sealed_cases_show_strangers_only_their_public_stub_and_published_ones_are_public,
    untitled_changes_are_called_case_and_short_id_on_the_case_page_queue_and_lists,
    queue_rows_show_title_project_subgroup_band_time_left_and_claim,
    only_the_claiming_expert_is_offered_release_and_releasing_returns_the_case,
    settings_change_the_password_and_issue_and_revoke_tokens,
    the_admin_page_is_for_staff_and_its_invitations_open_accounts,
    the_log_page_shows_entries_and_how_to_verify,
);

/// A fetched page.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

#[allow(dead_code, reason = "helpers shared with the other page test modules")]
impl Page {
    fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    pub fn count(&self, selector: &str) -> usize {
        let s = Selector::parse(selector).unwrap();
        self.html().select(&s).count()
    }

    pub fn texts(&self, selector: &str) -> Vec<String> {
        let s = Selector::parse(selector).unwrap();
        self.html()
            .select(&s)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    }

    pub fn text(&self, selector: &str) -> String {
        self.texts(selector).join(" ")
    }

    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let s = Selector::parse(selector).unwrap();
        self.html()
            .select(&s)
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_string))
    }

    pub fn csrf(&self) -> String {
        self.attr("input[name=csrf]", "value")
            .expect("the page has a form with a csrf field")
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    pub fn assert_html(&self) {
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            self.headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            PAGE_CONTENT_SECURITY_POLICY
        );
        assert_eq!(self.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(self.count("script"), 0, "no script at all");
        assert_eq!(self.count("[style]"), 0, "no inline style attribute");
        assert_eq!(self.count("style"), 0, "no inline style element");
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A browser: keeps cookies, follows nothing by itself.
pub struct Browser {
    router: Router,
    pub cookies: BTreeMap<String, String>,
}

#[allow(dead_code, reason = "helpers shared with the other page test modules")]
impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            router: sx_server::routes::router(app.state.clone()),
            cookies: BTreeMap::new(),
        }
    }

    /// A browser with a logged-in session for `user` (as the login form would create).
    pub async fn signed_in(app: &TestApp, user: &User) -> Browser {
        let mut b = Browser::new(app);
        let session =
            sx_server::accounts::start_session(&app.state, user.id, OffsetDateTime::now_utc())
                .await
                .unwrap();
        b.cookies.insert("sx_session".into(), session.secret);
        b
    }

    /// [`Browser::signed_in`], with the session's CSRF token (read from the home page).
    pub async fn signed_in_with_csrf(app: &TestApp, user: &User) -> (Browser, String) {
        let mut b = Browser::signed_in(app, user).await;
        let csrf = b.get("/").await.csrf();
        (b, csrf)
    }

    async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        for v in response.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        Page {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = Request::builder()
            .uri(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let boundary = "sx-test-boundary-7f3a";
        let mut body = String::new();
        for (k, v) in fields {
            if *k == "file" {
                body.push_str(&format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pr.patch\"\r\nContent-Type: text/x-patch\r\n\r\n{v}\r\n"
                ));
            } else {
                body.push_str(&format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, self.cookie_header())
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Posts `/admin`'s create-subgroup form for a subgroup taking `language`.
    pub async fn create_subgroup(
        &mut self,
        csrf: &str,
        slug: &str,
        name: &str,
        language: &str,
    ) -> Page {
        let fields = [
            ("csrf", csrf),
            ("slug", slug),
            ("name", name),
            ("language", language),
        ];
        self.post("/admin/subgroups", &fields).await
    }

    /// Posts a membership form of `/admin` (`path` adds or removes) for subgroup `python`.
    pub async fn membership(&mut self, path: &str, csrf: &str, handle: &str) -> Page {
        let fields = [("csrf", csrf), ("subgroup", "python"), ("handle", handle)];
        self.post(path, &fields).await
    }

    /// Forwards `diff` through the submit form; returns the new case's id.
    pub async fn submit(&mut self, diff: &str, concern: &str) -> String {
        let form = self.get("/submit").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.csrf();
        let r = self
            .post_multipart(
                "/submit",
                &[
                    ("csrf", &csrf),
                    ("forge", "github"),
                    ("project", "acme/widget"),
                    ("diff", ""),
                    ("file", diff),
                    ("concern", concern),
                    ("suspicion", "4"),
                    ("author", "newcomer42"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let id = r
            .location()
            .strip_prefix("/cases/")
            .and_then(|rest| rest.split('?').next())
            .unwrap()
            .to_string();
        assert!(
            r.location().ends_with("?done=submitted"),
            "{}",
            r.location()
        );
        id
    }
}

async fn public_pages_are_html_with_the_strict_policy_and_no_script() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    for path in ["/", "/login", "/register", "/cases", "/log"] {
        let p = b.get(path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
        p.assert_html();
        assert_eq!(p.count("main#main h1"), 1, "{path} has one headline");
        assert_eq!(p.attr("html", "lang").as_deref(), Some("en"));
        assert!(
            p.attr("link[rel=stylesheet]", "href")
                .unwrap()
                .starts_with("/static/style.css?v="),
            "{path}"
        );
    }
    let home = b.get("/").await;
    assert_eq!(home.attr("a.button", "href").as_deref(), Some("/submit"));
    assert_eq!(home.text("#median"), "no data yet");
    // The anonymous visitor got a form cookie for the login form's CSRF token.
    assert!(b.cookies.contains_key("sx_form"));
    // Pages for signed-in users send anonymous visitors to the login page, and back.
    for path in ["/submit", "/queue", "/settings", "/admin"] {
        let p = b.get(path).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(p.location(), format!("/login?next={path}"));
    }
}

async fn unknown_paths_get_an_html_404_while_the_api_keeps_json() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    let p = b.get("/no/such/page").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    p.assert_html();
    assert_eq!(p.text("h1"), "Page not found");
    let api = b.get("/api/v1/no-such-endpoint").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.body.contains("\"code\":\"not_found\""), "{}", api.body);
    let bad_method = b.post("/cases", &[]).await;
    assert_eq!(bad_method.status, StatusCode::METHOD_NOT_ALLOWED);
    bad_method.assert_html();
    let not_a_case = b.get("/cases/not-a-uuid").await;
    assert_eq!(not_a_case.status, StatusCode::NOT_FOUND);
    not_a_case.assert_html();
}

async fn static_assets_are_embedded_and_cached_by_version() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    let home = b.get("/").await;
    let css_url = home.attr("link[rel=stylesheet]", "href").unwrap();
    let css = b.get(&css_url).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        css.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/css; charset=utf-8"
    );
    assert_eq!(
        css.headers.get(header::CACHE_CONTROL).unwrap(),
        "public, max-age=31536000, immutable"
    );
    assert!(css.body.contains(".tlp-banner"));
    let unversioned = b.get("/static/style.css").await;
    assert_eq!(
        unversioned.headers.get(header::CACHE_CONTROL).unwrap(),
        "public, max-age=3600"
    );
    let logo = b.get(&home.attr("link[rel=icon]", "href").unwrap()).await;
    assert_eq!(
        logo.headers.get(header::CONTENT_TYPE).unwrap(),
        "image/svg+xml"
    );
    assert_eq!(
        b.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(b.get("/static/nope.js").await.status, StatusCode::NOT_FOUND);
}

async fn a_maintainer_registers_logs_in_and_forwards_a_change_through_the_forms() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    let form = b.get("/register").await;
    let csrf = form.csrf();
    // A refused registration shows the API's reason in the page, keeping what was typed.
    let short = b
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("handle", "maria"),
                ("password", "short"),
                ("password_again", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.text("#form-error").contains("at least 12"),
        "{}",
        short.body
    );
    assert_eq!(short.attr("#handle", "value").as_deref(), Some("maria"));
    let r = b
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("handle", "maria"),
                ("display_name", "Maria M."),
                ("password", "a long enough passphrase"),
                ("password_again", "a long enough passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/submit");
    assert!(b.cookies.contains_key("sx_session"), "registering logs in");
    let id = b
        .submit(DODGY_DIFF, "a first-time contributor added an install hook")
        .await;
    let case = b.get(&format!("/cases/{id}?done=submitted")).await;
    assert_eq!(case.status, StatusCode::OK);
    case.assert_html();
    assert!(case.text("#notice").starts_with("Forwarded."));
    assert_eq!(case.text(".tlp-banner .tlp"), "TLP:AMBER+STRICT");
    assert!(case.text("#automated").contains("analyzer is reading"));

    // Log out (a POST with the token), then log in again through the form.
    let home = b.get("/").await;
    let out = b.post("/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("sx_session"));
    // Logged out, the case is only its public stub, which offers the way back in.
    let stub = b.get(&format!("/cases/{id}")).await;
    assert_eq!(stub.count("#sealed-stub"), 1);
    assert!(!stub.body.contains("install hook"));
    let login_link = stub.attr("#sealed-stub a.button", "href").unwrap();
    assert_eq!(login_link, format!("/login?next=/cases/{id}"));
    let login = b.get(&login_link).await;
    let wrong = b
        .post(
            "/login",
            &[
                ("csrf", &login.csrf()),
                ("handle", "maria"),
                ("password", "not the password"),
                ("next", &format!("/cases/{id}")),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text("#form-error"), "wrong handle or password");
    let ok = b
        .post(
            "/login",
            &[
                ("csrf", &login.csrf()),
                ("handle", "maria"),
                ("password", "a long enough passphrase"),
                ("next", &format!("/cases/{id}")),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), format!("/cases/{id}"));
    // `next` cannot send the visitor to another site.
    let login = b.get("/login").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "already logged in");
    let mut other = Browser::new(&app);
    let form = other.get("/login").await;
    let offsite = other
        .post(
            "/login",
            &[
                ("csrf", &form.csrf()),
                ("handle", "maria"),
                ("password", "a long enough passphrase"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(offsite.location(), "/");
}

async fn forms_without_the_csrf_token_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let expert = app.expert("erin").await;
    app.javascript_subgroup(&[&expert]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;

    let mut anon = Browser::new(&app);
    let r = anon
        .post(
            "/login",
            &[("handle", "alice"), ("password", "whatever it is")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the login form needs its token"
    );
    r.assert_html();

    let mut erin = Browser::signed_in(&app, &expert.user).await;
    for token in ["", "forged-token"] {
        let r = erin
            .post(&format!("/cases/{id}/claim"), &[("csrf", token)])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.text("h1"), "The form expired");
    }
    let case = erin.get(&format!("/cases/{id}")).await;
    assert_eq!(case.text("#case-status"), "triaged", "nothing changed");
    // Another visitor's token does not work either.
    let mut other = Browser::signed_in(&app, &alice.user).await;
    let alices = other.get("/").await.csrf();
    let r = erin
        .post(&format!("/cases/{id}/claim"), &[("csrf", &alices)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn the_case_page_shows_findings_at_their_lines_and_offers_only_allowed_actions() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let expert = app.expert("erin").await;
    let outsider = app.expert("oscar").await;
    app.javascript_subgroup(&[&expert]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;

    let mut maintainer = Browser::signed_in(&app, &alice.user).await;
    let page = maintainer.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_html();
    assert!(["high", "review", "low"].contains(&page.text("#risk-band").as_str()));
    // Findings sit in the diff right after the line they name, with a doc link.
    assert!(page.count("table.diff tr.finding") >= 1, "{}", page.body);
    let setup_line = page.text("#f1-L2 td.c");
    assert!(setup_line.contains("eval(p)"), "{setup_line}");
    assert!(page.count("#f1-L2.flagged") + page.count("#f1-L1.flagged") >= 1);
    let doc = page.attr("tr.finding a[href^='/detectors/']", "href");
    assert!(doc.is_some(), "findings link to their detector's page");
    // Line numbers: new file lines 1 and 2.
    assert_eq!(page.texts("#f1 tr.add td.n:nth-child(2)"), vec!["1", "2"]);
    // The maintainer may decide and comment, not claim or assess.
    assert_eq!(page.count("#decide-form"), 1);
    assert_eq!(page.count("#comment-form"), 1);
    assert_eq!(page.count("#claim-form"), 0);
    assert_eq!(page.count("#assess-form"), 0);
    assert!(
        page.text("#sla .clock").ends_with("left"),
        "{}",
        page.text("#sla")
    );
    assert!(page.count("#timeline li") >= 2);

    // The routed expert may claim, nothing else yet.
    let mut erin = Browser::signed_in(&app, &expert.user).await;
    let page = erin.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.count("#claim-form"), 1);
    assert_eq!(page.count("#decide-form"), 0);
    assert_eq!(page.count("#assess-form"), 0);

    // An expert outside the case's subgroups does not see it: only its public stub.
    let mut oscar = Browser::signed_in(&app, &outsider.user).await;
    let stub = oscar.get(&format!("/cases/{id}")).await;
    assert_eq!(stub.status, StatusCode::OK);
    assert_eq!(stub.count("#sealed-stub"), 1);
    assert!(!stub.body.contains("eval(p)") && !stub.body.contains("setup.js"));
    assert_eq!(stub.count("#claim-form"), 0);
    assert_eq!(oscar.get("/queue").await.count("#queue-empty"), 1);
}

async fn an_expert_claims_and_assesses_a_second_expert_reviews_and_the_maintainer_decides() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let erin = app.expert("erin").await;
    let sam = app.expert("sam").await;
    app.javascript_subgroup(&[&erin, &sam]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let case_url = format!("/cases/{id}");

    let mut e = Browser::signed_in(&app, &erin.user).await;
    let queue = e.get("/queue").await;
    assert_eq!(queue.status, StatusCode::OK);
    queue.assert_html();
    assert_eq!(
        queue.attr("#queue tbody tr a", "href").as_deref(),
        Some(case_url.as_str())
    );
    assert!(queue.text("#queue .time-left").ends_with("left"));
    let page = e.get(&case_url).await;
    let r = e
        .post(&format!("{case_url}/claim"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("{case_url}?done=claimed#actions"));
    let page = e.get(&format!("{case_url}?done=claimed")).await;
    assert_eq!(page.text("#case-status"), "claimed");
    assert_eq!(page.count("#claim-form"), 0);
    assert_eq!(page.count("#assess-form"), 1);
    // A refused assessment (no summary) renders the case page with the API's reason.
    let csrf = page.csrf();
    let incomplete = e
        .post(
            &format!("{case_url}/assess"),
            &[
                ("csrf", &csrf),
                ("verdict", "malicious"),
                ("confidence", "high"),
                ("summary", ""),
                ("rationale", "eval of a decoded blob"),
                ("thoroughness", "high"),
                ("understanding", "high"),
            ],
        )
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        incomplete.text("#form-error").contains("summary"),
        "{}",
        incomplete.text("#form-error")
    );
    let r = e
        .post(
            &format!("{case_url}/assess"),
            &[
                ("csrf", &csrf),
                ("verdict", "malicious"),
                ("confidence", "high"),
                ("summary", "The install hook evaluates a decoded blob."),
                (
                    "rationale",
                    "lib/setup.js decodes base64 and passes it to eval.",
                ),
                (
                    "recommended_actions",
                    "reject the pull request\nreport the account",
                ),
                ("references", ""),
                ("time_spent_minutes", "25"),
                ("thoroughness", "high"),
                ("understanding", "high"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = e.get(&case_url).await;
    assert_eq!(page.text("#case-status"), "assessed");
    assert_eq!(page.text("#verdict"), "malicious");
    assert_eq!(
        page.count(".assessment li"),
        2,
        "recommended actions listed"
    );
    assert_eq!(page.count(".second-review-form"), 0, "not for the author");

    // The second expert gives the automatic second review.
    let mut s = Browser::signed_in(&app, &sam.user).await;
    let page = s.get(&case_url).await;
    assert_eq!(page.count(".second-review-form"), 1, "{}", page.body);
    let action = page.attr(".second-review-form", "action").unwrap();
    let r = s
        .post(
            &action,
            &[
                ("csrf", &page.csrf()),
                ("verdict", "malicious"),
                ("note", "agree"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&case_url).await;
    assert!(
        page.text("#assessments").contains("final"),
        "{}",
        page.text("#assessments")
    );

    // The maintainer decides; the case waits for publication.
    let mut m = Browser::signed_in(&app, &alice.user).await;
    let page = m.get(&case_url).await;
    assert!(page.text("#assessments").contains("agrees"));
    let r = m
        .post(
            &format!("{case_url}/decide"),
            &[
                ("csrf", &page.csrf()),
                ("outcome", "rejected"),
                ("note", "closed the PR"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = m.get(&case_url).await;
    assert_eq!(page.text("#case-status"), "decided");
    assert!(page.text("#decision").contains("rejected"));
    assert_eq!(page.count("#decide-form"), 0, "decided once");
    // A comment with its own label.
    let r = m
        .post(
            &format!("{case_url}/comment"),
            &[
                ("csrf", &page.csrf()),
                ("body", "Thanks, both."),
                ("tlp", "red"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = m.get(&case_url).await;
    assert_eq!(page.text("#comments .comment .tlp"), "TLP:RED");
}

const HOSTILE_DIFF: &str =
    "diff --git a/<img src=x onerror=alert(1)>.js b/<img src=x onerror=alert(1)>.js
new file mode 100644
--- /dev/null
+++ b/<img src=x onerror=alert(1)>.js
@@ -0,0 +1,3 @@
+const ok = \"<script>alert('diff')</script>\";
+if (user.role == \"admin\u{202e} \u{2066}// check later\u{2069} \u{2066}\") { grant(); }
+const tok\u{200b}en = 1;
";

async fn hostile_names_lines_and_messages_are_escaped_and_hidden_characters_are_marked() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let mut m = Browser::signed_in(&app, &alice.user).await;
    let id = m
        .submit(
            HOSTILE_DIFF,
            "<b>bold</b> <script>alert('concern')</script>\u{202e}",
        )
        .await;
    app.run_jobs().await;
    let case_url = format!("/cases/{id}");
    let page = m.get(&case_url).await;
    let comment = page.csrf();
    let r = m
        .post(
            &format!("{case_url}/comment"),
            &[
                ("csrf", &comment),
                ("body", "<iframe src=//evil.example></iframe>\u{200b}"),
                ("tlp", "amber-strict"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = m.get(&case_url).await;
    page.assert_html();
    for raw in [
        "<script>alert",
        "<img src=x",
        "<iframe",
        "<b>bold",
        "\u{202e}",
        "\u{2066}",
        "\u{200b}",
    ] {
        assert!(
            !page.body.contains(raw),
            "{raw:?} reached the page unescaped"
        );
    }
    assert_eq!(page.count("img"), 1, "only the logo");
    assert_eq!(page.count("iframe"), 0);
    // The file name and the lines are shown as text, the hidden characters as markers.
    assert!(
        page.text(".diff-file .path")
            .contains("<img src=x onerror=alert(1)>.js")
    );
    assert!(
        page.text("#f0-L1 td.c")
            .contains("<script>alert('diff')</script>")
    );
    let markers = page.texts("#f0-L2 .hidden-char");
    assert_eq!(markers, vec!["U+202E", "U+2066", "U+2069", "U+2066"]);
    assert_eq!(page.texts("#f0-L3 .hidden-char"), vec!["U+200B"]);
    assert!(
        page.text(".diff-file header")
            .contains("invisible character")
    );
    assert_eq!(page.texts("#concern .hidden-char"), vec!["U+202E"]);
    assert!(
        page.text("#concern")
            .contains("<script>alert('concern')</script>")
    );
    assert_eq!(page.texts("#comments .hidden-char"), vec!["U+200B"]);
    // The analyzer flagged the bidi control at its line.
    assert!(
        page.texts("#f0-L2 + tr.finding code")
            .iter()
            .any(|t| t == "unicode-bidi-control"),
        "{}",
        page.text("tr.finding")
    );
    // The queue and the published list show the project, never raw markup.
    let list = m.get("/cases").await;
    assert!(!list.body.contains("<script>alert"));
}

async fn sealed_cases_show_strangers_only_their_public_stub_and_published_ones_are_public() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let mallory = app.maintainer("mallory").await;
    let expert = app.expert("erin").await;
    app.javascript_subgroup(&[&expert]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let case_url = format!("/cases/{id}");
    let mut anon = Browser::new(&app);
    let mut stranger = Browser::signed_in(&app, &mallory.user).await;
    let short = &id[id.len() - 8..];
    for (b, signed_in) in [(&mut anon, false), (&mut stranger, true)] {
        let p = b.get(&case_url).await;
        assert_eq!(p.status, StatusCode::OK, "the public stub, not a 404");
        p.assert_html();
        assert_eq!(p.count("#sealed-stub"), 1, "{}", p.body);
        // Status, label and dates; nothing of the content.
        assert_eq!(p.text("#case-status"), "sealed");
        assert_eq!(p.text("h1"), format!("Case {short}"));
        assert_eq!(p.text(".tlp-banner .tlp"), "TLP:CLEAR");
        let facts = p.text("#stub-facts");
        for want in [
            "sealed, not yet published",
            "Publishes",
            "JavaScript and npm",
        ] {
            assert!(facts.contains(want), "{want}: {facts}");
        }
        assert_eq!(p.count("#stub-facts time[datetime]"), 1);
        for secret in [
            "setup.js",
            "eval(p)",
            "postinstall",
            "install hook",
            "acme",
            "widget",
            "newcomer42",
            "alice",
        ] {
            assert!(!p.body.contains(secret), "the stub leaks {secret:?}");
        }
        for form in ["#claim-form", "#decide-form", "#comment-form", "#diff"] {
            assert_eq!(p.count(form), 0, "{form}");
        }
        // The anonymous visitor is offered the login, back to this case.
        let login = p.attr("#sealed-stub a.button", "href");
        if signed_in {
            assert_eq!(login, None);
        } else {
            assert_eq!(
                login.as_deref(),
                Some(format!("/login?next={case_url}").as_str())
            );
        }
    }
    // No such case: still 404.
    let missing = anon
        .get("/cases/0190f5c4-0000-7000-8000-000000000000")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.count("#sealed-stub"), 0);
    // Forms on the case still answer as for a missing case to those who may not see it.
    let csrf = stranger.get("/").await.csrf();
    let r = stranger
        .post(
            &format!("{case_url}/comment"),
            &[("csrf", &csrf), ("body", "x"), ("tlp", "red")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(anon.get("/cases").await.count("#no-cases"), 1);

    // The maintainer decides; the publication job publishes it.
    let mut m = Browser::signed_in(&app, &alice.user).await;
    let page = m.get(&case_url).await;
    let r = m
        .post(
            &format!("{case_url}/decide"),
            &[("csrf", &page.csrf()), ("outcome", "merged"), ("note", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    app.run_jobs().await;
    let p = anon.get(&case_url).await;
    assert_eq!(p.status, StatusCode::OK, "published cases are public");
    assert_eq!(p.text(".tlp-banner .tlp"), "TLP:CLEAR");
    assert_eq!(p.count("#decide-form") + p.count("#comment-form"), 0);
    assert!(p.text("#timeline").contains("Published"));
    let list = anon.get("/cases").await;
    assert_eq!(
        list.attr("#published tbody a", "href").as_deref(),
        Some(case_url.as_str())
    );
    // Filters apply, and a bad filter says what is wrong.
    assert_eq!(
        anon.get("/cases?verdict=malicious")
            .await
            .count("#no-cases"),
        1
    );
    let bad = anon.get("/cases?vector=%3Cscript%3E").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text("#form-error").contains("attack vector"));
    assert_eq!(anon.get("/").await.count("#published tbody tr"), 1);
}

async fn settings_change_the_password_and_issue_and_revoke_tokens() {
    let app = TestApp::new().await;
    let user = sx_server::accounts::create_user(
        &app.state.store,
        sx_server::accounts::NewUser {
            handle: "maria".into(),
            display_name: None,
            password: Some("the first passphrase".into()),
            roles: [Role::Maintainer].into_iter().collect(),
        },
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let mut b = Browser::signed_in(&app, &user).await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_html();
    let csrf = page.csrf();
    let wrong = b
        .post(
            "/settings/password",
            &[
                ("csrf", &csrf),
                ("current", "not it at all"),
                ("password", "the second passphrase"),
                ("password_again", "the second passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.text("#form-error").contains("current password"));
    let ok = b
        .post(
            "/settings/password",
            &[
                ("csrf", &csrf),
                ("current", "the first passphrase"),
                ("password", "the second passphrase"),
                ("password_again", "the second passphrase"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/settings?done=password");
    let stored = app
        .state
        .store
        .get_user(user.id)
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(sx_server::accounts::verify_password(
        &stored,
        "the second passphrase"
    ));

    let created = b
        .post(
            "/settings/tokens",
            &[
                ("csrf", &csrf),
                ("name", "<laptop>"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.text("#new-token code.secret");
    assert!(secret.starts_with("sxp_"), "{secret}");
    assert_eq!(created.text("#tokens tbody td:first-child"), "<laptop>");
    // The token works against the API, until revoked.
    let me = app
        .call(Method::GET, "/api/v1/me", Some(&secret), None)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let revoke = created.attr("#tokens form", "action").unwrap();
    let r = b.post(&revoke, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = b.get("/settings?done=token-revoked").await;
    assert!(page.text("[role=status]").contains("revoked"));
    assert!(page.text("#tokens").contains("revoked"));
    let me = app
        .call(Method::GET, "/api/v1/me", Some(&secret), None)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);

    // A stale tab revoking it again, or a token id that never existed, lands back on the
    // settings page with a notice instead of the API's 404 page.
    for path in [revoke.as_str(), "/settings/tokens/no-such-token/revoke"] {
        let again = b.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(
            again.status,
            StatusCode::SEE_OTHER,
            "{path}: {}",
            again.body
        );
        assert_eq!(again.location(), "/settings?done=token-gone", "{path}");
    }
    let page = b.get("/settings?done=token-gone").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text("[role=status]").contains("already revoked"),
        "{}",
        page.body
    );
    assert_eq!(page.count("#form-error"), 0);
    // Without the form's CSRF token a stale revocation is still refused.
    let forged = b.post(&revoke, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

async fn the_admin_page_is_for_staff_and_its_invitations_open_accounts() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let coordinator = app.user("cora", &[Role::Coordinator]).await;
    let expert = app.expert("erin").await;
    app.javascript_subgroup(&[&expert]).await;

    let mut m = Browser::signed_in(&app, &alice.user).await;
    let p = m.get("/admin").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    p.assert_html();

    let mut c = Browser::signed_in(&app, &coordinator.user).await;
    let page = c.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_html();
    assert_eq!(
        page.texts("#subgroups tbody td:first-child"),
        vec!["JavaScript and npm"]
    );
    assert_eq!(
        page.count("select#role"),
        0,
        "coordinators invite experts only"
    );
    let found = c.get("/admin?user=erin").await;
    assert!(found.text("#found-user").contains("expert"));
    let r = c
        .post(
            "/admin/invitations",
            &[
                ("csrf", &page.csrf()),
                ("email", "new.expert@example.org"),
                ("subgroup", "javascript"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let link = r.text("#invitation code.secret");
    let path = link
        .split_once("/invite/")
        .map(|(_, t)| format!("/invite/{t}"))
        .unwrap();

    let mut invitee = Browser::new(&app);
    let form = invitee.get(&path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.text("main").contains("expert"));
    let r = invitee
        .post(
            &path,
            &[
                ("csrf", &form.csrf()),
                ("handle", "nora"),
                ("password", "nora's long passphrase"),
                ("password_again", "nora's long passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/queue");
    let queue = invitee.get("/queue").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.text("header.site .who"), "nora");
    // Used once.
    assert_eq!(
        Browser::new(&app).get(&path).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn the_log_page_shows_entries_and_how_to_verify() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    app.submit(&alice).await;
    app.run_jobs().await;
    let mut anon = Browser::new(&app);
    let page = anon.get("/log").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_html();
    assert!(page.count("#log tbody tr") >= 1, "{}", page.body);
    assert_eq!(page.text("#public-key").len(), 64);
    assert!(
        page.text("#log").contains("sealed"),
        "sealed entries are commitments"
    );
    assert!(
        !page.body.contains("setup.js"),
        "no sealed content in the log page"
    );
}

async fn untitled_changes_are_called_case_and_short_id_on_the_case_page_queue_and_lists() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let expert = app.expert("erin").await;
    app.javascript_subgroup(&[&expert]).await;
    // A plain diff (no commit message) and no title given.
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let short = &id[id.len() - 8..];
    let title = format!("Case {short}");
    let case_url = format!("/cases/{id}");

    let mut m = Browser::signed_in(&app, &alice.user).await;
    let page = m.get(&case_url).await;
    assert_eq!(page.text("#case-title"), title);
    assert_eq!(page.text("title"), format!("{title} · S-Express"));
    let mut e = Browser::signed_in(&app, &expert.user).await;
    let queue = e.get("/queue").await;
    assert_eq!(queue.text("#queue tbody a.case-link"), title);

    // Published, it keeps the name on the public list and the home page.
    let r = m
        .post(
            &format!("{case_url}/decide"),
            &[("csrf", &page.csrf()), ("outcome", "merged"), ("note", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    app.run_jobs().await;
    let mut anon = Browser::new(&app);
    assert_eq!(anon.get("/cases").await.text("#published tbody a"), title);
    assert_eq!(anon.get("/").await.text("#published tbody a"), title);

    // A change with a title keeps it.
    let mut body = crate::util::submission(DODGY_DIFF);
    body["title"] = serde_json::json!("Add telemetry hook");
    let r = alice.post(&app, "/api/v1/cases", body).await;
    let titled = r.json["id"].as_str().unwrap().to_string();
    let page = m.get(&format!("/cases/{titled}")).await;
    assert_eq!(page.text("#case-title"), "Add telemetry hook");
}

async fn queue_rows_show_title_project_subgroup_band_time_left_and_claim() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let erin = app.expert("erin").await;
    let sam = app.expert("sam").await;
    app.javascript_subgroup(&[&erin, &sam]).await;
    let mut body = crate::util::submission(DODGY_DIFF);
    body["title"] = serde_json::json!("Add <b>install</b> hook");
    let r = alice.post(&app, "/api/v1/cases", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_str().unwrap().to_string();
    app.run_jobs().await;

    let mut e = Browser::signed_in(&app, &erin.user).await;
    let queue = e.get("/queue").await;
    queue.assert_html();
    let headers = queue.texts("#queue thead th");
    assert_eq!(
        headers,
        vec![
            "Case",
            "Project",
            "Subgroups",
            "Automated",
            "Time left",
            "Claim"
        ]
    );
    assert_eq!(
        queue.text("#queue tbody a.case-link"),
        "Add <b>install</b> hook",
        "the title, escaped"
    );
    assert_eq!(queue.count("#queue tbody b"), 0);
    assert_eq!(queue.text("#queue td.project"), "acme/widget");
    assert_eq!(
        queue.text("#queue td[data-label=Subgroups]"),
        "JavaScript and npm"
    );
    assert_eq!(queue.count("#queue td[data-label=Automated] .badge"), 1);
    assert!(
        queue.text("#queue .time-left").ends_with("left"),
        "{}",
        queue.text("#queue .time-left")
    );
    assert!(queue.text("#queue .due").starts_with("due "));
    assert_eq!(queue.text("#queue td[data-label=Claim]"), "unclaimed");

    // Claimed: "claimed by you" for the claimant; the other expert no longer has it to do.
    let r = erin
        .post(
            &app,
            &format!("/api/v1/cases/{id}/claim"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let queue = e.get("/queue").await;
    assert_eq!(queue.text("#queue td[data-label=Claim]"), "claimed by you");
    let mut s2 = Browser::signed_in(&app, &sam.user).await;
    assert_eq!(s2.get("/queue").await.count("#queue-empty"), 1);
    // The API row carries the title too.
    let api = erin.get(&app, "/api/v1/queue").await;
    assert_eq!(api.json["items"][0]["title"], "Add <b>install</b> hook");
}

async fn only_the_claiming_expert_is_offered_release_and_releasing_returns_the_case() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let erin = app.expert("erin").await;
    let sam = app.expert("sam").await;
    app.javascript_subgroup(&[&erin, &sam]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let case_url = format!("/cases/{id}");

    let mut e = Browser::signed_in(&app, &erin.user).await;
    assert_eq!(
        e.get(&case_url).await.count("#release-form"),
        0,
        "nothing to release yet"
    );
    let page = e.get(&case_url).await;
    let r = e
        .post(&format!("{case_url}/claim"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = e.get(&case_url).await;
    assert_eq!(page.count("#release-form"), 1, "{}", page.body);
    assert_eq!(
        page.attr("#release-form", "action").as_deref(),
        Some(format!("{case_url}/unclaim").as_str())
    );
    // Nobody else is offered the release.
    for user in [&sam.user, &alice.user] {
        let mut b = Browser::signed_in(&app, user).await;
        assert_eq!(
            b.get(&case_url).await.count("#release-form"),
            0,
            "{}",
            user.handle
        );
    }
    // Without the token nothing changes; another expert's release is refused by the domain.
    let r = e
        .post(&format!("{case_url}/unclaim"), &[("csrf", "")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(e.get(&case_url).await.text("#case-status"), "claimed");
    let mut s2 = Browser::signed_in(&app, &sam.user).await;
    let sams = s2.get(&case_url).await.csrf();
    let r = s2
        .post(&format!("{case_url}/unclaim"), &[("csrf", &sams)])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(e.get(&case_url).await.text("#case-status"), "claimed");

    let r = e
        .post(&format!("{case_url}/unclaim"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("{case_url}?done=released#actions"));
    let page = e.get(&format!("{case_url}?done=released")).await;
    assert!(page.text("#notice").contains("released"));
    assert_eq!(page.text("#case-status"), "triaged");
    assert_eq!(page.count("#release-form"), 0);
    assert_eq!(page.count("#claim-form"), 1, "it can be claimed again");
    assert!(page.text("#timeline").contains("Released by the expert"));
    assert_eq!(
        s2.get("/queue").await.text("#queue td[data-label=Claim]"),
        "unclaimed"
    );

    // Once assessed, the claim cannot be released (the domain refuses; no button).
    let r = erin
        .post(
            &app,
            &format!("/api/v1/cases/{id}/claim"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = erin
        .post(
            &app,
            &format!("/api/v1/cases/{id}/assessments"),
            crate::util::assessment("benign"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(e.get(&case_url).await.count("#release-form"), 0);
}
