//! Submitted change texts, content-addressed, in the database.
//!
//! A case's `source.patch_ref` is `sha256:<hex>` of its change text ([`patch_ref`]). The text
//! lives in the `change_texts` table (migration 0004) under that reference, so every replica
//! of an instance reads it, a backup of the database is a backup of the changes, and identical
//! submissions share one row. A submission stores the text, the case and the case's first
//! jobs in **one** transaction ([`crate::Store::submit_case`]): a case is never acknowledged
//! without its text or its analysis job, and a failed submission leaves nothing behind.

use sha2::{Digest as _, Sha256};

/// Prefix of every reference.
pub const PREFIX: &str = "sha256:";

/// The content address of a change text: `sha256:<64 lower-case hex digits>`.
#[must_use]
pub fn patch_ref(text: &str) -> String {
    format!("{PREFIX}{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Whether `reference` has the form [`patch_ref`] produces (lookups of anything else answer
/// `None` without a query).
#[must_use]
pub fn is_patch_ref(reference: &str) -> bool {
    reference.strip_prefix(PREFIX).is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The change-text and submission methods of [`crate::Store`]; expanded inside
/// `impl Store for …` (see `shared.rs`).
macro_rules! change_methods {
    () => {
        async fn put_change_text(&self, text: &str, now: OffsetDateTime) -> StoreResult<String> {
            let mut tx = self.begin_write().await?;
            let reference = insert_change_text(&mut tx, text, now).await?;
            tx.commit().await?;
            Ok(reference)
        }

        async fn get_change_text(&self, patch_ref: &str) -> StoreResult<Option<String>> {
            if !crate::changes::is_patch_ref(patch_ref) {
                return Ok(None);
            }
            let row = sqlx::query("SELECT content FROM change_texts WHERE patch_ref = $1")
                .bind(patch_ref)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let bytes: Vec<u8> = row.try_get("content")?;
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| StoreError::corrupt(format!("change text {patch_ref} is not UTF-8")))
        }

        async fn submit_case(
            &self,
            case: &Case,
            events: &[DomainEvent],
            change_text: Option<&str>,
            jobs: &[NewJob],
            now: OffsetDateTime,
        ) -> StoreResult<Vec<Uuid>> {
            if let Some(text) = change_text {
                let reference = crate::changes::patch_ref(text);
                if case.source.patch_ref.as_deref() != Some(reference.as_str()) {
                    return Err(StoreError::Invalid(format!(
                        "case {} names the change {:?}, but the submitted text is {reference}; \
                         set source.patch_ref to sx_store::changes::patch_ref(text)",
                        case.id, case.source.patch_ref
                    )));
                }
            }
            let mut tx = self.begin_write().await?;
            if let Some(text) = change_text {
                insert_change_text(&mut tx, text, now).await?;
            }
            insert_case(&mut tx, case, events, now, self.sla).await?;
            let mut ids = Vec::with_capacity(jobs.len());
            for job in jobs {
                ids.push(insert_job(&mut tx, job, now).await?);
            }
            tx.commit().await?;
            Ok(ids)
        }
    };
}

/// Free helpers of [`change_methods!`]; expanded inside a backend module.
macro_rules! change_helpers {
    () => {
        /// Stores a change text inside the caller's transaction (a no-op when it is already
        /// there) and returns its reference.
        async fn insert_change_text(conn: &mut Conn, text: &str, now: OffsetDateTime) -> StoreResult<String> {
            let reference = crate::changes::patch_ref(text);
            let bytes = i64::try_from(text.len())
                .map_err(|_| StoreError::Invalid(format!("a change text of {} bytes is too large", text.len())))?;
            sqlx::query(
                "INSERT INTO change_texts (patch_ref, content, bytes, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (patch_ref) DO NOTHING",
            )
            .bind(&reference)
            .bind(text.as_bytes())
            .bind(bytes)
            .bind(DbTime(now))
            .execute(&mut *conn)
            .await?;
            Ok(reference)
        }
    };
}

pub(crate) use {change_helpers, change_methods};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_the_sha256_of_the_text() {
        assert_eq!(
            patch_ref(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_patch_ref(&patch_ref("diff --git a/x b/x\n")));
    }

    #[test]
    fn malformed_references_are_recognised() {
        for bad in [
            "sha256:../../etc/passwd",
            "md5:abc",
            "sha256:ABCDEF",
            &format!("sha256:{}", "G".repeat(64)),
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha256:{}", "a".repeat(63)),
            "",
        ] {
            assert!(!is_patch_ref(bad), "{bad}");
        }
    }
}
