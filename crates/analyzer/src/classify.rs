//! What kind of file a path is: its language and the roles that change how much a finding in
//! it weighs (build, CI, install, release, tests, docs, generated or vendored code).
//!
//! Classification is by path only, so it is cheap and works for deleted files too.

use serde::{Deserialize, Serialize};

/// Path-derived facts about a file. Several flags can hold at once (a test fixture under a
/// vendored directory, say).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileClass {
    /// Programming language, lower-case (`rust`, `python`, `javascript`, `shell`, …).
    pub language: Option<&'static str>,
    /// Build scripts and build-system input: `build.rs`, Makefiles, autotools, m4, CMake,
    /// meson, setup.py, gradle, bazel.
    pub build: bool,
    /// CI configuration: GitHub Actions workflows and actions, GitLab CI, other CI files.
    pub ci: bool,
    /// Runs at install time: npm lifecycle scripts live in `package.json`, Python `setup.py`,
    /// `install.sh`-like scripts, `.pth` files.
    pub install: bool,
    /// Dependency manifests.
    pub manifest: bool,
    /// Lockfiles.
    pub lockfile: bool,
    /// Tests, test data and fixtures.
    pub test: bool,
    /// Documentation and prose.
    pub docs: bool,
    /// Generated, minified or vendored code, which reviewers tend to skip.
    pub generated: bool,
    /// Release and packaging: release scripts, spec files, `debian/`, publishing config.
    pub release: bool,
    /// Ownership and policy files: CODEOWNERS, SECURITY.md, .gitattributes, MAINTAINERS.
    pub governance: bool,
}

impl FileClass {
    /// A data file under a test directory (`tests/IdnaTestV2.txt`, `testdata/cases.json`):
    /// test vectors that hold odd characters on purpose and that no interpreter runs as code.
    pub fn is_test_data(&self) -> bool {
        self.test && matches!(self.language, None | Some("json" | "toml" | "yaml"))
    }

    /// True for files whose changes run with privileges during build, CI, install or release.
    pub fn is_execution_path(&self) -> bool {
        self.build || self.ci || self.install || self.release
    }

    /// Short names of the set flags, for scopes and reports.
    pub fn roles(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, name) in [
            (self.build, "build"),
            (self.ci, "ci"),
            (self.install, "install"),
            (self.manifest, "manifest"),
            (self.lockfile, "lockfile"),
            (self.test, "test"),
            (self.docs, "docs"),
            (self.generated, "generated"),
            (self.release, "release"),
            (self.governance, "governance"),
        ] {
            if on {
                v.push(name);
            }
        }
        v
    }
}

/// Classify a path (forward slashes; as it appears in the diff).
pub fn classify(path: &str) -> FileClass {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let segments: Vec<&str> = lower.split('/').collect();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));

    let mut c = FileClass {
        language: language_of(name, ext),
        ..FileClass::default()
    };

    c.ci = lower.starts_with(".github/workflows/")
        || (lower.starts_with(".github/actions/") && matches!(name, "action.yml" | "action.yaml"))
        || matches!(name, "action.yml" | "action.yaml")
        || name == ".gitlab-ci.yml"
        || lower.starts_with(".circleci/")
        || lower.starts_with(".buildkite/")
        || name == ".travis.yml"
        || name == "azure-pipelines.yml"
        || name == "jenkinsfile"
        || name == "appveyor.yml"
        || lower.starts_with(".forgejo/workflows/")
        || lower.starts_with(".gitea/workflows/")
        || lower.starts_with(".woodpecker")
        || name == "dependabot.yml";

    c.build = matches!(
        name,
        "build.rs"
            | "makefile"
            | "gnumakefile"
            | "makefile.am"
            | "makefile.in"
            | "configure"
            | "configure.ac"
            | "configure.in"
            | "cmakelists.txt"
            | "meson.build"
            | "meson_options.txt"
            | "setup.py"
            | "setup.cfg"
            | "build.gradle"
            | "build.gradle.kts"
            | "settings.gradle"
            | "pom.xml"
            | "build.xml"
            | "build"
            | "build.bazel"
            | "workspace"
            | "sconstruct"
            | "rakefile"
            | "justfile"
            | "dockerfile"
            | "build.sh"
            | "autogen.sh"
            | "bootstrap.sh"
            | "pyproject.toml"
    ) || matches!(ext, "m4" | "cmake" | "mk" | "bzl" | "gradle" | "am" | "ac")
        || (dirs.first() == Some(&"m4"))
        || (dirs.first() == Some(&"build-aux"));

    c.install = matches!(
        name,
        "package.json"
            | "setup.py"
            | "install.sh"
            | "install.ps1"
            | "postinstall.js"
            | "preinstall.js"
            | "install.js"
    ) || ext == "pth"
        || name.ends_with(".install")
        || (in_dir(&["debian"]) && matches!(name, "postinst" | "preinst" | "postrm" | "prerm"));

    c.manifest = matches!(
        name,
        "cargo.toml"
            | "package.json"
            | "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "go.mod"
            | "gemfile"
            | "composer.json"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "pipfile"
            | "environment.yml"
    ) || (name.starts_with("requirements") && ext == "txt")
        || ext == "gemspec"
        || ext == "csproj";

    c.lockfile = matches!(
        name,
        "cargo.lock"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "bun.lockb"
            | "poetry.lock"
            | "pipfile.lock"
            | "uv.lock"
            | "go.sum"
            | "gemfile.lock"
            | "composer.lock"
            | "packages.lock.json"
    );

    c.test = in_dir(&[
        "test",
        "tests",
        "testdata",
        "test-data",
        "test_data",
        "fixtures",
        "fixture",
        "__tests__",
        "spec",
        "specs",
        "testing",
        "e2e",
    ]) || name.starts_with("test_")
        || name.contains("_test.")
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.contains("_spec.");

    c.docs = matches!(
        ext,
        "md" | "rst" | "adoc" | "txt" | "texi" | "1" | "5" | "8"
    ) && !c.manifest
        && name != "cmakelists.txt"
        || in_dir(&["doc", "docs", "man"]) && c.language.is_none() && !c.build
        || matches!(
            name,
            "readme" | "changelog" | "news" | "authors" | "license" | "copying"
        );

    c.generated = in_dir(&[
        "vendor",
        "vendored",
        "third_party",
        "third-party",
        "node_modules",
        "dist",
        "gen",
        "generated",
    ]) || name.contains(".min.")
        || name.ends_with(".pb.go")
        || name.ends_with("_pb2.py")
        || name.ends_with(".generated.cs")
        || name.ends_with(".bundle.js")
        || name.ends_with(".map")
        // Published npm packages ship their compiled bundle under `build/`, `out/` or
        // `bundle/` (yargs: `build/index.cjs`, one minified line). Only JavaScript there:
        // `build/` also holds hand-written build scripts in other languages.
        || matches!(ext, "js" | "cjs" | "mjs") && in_dir(&["build", "out", "bundle"]);

    c.release = matches!(
        name,
        ".goreleaser.yml"
            | ".goreleaser.yaml"
            | "release.sh"
            | "publish.sh"
            | ".npmrc"
            | ".pypirc"
            | "manifest.in"
    ) || ext == "spec"
        || in_dir(&["debian", "release", "packaging", "dist-info"]);

    c.governance = matches!(
        name,
        "codeowners"
            | "security.md"
            | ".gitattributes"
            | "maintainers"
            | "owners"
            | "governance.md"
            | ".mailmap"
    ) || lower.starts_with(".github/codeowners");

    c
}

fn language_of(name: &str, ext: &str) -> Option<&'static str> {
    let by_ext = match ext {
        "rs" => "rust",
        "py" | "pyi" | "pyw" | "pth" => "python",
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "tsx" | "mts" | "cts" => "typescript",
        "go" => "go",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => "cpp",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "rb" | "gemspec" => "ruby",
        "php" => "php",
        "sh" | "bash" | "zsh" | "ksh" => "shell",
        "ps1" | "psm1" => "powershell",
        "pl" | "pm" => "perl",
        "lua" => "lua",
        "cs" => "csharp",
        "swift" => "swift",
        "m4" | "ac" | "am" => "autotools",
        "cmake" => "cmake",
        "yml" | "yaml" => "yaml",
        "toml" => "toml",
        "json" => "json",
        "html" | "htm" => "html",
        _ => "",
    };
    if !by_ext.is_empty() {
        return Some(by_ext);
    }
    match name {
        "makefile" | "gnumakefile" => Some("make"),
        "cmakelists.txt" => Some("cmake"),
        "configure" => Some("shell"),
        "dockerfile" => Some("dockerfile"),
        "meson.build" => Some("meson"),
        _ => None,
    }
}

/// Languages the classifier knows, so rule packs can name one (`lang:python`).
pub const LANGUAGES: &[&str] = &[
    "rust",
    "python",
    "javascript",
    "typescript",
    "go",
    "c",
    "cpp",
    "java",
    "kotlin",
    "ruby",
    "php",
    "shell",
    "powershell",
    "perl",
    "lua",
    "csharp",
    "swift",
    "autotools",
    "cmake",
    "yaml",
    "toml",
    "json",
    "html",
    "make",
    "dockerfile",
    "meson",
];

/// The static name of a known language.
pub fn intern_language(name: &str) -> Option<&'static str> {
    LANGUAGES.iter().copied().find(|l| *l == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_are_ci() {
        let c = classify(".github/workflows/release.yml");
        assert!(c.ci);
        assert_eq!(c.language, Some("yaml"));
    }

    #[test]
    fn autotools_macros_are_build_files() {
        assert!(classify("m4/build-to-host.m4").build);
        assert!(classify("configure.ac").build);
        assert!(classify("src/CMakeLists.txt").build);
        assert!(!classify("src/CMakeLists.txt").docs);
    }

    #[test]
    fn test_fixtures_are_tests() {
        let c = classify("tests/files/bad-3-corrupt_lzma2.xz");
        assert!(c.test);
        assert!(!c.build);
    }

    #[test]
    fn package_json_is_manifest_and_install() {
        let c = classify("package.json");
        assert!(c.manifest && c.install);
        assert!(classify("Cargo.lock").lockfile);
        assert!(classify("requirements-dev.txt").manifest);
        assert!(!classify("requirements-dev.txt").docs);
    }

    #[test]
    fn minified_and_vendored_files_are_generated() {
        assert!(classify("static/app.min.js").generated);
        assert!(classify("vendor/github.com/x/y.go").generated);
        assert!(!classify("src/vendor.rs").generated);
        assert!(classify("build/index.cjs").generated);
        assert!(classify("packages/cli/out/main.mjs").generated);
        assert!(!classify("build/gen_tables.py").generated);
        assert!(!classify("lib/index.js").generated);
        assert!(classify("tests/IdnaTestV2.txt").is_test_data());
        assert!(classify("testdata/cases.json").is_test_data());
        assert!(!classify("tests/test_idna.py").is_test_data());
    }

    #[test]
    fn readme_is_docs() {
        assert!(classify("README.md").docs);
        assert!(classify("docs/guide.md").docs);
        assert!(!classify("src/main.rs").docs);
    }
}
