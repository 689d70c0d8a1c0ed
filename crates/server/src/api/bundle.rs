//! Creating a case from a local git bundle: `POST /api/v1/cases` with
//! `Content-Type: multipart/form-data`, a `metadata` field (the JSON of a JSON submission
//! without `diff`, where `revision` names the range *inside the bundle*, e.g. `main..feature`)
//! and a `bundle` field (the output of `git bundle create`).
//!
//! The bundle is read with libgit2 only, nothing is executed: its header is parsed here, its
//! pack is indexed into a temporary bare repository under the data directory (removed
//! afterwards), its refs are recreated, and the range is turned into the change text the case
//! stores — `git format-patch` output for a single commit on top of its base (so commit
//! metadata reaches the analyzer), the unified diff of the two trees otherwise (merges
//! included, so nothing can hide in a merge commit). Then the request continues exactly like a
//! JSON submission (same checks, limits, rate limits and answer).
//!
//! A *thin* bundle (one made from `base..head`, whose header lists prerequisite commits it does
//! not contain) cannot be read without the maintainer's repository and is refused with a
//! message saying how to make a self-contained one. Bundles are bounded by the request size
//! limit (twice the maximum change size plus 64 KiB); the change text by the maximum change
//! size.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use git2::{DiffFindOptions, DiffFormat, DiffOptions, EmailCreateOptions, Oid, Repository};
use serde_json::Value;
use sx_domain::Role;

use crate::AppState;
use crate::accounts::require_role;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// The media type of a bundle part (any is accepted; this is what the docs show).
pub const BUNDLE_MEDIA_TYPE: &str = "application/x-git-bundle";

/// Most header lines (refs and prerequisites) a bundle may have.
const MAX_HEADER_LINES: usize = 10_000;

/// Why a bundle could not be turned into a change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not a git bundle.
    #[error(
        "the `bundle` field is not a git bundle (it must start with `# v2 git bundle` or `# v3 git bundle`); create one with `git bundle create change.bundle <branch>`"
    )]
    NotABundle,
    /// A bundle feature this server does not read.
    #[error("{0}")]
    Unsupported(String),
    /// A thin bundle: it builds on commits it does not contain.
    #[error(
        "the bundle is thin: it builds on {count} commit(s) it does not contain (e.g. {example}), so it cannot be read without your repository. \
         Make a self-contained bundle that includes the base, e.g. `git bundle create change.bundle main feature` \
         (both branches, full history), and send the range as `\"revision\": \"main..feature\"`"
    )]
    Thin {
        /// How many prerequisites.
        count: usize,
        /// The first one.
        example: String,
    },
    /// The pack or a ref could not be read.
    #[error("the bundle's contents could not be read: {0}")]
    Pack(String),
    /// No range given, or it does not resolve.
    #[error("{message} (refs in this bundle: {refs})")]
    Range {
        /// What is wrong.
        message: String,
        /// The bundle's refs, for the message.
        refs: String,
    },
    /// The change text is over the maximum change size.
    #[error(
        "the change of {range} is over this instance's {limit}-byte maximum change size; send a smaller range"
    )]
    TooLarge {
        /// The range.
        range: String,
        /// The limit.
        limit: usize,
    },
    /// A local I/O failure (the temporary repository).
    #[error("reading the bundle failed on the server: {0}")]
    Io(#[from] std::io::Error),
}

impl From<BundleError> for ApiError {
    fn from(err: BundleError) -> Self {
        let message = err.to_string();
        match err {
            BundleError::TooLarge { .. } => ApiError::new(ErrorCode::PayloadTooLarge, message),
            BundleError::Io(e) => ApiError::internal(e),
            _ => ApiError::new(ErrorCode::InvalidChange, message),
        }
    }
}

/// The change read from a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleChange {
    /// The change text (format-patch output or a unified diff).
    pub text: String,
    /// `base..head` as full commit ids (`0000…` as base for a root commit's empty tree).
    pub revision: String,
    /// The head commit's summary line.
    pub title: Option<String>,
}

/// A parsed bundle header.
#[derive(Debug, Default, PartialEq, Eq)]
struct Header {
    prerequisites: Vec<String>,
    refs: Vec<(String, String)>,
    pack_offset: usize,
}

fn is_oid(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The line at `*pos` (without its `\n`), advancing past it; `None` at the end.
fn next_line<'a>(bytes: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = bytes.get(*pos..)?;
    let end = rest.iter().position(|b| *b == b'\n')?;
    *pos += end + 1;
    rest.get(..end)
}

fn parse_header(bytes: &[u8]) -> Result<Header, BundleError> {
    let mut pos = 0;
    let first = next_line(bytes, &mut pos).ok_or(BundleError::NotABundle)?;
    let v3 = match first {
        b"# v2 git bundle" => false,
        b"# v3 git bundle" => true,
        _ => return Err(BundleError::NotABundle),
    };
    let mut header = Header::default();
    for _ in 0..=MAX_HEADER_LINES {
        let line = next_line(bytes, &mut pos).ok_or_else(|| {
            BundleError::Pack("the header does not end with an empty line".into())
        })?;
        if line.is_empty() {
            header.pack_offset = pos;
            return Ok(header);
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| BundleError::Pack("a header line is not UTF-8".into()))?;
        if let Some(capability) = line.strip_prefix('@') {
            if !v3 {
                return Err(BundleError::Pack(
                    "a v2 bundle header has a capability line".into(),
                ));
            }
            match capability {
                "object-format=sha1" => {}
                c if c.starts_with("object-format=") => {
                    return Err(BundleError::Unsupported(format!(
                        "this server reads SHA-1 repositories only, and the bundle declares {c}"
                    )));
                }
                c if c.starts_with("filter=") => {
                    return Err(BundleError::Unsupported(
                        "the bundle is a partial clone (made with --filter); create it without a filter".into(),
                    ));
                }
                c => {
                    return Err(BundleError::Unsupported(format!(
                        "the bundle needs the capability {c:?}, which this server does not know"
                    )));
                }
            }
        } else if let Some(rest) = line.strip_prefix('-') {
            let oid = rest.split(' ').next().unwrap_or_default();
            if !is_oid(oid) {
                return Err(BundleError::Pack(format!("bad prerequisite line {line:?}")));
            }
            header.prerequisites.push(oid.to_string());
        } else {
            let (oid, name) = line
                .split_once(' ')
                .ok_or_else(|| BundleError::Pack(format!("bad ref line {line:?}")))?;
            if !is_oid(oid) || name.is_empty() {
                return Err(BundleError::Pack(format!("bad ref line {line:?}")));
            }
            header.refs.push((oid.to_string(), name.to_string()));
        }
    }
    Err(BundleError::Pack(format!(
        "the header has more than {MAX_HEADER_LINES} lines"
    )))
}

/// A temporary directory under the data directory, removed when dropped.
struct TempRepoDir(PathBuf);

impl Drop for TempRepoDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(path = %self.0.display(), error = %e, "could not remove a temporary bundle repository");
        }
    }
}

fn pack_error(what: &str) -> impl FnOnce(git2::Error) -> BundleError + '_ {
    move |e| BundleError::Pack(format!("{what}: {}", e.message()))
}

/// Reads `bytes` (a bundle) and returns the change of `range` in it. Blocking: run it on the
/// blocking pool. `scratch` is a directory for the temporary repository.
///
/// # Errors
/// See [`BundleError`].
pub fn read_bundle(
    bytes: &[u8],
    range: Option<&str>,
    scratch: &Path,
    max_text: usize,
) -> Result<BundleChange, BundleError> {
    let header = parse_header(bytes)?;
    if let Some(first) = header.prerequisites.first() {
        return Err(BundleError::Thin {
            count: header.prerequisites.len(),
            example: first.clone(),
        });
    }
    let ref_list = || {
        let names: Vec<&str> = header
            .refs
            .iter()
            .map(|(_, n)| n.as_str())
            .take(20)
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let Some(range) = range.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err(BundleError::Range {
            message:
                "name the range to analyse in the metadata's `revision`, e.g. \"main..feature\""
                    .into(),
            refs: ref_list(),
        });
    };
    let pack = bytes.get(header.pack_offset..).unwrap_or_default();
    if !pack.starts_with(b"PACK") {
        return Err(BundleError::Pack(
            "no pack follows the header (is the file truncated?)".into(),
        ));
    }

    std::fs::create_dir_all(scratch)?;
    let dir = TempRepoDir(scratch.join(format!("bundle-{}", uuid::Uuid::new_v4().simple())));
    let repo = Repository::init_bare(&dir.0).map_err(pack_error("creating a repository"))?;
    {
        let odb = repo
            .odb()
            .map_err(pack_error("opening the object database"))?;
        let mut writer = odb
            .packwriter()
            .map_err(pack_error("starting the pack index"))?;
        writer
            .write_all(pack)
            .map_err(|e| BundleError::Pack(format!("indexing the pack: {e}")))?;
        writer.commit().map_err(pack_error("indexing the pack"))?;
    }
    for (oid, name) in &header.refs {
        if name == "HEAD" || !git2::Reference::is_valid_name(name) {
            continue;
        }
        let id = Oid::from_str(oid).map_err(pack_error("reading a ref"))?;
        repo.reference(name, id, true, "from a submitted bundle")
            .map_err(|e| {
                BundleError::Pack(format!(
                    "ref {name} names {oid}, which the bundle does not contain ({})",
                    e.message()
                ))
            })?;
    }
    change_of(&repo, range, max_text).map_err(|e| match e {
        BundleError::Range { message, .. } => BundleError::Range {
            message,
            refs: ref_list(),
        },
        other => other,
    })
}

fn resolve_commit(repo: &Repository, spec: &str) -> Result<Oid, BundleError> {
    let range_error = |message: String| BundleError::Range {
        message,
        refs: String::new(),
    };
    let object = repo.revparse_single(spec).map_err(|e| {
        range_error(format!(
            "{spec:?} is not a commit, branch or tag of the bundle ({})",
            e.message()
        ))
    })?;
    object
        .peel_to_commit()
        .map(|c| c.id())
        .map_err(|_| range_error(format!("{spec:?} does not name a commit")))
}

fn change_of(repo: &Repository, range: &str, max_text: usize) -> Result<BundleChange, BundleError> {
    let range_error = |message: String| BundleError::Range {
        message,
        refs: String::new(),
    };
    if range.contains("...") {
        return Err(range_error(format!(
            "{range:?} is a symmetric range; use BASE..HEAD"
        )));
    }
    let (base, head) = match range.split_once("..") {
        Some((b, h)) if !b.is_empty() && !h.is_empty() => {
            (Some(resolve_commit(repo, b)?), resolve_commit(repo, h)?)
        }
        Some(_) => return Err(range_error(format!("{range:?} must be BASE..HEAD"))),
        None => {
            // A single commit: against its first parent, or the empty tree for a root.
            let head = resolve_commit(repo, range)?;
            let commit = repo
                .find_commit(head)
                .map_err(pack_error("reading a commit"))?;
            (commit.parent_ids().next(), head)
        }
    };
    let head_commit = repo
        .find_commit(head)
        .map_err(pack_error("reading a commit"))?;
    let title = head_commit
        .summary_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let revision = format!("{}..{head}", base.unwrap_or(Oid::ZERO_SHA1));
    let too_large = || BundleError::TooLarge {
        range: range.to_string(),
        limit: max_text,
    };

    // One commit on top of the base: format-patch output, which carries the commit's author,
    // date and message to the analyzer.
    if head_commit.parent_count() == 1 && head_commit.parent_ids().next() == base {
        let mut options = EmailCreateOptions::new();
        options.diff_options().show_binary(true).id_abbrev(40);
        let email = git2::Email::from_commit(&head_commit, &mut options)
            .map_err(pack_error("formatting the commit as a patch"))?;
        if email.as_slice().len() > max_text {
            return Err(too_large());
        }
        return Ok(BundleChange {
            text: String::from_utf8_lossy(email.as_slice()).into_owned(),
            revision,
            title,
        });
    }

    let old_tree = match base {
        Some(id) => Some(
            repo.find_commit(id)
                .and_then(|c| c.tree())
                .map_err(pack_error("reading the base tree"))?,
        ),
        None => None,
    };
    let new_tree = head_commit
        .tree()
        .map_err(pack_error("reading the head tree"))?;
    let mut options = DiffOptions::new();
    options
        .show_binary(true)
        .ignore_submodules(true)
        .id_abbrev(40);
    let mut diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut options))
        .map_err(pack_error("diffing the trees"))?;
    let mut find = DiffFindOptions::new();
    find.renames(true).rename_limit(1000);
    diff.find_similar(Some(&mut find))
        .map_err(pack_error("detecting renames"))?;
    let mut out: Vec<u8> = Vec::new();
    let mut over = false;
    let printed = diff.print(DiffFormat::Patch, |_delta, _hunk, line| {
        // Content lines come without their prefix; everything else comes complete.
        let origin = line.origin();
        let prefixed = matches!(origin, '+' | '-' | ' ');
        if out.len() + usize::from(prefixed) + line.content().len() > max_text {
            over = true;
            return false;
        }
        if prefixed {
            let mut b = [0u8; 4];
            out.extend_from_slice(origin.encode_utf8(&mut b).as_bytes());
        }
        out.extend_from_slice(line.content());
        true
    });
    if over {
        return Err(too_large());
    }
    printed.map_err(pack_error("printing the diff"))?;
    Ok(BundleChange {
        text: String::from_utf8_lossy(&out).into_owned(),
        revision,
        title,
    })
}

fn bad_form(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

/// A multipart form (or its next field) that could not be read: too large, or malformed.
fn unreadable_form(status: axum::http::StatusCode, text: &str) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        crate::error::payload_too_large()
    } else {
        bad_form(format!("the multipart form could not be read: {text}"))
    }
}

/// `POST /api/v1/cases`: a JSON submission goes straight to [`crate::api::cases::create`]; a
/// `multipart/form-data` one is a bundle, turned into the same JSON submission first.
pub async fn create(State(state): State<AppState>, request: Request) -> Response {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        return Handler::call(crate::api::cases::create, request, state).await;
    }
    match from_bundle(&state, request).await {
        Ok(json_request) => Handler::call(crate::api::cases::create, json_request, state).await,
        Err(e) => e.into_response(),
    }
}

/// Reads the multipart form and returns the equivalent JSON request (same headers and
/// connection info, so authentication and rate limits apply unchanged).
async fn from_bundle(state: &AppState, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    // Authenticate before any work on the bundle: only maintainers may submit.
    let caller = Caller::from_request_parts(&mut parts, state).await?;
    require_role(caller.user(), Role::Maintainer)?;
    let template = {
        let mut builder = Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.clone())
            .version(parts.version);
        if let Some(headers) = builder.headers_mut() {
            headers.clone_from(&parts.headers);
            headers.remove(header::CONTENT_LENGTH);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if let Some(extensions) = builder.extensions_mut() {
            extensions.clone_from(&parts.extensions);
        }
        builder
    };
    let mut form = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| unreadable_form(e.status(), &e.body_text()))?;
    let mut metadata: Option<Value> = None;
    let mut bundle: Option<Vec<u8>> = None;
    loop {
        let field = form
            .next_field()
            .await
            .map_err(|e| unreadable_form(e.status(), &e.body_text()))?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|e| {
            bad_form(format!(
                "the field {name:?} could not be read: {}",
                e.body_text()
            ))
        })?;
        match name.as_str() {
            "metadata" => {
                let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    bad_form(format!("the `metadata` field is not valid JSON: {e}"))
                })?;
                metadata = Some(value);
            }
            "bundle" => bundle = Some(bytes.to_vec()),
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown form field {other:?}; send `metadata` (JSON) and `bundle` (the git bundle)"
                )));
            }
        }
    }
    let Some(Value::Object(mut metadata)) = metadata else {
        return Err(ApiError::invalid(
            "the form needs a `metadata` field holding a JSON object (the fields of a JSON submission, without `diff`)",
        ));
    };
    let Some(bundle) = bundle else {
        return Err(ApiError::invalid(
            "the form needs a `bundle` field holding a git bundle (`git bundle create change.bundle <branch>`)",
        ));
    };
    if metadata.contains_key("diff") {
        return Err(ApiError::invalid(
            "`metadata` must not hold `diff`: the change comes from the bundle",
        ));
    }
    let range = match metadata.get("revision") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("`revision` must be a string")),
    };
    let scratch = state.config.data_dir.join("tmp");
    let max_text = state.config.max_change_bytes;
    let change = tokio::task::spawn_blocking(move || {
        read_bundle(&bundle, range.as_deref(), &scratch, max_text)
    })
    .await
    .map_err(ApiError::internal)??;
    metadata.insert("diff".into(), Value::String(change.text));
    metadata.insert("revision".into(), Value::String(change.revision));
    if !metadata.contains_key("title")
        && let Some(title) = change.title
    {
        metadata.insert("title".into(), Value::String(title));
    }
    let body = serde_json::to_vec(&Value::Object(metadata)).map_err(ApiError::internal)?;
    template.body(Body::from(body)).map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_lists_refs_and_prerequisites_and_finds_the_pack() {
        let oid = "a".repeat(40);
        let text = format!("# v2 git bundle\n-{oid} base\n{oid} refs/heads/main\n\nPACK");
        let h = parse_header(text.as_bytes()).unwrap();
        assert_eq!(h.prerequisites, std::slice::from_ref(&oid));
        assert_eq!(h.refs, [(oid, "refs/heads/main".to_string())]);
        assert_eq!(&text.as_bytes()[h.pack_offset..], b"PACK");
    }

    #[test]
    fn non_bundles_sha256_and_filtered_bundles_are_refused_by_name() {
        assert!(matches!(
            parse_header(b"diff --git a/x b/x\n"),
            Err(BundleError::NotABundle)
        ));
        let sha256 = "# v3 git bundle\n@object-format=sha256\n\nPACK";
        assert!(
            parse_header(sha256.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("SHA-1")
        );
        let filtered = "# v3 git bundle\n@filter=blob:none\n\nPACK";
        assert!(
            parse_header(filtered.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("--filter")
        );
        assert!(matches!(
            parse_header(b"# v2 git bundle\nnot-an-oid refs/heads/x\n\n"),
            Err(BundleError::Pack(_))
        ));
    }

    #[test]
    fn a_thin_bundle_is_refused_with_the_command_that_makes_a_self_contained_one() {
        let oid = "b".repeat(40);
        let text = format!("# v2 git bundle\n-{oid} base\n{oid} refs/heads/f\n\nPACK");
        let dir = std::env::temp_dir();
        let err = read_bundle(text.as_bytes(), Some("main..f"), &dir, 1 << 20).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("thin"), "{message}");
        assert!(message.contains("git bundle create"), "{message}");
    }
}
