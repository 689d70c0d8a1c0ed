//! Load test of `s-express serve`: starts the real binary on SQLite or on a fresh PostgreSQL
//! schema, seeds the database, then measures case submissions and case reads over HTTP at a
//! fixed concurrency and prints requests per second with p50/p99 latency.
//!
//! ```text
//! cargo run --release -p s-express --example load -- \
//!     --bin target/release/s-express --backend sqlite --concurrency 16 --seconds 10
//! ```
//! `bench/load/run.sh` runs both backends. What one run does:
//! 1. creates a fresh database (a temporary SQLite file, or a new schema in the PostgreSQL
//!    database named by `--postgres`), loads `--seed-cases` synthetic cases into it with
//!    `s-express admin seed` (so queries run against a realistically sized table), and creates
//!    a maintainer with an API token;
//! 2. starts `s-express serve` on a free port (worker on: every submission is analysed in the
//!    same process while the test runs, as in production), with the submission rate limit
//!    raised out of the way;
//! 3. **submissions**: `--concurrency` client threads POST a distinct ~3 KB diff to
//!    `/api/v1/cases` for `--seconds`; each 201 means the case, its change text and its jobs were
//!    committed;
//! 4. **reads**: the same threads GET `/api/v1/cases/{id}` (the full case with its automated
//!    report, timeline and TLP check) for random submitted cases for `--seconds`;
//! 5. stops the server with SIGTERM and drops the schema.
//!
//! Every thread keeps one HTTP/1.1 keep-alive connection. Latency is measured per request,
//! from send to the last body byte. Any non-2xx answer is counted as an error and reported.

#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark driver: it runs the binary under test and psql, and reads its environment"
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

#[derive(Debug)]
struct Args {
    bin: String,
    backend: String,
    postgres: String,
    concurrency: usize,
    seconds: u64,
    seed_cases: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        bin: "target/release/s-express".into(),
        backend: "sqlite".into(),
        postgres: std::env::var("S_EXPRESS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        concurrency: 16,
        seconds: 10,
        seed_cases: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => args.bin = value()?,
            "--backend" => args.backend = value()?,
            "--postgres" => args.postgres = value()?,
            "--concurrency" => args.concurrency = value()?.parse()?,
            "--seconds" => args.seconds = value()?.parse()?,
            "--seed-cases" => args.seed_cases = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: load [--bin PATH] [--backend sqlite|postgres] [--postgres URL] \
                     [--concurrency N] [--seconds S] [--seed-cases N]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; see --help"),
        }
    }
    if !matches!(args.backend.as_str(), "sqlite" | "postgres") {
        bail!("--backend must be sqlite or postgres");
    }
    if args.concurrency == 0 || args.seconds == 0 {
        bail!("--concurrency and --seconds must be at least 1");
    }
    Ok(args)
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .context("running psql (is the PostgreSQL client installed?)")?;
    if !out.status.success() {
        bail!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// The database of one run; drops the PostgreSQL schema when dropped.
struct Database {
    url: String,
    pg: Option<(String, String)>,
    dir: tempfile::TempDir,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg {
            let _ = psql(base, &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
    }
}

fn database(args: &Args) -> anyhow::Result<Database> {
    let dir = tempfile::tempdir()?;
    if args.backend == "sqlite" {
        return Ok(Database {
            url: format!("sqlite://{}", dir.path().join("load.sqlite").display()),
            pg: None,
            dir,
        });
    }
    let schema = format!("sx_load_{}", std::process::id());
    psql(
        &args.postgres,
        &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
    )?;
    psql(&args.postgres, &format!("CREATE SCHEMA \"{schema}\""))?;
    let sep = if args.postgres.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(Database {
        url: format!("{}{sep}options=-c%20search_path%3D{schema}", args.postgres),
        pg: Some((args.postgres.clone(), schema)),
        dir,
    })
}

fn admin(args: &Args, db: &Database, extra: &[&str], stdin: &str) -> anyhow::Result<String> {
    let mut child = Command::new(&args.bin)
        .args(["admin", "--database", &db.url])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", args.bin))?;
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "s-express admin {extra:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A running server; SIGTERM when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn serve(args: &Args, db: &Database) -> anyhow::Result<Server> {
    let mut child = Command::new(&args.bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url])
        .arg("--data-dir")
        .arg(db.dir.path())
        .env("S_EXPRESS_SUBMIT_PER_MINUTE", "1000000")
        .env("S_EXPRESS_SUBMIT_BURST", "1000000")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {} serve", args.bin))?;
    let stderr = child.stderr.take().context("stderr is piped")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line
                .split("listens on ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
            {
                let _ = tx.send(url.to_string());
            } else if line.contains("ERROR") || line.contains("WARN") {
                eprintln!("server: {line}");
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .context("the server did not report its address within 60 s")?;
    Ok(Server { child, base })
}

/// A ~3 KB change, distinct per `(thread, n)` so content addressing cannot deduplicate it.
fn change(thread: usize, n: u64) -> String {
    let mut d = format!(
        "From: Load Test <load@example.org>\nSubject: [PATCH] refactor parser {thread}-{n}\n\n\
         diff --git a/src/parser_{thread}_{n}.rs b/src/parser_{thread}_{n}.rs\n\
         --- a/src/parser_{thread}_{n}.rs\n+++ b/src/parser_{thread}_{n}.rs\n@@ -1,3 +1,63 @@\n \
         use std::io;\n \n pub fn parse() {{\n"
    );
    for i in 0..60 {
        d.push_str(&format!(
            "+    let value_{i} = input.get({i}).copied().unwrap_or_default(); // step {i} of {n}\n"
        ));
    }
    d
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    ids: Vec<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Runs `concurrency` threads calling `request(thread, agent, n)` until `seconds` pass.
fn phase<F>(args: &Args, request: F) -> (Vec<Tally>, Duration)
where
    F: Fn(usize, &ureq::Agent, u64, &mut Tally) + Sync,
{
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let tallies = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.concurrency)
            .map(|t| {
                let (stop, request) = (&stop, &request);
                s.spawn(move || {
                    let agent = agent();
                    let mut tally = Tally::default();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        request(t, &agent, n, &mut tally);
                        n += 1;
                    }
                    tally
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(args.seconds));
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect::<Vec<_>>()
    });
    (tallies, started.elapsed())
}

fn timed(
    tally: &mut Tally,
    call: impl FnOnce() -> Result<(u16, String), ureq::Error>,
) -> Option<String> {
    let t = Instant::now();
    let result = call();
    let elapsed = t.elapsed();
    match result {
        Ok((status, body)) if (200..300).contains(&status) => {
            tally.latencies.push(elapsed);
            Some(body)
        }
        Ok((status, body)) => {
            tally.errors += 1;
            tally.first_error.get_or_insert_with(|| {
                format!("{status}: {}", body.chars().take(300).collect::<String>())
            });
            None
        }
        Err(e) => {
            tally.errors += 1;
            tally.first_error.get_or_insert_with(|| e.to_string());
            None
        }
    }
}

fn report(what: &str, tallies: &[Tally], wall: Duration, args: &Args) {
    let mut all: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    all.sort_unstable();
    let pct = |p: f64| {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    println!(
        "{:<9} {:<11} c={:<3} {:>7} ok {:>4} err  {:>8.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        args.backend,
        what,
        args.concurrency,
        all.len(),
        errors,
        all.len() as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
    );
    if let Some(e) = tallies.iter().find_map(|t| t.first_error.as_ref()) {
        println!("          first error: {e}");
    }
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let db = database(&args)?;
    if args.seed_cases > 0 {
        let t = Instant::now();
        admin(
            &args,
            &db,
            &[
                "seed",
                "--cases",
                &args.seed_cases.to_string(),
                "--assessments",
                &(args.seed_cases / 5).to_string(),
            ],
            "",
        )?;
        eprintln!(
            "seeded {} cases in {:.1} s",
            args.seed_cases,
            t.elapsed().as_secs_f64()
        );
    }
    let out = admin(
        &args,
        &db,
        &[
            "create-user",
            "loadtest",
            "--role",
            "maintainer",
            "--password-stdin",
            "--token",
            "load",
        ],
        "load test passphrase, long enough\n",
    )?;
    let token = out
        .lines()
        .find_map(|l| l.split("store it now): ").nth(1))
        .map(|t| t.trim().to_string())
        .context("no API token in the output of admin create-user")?;
    let server = serve(&args, &db)?;
    let auth = format!("Bearer {token}");
    let cases_url = format!("{}/api/v1/cases", server.base);

    let (tallies, wall) = phase(&args, |thread, agent, n, tally| {
        let body = serde_json::json!({
            "project": {"forge": "github", "owner": "load", "name": format!("repo{}", thread % 4)},
            "diff": change(thread, n),
            "concern": "load test",
            "suspicion": 2,
        })
        .to_string();
        let answer = timed(tally, || {
            let mut r = agent
                .post(&cases_url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(body.as_bytes())?;
            Ok((r.status().as_u16(), r.body_mut().read_to_string()?))
        });
        if let Some(id) = answer
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| v["id"].as_str().map(str::to_string))
        {
            tally.ids.push(id);
        }
    });
    report("submit", &tallies, wall, &args);
    let ids: Vec<String> = tallies.into_iter().flat_map(|t| t.ids).collect();
    if ids.is_empty() {
        bail!("no submission succeeded; nothing to read");
    }
    // Let the worker attach the reports, so reads return full cases.
    std::thread::sleep(Duration::from_secs(2));

    let (tallies, wall) = phase(&args, |thread, agent, n, tally| {
        // A cheap deterministic spread over the submitted cases.
        let i = (n as usize)
            .wrapping_mul(2_654_435_761)
            .wrapping_add(thread * 7919)
            % ids.len();
        let url = format!("{cases_url}/{}", ids[i]);
        timed(tally, || {
            let mut r = agent.get(&url).header("Authorization", &auth).call()?;
            Ok((r.status().as_u16(), r.body_mut().read_to_string()?))
        });
    });
    report("read case", &tallies, wall, &args);
    drop(server);
    Ok(())
}
