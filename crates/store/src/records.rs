//! Records the store keeps beside the domain aggregates: versions, credentials, sessions,
//! invitations, and the query shapes (queue pages, published-case filters).
//!
//! Secrets never reach the store in the clear: API tokens, session ids and invitation tokens
//! are stored as SHA-256 hashes ([`SecretHash::of`]); a leaked database does not let anyone log
//! in. Passwords arrive already hashed (argon2id, by the server).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sx_domain::{AttackVector, CaseId, Language, Role, SubgroupId, UserId, Verdict};
use time::OffsetDateTime;

/// An aggregate with the version it was read at. Pass the version back to the matching
/// `update_*` call; if someone saved in between, the update fails with
/// [`crate::StoreError::Conflict`].
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned<T> {
    /// The aggregate.
    pub value: T,
    /// Its version, starting at 1 and incremented by every update.
    pub version: i64,
}

/// SHA-256 of a bearer secret (API token, session id, invitation token).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// Hashes a secret as presented by a client.
    pub fn of(secret: &str) -> SecretHash {
        SecretHash(Sha256::digest(secret.as_bytes()).into())
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only a prefix: enough to correlate in logs, useless to an attacker anyway.
        write!(f, "SecretHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// A user with the credentials the store keeps for them.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    /// The domain user.
    pub user: sx_domain::User,
    /// Password hash in PHC string format (argon2id), if the user has a password.
    pub password_hash: Option<String>,
    /// Disabled users cannot log in or use tokens.
    pub disabled: bool,
    /// Version for optimistic concurrency.
    pub version: i64,
}

/// An API token (stored hashed).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    /// Hash of the token secret.
    pub token_hash: SecretHash,
    /// Owner.
    pub user_id: UserId,
    /// Human label ("CI bot").
    pub name: String,
    /// Granted scopes, free-form strings the server interprets.
    pub scopes: BTreeSet<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Expiry, if any.
    pub expires_at: Option<OffsetDateTime>,
    /// Last successful use.
    pub last_used_at: Option<OffsetDateTime>,
    /// Revocation time; revoked tokens never authenticate.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A server-side login session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// Hash of the session id held in the cookie.
    pub id_hash: SecretHash,
    /// Who is logged in.
    pub user_id: UserId,
    /// Hash of the CSRF token bound to this session.
    pub csrf_hash: SecretHash,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Expiry; expired sessions are never returned.
    pub expires_at: OffsetDateTime,
}

/// An invitation to join as a user (optionally into a subgroup).
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    /// Hash of the invitation token sent to the invitee.
    pub token_hash: SecretHash,
    /// Where it was sent.
    pub email: String,
    /// Roles granted on acceptance.
    pub roles: BTreeSet<Role>,
    /// Subgroup joined on acceptance.
    pub subgroup_id: Option<SubgroupId>,
    /// Who invited.
    pub invited_by: Option<UserId>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Deadline for accepting.
    pub expires_at: OffsetDateTime,
    /// When it was accepted.
    pub accepted_at: Option<OffsetDateTime>,
    /// The user created or linked on acceptance.
    pub accepted_by: Option<UserId>,
}

/// Where a page of the expert queue starts (exclusive): the last item of the previous page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCursor {
    /// Its SLA deadline.
    pub sla_due: OffsetDateTime,
    /// Its id (ties on the deadline).
    pub case_id: CaseId,
}

/// One case in an expert's queue.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueItem {
    /// The case (with version, ready for a claim).
    pub case: Versioned<sx_domain::Case>,
    /// When the first human assessment is due.
    pub sla_due: OffsetDateTime,
}

impl QueueItem {
    /// The cursor to pass for the page after this item.
    pub fn cursor(&self) -> QueueCursor {
        QueueCursor {
            sla_due: self.sla_due,
            case_id: self.case.value.id,
        }
    }
}

/// Filters for the public list of published cases. All given filters must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublishedFilter {
    /// Effective verdict (latest submitted assessment).
    pub verdict: Option<Verdict>,
    /// Attack vector tag.
    pub vector: Option<AttackVector>,
    /// Language/ecosystem tag.
    pub ecosystem: Option<Language>,
    /// Published at or after.
    pub published_from: Option<OffsetDateTime>,
    /// Published before.
    pub published_to: Option<OffsetDateTime>,
    /// Page start (exclusive), newest first: the last item of the previous page.
    pub before: Option<PublishedCursor>,
    /// Page size (1..=500).
    pub limit: u32,
}

/// Position in the published list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedCursor {
    /// Publication time.
    pub published_at: OffsetDateTime,
    /// Case id (ties).
    pub case_id: CaseId,
}

/// Largest page any list query returns.
pub const MAX_PAGE: u32 = 500;
