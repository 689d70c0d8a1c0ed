//! # sx-server: the S-Express service
//!
//! ## The model
//!
//! One axum application over one [`sx_store::Store`]. A request comes in through the one route
//! table ([`routes`]), passes the security-header middleware, the request-body limit and the
//! authentication extractors ([`auth`]), and reaches a JSON handler in [`api`]. A handler never
//! decides a rule itself: it loads aggregates from the store, asks the domain crate
//! (`sx_domain`) for the decision (a case command returning a `Transition`, or the TLP
//! `may_view` verdict), and saves the result; the store appends the transition's events to the
//! transparency log in the same transaction. Slow work (running the analyzer on a submitted
//! change) is a durable job ([`jobs`]) run by a worker loop that leases jobs from the store, so
//! a crash between receipt and analysis loses nothing and several replicas never run a job
//! twice.
//!
//! Every error leaves as JSON `{code, message}` with a stable `code` ([`error::ErrorCode`]);
//! causes are logged, never sent. A case a viewer may not see answers 404, exactly like a case
//! that does not exist, so probing ids reveals nothing.
//!
//! ## Entry points
//!
//! * [`serve`]: the HTTP API plus (unless disabled) the job worker, until a shutdown signal.
//! * [`work`]: only the job worker (`s-express worker`).
//! * [`AppState::open`] + [`routes::router`]: the in-process application, for tests.
//! * [`accounts`]: creating users and tokens (the `admin` command and tests use it).
//! * [`admin`]: subgroups and account state, shared by `s-express admin` and `/admin`.
//! * [`mail::deliver`]: one forwarded e-mail into a case (`s-express mail deliver|maildir`).

#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod api;
pub mod auth;
pub mod changes;
pub mod config;
pub mod dataset;
pub mod error;
pub mod hooks;
pub mod jobs;
pub mod mail;
pub mod notify;
pub mod pages;
pub mod ratelimit;
pub mod reports;
pub mod routes;
pub mod security;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use sx_analyzer::Analyzer;
use sx_store::AnyStore;
use tokio::sync::{Notify, watch};

pub use config::{Config, ConfigError, ConfigLayer};
pub use error::{ApiError, ErrorCode};

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("could not open the database {url}: {source}")]
    Store {
        /// The database URL (without credentials).
        url: String,
        /// What went wrong.
        source: sx_store::StoreError,
    },
    /// The built-in analyzer rules failed to compile (a bug in this build).
    #[error("the built-in analyzer failed to build: {0}")]
    Analyzer(String),
    /// The data directory could not be created.
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error(
        "could not listen on {addr}: {source}; is another process using the port? Use --listen to pick another"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP server failed while running.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// Everything a handler or job needs, cheap to clone (all shared behind `Arc`s).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: AnyStore,
    /// The resolved configuration.
    pub config: Arc<Config>,
    /// The domain policy derived from the configuration (grace period, SLA).
    pub policy: Arc<sx_domain::Policy>,
    /// The analyzer, built once (its automaton is compiled at start-up).
    pub analyzer: Arc<Analyzer>,
    /// Login attempts, per IP and per account.
    pub login_limiter: Arc<ratelimit::RateLimiter>,
    /// Case submissions, per IP and per account.
    pub submit_limiter: Arc<ratelimit::RateLimiter>,
    /// Wakes the local job worker as soon as a job is enqueued (other replicas poll).
    pub job_wakeup: Arc<Notify>,
}

impl AppState {
    /// Opens the store the configuration names (creating the data directory and the SQLite
    /// file on first start) and builds the shared state.
    ///
    /// # Errors
    /// When the data directory cannot be created, the database cannot be opened, or the
    /// analyzer fails to build.
    pub async fn open(config: Config) -> Result<Self, ServerError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let url = config.database_url();
        let mut options = sx_store::OpenOptions::default();
        options.sla_first_assessment_due = time::Duration::hours(i64::from(config.sla_hours));
        let store = sx_store::open_with(&url, &options)
            .await
            .map_err(|source| ServerError::Store {
                url: config::redact_url(&url),
                source,
            })?;
        // Change texts older versions kept as files move into the database once.
        if let Err(e) = changes::import_legacy(&store, &config.data_dir).await {
            tracing::error!(error = %e, "could not import the legacy change files; retrying at the next start");
        }
        Self::with_store(config, store)
    }

    /// Builds the shared state over an already opened store.
    ///
    /// # Errors
    /// When the analyzer fails to build.
    pub fn with_store(config: Config, store: AnyStore) -> Result<Self, ServerError> {
        let analyzer = Analyzer::builtin().map_err(|e| ServerError::Analyzer(e.to_string()))?;
        let policy = config.policy();
        Ok(AppState {
            store,
            login_limiter: Arc::new(ratelimit::RateLimiter::new(config.login_rate)),
            submit_limiter: Arc::new(ratelimit::RateLimiter::new(config.submit_rate)),
            policy: Arc::new(policy),
            config: Arc::new(config),
            analyzer: Arc::new(analyzer),
            job_wakeup: Arc::new(Notify::new()),
        })
    }
}

/// Installs a `tracing` subscriber writing to stderr, filtered by `RUST_LOG` (default `info`).
/// Safe to call more than once; later calls do nothing.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Like [`init_logging`], but appending to a file (no colours): for commands whose standard
/// error goes somewhere else, such as `s-express mail deliver`, whose output an MTA puts into
/// bounces.
///
/// # Errors
/// When the file cannot be opened for appending.
pub fn init_logging_to_file(path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// Resolves when the process receives SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C; only SIGTERM stops the server");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Runs the HTTP API (and, if `config.run_worker`, the job worker) until `shutdown` resolves.
/// Then, at the same time: the listener closes and in-flight requests finish (for at most
/// [`HTTP_DRAIN`]), and the worker stops leasing and gives the job it holds
/// [`jobs::SHUTDOWN_GRACE`] to finish before releasing its lease (not counted as a failed
/// attempt) so another replica or the next start takes it at once. Then the database pool is
/// closed.
///
/// # Errors
/// When the state cannot be built, the address cannot be bound, or the server fails.
pub async fn serve(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listen = config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: listen,
        source,
    })?;
    // Port 0 picks a free port; a defaulted public URL must name the real one.
    if config.public_base_url == format!("http://{listen}") {
        config.public_base_url = format!("http://{local}");
    }
    let state = AppState::open(config).await?;
    eprintln!(
        "S-Express listens on http://{local} (public URL {})",
        state.config.public_base_url
    );
    eprintln!(
        "Database: {}",
        config::redact_url(&state.config.database_url())
    );
    eprintln!("Create the first admin with: s-express admin create-user --admin <HANDLE>");
    serve_on(listener, state, shutdown).await
}

/// [`serve`] on an already bound listener and built state (tests bind port 0 themselves).
///
/// # Errors
/// When the server fails.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    if let Ok(local) = listener.local_addr() {
        tracing::info!(
            listen = %local,
            database = %config::redact_url(&state.config.database_url()),
            public_base_url = %state.config.public_base_url,
            "S-Express is listening"
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = state
        .config
        .run_worker
        .then(|| tokio::spawn(jobs::run_worker(state.clone(), stop_rx.clone())));
    // One signal stops both halves at once: the worker must not wait for the HTTP drain.
    let signalled = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests and the job in hand");
        let _ = stop_tx.send(true);
    };
    let app = routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(signalled);
    let mut drain_deadline = stop_rx;
    let result = tokio::select! {
        result = server => result,
        // Requests still running HTTP_DRAIN after the signal (a slow client holding a
        // connection open) are cut off rather than holding the process forever.
        () = async {
            let _ = drain_deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(HTTP_DRAIN).await;
        } => {
            tracing::warn!(seconds = HTTP_DRAIN.as_secs(), "requests still running after the drain period were cut off");
            Ok(())
        }
    };
    tracing::info!("HTTP server stopped");
    if let Some(worker) = worker
        && let Err(e) = worker.await
    {
        tracing::error!(error = %e, "the job worker panicked");
    }
    state.store.close().await;
    tracing::info!("shut down cleanly");
    result.map_err(ServerError::Serve)
}

/// How long in-flight requests may run after a shutdown signal.
pub const HTTP_DRAIN: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs only the job worker until `shutdown` resolves (`s-express worker`).
///
/// # Errors
/// When the state cannot be built.
pub async fn work(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let state = AppState::open(config).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(jobs::run_worker(state.clone(), stop_rx));
    shutdown.await;
    let _ = stop_tx.send(true);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "the job worker panicked");
    }
    state.store.close().await;
    Ok(())
}
