//! List pages: `/` (start page), `/cases` (published cases), `/queue` (the expert queue) and
//! `/log` (the transparency log).
//!
//! The queue and the log are the API handlers' own answers (`api::queue::list`,
//! `api::log::entries`, `api::log::checkpoint`) rendered as HTML. The published list asks the
//! store with the full filter (verdict, attack vector, ecosystem, dates) and, like the API,
//! passes every row through `may_view(Anonymous, …)` before showing it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sx_domain::{AttackVector, Language, QueueReason, Role, Verdict, Viewer};
use sx_store::{PublishedCursor, PublishedFilter, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::api;
use crate::error::ApiError;
use crate::pages::text::visible;
use crate::pages::visitor::Visitor;
use crate::pages::{
    Nav, PageError, Shell, case_title, encode_component, format_duration, format_time, render,
};

/// One published case in a list.
#[derive(Debug)]
pub struct PublishedRow {
    id: String,
    project: String,
    title: String,
    published: String,
    verdict: Option<String>,
    decision: Option<String>,
    band: Option<String>,
}

async fn published_rows(
    state: &AppState,
    filter: &PublishedFilter,
) -> Result<(Vec<PublishedRow>, Option<String>), PageError> {
    let cases = state.store.list_published(filter).await?;
    let next = match cases.last() {
        Some(last) if cases.len() == filter.limit as usize => last
            .value
            .published_at
            .map(|published_at| {
                serde_json::to_vec(&PublishedCursor {
                    published_at,
                    case_id: last.value.id,
                })
                .map(|b| URL_SAFE_NO_PAD.encode(b))
            })
            .transpose()
            .map_err(PageError::internal)?,
        _ => None,
    };
    let mut projects = HashMap::new();
    let mut rows = Vec::with_capacity(cases.len());
    for case in cases {
        let case = case.value;
        // The list is public: every row must pass the public TLP check.
        if !sx_domain::may_view(&Viewer::Anonymous, &case.tlp_object()) {
            tracing::error!(case = %case.id, "the store listed an unpublished case as published; skipped");
            continue;
        }
        let project = match projects.get(&case.project_id) {
            Some(p) => p,
            None => {
                let Some(p) = state.store.get_project(case.project_id).await? else {
                    continue;
                };
                projects.insert(case.project_id, p.value.full_name());
                projects
                    .get(&case.project_id)
                    .ok_or_else(|| PageError::internal("project cache"))?
            }
        };
        rows.push(PublishedRow {
            id: case.id.to_string(),
            project: visible(project),
            title: case_title(case.source.title.as_deref(), case.id),
            published: case.published_at.map(format_time).unwrap_or_default(),
            verdict: case.effective_verdict().map(|v| v.verdict.to_string()),
            decision: case.decision.as_ref().map(|d| d.outcome.to_string()),
            band: case.report.as_ref().map(|r| r.band.to_string()),
        });
    }
    Ok((rows, next))
}

/// The start page.
#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct HomePage {
    shell: Shell,
    recent: Vec<PublishedRow>,
    median: Option<String>,
    sample: usize,
    can_submit: bool,
}

/// How many recent cases the median time to first assessment is taken over.
const MEDIAN_SAMPLE: u32 = 200;

/// Median time from receipt to the first submitted assessment over the most recently
/// published cases that had one (sealed cases are left out: their timing is not public yet).
async fn median_first_assessment(
    state: &AppState,
) -> Result<(Option<time::Duration>, usize), PageError> {
    let filter = PublishedFilter {
        limit: MEDIAN_SAMPLE,
        ..PublishedFilter::default()
    };
    let mut waits: Vec<time::Duration> = state
        .store
        .list_published(&filter)
        .await?
        .into_iter()
        .filter_map(|c| c.value.first_assessed_at.map(|t| t - c.value.received_at))
        .collect();
    waits.sort();
    let n = waits.len();
    let median = match n {
        0 => None,
        n if n % 2 == 1 => waits.get(n / 2).copied(),
        n => waits
            .get(n / 2 - 1)
            .zip(waits.get(n / 2))
            .map(|(a, b)| (*a + *b) / 2),
    };
    Ok((median, n))
}

/// `GET /`.
pub async fn home(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let filter = PublishedFilter {
        limit: 10,
        ..PublishedFilter::default()
    };
    let (recent, _) = published_rows(&state, &filter).await?;
    let (median, sample) = median_first_assessment(&state).await?;
    let page = HomePage {
        shell: Shell::new(
            &visitor,
            "Security review for dodgy pull requests",
            Nav::Home,
        ),
        recent,
        median: median.map(format_duration),
        sample,
        can_submit: visitor.user().is_none_or(|u| u.has_role(Role::Maintainer)),
    };
    Ok(render(&visitor, StatusCode::OK, &page))
}

/// Query of `/cases`.
#[derive(Debug, Default, Deserialize)]
pub struct PublishedQuery {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    vector: String,
    #[serde(default)]
    ecosystem: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
}

/// The published-cases page.
#[derive(Debug, Template)]
#[template(path = "cases.html")]
pub struct CasesPage {
    shell: Shell,
    error: Option<String>,
    rows: Vec<PublishedRow>,
    next: Option<String>,
    q: PublishedQuery,
    verdicts: Vec<&'static str>,
    vectors: Vec<&'static str>,
    ecosystems: Vec<&'static str>,
}

fn parse_day(field: &str, text: &str, end: bool) -> Result<Option<OffsetDateTime>, ApiError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text.trim(), &format)
        .map_err(|_| ApiError::invalid(format!("{field} is a date such as 2026-11-21")))?;
    let day = if end {
        day.next_day().unwrap_or(day)
    } else {
        day
    };
    Ok(Some(day.midnight().assume_utc()))
}

fn filter_of(q: &PublishedQuery) -> Result<PublishedFilter, ApiError> {
    fn pick<T: std::str::FromStr>(what: &str, text: &str) -> Result<Option<T>, ApiError> {
        match text.trim() {
            "" => Ok(None),
            t => t
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("unknown {what}"))),
        }
    }
    let before = match q.before.trim() {
        "" => None,
        text => Some(
            URL_SAFE_NO_PAD
                .decode(text)
                .ok()
                .and_then(|b| serde_json::from_slice::<PublishedCursor>(&b).ok())
                .ok_or_else(|| {
                    ApiError::invalid("the page link is broken; start from the first page")
                })?,
        ),
    };
    Ok(PublishedFilter {
        verdict: pick::<Verdict>("verdict", &q.verdict)?,
        vector: pick::<AttackVector>("attack vector", &q.vector)?,
        ecosystem: pick::<Language>("ecosystem", &q.ecosystem)?,
        published_from: parse_day("from", &q.from, false)?,
        published_to: parse_day("to", &q.to, true)?,
        before,
        limit: 50,
    })
}

impl CasesPage {
    /// The link to the next page, keeping the filters.
    fn next_link(&self) -> Option<String> {
        self.next.as_ref().map(|before| {
            format!(
                "/cases?verdict={}&vector={}&ecosystem={}&from={}&to={}&before={}",
                encode_component(&self.q.verdict),
                encode_component(&self.q.vector),
                encode_component(&self.q.ecosystem),
                encode_component(&self.q.from),
                encode_component(&self.q.to),
                encode_component(before)
            )
        })
    }
}

/// `GET /cases`.
pub async fn published(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<PublishedQuery>,
) -> Result<Response, PageError> {
    let (rows, next, error, status) = match filter_of(&q) {
        Ok(filter) => {
            let (rows, next) = published_rows(&state, &filter).await?;
            (rows, next, None, StatusCode::OK)
        }
        Err(e) => (
            Vec::new(),
            None,
            Some(e.message),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let page = CasesPage {
        shell: Shell::new(&visitor, "Published cases", Nav::Cases),
        error,
        rows,
        next,
        q,
        verdicts: Verdict::ALL.iter().map(|v| v.as_str()).collect(),
        vectors: AttackVector::ALL.iter().map(|v| v.as_str()).collect(),
        ecosystems: Language::ALL.iter().map(|v| v.as_str()).collect(),
    };
    Ok(render(&visitor, status, &page))
}

/// One queue row.
#[derive(Debug)]
pub struct QueueRow {
    id: String,
    title: String,
    project: String,
    /// `your-claim`, `second-review` or `unclaimed` (a CSS class).
    claim: &'static str,
    /// The claim status in words.
    claim_text: &'static str,
    status: String,
    tlp: sx_domain::TlpLabel,
    received: String,
    due: String,
    left: String,
    overdue: bool,
    band: Option<String>,
    suspicion: u8,
    subgroups: String,
}

/// The expert queue page.
#[derive(Debug, Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    shell: Shell,
    rows: Vec<QueueRow>,
    next: Option<String>,
}

impl QueuePage {
    fn tlp_class(&self, label: &sx_domain::TlpLabel) -> &'static str {
        crate::pages::tlp_class(*label)
    }
}

/// Query of `/queue`.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    after: String,
}

/// `GET /queue`: the API's queue for this expert, earliest deadline first.
pub async fn queue(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    let page = api::queue::list(
        State(state.clone()),
        caller,
        crate::error::Query(api::queue::QueueQuery {
            limit: Some(api::queue::DEFAULT_LIMIT),
            after: Some(q.after).filter(|a| !a.is_empty()),
        }),
    )
    .await?
    .0;
    let subgroups: HashMap<_, _> = state
        .store
        .list_subgroups()
        .await?
        .into_iter()
        .map(|s| (s.value.id, s.value.name))
        .collect();
    let now = OffsetDateTime::now_utc();
    let rows = page
        .items
        .into_iter()
        .map(|item| {
            let left = item.sla_due - now;
            let (claim, claim_text) = match item.reason {
                QueueReason::YourClaim => ("your-claim", "claimed by you"),
                QueueReason::SecondReview => ("second-review", "second review wanted"),
                QueueReason::Unclaimed => ("unclaimed", "unclaimed"),
            };
            QueueRow {
                id: item.case_id.to_string(),
                title: case_title(item.title.as_deref(), item.case_id),
                project: visible(&format!("{}/{}", item.project.owner, item.project.name)),
                claim,
                claim_text,
                status: item.status.to_string(),
                tlp: item.tlp,
                received: format_time(item.received_at),
                due: format_time(item.sla_due),
                left: if left.is_negative() {
                    format!("overdue by {}", format_duration(left))
                } else {
                    format!("{} left", format_duration(left))
                },
                overdue: left.is_negative(),
                band: item.risk_band.map(|b| b.to_string()),
                suspicion: item.suspicion,
                subgroups: item
                    .subgroups
                    .iter()
                    .filter_map(|s| subgroups.get(s).cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let page = QueuePage {
        shell: Shell::new(&visitor, "Your queue", Nav::Queue),
        rows,
        next: page
            .next
            .map(|n| format!("/queue?after={}", encode_component(&n))),
    };
    Ok(render(&visitor, StatusCode::OK, &page))
}

/// One log entry as listed.
#[derive(Debug)]
pub struct LogRow {
    seq: u64,
    at: String,
    kind: String,
    case: Option<String>,
    sealed: bool,
    hash: String,
}

fn micros_time(us: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map(format_time)
        .unwrap_or_default()
}

/// The transparency-log page.
#[derive(Debug, Template)]
#[template(path = "log.html")]
pub struct LogPage {
    shell: Shell,
    public_key: String,
    size: u64,
    checkpoint: Option<(u64, String, String, String)>,
    rows: Vec<LogRow>,
    newer: Option<String>,
    older: Option<String>,
    base_url: String,
}

/// Query of `/log`.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    from: String,
}

/// Entries per log page.
const LOG_PAGE: u64 = 50;

/// `GET /log`: the newest entries (or from `?from=`), the latest signed checkpoint and how to
/// verify the log.
pub async fn log(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    let (size, _) = state.store.log_head().await?;
    let from = q
        .from
        .trim()
        .parse::<u64>()
        .unwrap_or_else(|_| size.saturating_sub(LOG_PAGE))
        .min(size.saturating_sub(1));
    let entries = api::log::entries(
        State(state.clone()),
        crate::error::Query(api::log::LogQuery {
            from: Some(from),
            limit: Some(u32::try_from(LOG_PAGE).unwrap_or(50)),
        }),
    )
    .await?
    .0;
    let checkpoint = match api::log::checkpoint(State(state.clone())).await {
        Ok(c) => {
            let c = c.0.checkpoint;
            Some((
                c.size,
                c.head_hash.to_hex(),
                hex::encode(c.signature.0),
                micros_time(c.timestamp_us),
            ))
        }
        Err(e) if e.code == crate::ErrorCode::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let mut rows: Vec<LogRow> = entries
        .entries
        .iter()
        .map(|e| LogRow {
            seq: e.seq,
            at: micros_time(e.timestamp_us),
            kind: visible(&e.kind),
            case: e.case_id.map(|c| c.to_string()),
            sealed: matches!(e.body, sx_store::translog::EntryBody::Commitment { .. }),
            hash: e.hash.to_hex(),
        })
        .collect();
    rows.reverse();
    let page = LogPage {
        shell: Shell::new(&visitor, "Transparency log", Nav::Log),
        public_key: entries.public_key,
        size,
        checkpoint,
        rows,
        newer: (from + LOG_PAGE < size).then(|| format!("/log?from={}", from + LOG_PAGE)),
        older: (from > 0).then(|| format!("/log?from={}", from.saturating_sub(LOG_PAGE))),
        base_url: state.config.public_base_url.clone(),
    };
    Ok(render(&visitor, StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_say_what_is_wrong() {
        let q = PublishedQuery {
            verdict: "malicious".into(),
            vector: "ci".into(),
            from: "2026-01-01".into(),
            to: "2026-01-31".into(),
            ..PublishedQuery::default()
        };
        let f = filter_of(&q).unwrap();
        assert_eq!(f.verdict, Some(Verdict::Malicious));
        assert_eq!(f.vector, Some(AttackVector::Ci));
        assert_eq!(
            f.published_to.unwrap().date().to_string(),
            "2026-02-01",
            "the end day is inclusive"
        );
        let bad = PublishedQuery {
            verdict: "<script>".into(),
            ..PublishedQuery::default()
        };
        assert!(filter_of(&bad).unwrap_err().message.contains("verdict"));
    }
}
