//! Pure verification of a transparency-log export, for `s-express log verify` and for anyone
//! else. No database, no network, no clock: the export and a public key obtained out of band go
//! in, a summary or the first violation comes out.
//!
//! What is checked:
//! - the export's format string;
//! - entries are numbered 0, 1, 2… without gaps (detects dropping and reordering);
//! - each entry's `prev_hash` is the previous entry's hash and its `hash` recomputes from its
//!   fields (detects any alteration);
//! - timestamps never go backwards;
//! - each checkpoint's signature verifies under the given key (strict Ed25519) and its
//!   `(size, head_hash)` matches the entries (detects forged checkpoints and a truncated log);
//! - each reveal opens an earlier sealed entry of the same case exactly once, the salted
//!   content matches the commitment, and a case's reveal opens all of its earlier sealed
//!   entries (no selective disclosure).

use std::collections::{HashMap, HashSet};

use ed25519_dalek::{Signature, VerifyingKey};
use uuid::Uuid;

use super::format::{EXPORT_FORMAT, EntryBody, Export, Hash32, checkpoint_message, commitment};

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Number of entries checked.
    pub entries: u64,
    /// Hash of the last entry (zero for an empty log).
    pub head_hash: Hash32,
    /// Number of checkpoints whose signature verified.
    pub checkpoints: usize,
    /// Entries covered by the newest valid checkpoint; entries after it are chained but unsigned.
    pub signed_size: u64,
    /// Sealed (commitment) entries.
    pub sealed: u64,
    /// Sealed entries opened by a matching reveal.
    pub revealed: u64,
}

/// The first problem found in an export. Every variant names the entry or checkpoint at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The export is not in a format this verifier understands.
    #[error("unsupported export format {found:?}: expected {EXPORT_FORMAT:?}; upgrade s-express")]
    UnsupportedFormat {
        /// The format string found.
        found: String,
    },
    /// The export names a different public key than the one supplied.
    #[error(
        "the export claims public key {in_export} but verification was asked for {expected}; check which instance the export came from"
    )]
    KeyMismatch {
        /// Key in the export.
        in_export: String,
        /// Key supplied by the verifier.
        expected: String,
    },
    /// An entry is missing, duplicated or out of order.
    #[error(
        "entry at position {position} has seq {found}: entries were dropped, duplicated or reordered"
    )]
    SequenceGap {
        /// Position in the export's entry list.
        position: u64,
        /// The seq it carries.
        found: u64,
    },
    /// An entry does not link to its predecessor.
    #[error("entry {seq} does not chain to entry {}: its prev_hash differs from that entry's hash", .seq.wrapping_sub(1))]
    BrokenChain {
        /// The entry whose prev_hash is wrong.
        seq: u64,
    },
    /// An entry's content does not match its hash.
    #[error(
        "entry {seq} was altered: its fields hash to {computed}, not to the recorded {recorded}"
    )]
    HashMismatch {
        /// The entry.
        seq: u64,
        /// Hash recomputed from the fields.
        computed: Hash32,
        /// Hash recorded in the entry.
        recorded: Hash32,
    },
    /// An entry is older than its predecessor.
    #[error("entry {seq} is timestamped before entry {}", .seq.wrapping_sub(1))]
    TimeWentBackwards {
        /// The entry.
        seq: u64,
    },
    /// A checkpoint's signature does not verify.
    #[error(
        "checkpoint #{index} (size {size}) has an invalid signature: it was not signed by this instance's key"
    )]
    BadSignature {
        /// Position in the checkpoint list.
        index: usize,
        /// Size it claims.
        size: u64,
    },
    /// A checkpoint covers entries the export does not contain.
    #[error(
        "checkpoint #{index} covers {size} entries but the export has only {entries}: entries were dropped from the end"
    )]
    CheckpointBeyondLog {
        /// Position in the checkpoint list.
        index: usize,
        /// Size it claims.
        size: u64,
        /// Entries in the export.
        entries: u64,
    },
    /// A checkpoint's head hash differs from the entries.
    #[error("checkpoint #{index} says entry {} has hash {signed}, but the export's entry hashes to {actual}", .size.wrapping_sub(1))]
    CheckpointMismatch {
        /// Position in the checkpoint list.
        index: usize,
        /// Size it claims.
        size: u64,
        /// Head hash that was signed.
        signed: Hash32,
        /// Head hash of the export.
        actual: Hash32,
    },
    /// Checkpoints are not in order.
    #[error("checkpoint #{index} is older or smaller than the checkpoint before it")]
    CheckpointOrder {
        /// Position in the checkpoint list.
        index: usize,
    },
    /// A reveal opens something that is not an earlier sealed entry of the same case.
    #[error(
        "reveal in entry {seq} opens entry {target}, which is not an earlier sealed entry of the same case"
    )]
    RevealTarget {
        /// The reveal entry.
        seq: u64,
        /// The entry it claims to open.
        target: u64,
    },
    /// A reveal opens the same entry twice.
    #[error("reveal in entry {seq} opens entry {target}, which was already revealed")]
    RevealedTwice {
        /// The reveal entry.
        seq: u64,
        /// The entry opened twice.
        target: u64,
    },
    /// Revealed content does not match the commitment.
    #[error(
        "reveal in entry {seq} does not match the commitment of entry {target}: the content or salt was changed"
    )]
    RevealMismatch {
        /// The reveal entry.
        seq: u64,
        /// The sealed entry.
        target: u64,
    },
    /// A publication left some of the case's sealed entries unopened.
    #[error("reveal in entry {seq} leaves sealed entry {target} of the same case unopened")]
    IncompleteReveal {
        /// The reveal entry.
        seq: u64,
        /// The sealed entry left unopened.
        target: u64,
    },
    /// A reveal entry without a case.
    #[error("reveal entry {seq} names no case")]
    RevealWithoutCase {
        /// The reveal entry.
        seq: u64,
    },
}

struct Sealed {
    case_id: Uuid,
    commitment: Hash32,
    revealed: bool,
}

/// Verifies a complete export against the instance's public key.
pub fn verify_export(export: &Export, key: &VerifyingKey) -> Result<Summary, VerifyError> {
    if export.format != EXPORT_FORMAT {
        return Err(VerifyError::UnsupportedFormat {
            found: export.format.clone(),
        });
    }
    let expected_key = hex::encode(key.as_bytes());
    if !export.public_key.eq_ignore_ascii_case(&expected_key) {
        return Err(VerifyError::KeyMismatch {
            in_export: export.public_key.clone(),
            expected: expected_key,
        });
    }

    let mut prev = Hash32::ZERO;
    let mut prev_time = i64::MIN;
    let mut hashes: Vec<Hash32> = Vec::with_capacity(export.entries.len());
    let mut sealed: HashMap<u64, Sealed> = HashMap::new();
    let mut sealed_count = 0u64;
    let mut revealed_count = 0u64;

    for (position, entry) in export.entries.iter().enumerate() {
        let position = position as u64;
        if entry.seq != position {
            return Err(VerifyError::SequenceGap {
                position,
                found: entry.seq,
            });
        }
        if entry.prev_hash != prev {
            return Err(VerifyError::BrokenChain { seq: entry.seq });
        }
        let computed = entry.compute_hash();
        if computed != entry.hash {
            return Err(VerifyError::HashMismatch {
                seq: entry.seq,
                computed,
                recorded: entry.hash,
            });
        }
        if entry.timestamp_us < prev_time {
            return Err(VerifyError::TimeWentBackwards { seq: entry.seq });
        }
        match &entry.body {
            EntryBody::Payload { .. } => {}
            EntryBody::Commitment { commitment } => {
                sealed_count += 1;
                if let Some(case_id) = entry.case_id {
                    sealed.insert(
                        entry.seq,
                        Sealed {
                            case_id,
                            commitment: *commitment,
                            revealed: false,
                        },
                    );
                }
            }
            EntryBody::Reveal { reveals, .. } => {
                let case_id = entry
                    .case_id
                    .ok_or(VerifyError::RevealWithoutCase { seq: entry.seq })?;
                let mut opened = HashSet::new();
                for r in reveals {
                    let target = sealed
                        .get_mut(&r.seq)
                        .filter(|s| s.case_id == case_id)
                        .ok_or(VerifyError::RevealTarget {
                            seq: entry.seq,
                            target: r.seq,
                        })?;
                    if target.revealed {
                        return Err(VerifyError::RevealedTwice {
                            seq: entry.seq,
                            target: r.seq,
                        });
                    }
                    if commitment(&r.salt, &r.content) != target.commitment {
                        return Err(VerifyError::RevealMismatch {
                            seq: entry.seq,
                            target: r.seq,
                        });
                    }
                    target.revealed = true;
                    opened.insert(r.seq);
                    revealed_count += 1;
                }
                let mut left: Vec<u64> = sealed
                    .iter()
                    .filter(|(_, s)| s.case_id == case_id && !s.revealed)
                    .map(|(seq, _)| *seq)
                    .collect();
                left.sort_unstable();
                if let Some(target) = left.first() {
                    return Err(VerifyError::IncompleteReveal {
                        seq: entry.seq,
                        target: *target,
                    });
                }
            }
        }
        prev = entry.hash;
        prev_time = entry.timestamp_us;
        hashes.push(entry.hash);
    }

    let entries = hashes.len() as u64;
    let mut signed_size = 0u64;
    let mut last: Option<(u64, i64)> = None;
    for (index, cp) in export.checkpoints.iter().enumerate() {
        let message = checkpoint_message(cp.size, &cp.head_hash, cp.timestamp_us);
        let signature = Signature::from_bytes(&cp.signature.0);
        key.verify_strict(&message, &signature)
            .map_err(|_| VerifyError::BadSignature {
                index,
                size: cp.size,
            })?;
        if cp.size > entries {
            return Err(VerifyError::CheckpointBeyondLog {
                index,
                size: cp.size,
                entries,
            });
        }
        let actual = match cp.size.checked_sub(1) {
            None => Hash32::ZERO,
            Some(i) => hashes.get(i as usize).copied().unwrap_or(Hash32::ZERO),
        };
        if actual != cp.head_hash {
            return Err(VerifyError::CheckpointMismatch {
                index,
                size: cp.size,
                signed: cp.head_hash,
                actual,
            });
        }
        if let Some((size, time)) = last
            && (cp.size < size || cp.timestamp_us < time)
        {
            return Err(VerifyError::CheckpointOrder { index });
        }
        last = Some((cp.size, cp.timestamp_us));
        signed_size = signed_size.max(cp.size);
    }

    Ok(Summary {
        entries,
        head_hash: prev,
        checkpoints: export.checkpoints.len(),
        signed_size,
        sealed: sealed_count,
        revealed: revealed_count,
    })
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;
    use crate::translog::format::{Checkpoint, Entry, Reveal, SignatureBytes, entry_hash};

    struct Builder {
        key: SigningKey,
        export: Export,
    }

    impl Builder {
        fn new() -> Self {
            let key = SigningKey::from_bytes(&[42u8; 32]);
            let export = Export {
                format: EXPORT_FORMAT.into(),
                public_key: hex::encode(key.verifying_key().as_bytes()),
                entries: vec![],
                checkpoints: vec![],
            };
            Builder { key, export }
        }

        fn push(&mut self, kind: &str, case_id: Option<Uuid>, body: EntryBody) {
            let seq = self.export.entries.len() as u64;
            let prev_hash = self
                .export
                .entries
                .last()
                .map(|e| e.hash)
                .unwrap_or(Hash32::ZERO);
            let timestamp_us = 1_000 + seq as i64;
            let hash = entry_hash(seq, &prev_hash, timestamp_us, kind, case_id, &body);
            self.export.entries.push(Entry {
                seq,
                prev_hash,
                timestamp_us,
                kind: kind.into(),
                case_id,
                body,
                hash,
            });
        }

        fn checkpoint(&mut self) {
            let size = self.export.entries.len() as u64;
            let head_hash = self
                .export
                .entries
                .last()
                .map(|e| e.hash)
                .unwrap_or(Hash32::ZERO);
            let timestamp_us = 5_000 + size as i64;
            let sig = self
                .key
                .sign(&checkpoint_message(size, &head_hash, timestamp_us));
            self.export.checkpoints.push(Checkpoint {
                size,
                head_hash,
                timestamp_us,
                signature: SignatureBytes(sig.to_bytes()),
            });
        }
    }

    fn sample() -> (Builder, Uuid) {
        let case = Uuid::from_u128(7);
        let mut b = Builder::new();
        b.push(
            "instance.started",
            None,
            EntryBody::Payload {
                payload: "{}".into(),
            },
        );
        let salt1 = Hash32([1; 32]);
        let salt2 = Hash32([2; 32]);
        b.push(
            "case.created",
            Some(case),
            EntryBody::Commitment {
                commitment: commitment(&salt1, "{\"a\":1}"),
            },
        );
        b.push(
            "case.assessed",
            Some(case),
            EntryBody::Commitment {
                commitment: commitment(&salt2, "{\"v\":\"benign\"}"),
            },
        );
        b.checkpoint();
        b.push(
            "case.published",
            Some(case),
            EntryBody::Reveal {
                payload: "{}".into(),
                reveals: vec![
                    Reveal {
                        seq: 1,
                        salt: salt1,
                        content: "{\"a\":1}".into(),
                    },
                    Reveal {
                        seq: 2,
                        salt: salt2,
                        content: "{\"v\":\"benign\"}".into(),
                    },
                ],
            },
        );
        b.checkpoint();
        (b, case)
    }

    fn check(b: &Builder) -> Result<Summary, VerifyError> {
        verify_export(&b.export, &b.key.verifying_key())
    }

    /// Re-hashes entries from `from` so that only the targeted defect remains.
    fn rechain(b: &mut Builder, from: usize) {
        for i in from..b.export.entries.len() {
            let prev = if i == 0 {
                Hash32::ZERO
            } else {
                b.export.entries[i - 1].hash
            };
            let e = &mut b.export.entries[i];
            e.prev_hash = prev;
            e.hash = e.compute_hash();
        }
    }

    #[test]
    fn an_untouched_export_verifies() {
        let (b, _) = sample();
        let s = check(&b).unwrap();
        assert_eq!(s.entries, 4);
        assert_eq!(s.checkpoints, 2);
        assert_eq!(s.signed_size, 4);
        assert_eq!(s.sealed, 2);
        assert_eq!(s.revealed, 2);
    }

    #[test]
    fn altering_an_entry_is_detected() {
        let (mut b, _) = sample();
        b.export.entries[0].kind = "instance.stopped".into();
        assert!(matches!(
            check(&b),
            Err(VerifyError::HashMismatch { seq: 0, .. })
        ));
    }

    #[test]
    fn altering_an_entry_and_rehashing_the_chain_is_caught_by_the_checkpoint() {
        let (mut b, _) = sample();
        b.export.entries[0].body = EntryBody::Payload {
            payload: "{\"x\":1}".into(),
        };
        rechain(&mut b, 0);
        assert!(matches!(
            check(&b),
            Err(VerifyError::CheckpointMismatch { index: 0, .. })
        ));
    }

    #[test]
    fn dropping_an_entry_is_detected() {
        let (mut b, _) = sample();
        b.export.entries.remove(1);
        assert!(matches!(
            check(&b),
            Err(VerifyError::SequenceGap {
                position: 1,
                found: 2
            })
        ));
    }

    #[test]
    fn dropping_the_last_entry_is_detected_by_the_checkpoint() {
        let (mut b, _) = sample();
        b.export.entries.pop();
        assert!(matches!(
            check(&b),
            Err(VerifyError::CheckpointBeyondLog { index: 1, .. })
        ));
    }

    #[test]
    fn reordering_entries_is_detected() {
        let (mut b, _) = sample();
        b.export.entries.swap(1, 2);
        assert!(matches!(
            check(&b),
            Err(VerifyError::SequenceGap { position: 1, .. })
        ));
        // Renumbering after the swap does not help: the chain breaks.
        b.export.entries[1].seq = 1;
        b.export.entries[2].seq = 2;
        assert!(matches!(
            check(&b),
            Err(VerifyError::BrokenChain { seq: 1 })
        ));
    }

    #[test]
    fn a_forged_checkpoint_signature_is_detected() {
        let (mut b, _) = sample();
        b.export.checkpoints[1].signature.0[0] ^= 1;
        assert!(matches!(
            check(&b),
            Err(VerifyError::BadSignature { index: 1, .. })
        ));
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_detected() {
        let (mut b, _) = sample();
        let other = SigningKey::from_bytes(&[9u8; 32]);
        let cp = b.export.checkpoints[1].clone();
        let sig = other.sign(&checkpoint_message(cp.size, &cp.head_hash, cp.timestamp_us));
        b.export.checkpoints[1].signature = SignatureBytes(sig.to_bytes());
        assert!(matches!(
            check(&b),
            Err(VerifyError::BadSignature { index: 1, .. })
        ));
    }

    #[test]
    fn a_reveal_that_does_not_match_its_commitment_is_detected() {
        let (mut b, _) = sample();
        if let EntryBody::Reveal { reveals, .. } = &mut b.export.entries[3].body {
            reveals[1].content = "{\"v\":\"malicious\"}".into();
        }
        rechain(&mut b, 3);
        assert!(matches!(
            check(&b),
            Err(VerifyError::RevealMismatch { seq: 3, target: 2 })
        ));
    }

    #[test]
    fn a_reveal_with_a_different_salt_is_detected() {
        let (mut b, _) = sample();
        if let EntryBody::Reveal { reveals, .. } = &mut b.export.entries[3].body {
            reveals[0].salt = Hash32([3; 32]);
        }
        rechain(&mut b, 3);
        assert!(matches!(
            check(&b),
            Err(VerifyError::RevealMismatch { seq: 3, target: 1 })
        ));
    }

    #[test]
    fn a_reveal_that_skips_a_sealed_entry_is_detected() {
        let (mut b, _) = sample();
        if let EntryBody::Reveal { reveals, .. } = &mut b.export.entries[3].body {
            reveals.pop();
        }
        rechain(&mut b, 3);
        assert!(matches!(
            check(&b),
            Err(VerifyError::IncompleteReveal { seq: 3, target: 2 })
        ));
    }

    #[test]
    fn a_reveal_of_another_cases_entry_is_rejected() {
        let (mut b, _) = sample();
        b.export.entries[3].case_id = Some(Uuid::from_u128(8));
        rechain(&mut b, 3);
        assert!(matches!(
            check(&b),
            Err(VerifyError::RevealTarget { seq: 3, target: 1 })
        ));
    }

    #[test]
    fn a_different_key_than_the_exports_is_reported() {
        let (b, _) = sample();
        let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        assert!(matches!(
            verify_export(&b.export, &other),
            Err(VerifyError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn an_export_survives_a_json_round_trip() {
        let (b, _) = sample();
        let json = serde_json::to_string(&b.export).unwrap();
        let back: Export = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b.export);
        check(&b).unwrap();
    }
}
