//! Creating a case from a git bundle (`multipart/form-data` with `metadata` and `bundle`).
//!
//! Bundles are built here with libgit2 (a pack of the repository's objects behind a v2 bundle
//! header), exactly as `git bundle create` lays them out, so the tests need no `git` binary.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use git2::{Oid, Repository, Signature};
use serde_json::{Value, json};
use sx_server::ConfigLayer;

use crate::util::{TestApp, TestResponse, TestUser};

crate::both_backends!(
    a_self_contained_bundle_becomes_a_case_with_the_commit_as_a_patch,
    a_range_of_several_commits_is_sent_as_the_diff_of_the_two_trees,
    a_thin_bundle_is_refused_with_how_to_make_a_self_contained_one,
    a_bundle_needs_a_range_that_resolves_in_it,
    only_maintainers_may_send_bundles_and_the_size_is_bounded,
);

const BOUNDARY: &str = "sx-test-boundary-7MA4YWxkTrZu0gW";

/// A repository with `main` (one commit) and `feature` (`extra` commits on top of it, the
/// first adding a decode-and-eval install hook).
struct Fixture {
    _dir: tempfile::TempDir,
    repo: Repository,
    main: Oid,
    feature: Oid,
}

fn commit(repo: &Repository, parent: Option<Oid>, files: &[(&str, &str)], message: &str) -> Oid {
    let sig = Signature::new(
        "Newcomer",
        "newcomer42@example.org",
        &git2::Time::new(1_772_000_000, 0),
    )
    .unwrap();
    let mut builder = match parent {
        Some(p) => repo
            .treebuilder(Some(&repo.find_commit(p).unwrap().tree().unwrap()))
            .unwrap(),
        None => repo.treebuilder(None).unwrap(),
    };
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes()).unwrap();
        builder.insert(path, blob, 0o100_644).unwrap();
    }
    let tree = repo.find_tree(builder.write().unwrap()).unwrap();
    let parents: Vec<git2::Commit<'_>> = parent
        .map(|p| repo.find_commit(p).unwrap())
        .into_iter()
        .collect();
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &sig, &sig, message, &tree, &parent_refs)
        .unwrap()
}

impl Fixture {
    fn new(extra: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let main = commit(
            &repo,
            None,
            &[("package.json", "{ \"name\": \"widget\" }\n")],
            "Initial commit\n",
        );
        let mut feature = commit(
            &repo,
            Some(main),
            &[(
                "setup.js",
                "const p = Buffer.from('Y29uc29sZS5sb2coImRlZmFuZ2VkIik=', 'base64').toString();\neval(p);\n",
            )],
            "Fix typo in README\n",
        );
        for n in 1..extra {
            feature = commit(
                &repo,
                Some(feature),
                &[(&format!("notes-{n}.txt"), "more\n")],
                &format!("Follow-up {n}\n"),
            );
        }
        repo.reference("refs/heads/main", main, true, "test")
            .unwrap();
        repo.reference("refs/heads/feature", feature, true, "test")
            .unwrap();
        Fixture {
            _dir: dir,
            repo,
            main,
            feature,
        }
    }

    /// `git bundle create x main feature`: every object, no prerequisites.
    fn bundle(&self) -> Vec<u8> {
        let mut walk = self.repo.revwalk().unwrap();
        walk.push(self.feature).unwrap();
        self.write(
            walk,
            &[],
            &[
                (self.main, "refs/heads/main"),
                (self.feature, "refs/heads/feature"),
            ],
        )
    }

    /// `git bundle create x main..feature`: only the feature's objects, `main` a prerequisite.
    fn thin_bundle(&self) -> Vec<u8> {
        let mut walk = self.repo.revwalk().unwrap();
        walk.push(self.feature).unwrap();
        walk.hide(self.main).unwrap();
        self.write(walk, &[self.main], &[(self.feature, "refs/heads/feature")])
    }

    fn write(
        &self,
        mut walk: git2::Revwalk<'_>,
        prerequisites: &[Oid],
        refs: &[(Oid, &str)],
    ) -> Vec<u8> {
        let mut pack = self.repo.packbuilder().unwrap();
        pack.insert_walk(&mut walk).unwrap();
        let mut buf = git2::Buf::new();
        pack.write_buf(&mut buf).unwrap();
        let mut out = b"# v2 git bundle\n".to_vec();
        for p in prerequisites {
            out.extend_from_slice(format!("-{p} base\n").as_bytes());
        }
        for (oid, name) in refs {
            out.extend_from_slice(format!("{oid} {name}\n").as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&buf);
        out
    }
}

fn metadata(revision: Option<&str>) -> Value {
    let mut m = json!({
        "project": { "forge": "github", "owner": "acme", "name": "widget" },
        "concern": "a first-time contributor added an install hook",
        "suspicion": 4,
        "author": "newcomer42"
    });
    if let Some(r) = revision {
        m["revision"] = json!(r);
    }
    m
}

fn form(metadata: &Value, bundle: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"change.bundle\"\r\nContent-Type: application/x-git-bundle\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bundle);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send(app: &TestApp, user: Option<&TestUser>, body: Vec<u8>) -> TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/cases")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if let Some(u) = user {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", u.token));
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

async fn a_self_contained_bundle_becomes_a_case_with_the_commit_as_a_patch() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let f = Fixture::new(1);
    let r = send(
        &app,
        Some(&alice),
        form(&metadata(Some("main..feature")), &f.bundle()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_str().unwrap().to_string();
    let case = alice.get(&app, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(case.json["revision"], format!("{}..{}", f.main, f.feature));
    assert_eq!(case.json["source"]["title"], "Fix typo in README");
    let change = alice.get(&app, &format!("/api/v1/cases/{id}/change")).await;
    let text = change.json["diff"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("From {}", f.feature)),
        "format-patch output: {text}"
    );
    assert!(
        text.contains("Subject: [PATCH] Fix typo in README"),
        "{text}"
    );
    assert!(text.contains("+eval(p);"), "{text}");
    // The analysis job reads the patch like any submitted one, commit message included: the
    // "typo" message on a code change is flagged.
    app.run_jobs().await;
    let analysed = alice.get(&app, &format!("/api/v1/cases/{id}")).await;
    assert!(
        analysed.json["report"]["full"]
            .to_string()
            .contains("trivial-message-logic-change"),
        "{:?}",
        analysed.json["report"]
    );
}

async fn a_range_of_several_commits_is_sent_as_the_diff_of_the_two_trees() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let f = Fixture::new(3);
    let r = send(
        &app,
        Some(&alice),
        form(&metadata(Some("main..feature")), &f.bundle()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_str().unwrap();
    let text = alice
        .get(&app, &format!("/api/v1/cases/{id}/change"))
        .await
        .json["diff"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("diff --git a/notes-1.txt"), "{text}");
    for file in ["setup.js", "notes-1.txt", "notes-2.txt"] {
        assert!(text.contains(&format!("+++ b/{file}")), "{file}: {text}");
    }
    assert!(
        !text.contains("package.json"),
        "the base is not part of the change"
    );
}

async fn a_thin_bundle_is_refused_with_how_to_make_a_self_contained_one() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let f = Fixture::new(1);
    let r = send(
        &app,
        Some(&alice),
        form(&metadata(Some("main..feature")), &f.thin_bundle()),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_change"),
        "{:?}",
        r.json
    );
    let message = r.json["message"].as_str().unwrap();
    assert!(message.contains("thin"), "{message}");
    assert!(message.contains(&f.main.to_string()), "{message}");
    assert!(
        message.contains("git bundle create change.bundle main feature"),
        "{message}"
    );
}

async fn a_bundle_needs_a_range_that_resolves_in_it() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let f = Fixture::new(1);
    for (revision, expected) in [
        (None, "name the range"),
        (Some("main..nope"), "\"nope\" is not a commit"),
        (Some("main...feature"), "symmetric"),
    ] {
        let r = send(&app, Some(&alice), form(&metadata(revision), &f.bundle())).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_change"),
            "{revision:?}: {:?}",
            r.json
        );
        let message = r.json["message"].as_str().unwrap();
        assert!(message.contains(expected), "{revision:?}: {message}");
        assert!(
            message.contains("refs/heads/feature"),
            "lists the refs: {message}"
        );
    }
    let r = send(
        &app,
        Some(&alice),
        form(&metadata(Some("main..feature")), b"diff --git a/x b/x\n"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("not a git bundle")
    );
    let mut with_diff = metadata(Some("main..feature"));
    with_diff["diff"] = json!("x");
    let r = send(&app, Some(&alice), form(&with_diff, &f.bundle())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
}

async fn only_maintainers_may_send_bundles_and_the_size_is_bounded() {
    let app = TestApp::with(ConfigLayer {
        max_change_bytes: Some(4096),
        ..ConfigLayer::default()
    })
    .await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let f = Fixture::new(1);
    let body = form(&metadata(Some("main..feature")), &f.bundle());
    assert_eq!(
        send(&app, None, body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, Some(&eve), body).await.status,
        StatusCode::FORBIDDEN
    );
    // Over the request limit (twice the change size plus 64 KiB): a JSON 413.
    let huge = form(&metadata(Some("main..feature")), &vec![b'#'; 80 << 10]);
    let r = send(&app, Some(&alice), huge).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{:?}",
        r.json
    );
    // A change text over the maximum change size: 413 naming the range.
    let big = Fixture::new(1);
    let blob: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    let head = commit(&big.repo, Some(big.feature), &[("big.txt", &blob)], "Big\n");
    big.repo
        .reference("refs/heads/feature", head, true, "test")
        .unwrap();
    let mut walk = big.repo.revwalk().unwrap();
    walk.push(head).unwrap();
    let bundle = big.write(
        walk,
        &[],
        &[(big.main, "refs/heads/main"), (head, "refs/heads/feature")],
    );
    let r = send(
        &app,
        Some(&alice),
        form(&metadata(Some("main..feature")), &bundle),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{:?}",
        r.json
    );
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("main..feature")
    );
}
