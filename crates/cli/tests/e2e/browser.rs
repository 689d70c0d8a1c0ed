//! The web UI in a real browser: headless Debian Chromium driven by Playwright
//! (`crates/cli/tests/browser/`, Node.js) against the real binary on SQLite.
//!
//! The Rust side starts the instance and, with the real `s-express admin` commands an
//! operator would type, creates the accounts a person could not create by clicking (the admin
//! and the experts) and the JavaScript subgroup the experts belong to; everything else —
//! registering, submitting, claiming, releasing, assessing, deciding, reading the published
//! case, notification settings, the e-mail intake address, subgroup membership and account
//! administration — the suite does by clicking. It fails with the suite's whole output, and
//! saves a laptop and a phone screenshot of every page under `<target>/screenshots/`.
//!
//! Needs Node.js, `/usr/bin/chromium` and the suite's npm packages; without them the test fails
//! with the command that installs them, unless `S_EXPRESS_TEST_BROWSER=skip`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::instance::{Backend, Instance, Options};

/// The suite's folder.
fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where the screenshots go: `<target>/screenshots` (the target folder holds the binary under
/// test, `<target>/<profile>/s-express`).
fn screenshot_dir() -> PathBuf {
    let binary = Path::new(crate::instance::binary());
    binary
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("screenshots"))
        .unwrap_or_else(|| std::env::temp_dir().join("s-express-screenshots"))
}

fn chromium() -> String {
    #[expect(clippy::disallowed_methods, reason = "tests read their settings")]
    std::env::var("S_EXPRESS_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string())
}

/// What is missing to run the suite, with the command that installs it.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    #[expect(clippy::disallowed_methods, reason = "the test drives Node.js")]
    let node = Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("Node.js (18 or newer): apt-get install -y nodejs npm".to_string());
    }
    if !Path::new(&chromium()).exists() {
        missing.push(format!(
            "Chromium at {}: DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver \
             (or point S_EXPRESS_TEST_CHROMIUM at a Chromium binary)",
            chromium()
        ));
    }
    for package in ["playwright-core", "axe-core"] {
        if !suite_dir().join("node_modules").join(package).exists() {
            missing.push(format!(
                "the npm package {package}: npm ci --prefix {}",
                suite_dir().display()
            ));
        }
    }
    missing
}

const PASSWORD: &str = "correct horse battery staple";
/// An expert the admin manages through `/admin` during the suite.
const SPARE_EXPERT: &str = "hedy";
/// The suite's time limit; it normally takes well under a minute.
const SUITE_LIMIT: Duration = Duration::from_secs(240);

#[test]
fn the_web_ui_works_by_clicking_in_headless_chromium_and_hostile_content_stays_inert() {
    #[expect(clippy::disallowed_methods, reason = "tests read their settings")]
    let skip = std::env::var("S_EXPRESS_TEST_BROWSER").as_deref() == Ok("skip");
    if skip {
        eprintln!("browser suite skipped (S_EXPRESS_TEST_BROWSER=skip)");
        return;
    }
    let missing = missing_prerequisites();
    assert!(
        missing.is_empty(),
        "the browser suite cannot run; install:\n  - {}\n(`.ci/run` installs all of them; set S_EXPRESS_TEST_BROWSER=skip to skip this test)",
        missing.join("\n  - ")
    );

    // A mail intake domain, so the settings page offers the E-mail intake section.
    let sx = Instance::start_with(
        Backend::Sqlite,
        Options {
            config_toml: Some("[mail]\nintake_domain = \"intake.example.invalid\"\n".into()),
            ..Options::default()
        },
    );
    sx.create_user("root", &["admin"], PASSWORD);
    let experts = ["ada", "grace"];
    for expert in experts {
        sx.create_user(expert, &["expert"], PASSWORD);
    }
    // An expert in no subgroup yet: the admin adds and removes her on /admin.
    sx.create_user(SPARE_EXPERT, &["expert"], PASSWORD);
    sx.admin(
        &[
            "subgroup",
            "create",
            "javascript",
            "--name",
            "JavaScript and npm",
            "--language",
            "javascript",
        ],
        None,
    );
    for expert in experts {
        sx.admin(&["subgroup", "add-member", "javascript", expert], None);
    }

    let screenshots = screenshot_dir();
    let _ = std::fs::remove_dir_all(&screenshots);
    #[expect(clippy::disallowed_methods, reason = "the test drives Node.js")]
    let mut node = Command::new("node");
    node.arg(suite_dir().join("suite.mjs"))
        .current_dir(suite_dir())
        .env("SX_BASE_URL", &sx.base_url)
        .env("SX_PASSWORD", PASSWORD)
        .env("SX_ADMIN", "root")
        .env("SX_EXPERTS", experts.join(","))
        .env("SX_SPARE_EXPERT", SPARE_EXPERT)
        .env("SX_SCREENSHOT_DIR", &screenshots)
        .env("SX_CHROMIUM", chromium())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (status, output) = run_with_limit(&mut node, SUITE_LIMIT);
    let passed = status == Some(true);
    assert!(
        passed,
        "the browser suite {} (screenshots in {}):\n{output}\n--- s-express serve output (last 60 lines) ---\n{}",
        match status {
            None => format!("did not finish within {} s", SUITE_LIMIT.as_secs()),
            Some(_) => "failed".to_string(),
        },
        screenshots.display(),
        last_lines(&sx.log_text(), 60)
    );
    println!("{output}");
}

/// Runs `cmd` to its end or until `limit` (then kills it); returns whether it succeeded
/// (`None`: killed at the limit) and its stdout followed by its stderr.
fn run_with_limit(cmd: &mut Command, limit: Duration) -> (Option<bool>, String) {
    let mut child = cmd.spawn().expect("node starts");
    let mut readers = Vec::new();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        readers.push(std::thread::spawn(move || {
            let mut text = String::new();
            let mut pipe = pipe;
            let _ = pipe.read_to_string(&mut text);
            text
        }));
    }
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status.success()),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    (status, output)
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
