//! `dep-typosquat`: a new dependency whose name is a near miss of a popular package —
//! separators dropped or swapped (`rustdecimal` for `rust_decimal`, `crossenv` for
//! `cross-env`), one or two edits (`faster_log` for `fast_log`) or a popular name plus an
//! affix (`-js`, `python-`). Typosquats copy the original's README and API and add a payload;
//! the 2022 rustdecimal crate and the 2025 faster_log/async_println crates did exactly that.
//!
//! Compared against the embedded, hand-compiled popularity lists (`data/README.md`); names on
//! the lists themselves are never reported, and there is no list for Go modules (their names
//! are URLs, whose look-alikes are a different problem).

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::dep_manifest::Source;
use super::popular::{self, Resemblance};

#[derive(Debug)]
pub struct DepTyposquat;

static META: DetectorMeta = DetectorMeta::new(
    "dep-typosquat",
    "New dependency named like a popular package",
    Severity::High,
    Confidence::Medium,
    &[Vector::Dependency],
    &[],
    "The name of this new dependency is a near miss of a widely used package. Attackers publish \
     such look-alikes with a copied README and a hidden payload and wait for a typo or a \
     careless review (rustdecimal, crossenv, faster_log). Check that the name is exactly the \
     package you meant and compare it with the popular one's registry page.",
);

impl Detector for DepTyposquat {
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
        let Some(list) = popular::list(d.ecosystem) else {
            return;
        };
        for dep in d.new_deps() {
            if !matches!(dep.source, Source::Registry) {
                continue;
            }
            let Some((target, how)) = list.lookalike(&dep.registry_name) else {
                continue;
            };
            let (severity, how_text) = match how {
                Resemblance::Separators => (
                    Severity::Critical,
                    "the same letters with different separators".to_string(),
                ),
                Resemblance::Edits(n) => (
                    Severity::High,
                    format!("{n} edit{} away", if n == 1 { "" } else { "s" }),
                ),
                Resemblance::Affix(a) => (Severity::High, format!("the popular name plus `{a}`")),
            };
            out.push(
                META.finding(Location::line(file.path(), dep.line))
                    .severity(severity)
                    .title(format!(
                        "`{}` looks like the popular {} package `{target}` ({how_text})",
                        dep.registry_name,
                        d.ecosystem.registry()
                    ))
                    .evidence(&dep.text)
                    .build(),
            );
        }
    }
}
