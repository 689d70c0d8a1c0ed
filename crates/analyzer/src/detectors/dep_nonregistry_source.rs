//! `dep-nonregistry-source`: a dependency taken from somewhere other than its registry — a
//! git repository, a tarball URL, a path outside the repository, an extra package index, a
//! go.mod `replace` or a Cargo `[patch]` pointing a module elsewhere. Such sources skip the
//! registry's immutability (a git branch or URL can serve new code tomorrow) and its malware
//! takedowns, and an extra index invites dependency confusion (the PyTorch `torchtriton`
//! incident of December 2022 came through `--extra-index-url`).

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::dep_manifest::Source;

#[derive(Debug)]
pub struct DepNonregistrySource;

static META: DetectorMeta = DetectorMeta::new(
    "dep-nonregistry-source",
    "Dependency from outside the package registry",
    Severity::Medium,
    Confidence::High,
    &[Vector::Dependency],
    &[],
    "This dependency does not come from the package registry but from a git repository, a \
     download URL, a local path outside the repository, an extra package index or a module \
     replacement. Code from such sources can change without a new version, escapes the \
     registry's malware removal, and is easy to overlook in review. Check the exact source and \
     prefer a published version or a commit-pinned reference.",
);

/// Whether a relative path from the manifest's directory leaves the repository.
fn escapes_repo(manifest: &str, path: &str) -> bool {
    let p = path.trim_start_matches("file:").trim_start_matches("link:");
    if p.starts_with('/') || p.contains(":\\") || p.starts_with('~') {
        return true;
    }
    let mut depth = manifest.matches('/').count() as i64;
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

impl Detector for DepNonregistrySource {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        if !file.class.manifest {
            return;
        }
        let path = file.path();
        let Some(d) = file.manifest_diff() else {
            return;
        };
        for dep in &d.added_lines {
            let (severity, confidence, what) = match &dep.source {
                Source::Registry => continue,
                Source::Path(p) if !escapes_repo(path, p) => continue,
                Source::Path(p) => (
                    Severity::Medium,
                    Confidence::Medium,
                    format!("a path outside the repository (`{p}`)"),
                ),
                Source::Git(u) => (
                    Severity::Medium,
                    Confidence::High,
                    format!("a git repository (`{u}`)"),
                ),
                Source::Url(u) => (
                    Severity::Medium,
                    Confidence::High,
                    format!("a download URL (`{u}`)"),
                ),
                Source::Index(u) => (
                    Severity::High,
                    Confidence::Medium,
                    format!("an extra package index (`{u}`)"),
                ),
                Source::Replace(t) => (
                    Severity::Medium,
                    Confidence::Medium,
                    format!("a replacement module (`{t}`)"),
                ),
            };
            let title = if matches!(dep.source, Source::Index(_)) {
                format!("Packages may be fetched from {what}")
            } else {
                format!("`{}` comes from {what}", dep.name)
            };
            out.push(
                META.finding(Location::line(path, dep.line))
                    .severity(severity)
                    .confidence(confidence)
                    .title(title)
                    .evidence(&dep.text)
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_siblings_stay_inside_and_parent_escapes_leave() {
        assert!(!escapes_repo("crates/a/Cargo.toml", "../b"));
        assert!(escapes_repo("crates/a/Cargo.toml", "../../../elsewhere"));
        assert!(escapes_repo("package.json", "file:../x"));
        assert!(escapes_repo("go.mod", "/home/u/x"));
        assert!(!escapes_repo("go.mod", "./internal/x"));
    }
}
