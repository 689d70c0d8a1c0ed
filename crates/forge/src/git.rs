//! Local git repositories: turn a commit range into an analyzer [`Change`] with full file
//! contents, commit metadata and repository context.
//!
//! **Model.** A [`Revision`] is a base tree (a commit, or the empty tree for a root commit)
//! and a head commit, plus the commits between them. [`GitRepo::change`] diffs the two trees
//! with rename detection, has libgit2 print the unified diff (binary files as `GIT binary
//! patch`) and parses that text with [`sx_analyzer::diff::parse`] — the same parser that
//! reads submitted patches, so a local range and a mailed patch are analysed identically.
//! Then it adds what only a repository knows: the full before/after contents of touched files
//! (bounded per file), the commits' metadata and, optionally, a [`RepoContext`] computed in
//! one bounded walk over the history reachable from the base.
//!
//! Everything in the repository may come from an attacker (the range is the pull request):
//! every read is bounded, nothing is executed, and no process is spawned (git2, not `git`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::{
    Commit, Diff, DiffFindOptions, DiffFormat, DiffOptions, ObjectType, Oid, Repository, Sort, Tree,
};
use sx_analyzer::Change;
use sx_analyzer::change::{
    AuthorHistory, AuthorIdentity, CommitMeta, FileChange, PathHistory, RepoContext,
};
use sx_analyzer::diff::{self, DiffError, Limits};

/// Reading from a repository failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    #[error("{path} is not inside a git repository (or it cannot be read): {source}")]
    Open { path: PathBuf, source: git2::Error },
    #[error(
        "cannot resolve revision {spec:?}: {source}; use a commit id, branch, tag or BASE..HEAD"
    )]
    Revision { spec: String, source: git2::Error },
    #[error("revision {spec:?} is a symmetric range (A...B); use BASE..HEAD or a single commit")]
    SymmetricRange { spec: String },
    #[error("{what} failed: {source}")]
    Git {
        what: &'static str,
        source: git2::Error,
    },
    #[error(
        "the diff of {spec} is larger than {limit} bytes; analyse a smaller range or raise the input limit"
    )]
    DiffTooLarge { spec: String, limit: usize },
    #[error("the diff libgit2 produced for {spec} did not parse: {source}")]
    Parse { spec: String, source: DiffError },
}

fn git(what: &'static str) -> impl FnOnce(git2::Error) -> GitError {
    move |source| GitError::Git { what, source }
}

/// Bounds and switches for reading a repository.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// Parser limits; `max_input_bytes` also bounds the generated diff text.
    pub limits: Limits,
    /// Full contents larger than this are not loaded (the diff is still analysed).
    pub max_file_bytes: usize,
    /// Compute [`RepoContext`].
    pub context: bool,
    /// Commits walked (from the base, newest first) for author history.
    pub author_walk_limit: usize,
    /// Of those, the newest this many are diffed for path history and authors' touched paths.
    pub path_walk_limit: usize,
    /// Size of the "recent" and "earlier" windows for trust-escalation signals.
    pub recent_window: u32,
    /// Most touched paths kept per author.
    pub max_touched_paths: usize,
    /// Number of top authors reported.
    pub top_authors: usize,
}

impl Default for GitOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_file_bytes: 4 << 20,
            context: true,
            author_walk_limit: 200_000,
            path_walk_limit: 5_000,
            recent_window: 200,
            max_touched_paths: 200,
            top_authors: 10,
        }
    }
}

/// A resolved range: `base` (None for the empty tree) to `head`, and the commits between them,
/// oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// What the user asked for, for messages.
    pub spec: String,
    pub base: Option<Oid>,
    pub head: Oid,
    pub commits: Vec<Oid>,
}

/// An open repository.
pub struct GitRepo {
    repo: Repository,
}

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("path", &self.repo.path())
            .finish()
    }
}

/// A commit as listed by [`GitRepo::first_parent_history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSummary {
    pub id: Oid,
    pub subject: String,
    pub time: i64,
}

impl GitRepo {
    /// Open the repository containing `path` (searching parent directories).
    pub fn open(path: &Path) -> Result<Self, GitError> {
        let repo = Repository::discover(path).map_err(|source| GitError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self { repo })
    }

    /// The underlying libgit2 repository.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// The working directory (or the git dir of a bare repository).
    pub fn root(&self) -> &Path {
        self.repo.workdir().unwrap_or_else(|| self.repo.path())
    }

    fn commit(&self, spec: &str, obj: &git2::Object<'_>) -> Result<Oid, GitError> {
        obj.peel(ObjectType::Commit)
            .map(|c| c.id())
            .map_err(|source| GitError::Revision {
                spec: spec.to_string(),
                source,
            })
    }

    /// Resolve `BASE..HEAD` (commits reachable from HEAD but not BASE; the diff is from BASE's
    /// tree) or a single commit (diffed against its first parent, or the empty tree for a root
    /// commit). An empty spec means `HEAD`.
    pub fn resolve(&self, spec: &str) -> Result<Revision, GitError> {
        let spec = spec.trim();
        let spec = if spec.is_empty() { "HEAD" } else { spec };
        if spec.contains("...") {
            return Err(GitError::SymmetricRange {
                spec: spec.to_string(),
            });
        }
        let rev = |s: &str| {
            self.repo
                .revparse_single(s)
                .map_err(|source| GitError::Revision {
                    spec: s.to_string(),
                    source,
                })
        };
        if let Some((a, b)) = spec.split_once("..") {
            let base = self.commit(a, &rev(if a.is_empty() { "HEAD" } else { a })?)?;
            let head = self.commit(b, &rev(if b.is_empty() { "HEAD" } else { b })?)?;
            let commits = self.range_commits(Some(base), head)?;
            return Ok(Revision {
                spec: spec.to_string(),
                base: Some(base),
                head,
                commits,
            });
        }
        let head = self.commit(spec, &rev(spec)?)?;
        self.single(head, spec)
    }

    /// A single commit against its first parent.
    pub fn single(&self, id: Oid, spec: &str) -> Result<Revision, GitError> {
        let c = self.repo.find_commit(id).map_err(git("reading a commit"))?;
        let base = c.parent_ids().next();
        Ok(Revision {
            spec: spec.to_string(),
            base,
            head: id,
            commits: vec![id],
        })
    }

    fn range_commits(&self, base: Option<Oid>, head: Oid) -> Result<Vec<Oid>, GitError> {
        let mut walk = self.repo.revwalk().map_err(git("walking the range"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(git("walking the range"))?;
        walk.push(head).map_err(git("walking the range"))?;
        if let Some(b) = base {
            walk.hide(b).map_err(git("walking the range"))?;
        }
        let mut out = Vec::new();
        for id in walk {
            out.push(id.map_err(git("walking the range"))?);
        }
        Ok(out)
    }

    /// Commits on the first-parent chain from `head` (a revision; empty for HEAD), newest
    /// first, stopping at `max` commits or at the first commit older than `since` (Unix
    /// seconds, committer time).
    pub fn first_parent_history(
        &self,
        head: &str,
        since: Option<i64>,
        max: usize,
    ) -> Result<Vec<CommitSummary>, GitError> {
        let mut walk = self.repo.revwalk().map_err(git("walking history"))?;
        if let Some((a, b)) = head.split_once("..") {
            let b = if b.is_empty() { "HEAD" } else { b };
            let rev = |s: &str| {
                self.repo
                    .revparse_single(s)
                    .map_err(|source| GitError::Revision {
                        spec: s.to_string(),
                        source,
                    })
            };
            let base = self.commit(a, &rev(a)?)?;
            let tip = self.commit(b, &rev(b)?)?;
            walk.push(tip).map_err(git("walking history"))?;
            walk.hide(base).map_err(git("walking history"))?;
        } else {
            let spec = if head.is_empty() { "HEAD" } else { head };
            let obj = self
                .repo
                .revparse_single(spec)
                .map_err(|source| GitError::Revision {
                    spec: spec.to_string(),
                    source,
                })?;
            walk.push(self.commit(spec, &obj)?)
                .map_err(git("walking history"))?;
        }
        walk.simplify_first_parent()
            .map_err(git("walking history"))?;
        let mut out = Vec::new();
        for id in walk {
            if out.len() >= max {
                break;
            }
            let id = id.map_err(git("walking history"))?;
            let c = self.repo.find_commit(id).map_err(git("reading a commit"))?;
            let time = c.committer().when().seconds();
            if since.is_some_and(|s| time < s) {
                break;
            }
            out.push(CommitSummary {
                id,
                subject: lossy(c.message_bytes())
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                time,
            });
        }
        Ok(out)
    }

    /// The content of `path` in the tree of `commit`, if it exists there as a blob of at most
    /// `max` bytes. Used to read a project's configuration from the trusted base revision
    /// rather than from the change under review.
    pub fn file_at(
        &self,
        commit: Oid,
        path: &str,
        max: usize,
    ) -> Result<Option<Vec<u8>>, GitError> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(git("reading a commit"))?;
        let tree = c.tree().map_err(git("reading a tree"))?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        Ok(self.blob(entry.id(), max))
    }

    fn tree(&self, id: Option<Oid>) -> Result<Option<Tree<'_>>, GitError> {
        match id {
            None => Ok(None),
            Some(id) => {
                let c = self.repo.find_commit(id).map_err(git("reading a commit"))?;
                Ok(Some(c.tree().map_err(git("reading a tree"))?))
            }
        }
    }

    /// The change of a revision: parsed diff, full contents, commit metadata and (if
    /// `opts.context`) repository context.
    pub fn change(&self, rev: &Revision, opts: &GitOptions) -> Result<Change, GitError> {
        let old = self.tree(rev.base)?;
        let new = self.tree(Some(rev.head))?;
        let mut dopts = DiffOptions::new();
        dopts
            .show_binary(true)
            .ignore_submodules(true)
            .id_abbrev(40);
        let mut d = self
            .repo
            .diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut dopts))
            .map_err(git("diffing the trees"))?;
        let mut find = DiffFindOptions::new();
        find.renames(true).rename_limit(1000);
        d.find_similar(Some(&mut find))
            .map_err(git("detecting renames"))?;

        let text = patch_text(&d, &rev.spec, opts.limits.max_input_bytes)?;
        let mut change = if text.is_empty() {
            Change::default()
        } else {
            diff::parse(&text, &opts.limits).map_err(|source| GitError::Parse {
                spec: rev.spec.clone(),
                source,
            })?
        };
        // libgit2's patch carries no commit headers: the metadata comes from the objects.
        change.commits.clear();
        for id in &rev.commits {
            let c = self
                .repo
                .find_commit(*id)
                .map_err(git("reading a commit"))?;
            change.commits.push(commit_meta(&c));
        }
        let single = (change.commits.len() == 1).then_some(0);
        for f in &mut change.files {
            f.commit = single;
        }
        self.fill_contents(&d, &mut change.files, opts);
        if opts.context {
            change.context = Some(self.context(rev, &change, opts)?);
        }
        Ok(change)
    }

    fn blob(&self, id: Oid, max: usize) -> Option<Vec<u8>> {
        if id.is_zero() {
            return None;
        }
        let odb = self.repo.odb().ok()?;
        // Check the size from the header before inflating a possibly huge object.
        let (size, kind) = odb.read_header(id).ok()?;
        if kind != ObjectType::Blob || size > max {
            return None;
        }
        let blob = self.repo.find_blob(id).ok()?;
        Some(blob.content().to_vec())
    }

    fn fill_contents(&self, d: &Diff<'_>, files: &mut [FileChange], opts: &GitOptions) {
        let mut by_paths: HashMap<(Option<String>, Option<String>), (Oid, Oid)> = HashMap::new();
        for delta in d.deltas() {
            let old = delta.old_file();
            let new = delta.new_file();
            let old_path = (!old.id().is_zero())
                .then(|| old.path_bytes().map(lossy))
                .flatten();
            let new_path = (!new.id().is_zero())
                .then(|| new.path_bytes().map(lossy))
                .flatten();
            by_paths.insert((old_path, new_path), (old.id(), new.id()));
        }
        for f in files {
            let Some((old_id, new_id)) = by_paths
                .get(&(f.old_path.clone(), f.new_path.clone()))
                .copied()
            else {
                continue;
            };
            f.before = self.blob(old_id, opts.max_file_bytes);
            f.after = self.blob(new_id, opts.max_file_bytes);
            if f.binary.is_some() {
                // A delta patch needs its base; a failure leaves the content unknown, and the
                // known new blob is the authoritative content anyway.
                let _ = diff::resolve_binary(f, &opts.limits);
                if let (Some(b), Some(after)) = (f.binary.as_mut(), f.after.as_ref())
                    && b.new_content.is_none()
                {
                    b.new_content = Some(after.clone());
                }
            }
        }
    }

    /// Repository context in one walk from the base: author history of every distinct author
    /// of the range, path history of every touched path, top authors.
    fn context(
        &self,
        rev: &Revision,
        change: &Change,
        opts: &GitOptions,
    ) -> Result<RepoContext, GitError> {
        let mut authors: Vec<AuthorHistory> = Vec::new();
        let mut author_index: HashMap<String, usize> = HashMap::new();
        for c in &change.commits {
            let key = c.author_email.to_lowercase();
            if let std::collections::hash_map::Entry::Vacant(e) = author_index.entry(key) {
                e.insert(authors.len());
                authors.push(AuthorHistory {
                    name: c.author_name.clone(),
                    email: c.author_email.clone(),
                    recent_window: opts.recent_window,
                    ..AuthorHistory::default()
                });
            }
        }
        let touched: Vec<String> = {
            let mut seen = HashSet::new();
            change
                .files
                .iter()
                .flat_map(|f| [f.old_path.clone(), f.new_path.clone()])
                .flatten()
                .filter(|p| seen.insert(p.clone()))
                .collect()
        };
        let mut path_stats: BTreeMap<&str, (u32, HashSet<String>)> = touched
            .iter()
            .map(|p| (p.as_str(), (0, HashSet::new())))
            .collect();
        let mut touched_sets: Vec<HashSet<String>> = vec![HashSet::new(); authors.len()];
        let mut all_authors: HashMap<String, AuthorIdentity> = HashMap::new();
        let mut total: u32 = 0;

        let Some(base) = rev.base else {
            // A root commit: there is no history before it.
            return Ok(RepoContext {
                authors,
                paths: touched
                    .into_iter()
                    .map(|path| PathHistory {
                        path,
                        ..PathHistory::default()
                    })
                    .collect(),
                total_commits: 0,
                top_authors: Vec::new(),
            });
        };

        let mut walk = self.repo.revwalk().map_err(git("walking history"))?;
        walk.set_sorting(Sort::TIME)
            .map_err(git("walking history"))?;
        walk.push(base).map_err(git("walking history"))?;
        let window = opts.recent_window as usize;
        for (i, id) in walk.enumerate() {
            if i >= opts.author_walk_limit {
                break;
            }
            let id = id.map_err(git("walking history"))?;
            let c = self.repo.find_commit(id).map_err(git("reading a commit"))?;
            total += 1;
            let sig = c.author();
            let email = lossy(sig.email_bytes());
            let key = email.to_lowercase();
            let name = lossy(sig.name_bytes());
            let ident = all_authors
                .entry(key.clone())
                .or_insert_with(|| AuthorIdentity {
                    name: name.clone(),
                    email: email.clone(),
                    commits: 0,
                });
            ident.commits += 1;
            let mine = author_index.get(&key).copied();
            if let Some(ai) = mine
                && let Some(a) = authors.get_mut(ai)
            {
                a.prior_commits += 1;
                let t = sig.when().seconds();
                a.first_commit_time = Some(a.first_commit_time.map_or(t, |f: i64| f.min(t)));
                if i < window {
                    a.recent_commits += 1;
                } else if i < 2 * window {
                    a.earlier_commits += 1;
                }
            }
            if i >= opts.path_walk_limit {
                continue;
            }
            // Path history: only diff when someone cares about this commit's paths. Authors of
            // the range need every path they touched; other commits only the touched paths.
            let want_all = mine.is_some_and(|ai| {
                touched_sets
                    .get(ai)
                    .is_some_and(|s| s.len() < opts.max_touched_paths)
            });
            if !want_all && touched.is_empty() {
                continue;
            }
            let paths = commit_paths(&self.repo, &c, if want_all { None } else { Some(&touched) })?;
            for p in paths {
                if let Some((n, who)) = path_stats.get_mut(p.as_str()) {
                    *n += 1;
                    who.insert(key.clone());
                }
                if want_all
                    && let Some(set) = mine.and_then(|ai| touched_sets.get_mut(ai))
                    && set.len() < opts.max_touched_paths
                {
                    set.insert(p);
                }
            }
        }
        for (a, set) in authors.iter_mut().zip(touched_sets) {
            let mut v: Vec<String> = set.into_iter().collect();
            v.sort();
            a.touched_paths = v;
        }
        let mut top: Vec<AuthorIdentity> = all_authors.into_values().collect();
        top.sort_by(|a, b| {
            b.commits
                .cmp(&a.commits)
                .then_with(|| a.email.cmp(&b.email))
        });
        top.truncate(opts.top_authors);
        Ok(RepoContext {
            authors,
            paths: path_stats
                .into_iter()
                .map(|(path, (commits, who))| PathHistory {
                    path: path.to_string(),
                    commits,
                    distinct_authors: who.len() as u32,
                })
                .collect(),
            total_commits: total,
            top_authors: top,
        })
    }
}

/// Paths a commit changed relative to its first parent (all of them, or only those in
/// `only`).
fn commit_paths(
    repo: &Repository,
    c: &Commit<'_>,
    only: Option<&[String]>,
) -> Result<Vec<String>, GitError> {
    let new = c.tree().map_err(git("reading a tree"))?;
    let old = match c.parent(0) {
        Ok(p) => Some(p.tree().map_err(git("reading a tree"))?),
        Err(_) => None,
    };
    let mut o = DiffOptions::new();
    o.ignore_submodules(true).skip_binary_check(true);
    if let Some(paths) = only {
        for p in paths {
            o.pathspec(p.as_str());
        }
        // Exact paths, not globs: a file named `*` must not match everything.
        o.disable_pathspec_match(true);
    }
    let d = repo
        .diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut o))
        .map_err(git("diffing history"))?;
    let mut out = Vec::new();
    for delta in d.deltas() {
        for f in [delta.new_file(), delta.old_file()] {
            if let Some(p) = f.path_bytes().map(lossy)
                && !out.contains(&p)
            {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Print the diff in patch format, bounded by `limit` bytes.
fn patch_text(d: &Diff<'_>, spec: &str, limit: usize) -> Result<Vec<u8>, GitError> {
    let mut out: Vec<u8> = Vec::new();
    let mut over = false;
    let printed = d.print(DiffFormat::Patch, |_delta, _hunk, line| {
        // Content lines come without their prefix; headers, hunk headers, binary patches and
        // "\ No newline" markers come complete.
        let origin = line.origin();
        let extra = usize::from(matches!(origin, '+' | '-' | ' '));
        if out.len() + extra + line.content().len() > limit {
            over = true;
            return false;
        }
        if extra == 1 {
            let mut b = [0u8; 4];
            out.extend_from_slice(origin.encode_utf8(&mut b).as_bytes());
        }
        out.extend_from_slice(line.content());
        true
    });
    if over {
        return Err(GitError::DiffTooLarge {
            spec: spec.to_string(),
            limit,
        });
    }
    printed.map_err(git("printing the diff"))?;
    Ok(out)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn commit_meta(c: &Commit<'_>) -> CommitMeta {
    let a = c.author();
    let m = c.committer();
    CommitMeta {
        id: Some(c.id().to_string()),
        author_name: lossy(a.name_bytes()),
        author_email: lossy(a.email_bytes()),
        author_time: Some(a.when().seconds()),
        author_offset_minutes: Some(a.when().offset_minutes()),
        committer_name: Some(lossy(m.name_bytes())),
        committer_email: Some(lossy(m.email_bytes())),
        committer_time: Some(m.when().seconds()),
        message: lossy(c.message_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_ranges_are_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        drop(repo);
        let r = GitRepo::open(dir.path()).unwrap();
        let e = r.resolve("a...b").unwrap_err();
        assert!(e.to_string().contains("BASE..HEAD"), "{e}");
    }

    #[test]
    fn opening_a_plain_directory_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = GitRepo::open(dir.path()).unwrap_err();
        assert!(
            e.to_string().contains(&dir.path().display().to_string()),
            "{e}"
        );
    }
}
