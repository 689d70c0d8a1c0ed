//! The one route table.
//!
//! [`ROUTES`] and the router are generated from the same list, so the OpenAPI test can check
//! that every route is documented (and every documented route exists).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::api;
use crate::error::{ApiError, ErrorCode};

/// A route: HTTP method (upper case) and axum path (`{param}` syntax, as in OpenAPI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path.
    pub path: &'static str,
}

macro_rules! route_table {
    ($( $method:ident $path:literal => $handler:path; )*) => {
        /// Every API route.
        pub const ROUTES: &[Route] = &[
            $( Route { method: method_name(stringify!($method)), path: $path }, )*
        ];

        fn api_routes() -> Router<AppState> {
            let router = Router::new();
            $( let router = router.route($path, axum::routing::$method($handler)); )*
            router
        }
    };
}

const fn method_name(m: &'static str) -> &'static str {
    match m.as_bytes() {
        b"get" => "GET",
        b"post" => "POST",
        b"put" => "PUT",
        b"patch" => "PATCH",
        b"delete" => "DELETE",
        _ => panic!("unknown HTTP method in the route table"),
    }
}

route_table! {
    get "/api/v1/health" => api::health;
    get "/api/v1/openapi.json" => api::openapi::document;
    post "/api/v1/session" => api::session::login;
    delete "/api/v1/session" => api::session::logout;
    get "/api/v1/me" => api::session::me;
    get "/api/v1/me/notifications" => crate::notify::api::get;
    put "/api/v1/me/notifications" => crate::notify::api::put;
    get "/api/v1/me/mail-intake" => crate::mail::api::get;
    post "/api/v1/me/mail-intake" => crate::mail::api::create;
    delete "/api/v1/me/mail-intake" => crate::mail::api::delete;
    post "/api/v1/users" => api::users::register;
    post "/api/v1/invitations" => api::users::invite;
    post "/api/v1/invitations/accept" => api::users::accept;
    post "/api/v1/tokens" => api::tokens::create;
    get "/api/v1/tokens" => api::tokens::list;
    delete "/api/v1/tokens/{id}" => api::tokens::revoke;
    post "/api/v1/cases" => api::bundle::create;
    get "/api/v1/cases/{id}" => api::cases::get;
    get "/api/v1/cases/{id}/change" => api::cases::change;
    get "/api/v1/cases/{id}/public" => api::public::get;
    post "/api/v1/cases/{id}/claim" => api::cases::claim;
    post "/api/v1/cases/{id}/unclaim" => api::cases::unclaim;
    post "/api/v1/cases/{id}/assessments" => api::cases::assess;
    post "/api/v1/cases/{id}/decision" => api::cases::decide;
    post "/api/v1/cases/{id}/second-reviews" => api::cases::request_second_review;
    post "/api/v1/cases/{id}/second-reviews/{review_id}" => api::cases::submit_second_review;
    post "/api/v1/cases/{id}/embargo" => api::cases::propose_embargo;
    post "/api/v1/cases/{id}/embargo/approve" => api::cases::approve_embargo;
    post "/api/v1/cases/{id}/grace-extensions" => api::cases::request_grace_extension;
    post "/api/v1/cases/{id}/grace-extensions/{extension_id}/approve" => api::cases::approve_grace_extension;
    get "/api/v1/cases/{id}/comments" => api::comments::list;
    post "/api/v1/cases/{id}/comments" => api::comments::create;
    get "/api/v1/cases" => api::cases::list_published;
    get "/api/v1/queue" => api::queue::list;
    get "/api/v1/log" => api::log::entries;
    get "/api/v1/log/checkpoint" => api::log::checkpoint;
    get "/api/v1/log/checkpoints" => api::log::checkpoints;
    get "/api/v1/log/export" => api::log::export;
}

/// The application: the route table, the web pages, fallbacks (JSON under `/api/`, HTML
/// elsewhere), the body limit and security headers.
pub fn router(state: AppState) -> Router {
    api_routes()
        .merge(crate::pages::router())
        .merge(crate::reports::router())
        .merge(crate::dataset::router())
        .merge(crate::hooks::router())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_request_bytes()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::security::headers,
        ))
        .with_state(state)
}

async fn no_route(uri: axum::http::Uri) -> Response {
    if !uri.path().starts_with("/api/") {
        return crate::pages::not_found_response();
    }
    ApiError::new(
        ErrorCode::NotFound,
        "no such endpoint; see GET /api/v1/openapi.json",
    )
    .into_response()
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if !uri.path().starts_with("/api/") {
        return crate::pages::method_not_allowed_response();
    }
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not accept that method; see GET /api/v1/openapi.json",
    )
    .into_response()
}
