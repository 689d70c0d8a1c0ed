//! `binary-unreadable`: a binary change whose content the submission does not carry
//! ("Binary files a/x and b/x differ", a delta without its base, undecodable data). Nothing
//! can be checked; the finding is informational and asks for the content and its generator.

use crate::change::{BinaryData, FileStatus};
use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct BinaryUnreadable;

static META: DetectorMeta = DetectorMeta::new(
    "binary-unreadable",
    "Binary change without readable content",
    Severity::Info,
    Confidence::High,
    &[Vector::Binary],
    &[],
    "This binary file changes but the submission does not include its bytes, so S-Express could \
     not inspect it. Ask for the patch with `git diff --binary` or `git format-patch --binary`, \
     and for the script or command that generates the file.",
);

impl Detector for BinaryUnreadable {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let Some(bin) = &file.file.binary else { return };
        if file.file.status == FileStatus::Deleted
            || bin.new_content.is_some()
            || file.file.after.is_some()
        {
            return;
        }
        let reason = match &bin.forward {
            BinaryData::Literal { .. } => return,
            BinaryData::Delta { .. } => "a binary delta whose base is not available".to_string(),
            BinaryData::Unreadable { reason } => reason.clone(),
        };
        out.push(
            META.finding(Location::file(file.path()))
                .title(format!("Binary content of {} not included", file.path()))
                .evidence(reason)
                .build(),
        );
    }
}
