//! Forge intake: webhook endpoints (`/hooks/github`, `/hooks/gitlab`, `/hooks/forgejo`).

use axum::Router;

use crate::AppState;

/// The webhook endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
}
