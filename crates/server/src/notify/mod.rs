//! Notifications: e-mail over SMTP and signed outgoing webhooks.
//!
//! ## The model
//!
//! The transparency log already records every state change of every case, in order, on every
//! replica. A *scanner* ([`scan`]), run by the job worker between jobs, reads the log after a
//! shared cursor, maps the entries that matter to [`Event`]s, decides who is told (the
//! project's maintainers; the experts of the routed subgroups for [`Event::Queued`]), and
//! enqueues one durable delivery job per recipient and channel (`notify_email`,
//! `notify_webhook`); then it moves the cursor with a compare-and-set. Deliveries are retried
//! by the job queue; each has a stable key (`<log seq>:<user>:<channel>`) recorded once sent,
//! so a retry or a duplicate scan after a crash never sends twice what was already delivered.
//!
//! TLP: a recipient is planned only if the domain's `may_view` admits them to the case, and the
//! check is repeated when the delivery runs (a conflict of interest may have appeared since).
//! A message carries only a link, the event and the case's state and project — never the
//! change, the concern or an assessment — so it shows nothing the recipient could not read at
//! the link.
//!
//! Users choose events and channels with `GET/PUT /api/v1/me/notifications` ([`api`]).

pub mod api;
pub mod config;
pub mod email;
pub mod webhook;

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sx_domain::{Case, CaseId, Project, Role, Subgroup, User, UserId};
use sx_store::{NewJob, NotifySettings, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;

/// How often the worker looks for new log entries to notify about.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(250);

/// Log entries read per scan.
const SCAN_BATCH: u32 = 200;

/// Something a user can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// The analyzer's report is attached (maintainers).
    ReportAttached,
    /// The case entered a subgroup's queue (experts of that subgroup).
    Queued,
    /// An expert submitted an assessment (maintainers).
    Assessed,
    /// A second reviewer gave their verdict (maintainers).
    SecondReview,
    /// A maintainer recorded the decision (the project's maintainers).
    Decided,
    /// The case was published (maintainers).
    Published,
}

/// Who an event is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Audience {
    Maintainers,
    Experts,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 6] = [
        Event::ReportAttached,
        Event::Queued,
        Event::Assessed,
        Event::SecondReview,
        Event::Decided,
        Event::Published,
    ];

    /// The name used in settings, webhooks and mail.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Event::ReportAttached => "report-attached",
            Event::Queued => "queued",
            Event::Assessed => "assessed",
            Event::SecondReview => "second-review",
            Event::Decided => "decided",
            Event::Published => "published",
        }
    }

    /// Parses a name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The event a transparency-log entry kind stands for, if any.
    #[must_use]
    pub fn from_log_kind(kind: &str) -> Option<Event> {
        Some(match kind {
            "report-attached" => Event::ReportAttached,
            "case-triaged" => Event::Queued,
            "assessment-submitted" => Event::Assessed,
            "second-review-submitted" => Event::SecondReview,
            "case-decided" => Event::Decided,
            "case-published" => Event::Published,
            _ => return None,
        })
    }

    fn audience(self) -> Audience {
        match self {
            Event::Queued => Audience::Experts,
            _ => Audience::Maintainers,
        }
    }

    /// A sentence for the mail (never quotes case content).
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Event::ReportAttached => "the automated report is attached",
            Event::Queued => "a case entered your subgroup's queue",
            Event::Assessed => "an expert submitted an assessment",
            Event::SecondReview => "a second reviewer gave their verdict",
            Event::Decided => "the maintainer's decision is recorded",
            Event::Published => "the case is published",
        }
    }
}

/// Events a user gets when they save settings without naming any.
#[must_use]
pub fn default_events() -> BTreeSet<String> {
    [
        Event::ReportAttached,
        Event::Assessed,
        Event::SecondReview,
        Event::Published,
    ]
    .into_iter()
    .map(|e| e.name().to_string())
    .collect()
}

/// A delivery channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// E-mail over SMTP.
    Email,
    /// The user's outgoing webhook.
    Webhook,
}

impl Channel {
    /// Its name in delivery keys and records.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    /// The job that delivers on this channel.
    #[must_use]
    pub const fn job(self) -> &'static str {
        match self {
            Channel::Email => crate::jobs::notify_email::NAME,
            Channel::Webhook => crate::jobs::notify_webhook::NAME,
        }
    }
}

/// The payload of a delivery job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `<log seq>:<user>:<channel>`: recorded once delivered.
    pub key: String,
    /// The log entry that caused it.
    pub seq: u64,
    /// The event name.
    pub event: String,
    /// The case.
    pub case_id: CaseId,
    /// The recipient.
    pub user_id: UserId,
}

/// Whether `user` may see `case` now (the domain's TLP rule, conflicts included).
fn admits(case: &Case, user: &User, project: &Project, subgroups: &[Subgroup]) -> bool {
    sx_domain::may_view(&case.viewer(user, project, subgroups), &case.tlp_object())
}

fn candidates(
    event: Event,
    case: &Case,
    project: &Project,
    subgroups: &[Subgroup],
) -> BTreeSet<UserId> {
    match event.audience() {
        Audience::Maintainers => project
            .maintainers
            .iter()
            .copied()
            .chain(std::iter::once(case.submitted_by))
            .collect(),
        Audience::Experts => subgroups
            .iter()
            .filter(|s| case.subgroups.contains(&s.id))
            .flat_map(|s| s.members.iter().chain(s.coordinators.iter()).copied())
            .collect(),
    }
}

/// The channels a user's settings and the instance allow for `event`.
fn channels(state: &AppState, settings: &NotifySettings, event: Event) -> Vec<Channel> {
    if !settings.events.contains(event.name()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if settings.email.is_some() && state.config.notify.smtp.is_some() {
        out.push(Channel::Email);
    }
    if settings.webhook_url.is_some() && settings.webhook_secret.is_some() {
        out.push(Channel::Webhook);
    }
    out
}

/// Plans the deliveries for one log entry; returns how many jobs were enqueued.
async fn plan(state: &AppState, seq: u64, event: Event, case_id: CaseId) -> Result<usize, String> {
    let store_err = |e: StoreError| e.to_string();
    let Some(case) = state.store.get_case(case_id).await.map_err(store_err)? else {
        return Ok(0);
    };
    let case = case.value;
    let (project, subgroups) = crate::jobs::project_and_subgroups(state, &case).await?;
    let now = OffsetDateTime::now_utc();
    let mut enqueued = 0;
    for user_id in candidates(event, &case, &project, &subgroups) {
        let Some(settings) = state
            .store
            .get_notify_settings(user_id)
            .await
            .map_err(store_err)?
        else {
            continue;
        };
        let wanted = channels(state, &settings, event);
        if wanted.is_empty() {
            continue;
        }
        let Some(record) = state.store.get_user(user_id).await.map_err(store_err)? else {
            continue;
        };
        if record.disabled
            || (event.audience() == Audience::Experts && !record.user.roles.contains(&Role::Expert))
            || !admits(&case, &record.user, &project, &subgroups)
        {
            continue;
        }
        for channel in wanted {
            let delivery = Delivery {
                key: format!("{seq}:{}:{}", user_id.0, channel.name()),
                seq,
                event: event.name().to_string(),
                case_id,
                user_id,
            };
            let payload = serde_json::to_value(&delivery).map_err(|e| e.to_string())?;
            state
                .store
                .enqueue_job(&NewJob::now(channel.job(), payload, now))
                .await
                .map_err(store_err)?;
            enqueued += 1;
        }
    }
    Ok(enqueued)
}

/// Reads the log after the notification cursor, enqueues the deliveries it calls for and
/// moves the cursor; returns how many deliveries were enqueued.
///
/// # Errors
/// When the store fails (the cursor then stays, and the next scan retries the same entries).
pub async fn scan(state: &AppState) -> Result<usize, String> {
    let store_err = |e: StoreError| e.to_string();
    let from = state.store.notify_cursor().await.map_err(store_err)?;
    let entries = state
        .store
        .log_entries(from, SCAN_BATCH)
        .await
        .map_err(store_err)?;
    let Some(last) = entries.last() else {
        return Ok(0);
    };
    let to = last.seq + 1;
    let mut enqueued = 0;
    for entry in &entries {
        if let (Some(event), Some(case_id)) = (Event::from_log_kind(&entry.kind), entry.case_id) {
            enqueued += plan(state, entry.seq, event, CaseId::from_uuid(case_id)).await?;
        }
    }
    if !state
        .store
        .advance_notify_cursor(from, to)
        .await
        .map_err(store_err)?
    {
        // Another replica scanned the same entries; its deliveries and ours share keys.
        tracing::debug!(
            from,
            to,
            "another worker moved the notification cursor first"
        );
    }
    if enqueued > 0 {
        state.job_wakeup.notify_one();
    }
    Ok(enqueued)
}

/// [`scan`], logging failures (the worker calls this between jobs).
pub async fn scan_and_log(state: &AppState) {
    match scan(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deliveries = n, "notifications planned"),
        Err(e) => {
            tracing::error!(error = %e, "could not plan notifications; retrying at the next scan")
        }
    }
}

/// What a delivery job found to send.
struct Prepared {
    delivery: Delivery,
    event: Event,
    case: Case,
    project: Project,
    user: User,
    settings: NotifySettings,
}

/// Loads and re-checks a delivery; `None` when there is nothing (left) to send.
async fn prepare(state: &AppState, job: &sx_store::Job) -> Result<Option<Prepared>, String> {
    let store_err = |e: StoreError| e.to_string();
    let delivery: Delivery = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("malformed {} payload: {e}", job.name))?;
    if state
        .store
        .notify_delivery_recorded(&delivery.key)
        .await
        .map_err(store_err)?
    {
        return Ok(None);
    }
    let Some(event) = Event::parse(&delivery.event) else {
        tracing::warn!(event = %delivery.event, "delivery for an unknown event; retiring it");
        return Ok(None);
    };
    let Some(case) = state
        .store
        .get_case(delivery.case_id)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    let case = case.value;
    let Some(record) = state
        .store
        .get_user(delivery.user_id)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    let Some(settings) = state
        .store
        .get_notify_settings(delivery.user_id)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    let (project, subgroups) = crate::jobs::project_and_subgroups(state, &case).await?;
    if record.disabled
        || !settings.events.contains(event.name())
        || !admits(&case, &record.user, &project, &subgroups)
    {
        tracing::info!(key = %delivery.key, "notification dropped: the recipient opted out or may no longer see the case");
        return Ok(None);
    }
    Ok(Some(Prepared {
        delivery,
        event,
        case,
        project,
        user: record.user,
        settings,
    }))
}

fn case_link(state: &AppState, id: CaseId) -> String {
    format!("{}/cases/{id}", state.config.public_base_url)
}

/// The mail for a prepared delivery: a link and the state, nothing else from the case.
fn mail(state: &AppState, p: &Prepared, to: String) -> email::Mail {
    let visible = |s: &str| sx_analyzer::output::visible(s).into_owned();
    let body = format!(
        "Hello {handle},\n\n\
         {what} for case {id} of {project}.\n\n\
         Status now: {status}\n\
         Open the case: {link}\n\n\
         You receive this because your S-Express notification settings include \"{event}\".\n\
         Change them at {base}/api/v1/me/notifications.\n",
        handle = visible(&p.user.handle),
        what = capitalise(p.event.describe()),
        id = p.case.id,
        project = visible(&p.project.full_name()),
        status = p.case.status.as_str(),
        link = case_link(state, p.case.id),
        event = p.event.name(),
        base = state.config.public_base_url,
    );
    email::Mail {
        to,
        subject: format!("[S-Express] Case {}: {}", p.case.id, p.event.describe()),
        body,
        message_id: format!("sx-{}", p.delivery.key.replace(':', "-")),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The webhook body (schema version 1; documented in `docs/maintainers.md`).
fn webhook_body(state: &AppState, p: &Prepared) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1,
        "delivery": p.delivery.key,
        "event": p.event.name(),
        "case_id": p.case.id,
        "case_url": case_link(state, p.case.id),
        "status": p.case.status.as_str(),
        "project": p.project.full_name(),
        "log_seq": p.delivery.seq,
    })
}

/// Runs one delivery job on `channel`.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn deliver(
    state: &AppState,
    job: &sx_store::Job,
    channel: Channel,
) -> Result<(), String> {
    let Some(p) = prepare(state, job).await? else {
        return Ok(());
    };
    match channel {
        Channel::Email => {
            let (Some(smtp), Some(to)) = (&state.config.notify.smtp, p.settings.email.clone())
            else {
                return Ok(());
            };
            email::send(smtp, &mail(state, &p, to)).await?;
        }
        Channel::Webhook => {
            let (Some(url), Some(secret)) = (
                p.settings.webhook_url.clone(),
                p.settings.webhook_secret.clone(),
            ) else {
                return Ok(());
            };
            let body = serde_json::to_vec(&webhook_body(state, &p)).map_err(|e| e.to_string())?;
            let event = p.event.name();
            let key = p.delivery.key.clone();
            let allow_private = state.config.notify.allow_private_targets;
            let timeout = state.config.notify.webhook_timeout;
            tokio::task::spawn_blocking(move || {
                webhook::send(
                    &webhook::Request {
                        url: &url,
                        secret: &secret,
                        event,
                        delivery: &key,
                        body,
                    },
                    allow_private,
                    timeout,
                )
            })
            .await
            .map_err(|e| format!("the webhook sender panicked: {e}"))??;
        }
    }
    state
        .store
        .record_notify_delivery(
            &p.delivery.key,
            p.user.id,
            channel.name(),
            OffsetDateTime::now_utc(),
        )
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(key = %p.delivery.key, event = p.event.name(), channel = channel.name(), "notification delivered");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_by_name_and_log_kinds_map_to_events() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.name()), Some(e));
        }
        assert_eq!(
            Event::from_log_kind("report-attached"),
            Some(Event::ReportAttached)
        );
        assert_eq!(
            Event::from_log_kind("case-published"),
            Some(Event::Published)
        );
        assert_eq!(
            Event::from_log_kind("second-review-submitted"),
            Some(Event::SecondReview)
        );
        assert_eq!(Event::from_log_kind("case-revealed"), None);
        assert!(default_events().contains("report-attached"));
        assert!(!default_events().contains("queued"));
    }

    #[test]
    fn capitalise_upper_cases_the_first_letter_only() {
        assert_eq!(capitalise("the case is published"), "The case is published");
        assert_eq!(capitalise(""), "");
    }
}
