//! Mail intake: a maintainer forwards a patch series by e-mail.
//!
//! ## The model
//!
//! Each maintainer may make one secret intake address, `submit+<token>@<intake domain>`
//! (`POST /api/v1/me/mail-intake`, or `s-express mail address --new`). The token is 160 random
//! bits in lower-case base32 (MTAs may lower-case addresses), stored only as its SHA-256; the
//! address is shown once. The operator's MTA pipes every message for such an address into
//! `s-express mail deliver` (or a fetcher drops them into a Maildir that `s-express mail
//! maildir` reads), which calls [`deliver`] on the instance's database.
//!
//! A message is accepted only when both hold:
//!
//! 1. it is addressed to a live intake address (the envelope recipient the MTA passes, else
//!    the delivery headers an MTA or fetcher adds, else `To:`/`Cc:`) — a secret nobody can
//!    guess, unlike a `From:` header; and
//! 2. its sender (`From:`, or `Resent-From:` when redirected) is the notification address of
//!    the account the intake address belongs to — so a leaked intake address alone is not
//!    enough either.
//!
//! Then the message is read with [`sx_forge::mail::read_forwarded`]: the forwarded series
//! becomes the case's change text, the maintainer's own text its concern, and directive lines
//! (`Project:`, `Suspicion:`, `Tags:`) or the forwarded patches' `List-Id:` name the project
//! and the suspicion. The case is created through the same function as `POST /api/v1/cases`
//! ([`crate::api::cases::receive_change`]): same checks, same analysis job, and the same
//! notifications afterwards (the maintainer is told by e-mail when the automated report is
//! attached, like for any case they forward).
//!
//! Every refusal is a [`DeliveryError::Refused`] whose text is safe to return to the sender
//! (the MTA puts it in the bounce): an authentication failure says only that the address is
//! unknown or the sender not the registered one, never which; the exact reason is logged. A
//! database that cannot be reached is [`DeliveryError::Unavailable`], so the MTA keeps the
//! message and tries again. A message delivered twice (an MTA retry, a maildir run interrupted
//! after the case was stored) is recognised by its sender and `Message-ID` and answered with
//! the case it already became.
//!
//! ## Rate limit
//!
//! One user may open at most `[mail] max_cases_per_hour` cases by mail in any hour (default
//! 30): a leaked intake address plus a forged sender, or a mail loop, must not flood the
//! experts' queues. `s-express mail deliver` runs as one process per message, so the count
//! comes from the store (the recorded deliveries, [`Store::mail_delivery_times`]), not from
//! memory. A message over the limit is [`DeliveryError::RateLimited`]: a temporary failure
//! (`EX_TEMPFAIL`), so the MTA keeps it and tries again, and nothing is lost; its text says
//! the limit and from when the message can be accepted. The check comes after the duplicate
//! check (a retried message that already became a case is still answered with its case) and
//! before the message is parsed. Deliveries running at the same instant may each pass the
//! check, so the limit can be exceeded by the number of parallel deliveries (the Postfix pipe
//! transport in `docs/maintainers.md` runs 4 at a time).

pub mod api;
pub mod config;

use sx_domain::{CaseId, Forge, ProjectSpec, Role, SuspicionLevel, User};
use sx_forge::mail::{Forwarded, MailError, MailLimits};
use sx_store::{NotifySettings, SecretHash, Store, UserRecord};
use time::OffsetDateTime;

use crate::AppState;
use crate::api::cases::{ProjectRef, Submission};
use crate::error::{ApiError, ErrorCode};

use self::config::MailConfig;

/// The refusal sent back for every authentication failure (the log says which).
pub const NOT_AUTHORIZED: &str = "not accepted: this intake address is unknown or was replaced, or the \
     message is not from the address registered for it (the From: address must be the \
     notification address of the account the intake address belongs to; see \
     `s-express mail address` or GET /api/v1/me/mail-intake)";

/// Default suspicion when the message gives none (as `s-express submit`).
pub const DEFAULT_SUSPICION: u8 = 3;

/// The envelope, as the MTA passes it (`s-express mail deliver --recipient`, or `$RECIPIENT`).
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    /// The envelope recipient; when absent, the message's delivery headers and `To:`/`Cc:`
    /// are searched for an intake address.
    pub recipient: Option<String>,
}

/// What became of a delivered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// A new case.
    Created {
        /// The case.
        case_id: CaseId,
        /// Its page.
        url: String,
        /// `owner/name` of its project.
        project: String,
        /// Patch mails and diffs in the series.
        patches: usize,
        /// Files the series touches.
        files: usize,
    },
    /// The message was delivered before and became this case.
    AlreadyReceived {
        /// The case.
        case_id: CaseId,
        /// Its page.
        url: String,
    },
}

/// Why a message was not turned into a case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Refused for good (bounce it): `message` says why and is safe to send back to the sender;
    /// `detail`, when set, is the exact reason for the operator (logs, the rejected folder).
    #[error("{message}")]
    Refused {
        /// For the sender.
        message: String,
        /// For the operator.
        detail: Option<String>,
    },
    /// Not now (keep it and try again): the database or the configuration is not ready.
    #[error("{0}")]
    Unavailable(String),
    /// Not now (keep it and try again): the account opened its most cases by mail for this
    /// hour. `message` is safe to send back and says when to expect the message accepted.
    #[error("{message}")]
    RateLimited {
        /// For the sender.
        message: String,
        /// The earliest instant a new case by mail is accepted for the account.
        retry_at: OffsetDateTime,
    },
}

impl DeliveryError {
    fn refused(e: impl std::fmt::Display) -> Self {
        DeliveryError::Refused {
            message: e.to_string(),
            detail: None,
        }
    }

    fn not_authorized(detail: String) -> Self {
        tracing::warn!(reason = %detail, "mail refused");
        DeliveryError::Refused {
            message: NOT_AUTHORIZED.into(),
            detail: Some(detail),
        }
    }

    /// The operator's reason: the detail if there is one, else the message.
    #[must_use]
    pub fn detail(&self) -> &str {
        match self {
            DeliveryError::Refused {
                detail: Some(d), ..
            } => d,
            DeliveryError::Refused { message, .. }
            | DeliveryError::Unavailable(message)
            | DeliveryError::RateLimited { message, .. } => message,
        }
    }

    /// An API error from the shared case path: client errors are refusals, the rest temporary.
    fn from_api(e: ApiError) -> Self {
        match e.code {
            ErrorCode::Internal | ErrorCode::Conflict | ErrorCode::RateLimited => {
                tracing::error!(error = %e, "mail delivery failed on our side");
                DeliveryError::Unavailable(format!(
                    "temporary failure, try again later: {}",
                    e.message
                ))
            }
            _ => DeliveryError::refused(e.message),
        }
    }

    fn store(e: sx_store::StoreError) -> Self {
        tracing::error!(error = %e, "mail delivery: database failure");
        DeliveryError::Unavailable(
            "temporary failure: the S-Express database is not available; try again later".into(),
        )
    }
}

/// Bytes of an intake token (160 bits).
const TOKEN_BYTES: usize = 20;

/// A new intake token: 160 random bits in lower-case base32 (32 characters).
#[must_use]
pub fn new_token() -> String {
    base32_lower(&rand::random::<[u8; TOKEN_BYTES]>())
}

fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let index = ((buffer >> bits) & 31) as usize;
            out.push(char::from(ALPHABET[index]));
        }
    }
    if bits > 0 {
        let index = ((buffer << (5 - bits)) & 31) as usize;
        out.push(char::from(ALPHABET[index]));
    }
    out
}

/// The hash an intake token is stored and looked up by.
#[must_use]
pub fn token_hash(token: &str) -> SecretHash {
    SecretHash::of(&token.to_ascii_lowercase())
}

/// The intake address of `token`, when the intake is configured.
#[must_use]
pub fn address(config: &MailConfig, token: &str) -> Option<String> {
    config
        .intake_domain
        .as_ref()
        .map(|domain| format!("{}+{token}@{domain}", config.intake_local_part))
}

/// The token of an intake address (`<local part>+<token>@<domain>`, any case), if `address`
/// is one.
#[must_use]
pub fn token_of(config: &MailConfig, address: &str) -> Option<String> {
    let domain = config.intake_domain.as_deref()?;
    let address = address.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    let (local, host) = address.rsplit_once('@')?;
    if host != domain {
        return None;
    }
    let token = local
        .strip_prefix(config.intake_local_part.as_str())?
        .strip_prefix('+')?;
    let plausible = token.len() == TOKEN_BYTES * 8 / 5
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c));
    plausible.then(|| token.to_string())
}

/// The limits a message is read with on this instance.
#[must_use]
pub fn limits(state: &AppState) -> MailLimits {
    MailLimits {
        max_message_bytes: state.config.mail.max_message_bytes,
        max_change_bytes: state.config.max_change_bytes,
        ..MailLimits::default()
    }
}

/// Turns one delivered message into a case (see the module docs).
///
/// # Errors
/// [`DeliveryError::Refused`] for a message that will never be accepted as it is,
/// [`DeliveryError::Unavailable`] when it may be accepted later.
pub async fn deliver(
    state: &AppState,
    raw: &[u8],
    envelope: &Envelope,
) -> Result<Delivered, DeliveryError> {
    let mail = &state.config.mail;
    if mail.intake_domain.is_none() {
        return Err(DeliveryError::Unavailable(
            "the mail intake of this instance is not configured (set mail.intake_domain or \
             S_EXPRESS_MAIL_INTAKE_DOMAIN); the message is kept for a later try"
                .into(),
        ));
    }
    let limits = limits(state);
    // Authenticate on the header alone, before the body (hostile in any case) is parsed.
    let header = sx_forge::mail::read_header(raw, &limits).map_err(DeliveryError::refused)?;
    let token = intake_token(mail, envelope, &header.recipients)?;
    let Some((_, record)) = state
        .store
        .authenticate_mail_intake(token_hash(&token))
        .await
        .map_err(DeliveryError::store)?
    else {
        return Err(DeliveryError::not_authorized(format!(
            "no live intake address has this token (sender {})",
            header.sender
        )));
    };
    let user = authorize_sender(state, &record, &header.sender).await?;
    let key = message_key(&user, header.message_id.as_deref(), raw);
    if let Some(case_id) = state
        .store
        .find_mail_delivery(key)
        .await
        .map_err(DeliveryError::store)?
    {
        tracing::info!(case = %case_id, user = %user.id, "mail delivered again; already a case");
        return Ok(Delivered::AlreadyReceived {
            case_id,
            url: case_url(state, case_id),
        });
    }
    let now = OffsetDateTime::now_utc();
    check_rate(state, &user, now).await?;
    let limits_for_parse = limits.clone();
    let bytes = raw.to_vec();
    let forwarded = tokio::task::spawn_blocking(move || {
        sx_forge::mail::read_forwarded(&bytes, &limits_for_parse)
    })
    .await
    .map_err(|e| DeliveryError::Unavailable(format!("temporary failure: {e}")))?
    .map_err(|e: MailError| DeliveryError::refused(e))?;
    let project_ref = project_of(&forwarded)?;
    let project = crate::api::cases::project_for(state, &project_ref, &user, now)
        .await
        .map_err(DeliveryError::from_api)?;
    let suspicion =
        SuspicionLevel::new(forwarded.directives.suspicion.unwrap_or(DEFAULT_SUSPICION))
            .map_err(DeliveryError::refused)?;
    let patches = forwarded.patches;
    let files = forwarded.files;
    let submission = Submission {
        diff: forwarded.series,
        concern: forwarded
            .concern
            .chars()
            .take(sx_domain::MAX_CONCERN_LEN)
            .collect(),
        suspicion,
        tags: forwarded.directives.tags,
        pull_request_url: None,
        author: None,
        title: forwarded.title,
        revision: None,
    };
    let case =
        crate::api::cases::receive_change(state, &user, &project, submission, |_| Vec::new())
            .await
            .map_err(DeliveryError::from_api)?;
    // Recorded after the case: a crash in between means a second case on a retry, never a
    // message that was acknowledged but lost.
    if let Err(e) = state
        .store
        .record_mail_delivery(key, user.id, case.id, now)
        .await
    {
        tracing::error!(error = %e, case = %case.id, "could not record the delivered message; a retry would create a second case");
    }
    tracing::info!(case = %case.id, user = %user.id, project = %project.full_name(), patches, files, "case received by mail");
    Ok(Delivered::Created {
        case_id: case.id,
        url: case_url(state, case.id),
        project: project.full_name(),
        patches,
        files,
    })
}

/// The window [`MailConfig::max_cases_per_hour`] counts in.
pub const RATE_WINDOW: time::Duration = time::Duration::HOUR;

/// When a user whose latest cases by mail arrived at `times` (newest first, none older than
/// `window`) may open another: `None` for at once, else when the `max`-th newest of them
/// leaves the window.
#[must_use]
pub fn next_allowed(
    times: &[OffsetDateTime],
    max: u32,
    window: time::Duration,
) -> Option<OffsetDateTime> {
    let index = usize::try_from(max).ok()?.checked_sub(1)?;
    times.get(index).map(|t| *t + window)
}

/// Refuses for now when `user` already opened `max_cases_per_hour` cases by mail in the past
/// hour (see the module docs).
async fn check_rate(
    state: &AppState,
    user: &User,
    now: OffsetDateTime,
) -> Result<(), DeliveryError> {
    let max = state.config.mail.max_cases_per_hour;
    let times = state
        .store
        .mail_delivery_times(user.id, now - RATE_WINDOW, max)
        .await
        .map_err(DeliveryError::store)?;
    let Some(retry_at) = next_allowed(&times, max, RATE_WINDOW) else {
        return Ok(());
    };
    tracing::warn!(user = %user.id, max, retry_at = %retry_at, "mail deferred: the account reached its hourly limit of cases by mail");
    // Whole minutes, rounded up: the time said is never too early.
    let shown = crate::pages::format_time(retry_at + time::Duration::MINUTE);
    let wait = ((retry_at - now).whole_seconds() + 59) / 60;
    Err(DeliveryError::RateLimited {
        message: format!(
            "temporary failure: this account already opened {max} cases by mail in the past \
             hour, the most this S-Express instance accepts (mail.max_cases_per_hour); the \
             message is kept and tried again later; it can be accepted from {shown} (in about {wait} minutes)"
        ),
        retry_at,
    })
}

/// The case's web page.
fn case_url(state: &AppState, case_id: CaseId) -> String {
    format!("{}/cases/{case_id}", state.config.public_base_url)
}

/// The intake token the message is addressed to: the envelope recipient's, else the only one
/// among the header addresses.
fn intake_token(
    config: &MailConfig,
    envelope: &Envelope,
    header_recipients: &[String],
) -> Result<String, DeliveryError> {
    let local = &config.intake_local_part;
    let domain = config.intake_domain.as_deref().unwrap_or_default();
    let not_intake = || {
        DeliveryError::refused(format!(
            "this message is not addressed to an intake address ({local}+TOKEN@{domain}); make \
             yours with `s-express mail address --new`"
        ))
    };
    if let Some(recipient) = &envelope.recipient {
        return token_of(config, recipient).ok_or_else(not_intake);
    }
    let mut tokens: Vec<String> = header_recipients
        .iter()
        .filter_map(|a| token_of(config, a))
        .collect();
    tokens.sort();
    tokens.dedup();
    match tokens.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(not_intake()),
        _ => Err(DeliveryError::refused(
            "this message is addressed to more than one intake address; send it to yours only",
        )),
    }
}

/// The account behind the intake address, if the sender is its notification address and it
/// may forward changes.
async fn authorize_sender(
    state: &AppState,
    record: &UserRecord,
    sender: &str,
) -> Result<User, DeliveryError> {
    let user = &record.user;
    let settings: Option<NotifySettings> = state
        .store
        .get_notify_settings(user.id)
        .await
        .map_err(DeliveryError::store)?;
    let registered = settings.and_then(|s| s.email);
    let matches = registered.as_deref().is_some_and(|r| {
        sx_store::notify::normalize_email(r) == sx_store::notify::normalize_email(sender)
    });
    if !matches {
        return Err(DeliveryError::not_authorized(match registered {
            Some(_) => format!(
                "the sender {sender} is not the notification address of {} ({})",
                user.handle, user.id
            ),
            None => format!(
                "{} ({}) has no notification address, so no sender is accepted (sender {sender})",
                user.handle, user.id
            ),
        }));
    }
    if !user.has_role(Role::Maintainer) {
        return Err(DeliveryError::refused(
            "not accepted: only maintainers forward changes, and this account is not one",
        ));
    }
    Ok(user.clone())
}

/// The key a message is remembered by: its sender's account and `Message-ID`, or its content
/// when it has none.
fn message_key(user: &User, message_id: Option<&str>, raw: &[u8]) -> SecretHash {
    let id = match message_id {
        Some(id) => format!("message-id:{}", id.to_ascii_lowercase()),
        None => format!(
            "content:{}",
            sx_store::changes::patch_ref(&String::from_utf8_lossy(raw))
        ),
    };
    SecretHash::of(&format!("mail:{}:{id}", user.id))
}

/// The project: the `Project:` line, else the forwarded patches' mailing list.
fn project_of(forwarded: &Forwarded) -> Result<ProjectRef, DeliveryError> {
    if let Some(spec) = &forwarded.directives.project {
        return parse_project(spec).map_err(DeliveryError::refused);
    }
    if let Some(list) = &forwarded.list_id
        && let Some(project) = list_project(list)
    {
        return Ok(project);
    }
    Err(DeliveryError::refused(
        "which project is this series for? Add a line `Project: FORGE:OWNER/NAME` to your \
         message (e.g. `Project: github:tukaani-project/xz`, or `Project: \
         email:vger.kernel.org/linux-kernel` for a mailing list), or forward the patches with \
         their List-Id header",
    ))
}

/// A mailing list as a project: `List-Id: <label.domain>` is `email:domain/label`, so
/// `linux-kernel.vger.kernel.org` is the project `vger.kernel.org/linux-kernel`.
fn list_project(list_id: &str) -> Option<ProjectRef> {
    let (label, domain) = list_id.split_once('.')?;
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (name_ok(label) && name_ok(domain) && domain.contains('.')).then(|| ProjectRef {
        forge: Forge::Email,
        host: None,
        owner: domain.to_string(),
        name: label.to_string(),
    })
}

/// Parses a `Project:` value with [`ProjectSpec::parse`], the parser of `s-express submit
/// --project` and the web form.
fn parse_project(spec: &str) -> Result<ProjectRef, String> {
    ProjectSpec::parse(spec, None)
        .map(ProjectRef::from)
        .map_err(|e| format!("the `Project:` line: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MailConfig {
        MailConfig {
            intake_domain: Some("intake.example.invalid".into()),
            ..MailConfig::default()
        }
    }

    #[test]
    fn tokens_are_32_lower_case_base32_characters_and_round_trip_through_the_address() {
        let token = new_token();
        assert_eq!(token.len(), 32);
        assert_ne!(token, new_token());
        let addr = address(&config(), &token).unwrap();
        assert!(addr.starts_with("submit+") && addr.ends_with("@intake.example.invalid"));
        assert_eq!(token_of(&config(), &addr).as_deref(), Some(token.as_str()));
        // MTAs may change the case of an address; the token survives it.
        assert_eq!(
            token_of(&config(), &format!("<{}>", addr.to_ascii_uppercase())).as_deref(),
            Some(token.as_str())
        );
        assert_eq!(token_hash(&token.to_ascii_uppercase()), token_hash(&token));
        for other in [
            format!("submit+{token}@elsewhere.invalid"),
            format!("other+{token}@intake.example.invalid"),
            "submit@intake.example.invalid".to_string(),
            "submit+short@intake.example.invalid".to_string(),
        ] {
            assert_eq!(token_of(&config(), &other), None, "{other}");
        }
        assert_eq!(address(&MailConfig::default(), &token), None);
        assert_eq!(base32_lower(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn the_envelope_recipient_wins_and_header_addresses_must_name_one_intake_address() {
        let a = format!("submit+{}@intake.example.invalid", new_token());
        let b = format!("submit+{}@intake.example.invalid", new_token());
        let headers = vec!["list@example.invalid".to_string(), a.clone()];
        assert!(intake_token(&config(), &Envelope::default(), &headers).is_ok());
        let env = Envelope {
            recipient: Some(b.clone()),
        };
        assert_eq!(
            intake_token(&config(), &env, &headers).unwrap(),
            token_of(&config(), &b).unwrap()
        );
        assert!(matches!(
            intake_token(&config(), &Envelope::default(), &[a, b]),
            Err(DeliveryError::Refused { .. })
        ));
        assert!(matches!(
            intake_token(&config(), &Envelope::default(), &[]),
            Err(DeliveryError::Refused { message, .. }) if message.contains("submit+TOKEN@intake.example.invalid")
        ));
    }

    #[test]
    fn a_new_case_is_allowed_until_the_limit_and_then_when_the_oldest_counted_leaves_the_hour() {
        let t = |m: i64| {
            OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap() + time::Duration::minutes(m)
        };
        let newest_first = [t(50), t(30), t(10)];
        assert_eq!(next_allowed(&newest_first, 4, RATE_WINDOW), None);
        assert_eq!(next_allowed(&newest_first, 3, RATE_WINDOW), Some(t(70)));
        // More counted than the limit (deliveries at the same instant): the limit-th newest
        // decides, so one of them must age out first.
        assert_eq!(next_allowed(&newest_first, 2, RATE_WINDOW), Some(t(90)));
        assert_eq!(next_allowed(&[], 1, RATE_WINDOW), None);
    }

    #[test]
    fn projects_come_from_the_project_line_or_the_list_id() {
        let p = parse_project("github:tukaani-project/xz").unwrap();
        assert_eq!(
            (p.forge, p.host, p.owner.as_str(), p.name.as_str()),
            (Forge::Github, None, "tukaani-project", "xz")
        );
        let p = parse_project("gitlab:git.example.invalid/acme/widget.git").unwrap();
        assert_eq!(p.host.as_deref(), Some("git.example.invalid"));
        assert_eq!(p.name, "widget");
        assert_eq!(parse_project("acme/widget").unwrap().forge, Forge::Github);
        let e = parse_project("svn:acme/widget").unwrap_err();
        assert!(
            e.starts_with("the `Project:` line: \"svn:acme/widget\" is not a project")
                && e.contains("FORGE:OWNER/NAME"),
            "{e}"
        );
        assert!(parse_project("widget").is_err());
        let p = list_project("linux-kernel.vger.kernel.org").unwrap();
        assert_eq!(
            (p.forge, p.owner.as_str(), p.name.as_str()),
            (Forge::Email, "vger.kernel.org", "linux-kernel")
        );
        assert!(list_project("localhost").is_none());
        assert!(list_project("x.y").is_none());
    }
}
