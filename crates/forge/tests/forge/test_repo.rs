//! `TestRepo`: a git repository built with git2 in a temporary directory, with fixed identities
//! and a fixed clock so what is read from it is deterministic. Shared by sx-forge's tests and
//! the CLI's (`crates/cli/tests/cli/repo.rs` includes this file by path).

use std::path::Path;

use git2::{Oid, Repository, Signature, Time};

/// A repository under construction.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    clock: i64,
    step: i64,
    offset_minutes: i32,
}

impl TestRepo {
    /// An empty repository whose commits are dated `start + n * step` seconds, at UTC offset
    /// `offset_minutes`.
    pub fn with_clock(start: i64, step: i64, offset_minutes: i32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        Self {
            dir,
            repo,
            clock: start,
            step,
            offset_minutes,
        }
    }

    /// Where the work tree is.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Commit `files` (path, content; `None` deletes) on top of HEAD as `author`.
    pub fn commit(
        &mut self,
        author: (&str, &str),
        message: &str,
        files: &[(&str, Option<&[u8]>)],
    ) -> Oid {
        self.clock += self.step;
        let when = Time::new(self.clock, self.offset_minutes);
        let sig = Signature::new(author.0, author.1, &when).unwrap();
        let mut index = self.repo.index().unwrap();
        for (path, content) in files {
            let full = self.dir.path().join(path);
            match content {
                Some(c) => {
                    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                    std::fs::write(&full, c).unwrap();
                    index.add_path(Path::new(path)).unwrap();
                }
                None => {
                    std::fs::remove_file(&full).unwrap();
                    index.remove_path(Path::new(path)).unwrap();
                }
            }
        }
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }
}
