//! Diff parser integration tests.
//!
//! - fixtures under `diff_parsing/` were produced by real `git diff`, `git show`,
//!   `git format-patch --cover-letter` and `diff -ruN` runs (the tests never shell out);
//! - a property test renders random multi-file changes as `git diff` text with the small
//!   renderer below and checks that parsing gives the same files back;
//! - a property test feeds arbitrary bytes and checks the parser never panics, and fixed
//!   pathological inputs check that memory and time stay bounded;
//! - a small git delta encoder checks `apply_delta` against random edits.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sx_analyzer::change::{BinaryData, Change, FileStatus, LineKind, ParseNoteKind};
use sx_analyzer::diff::{DiffError, Limits, apply_delta, parse, resolve_binary};

fn parse_ok(input: &[u8]) -> Change {
    parse(input, &Limits::default()).unwrap()
}

// ----- fixtures from real git ------------------------------------------------------------

const GIT_DIFF: &[u8] = include_bytes!("diff_parsing/git_diff.patch");
const GIT_SHOW: &[u8] = include_bytes!("diff_parsing/git_show.txt");
const SERIES: &[u8] = include_bytes!("diff_parsing/series.mbox");
const DIFF_RUN: &[u8] = include_bytes!("diff_parsing/diff_ruN.patch");

/// `delta.bin` before the change in `git_diff.patch`.
fn delta_base() -> Vec<u8> {
    (0..40).flat_map(|_| 0u8..=255).collect()
}

#[test]
fn a_real_git_diff_parses_into_every_kind_of_file_change() {
    let c = parse_ok(GIT_DIFF);
    let summary: Vec<_> = c
        .files
        .iter()
        .map(|f| (f.status, f.old_path.as_deref(), f.new_path.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (FileStatus::Added, None, Some("copied.sh")),
            (FileStatus::Modified, Some("crlf.txt"), Some("crlf.txt")),
            (FileStatus::Modified, Some("delta.bin"), Some("delta.bin")),
            (FileStatus::Added, None, Some("img.png")),
            (FileStatus::Modified, Some("main.rs"), Some("main.rs")),
            (FileStatus::Renamed, Some("big.txt"), Some("moved.txt")),
            (FileStatus::Modified, Some("noeol.txt"), Some("noeol.txt")),
            (FileStatus::Deleted, Some("old.txt"), None),
            (FileStatus::Modified, Some("run.sh"), Some("run.sh")),
            (FileStatus::Added, None, Some("t\u{e9}st file.txt")),
        ]
    );
    assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    assert!(c.commits.is_empty());

    let crlf = &c.files[1].hunks[0];
    assert_eq!(crlf.text, "a\nb\nx\ny\nz\n");
    assert!(crlf.lines.iter().all(|l| l.crlf));

    let moved = &c.files[5];
    assert_eq!(moved.similarity, Some(90));
    assert_eq!(moved.hunks[0].section, "line1");
    let added: Vec<_> = moved.added_lines().collect();
    assert_eq!(added, vec![(5, "LINE5")]);

    let noeol = &c.files[6].hunks[0];
    assert!(noeol.lines.iter().all(|l| l.no_newline_at_eof));

    assert!(c.files[8].made_executable());
    assert_eq!(c.files[8].hunks.len(), 0);

    let img = c.files[3].binary.as_ref().unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(0u8..200);
    assert_eq!(img.new_content.as_deref(), Some(&png[..]));
}

#[test]
fn a_real_git_binary_delta_resolves_against_its_base() {
    let mut c = parse_ok(GIT_DIFF);
    let file = &mut c.files[2];
    let patch = file.binary.as_ref().unwrap();
    assert!(matches!(patch.forward, BinaryData::Delta { .. }));
    assert!(matches!(patch.reverse, Some(BinaryData::Delta { .. })));
    assert_eq!(patch.new_content, None);

    let base = delta_base();
    let mut expected = base.clone();
    expected[5000] = 0;
    expected[100] = 1;
    file.before = Some(base.clone());
    assert_eq!(resolve_binary(file, &Limits::default()), Ok(true));
    let patch = file.binary.as_ref().unwrap();
    assert_eq!(patch.new_content.as_deref(), Some(&expected[..]));

    // The reverse delta takes the new content back to the base.
    let Some(BinaryData::Delta { data }) = &patch.reverse else {
        panic!("reverse delta expected");
    };
    assert_eq!(
        apply_delta(&expected, data, &Limits::default()).unwrap(),
        base
    );
    // And a wrong base is refused, not silently patched.
    assert!(apply_delta(&expected[1..], data, &Limits::default()).is_err());
}

#[test]
fn real_git_show_output_carries_the_commit() {
    let c = parse_ok(GIT_SHOW);
    assert_eq!(c.commits.len(), 1);
    let m = &c.commits[0];
    assert_eq!(
        m.id.as_deref(),
        Some("4e6126f1502eb1b4c772ccde54d3ebbbe444f68e")
    );
    assert_eq!(m.author_name, "J\u{f6}rg \u{dc}nicode");
    assert_eq!(m.author_time, Some(1_696_334_400));
    assert!(m.subject().starts_with("copy main into a second binary"));
    assert_eq!(c.files.len(), 1);
    let f = &c.files[0];
    assert_eq!(
        (
            f.status,
            f.old_path.as_deref(),
            f.new_path.as_deref(),
            f.similarity
        ),
        (
            FileStatus::Copied,
            Some("main.rs"),
            Some("main2.rs"),
            Some(88)
        )
    );
    assert_eq!(f.commit, Some(0));
    assert_eq!(f.added_lines().collect::<Vec<_>>(), vec![(5, "// copy")]);
}

#[test]
fn a_real_format_patch_series_with_cover_letter_is_one_change() {
    let c = parse_ok(SERIES);
    assert_eq!(c.title.as_deref(), Some("*** SUBJECT HERE ***"));
    assert!(
        c.description
            .as_deref()
            .unwrap()
            .starts_with("*** BLURB HERE ***")
    );
    assert_eq!(c.commits.len(), 2);
    assert_eq!(
        c.commits[0].message,
        "rework things\n\nLonger body line.\nSecond body line."
    );
    assert_eq!(c.commits[0].author_name, "Jane Doe");
    assert_eq!(c.commits[0].author_time, Some(1_696_330_800));
    assert_eq!(c.commits[1].author_name, "J\u{f6}rg \u{dc}nicode");
    assert_eq!(
        c.commits[1].message,
        "copy main into a second binary with a long subject line that will surely need \
         folding in mail"
    );
    let per_commit: Vec<_> = c.files.iter().map(|f| f.commit).collect();
    assert_eq!(per_commit.iter().filter(|c| **c == Some(0)).count(), 10);
    assert_eq!(per_commit.last(), Some(&Some(1)));
    assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    // Same files as the plain diff for the first commit.
    let plain = parse_ok(GIT_DIFF);
    for (a, b) in plain.files.iter().zip(&c.files) {
        assert_eq!(
            (a.path(), a.status, &a.hunks, &a.binary),
            (b.path(), b.status, &b.hunks, &b.binary)
        );
    }
}

#[test]
fn real_diff_ru_n_output_names_files_like_patch_p1() {
    let c = parse_ok(DIFF_RUN);
    let summary: Vec<_> = c.files.iter().map(|f| (f.status, f.path())).collect();
    assert_eq!(
        summary,
        vec![
            (FileStatus::Modified, "src/blob.bin"),
            (FileStatus::Deleted, "src/gone.c"),
            (FileStatus::Added, "src/new.c"),
            (FileStatus::Modified, "src/x.c"),
        ]
    );
    assert!(matches!(
        c.files[0].binary.as_ref().unwrap().forward,
        BinaryData::Unreadable { .. }
    ));
    assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
}

#[test]
fn crlf_mail_line_endings_do_not_change_the_result() {
    let lf = parse_ok(SERIES);
    let crlf_input: Vec<u8> = SERIES
        .split(|&b| b == b'\n')
        .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
        .collect();
    let crlf = parse_ok(&crlf_input);
    assert_eq!(crlf.commits, lf.commits);
    assert_eq!(crlf.files.len(), lf.files.len());
    for (a, b) in lf.files.iter().zip(&crlf.files) {
        assert_eq!(a.path(), b.path());
        for (ha, hb) in a.hunks.iter().zip(&b.hunks) {
            // crlf.txt already has CRLF lines; doubling their '\r' changes their text.
            if ha.lines.iter().any(|l| l.crlf) {
                continue;
            }
            assert_eq!(ha.text, hb.text);
            assert!(hb.lines.iter().all(|l| l.crlf));
        }
        assert_eq!(a.binary, b.binary);
    }
}

#[test]
fn a_truncated_real_patch_is_an_error_or_a_note_never_a_panic() {
    for cut in 0..GIT_DIFF.len() {
        match parse(&GIT_DIFF[..cut], &Limits::default()) {
            Ok(c) => {
                for f in &c.files {
                    for h in &f.hunks {
                        assert!(h.lines.len() <= (h.old_count + h.new_count) as usize);
                    }
                }
            }
            Err(e) => assert!(
                matches!(
                    e,
                    DiffError::NoDiff { .. }
                        | DiffError::MissingHunk { .. }
                        | DiffError::MissingNewPath { .. }
                        | DiffError::MalformedHunkHeader { .. }
                ),
                "cut at {cut}: {e}"
            ),
        }
    }
}

// ----- round trip: random changes rendered as `git diff` ---------------------------------

#[derive(Debug, Clone)]
enum GenKind {
    Modified,
    Added,
    Deleted,
    Renamed(u8),
    Copied(u8),
}

#[derive(Debug, Clone)]
struct GenLine {
    kind: LineKind,
    content: Vec<u8>,
    crlf: bool,
    /// Render an empty context line as a bare newline, as mailers do.
    bare: bool,
}

#[derive(Debug, Clone)]
struct GenHunk {
    lines: Vec<GenLine>,
    section: String,
    gap: u32,
}

#[derive(Debug, Clone)]
struct GenFile {
    old: Vec<u8>,
    new: Vec<u8>,
    kind: GenKind,
    old_mode: u32,
    new_mode: u32,
    hunks: Vec<GenHunk>,
    binary: Option<Vec<u8>>,
    no_newline: bool,
}

fn path_strategy() -> impl Strategy<Value = Vec<u8>> {
    let component = prop::collection::vec(
        prop::sample::select(vec![
            &b"a"[..],
            b"b",
            b"src",
            b"x.rs",
            b" ",
            b"\xc3\xa9",
            b"\"",
            b"\t",
            b"\\",
            b"-",
            b"\xff",
            b"\xe2\x80\xae",
            b"_",
            b"+",
            b"@",
        ]),
        1..5,
    )
    .prop_map(|parts| parts.concat());
    prop::collection::vec(component, 1..4).prop_map(|c| c.join(&b'/'))
}

fn content_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![
            &b"x"[..],
            b"fn",
            b" ",
            b"\t",
            b"{",
            b"\"",
            b"\\",
            b"\xc3\xa9",
            b"\xff",
            b"\x00",
            b"\r",
            b"+",
            b"-",
            b"@@",
            b"diff --git",
            b"\xf0\x9f\x92\xa5",
        ]),
        0..8,
    )
    .prop_map(|parts| {
        let mut v = parts.concat();
        // A trailing '\r' is indistinguishable from a CRLF line ending.
        while v.last() == Some(&b'\r') {
            v.pop();
        }
        v
    })
}

fn line_strategy(kinds: Vec<LineKind>) -> impl Strategy<Value = GenLine> {
    (
        prop::sample::select(kinds),
        content_strategy(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(kind, content, crlf, bare)| GenLine {
            kind,
            content,
            crlf,
            bare,
        })
}

fn hunk_strategy(kinds: Vec<LineKind>) -> impl Strategy<Value = GenHunk> {
    (
        prop::collection::vec(line_strategy(kinds), 1..8),
        prop::sample::select(vec!["", "fn main() {", "class X", " lead"]),
        0u32..5,
    )
        .prop_map(|(lines, section, gap)| GenHunk {
            lines,
            section: section.to_owned(),
            gap,
        })
}

fn file_strategy() -> impl Strategy<Value = GenFile> {
    let kind = prop_oneof![
        3 => Just(GenKind::Modified),
        1 => Just(GenKind::Added),
        1 => Just(GenKind::Deleted),
        1 => (50u8..=100).prop_map(GenKind::Renamed),
        1 => (50u8..=100).prop_map(GenKind::Copied),
    ];
    let mode = prop::sample::select(vec![0o100644u32, 0o100755, 0o120000]);
    (
        kind,
        path_strategy(),
        path_strategy(),
        mode.clone(),
        mode,
        any::<bool>(),
        prop::option::weighted(0.15, prop::collection::vec(any::<u8>(), 0..300)),
        prop::collection::vec(
            hunk_strategy(vec![LineKind::Context, LineKind::Added, LineKind::Removed]),
            1..4,
        ),
        hunk_strategy(vec![LineKind::Added]),
        hunk_strategy(vec![LineKind::Removed]),
    )
        .prop_map(
            |(kind, old, new, old_mode, new_mode, no_newline, binary, hunks, add, del)| {
                let (new, hunks, binary) = match kind {
                    GenKind::Modified => (old.clone(), hunks, None),
                    GenKind::Added => (
                        old.clone(),
                        if binary.is_some() { vec![] } else { vec![add] },
                        binary,
                    ),
                    GenKind::Deleted => (old.clone(), vec![del], None),
                    // A 100% rename carries no hunks.
                    GenKind::Renamed(100) | GenKind::Copied(100) => (new, vec![], None),
                    GenKind::Renamed(_) | GenKind::Copied(_) => (new, hunks, None),
                };
                GenFile {
                    old,
                    new,
                    kind,
                    old_mode,
                    new_mode,
                    hunks,
                    binary,
                    no_newline,
                }
            },
        )
}

/// Git's path quoting (`core.quotePath` on): C escapes for control characters, `"` and
/// `\`, octal for bytes >= 0x80.
fn quote(prefix: &str, path: &[u8]) -> Vec<u8> {
    let mut full = prefix.as_bytes().to_vec();
    full.extend_from_slice(path);
    let needs = full
        .iter()
        .any(|&b| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\');
    if !needs {
        return full;
    }
    let mut out = vec![b'"'];
    for &b in &full {
        match b {
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// `--- a/x` / `+++ b/x` names: git adds a tab after an unquoted name containing a space.
fn side_name(prefix: &str, path: &[u8]) -> Vec<u8> {
    let mut q = quote(prefix, path);
    if q.first() != Some(&b'"') && q.contains(&b' ') {
        q.push(b'\t');
    }
    q
}

fn base85_line(data: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 85] =
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
    let mut out = vec![if data.len() <= 26 {
        b'A' + data.len() as u8 - 1
    } else {
        b'a' + data.len() as u8 - 27
    }];
    for chunk in data.chunks(4) {
        let mut buf = [0u8; 4];
        buf[..chunk.len()].copy_from_slice(chunk);
        let mut acc = u32::from_be_bytes(buf);
        let mut group = [0u8; 5];
        for slot in group.iter_mut().rev() {
            *slot = ALPHABET[(acc % 85) as usize];
            acc /= 85;
        }
        out.extend_from_slice(&group);
    }
    out
}

fn binary_literal(data: &[u8], out: &mut Vec<u8>) {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    let z = z.finish().unwrap();
    out.extend_from_slice(format!("literal {}\n", data.len()).as_bytes());
    for chunk in z.chunks(52) {
        out.extend_from_slice(&base85_line(chunk));
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// Render the generated files as `git diff --binary` output.
fn render(files: &[GenFile]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in files {
        out.extend_from_slice(b"diff --git ");
        out.extend_from_slice(&quote("a/", &f.old));
        out.push(b' ');
        out.extend_from_slice(&quote("b/", &f.new));
        out.push(b'\n');
        let header = match f.kind {
            GenKind::Added => format!("new file mode {:o}\nindex 0000000..1234567\n", f.new_mode),
            GenKind::Deleted => format!(
                "deleted file mode {:o}\nindex 1234567..0000000\n",
                f.old_mode
            ),
            GenKind::Modified if f.old_mode != f.new_mode => format!(
                "old mode {:o}\nnew mode {:o}\nindex 1234567..89abcde\n",
                f.old_mode, f.new_mode
            ),
            GenKind::Modified => format!("index 1234567..89abcde {:o}\n", f.old_mode),
            GenKind::Renamed(s) | GenKind::Copied(s) => format!("similarity index {s}%\n"),
        };
        out.extend_from_slice(header.as_bytes());
        if let GenKind::Renamed(_) | GenKind::Copied(_) = f.kind {
            let word = if matches!(f.kind, GenKind::Renamed(_)) {
                "rename"
            } else {
                "copy"
            };
            out.extend_from_slice(format!("{word} from ").as_bytes());
            out.extend_from_slice(&quote("", &f.old));
            out.extend_from_slice(format!("\n{word} to ").as_bytes());
            out.extend_from_slice(&quote("", &f.new));
            out.push(b'\n');
            if !f.hunks.is_empty() {
                out.extend_from_slice(
                    format!("index 1234567..89abcde {:o}\n", f.old_mode).as_bytes(),
                );
            }
        }
        if let Some(data) = &f.binary {
            out.extend_from_slice(b"GIT binary patch\n");
            binary_literal(data, &mut out);
            binary_literal(&[], &mut out);
            continue;
        }
        if f.hunks.is_empty() {
            continue;
        }
        out.extend_from_slice(b"--- ");
        match f.kind {
            GenKind::Added => out.extend_from_slice(b"/dev/null"),
            _ => out.extend_from_slice(&side_name("a/", &f.old)),
        }
        out.extend_from_slice(b"\n+++ ");
        match f.kind {
            GenKind::Deleted => out.extend_from_slice(b"/dev/null"),
            _ => out.extend_from_slice(&side_name("b/", &f.new)),
        }
        out.push(b'\n');
        for (h, (old_start, new_start)) in f.hunks.iter().zip(hunk_starts(f)) {
            let (oc, nc) = counts(h);
            let range = |start: u32, count: u32| {
                if count == 1 {
                    format!("{start}")
                } else {
                    format!("{start},{count}")
                }
            };
            out.extend_from_slice(
                format!("@@ -{} +{} @@", range(old_start, oc), range(new_start, nc)).as_bytes(),
            );
            if !h.section.is_empty() {
                out.push(b' ');
                out.extend_from_slice(h.section.as_bytes());
            }
            out.push(b'\n');
            for l in &h.lines {
                if !(l.bare && l.kind == LineKind::Context && l.content.is_empty()) {
                    out.push(match l.kind {
                        LineKind::Context => b' ',
                        LineKind::Added => b'+',
                        LineKind::Removed => b'-',
                    });
                    out.extend_from_slice(&l.content);
                }
                out.extend_from_slice(if l.crlf { b"\r\n" } else { b"\n" });
            }
        }
        if f.no_newline {
            out.extend_from_slice(b"\\ No newline at end of file\n");
        }
    }
    out
}

fn counts(h: &GenHunk) -> (u32, u32) {
    let old = h.lines.iter().filter(|l| l.kind != LineKind::Added).count() as u32;
    let new = h
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Removed)
        .count() as u32;
    (old, new)
}

/// Hunk start lines: each hunk begins `gap` lines after the previous one ended; an empty
/// side starts at 0 (git's convention for added and deleted files).
fn hunk_starts(f: &GenFile) -> Vec<(u32, u32)> {
    let (mut old, mut new) = (1u32, 1u32);
    let mut out = vec![];
    for h in &f.hunks {
        old += h.gap;
        new += h.gap;
        let (oc, nc) = counts(h);
        out.push((
            if oc == 0 { old - 1 } else { old },
            if nc == 0 { new - 1 } else { new },
        ));
        old += oc;
        new += nc;
    }
    out
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn check_round_trip(files: &[GenFile], change: &Change) -> Result<(), TestCaseError> {
    prop_assert_eq!(change.files.len(), files.len());
    for (g, f) in files.iter().zip(&change.files) {
        let (status, old, new, similarity) = match g.kind {
            GenKind::Modified => (FileStatus::Modified, Some(&g.old), Some(&g.new), None),
            GenKind::Added => (FileStatus::Added, None, Some(&g.new), None),
            GenKind::Deleted => (FileStatus::Deleted, Some(&g.old), None, None),
            GenKind::Renamed(s) => (FileStatus::Renamed, Some(&g.old), Some(&g.new), Some(s)),
            GenKind::Copied(s) => (FileStatus::Copied, Some(&g.old), Some(&g.new), Some(s)),
        };
        prop_assert_eq!(f.status, status);
        prop_assert_eq!(f.old_path.clone(), old.map(|p| lossy(p)));
        prop_assert_eq!(f.new_path.clone(), new.map(|p| lossy(p)));
        prop_assert_eq!(f.similarity, similarity);
        let modes = match g.kind {
            GenKind::Added => (None, Some(g.new_mode)),
            GenKind::Deleted => (Some(g.old_mode), None),
            GenKind::Modified if g.old_mode != g.new_mode => (Some(g.old_mode), Some(g.new_mode)),
            GenKind::Modified => (Some(g.old_mode), Some(g.old_mode)),
            GenKind::Renamed(_) | GenKind::Copied(_) if g.hunks.is_empty() => (None, None),
            GenKind::Renamed(_) | GenKind::Copied(_) => (Some(g.old_mode), Some(g.old_mode)),
        };
        prop_assert_eq!((f.old_mode, f.new_mode), modes);
        let mut invalid = [old, new]
            .iter()
            .flatten()
            .any(|p| std::str::from_utf8(p).is_err());
        match &g.binary {
            Some(data) => {
                let b = f.binary.as_ref().unwrap();
                prop_assert_eq!(&b.forward, &BinaryData::Literal { data: data.clone() });
                prop_assert_eq!(b.new_content.as_deref(), Some(&data[..]));
            }
            None => prop_assert!(f.binary.is_none()),
        }
        prop_assert_eq!(f.hunks.len(), g.hunks.len());
        let last_hunk = g.hunks.len().saturating_sub(1);
        for (i, ((gh, h), (old_start, new_start))) in
            g.hunks.iter().zip(&f.hunks).zip(hunk_starts(g)).enumerate()
        {
            let (oc, nc) = counts(gh);
            prop_assert_eq!(
                (h.old_start, h.old_count, h.new_start, h.new_count),
                (old_start, oc, new_start, nc)
            );
            prop_assert_eq!(&h.section, &gh.section);
            prop_assert_eq!(h.lines.len(), gh.lines.len());
            let (mut o, mut n) = (old_start, new_start);
            let mut text = String::new();
            for (j, (gl, l)) in gh.lines.iter().zip(&h.lines).enumerate() {
                let want = lossy(&gl.content);
                invalid |= std::str::from_utf8(&gl.content).is_err();
                prop_assert_eq!(l.kind, gl.kind);
                prop_assert_eq!(h.line_text(l), want.as_str());
                prop_assert_eq!(l.crlf, gl.crlf);
                let last = i == last_hunk && j + 1 == gh.lines.len();
                prop_assert_eq!(l.no_newline_at_eof, last && g.no_newline);
                let (wo, wn) = match gl.kind {
                    LineKind::Context => (Some(o), Some(n)),
                    LineKind::Added => (None, Some(n)),
                    LineKind::Removed => (Some(o), None),
                };
                prop_assert_eq!((l.old_line, l.new_line), (wo, wn));
                o += u32::from(wo.is_some());
                n += u32::from(wn.is_some());
                prop_assert_eq!(h.line_index_at(l.start as usize), Some(j));
                text.push_str(&want);
                text.push('\n');
            }
            prop_assert_eq!(&h.text, &text);
        }
        prop_assert_eq!(f.invalid_utf8, invalid);
    }
    let utf8_notes = change
        .parse_notes
        .iter()
        .filter(|n| n.kind == ParseNoteKind::InvalidUtf8)
        .count();
    prop_assert_eq!(
        utf8_notes,
        change.files.iter().filter(|f| f.invalid_utf8).count()
    );
    prop_assert!(
        change
            .parse_notes
            .iter()
            .all(|n| n.kind == ParseNoteKind::InvalidUtf8),
        "{:?}",
        change.parse_notes
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_git_diffs_round_trip_through_the_parser(files in prop::collection::vec(file_strategy(), 1..6)) {
        let text = render(&files);
        let change = parse(&text, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&text))))?;
        check_round_trip(&files, &change)?;
        prop_assert!(change.commits.is_empty());
    }

    #[test]
    fn random_diffs_wrapped_in_a_mail_or_git_show_keep_their_commit(
        files in prop::collection::vec(file_strategy(), 1..4),
        as_mail in any::<bool>(),
    ) {
        let mut text = if as_mail {
            b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n\
              From: A <a@x>\nSubject: [PATCH] s\n\nbody\n---\n x | 1 +\n\n".to_vec()
        } else {
            b"commit 0123456789abcdef0123456789abcdef01234567\nAuthor: A <a@x>\n\n    s\n\n    body\n\n".to_vec()
        };
        text.extend_from_slice(&render(&files));
        if as_mail {
            text.extend_from_slice(b"-- \n2.47.3\n");
        }
        let change = parse(&text, &Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_round_trip(&files, &change)?;
        prop_assert_eq!(change.commits.len(), 1);
        prop_assert_eq!(change.commits[0].message.as_str(), "s\n\nbody");
        prop_assert!(change.files.iter().all(|f| f.commit == Some(0)));
    }
}

// ----- hostile input ---------------------------------------------------------------------

fn hostile_fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        prop::sample::select(vec![
            &b"diff --git a/x b/x\n"[..],
            b"--- a/x\n",
            b"+++ b/x\n",
            b"@@ -1,3 +1,4 @@\n",
            b"@@ -0,0 +1 @@ s\n",
            b"+added\n",
            b"-removed\n",
            b" context\n",
            b"\\ No newline at end of file\n",
            b"GIT binary patch\n",
            b"literal 5\n",
            b"delta 3\n",
            b"HcmV?d00001\n",
            b"\n",
            b"rename from \"q\\303\"\n",
            b"new file mode 100755\n",
            b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n",
            b"Subject: =?UTF-8?b?w6k=?=\n",
            b"commit 0123456789abcdef\n",
            b"-- \n",
            b"---\n",
            b"diff --cc x\n",
            b"Binary files a and b differ\n",
            b"\r\n",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_spans_stay_valid(parts in prop::collection::vec(hostile_fragment(), 0..40)) {
        let input = parts.concat();
        let limits = Limits { max_line_bytes: 32, max_notes: 8, ..Limits::default() };
        if let Ok(c) = parse(&input, &limits) {
            prop_assert!(c.parse_notes.len() <= 9);
            for f in &c.files {
                for h in &f.hunks {
                    for (i, l) in h.lines.iter().enumerate() {
                        prop_assert!(h.text.get(l.start as usize..l.end as usize).is_some());
                        prop_assert_eq!(h.line_index_at(l.start as usize), Some(i));
                    }
                }
            }
        }
    }

}

// Linear growth is measured by the criterion bench (crates/analyzer/benches), not timed
// here: wall-clock ratios on a shared 2-core machine made such a test flaky.

#[test]
fn pathological_inputs_stay_bounded_and_fast() {
    let limits = Limits::default();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("one 100 MB line", {
            let mut v = b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+".to_vec();
            v.resize(100 << 20, b'A');
            v
        }),
        ("a million empty hunks", b"--- a/x\n+++ b/x\n".iter().copied().chain(b"@@ -1,0 +1,0 @@\n".repeat(1_000_000)).collect()),
        ("hunks announcing huge counts", b"--- a/x\n+++ b/x\n@@ -1,4000000000 +1,4000000000 @@\n+a\n".repeat(50_000)),
        ("a very deep path", {
            let mut v = b"--- a/".to_vec();
            v.extend(b"d/".repeat(500_000));
            v.extend_from_slice(b"x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
            v
        }),
        ("NUL bytes everywhere", b"--- a/\0\n+++ b/\0\n@@ -1 +1 @@\n-\0\n+\0\0\n".repeat(100_000)),
        ("binary headers with nothing after", b"diff --git a/x b/x\nGIT binary patch\nliteral 999999999\n".repeat(100_000)),
        ("many mails", b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 0/1] x\n\n".repeat(9_000)),
    ];
    for (name, input) in cases {
        let start = Instant::now();
        let result = parse(
            &input,
            &Limits {
                max_input_bytes: 128 << 20,
                ..limits.clone()
            },
        );
        let elapsed = start.elapsed();
        assert!(elapsed < Duration::from_secs(20), "{name}: {elapsed:?}");
        if let Ok(c) = &result {
            assert!(c.parse_notes.len() <= limits.max_notes + 1, "{name}");
            for f in &c.files {
                assert!(f.path().len() <= limits.max_path_bytes, "{name}");
                for h in &f.hunks {
                    assert!(
                        h.text.len() <= limits.max_line_bytes * (h.lines.len() + 1),
                        "{name}"
                    );
                }
            }
        }
    }
    // Over the input limit is refused before any work.
    let big = vec![b'x'; (64 << 20) + 1];
    assert!(matches!(
        parse(&big, &limits),
        Err(DiffError::InputTooLarge { .. })
    ));
}

// ----- git delta round trip --------------------------------------------------------------

fn push_varint(mut v: usize, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn push_copy(offset: usize, size: usize, out: &mut Vec<u8>) {
    let mut cmd = 0x80u8;
    let mut args = vec![];
    for i in 0..4 {
        let byte = (offset >> (8 * i)) as u8;
        if byte != 0 {
            cmd |= 1 << i;
            args.push(byte);
        }
    }
    let size = if size == 0x10000 { 0 } else { size };
    for i in 0..3 {
        let byte = (size >> (8 * i)) as u8;
        if byte != 0 {
            cmd |= 0x10 << i;
            args.push(byte);
        }
    }
    out.push(cmd);
    out.extend(args);
}

/// A small greedy git delta encoder: copy runs found through a 4-byte index of the base,
/// insert everything else.
fn encode_delta(base: &[u8], target: &[u8]) -> Vec<u8> {
    use std::collections::HashMap;
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for i in 0..base.len().saturating_sub(3) {
        index.entry(&base[i..i + 4]).or_insert(i);
    }
    let mut out = vec![];
    push_varint(base.len(), &mut out);
    push_varint(target.len(), &mut out);
    let mut pending: Vec<u8> = vec![];
    let flush = |pending: &mut Vec<u8>, out: &mut Vec<u8>| {
        for chunk in pending.chunks(127) {
            out.push(chunk.len() as u8);
            out.extend_from_slice(chunk);
        }
        pending.clear();
    };
    let mut i = 0;
    while i < target.len() {
        let found = target.get(i..i + 4).and_then(|k| index.get(k)).copied();
        match found {
            Some(at) => {
                let mut len = 0;
                while i + len < target.len()
                    && at + len < base.len()
                    && target[i + len] == base[at + len]
                    && len < 0x10000
                {
                    len += 1;
                }
                flush(&mut pending, &mut out);
                push_copy(at, len, &mut out);
                i += len;
            }
            None => {
                pending.push(target[i]);
                i += 1;
            }
        }
    }
    flush(&mut pending, &mut out);
    out
}

proptest! {
    #[test]
    fn deltas_from_a_reference_encoder_apply_back_to_the_target(
        base in prop::collection::vec(any::<u8>(), 0..2000),
        edits in prop::collection::vec((any::<usize>(), prop::collection::vec(any::<u8>(), 0..20), 0usize..30), 0..10),
    ) {
        let mut target = base.clone();
        for (at, insert, delete) in edits {
            let at = if target.is_empty() { 0 } else { at % target.len() };
            let end = (at + delete).min(target.len());
            target.splice(at..end, insert);
        }
        let delta = encode_delta(&base, &target);
        prop_assert_eq!(apply_delta(&base, &delta, &Limits::default()).unwrap(), target.clone());
        // Any truncation of a non-trivial delta is refused.
        if !target.is_empty() {
            prop_assert!(apply_delta(&base, &delta[..delta.len() - 1], &Limits::default()).is_err());
        }
    }
}

#[test]
fn large_copies_use_the_64k_encoding() {
    let base: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut target = base[10..150_000].to_vec();
    target.extend_from_slice(b"tail");
    let delta = encode_delta(&base, &target);
    assert_eq!(
        apply_delta(&base, &delta, &Limits::default()).unwrap(),
        target
    );
    let small = Limits {
        max_binary_bytes: 1000,
        ..Limits::default()
    };
    assert!(apply_delta(&base, &delta, &small).is_err());
}
