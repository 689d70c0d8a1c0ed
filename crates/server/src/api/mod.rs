//! JSON handlers, one module per resource. Handlers stay thin: authenticate, load, ask the
//! domain, save, answer with a view type from [`views`].

pub mod bundle;
pub mod cases;
pub mod comments;
pub mod log;
pub mod openapi;
pub mod public;
pub mod queue;
pub mod session;
pub mod tokens;
pub mod users;
pub mod views;

use serde::Serialize;

use crate::error::Json;

/// Answer of `GET /api/v1/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` when the process serves requests.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// `GET /api/v1/health`: liveness.
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}
