//! `file-made-executable`: the change sets the executable bit on a file that is not a script
//! — a data file, an archive, a test fixture, a document. Scripts and compiled programs are
//! meant to run; a `.txt` or `.xz` that becomes executable is prepared to be run by something
//! else, which is how hidden stages of a payload are usually launched.

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::binary_sniff::{Family, extension, new_bytes, sniff};

#[derive(Debug)]
pub struct FileMadeExecutable;

static META: DetectorMeta = DetectorMeta::new(
    "file-made-executable",
    "Non-script file made executable",
    Severity::Low,
    Confidence::Medium,
    &[Vector::Binary, Vector::ReviewEvasion],
    &[],
    "The change marks a file as executable although it is neither a script nor a program. \
     Mode changes are easy to miss in review, and an executable data file is usually meant to \
     be run by something else. Ask why the file needs the executable bit.",
);

const SCRIPT_EXTS: &[&str] = &[
    "sh", "bash", "zsh", "ksh", "py", "pl", "rb", "js", "mjs", "cjs", "ts", "php", "lua", "ps1",
    "tcl", "awk", "sed", "exe", "bin", "run", "appimage", "command", "fish", "bat", "cmd",
];

impl Detector for FileMadeExecutable {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let f = file.file;
        if !f.made_executable() {
            return;
        }
        let ext = extension(f.path());
        if SCRIPT_EXTS.contains(&ext.as_str()) {
            return;
        }
        let bytes = new_bytes(f);
        if bytes
            .and_then(sniff)
            .is_some_and(|m| m.family() == Family::Executable)
        {
            return;
        }
        // A shebang on the first line makes it a script whatever its name.
        let first = f
            .hunks
            .first()
            .and_then(|h| h.lines.first().map(|l| h.line_text(l)));
        if first.is_some_and(|t| t.starts_with("#!")) || bytes.is_some_and(|b| b.starts_with(b"#!"))
        {
            return;
        }
        // Files without an extension and with no content in view (pure mode change of a tool
        // like `gradlew`) are scripts more often than not.
        if ext.is_empty() && bytes.is_none() {
            return;
        }
        let binary = bytes.is_some();
        let severity = if binary || file.class.test || file.class.docs {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mode = f.new_mode.map(|m| format!("{m:o}")).unwrap_or_default();
        out.push(
            META.finding(Location::file(f.path()))
                .severity(severity)
                .title(format!("{} made executable", f.path()))
                .evidence(format!(
                    "mode {} → {mode}",
                    f.old_mode
                        .map(|m| format!("{m:o}"))
                        .unwrap_or_else(|| "new file".into())
                ))
                .build(),
        );
    }
}
