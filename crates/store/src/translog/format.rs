//! The transparency log's data model and its canonical byte encodings (format v1).
//!
//! Everything here is pure: no database, no clock, no randomness. The same code computes hashes
//! when the store appends and when `s-express log verify` checks an export from outside, so the
//! two can never drift apart.
//!
//! # Canonical encodings (v1)
//!
//! All integers are big-endian; `bytes(x)` means `u64 length || x`.
//!
//! **Entry hash** = SHA-256 of
//! ```text
//! "s-express translog entry v1\0"
//! seq            u64
//! prev_hash      32 bytes (all zero for seq 0)
//! timestamp_us   i64, microseconds since the Unix epoch, UTC
//! kind           bytes(UTF-8)
//! case_id        0x00 | 0x01 || 16 bytes (UUID, RFC 4122 byte order)
//! body           0x00 || bytes(payload)                       -- clear payload
//!              | 0x01 || commitment (32 bytes)                -- sealed content
//!              | 0x02 || bytes(payload) || u64 count ||
//!                  count × (seq u64 || salt 32 bytes || bytes(content))   -- reveal
//! ```
//! Payloads and contents are carried as the exact UTF-8 text that was hashed (JSON text in
//! practice), so no JSON canonicalisation is needed to recompute a hash.
//!
//! **Commitment** = SHA-256 of `"s-express commitment v1\0" || salt (32 random bytes) || content`.
//! The random salt makes a commitment useless for guessing low-entropy content (a verdict, a
//! project name): without the salt, nobody can test candidate contents against it.
//!
//! **Checkpoint signature** = Ed25519 over
//! `"s-express checkpoint v1\0" || size u64 || head_hash 32 bytes || timestamp_us i64`, where
//! `size` is the number of entries covered and `head_hash` the hash of entry `size - 1` (all
//! zero when `size` is 0).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `format` string of an export this code writes and accepts.
pub const EXPORT_FORMAT: &str = "s-express-translog/v1";

const ENTRY_DOMAIN: &[u8] = b"s-express translog entry v1\0";
const COMMITMENT_DOMAIN: &[u8] = b"s-express commitment v1\0";
const CHECKPOINT_DOMAIN: &[u8] = b"s-express checkpoint v1\0";

/// A 32-byte digest or salt, serialized as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The all-zero value used as the `prev_hash` of the first entry.
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(Hash32(out))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash32::from_hex(&s)
            .map_err(|e| serde::de::Error::custom(format!("expected 64 hex characters: {e}")))
    }
}

/// An Ed25519 signature, serialized as lowercase hex (128 characters).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureBytes(pub [u8; 64]);

impl fmt::Debug for SignatureBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureBytes({})", hex::encode(self.0))
    }
}

impl Serialize for SignatureBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for SignatureBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(&s, &mut out)
            .map_err(|e| serde::de::Error::custom(format!("expected 128 hex characters: {e}")))?;
        Ok(SignatureBytes(out))
    }
}

/// One opened commitment inside a reveal entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reveal {
    /// The sequence number of the sealed entry whose commitment this opens.
    pub seq: u64,
    /// The random salt that was hashed with the content.
    pub salt: Hash32,
    /// The exact content text that was committed to.
    pub content: String,
}

/// What an entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryBody {
    /// Public content, logged in the clear.
    Payload {
        /// JSON text.
        payload: String,
    },
    /// Sealed content: only its salted hash is public until the case is published.
    Commitment {
        /// SHA-256 commitment, see the module docs.
        commitment: Hash32,
    },
    /// Publication of a sealed case: opens every earlier commitment of the case.
    Reveal {
        /// JSON text describing the publication itself.
        payload: String,
        /// The opened commitments.
        reveals: Vec<Reveal>,
    },
}

/// One log entry as exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log, starting at 0, without gaps.
    pub seq: u64,
    /// Hash of the previous entry (zero for seq 0).
    pub prev_hash: Hash32,
    /// Microseconds since the Unix epoch, UTC.
    pub timestamp_us: i64,
    /// What happened, e.g. `case.created`.
    pub kind: String,
    /// The case the entry is about, if any.
    pub case_id: Option<Uuid>,
    /// Content, commitment or reveal.
    pub body: EntryBody,
    /// SHA-256 over the canonical encoding of all fields above.
    pub hash: Hash32,
}

/// A signed statement "the log had `size` entries ending in `head_hash` at `timestamp_us`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Number of entries covered.
    pub size: u64,
    /// Hash of entry `size - 1`, zero for an empty log.
    pub head_hash: Hash32,
    /// Microseconds since the Unix epoch, UTC.
    pub timestamp_us: i64,
    /// Ed25519 signature by the instance key over [`checkpoint_message`].
    pub signature: SignatureBytes,
}

/// A complete log as published for outside verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// The instance's Ed25519 public key (hex). Informational: verifiers must use a key they
    /// obtained independently.
    pub public_key: String,
    /// Every entry from seq 0, in order.
    pub entries: Vec<Entry>,
    /// Signed checkpoints, oldest first.
    pub checkpoints: Vec<Checkpoint>,
}

fn put_bytes(h: &mut Sha256, b: &[u8]) {
    h.update((b.len() as u64).to_be_bytes());
    h.update(b);
}

/// Hash of an entry from its fields (see the module docs for the encoding).
pub fn entry_hash(
    seq: u64,
    prev_hash: &Hash32,
    timestamp_us: i64,
    kind: &str,
    case_id: Option<Uuid>,
    body: &EntryBody,
) -> Hash32 {
    let mut h = Sha256::new();
    h.update(ENTRY_DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(prev_hash.0);
    h.update(timestamp_us.to_be_bytes());
    put_bytes(&mut h, kind.as_bytes());
    match case_id {
        None => h.update([0u8]),
        Some(id) => {
            h.update([1u8]);
            h.update(id.as_bytes());
        }
    }
    match body {
        EntryBody::Payload { payload } => {
            h.update([0u8]);
            put_bytes(&mut h, payload.as_bytes());
        }
        EntryBody::Commitment { commitment } => {
            h.update([1u8]);
            h.update(commitment.0);
        }
        EntryBody::Reveal { payload, reveals } => {
            h.update([2u8]);
            put_bytes(&mut h, payload.as_bytes());
            h.update((reveals.len() as u64).to_be_bytes());
            for r in reveals {
                h.update(r.seq.to_be_bytes());
                h.update(r.salt.0);
                put_bytes(&mut h, r.content.as_bytes());
            }
        }
    }
    Hash32(h.finalize().into())
}

impl Entry {
    /// Recomputes this entry's hash from its fields (ignores the stored `hash`).
    pub fn compute_hash(&self) -> Hash32 {
        entry_hash(
            self.seq,
            &self.prev_hash,
            self.timestamp_us,
            &self.kind,
            self.case_id,
            &self.body,
        )
    }
}

/// Salted commitment to `content` (see the module docs).
pub fn commitment(salt: &Hash32, content: &str) -> Hash32 {
    let mut h = Sha256::new();
    h.update(COMMITMENT_DOMAIN);
    h.update(salt.0);
    h.update(content.as_bytes());
    Hash32(h.finalize().into())
}

/// The exact bytes a checkpoint signature covers.
pub fn checkpoint_message(size: u64, head_hash: &Hash32, timestamp_us: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 8 + 32 + 8);
    m.extend_from_slice(CHECKPOINT_DOMAIN);
    m.extend_from_slice(&size.to_be_bytes());
    m.extend_from_slice(&head_hash.0);
    m.extend_from_slice(&timestamp_us.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_entry_hash() {
        let body = EntryBody::Payload {
            payload: "{}".into(),
        };
        let base = entry_hash(1, &Hash32::ZERO, 10, "k", None, &body);
        assert_ne!(base, entry_hash(2, &Hash32::ZERO, 10, "k", None, &body));
        assert_ne!(base, entry_hash(1, &Hash32([1; 32]), 10, "k", None, &body));
        assert_ne!(base, entry_hash(1, &Hash32::ZERO, 11, "k", None, &body));
        assert_ne!(base, entry_hash(1, &Hash32::ZERO, 10, "j", None, &body));
        assert_ne!(
            base,
            entry_hash(1, &Hash32::ZERO, 10, "k", Some(Uuid::nil()), &body)
        );
        let other = EntryBody::Payload {
            payload: "[]".into(),
        };
        assert_ne!(base, entry_hash(1, &Hash32::ZERO, 10, "k", None, &other));
    }

    #[test]
    fn length_prefixes_prevent_moving_bytes_between_fields() {
        let a = entry_hash(
            0,
            &Hash32::ZERO,
            0,
            "ab",
            None,
            &EntryBody::Payload {
                payload: "c".into(),
            },
        );
        let b = entry_hash(
            0,
            &Hash32::ZERO,
            0,
            "a",
            None,
            &EntryBody::Payload {
                payload: "bc".into(),
            },
        );
        assert_ne!(a, b);
    }

    #[test]
    fn commitment_depends_on_salt_and_content() {
        let c = commitment(&Hash32([7; 32]), "secret");
        assert_eq!(c, commitment(&Hash32([7; 32]), "secret"));
        assert_ne!(c, commitment(&Hash32([8; 32]), "secret"));
        assert_ne!(c, commitment(&Hash32([7; 32]), "secreT"));
    }

    #[test]
    fn hashes_round_trip_through_hex_json() {
        let h = Hash32([0xab; 32]);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<Hash32>(&json).unwrap(), h);
        assert!(serde_json::from_str::<Hash32>("\"abc\"").is_err());
    }
}
