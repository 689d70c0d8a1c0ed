//! The open dataset (`/dataset`): published cases as JSONL/CSV snapshots.
//!
//! # Model
//!
//! One [`record::Record`] per published case: what the maintainer feared, what the analyzer
//! found, what the experts concluded and what the maintainer decided (schema in
//! `docs/dataset.md` and `docs/dataset.schema.json`). [`record::record`] decides visibility
//! with the domain's TLP rules and redacts secrets ([`redact`]); [`for_each_record`] walks
//! every published case through it, for the CLI's `s-express export` and for the snapshots
//! here.
//!
//! Snapshots are built once a day by the `build_dataset` job ([`crate::jobs::build_dataset`])
//! and stored in the database ([`sx_store::dataset`]), like the trend reports, so every replica
//! serves the same files: `/dataset` and its downloads always serve the newest **complete**
//! snapshot, with the SHA-256 checksums and build time recorded when it was built (also at
//! `/dataset/latest.sha256`, in `sha256sum -c` format). Files are streamed from the database
//! chunk by chunk. Only before the very first snapshot exists does a request build one on
//! the spot (under a process-wide lock, and claimed in the store like the job's build, so
//! replicas and the job never build the same day twice); while someone else builds that first
//! one, the answer is `503` with `Retry-After`. The licence is the operator's choice
//! (`dataset_license`, default CC0-1.0) and is recorded in each snapshot.

pub mod record;
pub mod redact;

use std::collections::HashMap;
use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sx_store::dataset::DatasetClaim;
use sx_store::{AnyStore, PublishedCursor, PublishedFilter, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;
use crate::pages::{PageError, Shell};
use record::Record;

/// A build that has written nothing for this long is taken to have died; another builder
/// takes the day over.
pub const STALE_BUILD: time::Duration = time::Duration::minutes(15);

/// Complete snapshots kept in the database (the newest, and the previous one for downloads
/// still in flight).
pub const KEEP_SNAPSHOTS: u32 = 2;

/// The JSON Schema every record validates against.
pub const SCHEMA_JSON: &str = include_str!("../../../../docs/dataset.schema.json");

/// Cases fetched per store query while exporting.
const PAGE: u32 = 500;

/// Why the dataset could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The store failed.
    #[error("could not read published cases: {0}")]
    Store(#[from] StoreError),
    /// A stored snapshot's description could not be read back.
    #[error("stored dataset snapshot {id} is unreadable: {reason}")]
    Corrupt {
        /// The snapshot.
        id: uuid::Uuid,
        /// Why.
        reason: String,
    },
    /// The record writer failed (e.g. a closed pipe).
    #[error("could not write a dataset record: {0}")]
    Write(String),
}

/// Walks every published case newest first, one store page at a time, as dataset records.
#[derive(Debug)]
pub struct RecordPages<'a> {
    store: &'a AnyStore,
    with_files: bool,
    since: Option<OffsetDateTime>,
    before: Option<PublishedCursor>,
    done: bool,
    projects: HashMap<sx_domain::ProjectId, Option<sx_domain::Project>>,
}

impl<'a> RecordPages<'a> {
    /// Records of cases published at or after `since` when given. With `with_files`, each
    /// case's change text is read from the store for per-kind file counts (one more query per
    /// case).
    #[must_use]
    pub fn new(store: &'a AnyStore, with_files: bool, since: Option<OffsetDateTime>) -> Self {
        RecordPages {
            store,
            with_files,
            since,
            before: None,
            done: false,
            projects: HashMap::new(),
        }
    }

    /// The next page of records (possibly empty when a whole page was left out), or `None`
    /// at the end.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Record>>, DatasetError> {
        if self.done {
            return Ok(None);
        }
        let filter = PublishedFilter {
            published_from: self.since,
            before: self.before,
            limit: PAGE,
            ..Default::default()
        };
        let page = self.store.list_published(&filter).await?;
        let full = page.len() == PAGE as usize;
        let mut out = Vec::with_capacity(page.len());
        for case in &page {
            let case = &case.value;
            self.before = case.published_at.map(|published_at| PublishedCursor {
                published_at,
                case_id: case.id,
            });
            if let std::collections::hash_map::Entry::Vacant(slot) =
                self.projects.entry(case.project_id)
            {
                slot.insert(
                    self.store
                        .get_project(case.project_id)
                        .await?
                        .map(|v| v.value),
                );
            }
            let Some(Some(project)) = self.projects.get(&case.project_id) else {
                tracing::warn!(case = %case.id, "published case names a missing project; left out of the dataset");
                continue;
            };
            let text = match (self.with_files, case.source.patch_ref.as_deref()) {
                (true, Some(r)) => self.store.get_change_text(r).await?,
                _ => None,
            };
            if let Some(r) = record::record(case, project, text.as_deref()) {
                out.push(r);
            }
        }
        if !full || self.before.is_none() {
            self.done = true;
        }
        Ok(Some(out))
    }
}

/// Calls `each` with the record of every published case, newest first, published at or after
/// `since` when given. With `with_files`, each case's change text is read from the store for
/// per-kind file counts (one more query per case). Returns the number of records.
///
/// # Errors
/// When the store fails or `each` fails.
pub async fn for_each_record(
    store: &AnyStore,
    with_files: bool,
    since: Option<OffsetDateTime>,
    mut each: impl FnMut(&Record) -> Result<(), String>,
) -> Result<u64, DatasetError> {
    let mut pages = RecordPages::new(store, with_files, since);
    let mut count = 0u64;
    while let Some(page) = pages.next_page().await? {
        for r in &page {
            each(r).map_err(DatasetError::Write)?;
            count += 1;
        }
    }
    Ok(count)
}

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name (offered as the download's name).
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

/// A snapshot's description (`/dataset/latest.json`; stored with the snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Record schema version.
    pub schema_version: u32,
    /// When it was built (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Records (published cases).
    pub records: u64,
    /// SPDX licence id.
    pub license: String,
    /// The JSON Lines file.
    pub jsonl: SnapshotFile,
    /// The CSV file.
    pub csv: SnapshotFile,
}

/// A complete snapshot as stored: its id (the key of its chunks) and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// Snapshot id.
    pub id: uuid::Uuid,
    /// Description.
    pub snapshot: Snapshot,
}

/// One file of a snapshot being built: text is appended, hashed, and written to the store in
/// chunks as soon as a chunk is full.
struct ChunkSink {
    file: &'static str,
    buf: Vec<u8>,
    seq: u32,
    hash: Sha256,
    bytes: u64,
}

impl ChunkSink {
    fn new(file: &'static str) -> Self {
        ChunkSink {
            file,
            buf: Vec::new(),
            seq: 0,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    fn push(&mut self, s: &str) {
        self.hash.update(s.as_bytes());
        self.bytes += s.len() as u64;
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Writes every full chunk (and with `last`, the rest); returns whether it wrote any.
    async fn flush(
        &mut self,
        store: &AnyStore,
        snapshot: uuid::Uuid,
        chunk_bytes: usize,
        last: bool,
    ) -> Result<bool, DatasetError> {
        let mut wrote = false;
        while self.buf.len() >= chunk_bytes || (last && !self.buf.is_empty()) {
            let n = self.buf.len().min(chunk_bytes);
            let rest = self.buf.split_off(n);
            let chunk = std::mem::replace(&mut self.buf, rest);
            store
                .put_dataset_chunk(
                    snapshot,
                    self.file,
                    self.seq,
                    &chunk,
                    OffsetDateTime::now_utc(),
                )
                .await?;
            self.seq += 1;
            wrote = true;
        }
        Ok(wrote)
    }

    fn finish(self, name: String) -> SnapshotFile {
        SnapshotFile {
            name,
            bytes: self.bytes,
            sha256: hex::encode(self.hash.finalize()),
        }
    }
}

/// Who builds a snapshot and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Recorded as the builder (a job id, or `request:…`).
    pub builder: String,
    /// A job's lease to renew while the build runs: `(job id, worker)`.
    pub lease: Option<(uuid::Uuid, String)>,
    /// Largest stored chunk, in bytes.
    pub chunk_bytes: usize,
}

impl BuildOptions {
    /// Options for `builder` with the store's chunk size and no lease.
    #[must_use]
    pub fn new(builder: impl Into<String>) -> Self {
        BuildOptions {
            builder: builder.into(),
            lease: None,
            chunk_bytes: sx_store::dataset::CHUNK_BYTES,
        }
    }
}

/// What a build attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    /// Built and stored this snapshot.
    Built(StoredSnapshot),
    /// The day's snapshot already exists.
    AlreadyComplete,
    /// Someone else is building the day's snapshot.
    InProgress,
}

/// The UTC day a snapshot built at `now` belongs to, `YYYY-MM-DD`.
#[must_use]
pub fn snapshot_day(now: OffsetDateTime) -> String {
    crate::reports::period::format_date(now.to_offset(time::UtcOffset::UTC).date())
}

/// Builds the snapshot of `now`'s UTC day and stores it, unless it exists or is being built.
/// The claim in the store makes this safe to run from several replicas and jobs at once.
///
/// # Errors
/// When the store fails; the partial snapshot is dropped so a retry starts afresh.
pub async fn build(
    state: &AppState,
    now: OffsetDateTime,
    options: &BuildOptions,
) -> Result<BuildOutcome, DatasetError> {
    let day = snapshot_day(now);
    let id = match state
        .store
        .claim_dataset_snapshot(&day, &options.builder, now - STALE_BUILD, now)
        .await?
    {
        DatasetClaim::Started(id) => id,
        DatasetClaim::Complete => return Ok(BuildOutcome::AlreadyComplete),
        DatasetClaim::InProgress => return Ok(BuildOutcome::InProgress),
    };
    match write_snapshot(state, id, now, options).await {
        Ok(snapshot) => Ok(BuildOutcome::Built(StoredSnapshot { id, snapshot })),
        Err(e) => {
            if let Err(cleanup) = state.store.abandon_dataset_snapshot(id).await {
                tracing::warn!(error = %cleanup, snapshot = %id, "could not drop a failed dataset build; it is taken over once stale");
            }
            Err(e)
        }
    }
}

async fn write_snapshot(
    state: &AppState,
    id: uuid::Uuid,
    now: OffsetDateTime,
    options: &BuildOptions,
) -> Result<Snapshot, DatasetError> {
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    let name = |ext: &str| {
        format!(
            "s-express-dataset-v{}-{stamp}.{ext}",
            record::SCHEMA_VERSION
        )
    };
    let chunk = options.chunk_bytes.max(1);
    let mut jsonl = ChunkSink::new("jsonl");
    let mut csv = ChunkSink::new("csv");
    csv.push(&record::csv_line(&record::CSV_COLUMNS.map(String::from)));
    let mut records = 0u64;
    let mut pages = RecordPages::new(&state.store, true, None);
    while let Some(page) = pages.next_page().await? {
        for r in &page {
            let line = serde_json::to_string(r).map_err(|e| DatasetError::Write(e.to_string()))?;
            jsonl.push(&line);
            jsonl.push("\n");
            csv.push(&record::csv_line(&record::csv_row(r)));
            records += 1;
        }
        let wrote = jsonl.flush(&state.store, id, chunk, false).await?
            | csv.flush(&state.store, id, chunk, false).await?;
        if wrote && let Some((job, worker)) = &options.lease {
            state
                .store
                .renew_job_lease(*job, worker, crate::jobs::LEASE, OffsetDateTime::now_utc())
                .await?;
        }
    }
    jsonl.flush(&state.store, id, chunk, true).await?;
    csv.flush(&state.store, id, chunk, true).await?;
    let snapshot = Snapshot {
        schema_version: record::SCHEMA_VERSION,
        generated_at: now,
        records,
        license: state.config.dataset_license.clone(),
        jsonl: jsonl.finish(name("jsonl")),
        csv: csv.finish(name("csv")),
    };
    let doc = serde_json::to_value(&snapshot).map_err(|e| DatasetError::Write(e.to_string()))?;
    state
        .store
        .complete_dataset_snapshot(id, &doc, KEEP_SNAPSHOTS, OffsetDateTime::now_utc())
        .await?;
    Ok(snapshot)
}

fn decode(row: sx_store::dataset::DatasetSnapshot) -> Result<StoredSnapshot, DatasetError> {
    let doc = row.doc.ok_or_else(|| DatasetError::Corrupt {
        id: row.id,
        reason: "no description".into(),
    })?;
    let snapshot = serde_json::from_value(doc).map_err(|e| DatasetError::Corrupt {
        id: row.id,
        reason: e.to_string(),
    })?;
    Ok(StoredSnapshot {
        id: row.id,
        snapshot,
    })
}

static BUILD_LOCK: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(|| tokio::sync::Mutex::new(()));

/// The newest stored snapshot. Only when none exists yet is one built on the spot (the
/// fallback before the daily job's first run); `None` while someone else builds that first one.
///
/// # Errors
/// When the store fails or the fallback build fails.
pub async fn latest(state: &AppState) -> Result<Option<StoredSnapshot>, DatasetError> {
    if let Some(row) = state.store.latest_dataset_snapshot().await? {
        return decode(row).map(Some);
    }
    let _guard = BUILD_LOCK.lock().await;
    // Someone may have built it while this request waited for the lock.
    if let Some(row) = state.store.latest_dataset_snapshot().await? {
        return decode(row).map(Some);
    }
    let builder = format!("request:{}", uuid::Uuid::new_v4());
    match build(
        state,
        OffsetDateTime::now_utc(),
        &BuildOptions::new(builder),
    )
    .await?
    {
        BuildOutcome::Built(s) => Ok(Some(s)),
        BuildOutcome::AlreadyComplete => match state.store.latest_dataset_snapshot().await? {
            Some(row) => decode(row).map(Some),
            None => Ok(None),
        },
        BuildOutcome::InProgress => Ok(None),
    }
}

/// The dataset page and its downloads.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dataset", get(page))
        .route("/dataset/latest.json", get(latest_json))
        .route("/dataset/latest.jsonl", get(latest_jsonl))
        .route("/dataset/latest.csv", get(latest_csv))
        .route("/dataset/latest.sha256", get(latest_sha256))
        .route("/dataset/schema.json", get(schema))
}

/// Web address of well-known licences.
#[must_use]
pub fn license_url(spdx: &str) -> Option<&'static str> {
    Some(match spdx {
        "CC0-1.0" => "https://creativecommons.org/publicdomain/zero/1.0/",
        "CC-BY-4.0" => "https://creativecommons.org/licenses/by/4.0/",
        "CC-BY-SA-4.0" => "https://creativecommons.org/licenses/by-sa/4.0/",
        "ODbL-1.0" => "https://opendatacommons.org/licenses/odbl/1-0/",
        "PDDL-1.0" => "https://opendatacommons.org/licenses/pddl/1-0/",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "dataset.html")]
struct DatasetPage {
    shell: Shell,
    snapshot: Snapshot,
    generated: String,
    license_url: Option<&'static str>,
    schema_version: u32,
}

fn failed(e: DatasetError) -> Response {
    PageError::internal(e).into_response()
}

/// Seconds a client is asked to wait while the first snapshot is being built.
const RETRY_AFTER_SECONDS: u64 = 60;

/// `503` while the first snapshot is still being built elsewhere.
fn building() -> Response {
    let mut response = PageError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The first dataset snapshot is being built",
        "This instance is building its first open-dataset snapshot right now. Try again in a minute.",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// The newest snapshot, or the response to give instead.
async fn latest_or_response(state: &AppState) -> Result<StoredSnapshot, Response> {
    match latest(state).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(building()),
        Err(e) => Err(failed(e)),
    }
}

async fn page(State(state): State<AppState>) -> Response {
    let stored = match latest_or_response(&state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let snapshot = stored.snapshot;
    let page = DatasetPage {
        shell: Shell::anonymous("Open dataset"),
        generated: crate::pages::format_time(snapshot.generated_at),
        license_url: license_url(&snapshot.license),
        snapshot,
        schema_version: record::SCHEMA_VERSION,
    };
    match page.render() {
        Ok(html) => (
            [(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            )],
            axum::response::Html(html),
        )
            .into_response(),
        Err(e) => PageError::internal(e).into_response(),
    }
}

fn download(body: Body, content_type: &'static str, name: Option<&str>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    // File names are generated here (digits and fixed text), so they are header-safe.
    if let Some(name) = name
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A stored file, streamed chunk by chunk from the database.
fn stream_file(state: &AppState, snapshot: uuid::Uuid, file: &'static str) -> Body {
    let store = state.store.clone();
    let chunks = futures_util::stream::try_unfold(0u32, move |seq| {
        let store = store.clone();
        async move {
            match store.get_dataset_chunk(snapshot, file, seq).await {
                Ok(Some(data)) => Ok(Some((Bytes::from(data), seq + 1))),
                Ok(None) => Ok(None),
                Err(e) => {
                    tracing::error!(error = %e, %snapshot, file, seq, "dataset download failed midway");
                    Err(e)
                }
            }
        }
    });
    Body::from_stream(chunks)
}

async fn latest_json(State(state): State<AppState>) -> Response {
    match latest_or_response(&state).await {
        Ok(s) => match serde_json::to_vec_pretty(&s.snapshot) {
            Ok(body) => download(Body::from(body), "application/json", None),
            Err(e) => failed(DatasetError::Write(e.to_string())),
        },
        Err(r) => r,
    }
}

async fn latest_jsonl(State(state): State<AppState>) -> Response {
    match latest_or_response(&state).await {
        Ok(s) => download(
            stream_file(&state, s.id, "jsonl"),
            "application/x-ndjson; charset=utf-8",
            Some(&s.snapshot.jsonl.name),
        ),
        Err(r) => r,
    }
}

async fn latest_csv(State(state): State<AppState>) -> Response {
    match latest_or_response(&state).await {
        Ok(s) => download(
            stream_file(&state, s.id, "csv"),
            "text/csv; charset=utf-8; header=present",
            Some(&s.snapshot.csv.name),
        ),
        Err(r) => r,
    }
}

async fn latest_sha256(State(state): State<AppState>) -> Response {
    match latest_or_response(&state).await {
        Ok(s) => {
            let s = s.snapshot;
            download(
                Body::from(format!(
                    "{}  {}\n{}  {}\n",
                    s.jsonl.sha256, s.jsonl.name, s.csv.sha256, s.csv.name
                )),
                "text/plain; charset=utf-8",
                None,
            )
        }
        Err(r) => r,
    }
}

async fn schema() -> Response {
    download(
        Body::from(SCHEMA_JSON.as_bytes()),
        "application/schema+json",
        None,
    )
}
