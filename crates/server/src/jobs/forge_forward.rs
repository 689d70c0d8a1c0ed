//! `ForgeForward`: a maintainer asked (by `/s-express` comment or label) to forward a pull
//! request. Confirms through the forge API that the sender has write access, fetches the
//! pull request's metadata and patch, and creates the case through the same code path as
//! `POST /api/v1/cases`, together with the [`super::forge_comment`] job that comments back.
//!
//! The case is submitted by the instance's forge account (`s-express:forge`, a maintainer
//! account nobody can log in as) on behalf of the forge user; the forge's own answer about
//! write access is the authority. Idempotent: a pull request already forwarded is not
//! forwarded again.

use serde::{Deserialize, Serialize};
use sx_domain::{Forge, Project, ProjectId, Role, SuspicionLevel, User, UserId};
use sx_forge::{ForgeClient, ForgeKind, ForwardRequest, PullRef, Sender, Trigger};
use sx_store::{ForgeThread, NewJob, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;

/// The job's registered name.
pub const NAME: &str = "forge_forward";

/// Handle of the account that submits forge-forwarded cases (`:` cannot be registered).
pub const BOT_HANDLE: &str = "s-express:forge";

/// The job's input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// `github`, `gitlab` or `forgejo`.
    pub forge: String,
    /// Owner.
    pub owner: String,
    /// Repository.
    pub repo: String,
    /// Pull request number.
    pub number: u64,
    /// Sender login.
    pub sender: String,
    /// Sender id (GitLab).
    pub sender_id: Option<u64>,
    /// The concern text.
    pub concern: String,
    /// The label, when forwarded by label.
    pub label: Option<String>,
    /// Whether the repository is private.
    pub private: bool,
    /// The GitHub App installation the delivery came through.
    #[serde(default)]
    pub installation: Option<u64>,
}

/// Parses the stored forge name.
pub(crate) fn kind_of(name: &str) -> Result<ForgeKind, String> {
    match name {
        "github" => Ok(ForgeKind::Github),
        "gitlab" => Ok(ForgeKind::Gitlab),
        "forgejo" => Ok(ForgeKind::Forgejo),
        other => Err(format!("unknown forge {other:?}")),
    }
}

/// The client for a configured forge, with the instance's change-size limit, authenticated
/// for `pull`'s repository: with the configured token, or — for a GitHub App — with an
/// installation token of `installation` (the delivery's), else of the installation GitHub
/// names for the repository. Installation tokens are cached by the app.
pub(crate) async fn client(
    state: &AppState,
    kind: ForgeKind,
    pull: &PullRef,
    installation: Option<u64>,
) -> Result<ForgeClient, String> {
    let settings = state.config.forges.get(kind);
    let mut endpoint = settings.endpoint();
    endpoint.limits.max_bytes = u64::try_from(state.config.max_change_bytes).unwrap_or(u64::MAX);
    if let Some(app) = settings.app.clone() {
        let for_token = endpoint.clone();
        let pull = pull.clone();
        let token = tokio::task::spawn_blocking(move || {
            app.installation_token(&for_token, installation, &pull, OffsetDateTime::now_utc())
        })
        .await
        .map_err(|e| format!("the GitHub App token request panicked: {e}"))?
        .map_err(|e| format!("no GitHub App installation token: {e}"))?;
        endpoint.token = Some(token);
    }
    ForgeClient::new(endpoint).map_err(|e| e.to_string())
}

/// The message of a failed forge call. A 401 while a GitHub App is configured means GitHub
/// no longer accepts a cached installation token (the app was reinstalled, or its permissions
/// changed): the app's cached tokens are dropped so the job's retry asks for fresh ones.
pub(crate) fn call_failed(state: &AppState, kind: ForgeKind, e: &sx_forge::ClientError) -> String {
    if let (Some(app), sx_forge::ClientError::Status { status: 401, .. }) =
        (&state.config.forges.get(kind).app, e)
    {
        app.forget_tokens();
        tracing::warn!(forge = %kind, "GitHub refused an installation token; cached tokens dropped");
    }
    e.to_string()
}

/// Enqueues a forward request.
///
/// # Errors
/// When the store fails.
pub async fn enqueue(
    state: &AppState,
    kind: ForgeKind,
    request: &ForwardRequest,
    now: OffsetDateTime,
) -> Result<Uuid, StoreError> {
    let payload = Payload {
        forge: kind.as_str().into(),
        owner: request.pull.owner.clone(),
        repo: request.pull.repo.clone(),
        number: request.pull.number,
        sender: request.sender.login.clone(),
        sender_id: request.sender.id,
        concern: request
            .concern
            .chars()
            .take(sx_domain::MAX_CONCERN_LEN / 4)
            .collect(),
        label: match &request.trigger {
            Trigger::Label { name } => Some(name.clone()),
            Trigger::Comment { .. } => None,
        },
        private: request.repo.private,
        installation: request.repo.installation,
    };
    let value = serde_json::to_value(&payload).map_err(|e| StoreError::Invalid(e.to_string()))?;
    state
        .store
        .enqueue_job(&NewJob::now(NAME, value, now))
        .await
}

/// The forge account, created on first use.
pub(crate) async fn bot_user(state: &AppState) -> Result<User, String> {
    if let Some(found) = state
        .store
        .get_user_by_handle(BOT_HANDLE)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(found.user);
    }
    let user = User {
        id: UserId::from_uuid(Uuid::now_v7()),
        handle: BOT_HANDLE.into(),
        display_name: "S-Express forge intake".into(),
        roles: [Role::Maintainer].into_iter().collect(),
        expert: None,
        created_at: OffsetDateTime::now_utc(),
    };
    match state.store.create_user(&user, None).await {
        Ok(()) => Ok(user),
        Err(StoreError::Duplicate { .. }) => state
            .store
            .get_user_by_handle(BOT_HANDLE)
            .await
            .map_err(|e| e.to_string())?
            .map(|r| r.user)
            .ok_or_else(|| "the forge account vanished".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn domain_forge(kind: ForgeKind) -> Forge {
    match kind {
        ForgeKind::Github => Forge::Github,
        ForgeKind::Gitlab => Forge::Gitlab,
        ForgeKind::Forgejo => Forge::Forgejo,
    }
}

/// The project, registered with the forge account as a maintainer (added if missing).
async fn project(
    state: &AppState,
    kind: ForgeKind,
    pull: &PullRef,
    bot: &User,
) -> Result<Project, String> {
    let host = state.config.forges.get(kind).web_host.clone();
    let forge = domain_forge(kind);
    for _ in 0..3 {
        match state
            .store
            .find_project(forge, &host, &pull.owner, &pull.repo)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(found) if found.value.is_maintainer(bot.id) => return Ok(found.value),
            Some(found) => {
                let mut p = found.value;
                p.maintainers.push(bot.id);
                match state.store.update_project(&p, found.version).await {
                    Ok(_) => return Ok(p),
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(e.to_string()),
                }
            }
            None => {
                let p = Project {
                    id: ProjectId::from_uuid(Uuid::now_v7()),
                    forge,
                    host: host.clone(),
                    owner: pull.owner.clone(),
                    name: pull.repo.clone(),
                    maintainers: vec![bot.id],
                    created_at: OffsetDateTime::now_utc(),
                };
                match state.store.create_project(&p).await {
                    Ok(()) => return Ok(p),
                    Err(StoreError::Duplicate { .. }) => continue,
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
    }
    Err(format!("project {} kept changing", pull.full_name()))
}

/// The pull request's web URL on the configured host (recorded, never fetched).
pub(crate) fn web_url(state: &AppState, kind: ForgeKind, pull: &PullRef) -> String {
    let host = &state.config.forges.get(kind).web_host;
    match kind {
        ForgeKind::Github => format!("https://{host}/{}/pull/{}", pull.full_name(), pull.number),
        ForgeKind::Gitlab => format!(
            "https://{host}/{}/-/merge_requests/{}",
            pull.full_name(),
            pull.number
        ),
        ForgeKind::Forgejo => format!("https://{host}/{}/pulls/{}", pull.full_name(), pull.number),
    }
}

/// Runs the job.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    let p: Payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("malformed {NAME} payload: {e}"))?;
    let kind = kind_of(&p.forge)?;
    let api_base = state.config.forges.get(kind).api_url.clone();
    let pull = PullRef {
        owner: p.owner.clone(),
        repo: p.repo.clone(),
        number: p.number,
    };
    let client = client(state, kind, &pull, p.installation).await?;
    let sender = Sender {
        login: p.sender.clone(),
        id: p.sender_id,
        association: None,
    };
    // Write access first: the forge's answer, not the payload, decides who may forward.
    let check_pull = pull.clone();
    let (client, may_write) = tokio::task::spawn_blocking(move || {
        let may = client.has_write_access(&check_pull, &sender);
        (client, may)
    })
    .await
    .map_err(|e| format!("the forge client panicked: {e}"))?;
    if !may_write.map_err(|e| call_failed(state, kind, &e))? {
        tracing::warn!(forge = %kind, pull = %pull.full_name(), number = pull.number, sender = %p.sender, "forward request from a user without write access refused");
        return Ok(());
    }
    let existing = state
        .store
        .find_forge_threads(
            kind.as_str(),
            &api_base,
            &pull.owner,
            &pull.repo,
            pull.number,
        )
        .await
        .map_err(|e| e.to_string())?;
    if !existing.is_empty() {
        tracing::info!(forge = %kind, pull = %pull.full_name(), number = pull.number, "pull request already forwarded; ignored");
        return Ok(());
    }
    let fetch_pull = pull.clone();
    let (info, patch) = tokio::task::spawn_blocking(move || {
        Ok::<_, sx_forge::ClientError>((client.pull(&fetch_pull)?, client.patch(&fetch_pull)?))
    })
    .await
    .map_err(|e| format!("the forge client panicked: {e}"))?
    .map_err(|e| call_failed(state, kind, &e))?;
    if patch.trim().is_empty() {
        return Err(format!(
            "{kind} returned an empty change for {}#{}",
            pull.full_name(),
            pull.number
        ));
    }
    let bot = bot_user(state).await?;
    let project = project(state, kind, &pull, &bot).await?;
    let how = match &p.label {
        Some(label) => format!("label `{label}`"),
        None => "comment".to_string(),
    };
    let concern = if p.concern.is_empty() {
        format!("Forwarded from {kind} by @{} ({how}).", p.sender)
    } else {
        format!(
            "{}\n\n(Forwarded from {kind} by @{} ({how}).)",
            p.concern, p.sender
        )
    };
    let revision = info
        .base_sha
        .as_ref()
        .map(|base| format!("{base}..{}", info.head_sha));
    let submission = crate::api::cases::Submission {
        diff: patch,
        concern,
        suspicion: SuspicionLevel::new(3).map_err(|e| e.to_string())?,
        tags: vec![format!("forge:{kind}")],
        pull_request_url: Some(web_url(state, kind, &pull)),
        author: info
            .author
            .clone()
            .filter(|a| !a.is_empty() && a.len() <= 100),
        title: Some(info.title.clone()).filter(|t| !t.is_empty()),
        revision,
    };
    let now = OffsetDateTime::now_utc();
    let thread_for = |case_id| ForgeThread {
        case_id,
        forge: kind.as_str().into(),
        api_base: api_base.clone(),
        owner: pull.owner.clone(),
        repo: pull.repo.clone(),
        number: pull.number,
        comment_id: None,
        private: p.private,
        head: info.head_sha.clone(),
        created_at: now,
        updated_at: now,
    };
    let case = crate::api::cases::receive_change(state, &bot, &project, submission, |case_id| {
        super::forge_comment::job(&thread_for(case_id), p.installation, now)
            .into_iter()
            .collect()
    })
    .await
    .map_err(|e| format!("the case could not be created: {}", e.message))?;
    tracing::info!(case = %case.id, forge = %kind, pull = %pull.full_name(), number = pull.number, sender = %p.sender, "pull request forwarded");
    Ok(())
}
