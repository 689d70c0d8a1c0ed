//! The whole journey of a case through the real binary, on SQLite and on PostgreSQL:
//!
//! `s-express submit` (CLI) → automated report attached within a second of receipt → routed →
//! an expert claims and assesses `malicious` → a second expert confirms → the maintainer is
//! notified by e-mail (a real SMTP conversation with a receiver started here) and by a webhook
//! (a local HTTP receiver that checks the HMAC signature) → an embargo and the decision → the
//! process is stopped with SIGTERM and started again on the same database → the scheduled
//! publication still happens → an anonymous reader sees the case → the transparency log and
//! its signed checkpoint verify against the instance key read out of band.
//!
//! The SMTP receiver is a minimal one written here: `mailin-embedded` pulls rustls with its
//! default (aws-lc) provider, which this workspace does not build.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::http::Client;
use crate::instance::{self, Backend, Instance, Options, postgres_skipped};

const PASSWORD: &str = "correct horse battery staple";

/// Marks text that must never appear in a notification (it is case content).
const CONCERN_MARKER: &str = "CONCERN-MARKER-not-for-mail";

const PATCH: &str = "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: Mallory <mallory@example.net>
Date: Mon, 2 Nov 2026 10:00:00 +0000
Subject: [PATCH] Fix typo in README

---
 lib/setup.js | 2 ++
 package.json | 3 ++-
 2 files changed, 4 insertions(+), 1 deletion(-)

diff --git a/lib/setup.js b/lib/setup.js
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/lib/setup.js
@@ -0,0 +1,2 @@
+const p = Buffer.from(\"Y29uc29sZS5sb2coJ2RlZmFuZ2VkJyk=\", \"base64\").toString();
+eval(p);
diff --git a/package.json b/package.json
index 1111111..2222222 100644
--- a/package.json
+++ b/package.json
@@ -1,4 +1,5 @@
 {
   \"name\": \"widget\",
-  \"version\": \"1.0.0\"
+  \"version\": \"1.0.1\",
+  \"scripts\": { \"postinstall\": \"node lib/setup.js\" }
 }
";

/// Messages a test receiver got.
type Inbox<T> = Arc<Mutex<Vec<T>>>;

/// A minimal SMTP receiver: accepts every mail (EHLO, MAIL, RCPT, DATA, QUIT) and keeps it.
pub(crate) struct SmtpSink {
    pub(crate) port: u16,
    mails: Inbox<String>,
}

impl SmtpSink {
    pub(crate) fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Inbox<String> = Arc::default();
        let inbox = Arc::clone(&mails);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let inbox = Arc::clone(&inbox);
                std::thread::spawn(move || {
                    let _ = smtp_session(stream, &inbox);
                });
            }
        });
        SmtpSink { port, mails }
    }

    /// Received mails, with quoted-printable soft line breaks joined.
    pub(crate) fn mails(&self) -> Vec<String> {
        let mails = self.mails.lock().unwrap().clone();
        mails
            .into_iter()
            .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
            .collect()
    }
}

fn smtp_session(stream: TcpStream, inbox: &Inbox<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut envelope = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => out.write_all(b"250 sink.test\r\n")?,
            "MAIL" | "RCPT" => {
                envelope.push_str(&line);
                out.write_all(b"250 OK\r\n")?;
            }
            "DATA" => {
                out.write_all(b"354 end with .\r\n")?;
                let mut data = envelope.clone();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" || l == ".\n" {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                inbox.lock().unwrap().push(data);
                envelope.clear();
                out.write_all(b"250 queued\r\n")?;
            }
            "RSET" | "NOOP" => out.write_all(b"250 OK\r\n")?,
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 not implemented\r\n")?,
        }
    }
}

/// One webhook request as received.
#[derive(Clone, Debug)]
struct Hook {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A local HTTP receiver for webhooks: answers 200 to every POST and keeps it.
struct HookSink {
    url: String,
    hooks: Inbox<Hook>,
}

impl HookSink {
    fn start() -> HookSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/s-express", listener.local_addr().unwrap());
        let hooks: Inbox<Hook> = Arc::default();
        let inbox = Arc::clone(&hooks);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let inbox = Arc::clone(&inbox);
                std::thread::spawn(move || {
                    let _ = hook_request(stream, &inbox);
                });
            }
        });
        HookSink { url, hooks }
    }

    fn hooks(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }
}

fn hook_request(stream: TcpStream, inbox: &Inbox<Hook>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut headers = BTreeMap::new();
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    assert!(
        request_line.starts_with("POST /hooks/s-express "),
        "{request_line}"
    );
    inbox.lock().unwrap().push(Hook { headers, body });
    out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

/// HMAC-SHA256, written out here so the test checks the server's implementation independently.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// Checks a webhook's signature header against the secret and returns its JSON body.
fn verified(hook: &Hook, secret: &str) -> Value {
    let ts = &hook.headers["x-s-express-timestamp"];
    let mut message = format!("{ts}.").into_bytes();
    message.extend_from_slice(&hook.body);
    let expected = format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &message))
    );
    assert_eq!(
        hook.headers["x-s-express-signature"], expected,
        "the HMAC signature verifies"
    );
    let age = OffsetDateTime::now_utc().unix_timestamp() - ts.parse::<i64>().unwrap();
    assert!((0..300).contains(&age), "a fresh timestamp, {age} s old");
    serde_json::from_slice(&hook.body).unwrap()
}

/// Waits until `found` returns something, or fails after `within` with `what`.
pub(crate) fn eventually<T>(
    within: Duration,
    what: &str,
    mut found: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = found() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn put_json(base: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .put(format!("{base}{path}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn event_time(case: &Value, kind: &str) -> OffsetDateTime {
    let at = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {}", case["timeline"]))["at"]
        .as_str()
        .unwrap()
        .to_string();
    OffsetDateTime::parse(&at, &Rfc3339).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Creates the `general` subgroup (the analyzer's fallback route, so it needs no routing
/// rules) the way an operator does: `s-express admin subgroup create general --coordinator …`,
/// then `add-member` for each expert; and checks that `subgroup list` shows them.
fn create_subgroup(sx: &Instance, members: &[&str], coordinators: &[&str]) {
    let mut create = vec!["subgroup", "create", "general", "--name", "General"];
    for c in coordinators {
        create.extend(["--coordinator", c]);
    }
    let out = sx.admin(&create, None);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("created subgroup general"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for m in members {
        sx.admin(&["subgroup", "add-member", "general", m], None);
    }
    let out = sx.admin(&["subgroup", "list"], None);
    let list = String::from_utf8_lossy(&out.stdout);
    let general = list
        .lines()
        .find(|l| l.starts_with("general\t"))
        .unwrap_or_else(|| panic!("no general subgroup listed: {list}"));
    assert!(
        general.contains("languages=-")
            && general.contains("vectors=-")
            && general.contains(&format!("members={}", members.join(",")))
            && general.contains(&format!("coordinators={}", coordinators.join(","))),
        "{general}"
    );
}

/// Verifies an export with the instance's public key read from its database: the out-of-band
/// channel a verifier uses (never the key the export itself names).
fn verify_log(
    sx: &Instance,
    export: &sx_store::translog::Export,
) -> Result<sx_store::translog::Summary, sx_store::translog::VerifyError> {
    runtime().block_on(async {
        let store = sx_store::open(&sx.database_url).await.unwrap();
        let key = store.log_public_key();
        store.close().await;
        sx_store::translog::verify_export(export, &key)
    })
}

fn journey(backend: Backend) {
    let smtp = SmtpSink::start();
    let hooks = HookSink::start();
    let config = format!(
        "[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_tls = \"none\"\n\
         smtp_from = \"S-Express <sx@example.org>\"\nallow_private_targets = true\n",
        smtp.port
    );
    let options = Options {
        config_toml: Some(config),
        ..Options::default()
    };
    let mut sx = Instance::start_with(backend, options.clone());
    let mia = sx.create_user("mia", &["maintainer"], PASSWORD);
    let eve = sx.create_user("eve", &["expert"], PASSWORD);
    let frank = sx.create_user("frank", &["expert"], PASSWORD);
    let carol = sx.create_user("carol", &["coordinator"], PASSWORD);
    let api = Client::new(&sx.base_url);
    create_subgroup(&sx, &["eve", "frank"], &["carol"]);

    // The maintainer asks for e-mail and a webhook; the secret is shown once.
    let (status, settings) = put_json(
        &sx.base_url,
        "/api/v1/me/notifications",
        &mia,
        &json!({ "email": "mia@example.org", "webhook_url": hooks.url }),
    );
    assert_eq!(status, 200, "{settings}");
    let secret = settings["webhook_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let shown = api.with_token(&mia).get("/api/v1/me/notifications").json();
    assert_eq!(shown["webhook"]["secret_set"], true);
    assert!(
        shown.get("webhook_secret").is_none(),
        "the secret is shown once: {shown}"
    );

    // 1. Submit through the CLI; it waits for and prints the automated report.
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("pr-42.patch");
    std::fs::write(&patch, PATCH).unwrap();
    let out = instance::run(
        &[
            "submit",
            "--server",
            &sx.base_url,
            "--project",
            "github:acme/widget",
            patch.to_str().unwrap(),
            "--concern",
            &format!("a typo fix that adds an install hook {CONCERN_MARKER}"),
            "--suspicion",
            "4",
            "--format",
            "json",
        ],
        None,
        &[("S_EXPRESS_TOKEN", mia.as_str())],
    );
    assert!(
        out.status.success(),
        "submit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let submitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = submitted["case"]["id"].as_str().unwrap().to_string();
    assert!(
        submitted["report"]["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );

    // 2. The report was attached within a second of receipt, and the case was routed.
    let path = format!("/api/v1/cases/{id}");
    let case = api.with_token(&mia).get(&path).json();
    let latency = event_time(&case, "report-attached") - event_time(&case, "case-received");
    println!(
        "[{backend:?}] automated report attached {} ms after receipt (submit waited {} ms)",
        latency.whole_milliseconds(),
        submitted["waited_ms"]
    );
    assert!(
        latency < time::Duration::seconds(1),
        "report latency {latency}"
    );
    assert_eq!(case["status"], "triaged", "{case}");
    assert_eq!(case["subgroups"][0]["slug"], "general");

    // 3. An expert finds it in her queue, claims and assesses it malicious; a second expert
    // confirms.
    let queue = api.with_token(&eve).get("/api/v1/queue").json();
    assert!(
        queue.to_string().contains(&id),
        "the case is in eve's queue: {queue}"
    );
    let claimed = api
        .with_token(&eve)
        .post_json(&format!("{path}/claim"), &json!({}));
    assert_eq!(claimed.status, 200, "{}", claimed.text);
    let assessed = api.with_token(&eve).post_json(
        &format!("{path}/assessments"),
        &json!({
            "verdict": "malicious", "confidence": "high",
            "summary": "The install hook evaluates a decoded blob.",
            "rationale": "lib/setup.js decodes base64 and passes it to eval; postinstall runs it.",
            "recommended_actions": ["reject the pull request"], "references": [],
            "time_spent_minutes": 20, "thoroughness": "high", "understanding": "high"
        }),
    );
    assert_eq!(assessed.status, 201, "{}", assessed.text);
    let review_id = assessed.json()["second_reviews"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewed = api.with_token(&frank).post_json(
        &format!("{path}/second-reviews/{review_id}"),
        &json!({ "verdict": "malicious", "note": "confirmed" }),
    );
    assert_eq!(reviewed.status, 200, "{}", reviewed.text);

    // 4. The maintainer was told, by mail and by a signed webhook, of each step.
    let wanted = ["report-attached", "assessed", "second-review"];
    let hooks_seen = eventually(Duration::from_secs(20), "three webhooks", || {
        let h = hooks.hooks();
        (h.len() >= 3).then_some(h)
    });
    let mut events: Vec<String> = hooks_seen
        .iter()
        .map(|h| {
            let body = verified(h, &secret);
            assert_eq!(body["case_id"], id.as_str());
            assert_eq!(
                h.headers["x-s-express-event"],
                body["event"].as_str().unwrap()
            );
            body["event"].as_str().unwrap().to_string()
        })
        .collect();
    events.sort();
    let mut expected: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(events, expected);
    let mails = eventually(Duration::from_secs(20), "three mails", || {
        let m = smtp.mails();
        (m.len() >= 3).then_some(m)
    });
    for mail in &mails {
        assert!(mail.contains("RCPT TO:<mia@example.org>"), "{mail}");
        assert!(
            mail.contains(&format!("/cases/{id}")),
            "a link to the case: {mail}"
        );
        assert!(
            !mail.contains(CONCERN_MARKER),
            "no case content in mail: {mail}"
        );
        assert!(
            !mail.contains("Y29uc29sZS5sb2c"),
            "no change content in mail: {mail}"
        );
    }
    assert_eq!(hooks.hooks().len(), 3, "each event is delivered once");

    // 5. An embargo of a few seconds, approved by a coordinator, then the decision: the case
    // publishes when the embargo ends, even though the process restarts before that.
    let until = OffsetDateTime::now_utc() + time::Duration::seconds(6);
    let proposed = api.with_token(&mia).post_json(
        &format!("{path}/embargo"),
        &json!({ "until": until.format(&Rfc3339).unwrap(), "reason": "a fixed release is on its way" }),
    );
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let approved = api
        .with_token(&carol)
        .post_json(&format!("{path}/embargo/approve"), &json!({}));
    assert_eq!(approved.status, 200, "{}", approved.text);
    let decided = api.with_token(&mia).post_json(
        &format!("{path}/decision"),
        &json!({ "outcome": "rejected", "note": "" }),
    );
    assert_eq!(decided.status, 200, "{}", decided.text);
    assert_eq!(
        Client::new(&sx.base_url).get(&path).status,
        404,
        "sealed until published"
    );

    let status = sx.stop().unwrap();
    assert!(
        status.success(),
        "SIGTERM ends serve cleanly: {status}\n{}",
        sx.log_text()
    );
    let restarted = sx.start_replica(options);
    let public = Client::new(&restarted.base_url);
    let published = eventually(
        Duration::from_secs(40),
        "the publication after the restart",
        || {
            let r = public.get(&path);
            (r.status == 200).then(|| r.json())
        },
    );
    assert!(
        OffsetDateTime::now_utc() >= until,
        "not published before the embargo ended"
    );
    assert_eq!(published["status"], "published");
    assert_eq!(published["tlp"], "clear");
    let listed = public.get("/api/v1/cases").json();
    assert!(listed.to_string().contains(&id), "{listed}");
    let published_mail = eventually(Duration::from_secs(20), "the publication mail", || {
        smtp.mails().into_iter().find(|m| m.contains("published"))
    });
    assert!(published_mail.contains(&format!("/cases/{id}")));

    // 6. The log verifies against the key obtained out of band.
    let checkpoint = eventually(Duration::from_secs(10), "a checkpoint", || {
        let r = public.get("/api/v1/log/checkpoint");
        (r.status == 200).then(|| r.json())
    });
    let mut entries: Vec<sx_store::translog::Entry> = Vec::new();
    let mut from = 0;
    let public_key = loop {
        let page = public
            .get(&format!("/api/v1/log?from={from}&limit=1000"))
            .json();
        entries.extend(serde_json::from_value::<Vec<_>>(page["entries"].clone()).unwrap());
        match page["next_from"].as_u64() {
            Some(next) => from = next,
            None => break page["public_key"].as_str().unwrap().to_string(),
        }
    };
    let export = sx_store::translog::Export {
        format: sx_store::translog::EXPORT_FORMAT.to_string(),
        public_key,
        entries,
        checkpoints: vec![serde_json::from_value(checkpoint["checkpoint"].clone()).unwrap()],
    };
    let summary =
        verify_log(&restarted, &export).unwrap_or_else(|e| panic!("the log does not verify: {e}"));
    assert!(
        summary.revealed > 0,
        "the published case's sealed entries are revealed: {summary:?}"
    );
    let kinds: Vec<&str> = export.entries.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "case-received",
        "report-attached",
        "assessment-submitted",
        "case-decided",
        "case-published",
    ] {
        assert!(kinds.contains(&kind), "the log records {kind}: {kinds:?}");
    }
}

#[test]
fn a_case_travels_from_submission_to_verified_publication_on_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn a_case_travels_from_submission_to_verified_publication_on_postgres() {
    if postgres_skipped() {
        return;
    }
    journey(Backend::Postgres);
}
