//! The REST clients against a local server replaying recorded-format answers, and the SSRF
//! guard refusing everything but the configured host.

use std::time::Duration;

use sx_forge::{ClientError, Endpoint, ForgeClient, ForgeKind, Limits, PullRef, Sender};

use crate::replay::{ReplayServer, Reply};

fn client(kind: ForgeKind, base: &str, token: Option<&str>) -> ForgeClient {
    ForgeClient::new(Endpoint {
        kind,
        api_base: base.to_string(),
        token: token.map(str::to_string),
        allow_private: None,
        limits: Limits {
            max_bytes: 64 << 10,
            timeout: Duration::from_secs(5),
        },
    })
    .unwrap()
}

fn pull(owner: &str, repo: &str, number: u64) -> PullRef {
    PullRef {
        owner: owner.into(),
        repo: repo.into(),
        number,
    }
}

fn sender(login: &str, id: Option<u64>) -> Sender {
    Sender {
        login: login.into(),
        id,
        association: None,
    }
}

const PATCH: &str = "From ec26c3e57ca3a959ca5aad62de7213c562f8c821 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.com>\nSubject: [PATCH] Update README\n\n---\n README.md | 1 +\n 1 file changed, 1 insertion(+)\n\ndiff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n Hello\n+World\n";

#[test]
fn github_client_fetches_checks_and_comments_with_the_token() {
    let srv = ReplayServer::start();
    let base = format!("{}/api/v3", srv.base);
    srv.on("GET /api/v3/repos/Codertocat/Hello-World/pulls/2", Reply::json(r#"{"number":2,"title":"Update the README","user":{"login":"Codertocat"},"head":{"sha":"ec26c3e57ca3a959ca5aad62de7213c562f8c821"},"base":{"sha":"f95f852bd8fca8fcc58a9a2d6c842781e32a215e"},"html_url":"https://github.com/Codertocat/Hello-World/pull/2"}"#));
    srv.on(
        "GET /api/v3/repos/Codertocat/Hello-World/collaborators/maint/permission",
        Reply::json(r#"{"permission":"write","role_name":"write","user":{"login":"maint"}}"#),
    );
    srv.on(
        "GET /api/v3/repos/Codertocat/Hello-World/collaborators/reader/permission",
        Reply::json(r#"{"permission":"read","role_name":"triage"}"#),
    );
    srv.on(
        "POST /api/v3/repos/Codertocat/Hello-World/issues/2/comments",
        Reply::json(r#"{"id":1001,"body":"x"}"#),
    );
    srv.on(
        "PATCH /api/v3/repos/Codertocat/Hello-World/issues/comments/1001",
        Reply::json(r#"{"id":1001}"#),
    );
    let c = client(ForgeKind::Github, &base, Some("ghs_secret"));
    let p = pull("Codertocat", "Hello-World", 2);
    let info = c.pull(&p).unwrap();
    assert_eq!(info.head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
    assert_eq!(info.author.as_deref(), Some("Codertocat"));
    // The patch comes from the same path with the patch media type; the replay server keys on
    // the path only, so serve the JSON route as the patch to check the Accept header below.
    assert!(c.has_write_access(&p, &sender("maint", None)).unwrap());
    assert!(!c.has_write_access(&p, &sender("reader", None)).unwrap());
    assert!(
        !c.has_write_access(&p, &sender("stranger", None)).unwrap(),
        "404 means no access"
    );
    assert_eq!(c.post_comment(&p, "hello").unwrap(), 1001);
    c.update_comment(&p, 1001, "updated").unwrap();
    let reqs = srv.requests();
    assert_eq!(reqs[0].path, "/api/v3/repos/Codertocat/Hello-World/pulls/2");
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some("Bearer ghs_secret"))
    );
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&post.body).unwrap()["body"],
        "hello"
    );
    let patch = reqs.iter().find(|r| r.method == "PATCH").unwrap();
    assert!(patch.body.contains("updated"));
    assert!(format!("{c:?}").contains("***") && !format!("{c:?}").contains("ghs_secret"));
}

#[test]
fn github_patch_uses_the_patch_media_type() {
    let srv = ReplayServer::start();
    srv.on("GET /repos/o/r/pulls/3", Reply::text(PATCH));
    let c = client(ForgeKind::Github, &srv.base, None);
    assert_eq!(c.patch(&pull("o", "r", 3)).unwrap(), PATCH);
    assert_eq!(
        srv.requests()[0].header("accept"),
        Some("application/vnd.github.patch")
    );
    assert!(srv.requests()[0].header("authorization").is_none());
}

#[test]
fn gitlab_client_uses_the_encoded_project_path_and_membership_levels() {
    let srv = ReplayServer::start();
    let base = format!("{}/api/v4", srv.base);
    srv.on("GET /api/v4/projects/group%2Fsub%2Fproj/merge_requests/5", Reply::json(r#"{"iid":5,"title":"Tidy","author":{"username":"contrib"},"sha":"c136499ec574e1034b24c5d306de9acda3005367","diff_refs":{"base_sha":"8b641937b7340066d882b9d8a8cc5b0573a207de"},"web_url":"https://gitlab.example/group/sub/proj/-/merge_requests/5"}"#));
    srv.on(
        "GET /api/v4/projects/group%2Fsub%2Fproj/merge_requests/5/raw_diffs",
        Reply::text("diff --git a/x b/x\n"),
    );
    srv.on(
        "GET /api/v4/projects/group%2Fsub%2Fproj/members/all/42",
        Reply::json(r#"{"id":42,"username":"maint","access_level":40}"#),
    );
    srv.on(
        "GET /api/v4/projects/group%2Fsub%2Fproj/members/all/43",
        Reply::json(r#"{"id":43,"username":"guest","access_level":20}"#),
    );
    srv.on(
        "POST /api/v4/projects/group%2Fsub%2Fproj/merge_requests/5/notes",
        Reply::json(r#"{"id":77}"#),
    );
    srv.on(
        "PUT /api/v4/projects/group%2Fsub%2Fproj/merge_requests/5/notes/77",
        Reply::json(r#"{"id":77}"#),
    );
    let c = client(ForgeKind::Gitlab, &base, Some("glpat-x"));
    let p = pull("group/sub", "proj", 5);
    let info = c.pull(&p).unwrap();
    assert_eq!(
        info.base_sha.as_deref(),
        Some("8b641937b7340066d882b9d8a8cc5b0573a207de")
    );
    assert_eq!(c.patch(&p).unwrap(), "diff --git a/x b/x\n");
    assert!(c.has_write_access(&p, &sender("maint", Some(42))).unwrap());
    assert!(!c.has_write_access(&p, &sender("guest", Some(43))).unwrap());
    assert!(
        !c.has_write_access(&p, &sender("maint", None)).unwrap(),
        "no id, no check, no access"
    );
    assert_eq!(c.post_comment(&p, "b").unwrap(), 77);
    c.update_comment(&p, 77, "c").unwrap();
    assert!(
        srv.requests()
            .iter()
            .all(|r| r.header("private-token") == Some("glpat-x"))
    );
}

#[test]
fn forgejo_client_reads_the_patch_and_permission() {
    let srv = ReplayServer::start();
    let base = format!("{}/api/v1", srv.base);
    srv.on("GET /api/v1/repos/o/r/pulls/2.patch", Reply::text(PATCH));
    srv.on(
        "GET /api/v1/repos/o/r/collaborators/boss/permission",
        Reply::json(r#"{"permission":"owner"}"#),
    );
    srv.on(
        "POST /api/v1/repos/o/r/issues/2/comments",
        Reply::json(r#"{"id":9}"#),
    );
    let c = client(ForgeKind::Forgejo, &base, Some("fj"));
    let p = pull("o", "r", 2);
    assert_eq!(c.patch(&p).unwrap(), PATCH);
    assert!(c.has_write_access(&p, &sender("boss", None)).unwrap());
    assert_eq!(c.post_comment(&p, "x").unwrap(), 9);
    assert!(
        srv.requests()
            .iter()
            .all(|r| r.header("authorization") == Some("token fj"))
    );
}

#[test]
fn redirects_are_not_followed_and_errors_name_the_status() {
    let srv = ReplayServer::start();
    let mut moved = Reply::status(301);
    moved
        .extra
        .push(("Location".into(), "http://10.0.0.1/latest/meta-data".into()));
    srv.on("GET /repos/o/r/pulls/1", moved);
    let c = client(ForgeKind::Github, &srv.base, None);
    let err = c.pull(&pull("o", "r", 1)).unwrap_err();
    assert!(
        matches!(err, ClientError::Status { status: 301, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("redirects are not followed"));
    assert_eq!(
        srv.requests().len(),
        1,
        "the redirect target was never asked"
    );
    let err = c.pull(&pull("o", "r", 404)).unwrap_err();
    assert!(matches!(err, ClientError::Status { status: 404, .. }));
}

#[test]
fn oversized_answers_are_cut_off() {
    let srv = ReplayServer::start();
    srv.on(
        "GET /repos/o/r/pulls/1",
        Reply::text(&"x".repeat(100 << 10)),
    );
    let c = client(ForgeKind::Github, &srv.base, None);
    let err = c.patch(&pull("o", "r", 1)).unwrap_err();
    assert!(matches!(err, ClientError::TooLarge { .. }), "{err}");
}

#[test]
fn private_addresses_are_refused_unless_the_configuration_names_one() {
    let srv = ReplayServer::start();
    srv.on("GET /repos/o/r/pulls/1", Reply::text(PATCH));
    // The same loopback server, but configured as if it were a public forge: refused before
    // any connection is made.
    let strict = ForgeClient::new(Endpoint {
        kind: ForgeKind::Github,
        api_base: srv.base.clone(),
        token: None,
        allow_private: Some(false),
        limits: Limits::default(),
    })
    .unwrap();
    let err = strict.patch(&pull("o", "r", 1)).unwrap_err();
    assert!(
        matches!(&err, ClientError::Refused(m) if m.contains("non-public")),
        "{err}"
    );
    assert!(srv.requests().is_empty());
    // Configured by its literal loopback address (a test server): allowed.
    assert_eq!(
        client(ForgeKind::Github, &srv.base, None)
            .patch(&pull("o", "r", 1))
            .unwrap(),
        PATCH
    );
    // A private range literal that is not configured cannot be reached through a client
    // configured for another host: every URL is built from the configured origin.
    let ten = ForgeClient::new(Endpoint {
        kind: ForgeKind::Github,
        api_base: "http://10.255.255.1:9".into(),
        token: None,
        allow_private: Some(false),
        limits: Limits {
            max_bytes: 1024,
            timeout: Duration::from_secs(2),
        },
    })
    .unwrap();
    assert!(matches!(
        ten.pull(&pull("o", "r", 1)),
        Err(ClientError::Refused(_))
    ));
}

#[test]
fn names_that_would_change_the_url_path_never_reach_the_network() {
    let srv = ReplayServer::start();
    let c = client(ForgeKind::Github, &srv.base, None);
    for (owner, repo) in [
        ("o", "../../admin"),
        ("o/x", "r"),
        ("o", "r?x=1"),
        ("", "r"),
    ] {
        let err = c.pull(&pull(owner, repo, 1)).unwrap_err();
        assert!(
            matches!(err, ClientError::Refused(_)),
            "{owner}/{repo}: {err}"
        );
    }
    assert!(srv.requests().is_empty());
}

#[test]
fn base_urls_are_checked() {
    for bad in [
        "ftp://x",
        "https://user:pw@github.com",
        "https://api.github.com/?a=1",
        "not a url",
    ] {
        let e = ForgeClient::new(Endpoint {
            kind: ForgeKind::Github,
            api_base: bad.into(),
            token: None,
            allow_private: None,
            limits: Limits::default(),
        });
        assert!(matches!(e, Err(ClientError::BadBase { .. })), "{bad}");
    }
}

fn endpoint(base: &str) -> Endpoint {
    Endpoint {
        kind: ForgeKind::Github,
        api_base: base.to_string(),
        token: None,
        allow_private: None,
        limits: Limits {
            max_bytes: 64 << 10,
            timeout: Duration::from_secs(5),
        },
    }
}

#[test]
fn a_github_app_exchanges_its_jwt_for_installation_tokens_and_caches_them() {
    use sx_forge::GithubApp;
    use time::OffsetDateTime;

    let srv = ReplayServer::start();
    let base = format!("{}/api/v3", srv.base);
    srv.github_app(
        "4242",
        crate::replay::rsa_public_key_der(crate::replay::TEST_APP_PUBLIC_KEY),
        &[
            (99, "Codertocat/Hello-World"),
            (100, "o/other"),
            (101, "o/third"),
        ],
    );
    srv.on("GET /api/v3/repos/Codertocat/Hello-World/pulls/2", Reply::json(r#"{"number":2,"title":"t","user":{"login":"Codertocat"},"head":{"sha":"ec26c3e57ca3a959ca5aad62de7213c562f8c821"}}"#));
    let pem = std::fs::read(crate::replay::TEST_APP_KEY_PKCS1).unwrap();
    let app = GithubApp::from_pem("4242", &pem).unwrap();
    let p = pull("Codertocat", "Hello-World", 2);
    let now = OffsetDateTime::now_utc();

    // The installation named by the delivery: one exchange, then the cache.
    let token = app
        .installation_token(&endpoint(&base), Some(99), &p, now)
        .unwrap();
    assert_eq!(srv.issued_tokens(), vec![(99, token.clone())]);
    assert_eq!(
        app.installation_token(&endpoint(&base), Some(99), &p, now)
            .unwrap(),
        token
    );
    let exchange = &srv.requests()[0];
    assert_eq!(
        (exchange.method.as_str(), exchange.path.as_str()),
        ("POST", "/api/v3/app/installations/99/access_tokens")
    );
    assert!(
        exchange
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer ey")),
        "the JWT, not a token: {exchange:?}"
    );
    // The token opens the repository's API; no token or another installation's does not.
    let with = client(ForgeKind::Github, &base, Some(&token));
    assert_eq!(with.pull(&p).unwrap().title, "t");
    let without = client(ForgeKind::Github, &base, None);
    assert!(matches!(
        without.pull(&p),
        Err(ClientError::Status { status: 401, .. })
    ));
    let other = app
        .installation_token(&endpoint(&base), Some(100), &p, now)
        .unwrap();
    assert!(matches!(
        client(ForgeKind::Github, &base, Some(&other)).pull(&p),
        Err(ClientError::Status { status: 401, .. })
    ));

    // Without an installation id the repository's installation is looked up (with the JWT)
    // and its cached token reused.
    let before = srv.issued_tokens().len();
    assert_eq!(
        app.installation_token(&endpoint(&base), None, &p, now)
            .unwrap(),
        token
    );
    assert_eq!(srv.issued_tokens().len(), before);
    assert!(
        srv.requests()
            .iter()
            .any(|r| r.path == "/api/v3/repos/Codertocat/Hello-World/installation")
    );
    // A token close to its expiry is replaced rather than reused.
    srv.app_token_lifetime(time::Duration::minutes(4));
    let short = app
        .installation_token(&endpoint(&base), Some(101), &p, now)
        .unwrap();
    let again = app
        .installation_token(&endpoint(&base), Some(101), &p, now)
        .unwrap();
    assert_ne!(again, short, "a token with 4 minutes left is not reused");

    // Another app id or another key: the JWT is refused.
    let impostor = GithubApp::from_pem("4243", &pem).unwrap();
    assert!(matches!(
        impostor.installation_token(&endpoint(&base), Some(99), &p, now),
        Err(ClientError::Status { status: 401, .. })
    ));
    // An installation the app does not have.
    assert!(matches!(
        app.installation_token(&endpoint(&base), Some(5), &p, now),
        Err(ClientError::Status { status: 404, .. })
    ));
    // Only GitHub has apps.
    let mut gitlab = endpoint(&base);
    gitlab.kind = ForgeKind::Gitlab;
    assert!(matches!(
        app.installation_token(&gitlab, Some(99), &p, now),
        Err(ClientError::AppAuth(_))
    ));
}
