//! `binary-type-mismatch`: a file whose bytes are not what its name says — a `.txt` or `.png`
//! that is an ELF, a `.json` that is a zip, a `.png` whose header is no PNG. Disguising a
//! payload as harmless data keeps reviewers and tools from looking; the xz-utils backdoor
//! lived in files presented as corrupt test inputs.

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::binary_sniff::{Family, TEXT_EXTS, expected, extension, new_bytes, sniff};

#[derive(Debug)]
pub struct BinaryTypeMismatch;

static META: DetectorMeta = DetectorMeta::new(
    "binary-type-mismatch",
    "File content does not match its extension",
    Severity::High,
    Confidence::High,
    &[Vector::Binary, Vector::ReviewEvasion],
    &[],
    "The file's name promises one format but its bytes are another. There are innocent causes \
     (a renamed export), but a disguise is also how payloads hide from review and from tools \
     that skip images or text. Open the file with a tool that inspects the bytes (`file`, a hex \
     viewer) and ask why it is named this way.",
);

impl Detector for BinaryTypeMismatch {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let Some(bytes) = new_bytes(file.file) else {
            return;
        };
        let ext = extension(file.path());
        if ext.is_empty() {
            return;
        }
        let actual = sniff(bytes);
        let claim = match (expected(&ext), actual) {
            (Some(want), Some(got)) if !want.contains(&got) => {
                format!(".{ext} file contains {}", got.name())
            }
            // Media and archive formats always start with their magic; executables and class
            // files are left to `binary-executable`.
            (Some(want), None)
                if want
                    .iter()
                    .all(|m| matches!(m.family(), Family::Media | Family::Archive))
                    && bytes.len() >= 16 =>
            {
                format!(
                    ".{ext} file has no {} header",
                    want.first().map(|m| m.name()).unwrap_or("valid")
                )
            }
            (None, Some(got)) if TEXT_EXTS.contains(&ext.as_str()) => {
                format!("text-named .{ext} file contains {}", got.name())
            }
            _ => return,
        };
        let executable = actual.is_some_and(|m| m.family() == Family::Executable);
        // A missing header may also be an unusual but valid variant (lzma with non-default
        // properties): less sure than a wrong header.
        let confidence = if actual.is_some() {
            Confidence::High
        } else {
            Confidence::Medium
        };
        out.push(
            META.finding(Location::file(file.path()))
                .severity(if executable {
                    Severity::Critical
                } else {
                    Severity::High
                })
                .confidence(confidence)
                .title(format!("Disguised content: {claim}"))
                .evidence(claim)
                .build(),
        );
    }
}
