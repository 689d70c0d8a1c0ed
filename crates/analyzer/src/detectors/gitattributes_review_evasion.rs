//! `gitattributes-review-evasion`: `.gitattributes` lines that hide source files from review
//! or from release archives: `-diff` / `binary` (forges show "binary file changed" instead of
//! the diff), `linguist-generated` / `linguist-vendored` / `linguist-documentation` (forges
//! collapse the file in pull requests), `export-ignore` (the file is silently missing from
//! `git archive` tarballs, so a release differs from the tree).
//!
//! The attribute alone is ordinary for images, lockfiles, vendored and generated trees. The
//! line's path pattern is classified with the same path classifier as real files (`*.c` is
//! judged as `x.c`), and only patterns that cover source, build, CI or install files — or
//! everything (`*`) — are reported.

use crate::classify::classify;
use crate::detector::{Detector, DetectorMeta, FileCtx, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct GitattributesReviewEvasion;

static META: DetectorMeta = DetectorMeta::new(
    "gitattributes-review-evasion",
    ".gitattributes hides source files from review or release archives",
    Severity::High,
    Confidence::Medium,
    &[Vector::ReviewEvasion],
    &[],
    "The change adds a .gitattributes rule that makes forges hide or collapse matching source \
     files in pull requests (-diff, binary, linguist-generated, linguist-vendored) or drops them \
     from release archives (export-ignore). Later changes to those files will not show up for \
     review, or the published tarball will differ from the repository. Such rules belong on \
     generated output, images and lockfiles, not on code.",
);

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("linguist-generated"),
    LinePattern::lit("linguist-vendored"),
    LinePattern::lit("linguist-documentation"),
    LinePattern::lit("export-ignore"),
    LinePattern::lit("-diff"),
    LinePattern::lit("binary"),
];

/// Whether a gitattributes path pattern covers code.
fn covers_code(pattern: &str) -> bool {
    let p = pattern.trim_start_matches('/').trim_start_matches("**/");
    if matches!(p, "*" | "**" | "*.*" | "**/*") {
        return true;
    }
    // Judge the glob as a concrete path: `src/**/*.c` → `src/x/x.c`.
    let concrete = p
        .replace("**", "x")
        .replace('*', "x")
        .replace(['?', '[', ']'], "x");
    let concrete = if concrete.ends_with('/') {
        format!("{concrete}x.c")
    } else {
        concrete
    };
    let c = classify(&concrete);
    if c.generated || c.lockfile || c.docs {
        return false;
    }
    let code_lang = c
        .language
        .is_some_and(|l| !matches!(l, "json" | "yaml" | "toml" | "html"));
    code_lang || c.build || c.ci || c.install
}

fn attribute(line: &str) -> Option<(&str, &'static str)> {
    let mut parts = line.split_whitespace();
    let pattern = parts.next()?;
    let attrs: Vec<&str> = parts.collect();
    let which = attrs.iter().find_map(|a| {
        Some(match *a {
            "-diff" | "diff=false" => "-diff",
            "binary" => "binary",
            "linguist-generated" | "linguist-generated=true" => "linguist-generated",
            "linguist-vendored" | "linguist-vendored=true" => "linguist-vendored",
            "linguist-documentation" | "linguist-documentation=true" => "linguist-documentation",
            "export-ignore" => "export-ignore",
            _ => return None,
        })
    })?;
    Some((pattern, which))
}

impl Detector for GitattributesReviewEvasion {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let path = file.path();
        if !(path == ".gitattributes" || path.ends_with("/.gitattributes")) {
            return;
        }
        let t = hit.text.trim();
        if t.starts_with('#') {
            return;
        }
        let Some((pattern, attr)) = attribute(t) else {
            return;
        };
        if !covers_code(pattern) {
            return;
        }
        let (severity, confidence) = match attr {
            "-diff" | "binary" => (Severity::High, Confidence::High),
            "export-ignore" => (Severity::Medium, Confidence::Medium),
            _ => (Severity::Medium, Confidence::High),
        };
        out.push(
            META.finding(hit.location(path))
                .title(format!(".gitattributes marks code as {attr}"))
                .severity(severity)
                .confidence(confidence)
                .evidence(t)
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_globs_cover_code_and_data_globs_do_not() {
        assert!(covers_code("*.c"));
        assert!(covers_code("src/**/*.js"));
        assert!(covers_code("*"));
        assert!(covers_code("m4/*.m4"));
        assert!(!covers_code("*.png"));
        assert!(!covers_code("package-lock.json"));
        assert!(!covers_code("vendor/**"));
        assert!(!covers_code("dist/*.min.js"));
        assert!(!covers_code("docs/**"));
    }

    #[test]
    fn attributes_are_parsed_from_the_line() {
        assert_eq!(attribute("*.c -diff"), Some(("*.c", "-diff")));
        assert_eq!(attribute("*.png binary"), Some(("*.png", "binary")));
        assert_eq!(attribute("*.c text eol=lf"), None);
    }
}
