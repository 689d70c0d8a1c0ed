//! `privilege-assignment-in-condition`: an assignment to a privilege field inside an `if` or
//! `while` condition (the 2003 Linux `wait4` backdoor attempt:
//! `if ((options == (__WCLONE|__WALL)) && (current->uid = 0))`). The `=` reads like `==` in
//! review, but it *grants* root to the caller whenever the rest of the condition holds.
//!
//! Anchored on `uid`, `admin`, `root =`, `superuser`, `privileged`; a regex confirms an
//! assignment of a privileged constant (`= 0` for ids, `= true`/`= 1` for flags, also Python's
//! `:=`), and a parenthesis walk confirms that the assignment sits inside the condition's
//! parentheses rather than in a one-line body (`if (ok) is_admin = true;` is ordinary code).
//! `if ((uid = getuid()) == 0)` stays quiet: it assigns a call result, not a constant.

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct PrivilegeAssignmentInCondition;

static META: DetectorMeta = DetectorMeta::new(
    "privilege-assignment-in-condition",
    "Privilege field assigned inside a condition",
    Severity::Critical,
    Confidence::High,
    &[Vector::Weakening],
    &[
        "c",
        "cpp",
        "javascript",
        "typescript",
        "java",
        "php",
        "python",
        "csharp",
        "perl",
    ],
    "A condition assigns a privileged value (`uid = 0`, `is_admin = true`) instead of comparing \
     it (`==`). The line reads like a check in review, but whenever the rest of the condition is \
     true it gives the caller root or admin rights. This is exactly the 2003 Linux wait4 \
     backdoor attempt. Replace `=` with `==` and ask why it was written this way.",
);

const FILES: &[FileScope] = &[FileScope::Source];

const UID_RE: &str = r"\b(?:if|while|elif|elsif)\b.*?\b(?:e|s|fs|r)?uid\s*:?=\s*0\b";
const FLAG_RE: &str = r"\b(?:if|while|elif|elsif)\b.*?\b(?i:is_?admin|is_?root|is_?superuser|is_?privileged|admin|superuser|privileged|root)\s*:?=\s*(?:true|True|TRUE|1)\b";

static PATTERNS: &[LinePattern] = &[
    // `uid` alone hits `uuid`, `guid`, `guide`; anchor on the assignment spellings.
    LinePattern::lit("uid =").regex(UID_RE).files(FILES),
    LinePattern::lit("uid=").regex(UID_RE).files(FILES),
    LinePattern::lit("uid :=").regex(UID_RE).files(FILES),
    LinePattern::lit("admin")
        .ignore_case()
        .regex(FLAG_RE)
        .files(FILES),
    LinePattern::lit("root =")
        .ignore_case()
        .regex(FLAG_RE)
        .files(FILES),
    LinePattern::lit("root=")
        .ignore_case()
        .regex(FLAG_RE)
        .files(FILES),
    LinePattern::lit("superuser")
        .ignore_case()
        .regex(FLAG_RE)
        .files(FILES),
    LinePattern::lit("privileged")
        .ignore_case()
        .regex(FLAG_RE)
        .files(FILES),
];

/// Whether the assignment ending the regex match is inside the condition's parentheses: walk
/// from the keyword, and require depth > 0 at the `=`. For Python (`if x := 0:`), which has no
/// parentheses, a walrus before the `:` also counts.
fn inside_condition(matched: &str) -> bool {
    let Some(eq) = matched.rfind('=') else {
        return false;
    };
    let walrus = matched[..eq].ends_with(':');
    let mut depth: i32 = 0;
    let mut opened = false;
    for c in matched[..eq].chars() {
        match c {
            '(' => {
                depth += 1;
                opened = true;
            }
            ')' => {
                depth -= 1;
                // The condition closed before the assignment: it is in the body.
                if opened && depth <= 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth > 0 || (!opened && walrus)
}

impl Detector for PrivilegeAssignmentInCondition {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let matched = hit.matched();
        if !inside_condition(matched) {
            return;
        }
        let trimmed = hit.text.trim_start();
        if trimmed.starts_with("//") || trimmed.starts_with('#') || trimmed.starts_with('*') {
            return;
        }
        let (severity, title) = if hit.pattern <= 2 {
            (Severity::Critical, "User id set to root inside a condition")
        } else {
            (Severity::High, "Privilege flag set inside a condition")
        };
        out.push(
            META.finding(hit.location(file.path()))
                .title(title)
                .severity(severity)
                .evidence(hit.text.trim())
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn fires(re: &str, line: &str) -> bool {
        Regex::new(re)
            .unwrap()
            .find(line)
            .is_some_and(|m| inside_condition(m.as_str()))
    }

    #[test]
    fn the_wait4_line_fires() {
        assert!(fires(
            UID_RE,
            "\tif ((options == (__WCLONE|__WALL)) && (current->uid = 0))"
        ));
        assert!(fires(UID_RE, "if (cred->euid=0) {"));
    }

    #[test]
    fn comparisons_and_call_results_stay_quiet() {
        assert!(!fires(UID_RE, "if (current->uid == 0)"));
        assert!(!fires(UID_RE, "if ((uid = getuid()) == 0)"));
        assert!(!fires(UID_RE, "if (uid >= 0 && uid != 0)"));
        assert!(!fires(UID_RE, "uid = 0;"));
    }

    #[test]
    fn a_flag_set_in_a_one_line_body_is_not_in_the_condition() {
        assert!(!fires(FLAG_RE, "if (ok) is_admin = true;"));
        assert!(fires(FLAG_RE, "if (user.isAdmin = true) {"));
        assert!(fires(FLAG_RE, "if (is_admin := True):"));
        assert!(fires(FLAG_RE, "if is_admin := True:"));
    }
}
