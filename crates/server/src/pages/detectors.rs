//! `/detectors/{id}`: a detector's documentation page (what it catches, the incident it comes
//! from, false positives, what to do), rendered from `docs/detectors/<id>.md`, which the build
//! embeds in the binary. Findings on the case page link here.
//!
//! The Markdown is this project's own, but raw HTML in it is still shown as text, not markup,
//! and relative links to other pages of `docs/` are turned into plain text so they do not
//! point at nothing.

use std::collections::HashMap;
use std::sync::OnceLock;

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::pages::visitor::Visitor;
use crate::pages::{Nav, PageError, Shell, render};

include!(concat!(env!("OUT_DIR"), "/detector_docs.rs"));

/// A detector's page.
#[derive(Debug, Template)]
#[template(path = "detector.html")]
pub struct DetectorPage {
    shell: Shell,
    id: String,
    /// Rendered from our own Markdown, raw HTML neutralised (see [`to_html`]).
    body: &'static str,
}

/// Markdown to HTML with raw HTML shown as text and only absolute `http(s)` links and
/// in-page anchors kept as links.
#[must_use]
pub fn to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut dropped_links = 0usize;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        Event::Start(Tag::Link { dest_url, .. })
            if !(dest_url.starts_with("https://")
                || dest_url.starts_with("http://")
                || dest_url.starts_with('#')) =>
        {
            dropped_links += 1;
            None
        }
        Event::End(TagEnd::Link) if dropped_links > 0 => {
            dropped_links -= 1;
            None
        }
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn rendered() -> &'static HashMap<&'static str, String> {
    static PAGES: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    PAGES.get_or_init(|| {
        DETECTOR_DOCS
            .iter()
            .map(|(id, md)| (*id, to_html(md)))
            .collect()
    })
}

/// `GET /detectors/{id}`.
pub async fn show(visitor: Visitor, Path(id): Path<String>) -> Result<Response, PageError> {
    let (key, body) = rendered()
        .get_key_value(id.as_str())
        .ok_or_else(PageError::not_found)?;
    let page = DetectorPage {
        shell: Shell::new(&visitor, format!("Detector {key}"), Nav::None),
        id: (*key).to_string(),
        body: body.as_str(),
    };
    Ok(render(&visitor, StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detector_page_is_embedded() {
        assert!(DETECTOR_DOCS.len() >= 50, "{}", DETECTOR_DOCS.len());
        assert!(
            rendered()
                .get("decode-exec")
                .is_some_and(|h| h.contains("<h1>"))
        );
    }

    #[test]
    fn raw_html_and_relative_links_do_not_survive() {
        let html =
            to_html("x <script>alert(1)</script> [rel](../scoring.md) [abs](https://a.example/)\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("scoring.md"), "{html}");
        assert!(html.contains("rel"), "{html}");
        assert!(html.contains("href=\"https://a.example/\""), "{html}");
    }
}
