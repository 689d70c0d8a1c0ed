//! `security-check-removed`: a call that verifies, authenticates or sandboxes is deleted and
//! not re-added anywhere in the same file (signature and certificate checks, authentication,
//! CSRF protection, seccomp/Landlock/pledge sandboxing). Also catches the added opposites:
//! `@csrf_exempt`, `skip_before_action :verify_authenticity_token`.
//!
//! Anchored on removed lines; a regex confirms a *call* or decorator (`verify_signature(`,
//! `@login_required`) rather than a mention. The callee name is then searched in the file's
//! added lines: a call that moved or was re-wrapped is not a removal. The search is bounded by
//! the file's hunks and runs only on a confirmed hit.

use memchr::memmem;

use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern, LineScope};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct SecurityCheckRemoved;

static META: DetectorMeta = DetectorMeta::new(
    "security-check-removed",
    "Security check or sandbox call removed",
    Severity::High,
    Confidence::Medium,
    &[Vector::Weakening],
    &[],
    "The change deletes a call that verifies a signature or certificate, authenticates a user, \
     protects against CSRF or confines the process in a sandbox, and the call does not come \
     back elsewhere in the file. Removing a check is a one-line change that reviewers read as a \
     cleanup, and it is the quietest way to open a hole. Ask what replaces the check.",
);

/// Not tests (their checks are the next detector's business) and not docs.
const CODE: &[FileScope] = &[FileScope::Source, FileScope::ExecutionPath];

/// A call to a verifying function: captures the callee name.
const VERIFY_CALL: &str = r"(?i)\b((?:\w+_)?(?:verify|verification|check_?signature|validate_?signature|check_?sig|check_?cert\w*|verify_?\w+)\w*)\s*[(!]";
const AUTH_CALL: &str = r"(?i)(?:@|\b)((?:\w+_)?(?:authenticate|authorize|login_required|require_?auth\w*|ensure_?authenticated|is_?authenticated|check_?permission\w*|has_?permission)\w*)\b\s*(?:[(:]|$)";
const CSRF: &str = r"(?i)\b(\w*csrf\w*|protect_from_forgery|verify_authenticity_token)\b";
const SANDBOX_CALL: &str = r"\b(seccomp_load|seccomp_init|landlock_restrict_self|landlock_create_ruleset|prctl\s*\(\s*PR_SET_NO_NEW_PRIVS|prctl\s*\(\s*PR_SET_SECCOMP|pledge|unveil|cap_enter|sandbox_init|SetProcessMitigationPolicy|capsicum_\w+)\s*\(";

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("verif")
        .ignore_case()
        .regex(VERIFY_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("signature")
        .ignore_case()
        .regex(VERIFY_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("check_sig")
        .ignore_case()
        .regex(VERIFY_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("authenticat")
        .ignore_case()
        .regex(AUTH_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("login_required")
        .regex(AUTH_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("require_auth")
        .ignore_case()
        .regex(AUTH_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("permission")
        .ignore_case()
        .regex(AUTH_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("csrf")
        .ignore_case()
        .regex(CSRF)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("protect_from_forgery")
        .regex(CSRF)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("seccomp_")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("landlock_")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("PR_SET_")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("pledge(")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("unveil(")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("cap_enter(")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    LinePattern::lit("sandbox_init(")
        .regex(SANDBOX_CALL)
        .lines(LineScope::Removed)
        .files(CODE),
    // Added opposites: exemptions.
    LinePattern::lit("csrf_exempt").files(CODE),
    LinePattern::lit("skip_before_action")
        .regex(r"skip_before_action\s+:verify_authenticity_token")
        .files(CODE),
    LinePattern::lit("WTF_CSRF_ENABLED")
        .regex(r"WTF_CSRF_ENABLED['\x22]?\]?\s*[:=]\s*False")
        .files(CODE),
];

/// Whether `name` occurs on an added line of the file (the call moved or was rewritten).
fn re_added(file: &FileCtx<'_>, name: &str) -> bool {
    let finder = memmem::Finder::new(name.as_bytes());
    file.file.hunks.iter().any(|h| {
        finder.find_iter(h.text.as_bytes()).any(|off| {
            h.line_index_at(off)
                .and_then(|i| h.lines.get(i))
                .is_some_and(|l| l.kind == LineKind::Added)
        })
    })
}

fn family(pattern: usize) -> &'static str {
    match pattern {
        0..=2 => "signature or certificate verification",
        3..=6 => "authentication or authorisation",
        7 | 8 => "CSRF protection",
        9..=15 => "sandboxing",
        _ => "CSRF protection",
    }
}

impl Detector for SecurityCheckRemoved {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let trimmed = hit.text.trim_start();
        if trimmed.starts_with("//")
            || trimmed.starts_with("# ")
            || trimmed.starts_with('*')
            || trimmed.starts_with("/*")
        {
            return;
        }
        let what = family(hit.pattern);
        if hit.line.kind == LineKind::Added {
            out.push(
                META.finding(hit.location(file.path()))
                    .title("CSRF protection switched off")
                    .severity(Severity::High)
                    .confidence(Confidence::Medium)
                    .evidence(hit.text.trim())
                    .build(),
            );
            return;
        }
        // The callee (or decorator) name: the regex match up to its first non-name character.
        let matched = hit.matched().trim_start_matches('@');
        let name: String = matched
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.len() < 4 || re_added(file, &name) {
            return;
        }
        let (severity, confidence) = if what == "sandboxing" {
            (Severity::High, Confidence::High)
        } else {
            (META.severity, META.confidence)
        };
        out.push(
            META.finding(hit.location(file.path()))
                .title(format!("Removed {what} ({name})"))
                .severity(severity)
                .confidence(confidence)
                .evidence(format!("- {}", hit.text.trim()))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn name(re: &str, line: &str) -> Option<String> {
        Regex::new(re)
            .unwrap()
            .captures(line)
            .map(|c| c[1].to_string())
    }

    #[test]
    fn calls_are_named_but_mentions_are_not() {
        assert_eq!(
            name(VERIFY_CALL, "    if !verify_signature(&pkg, &key) {").as_deref(),
            Some("verify_signature")
        );
        assert_eq!(name(VERIFY_CALL, "// we verify below"), None);
        assert_eq!(
            name(AUTH_CALL, "@login_required").as_deref(),
            Some("login_required")
        );
        assert_eq!(
            name(SANDBOX_CALL, "  if (landlock_restrict_self(fd, 0))").as_deref(),
            Some("landlock_restrict_self")
        );
    }
}
