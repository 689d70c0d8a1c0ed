//! `binary-executable`: the change adds or replaces a compiled executable or library (ELF,
//! PE, Mach-O). Reviewers cannot read machine code, so a prebuilt binary in a source
//! repository asks for trust the diff cannot earn: the serde_derive precompiled macro (2023)
//! drew an outcry for that reason, and xz-utils' backdoor was an object file hidden in test data.

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::binary_sniff::{Family, new_bytes, sniff};

#[derive(Debug)]
pub struct BinaryExecutable;

static META: DetectorMeta = DetectorMeta::new(
    "binary-executable",
    "Compiled executable added",
    Severity::High,
    Confidence::High,
    &[Vector::Binary],
    &[],
    "The change adds machine code (an ELF, PE or Mach-O file). Nobody can review what it does \
     from the diff, and it may be run by builds, tests or users. Ask for the source and the \
     exact command that builds it, rebuild it yourself and compare, or keep binaries out of \
     the repository.",
);

impl Detector for BinaryExecutable {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let Some(bytes) = new_bytes(file.file) else {
            return;
        };
        let Some(magic) = sniff(bytes).filter(|m| m.family() == Family::Executable) else {
            return;
        };
        let hidden = file.class.test || file.class.docs;
        let mut b = META
            .finding(Location::file(file.path()))
            .title(format!(
                "{} added{}",
                magic.name(),
                if hidden { " under tests or docs" } else { "" }
            ))
            .evidence(format!("{} ({} bytes)", magic.name(), bytes.len()));
        if hidden {
            b = b.severity(Severity::Critical);
        }
        out.push(b.build());
    }
}
