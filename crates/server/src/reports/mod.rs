//! Trend reports (`/reports`) and Atom feeds (`/feeds/*.atom`).
//!
//! ## The model
//!
//! A report covers one ISO week or calendar month ([`period`]) and is computed over published
//! cases only: the store aggregates in SQL ([`sx_store::Store::report_figures`]) over cases
//! whose label the domain lets an anonymous viewer see, and notable cases pass through the
//! domain's public view ([`sx_domain::Case::public_view`]) before any field is shown.
//! [`model::Report`] is the JSON document that is stored once per period (by the
//! `generate_reports` job, see [`crate::jobs::generate_reports`], or by
//! `s-express report`), and rendered on request to HTML (askama, with inline SVG charts drawn
//! by plotters, no script), Markdown or JSON. Atom feeds list published cases (through the same
//! public view) and stored reports.
//!
//! Routes: `/reports` (index), `/reports/{period}/{date}` (HTML), `….md`, `….json`,
//! `/reports/{period}/{date}-{chart}.svg` (the images the Markdown form links to),
//! `/feeds/cases.atom` and `/feeds/reports.atom`.

pub mod charts;
pub mod feeds;
pub mod model;
pub mod period;
pub mod render;

use askama::Template as _;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sx_domain::{Policy, PublicCaseView};
use sx_store::reports::{ReportQuery, StoredReport};
use sx_store::{AnyStore, PublishedFilter, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;
use crate::error::ApiError;
use model::Report;
use period::{Period, PeriodRange};

/// Entries in each feed.
pub const FEED_ENTRIES: u32 = 50;

/// Report pages and feeds.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(index))
        .route("/reports/{period}/{file}", get(show))
        .route("/feeds/cases.atom", get(cases_feed))
        .route("/feeds/reports.atom", get(reports_feed))
}

/// Computes the report of `range` from the store (published cases only).
///
/// # Errors
/// When the store fails.
pub async fn generate(
    store: &AnyStore,
    policy: &Policy,
    base_url: &str,
    range: &PeriodRange,
    now: OffsetDateTime,
) -> Result<Report, StoreError> {
    let query = ReportQuery::new(range.from(), range.to(), range.previous_from());
    let figures = store.report_figures(&query).await?;
    Ok(Report::build(range, &figures, policy, base_url, now))
}

/// Generates and stores the report of `range` unless it is stored already. Returns whether
/// this call stored it; when several replicas race, the store keeps exactly one.
///
/// # Errors
/// When the store fails or the report cannot be serialized.
pub async fn generate_and_store(
    state: &AppState,
    range: &PeriodRange,
    now: OffsetDateTime,
) -> Result<bool, String> {
    let starts_on = period::format_date(range.start);
    if state
        .store
        .get_report(range.period.as_str(), &starts_on)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(false);
    }
    let report = generate(
        &state.store,
        &state.policy,
        &state.config.public_base_url,
        range,
        now,
    )
    .await
    .map_err(|e| e.to_string())?;
    let doc = serde_json::to_value(&report).map_err(|e| format!("report {}: {e}", range.slug()))?;
    state
        .store
        .save_report(&StoredReport {
            period: range.period.as_str().to_string(),
            starts_on,
            ends_at: range.to(),
            generated_at: now,
            doc,
        })
        .await
        .map_err(|e| e.to_string())
}

fn with_type(mut response: Response, content_type: &'static str) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "report page failed");
    ApiError::new(
        crate::error::ErrorCode::Internal,
        "the report could not be shown; the cause is logged",
    )
}

fn decode(stored: &StoredReport) -> Result<Report, ApiError> {
    serde_json::from_value(stored.doc.clone()).map_err(internal)
}

/// `GET /reports`.
async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stored = state.store.list_reports(500).await.map_err(internal)?;
    let mut reports = Vec::with_capacity(stored.len());
    for s in &stored {
        let r = decode(s)?;
        reports.push(render::IndexEntry {
            path: format!("/reports/{}/{}", r.period, r.starts_on),
            title: r.title,
            period: r.period,
            published: r.volumes.published,
        });
    }
    let page = render::IndexPage {
        css: crate::pages::assets::css_url(),
        reports,
    };
    let html = page.render().map_err(internal)?;
    Ok(with_type(
        Html(html).into_response(),
        "text/html; charset=utf-8",
    ))
}

/// `GET /reports/{period}/{file}`: `DATE`, `DATE.md`, `DATE.json` or `DATE-CHART.svg`.
async fn show(
    State(state): State<AppState>,
    Path((period, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("report");
    let period = Period::parse(&period).map_err(|_| not_found())?;
    let (date, kind) = if let Some(d) = file.strip_suffix(".json") {
        (d, "json")
    } else if let Some(d) = file.strip_suffix(".md") {
        (d, "md")
    } else if let Some(d) = file.strip_suffix(".svg") {
        (d, "svg")
    } else {
        (file.as_str(), "html")
    };
    let (date, chart) = match kind {
        "svg" => match (date.get(..10), date.get(10..)) {
            (Some(d), Some(rest)) => (d, rest.strip_prefix('-').ok_or_else(not_found)?),
            _ => return Err(not_found()),
        },
        _ => (date, ""),
    };
    let range = PeriodRange::parse(period, date).map_err(|_| not_found())?;
    // Only a period's canonical first day names it.
    if period::format_date(range.start) != date {
        return Err(not_found());
    }
    let stored = state
        .store
        .get_report(period.as_str(), date)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let report = decode(&stored)?;
    Ok(match kind {
        "json" => with_type(
            serde_json::to_string_pretty(&report)
                .map_err(internal)?
                .into_response(),
            "application/json",
        ),
        "md" => with_type(
            render::markdown(&report, &format!("{date}-")).into_response(),
            "text/markdown; charset=utf-8",
        ),
        "svg" => {
            let charts = render::charts(&report).map_err(internal)?;
            let chart = charts
                .into_iter()
                .find(|c| c.name == chart)
                .ok_or_else(not_found)?;
            with_type(chart.svg.into_response(), "image/svg+xml")
        }
        _ => {
            let charts = render::charts(&report).map_err(internal)?;
            let page = render::ReportPage {
                css: crate::pages::assets::css_url(),
                report: &report,
                charts: &charts,
                base_path: format!("/reports/{}/{date}", period.as_str()),
            };
            with_type(
                Html(page.render().map_err(internal)?).into_response(),
                "text/html; charset=utf-8",
            )
        }
    })
}

/// `GET /feeds/cases.atom`: the newest published cases, through the domain's public view.
async fn cases_feed(State(state): State<AppState>) -> Result<Response, ApiError> {
    let cases = state
        .store
        .list_published(&PublishedFilter {
            limit: FEED_ENTRIES,
            ..PublishedFilter::default()
        })
        .await
        .map_err(internal)?;
    let base = &state.config.public_base_url;
    let entries: Vec<feeds::Entry> = cases
        .iter()
        .filter_map(|v| match v.value.public_view(&state.policy) {
            PublicCaseView::Published(c) => Some(feeds::case_entry(base, &c)),
            PublicCaseView::Sealed(_) => None,
        })
        .collect();
    let xml = feeds::feed(
        base,
        "/feeds/cases.atom",
        "S-Express: published cases",
        "Pull requests maintainers found dodgy, with the experts' verdicts, once published.",
        &entries,
    );
    Ok(with_type(
        xml.into_response(),
        "application/atom+xml; charset=utf-8",
    ))
}

/// `GET /feeds/reports.atom`.
async fn reports_feed(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stored = state
        .store
        .list_reports(FEED_ENTRIES)
        .await
        .map_err(internal)?;
    let base = &state.config.public_base_url;
    let mut entries = Vec::with_capacity(stored.len());
    for s in &stored {
        entries.push(feeds::report_entry(base, &decode(s)?));
    }
    let xml = feeds::feed(
        base,
        "/feeds/reports.atom",
        "S-Express: trend reports",
        "Weekly and monthly trends over published cases.",
        &entries,
    );
    Ok(with_type(
        xml.into_response(),
        "application/atom+xml; charset=utf-8",
    ))
}
