//! A write acknowledged to the caller survives the process being killed right after.
//!
//! The parent re-runs this test binary in "crash child" mode (the ignored `crash_child` test,
//! selected by name and driven by environment variables). The child opens the store, creates a
//! case, prints `ACK <case id>` and then idles; the parent SIGKILLs it the moment it reads the
//! acknowledgement, reopens the database and expects the case.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sx_domain::CaseStatus;
use sx_store::{OpenOptions, Store};
use uuid::Uuid;

use crate::fixtures::{self, t0};
use crate::{Location, TestDb};

crate::conformance!(an_acknowledged_case_survives_sigkill_of_the_writer);

const ENV_URL: &str = "S_EXPRESS_CRASH_CHILD_URL";
const ENV_SCHEMA: &str = "S_EXPRESS_CRASH_CHILD_SCHEMA";
const ENV_CASE: &str = "S_EXPRESS_CRASH_CHILD_CASE";

async fn an_acknowledged_case_survives_sigkill_of_the_writer(db: &TestDb) {
    let case_id = Uuid::new_v4();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "durability::crash_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ENV_URL, db.location.url())
    .env(ENV_CASE, case_id.to_string())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Location::Postgres { schema, .. } = &db.location {
        cmd.env(ENV_SCHEMA, schema);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read on a thread so a child that never acknowledges cannot hang the suite.
    let ack = format!("ACK {case_id}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest prints "test durability::crash_child ... " before the child's own output.
            if line.trim_end().ends_with(&ack) {
                let _ = tx.send(());
                return;
            }
        }
    });
    let acked = rx.recv_timeout(std::time::Duration::from_secs(120)).is_ok();
    child.kill().unwrap(); // SIGKILL: no destructors, no pool shutdown, no checkpoint.
    child.wait().unwrap();
    assert!(acked, "the child never acknowledged its write");
    let reopened = db.location.open(1).await;
    let case = reopened.get_case(sx_domain::CaseId(case_id)).await.unwrap();
    assert!(
        case.is_some(),
        "an acknowledged case was lost when the writer was killed"
    );
    assert_eq!(
        reopened.log_head().await.unwrap().0,
        1,
        "its log entry survived too"
    );
    reopened.close().await;
}

#[tokio::test]
#[ignore = "helper process for the durability tests, which run it by name"]
async fn crash_child() {
    let (Ok(url), Ok(case_id)) = (std::env::var(ENV_URL), std::env::var(ENV_CASE)) else {
        panic!("crash_child is run by the durability tests, with {ENV_URL} and {ENV_CASE} set");
    };
    let mut options = OpenOptions::default();
    if let Ok(schema) = std::env::var(ENV_SCHEMA) {
        options = options.schema(schema);
    }
    let store = sx_store::open_with(&url, &options).await.unwrap();
    let m = fixtures::user("crash-maintainer", &[]);
    store.create_user(&m, None).await.unwrap();
    let project = fixtures::project("acme", "widget", vec![m.id]);
    store.create_project(&project).await.unwrap();
    let mut case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    case.id = sx_domain::CaseId(case_id.parse().unwrap());
    store.create_case(&case, &[], t0()).await.unwrap();
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "ACK {case_id}").unwrap();
        out.flush().unwrap();
    }
    // Wait to be killed; never exit on our own.
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}
