//! `dep-new-dependency`: a dependency the manifest did not declare before. On its own this is
//! context, not an accusation — most pull requests that add a dependency are fine — but every
//! new dependency is new code that will run at build or install time, and the event-stream
//! takeover started with exactly this: a newcomer adding `flatmap-stream`.
//!
//! Severity is `info` for names on the embedded popularity lists and `low` otherwise.

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::dep_manifest::Source;
use super::popular;

#[derive(Debug)]
pub struct DepNewDependency;

static META: DetectorMeta = DetectorMeta::new(
    "dep-new-dependency",
    "New dependency",
    Severity::Low,
    Confidence::High,
    &[Vector::Dependency],
    &[],
    "The change adds a dependency. Its code (and its own dependencies) will run in your builds, \
     tests and for your users. Check that it is the package you think it is, that it is \
     maintained, and that the project really needs it.",
);

impl Detector for DepNewDependency {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        if !file.class.manifest {
            return;
        }
        let Some(d) = file.manifest_diff() else {
            return;
        };
        let list = popular::list(d.ecosystem);
        for dep in d.new_deps() {
            let popular = matches!(dep.source, Source::Registry)
                && list.is_some_and(|l| l.contains(&dep.registry_name));
            let renamed = if dep.registry_name != dep.name {
                format!(" (package `{}`)", dep.registry_name)
            } else {
                String::new()
            };
            out.push(
                META.finding(Location::line(file.path(), dep.line))
                    .severity(if popular {
                        Severity::Info
                    } else {
                        Severity::Low
                    })
                    // A build-system requirement (hatchling, hatch-vcs) runs only when the
                    // package is built from source; it is a real but smaller exposure.
                    .confidence(if dep.build_only {
                        Confidence::Medium
                    } else {
                        META.confidence
                    })
                    .title(format!("New dependency `{}`{renamed}", dep.name))
                    .evidence(&dep.text)
                    .build(),
            );
        }
    }
}
