//! The transparency log, public: `GET /api/v1/log` (entries), `GET /api/v1/log/checkpoint`
//! (the latest signed checkpoint), `GET /api/v1/log/checkpoints` (all of them) and
//! `GET /api/v1/log/export` (the whole log in one document).
//!
//! Sealed entries carry only a salted commitment until their case is published, so the whole
//! log can be public from the start; `s-express log verify` checks an export against the
//! instance's public key obtained out of band.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use sx_store::Store;
use sx_store::translog::{Checkpoint, Entry, Export};

use crate::AppState;
use crate::error::{ApiError, Json, Query};

/// Largest page of entries.
pub const MAX_ENTRIES: u32 = 1000;

/// Query of `GET /api/v1/log`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// First sequence number (default 0).
    pub from: Option<u64>,
    /// Page size (1–1000, default 100).
    pub limit: Option<u32>,
}

/// A page of the log.
#[derive(Debug, Serialize)]
pub struct LogPage {
    /// The instance's Ed25519 public key, hex (verify with a key obtained independently).
    pub public_key: String,
    /// Number of entries in the log.
    pub size: u64,
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// Pass as `from` for the next page; absent at the end.
    pub next_from: Option<u64>,
}

/// `GET /api/v1/log`.
pub async fn entries(
    State(state): State<AppState>,
    Query(q): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_ENTRIES}"
        )));
    }
    let from = q.from.unwrap_or(0);
    let (size, _) = state.store.log_head().await?;
    let entries = state.store.log_entries(from, limit).await?;
    let next_from = entries
        .last()
        .map(|e| e.seq + 1)
        .filter(|next| *next < size);
    Ok(Json(LogPage {
        public_key: hex::encode(state.store.log_public_key().as_bytes()),
        size,
        entries,
        next_from,
    }))
}

/// Answer of `GET /api/v1/log/checkpoint`.
#[derive(Debug, Serialize)]
pub struct CheckpointView {
    /// The instance's Ed25519 public key, hex.
    pub public_key: String,
    /// The newest signed checkpoint.
    pub checkpoint: Checkpoint,
}

/// `GET /api/v1/log/checkpoint`.
pub async fn checkpoint(State(state): State<AppState>) -> Result<Json<CheckpointView>, ApiError> {
    let checkpoint = state.store.latest_checkpoint().await?.ok_or_else(|| {
        ApiError::new(
            crate::error::ErrorCode::NotFound,
            "no checkpoint has been signed yet; the worker signs one after each publication and periodically",
        )
    })?;
    Ok(Json(CheckpointView {
        public_key: hex::encode(state.store.log_public_key().as_bytes()),
        checkpoint,
    }))
}

/// Query of `GET /api/v1/log/checkpoints`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointsQuery {
    /// Index of the first checkpoint (default 0, the oldest).
    pub from: Option<u64>,
    /// Page size (1–1000, default 1000).
    pub limit: Option<u32>,
}

/// A page of signed checkpoints, oldest first.
#[derive(Debug, Serialize)]
pub struct CheckpointPage {
    /// The instance's Ed25519 public key, hex.
    pub public_key: String,
    /// Number of checkpoints signed so far.
    pub total: u64,
    /// Checkpoints in signing order.
    pub checkpoints: Vec<Checkpoint>,
    /// Pass as `from` for the next page; absent at the end.
    pub next_from: Option<u64>,
}

/// `GET /api/v1/log/checkpoints`: every signed checkpoint, oldest first, in pages.
pub async fn checkpoints(
    State(state): State<AppState>,
    Query(q): Query<CheckpointsQuery>,
) -> Result<Json<CheckpointPage>, ApiError> {
    let limit = q.limit.unwrap_or(MAX_ENTRIES);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_ENTRIES}"
        )));
    }
    let all = state.store.log_checkpoints().await?;
    let total = all.len() as u64;
    let from = q.from.unwrap_or(0).min(total);
    let end = from.saturating_add(u64::from(limit)).min(total);
    let checkpoints = all
        .into_iter()
        .skip(from as usize)
        .take((end - from) as usize)
        .collect();
    Ok(Json(CheckpointPage {
        public_key: hex::encode(state.store.log_public_key().as_bytes()),
        total,
        checkpoints,
        next_from: (end < total).then_some(end),
    }))
}

/// `GET /api/v1/log/export`: the whole log in the export format (`s-express-translog/v1`,
/// see `docs/transparency.md`), for `s-express log verify --file` or any other verifier.
pub async fn export(State(state): State<AppState>) -> Result<Json<Export>, ApiError> {
    Ok(Json(state.store.export_log().await?))
}
