//! The mail intake through the real binary: `serve` with a `[mail]` intake domain and an SMTP
//! relay, a maintainer who makes an intake address with `s-express mail address --new`, then
//! `s-express mail deliver` fed forwarded series on standard input (as Postfix's pipe does)
//! and `s-express mail maildir` over a Maildir (as after fetchmail), on SQLite and PostgreSQL;
//! up to the hourly limit of cases by mail, past which messages are deferred (exit 75).
//!
//! The messages are the sx-forge fixtures (`crates/forge/tests/fixtures/mail/`), addressed to
//! the address the instance made.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::http::Client;
use crate::instance::{self, Backend, Instance, Options, postgres_skipped};
use crate::journey::{SmtpSink, eventually, put_json};

const PASSWORD: &str = "correct horse battery staple";

/// The placeholder intake address the fixtures are sent to.
const FIXTURE_ADDRESS: &str = "submit+aaaabbbbccccddddeeeeffffgggghhhh@intake.example.invalid";

/// The maintainer's notification address (the fixtures' sender).
const SENDER: &str = "lasse@maint.example.invalid";

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../forge/tests/fixtures/mail")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture sent to `address`, with its own Message-ID.
fn message(name: &str, address: &str, message_id: &str) -> String {
    let text = fixture(name).replace(FIXTURE_ADDRESS, address);
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if line.to_ascii_lowercase().starts_with("message-id: <fwd-") {
            out.push_str(&format!(
                "Message-ID: <{message_id}@maint.example.invalid>\n"
            ));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `s-express mail ARGS…` on the instance's database and config.
fn mail(sx: &Instance, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let config = sx.dir().join("s-express.toml");
    let mut all = vec![
        "mail",
        args[0],
        "--config",
        config.to_str().unwrap(),
        "--database",
        sx.database_url.as_str(),
        "--data-dir",
        sx.dir().to_str().unwrap(),
    ];
    all.extend_from_slice(&args[1..]);
    instance::run(&all, stdin, &[])
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// How many cases the instance holds, read from its database.
fn case_count(sx: &Instance) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sx_store::Store as _;
        let store = sx_store::open(&sx.database_url).await.unwrap();
        let mut n = 0;
        for p in store.list_projects(None, 500).await.unwrap() {
            n += store
                .list_project_cases(p.value.id, 500)
                .await
                .unwrap()
                .len();
        }
        store.close().await;
        n
    })
}

/// The case id in `s-express mail deliver`'s output.
fn case_id(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .skip_while(|w| *w != "Case" && *w != "case")
        .nth(1)
        .unwrap_or_else(|| panic!("no case id in {stdout}"))
        .to_string()
}

fn journey(backend: Backend) {
    let smtp = SmtpSink::start();
    let config = format!(
        "[mail]\nintake_domain = \"intake.example.invalid\"\nmax_cases_per_hour = 3\n\n\
         [notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_tls = \"none\"\n\
         smtp_from = \"S-Express <sx@example.org>\"\nallow_private_targets = true\n",
        smtp.port
    );
    let sx = Instance::start_with(
        backend,
        Options {
            config_toml: Some(config),
            ..Options::default()
        },
    );
    let lasse = sx.create_user("lasse", &["maintainer"], PASSWORD);
    let api = Client::new(&sx.base_url).with_token(&lasse);

    // Before a notification address is set, the address can be made but accepts no sender.
    let env = [
        ("S_EXPRESS_SERVER", sx.base_url.as_str()),
        ("S_EXPRESS_TOKEN", lasse.as_str()),
    ];
    let out = instance::run(&["mail", "address"], None, &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no intake address yet"),
        "{}",
        text(&out)
    );
    let (status, _) = put_json(
        &sx.base_url,
        "/api/v1/me/notifications",
        &lasse,
        &json!({ "email": SENDER }),
    );
    assert_eq!(status, 200);
    let out = instance::run(&["mail", "address", "--new", "--json"], None, &env);
    assert!(out.status.success(), "{}", text(&out));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    let address = made["address"].as_str().unwrap().to_string();
    assert!(
        address.starts_with("submit+") && address.ends_with("@intake.example.invalid"),
        "{made}"
    );
    assert_eq!(made["sender"], SENDER);
    assert_eq!(made["ready"], true);
    let shown = api.get("/api/v1/me/mail-intake").json();
    assert_eq!(shown["address_set"], true);
    assert!(
        shown.get("address").is_none() && !shown.to_string().contains(&address),
        "the address is shown once: {shown}"
    );

    // 1. A series forwarded as attached messages becomes one case, like Postfix's pipe does it.
    let series = message("attached-rfc822-series.eml", &address, "series-1");
    let out = mail(
        &sx,
        &["deliver", "--recipient", &address],
        Some(series.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let id = case_id(&out);
    let case = eventually(Duration::from_secs(30), "the automated report", || {
        let c = api.get(&format!("/api/v1/cases/{id}")).json();
        (!c["report"].is_null()).then_some(c)
    });
    assert!(
        case["concern"]["text"]
            .as_str()
            .unwrap()
            .starts_with("A new contributor wants the m4 macro"),
        "{}",
        case["concern"]
    );
    assert_eq!(case["concern"]["suspicion"], 5);
    assert_eq!(case["concern"]["tags"], json!(["build-system", "sandbox"]));
    assert_eq!(
        (
            &case["project"]["forge"],
            &case["project"]["owner"],
            &case["project"]["name"]
        ),
        (
            &json!("email"),
            &json!("lists.example.invalid"),
            &json!("xz-devel")
        ),
        "the project comes from the List-Id: {}",
        case["project"]
    );
    assert_eq!(
        case["source"]["title"],
        "Speed up the build and simplify the Landlock check"
    );
    let findings = case["report"]["full"]["findings"].as_array().unwrap();
    let detectors: Vec<&str> = findings.iter().filter_map(|f| f["id"].as_str()).collect();
    assert!(
        detectors.contains(&"build-test-data-pipeline"),
        "the analyzer read the m4 patch: {detectors:?}"
    );
    let change = api.get(&format!("/api/v1/cases/{id}/change")).json();
    let diff = change["diff"].as_str().unwrap();
    assert!(
        diff.contains("+++ b/m4/build-to-host.m4") && diff.contains("+++ b/CMakeLists.txt"),
        "both patches in one change: {diff}"
    );
    assert_eq!(case_count(&sx), 1);

    // 2. The maintainer is told as for any case: the usual report-attached mail.
    let mails = eventually(Duration::from_secs(30), "the notification mail", || {
        let m = smtp.mails();
        m.into_iter().find(|m| m.contains(&format!("/cases/{id}")))
    });
    assert!(mails.contains(&format!("RCPT TO:<{SENDER}>")), "{mails}");

    // 3. The same message delivered again (an MTA retry) is the same case.
    let out = mail(
        &sx,
        &["deliver", "--recipient", &address],
        Some(series.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("already received as case {id}")),
        "{}",
        text(&out)
    );
    assert_eq!(case_count(&sx), 1);

    // 4. A forged From: is refused with EX_DATAERR and nothing is created; so is an unknown
    // intake address; neither says which check failed.
    let forged = message("inline-thunderbird.eml", &address, "forged-1").replace(
        "From: Lasse Maintainer <lasse@",
        "From: Lasse Maintainer <lasse.m@",
    );
    let out = mail(&sx, &["deliver"], Some(forged.as_bytes()));
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    let refusal = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(refusal.contains("not accepted"), "{refusal}");
    let unknown = message(
        "inline-thunderbird.eml",
        "submit+zzzzbbbbccccddddeeeeffffgggghhhh@intake.example.invalid",
        "unknown-1",
    );
    let out = mail(&sx, &["deliver"], Some(unknown.as_bytes()));
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stderr), refusal);
    // Bad content from the right sender: refused with its reason.
    let html = message("html-only.eml", &address, "html-1");
    let out = mail(&sx, &["deliver"], Some(html.as_bytes()));
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only an HTML body"),
        "{}",
        text(&out)
    );
    assert_eq!(case_count(&sx), 1);
    let log = std::fs::read_to_string(sx.dir().join("mail.log")).unwrap();
    assert!(
        log.contains("is not the notification address of lasse"),
        "the exact reason is logged for the operator: {log}"
    );

    // 5. A database that cannot be reached defers the message (EX_TEMPFAIL).
    let unreachable = match backend {
        Backend::Sqlite => "sqlite:///nonexistent-dir/for/s-express.sqlite".to_string(),
        Backend::Postgres => "postgres://postgres@127.0.0.1:1/none".to_string(),
    };
    let out = instance::run(
        &[
            "mail",
            "deliver",
            "--database",
            &unreachable,
            "--data-dir",
            sx.dir().to_str().unwrap(),
            "--config",
            sx.dir().join("s-express.toml").to_str().unwrap(),
        ],
        Some(series.as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));

    // 6. A Maildir: two good messages become cases and move to cur/, a forged one goes to the
    // rejected folder with the reason.
    let maildir = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir(maildir.path().join(sub)).unwrap();
    }
    let drop_in = |name: &str, body: &str| {
        std::fs::write(maildir.path().join("new").join(name), body).unwrap();
    };
    drop_in(
        "1708765200.M1P1.mx",
        &message("inline-thunderbird.eml", &address, "maildir-1"),
    );
    drop_in(
        "1708765201.M2P1.mx",
        &message("patch-files-attached.eml", &address, "maildir-2"),
    );
    drop_in(
        "1708765202.M3P1.mx",
        &forged.replace("forged-1", "forged-2"),
    );
    let out = mail(&sx, &["maildir", maildir.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 case(s) created"),
        "{}",
        text(&out)
    );
    assert_eq!(case_count(&sx), 3);
    assert_eq!(listing(&maildir.path().join("new")), Vec::<String>::new());
    assert_eq!(
        listing(&maildir.path().join("cur")),
        ["1708765200.M1P1.mx:2,S", "1708765201.M2P1.mx:2,S"]
    );
    let rejected = maildir.path().join(".Rejected/new/1708765202.M3P1.mx");
    let kept = std::fs::read_to_string(&rejected).unwrap();
    assert!(
        kept.starts_with("X-S-Express-Refused: the sender lasse.m@maint.example.invalid is not"),
        "{kept}"
    );
    assert!(
        kept.ends_with(&forged.replace("forged-1", "forged-2")),
        "the refused message is kept whole"
    );
    // The case from the Thunderbird forward has its directives and the maintainer's words.
    let inline_case = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("1708765200"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_string();
    let case = api.get(&format!("/api/v1/cases/{inline_case}")).json();
    assert_eq!(case["concern"]["suspicion"], 4);
    assert_eq!(case["project"]["owner"], "tukaani-project");
    assert!(
        case["concern"]["text"]
            .as_str()
            .unwrap()
            .starts_with("The m4 change greps"),
        "{case}"
    );

    // 7. The hourly limit (3 here): a fourth case by mail within the hour is deferred with
    // EX_TEMPFAIL, saying from when; nothing is created and nothing is lost — a Maildir run
    // leaves it in new/ for a later run.
    let fourth = message("inline-thunderbird.eml", &address, "over-the-limit");
    let out = mail(
        &sx,
        &["deliver", "--recipient", &address],
        Some(fourth.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already opened 3 cases by mail in the past hour")
            && stderr.contains("it can be accepted from"),
        "{}",
        text(&out)
    );
    assert_eq!(case_count(&sx), 3);
    drop_in("1708765300.M4P1.mx", &fourth);
    let out = mail(&sx, &["maildir", maildir.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 left for a later run"),
        "{}",
        text(&out)
    );
    assert_eq!(listing(&maildir.path().join("new")), ["1708765300.M4P1.mx"]);
    assert_eq!(case_count(&sx), 3);

    // 8. A new address replaces the old one, which stops working at once.
    let out = instance::run(&["mail", "address", "--new", "--json"], None, &env);
    assert!(out.status.success(), "{}", text(&out));
    let again = message("inline-thunderbird.eml", &address, "after-rotation");
    let out = mail(
        &sx,
        &["deliver", "--recipient", &address],
        Some(again.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert_eq!(case_count(&sx), 3);
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_forwarded_series_becomes_a_case_by_pipe_and_by_maildir_on_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn a_forwarded_series_becomes_a_case_by_pipe_and_by_maildir_on_postgres() {
    if postgres_skipped() {
        return;
    }
    journey(Backend::Postgres);
}
