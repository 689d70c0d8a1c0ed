//! A running `s-express serve`: the real binary on a free port, on a fresh SQLite file or a
//! fresh PostgreSQL schema, stopped with SIGTERM (and its schema dropped) when dropped.
//!
//! Every journey test starts its own instance, so tests run in parallel without sharing state.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Which database the instance runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file in the instance's data directory (the default of `serve`).
    Sqlite,
    /// A fresh schema in the PostgreSQL database named by `S_EXPRESS_TEST_POSTGRES_URL`
    /// (default `postgres://postgres@127.0.0.1:5432/test`).
    Postgres,
}

impl Backend {
    /// Both backends, for tests that run once per backend.
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];
}

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    #[expect(clippy::disallowed_methods, reason = "tests read their settings")]
    std::env::var("S_EXPRESS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether PostgreSQL tests are skipped (`S_EXPRESS_TEST_POSTGRES=skip`); by default they run
/// and fail when the database is unreachable.
#[expect(clippy::disallowed_methods, reason = "tests read their settings")]
pub fn postgres_skipped() -> bool {
    std::env::var("S_EXPRESS_TEST_POSTGRES").as_deref() == Ok("skip")
}

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_s-express")
}

/// A `Command` for the binary under test, with the environment cleared of settings that
/// would leak in from the developer's shell.
pub fn command() -> Command {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test runs the binary under test"
    )]
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("S_EXPRESS_") && !key.starts_with("S_EXPRESS_TEST") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Runs the binary with `args` and `stdin`, waiting for it to exit.
pub fn run(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = command();
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the s-express binary starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().expect("the s-express binary runs")
}

/// A running instance.
#[derive(Debug)]
pub struct Instance {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The database URL the instance uses (pass it to `admin` commands).
    pub database_url: String,
    /// Which backend.
    pub backend: Backend,
    /// The data directory (also the working directory of the process).
    pub data_dir: PathBuf,
    child: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
    /// Shared by an instance and its replicas; the schema is dropped with the last of them.
    pg_schema: Option<Arc<Schema>>,
    _dir: tempfile::TempDir,
}

/// A PostgreSQL schema made for one test, dropped when the last instance using it is dropped.
#[derive(Debug)]
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        psql(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0));
    }
}

/// Settings for [`Instance::start_with`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Extra `serve` arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// A TOML config file's contents, written to the data directory and passed by `--config`.
    pub config_toml: Option<String>,
}

impl Instance {
    /// Starts `s-express serve` on `backend` with default settings.
    pub fn start(backend: Backend) -> Instance {
        Instance::start_with(backend, Options::default())
    }

    /// Starts `s-express serve` on `backend` and waits until it listens.
    pub fn start_with(backend: Backend, options: Options) -> Instance {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data_dir = dir.path().to_path_buf();
        let (database_url, pg_schema) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", data_dir.join("s-express.db").display()),
                None,
            ),
            Backend::Postgres => {
                let schema = format!("sx_e2e_{}", uuid_like());
                psql(&format!("CREATE SCHEMA \"{schema}\""));
                let base = postgres_url();
                let sep = if base.contains('?') { '&' } else { '?' };
                (
                    format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    Some(Arc::new(Schema(schema))),
                )
            }
        };
        Instance::spawn(backend, database_url, pg_schema, dir, &options)
    }

    /// Starts another `s-express serve` process on this instance's database (a replica: its
    /// own port and data directory, the same database URL) and waits until it listens. On
    /// PostgreSQL the schema lives until every replica is dropped.
    pub fn start_replica(&self, options: Options) -> Instance {
        let dir = tempfile::tempdir().expect("a temporary directory");
        Instance::spawn(
            self.backend,
            self.database_url.clone(),
            self.pg_schema.clone(),
            dir,
            &options,
        )
    }

    /// Runs one query on this instance's PostgreSQL schema with `psql` and returns its
    /// unaligned output (`|` between columns, one row a line). Panics on SQLite instances.
    pub fn sql(&self, query: &str) -> String {
        let schema = self
            .pg_schema
            .as_ref()
            .expect("Instance::sql needs a PostgreSQL instance");
        #[expect(clippy::disallowed_methods, reason = "tests drive psql")]
        let out = Command::new("psql")
            .arg(postgres_url())
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-At", "-c"])
            .arg(format!("SET search_path TO \"{}\"; {query}", schema.0))
            .stdin(Stdio::null())
            .output()
            .expect("psql runs (is the PostgreSQL client installed?)");
        assert!(
            out.status.success(),
            "psql {query:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn spawn(
        backend: Backend,
        database_url: String,
        pg_schema: Option<Arc<Schema>>,
        dir: tempfile::TempDir,
        options: &Options,
    ) -> Instance {
        let data_dir = dir.path().to_path_buf();
        let mut cmd = command();
        cmd.current_dir(&data_dir)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--database")
            .arg(&database_url);
        if let Some(toml) = &options.config_toml {
            let path = data_dir.join("s-express.toml");
            std::fs::write(&path, toml).expect("the config file is written");
            cmd.arg("--config").arg(path);
        }
        cmd.args(&options.args)
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("s-express serve starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        // Drain both pipes for the life of the process (a full pipe would block the server);
        // the first "listens on http://…" line names the port.
        for pipe in [
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listens on ").nth(1)
                        && let Some(url) = rest.split_whitespace().next()
                    {
                        let _ = tx.send(url.to_string());
                    }
                    if let Ok(mut log) = log.lock() {
                        log.push(line);
                    }
                }
            });
        }
        let mut instance = Instance {
            base_url: String::new(),
            database_url,
            backend,
            data_dir,
            child: Some(child),
            log,
            pg_schema,
            _dir: dir,
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => instance.base_url = url,
            Err(_) => panic!(
                "s-express serve did not report its address within 60 s; its output:\n{}",
                instance.log_text()
            ),
        }
        instance
    }

    /// Everything the process printed so far (stderr and stdout), for failure messages.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Runs `s-express admin --database <this instance's database> ARGS…`.
    pub fn admin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut all = vec!["admin", "--database", self.database_url.as_str()];
        all.extend_from_slice(args);
        let out = run(&all, stdin, &[]);
        assert!(
            out.status.success(),
            "s-express admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Creates a user with `roles` (e.g. `["expert"]`; "admin" gives `--admin`) and password
    /// `password`, and returns a fresh API token for it.
    pub fn create_user(&self, handle: &str, roles: &[&str], password: &str) -> String {
        let mut args = vec!["create-user", handle, "--password-stdin", "--token", "test"];
        for role in roles {
            if *role == "admin" {
                args.push("--admin");
            } else {
                args.push("--role");
                args.push(role);
            }
        }
        let out = self.admin(&args, Some(format!("{password}\n").as_bytes()));
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.split("store it now): ").nth(1))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| panic!("no token in the admin output: {text}"))
    }

    /// Sends SIGTERM and waits (up to 30 s) for a clean exit; returns the exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        #[expect(
            clippy::disallowed_methods,
            reason = "SIGTERM through kill(1): no unsafe libc call"
        )]
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    let _ = child.kill();
                    return child.wait().ok();
                }
            }
        }
    }

    /// The data directory as a path.
    pub fn dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
        // The last holder of the schema drops it (see `Schema`).
        self.pg_schema.take();
    }
}

/// Runs one SQL statement on the test PostgreSQL database with `psql`.
pub fn psql(sql: &str) {
    #[expect(clippy::disallowed_methods, reason = "tests drive psql")]
    let out = Command::new("psql")
        .arg(postgres_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .expect("psql runs (is the PostgreSQL client installed?)");
    assert!(
        out.status.success(),
        "psql {sql:?} failed: {}\nIs PostgreSQL running on 127.0.0.1:5432? Set S_EXPRESS_TEST_POSTGRES=skip to skip.",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A random lower-case hex name part (no uuid dependency in this test crate).
fn uuid_like() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}
