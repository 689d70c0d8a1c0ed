//! Trend reports (`/reports`) and Atom feeds (`/feeds/*.atom`).

use axum::Router;

use crate::AppState;

/// Report pages and feeds.
pub fn router() -> Router<AppState> {
    Router::new()
}
