//! `build-test-data-pipeline`: build scripts that carve data out of repository files through
//! a shell pipeline and run it — the xz-utils backdoor's delivery (2024).
//!
//! xz's `build-to-host.m4` located a "corrupt" test file with `grep -aErls` over `$srcdir`,
//! swapped characters back with `tr "\t \-_" " \t_\-"`, decompressed it with `xz -d` named
//! through a variable, and piped the result into `eval`; the next stage cut bytes out with
//! `head -c`/`tail -c` and another `tr` over octal ranges. Each step is an ordinary tool; in a
//! build file, together, they have no innocent reading.
//!
//! The steps are line patterns with behaviour-chain roles (so `| eval` after a decompressor
//! also feeds the generic decode→exec chain); this detector combines the steps found in one
//! build file and reports the combination, not each tool.

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, LinePattern, Role, RoleHit};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct BuildTestDataPipeline;

static META: DetectorMeta = DetectorMeta::new(
    "build-test-data-pipeline",
    "Build script extracts and runs data hidden in repository files",
    Severity::Critical,
    Confidence::High,
    &[Vector::InstallHook, Vector::Binary],
    &["autotools", "make", "shell", "cmake"],
    "A build file reads repository data (test files, binary fixtures) through a pipeline of \
     character translation, byte slicing or decompression, and pipes the result into eval. That \
     is how the xz-utils backdoor moved from 'corrupt' test files into the compiled library. \
     Reproduce the pipeline by hand in a sandbox, read what it outputs, and ask why a build needs \
     to decode test data.",
);

const BUILD: &[FileScope] = &[FileScope::Build];

const TEST_DATA: &str = "test-data";
const CHAR_SWAP: &str = "char-swap";
const BYTE_SLICE: &str = "byte-slice";
const DECOMPRESS: &str = "decompress";
const EVAL: &str = "eval";

/// `tr` whose first set holds two or more escapes (`\t`, `\-`, octal): character swapping to
/// undo a deliberate corruption. Plain `tr a-z A-Z` or `tr -d '\n'` do not match.
const TR_SWAP: &str = r#"\btr\s+["'](?:[^"']*\\(?:t|-|[0-7]{1,3})){2,}[^"']*["']\s+["']"#;
const DECOMPRESSOR: &str =
    r"\b(?:xz|lzma|unxz|unlzma)\s+-[A-Za-z]*[dF][A-Za-z]*|\$\{?[\w\[\]$]+\}?\s+-d\s+2>\s*/dev/null";

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("tests/files")
        .files(BUILD)
        .role(Role::Transform, TEST_DATA),
    LinePattern::lit("tests/data")
        .files(BUILD)
        .role(Role::Transform, TEST_DATA),
    LinePattern::lit("testdata/")
        .files(BUILD)
        .role(Role::Transform, TEST_DATA),
    LinePattern::lit("test/data")
        .files(BUILD)
        .role(Role::Transform, TEST_DATA),
    LinePattern::lit("grep -a")
        .files(BUILD)
        .regex(r"grep\s+-[A-Za-z]*a[A-Za-z]*\b[^|;]*\$\{?srcdir")
        .role(Role::Transform, TEST_DATA),
    LinePattern::lit("tr \"")
        .files(BUILD)
        .regex(TR_SWAP)
        .role(Role::Transform, CHAR_SWAP),
    LinePattern::lit("tr '")
        .files(BUILD)
        .regex(TR_SWAP)
        .role(Role::Transform, CHAR_SWAP),
    LinePattern::lit("sed \\\"r")
        .files(BUILD)
        .regex(r#"sed\s+\\?["']r\\n"#)
        .role(Role::Transform, BYTE_SLICE),
    LinePattern::lit("sed \"r")
        .files(BUILD)
        .regex(r#"sed\s+\\?["']r\\n"#)
        .role(Role::Transform, BYTE_SLICE),
    LinePattern::lit("head -c")
        .files(BUILD)
        .regex(r"\bhead\s+-c\s*\+?\$?\w+")
        .role(Role::Transform, BYTE_SLICE),
    LinePattern::lit("tail -c")
        .files(BUILD)
        .regex(r"\btail\s+-c\s*\+?\$?\w+")
        .role(Role::Transform, BYTE_SLICE),
    LinePattern::lit("xz -")
        .files(BUILD)
        .regex(DECOMPRESSOR)
        .role(Role::Transform, DECOMPRESS),
    LinePattern::lit("lzma -")
        .files(BUILD)
        .regex(DECOMPRESSOR)
        .role(Role::Transform, DECOMPRESS),
    LinePattern::lit("-d 2>")
        .files(BUILD)
        .regex(DECOMPRESSOR)
        .role(Role::Transform, DECOMPRESS),
    LinePattern::lit("| eval")
        .files(BUILD)
        .regex(r"\|\s*eval\b")
        .role(Role::ExecSink, EVAL),
    LinePattern::lit("|eval")
        .files(BUILD)
        .regex(r"\|\s*eval\b")
        .role(Role::ExecSink, EVAL),
];

fn is_step(r: &RoleHit) -> bool {
    matches!(
        (r.role, r.kind),
        (
            Role::Transform,
            TEST_DATA | CHAR_SWAP | BYTE_SLICE | DECOMPRESS
        ) | (Role::ExecSink, EVAL)
    )
}

impl Detector for BuildTestDataPipeline {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        if !file.class.build {
            return;
        }
        let steps: Vec<&RoleHit> = file.roles.iter().filter(|r| is_step(r)).collect();
        let find = |kind: &str| steps.iter().copied().find(|r| r.kind == kind);
        let (eval, data, swap, slice, unpack) = (
            find(EVAL),
            find(TEST_DATA),
            find(CHAR_SWAP),
            find(BYTE_SLICE),
            find(DECOMPRESS),
        );
        let extract = swap.or(slice).or(unpack).or(data);
        let (title, severity, confidence, at) = match (eval, extract) {
            (Some(e), Some(_)) => (
                "Build script pipes extracted repository data into eval",
                Severity::Critical,
                Confidence::High,
                e,
            ),
            (Some(e), None) => (
                "Build script pipes data into eval",
                Severity::High,
                Confidence::Medium,
                e,
            ),
            (None, _) => match (data, swap.or(slice), unpack) {
                (Some(_), Some(s), _) | (None, Some(s), Some(_)) => (
                    "Build script decodes repository data through tr/head/xz",
                    Severity::High,
                    Confidence::High,
                    s,
                ),
                (None, Some(s), None) if s.kind == CHAR_SWAP => (
                    "Build script swaps characters with tr escape sets",
                    Severity::Medium,
                    Confidence::Low,
                    s,
                ),
                _ => return,
            },
        };
        let path = file.path();
        let evidence = steps
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join(" … ");
        let mut b = META
            .finding(Location::line(path, at.line))
            .title(title)
            .severity(severity)
            .confidence(confidence)
            .evidence(evidence);
        for r in steps.iter().filter(|r| r.line != at.line).take(6) {
            b = b.related(Location::line(path, r.line).with_note(r.kind));
        }
        if let Some(l) = file.class.language {
            b = b.language(l);
        }
        out.push(b.build());
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn xz_style_tr_swaps_match_and_ordinary_tr_does_not() {
        let re = Regex::new(TR_SWAP).unwrap();
        assert!(re.is_match(r#"gl_path_map='tr "\t \-_" " \t_\-"'"#));
        assert!(re.is_match(r#"tr "\114-\321\322-\377" "\0-\377""#));
        assert!(!re.is_match("tr a-z A-Z"));
        assert!(!re.is_match(r"tr -d '\n'"));
        assert!(!re.is_match(r"tr '\n' ' '"));
    }

    #[test]
    fn decompressors_named_directly_or_through_a_variable_match() {
        let re = Regex::new(DECOMPRESSOR).unwrap();
        assert!(re.is_match("xz -dc $srcdir/tests/files/x.xz"));
        assert!(re.is_match("$gl_localedir_prefix -d 2>/dev/null"));
        assert!(re.is_match("| $gl_[$1]_prefix -d 2>/dev/null"));
        assert!(!re.is_match("xz --version"));
    }
}
