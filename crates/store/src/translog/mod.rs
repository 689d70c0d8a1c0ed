//! The transparency log: an append-only, hash-chained, signed record of every state change.
//!
//! Model: each entry links to its predecessor by hash ([`format`](mod@format) documents the exact bytes), so
//! changing, dropping or reordering any entry changes every later hash. Periodically the
//! instance signs a checkpoint `(size, head hash, time)` with its Ed25519 key; anyone holding
//! the public key can then check an export with [`verify::verify_export`] without trusting the
//! server.
//!
//! Sealed cases (anything not yet TLP:CLEAR) must not leak through the log, yet later readers
//! must be able to check that nothing was altered while the case was sealed. So a sealed
//! entry carries only a *commitment*: SHA-256 over a 32-byte random salt and the content. The
//! salt and content stay in a private table (`log_secrets`). When the case is published, one
//! reveal entry opens every commitment of that case (salt + content); the verifier recomputes
//! each commitment and rejects a reveal that does not match or leaves one out.
//!
//! What the store logs: one entry per domain event of every case save (kind = the event's kind;
//! content = `{"event", "case_version", "case_sha256"}`, where `case_sha256` is SHA-256 of the
//! case document `serde_json::to_vec(&Case)` after that save), or one `case-saved` entry for a
//! save without events; `comment-added` with a digest of the comment body; and `case.revealed`
//! when a case is published. Entries are sealed while the case is not TLP:CLEAR, except events
//! the domain marks public (grace extensions, publication).
//!
//! The instance key is created on first start and stored in the database (table
//! `instance_keys`), so every replica sharing the database signs with the same key and backups
//! carry it along. Protect database backups accordingly; the public half is available from
//! [`crate::AnyStore::log_public_key`] and is meant to be published out of band.
//!
//! [`format`](mod@format) and [`verify`] are pure (no database), for use by `s-express log verify`.

pub mod format;
pub mod verify;

pub use format::{
    Checkpoint, EXPORT_FORMAT, Entry, EntryBody, Export, Hash32, Reveal, SignatureBytes,
};
pub use verify::{Summary, VerifyError, verify_export};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What to append to the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// What happened, dotted lowercase, e.g. `case.created`.
    pub kind: String,
    /// The case concerned, if any.
    pub case_id: Option<Uuid>,
    /// The content (serialized as JSON text exactly once, then hashed as such).
    pub content: serde_json::Value,
    /// Log only a salted commitment now and reveal the content when the case is published.
    pub sealed: bool,
}

/// Where an appended entry landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogPosition {
    /// Its sequence number.
    pub seq: u64,
    /// Its hash, which is the new head of the log.
    pub hash: Hash32,
}
