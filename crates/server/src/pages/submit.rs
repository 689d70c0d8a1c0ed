//! `/submit`: a maintainer forwards a change by pasting it or uploading a `.patch`/`.mbox`
//! file, says what looks dodgy and how suspicious it is, and names the project. The form is
//! handed to the API's own `POST /api/v1/cases` handler; on success the browser goes to the
//! new case's page, which shows the automated first assessment as soon as the analyzer ran.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use sx_domain::{Forge, ProjectSpec, Role};
use sx_store::Store;

use crate::AppState;
use crate::api;
use crate::auth::ClientIp;
use crate::error::{ApiError, Json};
use crate::pages::visitor::Visitor;
use crate::pages::{Nav, PageError, Shell, json_of, render, see_other};

/// Largest number of projects offered as suggestions.
const MAX_SUGGESTIONS: u32 = 200;

/// What the form holds (sent back with an error, so nothing typed is lost).
#[derive(Debug, Default, Clone)]
pub struct SubmitFields {
    forge: String,
    host: String,
    project: String,
    diff: String,
    concern: String,
    suspicion: String,
    tags: String,
    pull_request_url: String,
    author: String,
    title: String,
}

/// The submission page.
#[derive(Debug, Template)]
#[template(path = "submit.html")]
pub struct SubmitPage {
    shell: Shell,
    error: Option<String>,
    f: SubmitFields,
    forges: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    suggestions: Vec<String>,
    max_mib: usize,
}

const FORGES: [(&str, &str); 5] = [
    ("github", "GitHub"),
    ("gitlab", "GitLab"),
    ("forgejo", "Forgejo / Codeberg"),
    ("gitea", "Gitea"),
    ("email", "Mailing list (patches by e-mail)"),
];

const LEVELS: [(&str, &str); 5] = [
    ("1", "1 - probably fine, want a second look"),
    ("2", "2 - a little odd"),
    ("3", "3 - suspicious"),
    ("4", "4 - very suspicious"),
    ("5", "5 - I think it is an attack"),
];

async fn page(
    state: &AppState,
    visitor: &Visitor,
    error: Option<String>,
    f: SubmitFields,
) -> Result<SubmitPage, PageError> {
    let user = visitor.require()?.user().id;
    let suggestions = state
        .store
        .list_projects(None, MAX_SUGGESTIONS)
        .await?
        .into_iter()
        .filter(|p| p.value.is_maintainer(user))
        .map(|p| format!("{}/{}", p.value.owner, p.value.name))
        .collect();
    Ok(SubmitPage {
        shell: Shell::new(visitor, "Forward a change", Nav::Submit),
        error,
        f,
        forges: FORGES.to_vec(),
        levels: LEVELS.to_vec(),
        suggestions,
        max_mib: state.config.max_change_bytes.div_ceil(1 << 20),
    })
}

fn require_maintainer(visitor: &Visitor) -> Result<(), PageError> {
    let user = visitor.require()?.user();
    crate::accounts::require_role(user, Role::Maintainer)?;
    Ok(())
}

/// `GET /submit`.
pub async fn form(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    require_maintainer(&visitor)?;
    let f = SubmitFields {
        forge: "github".into(),
        suspicion: "3".into(),
        ..SubmitFields::default()
    };
    let p = page(&state, &visitor, None, f).await?;
    Ok(render(&visitor, StatusCode::OK, &p))
}

/// Reads the multipart form; an uploaded file replaces an empty text area.
async fn read_form(
    request: Request,
    state: &AppState,
) -> Result<(String, SubmitFields), PageError> {
    let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "That did not work",
            format!(
                "the form could not be read ({}); reload the page and try again",
                e.body_text()
            ),
        )
    })?;
    let mut csrf = String::new();
    let mut f = SubmitFields::default();
    let mut upload = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(crate::error::payload_too_large().into());
            }
            Err(e) => {
                return Err(PageError::new(
                    StatusCode::BAD_REQUEST,
                    "That did not work",
                    format!("the form could not be read ({}); try again", e.body_text()),
                ));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                crate::error::payload_too_large().into()
            } else {
                PageError::new(
                    StatusCode::BAD_REQUEST,
                    "That did not work",
                    format!("the form could not be read ({}); try again", e.body_text()),
                )
            }
        })?;
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => csrf = text(),
            "forge" => f.forge = text(),
            "host" => f.host = text(),
            "project" => f.project = text(),
            "diff" => f.diff = text(),
            "file" => upload = text(),
            "concern" => f.concern = text(),
            "suspicion" => f.suspicion = text(),
            "tags" => f.tags = text(),
            "pull_request_url" => f.pull_request_url = text(),
            "author" => f.author = text(),
            "title" => f.title = text(),
            _ => {}
        }
    }
    if f.diff.trim().is_empty() && !upload.trim().is_empty() {
        f.diff = upload;
    }
    Ok((csrf, f))
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The API request the form describes.
fn request_of(f: &SubmitFields) -> Result<api::cases::CreateCase, ApiError> {
    let forge: Forge = f
        .forge
        .parse()
        .map_err(|_| ApiError::invalid("choose the forge the project lives on"))?;
    // The parser of `s-express submit --project` and the `Project:` line of a forwarded mail:
    // `owner/name` with the forge chosen in the menu, or any of its other forms.
    let mut project: api::cases::ProjectRef = ProjectSpec::parse(&f.project, Some(forge))
        .map_err(|e| ApiError::invalid(e.to_string()))?
        .into();
    if let Some(host) = optional(&f.host) {
        project.host = Some(host);
    }
    let suspicion = f
        .suspicion
        .trim()
        .parse::<u8>()
        .map_err(|_| ApiError::invalid("choose how suspicious the change looks, 1 to 5"))?;
    Ok(api::cases::CreateCase {
        project,
        diff: f.diff.clone(),
        concern: f.concern.trim().to_string(),
        suspicion,
        tags: f
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        pull_request_url: optional(&f.pull_request_url),
        author: optional(&f.author),
        title: optional(&f.title),
        revision: None,
    })
}

/// `POST /submit`.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    request: Request,
) -> Result<Response, PageError> {
    require_maintainer(&visitor)?;
    let caller = visitor.require()?.clone();
    let (csrf, f) = read_form(request, &state).await?;
    visitor.verify(&csrf)?;
    let created = match request_of(&f) {
        Ok(req) => api::cases::create(State(state.clone()), caller, ClientIp(ip), Json(req)).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(answer) => {
            let body: serde_json::Value = json_of(answer).await?;
            let id = body["id"]
                .as_str()
                .ok_or_else(|| PageError::internal("the case answer has no id"))?;
            Ok(see_other(&visitor, &format!("/cases/{id}?done=submitted")))
        }
        Err(e) => {
            let status = e.code.status();
            let p = page(&state, &visitor, Some(e.message), f).await?;
            Ok(render(&visitor, status, &p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_request() {
        let f = SubmitFields {
            forge: "gitlab".into(),
            project: " acme/widget/ ".into(),
            diff: "diff".into(),
            suspicion: "4".into(),
            tags: "ci, , install-hook".into(),
            ..SubmitFields::default()
        };
        let r = request_of(&f).unwrap();
        assert_eq!(
            (r.project.owner.as_str(), r.project.name.as_str()),
            ("acme", "widget")
        );
        assert_eq!(r.project.forge, Forge::Gitlab);
        assert_eq!(r.tags, vec!["ci", "install-hook"]);
        assert_eq!(r.suspicion, 4);
        // The other written forms work too; the host field names a self-hosted forge.
        let named = SubmitFields {
            project: "forgejo:acme/widget.git".into(),
            host: " git.example.org ".into(),
            ..f.clone()
        };
        let r = request_of(&named).unwrap();
        assert_eq!(
            (
                r.project.forge,
                r.project.host.as_deref(),
                r.project.name.as_str()
            ),
            (Forge::Forgejo, Some("git.example.org"), "widget")
        );
        let bad = SubmitFields {
            project: "widget".into(),
            ..f
        };
        let e = request_of(&bad).unwrap_err();
        assert!(
            e.message.contains("\"widget\" is not a project") && e.message.contains("OWNER/NAME"),
            "the shared parser's message: {}",
            e.message
        );
    }
}
