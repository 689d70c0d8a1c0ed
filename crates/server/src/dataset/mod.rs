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
//! Snapshots are built on demand and cached in `<data_dir>/dataset/`: `GET /dataset` (or any
//! download) regenerates the snapshot when it is missing or older than [`MAX_AGE`], under a
//! process-wide lock so concurrent readers wait for one build instead of starting several.
//! Files are written to a temporary name and renamed, so a reader never sees half a file; the
//! page lists each file's size and SHA-256 checksum (also at `/dataset/latest.sha256`, in
//! `sha256sum -c` format). The licence is the operator's choice (`dataset_license`, default
//! CC0-1.0).

pub mod record;
pub mod redact;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sx_store::{AnyStore, PublishedCursor, PublishedFilter, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;
use crate::pages::{PageError, Shell};
use record::Record;

/// A snapshot older than this is rebuilt on the next request.
pub const MAX_AGE: time::Duration = time::Duration::hours(24);

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
    /// A snapshot file could not be written or read.
    #[error("dataset file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The record writer failed (e.g. a closed pipe).
    #[error("could not write a dataset record: {0}")]
    Write(String),
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
    let mut projects: HashMap<sx_domain::ProjectId, Option<sx_domain::Project>> = HashMap::new();
    let mut before: Option<PublishedCursor> = None;
    let mut count = 0u64;
    loop {
        let filter = PublishedFilter {
            published_from: since,
            before,
            limit: PAGE,
            ..Default::default()
        };
        let page = store.list_published(&filter).await?;
        let full = page.len() == PAGE as usize;
        for case in &page {
            let case = &case.value;
            before = case.published_at.map(|published_at| PublishedCursor {
                published_at,
                case_id: case.id,
            });
            if let std::collections::hash_map::Entry::Vacant(slot) = projects.entry(case.project_id)
            {
                slot.insert(store.get_project(case.project_id).await?.map(|v| v.value));
            }
            let Some(Some(project)) = projects.get(&case.project_id) else {
                tracing::warn!(case = %case.id, "published case names a missing project; left out of the dataset");
                continue;
            };
            let text = match (with_files, case.source.patch_ref.as_deref()) {
                (true, Some(r)) => store.get_change_text(r).await?,
                _ => None,
            };
            if let Some(r) = record::record(case, project, text.as_deref()) {
                each(&r).map_err(DatasetError::Write)?;
                count += 1;
            }
        }
        if !full || before.is_none() {
            break;
        }
    }
    Ok(count)
}

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name (under `/dataset/`).
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

/// The newest snapshot's description (`/dataset/latest.json`).
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

fn dir_of(state: &AppState) -> PathBuf {
    state.config.data_dir.join("dataset")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file being written under a temporary name, hashed as it goes.
struct Sink {
    tmp: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    hash: Sha256,
    bytes: u64,
}

impl Sink {
    fn create(dir: &Path, name: &str) -> Result<Self, DatasetError> {
        let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4()));
        let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        Ok(Sink {
            out: std::io::BufWriter::new(file),
            tmp,
            hash: Sha256::new(),
            bytes: 0,
        })
    }

    fn write(&mut self, s: &str) -> Result<(), String> {
        self.hash.update(s.as_bytes());
        self.bytes += s.len() as u64;
        self.out.write_all(s.as_bytes()).map_err(|e| e.to_string())
    }

    fn finish(self, dir: &Path, name: &str) -> Result<SnapshotFile, DatasetError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| DatasetError::Write(e.to_string()))?;
        file.sync_all().map_err(io(&self.tmp))?;
        let path = dir.join(name);
        std::fs::rename(&self.tmp, &path).map_err(io(&path))?;
        Ok(SnapshotFile {
            name: name.to_string(),
            bytes: self.bytes,
            sha256: hex::encode(self.hash.finalize()),
        })
    }
}

/// Builds a fresh snapshot into `<data_dir>/dataset/` and returns its description.
///
/// # Errors
/// When the store fails or a file cannot be written.
pub async fn generate(state: &AppState, now: OffsetDateTime) -> Result<Snapshot, DatasetError> {
    let dir = dir_of(state);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    let jsonl_name = format!(
        "s-express-dataset-v{}-{stamp}.jsonl",
        record::SCHEMA_VERSION
    );
    let csv_name = format!("s-express-dataset-v{}-{stamp}.csv", record::SCHEMA_VERSION);
    let mut jsonl = Sink::create(&dir, &jsonl_name)?;
    let mut csv = Sink::create(&dir, &csv_name)?;
    csv.write(&record::csv_line(&record::CSV_COLUMNS.map(String::from)))
        .map_err(DatasetError::Write)?;
    let records = for_each_record(&state.store, true, None, |r| {
        let line = serde_json::to_string(r).map_err(|e| e.to_string())?;
        jsonl.write(&line)?;
        jsonl.write("\n")?;
        csv.write(&record::csv_line(&record::csv_row(r)))
    })
    .await?;
    let snapshot = Snapshot {
        schema_version: record::SCHEMA_VERSION,
        generated_at: now,
        records,
        license: state.config.dataset_license.clone(),
        jsonl: jsonl.finish(&dir, &jsonl_name)?,
        csv: csv.finish(&dir, &csv_name)?,
    };
    let meta = dir.join("latest.json");
    let tmp = dir.join(format!(".latest.json.{}.tmp", uuid::Uuid::new_v4()));
    let text =
        serde_json::to_vec_pretty(&snapshot).map_err(|e| DatasetError::Write(e.to_string()))?;
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &meta).map_err(io(&meta))?;
    // Keep the new files and the previous generation (a download may still be reading it).
    prune(&dir, &snapshot);
    Ok(snapshot)
}

/// Deletes snapshot files other than the newest two generations.
fn prune(dir: &Path, keep: &Snapshot) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("s-express-dataset-"))
        .collect();
    names.sort();
    // Names sort by timestamp; each generation has two files.
    let old = names.len().saturating_sub(4);
    for name in names.into_iter().take(old) {
        if name != keep.jsonl.name && name != keep.csv.name {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
}

fn read_latest(state: &AppState) -> Option<Snapshot> {
    let text = std::fs::read(dir_of(state).join("latest.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

static BUILD_LOCK: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(|| tokio::sync::Mutex::new(()));

/// The newest snapshot, rebuilt first when missing or older than [`MAX_AGE`].
///
/// # Errors
/// When a rebuild is needed and fails.
pub async fn latest(state: &AppState) -> Result<Snapshot, DatasetError> {
    let fresh = |s: &Snapshot, now: OffsetDateTime| {
        s.generated_at + MAX_AGE > now
            && s.license == state.config.dataset_license
            && s.schema_version == record::SCHEMA_VERSION
    };
    let now = OffsetDateTime::now_utc();
    if let Some(s) = read_latest(state).filter(|s| fresh(s, now)) {
        return Ok(s);
    }
    let _guard = BUILD_LOCK.lock().await;
    // Someone may have built it while this request waited for the lock.
    let now = OffsetDateTime::now_utc();
    if let Some(s) = read_latest(state).filter(|s| fresh(s, now)) {
        return Ok(s);
    }
    generate(state, now).await
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
    max_age_hours: i64,
}

fn failed(e: DatasetError) -> Response {
    PageError::internal(e).into_response()
}

async fn page(State(state): State<AppState>) -> Response {
    let snapshot = match latest(&state).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let page = DatasetPage {
        shell: Shell::anonymous("Open dataset"),
        generated: crate::pages::format_time(snapshot.generated_at),
        license_url: license_url(&snapshot.license),
        snapshot,
        schema_version: record::SCHEMA_VERSION,
        max_age_hours: MAX_AGE.whole_hours(),
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

fn download(body: Vec<u8>, content_type: &'static str, name: Option<&str>) -> Response {
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

async fn read_file(state: &AppState, file: &SnapshotFile) -> Result<Vec<u8>, DatasetError> {
    let path = dir_of(state).join(&file.name);
    tokio::task::spawn_blocking(move || std::fs::read(&path).map_err(io(&path)))
        .await
        .map_err(|e| DatasetError::Write(e.to_string()))?
}

async fn latest_json(State(state): State<AppState>) -> Response {
    match latest(&state).await {
        Ok(s) => match serde_json::to_vec_pretty(&s) {
            Ok(body) => download(body, "application/json", None),
            Err(e) => failed(DatasetError::Write(e.to_string())),
        },
        Err(e) => failed(e),
    }
}

async fn latest_jsonl(State(state): State<AppState>) -> Response {
    let s = match latest(&state).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    match read_file(&state, &s.jsonl).await {
        Ok(body) => download(
            body,
            "application/x-ndjson; charset=utf-8",
            Some(&s.jsonl.name),
        ),
        Err(e) => failed(e),
    }
}

async fn latest_csv(State(state): State<AppState>) -> Response {
    let s = match latest(&state).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    match read_file(&state, &s.csv).await {
        Ok(body) => download(
            body,
            "text/csv; charset=utf-8; header=present",
            Some(&s.csv.name),
        ),
        Err(e) => failed(e),
    }
}

async fn latest_sha256(State(state): State<AppState>) -> Response {
    match latest(&state).await {
        Ok(s) => download(
            format!(
                "{}  {}\n{}  {}\n",
                s.jsonl.sha256, s.jsonl.name, s.csv.sha256, s.csv.name
            )
            .into_bytes(),
            "text/plain; charset=utf-8",
            None,
        ),
        Err(e) => failed(e),
    }
}

async fn schema() -> Response {
    download(
        SCHEMA_JSON.as_bytes().to_vec(),
        "application/schema+json",
        None,
    )
}
