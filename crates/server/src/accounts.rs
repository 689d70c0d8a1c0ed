//! Accounts: password hashing, users, personal API tokens and login sessions.
//!
//! * Passwords are hashed with argon2id (the `argon2` crate's default parameters: 19 MiB, two
//!   passes) into a PHC string; hashing runs on the blocking pool so it never stalls the
//!   request threads.
//! * API tokens are `sxp_` + 32 random bytes (base64url). The client sees the token once; the
//!   store keeps only its SHA-256, so a database leak does not leak usable tokens. A token's
//!   public id is the first 16 hex digits of that hash.
//! * A session id is 32 random bytes held in an HttpOnly cookie, stored hashed. Its CSRF token
//!   is derived from the session id (SHA-256 of a domain-separated prefix and the id), so the
//!   server can hand it out again (`GET /api/v1/me`) without storing it, and nobody without
//!   the cookie's secret can compute it.

use std::collections::BTreeSet;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sx_domain::{AuditAction, AuditActor, AuditEvent, AuditTarget, Role, User, UserId};
use sx_store::{ApiToken, AuditedChange, Invitation, SecretHash, Session, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password, in bytes (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Prefix of personal API tokens (lets secret scanners recognise leaked ones).
pub const TOKEN_PREFIX: &str = "sxp_";

/// A fresh random secret: 32 bytes, base64url without padding.
#[must_use]
pub fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Checks a new password's length.
///
/// # Errors
/// When it is too short or too long.
pub fn check_password_policy(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "passwords need at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid(format!(
            "passwords may be at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Hashes a password with argon2id into a PHC string (CPU-heavy: call from a blocking task).
///
/// # Errors
/// Only if the hasher rejects its parameters (a bug).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the PHC string (CPU-heavy: call from a blocking task). A
/// malformed stored hash never matches.
#[must_use]
pub fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash is malformed");
            false
        }
    }
}

/// A PHC hash of a random password, verified against when the handle is unknown so that a
/// login for a missing account costs as much time as one for an existing account.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_secret()).unwrap_or_default())
}

/// Runs [`verify_password`] on the blocking pool; `None` hash verifies against a dummy and fails.
pub async fn verify_password_async(
    phc: Option<String>,
    password: String,
) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&phc, &password),
        None => {
            let _ = verify_password(dummy_hash(), &password);
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

/// Input for [`create_user`].
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Login handle.
    pub handle: String,
    /// Display name (defaults to the handle).
    pub display_name: Option<String>,
    /// Password, if the user logs in with one.
    pub password: Option<String>,
    /// Roles.
    pub roles: BTreeSet<Role>,
}

/// Checks a handle: 1–64 characters of ASCII letters, digits, `-`, `_` and `.`.
///
/// # Errors
/// When the handle has another form.
pub fn check_handle(handle: &str) -> Result<(), ApiError> {
    let ok = !handle.is_empty()
        && handle.len() <= 64
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "handles are 1-64 characters of letters, digits, '-', '_' and '.'",
        ))
    }
}

/// Creates a user (hashing the password on the blocking pool).
///
/// # Errors
/// When the handle or password is invalid, the handle is taken, or the store fails.
pub async fn create_user(
    store: &impl Store,
    new: NewUser,
    now: OffsetDateTime,
) -> Result<User, ApiError> {
    create_user_with_id(store, UserId::from_uuid(uuid::Uuid::now_v7()), new, now).await
}

/// [`create_user`] with an id chosen by the caller (e.g. already recorded on an invitation).
///
/// # Errors
/// As [`create_user`].
pub async fn create_user_with_id(
    store: &impl Store,
    id: UserId,
    new: NewUser,
    now: OffsetDateTime,
) -> Result<User, ApiError> {
    let (user, hash) = prepare_user(id, new, now).await?;
    store.create_user(&user, hash.as_deref()).await?;
    Ok(user)
}

/// Checks a new account and hashes its password (on the blocking pool), without storing it:
/// [`create_user`] stores the result, `crate::admin::create_user` stores it with its audit
/// record.
///
/// # Errors
/// When the handle or password is invalid.
pub async fn prepare_user(
    id: UserId,
    new: NewUser,
    now: OffsetDateTime,
) -> Result<(User, Option<String>), ApiError> {
    check_handle(&new.handle)?;
    let hash = match new.password {
        Some(password) => {
            check_password_policy(&password)?;
            Some(
                tokio::task::spawn_blocking(move || hash_password(&password))
                    .await
                    .map_err(ApiError::internal)??,
            )
        }
        None => None,
    };
    let expert = new
        .roles
        .contains(&Role::Expert)
        .then(sx_domain::ExpertProfile::default);
    let user = User {
        id,
        display_name: new.display_name.unwrap_or_else(|| new.handle.clone()),
        handle: new.handle,
        roles: new.roles,
        expert,
        created_at: now,
    };
    Ok((user, hash))
}

/// A token as created: the secret (show it once) and the stored record.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The bearer secret.
    pub secret: String,
    /// The stored record (hash only).
    pub record: ApiToken,
}

/// The public id of a token: the first 16 hex digits of its hash.
#[must_use]
pub fn token_id(hash: &SecretHash) -> String {
    hex::encode(&hash.0[..8])
}

/// Creates a personal API token.
///
/// # Errors
/// When the name is empty or too long, or the store fails.
pub async fn issue_token(
    store: &impl Store,
    user: UserId,
    name: &str,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<IssuedToken, ApiError> {
    let issued = prepare_token(user, name, expires_at, now)?;
    store.create_api_token(&issued.record).await?;
    Ok(issued)
}

/// Makes a token's secret and record without storing them ([`issue_token`] stores them,
/// `crate::admin::issue_token` stores them with an audit record).
///
/// # Errors
/// When the name is empty or too long.
pub fn prepare_token(
    user: UserId,
    name: &str,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<IssuedToken, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "a token name is 1-100 characters without control characters",
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    let record = ApiToken {
        token_hash: SecretHash::of(&secret),
        user_id: user,
        name: name.to_string(),
        scopes: BTreeSet::new(),
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    Ok(IssuedToken { secret, record })
}

/// What an invitation grants (checked by the caller: who may invite whom, the address).
#[derive(Debug, Clone)]
pub struct InvitationSpec {
    /// The invitee's address (may be empty when the link is handed over another way).
    pub email: String,
    /// Roles the new account gets.
    pub roles: BTreeSet<Role>,
    /// A subgroup the new account joins.
    pub subgroup_id: Option<sx_domain::SubgroupId>,
    /// Who invited (`None`: an operator through `s-express admin`).
    pub invited_by: Option<UserId>,
    /// How long the link stays valid.
    pub valid_for: time::Duration,
}

/// Creates an invitation: `sxi_` + 32 random bytes, of which only the SHA-256 is stored.
/// Returns the token (shown once; `/invite/{token}` and `POST /api/v1/invitations/accept`
/// take it) and the stored record.
///
/// An invitation grants roles, so it is a privileged action: it is stored together with its
/// audit record (actor: the inviter, or the operator when `invited_by` is `None`; details:
/// the address, the roles, the subgroup; never the token).
///
/// # Errors
/// When the store fails.
pub async fn issue_invitation(
    store: &impl Store,
    spec: InvitationSpec,
    now: OffsetDateTime,
) -> Result<(String, Invitation), ApiError> {
    let token = format!("sxi_{}", random_secret());
    let invitation = Invitation {
        token_hash: SecretHash::of(&token),
        email: spec.email,
        roles: spec.roles,
        subgroup_id: spec.subgroup_id,
        invited_by: spec.invited_by,
        created_at: now,
        expires_at: now + spec.valid_for,
        accepted_at: None,
        accepted_by: None,
    };
    let actor = invitation
        .invited_by
        .map_or(AuditActor::Operator, AuditActor::User);
    let roles: Vec<&str> = invitation.roles.iter().map(|r| r.as_str()).collect();
    let mut event = AuditEvent::new(
        actor,
        AuditAction::InvitationCreated,
        AuditTarget::Invitation,
        now,
    )
    .detail("email", invitation.email.clone())
    .detail("roles", roles.join(","))
    .detail(
        "expires",
        invitation
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    if let Some(id) = invitation.subgroup_id {
        let slug = store
            .get_subgroup(id)
            .await?
            .map_or_else(|| id.to_string(), |g| g.value.slug);
        event = event.detail("subgroup", slug);
    }
    store
        .apply_audited(&AuditedChange::CreateInvitation(&invitation), &event)
        .await?;
    tracing::info!(
        target: "sx_server::admin",
        actor = %event.actor,
        action = %event.action,
        details = ?event.details,
        "privileged action recorded"
    );
    Ok((token, invitation))
}

/// The CSRF token bound to a session id.
#[must_use]
pub fn csrf_token_for(session_secret: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"s-express csrf v1\0")
        .chain_update(session_secret.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// A session as created: the cookie secret, its CSRF token and the stored record.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    /// The cookie value.
    pub secret: String,
    /// The CSRF token to send back in `X-CSRF-Token`.
    pub csrf_token: String,
    /// The stored record.
    pub record: Session,
}

/// Starts a session for `user`.
///
/// # Errors
/// When the store fails.
pub async fn start_session(
    state: &AppState,
    user: UserId,
    now: OffsetDateTime,
) -> Result<IssuedSession, ApiError> {
    let secret = random_secret();
    let csrf_token = csrf_token_for(&secret);
    let record = Session {
        id_hash: SecretHash::of(&secret),
        user_id: user,
        csrf_hash: SecretHash::of(&csrf_token),
        created_at: now,
        expires_at: now + time::Duration::hours(i64::from(state.config.session_hours)),
    };
    state.store.create_session(&record).await?;
    Ok(IssuedSession {
        secret,
        csrf_token,
        record,
    })
}

/// Compares two secrets in time independent of where they differ.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A user-facing role check.
///
/// # Errors
/// `forbidden` naming the role when the user lacks it.
pub fn require_role(user: &User, role: Role) -> Result<(), ApiError> {
    if user.has_role(role) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this needs the {role} role; ask a coordinator or admin"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_argon2id_hash() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password(&phc, "correct horse battery staple"));
        assert!(!verify_password(&phc, "correct horse battery stapler"));
        assert!(!verify_password("not a phc string", "x"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password_policy("twelve chars").is_ok());
    }

    #[test]
    fn csrf_tokens_depend_on_the_session_secret() {
        let a = random_secret();
        let b = random_secret();
        assert_ne!(a, b);
        assert_eq!(csrf_token_for(&a), csrf_token_for(&a));
        assert_ne!(csrf_token_for(&a), csrf_token_for(&b));
        assert!(constant_time_eq(
            csrf_token_for(&a).as_bytes(),
            csrf_token_for(&a).as_bytes()
        ));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn handles_are_plain_ascii_words() {
        assert!(check_handle("alice.smith-2").is_ok());
        for bad in ["", "a b", "<script>", "ümlaut", &"a".repeat(65)] {
            assert!(check_handle(bad).is_err(), "{bad}");
        }
    }
}
