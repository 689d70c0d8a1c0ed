//! The server-rendered web UI (askama templates under `crates/server/templates/`).

use axum::Router;

use crate::AppState;

/// The web pages.
pub fn router() -> Router<AppState> {
    Router::new()
}
