//! The open dataset (`/dataset`): published cases as JSONL/CSV snapshots.

use axum::Router;

use crate::AppState;

/// The dataset download page and files.
pub fn router() -> Router<AppState> {
    Router::new()
}
