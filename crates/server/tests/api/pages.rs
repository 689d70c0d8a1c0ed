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
    sealed_cases_are_not_found_for_strangers_and_published_ones_are_public,
    settings_change_the_password_and_issue_and_revoke_tokens,
    the_admin_page_is_for_staff_and_its_invitations_open_accounts,
    the_log_page_shows_entries_and_how_to_verify,
);

/// A fetched page.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    fn count(&self, selector: &str) -> usize {
        let s = Selector::parse(selector).unwrap();
        self.html().select(&s).count()
    }

    fn texts(&self, selector: &str) -> Vec<String> {
        let s = Selector::parse(selector).unwrap();
        self.html()
            .select(&s)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    }

    fn text(&self, selector: &str) -> String {
        self.texts(selector).join(" ")
    }

    fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let s = Selector::parse(selector).unwrap();
        self.html()
            .select(&s)
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_string))
    }

    fn csrf(&self) -> String {
        self.attr("input[name=csrf]", "value")
            .expect("the page has a form with a csrf field")
    }

    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    fn assert_html(&self) {
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
struct Browser {
    router: Router,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            router: sx_server::routes::router(app.state.clone()),
            cookies: BTreeMap::new(),
        }
    }

    /// A browser with a logged-in session for `user` (as the login form would create).
    async fn signed_in(app: &TestApp, user: &User) -> Browser {
        let mut b = Browser::new(app);
        let session =
            sx_server::accounts::start_session(&app.state, user.id, OffsetDateTime::now_utc())
                .await
                .unwrap();
        b.cookies.insert("sx_session".into(), session.secret);
        b
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

    async fn get(&mut self, path: &str) -> Page {
        let request = Request::builder()
            .uri(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
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

    /// Forwards `diff` through the submit form; returns the new case's id.
    async fn submit(&mut self, diff: &str, concern: &str) -> String {
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
    assert_eq!(
        b.get(&format!("/cases/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let login = b.get(&format!("/login?next=/cases/{id}")).await;
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

    // An expert outside the case's subgroups does not see it at all.
    let mut oscar = Browser::signed_in(&app, &outsider.user).await;
    assert_eq!(
        oscar.get(&format!("/cases/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
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

async fn sealed_cases_are_not_found_for_strangers_and_published_ones_are_public() {
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
    for b in [&mut anon, &mut stranger] {
        let p = b.get(&case_url).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        assert!(!p.body.contains("setup.js"));
    }
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
