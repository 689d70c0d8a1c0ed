//! `GitRepo`: ranges, single commits, renames, binaries, contents, metadata and context.

use sx_analyzer::change::{BinaryData, FileStatus};
use sx_forge::{GitOptions, GitRepo};

use super::test_repo::TestRepo;

const ALICE: (&str, &str) = ("Alice", "alice@example.test");
const BOB: (&str, &str) = ("Bob", "bob@example.test");
const MALLORY: (&str, &str) = ("Mallory", "Mallory@Example.test");

/// One commit a minute from 2020-09-13, at UTC+2.
fn test_repo() -> TestRepo {
    TestRepo::with_clock(1_600_000_000, 60, 120)
}

fn open(t: &TestRepo) -> GitRepo {
    GitRepo::open(t.path()).unwrap()
}

fn lines(n: usize, tag: &str) -> String {
    (0..n).map(|i| format!("line {i} of {tag}\n")).collect()
}

#[test]
fn a_root_commit_is_diffed_against_the_empty_tree() {
    let mut t = test_repo();
    let root = t.commit(
        ALICE,
        "Initial commit\n\nWith a body.",
        &[("a.txt", Some(b"hello\n"))],
    );
    let g = open(&t);
    let rev = g.resolve("HEAD").unwrap();
    assert_eq!(rev.base, None);
    assert_eq!(rev.commits, vec![root]);
    let change = g.change(&rev, &GitOptions::default()).unwrap();
    assert_eq!(change.files.len(), 1);
    let f = &change.files[0];
    assert_eq!(f.status, FileStatus::Added);
    assert_eq!(f.added_lines().collect::<Vec<_>>(), vec![(1, "hello")]);
    assert_eq!(f.before, None);
    assert_eq!(f.after.as_deref(), Some(&b"hello\n"[..]));
    assert_eq!(f.commit, Some(0));
    let c = &change.commits[0];
    assert_eq!(c.id.as_deref(), Some(root.to_string().as_str()));
    assert_eq!((c.author_name.as_str(), c.author_email.as_str()), ALICE);
    assert_eq!(c.author_offset_minutes, Some(120));
    assert_eq!(c.subject(), "Initial commit");
    assert!(c.message.contains("With a body."));
    let ctx = change.context.unwrap();
    assert_eq!(ctx.total_commits, 0);
    assert_eq!(ctx.authors[0].prior_commits, 0);
}

#[test]
fn a_range_covers_its_commits_and_detects_renames() {
    let mut t = test_repo();
    let body = lines(30, "module");
    t.commit(
        ALICE,
        "Add module",
        &[
            ("src/old_name.rs", Some(body.as_bytes())),
            ("keep.txt", Some(b"k\n")),
        ],
    );
    let base = t.commit(ALICE, "Touch", &[("keep.txt", Some(b"k2\n"))]);
    let mut renamed = body.clone();
    renamed.push_str("one more line\n");
    t.commit(
        MALLORY,
        "Rename",
        &[
            ("src/old_name.rs", None),
            ("src/new_name.rs", Some(renamed.as_bytes())),
        ],
    );
    let head = t.commit(MALLORY, "Second", &[("keep.txt", Some(b"k3\n"))]);

    let g = open(&t);
    let rev = g.resolve(&format!("{base}..{head}")).unwrap();
    assert_eq!(rev.base, Some(base));
    assert_eq!(rev.commits.len(), 2);
    assert_eq!(rev.commits[1], head, "oldest first");
    let change = g.change(&rev, &GitOptions::default()).unwrap();
    assert_eq!(change.commits.len(), 2);
    let r = change
        .files
        .iter()
        .find(|f| f.status == FileStatus::Renamed)
        .expect("rename detected");
    assert_eq!(r.old_path.as_deref(), Some("src/old_name.rs"));
    assert_eq!(r.new_path.as_deref(), Some("src/new_name.rs"));
    assert_eq!(r.added_lines().count(), 1);
    assert_eq!(r.before.as_deref(), Some(body.as_bytes()));
    assert_eq!(r.after.as_deref(), Some(renamed.as_bytes()));
    // A range's files belong to no single commit.
    assert!(change.files.iter().all(|f| f.commit.is_none()));
}

#[test]
fn binary_files_come_as_decoded_git_binary_patches() {
    let mut t = test_repo();
    let mut blob: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    t.commit(ALICE, "Add blob", &[("data/x.bin", Some(&blob))]);
    blob[100] = 0;
    blob.extend_from_slice(b"\0appended payload");
    t.commit(MALLORY, "Update blob", &[("data/x.bin", Some(&blob))]);
    let g = open(&t);
    let change = g
        .change(&g.resolve("HEAD").unwrap(), &GitOptions::default())
        .unwrap();
    let f = &change.files[0];
    let b = f.binary.as_ref().expect("binary patch");
    assert!(
        !matches!(b.forward, BinaryData::Unreadable { .. }),
        "{:?}",
        b.forward
    );
    assert_eq!(b.new_content.as_deref(), Some(&blob[..]));
    assert_eq!(f.after.as_deref(), Some(&blob[..]));
}

#[test]
fn contents_over_the_size_limit_are_left_out_but_the_diff_is_kept() {
    let mut t = test_repo();
    t.commit(
        ALICE,
        "Base",
        &[("big.txt", Some(lines(100, "a").as_bytes()))],
    );
    t.commit(
        ALICE,
        "Grow",
        &[("big.txt", Some(lines(120, "a").as_bytes()))],
    );
    let g = open(&t);
    let opts = GitOptions {
        max_file_bytes: 100,
        ..GitOptions::default()
    };
    let change = g.change(&g.resolve("HEAD").unwrap(), &opts).unwrap();
    assert_eq!(change.files[0].before, None);
    assert_eq!(change.files[0].after, None);
    assert_eq!(change.files[0].added_lines().count(), 20);
}

#[test]
fn a_diff_over_the_input_limit_is_refused() {
    let mut t = test_repo();
    t.commit(ALICE, "Base", &[("a.txt", Some(b"a\n"))]);
    t.commit(
        ALICE,
        "Big",
        &[("b.txt", Some(lines(1000, "b").as_bytes()))],
    );
    let g = open(&t);
    let mut opts = GitOptions::default();
    opts.limits.max_input_bytes = 1000;
    let e = g.change(&g.resolve("HEAD").unwrap(), &opts).unwrap_err();
    assert!(e.to_string().contains("larger than 1000 bytes"), "{e}");
}

#[test]
fn context_counts_authors_paths_and_recent_activity_from_the_base() {
    let mut t = test_repo();
    for i in 0..6 {
        let body = format!("{i}\n");
        t.commit(
            ALICE,
            &format!("a{i}"),
            &[("src/lib.rs", Some(body.as_bytes()))],
        );
    }
    for i in 0..2 {
        let body = format!("{i}\n");
        t.commit(
            BOB,
            &format!("b{i}"),
            &[("README.md", Some(body.as_bytes()))],
        );
    }
    // Mallory: one earlier commit (her email differs in case from the range's commit).
    t.commit(
        ("Mallory", "mallory@example.test"),
        "m0",
        &[("docs/x.md", Some(b"x\n"))],
    );
    let base = t.commit(ALICE, "a6", &[("src/lib.rs", Some(b"6\n"))]);
    t.commit(
        MALLORY,
        "m1",
        &[
            ("src/lib.rs", Some(b"evil\n")),
            (".github/workflows/ci.yml", Some(b"on: push\n")),
        ],
    );

    let g = open(&t);
    let opts = GitOptions {
        recent_window: 3,
        ..GitOptions::default()
    };
    let change = g
        .change(&g.resolve(&format!("{base}..HEAD")).unwrap(), &opts)
        .unwrap();
    let ctx = change.context.unwrap();
    assert_eq!(ctx.total_commits, 10);
    assert_eq!(ctx.authors.len(), 1);
    let m = &ctx.authors[0];
    assert_eq!(m.prior_commits, 1, "emails match case-insensitively");
    assert_eq!(m.touched_paths, vec!["docs/x.md".to_string()]);
    assert_eq!(
        (m.recent_commits, m.earlier_commits, m.recent_window),
        (1, 0, 3)
    );
    assert!(m.first_commit_time.is_some());
    let lib = ctx.paths.iter().find(|p| p.path == "src/lib.rs").unwrap();
    assert_eq!((lib.commits, lib.distinct_authors), (7, 1));
    let ci = ctx
        .paths
        .iter()
        .find(|p| p.path == ".github/workflows/ci.yml")
        .unwrap();
    assert_eq!((ci.commits, ci.distinct_authors), (0, 0));
    assert_eq!(ctx.top_authors[0].email, "alice@example.test");
    assert_eq!(ctx.top_authors[0].commits, 7);
}

#[test]
fn first_parent_history_lists_newest_first_and_stops_at_max_or_since() {
    let mut t = test_repo();
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = format!("{i}\n");
        ids.push(t.commit(
            ALICE,
            &format!("c{i}\n\nbody"),
            &[("a.txt", Some(body.as_bytes()))],
        ));
    }
    let g = open(&t);
    let all = g.first_parent_history("HEAD", None, 100).unwrap();
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        ids.iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(all[0].subject, "c4");
    assert_eq!(g.first_parent_history("", None, 2).unwrap().len(), 2);
    let since = all[1].time;
    assert_eq!(
        g.first_parent_history("HEAD", Some(since), 100)
            .unwrap()
            .len(),
        2
    );
    let range = g
        .first_parent_history(&format!("{}..HEAD", ids[2]), None, 100)
        .unwrap();
    assert_eq!(range.len(), 2);
}

#[test]
fn the_base_revision_file_is_read_from_history_not_the_work_tree() {
    let mut t = test_repo();
    let base = t.commit(ALICE, "cfg", &[(".s-express.toml", Some(b"# trusted\n"))]);
    std::fs::write(t.dir.path().join(".s-express.toml"), b"# tampered\n").unwrap();
    let g = open(&t);
    assert_eq!(
        g.file_at(base, ".s-express.toml", 1000).unwrap().as_deref(),
        Some(&b"# trusted\n"[..])
    );
    assert_eq!(g.file_at(base, "missing.toml", 1000).unwrap(), None);
    assert_eq!(
        g.file_at(base, ".s-express.toml", 3).unwrap(),
        None,
        "over the size limit"
    );
}

#[test]
fn an_unknown_revision_is_named_in_the_error() {
    let mut t = test_repo();
    t.commit(ALICE, "x", &[("a", Some(b"a\n"))]);
    let e = open(&t).resolve("nope..HEAD").unwrap_err();
    assert!(e.to_string().contains("\"nope\""), "{e}");
}
