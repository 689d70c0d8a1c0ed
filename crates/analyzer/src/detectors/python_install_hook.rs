//! `python-install-hook`: Python code that runs at install or interpreter start-up and reaches
//! the network or a shell.
//!
//! - `setup.py` runs on `pip install` of an sdist. A command override (`cmdclass`, a class
//!   deriving from `install`/`develop`/`egg_info`/`build_py`…) whose code downloads, decodes
//!   or executes is the classic malicious-PyPI dropper; the same calls at module level run too.
//!   Build-tool invocations (`cmake`, `make`, `ninja`, `git`, `pkg-config`, compilers) are the
//!   legitimate reason to run commands there and are not counted.
//! - `.pth` files in site-packages are read at every interpreter start and any line beginning
//!   with `import` is executed: a persistence trick of malicious packages.
//!
//! Both files are rare, so the check gates on the file name and then reads only that file's
//! added lines.

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::inline_data::preview;

#[derive(Debug)]
pub struct PythonInstallHook;

static META: DetectorMeta = DetectorMeta::new(
    "python-install-hook",
    "Python install or start-up hook reaches the network or a shell",
    Severity::High,
    Confidence::High,
    &[Vector::InstallHook],
    &["python"],
    "setup.py runs during `pip install`, and import lines in .pth files run every time Python \
     starts. Code there that downloads, decodes or runs commands executes on users' and CI \
     machines before anyone reviews it — the pattern of many malicious PyPI packages. Check what \
     is fetched or run and why installation needs it.",
);

const OVERRIDE_BASES: &[&str] = &[
    "(install)",
    "(develop)",
    "(egg_info)",
    "(build_py)",
    "(build_ext)",
    "(sdist)",
    "(bdist_wheel)",
    "(_install)",
    "(install.install)",
    "(develop.develop)",
];
const NETWORK: &[&str] = &[
    "urlopen",
    "urllib.request",
    "urlretrieve",
    "requests.get",
    "requests.post",
    "http.client",
    "socket.",
    "httpx.",
    "curl ",
    "wget ",
    "invoke-webrequest",
];
const EXEC: &[&str] = &[
    "os.system(",
    "subprocess.",
    "os.popen(",
    "exec(",
    "eval(",
    "popen(",
    "spawn",
];
const DECODE: &[&str] = &[
    "b64decode",
    "base64",
    "zlib.decompress",
    "fromhex",
    "marshal.loads",
    "codecs.decode",
];
/// Running these from setup.py is what native extensions legitimately do.
const BUILD_TOOLS: &[&str] = &[
    "cmake",
    "'make'",
    "\"make\"",
    "ninja",
    "'git'",
    "\"git\"",
    "pkg-config",
    "gcc",
    "clang",
    "'cc'",
    "\"cc\"",
    "cython",
    "meson",
];

fn has(line: &str, markers: &[&str]) -> bool {
    markers.iter().any(|m| line.contains(m))
}

impl PythonInstallHook {
    fn check_setup_py(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let mut override_line = None;
        let (mut net, mut exec, mut decode) = (None, None, None);
        for (n, raw) in file.file.added_lines() {
            let line = raw.trim();
            // Comments say nothing; imports only name modules, the calls below use them.
            if line.starts_with('#') || line.starts_with("import ") || line.starts_with("from ") {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            if override_line.is_none()
                && (lower.contains("cmdclass")
                    || (line.starts_with("class ") && has(line, OVERRIDE_BASES)))
            {
                override_line = Some((n, line));
            }
            if net.is_none() && has(&lower, NETWORK) {
                net = Some((n, line));
            }
            if exec.is_none() && has(line, EXEC) && !has(&lower, BUILD_TOOLS) {
                exec = Some((n, line));
            }
            if decode.is_none() && has(line, DECODE) {
                decode = Some((n, line));
            }
        }
        let ov = override_line.is_some();
        let (what, at, severity, confidence) = match (net, exec, decode) {
            (Some(at), _, _) => (
                "downloads",
                at,
                if ov {
                    Severity::Critical
                } else {
                    Severity::High
                },
                Confidence::High,
            ),
            (None, Some(at), Some(_)) => (
                "executes decoded data",
                at,
                Severity::Critical,
                Confidence::High,
            ),
            (None, Some(at), None) if ov => {
                ("runs commands", at, Severity::High, Confidence::Medium)
            }
            (None, Some(at), None) => ("runs commands", at, Severity::Medium, Confidence::Low),
            (None, None, _) => return,
        };
        let title = if ov {
            format!("setup.py install command override {what}")
        } else {
            format!("setup.py {what} at install time")
        };
        let path = file.path();
        let mut b = META
            .finding(Location::line(path, at.0))
            .title(title)
            .severity(severity)
            .confidence(confidence)
            .evidence(preview(at.1, 200))
            .language("python");
        if let Some((n, _)) = override_line {
            b = b.related(Location::line(path, n).with_note("install command override"));
        }
        out.push(b.build());
    }

    fn check_pth(&self, file: &FileCtx<'_>, out: &mut Findings) {
        for (n, raw) in file.file.added_lines() {
            if !(raw.starts_with("import ") || raw.starts_with("import\t")) {
                continue;
            }
            let lower = raw.to_ascii_lowercase();
            let strong = has(&lower, NETWORK) || has(raw, EXEC) || has(raw, DECODE);
            let (title, severity, confidence) = if strong {
                (
                    ".pth file runs code at every Python start-up",
                    Severity::Critical,
                    Confidence::High,
                )
            } else {
                (
                    ".pth file imports a module at every Python start-up",
                    Severity::Medium,
                    Confidence::Medium,
                )
            };
            out.push(
                META.finding(Location::line(file.path(), n))
                    .title(title)
                    .severity(severity)
                    .confidence(confidence)
                    .evidence(preview(raw.trim(), 200))
                    .language("python")
                    .build(),
            );
        }
    }
}

impl Detector for PythonInstallHook {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let path = file.path();
        let name = path.rsplit('/').next().unwrap_or(path);
        if name == "setup.py" {
            self.check_setup_py(file, out);
        } else if name.ends_with(".pth") {
            self.check_pth(file, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_tool_calls_are_not_counted_as_exec() {
        let line = "subprocess.check_call(['cmake', ext.sourcedir] + args)";
        assert!(has(line, EXEC) && has(&line.to_ascii_lowercase(), BUILD_TOOLS));
        let bad = "subprocess.Popen(['sh', '-c', cmd])";
        assert!(has(bad, EXEC) && !has(&bad.to_ascii_lowercase(), BUILD_TOOLS));
    }

    #[test]
    fn override_bases_cover_the_usual_commands() {
        assert!(has("class PostInstall(install):", OVERRIDE_BASES));
        assert!(!has("class Config(object):", OVERRIDE_BASES));
    }
}
