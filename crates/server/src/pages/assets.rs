//! Static assets, embedded in the binary: the style sheet and the logo. No CDN, no script.
//!
//! Pages link each asset with `?v=<first 12 hex digits of its SHA-256>`, so a new build's
//! assets get new URLs and browsers may cache them for a year (`immutable`). A request without
//! the current version (an old page, a hand-typed URL) still gets the asset, cached for an hour.

use std::sync::OnceLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::pages::PageError;

/// One embedded file.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/style.css"),
    },
    Asset {
        name: "logo.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/logo.svg"),
    },
];

fn version(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..6])
}

fn url_of(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map_or_else(String::new, |a| {
            format!("/static/{}?v={}", a.name, version(a.body))
        })
}

/// The style sheet's versioned URL.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| url_of("style.css"))
}

/// The logo's versioned URL.
pub fn logo_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| url_of("logo.svg"))
}

/// Query of an asset request.
#[derive(Debug, Deserialize)]
pub struct AssetQuery {
    /// The content version the page linked.
    v: Option<String>,
}

/// `GET /static/{file}`.
pub async fn serve(Path(file): Path<String>, Query(q): Query<AssetQuery>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return PageError::not_found().into_response();
    };
    let current = version(asset.body);
    let cache = if q.v.as_deref() == Some(current.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = (StatusCode::OK, asset.body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{current}\"")) {
        h.insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_the_content_version() {
        assert!(
            css_url().starts_with("/static/style.css?v="),
            "{}",
            css_url()
        );
        assert_eq!(css_url().len(), "/static/style.css?v=".len() + 12);
        assert!(logo_url().starts_with("/static/logo.svg?v="));
    }
}
