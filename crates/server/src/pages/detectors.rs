//! `/detectors/{id}`: a detector's documentation page (what it catches, the incident it comes
//! from, false positives, what to do), rendered from `docs/detectors/<id>.md`, which the build
//! embeds in the binary. Findings on the case page link here. `/detectors` lists every detector
//! and rule with its title and default severity.
//!
//! Both pages show what this instance has learnt about each detector: how often it fired on
//! published cases and its precision against expert verdicts, with the number of settled cases
//! the figure rests on and a warning when they are too few. The figures come from
//! [`sx_store::Store::detector_figures`] (the same count the trend reports use, over public
//! published cases only, so a sealed case and its verdict never move them) and the domain's
//! [`sx_domain::DetectorRecord`] (the same precision `s-express model evaluate` prints).
//!
//! The Markdown is this project's own, but raw HTML in it is still shown as text, not markup,
//! and relative links to other pages of `docs/` are turned into plain text so they do not
//! point at nothing.

use std::collections::HashMap;
use std::sync::OnceLock;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use sx_domain::DetectorRecord;
use sx_store::Store;
use sx_store::reports::{DetectorQuery, DetectorSummary};
use time::OffsetDateTime;

use crate::AppState;
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
    /// This instance's figures.
    figures: Figures,
}

/// What the instance knows about one detector, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Public published cases on the instance.
    pub published: u64,
    /// Of those, the detector fired on this many.
    pub fired: u64,
    /// `fired / published`, percent, one decimal.
    pub fired_percent: Option<f64>,
    /// Settled by an expert: confirmed (malicious or suspicious).
    pub confirmed: u64,
    /// Settled by an expert: refuted (benign).
    pub refuted: u64,
    /// `confirmed + refuted`.
    pub judged: u64,
    /// Precision against expert verdicts, percent, one decimal; `None` with nothing settled.
    pub precision_percent: Option<f64>,
    /// Fewer than [`sx_domain::precision::MIN_JUDGED`] settled cases back the precision.
    pub small_sample: bool,
}

impl Figures {
    /// The figures of `record` (or of a detector that never fired) among `published` cases.
    #[must_use]
    pub fn of(record: Option<&DetectorRecord>, published: u64) -> Figures {
        let empty = DetectorRecord::default();
        let r = record.unwrap_or(&empty);
        Figures {
            published,
            fired: r.cases,
            fired_percent: crate::reports::model::percent(r.cases, published),
            confirmed: r.confirmed,
            refuted: r.refuted,
            judged: r.judged(),
            precision_percent: r.precision().map(|p| (p * 1000.0).round() / 10.0),
            small_sample: r.small_sample(),
        }
    }

    fn pct(&self, p: &Option<f64>) -> String {
        crate::reports::render::pct(*p)
    }

    /// Settled cases below which the page warns.
    fn min_judged(&self) -> u64 {
        sx_domain::precision::MIN_JUDGED
    }
}

/// One row of `/detectors`.
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// Detector or rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Default severity.
    pub severity: String,
    /// Whether `/detectors/{id}` exists.
    pub documented: bool,
    /// The instance's figures.
    pub figures: Figures,
}

/// `/detectors`.
#[derive(Debug, Template)]
#[template(path = "detectors.html")]
pub struct IndexPage {
    shell: Shell,
    /// Every detector and rule, by id.
    rows: Vec<IndexRow>,
    /// Public published cases on the instance.
    published: u64,
    /// Settled cases below which a precision is marked.
    min_judged: u64,
}

impl IndexPage {
    fn pct(&self, p: &Option<f64>) -> String {
        crate::reports::render::pct(*p)
    }
}

/// The instance's detector figures over every public published case up to now.
async fn instance_figures(
    state: &AppState,
    detector: Option<&str>,
) -> Result<DetectorSummary, PageError> {
    let query = DetectorQuery {
        detector: detector.map(String::from),
        ..DetectorQuery::all_time(OffsetDateTime::now_utc())
    };
    state
        .store
        .detector_figures(&query)
        .await
        .map_err(PageError::internal)
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
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (key, body) = rendered()
        .get_key_value(id.as_str())
        .ok_or_else(PageError::not_found)?;
    let summary = instance_figures(&state, Some(key)).await?;
    let page = DetectorPage {
        shell: Shell::new(&visitor, format!("Detector {key}"), Nav::None),
        id: (*key).to_string(),
        body: body.as_str(),
        figures: Figures::of(summary.detectors.first(), summary.published),
    };
    Ok(render(&visitor, StatusCode::OK, &page))
}

/// `GET /detectors`: every detector and rule of this instance's analyzer.
pub async fn index(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let summary = instance_figures(&state, None).await?;
    let docs = rendered();
    let mut rows: Vec<IndexRow> = state
        .analyzer
        .detectors()
        .map(|d| {
            let m = d.meta();
            IndexRow {
                id: m.id.to_string(),
                title: m.title.to_string(),
                severity: m.severity.to_string(),
                documented: docs.contains_key(m.id.as_ref()),
                figures: Figures::of(
                    summary.detectors.iter().find(|r| r.detector == m.id),
                    summary.published,
                ),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows.dedup_by(|a, b| a.id == b.id);
    let page = IndexPage {
        shell: Shell::new(&visitor, "Detectors", Nav::None),
        rows,
        published: summary.published,
        min_judged: sx_domain::precision::MIN_JUDGED,
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
    fn figures_show_share_precision_and_the_sample_they_rest_on() {
        let r = DetectorRecord {
            detector: "d".into(),
            cases: 40,
            confirmed: 20,
            refuted: 10,
        };
        let f = Figures::of(Some(&r), 200);
        assert_eq!(f.fired_percent, Some(20.0));
        assert_eq!(f.precision_percent, Some(66.7));
        assert_eq!(f.judged, 30);
        assert!(!f.small_sample);
        let never = Figures::of(None, 200);
        assert_eq!((never.fired, never.precision_percent), (0, None));
        assert_eq!(Figures::of(None, 0).fired_percent, None);
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
