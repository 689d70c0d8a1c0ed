//! `dep-integrity-changed`: a lockfile entry whose checksum changes while its version stays
//! the same (`integrity` in package-lock.json and yarn.lock, `checksum` in Cargo.lock, the
//! `h1:` hash in go.sum). Registries never serve different bytes for a published version, so
//! a new checksum for an old version means the lockfile now points at other bytes: a swapped
//! source, a republished or tampered tarball, or a hand edit — the event-stream/flatmap-stream
//! story in one line.
//!
//! Read per hunk: each lockfile entry is a small block (header, version, hash) and the hunk's
//! context lines carry the name and version of the entry whose hash changed.

use std::collections::HashMap;

use crate::change::{Hunk, LineKind};
use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector, excerpt};

#[derive(Debug)]
pub struct DepIntegrityChanged;

static META: DetectorMeta = DetectorMeta::new(
    "dep-integrity-changed",
    "Lockfile checksum changed for an unchanged version",
    Severity::High,
    Confidence::High,
    &[Vector::Dependency],
    &[],
    "The lockfile now expects different bytes for a package version it already pinned. A \
     registry never changes a published version, so this means the package will come from \
     somewhere else or was tampered with — the lockfile edit behind several hijacks. Ask why the \
     checksum changed, compare it with the registry's, and regenerate the lockfile from the \
     registry.",
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NpmLock,
    YarnLock,
    CargoLock,
    GoSum,
}

fn kind_of(path: &str) -> Option<Kind> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    Some(match name.as_str() {
        "package-lock.json" | "npm-shrinkwrap.json" => Kind::NpmLock,
        "yarn.lock" => Kind::YarnLock,
        "cargo.lock" => Kind::CargoLock,
        "go.sum" => Kind::GoSum,
        _ => return None,
    })
}

/// What a line of a lockfile block is.
enum Field<'a> {
    Header(&'a str),
    Name(&'a str),
    Version(&'a str),
    Hash(&'a str),
    Other,
}

const NPM_SUBOBJECTS: &[&str] = &[
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
    "requires",
    "engines",
    "bin",
    "funding",
    "packages",
    "peerDependenciesMeta",
    "license",
    "os",
    "cpu",
];

fn quoted_value(s: &str) -> Option<&str> {
    let s = s.trim().trim_end_matches(',');
    s.strip_prefix('"')?.strip_suffix('"')
}

fn field(kind: Kind, line: &str) -> Field<'_> {
    let t = line.trim();
    match kind {
        Kind::CargoLock => {
            if t == "[[package]]" {
                return Field::Header("");
            }
            let Some((k, v)) = t.split_once(" = ") else {
                return Field::Other;
            };
            match (k, quoted_value(v)) {
                ("name", Some(v)) => Field::Name(v),
                ("version", Some(v)) => Field::Version(v),
                ("checksum", Some(v)) => Field::Hash(v),
                _ => Field::Other,
            }
        }
        Kind::NpmLock => {
            let Some(rest) = t.strip_prefix('"') else {
                return Field::Other;
            };
            let Some((k, v)) = rest.split_once("\":") else {
                return Field::Other;
            };
            let v = v.trim();
            if v == "{" {
                if NPM_SUBOBJECTS.contains(&k) {
                    return Field::Other;
                }
                return Field::Header(k.rsplit("node_modules/").next().unwrap_or(k));
            }
            match (k, quoted_value(v)) {
                ("version", Some(v)) => Field::Version(v),
                ("integrity", Some(v)) => Field::Hash(v),
                _ => Field::Other,
            }
        }
        Kind::YarnLock => {
            if !line.starts_with(' ') && t.ends_with(':') && !t.starts_with('#') {
                let spec = t
                    .trim_end_matches(':')
                    .split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches('"');
                // `name@range`, scoped names start with '@'.
                let name = match spec.get(1..).and_then(|s| s.find('@')) {
                    Some(i) => &spec[..=i],
                    None => spec,
                };
                return Field::Header(name);
            }
            if let Some(v) = t.strip_prefix("version ") {
                return Field::Version(v.trim().trim_matches('"'));
            }
            if let Some(v) = t.strip_prefix("integrity ") {
                return Field::Hash(v.trim());
            }
            Field::Other
        }
        Kind::GoSum => Field::Other,
    }
}

#[derive(Default)]
struct Block<'a> {
    name: &'a str,
    version: Option<&'a str>,
    removed_version: Option<&'a str>,
    added_version: Option<&'a str>,
    removed_hash: Option<&'a str>,
    added_hash: Option<(u32, &'a str, &'a str)>,
}

struct Changed<'a> {
    name: &'a str,
    version: &'a str,
    old: &'a str,
    new: &'a str,
    line: u32,
    text: &'a str,
}

fn close<'a>(b: &Block<'a>, out: &mut Vec<Changed<'a>>) {
    let (Some(old), Some((line, new, text))) = (b.removed_hash, b.added_hash) else {
        return;
    };
    if old == new {
        return;
    }
    let version_changed = matches!((b.removed_version, b.added_version), (Some(r), Some(a)) if r != a)
        || b.added_version.is_some() && b.removed_version.is_none();
    if version_changed {
        return;
    }
    out.push(Changed {
        name: if b.name.is_empty() {
            "(unnamed entry)"
        } else {
            b.name
        },
        version: b.added_version.or(b.version).unwrap_or("?"),
        old,
        new,
        line,
        text,
    });
}

fn scan_hunk<'a>(kind: Kind, h: &'a Hunk, out: &mut Vec<Changed<'a>>) {
    if kind == Kind::GoSum {
        // `module version[/go.mod] h1:hash`: the key is everything before the hash.
        let mut removed: HashMap<&str, &str> = HashMap::new();
        for l in h.lines.iter().filter(|l| l.kind == LineKind::Removed) {
            if let Some((k, v)) = h.line_text(l).trim().rsplit_once(' ') {
                removed.insert(k, v);
            }
        }
        for l in h.lines.iter().filter(|l| l.kind == LineKind::Added) {
            let text = h.line_text(l);
            let Some((k, v)) = text.trim().rsplit_once(' ') else {
                continue;
            };
            if let Some(old) = removed.get(k).filter(|old| **old != v) {
                let (name, version) = k.split_once(' ').unwrap_or((k, "?"));
                out.push(Changed {
                    name,
                    version,
                    old,
                    new: v,
                    line: l.new_line.unwrap_or(0),
                    text,
                });
            }
        }
        return;
    }
    let mut b = Block::default();
    for l in &h.lines {
        let text = h.line_text(l);
        match field(kind, text) {
            Field::Header(name) if l.kind != LineKind::Removed => {
                close(&b, out);
                b = Block {
                    name,
                    ..Block::default()
                };
            }
            Field::Header(_) => {}
            Field::Name(n) if l.kind != LineKind::Removed => b.name = n,
            Field::Name(_) => {}
            Field::Version(v) => match l.kind {
                LineKind::Context => b.version = Some(v),
                LineKind::Added => b.added_version = Some(v),
                LineKind::Removed => b.removed_version = Some(v),
            },
            Field::Hash(v) => match l.kind {
                LineKind::Added => b.added_hash = Some((l.new_line.unwrap_or(0), v, text)),
                LineKind::Removed => b.removed_hash = Some(v),
                LineKind::Context => {}
            },
            Field::Other => {}
        }
    }
    close(&b, out);
}

fn short(h: &str) -> String {
    excerpt(h, 24)
}

impl Detector for DepIntegrityChanged {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        if !file.class.lockfile {
            return;
        }
        let Some(kind) = kind_of(file.path()) else {
            return;
        };
        let mut changed = Vec::new();
        for h in &file.file.hunks {
            scan_hunk(kind, h, &mut changed);
        }
        for c in changed {
            out.push(
                META.finding(Location::line(file.path(), c.line))
                    .title(format!(
                        "Checksum of `{}@{}` changed without a version change",
                        c.name, c.version
                    ))
                    .evidence(format!("{} (was {})", c.text.trim(), short(c.old)))
                    .explanation(format!(
                        "{} The expected bytes of `{}@{}` changed from `{}` to `{}`.",
                        META.explanation,
                        c.name,
                        c.version,
                        short(c.old),
                        short(c.new)
                    ))
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::Line;

    fn hunk(lines: &[(LineKind, &str)]) -> Hunk {
        let mut h = Hunk::default();
        for (n, (kind, text)) in (1..).zip(lines) {
            let start = h.text.len() as u32;
            h.text.push_str(text);
            let end = h.text.len() as u32;
            h.text.push('\n');
            h.lines.push(Line {
                kind: *kind,
                start,
                end,
                old_line: Some(n),
                new_line: Some(n),
                crlf: false,
                no_newline_at_eof: false,
            });
        }
        h
    }

    #[test]
    fn a_cargo_checksum_change_with_the_same_version_is_found() {
        use LineKind::*;
        let h = hunk(&[
            (Context, "[[package]]"),
            (Context, "name = \"smallvec\""),
            (Context, "version = \"1.13.2\""),
            (
                Context,
                "source = \"registry+https://github.com/rust-lang/crates.io-index\"",
            ),
            (Removed, "checksum = \"aaaa\""),
            (Added, "checksum = \"bbbb\""),
        ]);
        let mut out = Vec::new();
        scan_hunk(Kind::CargoLock, &h, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].name, out[0].version), ("smallvec", "1.13.2"));
    }

    #[test]
    fn a_version_bump_with_a_new_checksum_is_normal() {
        use LineKind::*;
        let h = hunk(&[
            (Context, "[[package]]"),
            (Context, "name = \"smallvec\""),
            (Removed, "version = \"1.13.1\""),
            (Added, "version = \"1.13.2\""),
            (
                Context,
                "source = \"registry+https://github.com/rust-lang/crates.io-index\"",
            ),
            (Removed, "checksum = \"aaaa\""),
            (Added, "checksum = \"bbbb\""),
        ]);
        let mut out = Vec::new();
        scan_hunk(Kind::CargoLock, &h, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn go_sum_hashes_are_compared_per_module_version() {
        use LineKind::*;
        let h = hunk(&[
            (Removed, "github.com/pkg/errors v0.9.1 h1:AAA="),
            (Added, "github.com/pkg/errors v0.9.1 h1:BBB="),
            (Context, "github.com/pkg/errors v0.9.1/go.mod h1:CCC="),
        ]);
        let mut out = Vec::new();
        scan_hunk(Kind::GoSum, &h, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].version, "v0.9.1");
    }
}
