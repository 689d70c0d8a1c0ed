//! Submitted change texts: where they live, and moving old ones to where they live now.
//!
//! A case's `source.patch_ref` is `sha256:<hex>` of its change text
//! ([`sx_store::changes::patch_ref`]). The text lives in the database (`change_texts`), stored
//! in the same transaction as the case and its analysis job ([`sx_store::Store::submit_case`]),
//! so every replica on a shared PostgreSQL database can read it and a database backup is a
//! complete backup.
//!
//! Versions before that kept the texts as files under `<data_dir>/changes/<hex[..2]>/<hex>`.
//! [`import_legacy`] runs at start-up: it copies every such file whose content matches its
//! name into the database, then renames the directory to `changes.imported`, so the import
//! runs once and the files stay available until the operator deletes them.

use std::path::{Path, PathBuf};

use sx_store::{AnyStore, Store, StoreError};
use time::OffsetDateTime;

pub use sx_store::changes::{is_patch_ref, patch_ref};

/// Name of the directory older versions kept change texts in, under the data directory.
pub const LEGACY_DIR: &str = "changes";

/// What the directory is renamed to once imported.
pub const IMPORTED_DIR: &str = "changes.imported";

/// Why importing the legacy change files failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A file or directory could not be read or renamed.
    #[error("could not import the change texts in {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database refused a text.
    #[error("could not store the change text {path} in the database: {source}")]
    Store {
        /// The file.
        path: PathBuf,
        /// The store error.
        source: StoreError,
    },
}

/// What [`import_legacy`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Texts copied into the database.
    pub texts: usize,
    /// Files skipped because their name is not the SHA-256 of their content (or not UTF-8).
    pub skipped: usize,
}

/// Copies change texts kept as files by older versions into the database (see the module
/// docs). Does nothing when `<data_dir>/changes` does not exist.
///
/// # Errors
/// When a file cannot be read, the directory cannot be renamed, or the store fails; nothing is
/// renamed then, so the next start retries (storing a text twice is a no-op).
pub async fn import_legacy(store: &AnyStore, data_dir: &Path) -> Result<Imported, ImportError> {
    let root = data_dir.join(LEGACY_DIR);
    if !root.is_dir() {
        return Ok(Imported::default());
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Io { path, source }
    };
    let mut files = Vec::new();
    for shard in std::fs::read_dir(&root).map_err(io(&root))? {
        let shard = shard.map_err(io(&root))?.path();
        if !shard.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&shard).map_err(io(&shard))? {
            files.push(file.map_err(io(&shard))?.path());
        }
    }
    let mut done = Imported::default();
    let now = OffsetDateTime::now_utc();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue; // an interrupted write's temporary file
        }
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let Ok(text) = String::from_utf8(bytes) else {
            tracing::warn!(path = %path.display(), "legacy change text is not UTF-8; not imported");
            done.skipped += 1;
            continue;
        };
        if patch_ref(&text) != format!("sha256:{name}") {
            tracing::warn!(path = %path.display(), "legacy change text does not match its name; not imported");
            done.skipped += 1;
            continue;
        }
        store
            .put_change_text(&text, now)
            .await
            .map_err(|source| ImportError::Store {
                path: path.clone(),
                source,
            })?;
        done.texts += 1;
    }
    let mut target = data_dir.join(IMPORTED_DIR);
    if target.exists() {
        target = data_dir.join(format!("{IMPORTED_DIR}-{}", now.unix_timestamp()));
    }
    std::fs::rename(&root, &target).map_err(io(&root))?;
    tracing::info!(
        texts = done.texts,
        skipped = done.skipped,
        moved_to = %target.display(),
        "change texts of an older version imported into the database"
    );
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn legacy_change_files_are_imported_once_and_the_directory_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let store = sx_store::open(&format!(
            "sqlite://{}",
            dir.path().join("s.sqlite").display()
        ))
        .await
        .unwrap();
        assert_eq!(
            import_legacy(&store, dir.path()).await.unwrap(),
            Imported::default()
        );
        let good = "diff --git a/x b/x\n";
        let reference = patch_ref(good);
        let hex = reference.trim_start_matches("sha256:");
        let shard = dir.path().join(LEGACY_DIR).join(&hex[..2]);
        std::fs::create_dir_all(&shard).unwrap();
        std::fs::write(shard.join(hex), good).unwrap();
        std::fs::write(shard.join(".partial.tmp"), "half").unwrap();
        let forged = patch_ref("something else");
        std::fs::write(shard.join(forged.trim_start_matches("sha256:")), "not that").unwrap();

        let done = import_legacy(&store, dir.path()).await.unwrap();
        assert_eq!(
            done,
            Imported {
                texts: 1,
                skipped: 1
            }
        );
        assert_eq!(
            store.get_change_text(&reference).await.unwrap().as_deref(),
            Some(good)
        );
        assert_eq!(store.get_change_text(&forged).await.unwrap(), None);
        assert!(!dir.path().join(LEGACY_DIR).exists());
        assert!(
            dir.path()
                .join(IMPORTED_DIR)
                .join(&hex[..2])
                .join(hex)
                .exists()
        );
        assert_eq!(
            import_legacy(&store, dir.path()).await.unwrap(),
            Imported::default(),
            "a second start has nothing to import"
        );
        store.close().await;
    }
}
