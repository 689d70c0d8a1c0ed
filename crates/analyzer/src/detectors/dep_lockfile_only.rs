//! `dep-lockfile-only`: a lockfile changes while no manifest next to it (or below it, for
//! workspaces) does. Lockfiles are long, machine-written and rarely read, so a hand-edited
//! one can swap a package's source or checksum unseen ("lockfile injection"); legitimate
//! lockfile-only updates exist (`cargo update`, bots) but deserve a look at what moved.

use crate::change::FileStatus;
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct DepLockfileOnly;

static META: DetectorMeta = DetectorMeta::new(
    "dep-lockfile-only",
    "Lockfile changed without its manifest",
    Severity::Medium,
    Confidence::Low,
    &[Vector::Dependency],
    &[],
    "The lockfile changes but the manifest that declares the dependencies does not. That is \
     normal for a routine update (`cargo update`, `npm update`, a bot), but it is also how a \
     tampered lockfile slips in: few reviewers read thousands of generated lines. Check which \
     packages, versions, sources and checksums changed, and regenerate the lockfile yourself \
     if in doubt.",
);

/// Manifest file names that own each lockfile.
fn manifests_for(lock: &str) -> &'static [&'static str] {
    match lock {
        "cargo.lock" => &["cargo.toml"],
        "package-lock.json"
        | "npm-shrinkwrap.json"
        | "yarn.lock"
        | "pnpm-lock.yaml"
        | "bun.lockb" => &["package.json", "pnpm-workspace.yaml"],
        "poetry.lock" | "uv.lock" | "pipfile.lock" | "pdm.lock" => {
            &["pyproject.toml", "pipfile", "setup.py", "setup.cfg"]
        }
        "go.sum" => &["go.mod"],
        "gemfile.lock" => &["gemfile"],
        "composer.lock" => &["composer.json"],
        "packages.lock.json" => &["packages.config"],
        _ => &[],
    }
}

fn split(path: &str) -> (&str, String) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name.to_ascii_lowercase()),
        None => ("", path.to_ascii_lowercase()),
    }
}

impl Detector for DepLockfileOnly {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, change: &ChangeCtx<'_>, out: &mut Findings) {
        for (file, class) in change.files() {
            if !class.lockfile || file.status == FileStatus::Deleted {
                continue;
            }
            let (dir, name) = split(file.path());
            let owners = manifests_for(&name);
            let has_manifest = change.files().any(|(f, _)| {
                let (d, n) = split(f.path());
                let n = if n.ends_with(".csproj") {
                    "packages.config".to_string()
                } else {
                    n
                };
                let n = if n.starts_with("requirements") && n.ends_with(".txt") {
                    "setup.py".to_string()
                } else {
                    n
                };
                owners.contains(&n.as_str())
                    && (dir.is_empty() || d == dir || d.starts_with(&format!("{dir}/")))
            });
            if has_manifest {
                continue;
            }
            let added = file.added_lines().count();
            let removed = file.removed_lines().count();
            out.push(
                META.finding(Location::file(file.path()))
                    .evidence(format!(
                        "{} changed (+{added} −{removed}) with no manifest change",
                        file.path()
                    ))
                    .build(),
            );
        }
    }
}
