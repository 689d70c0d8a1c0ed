//! `binary-opaque-blob`: compressed, archived or high-entropy binary data added to the
//! repository, above all under tests or fixtures with nothing in the change that generates or
//! explains it. The xz-utils backdoor (2024) arrived as `tests/files/bad-3-corrupt_lzma2.xz`
//! and `good-large_compressed.lzma`: "test files" nobody could read, one named corrupt while
//! being valid data, the build later extracting the payload from them.
//!
//! Images, fonts and PDFs whose bytes match their extension are not reported (they are
//! compressed by nature; `binary-type-mismatch` covers disguises). Entropy needs at least 256
//! bytes to mean anything.

use memchr::memmem;

use crate::classify::classify;
use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::binary_sniff::{Family, entropy, new_bytes, sniff};

#[derive(Debug)]
pub struct BinaryOpaqueBlob;

static META: DetectorMeta = DetectorMeta::new(
    "binary-opaque-blob",
    "Opaque binary data added",
    Severity::Low,
    Confidence::Medium,
    &[Vector::Binary],
    &[],
    "The change adds compressed or random-looking binary data. Its content cannot be reviewed \
     in the diff. In tests and fixtures such files are where the xz-utils backdoor hid. Ask for \
     the script or command that produces the file, run it yourself and compare the bytes.",
);

const MIN_ENTROPY_BYTES: usize = 256;
const HIGH_ENTROPY: f64 = 7.0;

/// Names that describe the file as broken while its bytes may be valid.
fn claims_broken(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "corrupt",
        "bad-",
        "bad_",
        "invalid",
        "broken",
        "malformed",
        "truncated",
    ]
    .iter()
    .any(|w| n.contains(w))
}

impl Detector for BinaryOpaqueBlob {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let Some(bytes) = new_bytes(file.file) else {
            return;
        };
        let magic = sniff(bytes);
        let h = entropy(bytes);
        let what = match magic.map(|m| (m, m.family())) {
            Some((m, Family::Archive)) => m.name().to_string(),
            Some(_) => return,
            None if bytes.len() >= MIN_ENTROPY_BYTES && h >= HIGH_ENTROPY => {
                format!("unrecognised data, {h:.2} bits/byte of entropy")
            }
            None => return,
        };
        let path = file.path();
        let name = path.rsplit('/').next().unwrap_or(path);
        // A generator or a test that names the file, among the change's non-doc text files.
        let finder = memmem::Finder::new(name.as_bytes());
        let explained = file.change.files.iter().any(|f| {
            let c = classify(f.path());
            f.path() != path
                && !c.docs
                && f.hunks
                    .iter()
                    .any(|hk| finder.find(hk.text.as_bytes()).is_some())
        });
        let broken_claim = claims_broken(name) && magic.is_some();
        let (severity, confidence) = match (file.class.test, explained) {
            (true, false) => (
                Severity::High,
                if broken_claim {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
            ),
            (true, true) => (Severity::Low, Confidence::Medium),
            (false, _) => (Severity::Low, Confidence::Medium),
        };
        let mut title = format!("Opaque binary added: {what}");
        if file.class.test && !explained {
            title.push_str(", in test data, with no generator in the change");
        }
        if broken_claim {
            title.push_str("; named as broken but has a valid header");
        }
        out.push(
            META.finding(Location::file(path))
                .severity(severity)
                .confidence(confidence)
                .title(title)
                .evidence(format!("{what} ({} bytes)", bytes.len()))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_sounding_names_are_recognised() {
        assert!(claims_broken("bad-3-corrupt_lzma2.xz"));
        assert!(!claims_broken("good-1-lzma2.xz"));
    }
}
