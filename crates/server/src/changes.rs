//! Submitted change texts, content-addressed in the data directory.
//!
//! A case's `source.patch_ref` is `sha256:<hex>` of the change text; the text itself lives in
//! `<data_dir>/changes/<hex[..2]>/<hex>`, written (and fsynced, file and directory) before the
//! submission is acknowledged, so experts can read the exact diff later. Content addressing
//! makes writes idempotent and lets identical submissions share one file.
//!
//! Known limit: the files are local to one machine. Replicas on PostgreSQL need the texts in the
//! database (a store operation that does not exist yet) or a shared directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The `patch_ref` of a change text.
#[must_use]
pub fn patch_ref(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

fn hex_of(patch_ref: &str) -> Option<&str> {
    let hex = patch_ref.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then_some(hex)
}

fn path_for(data_dir: &Path, hex: &str) -> PathBuf {
    data_dir.join("changes").join(&hex[..2]).join(hex)
}

/// Stores a change text durably; returns its `patch_ref`.
///
/// # Errors
/// When the file cannot be written.
pub fn put(data_dir: &Path, text: &str) -> std::io::Result<String> {
    let reference = patch_ref(text);
    let Some(hex) = hex_of(&reference) else {
        return Err(std::io::Error::other("computed an invalid patch reference"));
    };
    let path = path_for(data_dir, hex);
    if path.exists() {
        return Ok(reference);
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("change path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{hex}.{}.tmp", uuid::Uuid::new_v4()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, &path)?;
    // The rename is durable only once the directory is synced.
    std::fs::File::open(dir)?.sync_all()?;
    Ok(reference)
}

/// Reads a stored change text; `None` if the reference is malformed or unknown here.
///
/// # Errors
/// When the file exists but cannot be read.
pub fn get(data_dir: &Path, patch_ref: &str) -> std::io::Result<Option<String>> {
    let Some(hex) = hex_of(patch_ref) else {
        return Ok(None);
    };
    match std::fs::read(path_for(data_dir, hex)) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_change_reads_back_by_its_reference() {
        let dir = tempfile::tempdir().unwrap();
        let r = put(dir.path(), "diff --git a/x b/x\n").unwrap();
        assert_eq!(r, patch_ref("diff --git a/x b/x\n"));
        assert_eq!(
            put(dir.path(), "diff --git a/x b/x\n").unwrap(),
            r,
            "idempotent"
        );
        assert_eq!(
            get(dir.path(), &r).unwrap().as_deref(),
            Some("diff --git a/x b/x\n")
        );
    }

    #[test]
    fn malformed_references_never_touch_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "sha256:../../etc/passwd",
            "md5:abc",
            "sha256:ABCDEF",
            &format!("sha256:{}", "G".repeat(64)),
        ] {
            assert_eq!(get(dir.path(), bad).unwrap(), None, "{bad}");
        }
    }
}
