//! Shared reading of dependency manifests for the `dep-*` detectors (not a detector itself).
//!
//! **Model.** Each supported manifest (`Cargo.toml`, `package.json`, `requirements*.txt`,
//! `pyproject.toml`, `go.mod`) is read by a small line-oriented state machine that knows the
//! file's structure: which TOML table or JSON object a line is in, whether it is inside a
//! `require (` block or a multi-line array. Fed the full contents it is exact for the files
//! real projects write; fed a hunk it starts in an *unknown* section and accepts only lines
//! whose shape is unambiguous (a version-looking value under a key that is not a well-known
//! package field). [`diff`] compares the dependency sets of the old and new sides and returns
//! the added dependencies with their sources.

use std::collections::HashSet;

use crate::change::{FileChange, LineKind};

/// Which package registry the manifest belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    Cargo,
    Npm,
    PyPi,
    Go,
}

impl Ecosystem {
    pub fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        Some(match name.as_str() {
            "cargo.toml" => Ecosystem::Cargo,
            "package.json" => Ecosystem::Npm,
            "pyproject.toml" => Ecosystem::PyPi,
            "go.mod" => Ecosystem::Go,
            n if n.starts_with("requirements") && n.ends_with(".txt") => Ecosystem::PyPi,
            _ => return None,
        })
    }

    pub fn registry(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPi => "PyPI",
            Ecosystem::Go => "the Go module proxy",
        }
    }

    /// The form under which the registry considers two names the same package.
    pub fn normalize(self, name: &str) -> String {
        let lower = name.to_ascii_lowercase();
        match self {
            Ecosystem::Cargo => lower.replace('-', "_"),
            Ecosystem::PyPi => {
                // PEP 503: runs of `-`, `_`, `.` are one `-`.
                let mut out = String::with_capacity(lower.len());
                for c in lower.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !out.ends_with('-') {
                            out.push('-');
                        }
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            Ecosystem::Npm | Ecosystem::Go => lower,
        }
    }
}

/// Where a dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Registry,
    /// A git repository URL.
    Git(String),
    /// A direct download URL (tarball, wheel).
    Url(String),
    /// A local path.
    Path(String),
    /// An extra package index (`--extra-index-url`, a custom Cargo registry).
    Index(String),
    /// A go.mod `replace` or Cargo `[patch]` pointing a module elsewhere.
    Replace(String),
}

/// One dependency declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// The name the manifest uses.
    pub name: String,
    /// The name looked up in the registry (differs for renames: Cargo `package =`, npm
    /// `npm:` aliases).
    pub registry_name: String,
    pub source: Source,
    /// Line number on its side (new for added, old for removed).
    pub line: u32,
    pub text: String,
    /// Declared in an override (`replace`, `[patch]`, `[tool.uv.sources]`): it changes where
    /// an existing dependency comes from rather than adding one.
    pub overrides: bool,
    /// Declared in pyproject's `[build-system] requires`: a tool needed to build the sdist
    /// or wheel (hatchling, setuptools-scm), not a dependency of the installed package.
    pub build_only: bool,
}

/// What a manifest change did to dependencies.
#[derive(Debug, Clone)]
pub struct ManifestDiff {
    pub ecosystem: Ecosystem,
    /// Declarations on added lines (new ones and changed ones).
    pub added_lines: Vec<Dep>,
    /// Normalized names declared before the change (from `before`) or on removed lines.
    pub removed_names: HashSet<String>,
}

impl ManifestDiff {
    /// Added declarations whose name was not declared before: new dependencies.
    pub fn new_deps(&self) -> impl Iterator<Item = &Dep> {
        let mut seen = HashSet::new();
        self.added_lines.iter().filter(move |d| {
            let n = self.ecosystem.normalize(&d.name);
            !d.overrides
                && !matches!(d.source, Source::Index(_) | Source::Replace(_))
                && !self.removed_names.contains(&n)
                && seen.insert(n)
        })
    }
}

/// Parse a manifest change. `None` when the file is not a supported manifest.
pub fn diff(file: &FileChange) -> Option<ManifestDiff> {
    let eco = Ecosystem::of(file.path())?;
    let fmt = Format::of(file.path())?;
    let after = file
        .after
        .as_deref()
        .and_then(|b| std::str::from_utf8(b).ok());
    let before = file
        .before
        .as_deref()
        .and_then(|b| std::str::from_utf8(b).ok());

    // Read from the hunks, declarations come from wanted (added or removed) lines only, so
    // they need no filtering by line number; read from full contents, they do.
    let added_lines: Vec<Dep> = match after {
        Some(text) => {
            let added_nos: HashSet<u32> = file.added_lines().map(|(n, _)| n).collect();
            from_text(fmt, text)
                .into_iter()
                .filter(|d| added_nos.contains(&d.line))
                .collect()
        }
        None => from_hunks(file, fmt, Side::New),
    };
    let removed_names = match before {
        Some(text) => from_text(fmt, text),
        None => from_hunks(file, fmt, Side::Old),
    }
    .into_iter()
    .map(|d| eco.normalize(&d.name))
    .collect();
    Some(ManifestDiff {
        ecosystem: eco,
        added_lines,
        removed_names,
    })
}

/// Which side of a diff to read declarations from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The new file: context and added lines, the added ones wanted.
    New,
    /// The old file: context and removed lines, the removed ones wanted.
    Old,
}

/// Every declaration in a whole file's text (each line wanted).
fn from_text(fmt: Format, text: &str) -> Vec<Dep> {
    parse_lines(
        fmt,
        true,
        text.lines().enumerate().map(|(i, t)| (line_no(i), t, true)),
    )
}

/// The declarations on one side of the file's hunks, when its full contents are unknown.
fn from_hunks(file: &FileChange, fmt: Format, side: Side) -> Vec<Dep> {
    let (other, wanted) = match side {
        Side::New => (LineKind::Removed, LineKind::Added),
        Side::Old => (LineKind::Added, LineKind::Removed),
    };
    file.hunks
        .iter()
        .flat_map(|h| {
            let lines = h.lines.iter().filter(|l| l.kind != other).map(|l| {
                let no = match side {
                    Side::New => l.new_line,
                    Side::Old => l.old_line,
                };
                (no.unwrap_or(0), h.line_text(l), l.kind == wanted)
            });
            let from_start = match side {
                Side::New => h.new_start,
                Side::Old => h.old_start,
            } <= 1;
            parse_lines(fmt, from_start, lines)
        })
        .collect()
}

fn line_no(i: usize) -> u32 {
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

/// The file formats read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CargoToml,
    PackageJson,
    Requirements,
    Pyproject,
    GoMod,
}

impl Format {
    pub fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        Some(match name.as_str() {
            "cargo.toml" => Format::CargoToml,
            "package.json" => Format::PackageJson,
            "pyproject.toml" => Format::Pyproject,
            "go.mod" => Format::GoMod,
            n if n.starts_with("requirements") && n.ends_with(".txt") => Format::Requirements,
            _ => return None,
        })
    }
}

/// Parse a run of consecutive lines `(number, text, wanted)`; declarations are returned for
/// wanted lines only, the others only move the state. `from_start` says the run begins at the
/// top of the file, so the parser knows where it is instead of guessing.
pub fn parse_lines<'a>(
    fmt: Format,
    from_start: bool,
    lines: impl Iterator<Item = (u32, &'a str, bool)>,
) -> Vec<Dep> {
    let mut out = Vec::new();
    let mut push = |no: u32,
                    text: &str,
                    (name, registry_name, source): (String, String, Source),
                    overrides: bool,
                    build_only: bool| {
        out.push(Dep {
            name,
            registry_name,
            source,
            line: no,
            text: text.trim().to_string(),
            overrides,
            build_only,
        });
    };
    match fmt {
        Format::CargoToml | Format::Pyproject => {
            let mut st = TomlState::default();
            if from_start {
                st.section = Section::Other;
            }
            for (no, text, wanted) in lines {
                let found = if fmt == Format::CargoToml {
                    st.cargo(text)
                } else {
                    st.pyproject(text)
                };
                let overrides = st.section == Section::Override;
                if wanted {
                    for f in found {
                        push(no, text, f, overrides, st.build_requires);
                    }
                }
            }
        }
        Format::PackageJson => {
            let mut st = JsonState {
                exact: from_start,
                ..JsonState::default()
            };
            for (no, text, wanted) in lines {
                if let Some((name, spec)) = st.feed(text)
                    && wanted
                {
                    push(no, text, npm_dep(name, spec), false, false);
                }
            }
        }
        Format::Requirements => {
            for (no, text, wanted) in lines {
                if let Some((name, source)) = requirement_line(text).filter(|_| wanted) {
                    push(no, text, (name.clone(), name, source), false, false);
                }
            }
        }
        Format::GoMod => {
            let mut block = if from_start {
                GoBlock::Top
            } else {
                GoBlock::Unknown
            };
            for (no, text, wanted) in lines {
                if let Some((name, source)) = go_line(&mut block, text).filter(|_| wanted) {
                    let overrides = text.contains("=>");
                    push(no, text, (name.clone(), name, source), overrides, false);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// TOML manifests (Cargo.toml, pyproject.toml)

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Section {
    /// Start of a hunk: the table is not in view.
    #[default]
    Unknown,
    /// A table whose entries are `name = spec` dependencies.
    DepTable,
    /// `[dependencies.foo]`: keys describe one dependency.
    DepEntry(String),
    /// `[patch.*]`, `[replace]`, `[tool.uv.sources]`: entries override where a package comes from.
    Override,
    /// `[project]`, `[build-system]`, `[dependency-groups]`, `[project.optional-dependencies]`:
    /// arrays of PEP 508 strings.
    Pep508Arrays,
    /// Package indexes (`[[tool.poetry.source]]`, `[[tool.uv.index]]`, `[registries]`).
    Index,
    Other,
}

#[derive(Debug, Default)]
struct TomlState {
    section: Section,
    /// Inside a multi-line array of PEP 508 strings.
    in_array: bool,
    /// The current table header (`project`, `build-system`, …); empty before one is seen.
    table: String,
    /// The strings being read are `[build-system] requires`.
    build_requires: bool,
}

type Found = Vec<(String, String, Source)>;

/// Keys of `[package]`/`[project]`/`[workspace]` that look like `name = "…"` entries but are
/// not dependencies; used only when the table is not in view.
const PACKAGE_KEYS: &[&str] = &[
    "name",
    "version",
    "edition",
    "authors",
    "description",
    "license",
    "license-file",
    "repository",
    "homepage",
    "documentation",
    "readme",
    "keywords",
    "categories",
    "rust-version",
    "publish",
    "build",
    "links",
    "exclude",
    "include",
    "resolver",
    "members",
    "default-members",
    "default-run",
    "workspace",
    "requires-python",
    "python",
    "packages",
    "scripts",
    "classifiers",
    "dynamic",
    "urls",
    "maintainers",
    "opt-level",
    "debug",
    "lto",
    "codegen-units",
    "panic",
    "strip",
    "incremental",
    "autobins",
    "autoexamples",
    "autotests",
    "autobenches",
    "metadata",
    "requires",
    "build-backend",
    "path",
    "harness",
    "test",
    "bench",
    "doc",
    "plugin",
    "proc-macro",
    "crate-type",
    "required-features",
    "features",
    "default",
    "target-dir",
];

fn table_name(line: &str) -> Option<String> {
    let t = line.trim();
    let t = t
        .strip_prefix("[[")
        .and_then(|s| s.strip_suffix("]]"))
        .or_else(|| t.strip_prefix('[').and_then(|s| s.strip_suffix(']')))?;
    Some(t.trim().to_string())
}

fn cargo_section(name: &str) -> Section {
    let dep_kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    let parts: Vec<&str> = split_dotted(name);
    if let Some(last) = parts.last()
        && dep_kinds.contains(last)
    {
        return Section::DepTable;
    }
    if parts.len() >= 2
        && let Some(kind) = parts.get(parts.len() - 2)
        && dep_kinds.contains(kind)
    {
        return Section::DepEntry(parts[parts.len() - 1].trim_matches('"').to_string());
    }
    if parts.first() == Some(&"patch") || parts.first() == Some(&"replace") {
        return Section::Override;
    }
    if parts.first() == Some(&"registries") || parts.first() == Some(&"source") {
        return Section::Index;
    }
    Section::Other
}

/// Split a dotted TOML key, keeping quoted parts (`target.'cfg(unix)'.dependencies`) whole.
fn split_dotted(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    for (i, c) in name.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '.') => {
                out.push(name[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(name[start..].trim());
    out
}

fn pyproject_section(name: &str) -> Section {
    match name {
        "project" | "build-system" | "dependency-groups" | "project.optional-dependencies" => {
            Section::Pep508Arrays
        }
        "tool.uv.sources" => Section::Override,
        "tool.poetry.source" | "tool.uv.index" | "tool.pdm.source" => Section::Index,
        n if n.starts_with("tool.poetry.") && n.ends_with("dependencies") => Section::DepTable,
        _ => Section::Other,
    }
}

/// `key = value` split, with the key unquoted. Values keep their text.
fn toml_kv(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if t.starts_with('#') || t.starts_with('[') {
        return None;
    }
    let (k, v) = if let Some(rest) = t.strip_prefix('"') {
        let end = rest.find('"')?;
        let after = rest[end + 1..].trim_start().strip_prefix('=')?;
        (&rest[..end], after)
    } else {
        let (k, v) = t.split_once('=')?;
        (k.trim(), v)
    };
    let v = v.trim();
    let v = strip_toml_comment(v);
    (!k.is_empty()).then_some((k, v))
}

fn strip_toml_comment(v: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in v.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => return v[..i].trim_end(),
            _ => {}
        }
    }
    v
}

/// The string value of `key` in an inline table `{ a = "x", key = "y" }`.
fn inline_str<'v>(table: &'v str, key: &str) -> Option<&'v str> {
    let inner = table
        .trim()
        .strip_prefix('{')?
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(table);
    let mut rest = inner;
    loop {
        let (k, after) = rest.split_once('=')?;
        let k = k.trim().trim_start_matches(',').trim().trim_matches('"');
        let after = after.trim_start();
        let (val, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (Some(&q[..end]), &q[end + 1..])
        } else if let Some(q) = after.strip_prefix('\'') {
            let end = q.find('\'')?;
            (Some(&q[..end]), &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (None, &after[end..])
        };
        if k == key {
            return val;
        }
        rest = tail;
    }
}

fn unquote(v: &str) -> Option<&str> {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
}

fn looks_like_version(v: &str) -> bool {
    v.is_empty()
        || v == "*"
        || v.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '^' | '~' | '=' | '<' | '>'))
}

/// A Cargo/Poetry dependency value: `"1.0"` or an inline table.
fn toml_dep_value(name: &str, v: &str) -> Option<(String, String, Source)> {
    if let Some(s) = unquote(v) {
        return looks_like_version(s)
            .then(|| (name.to_string(), name.to_string(), Source::Registry));
    }
    if !v.starts_with('{') {
        return None;
    }
    let reg = inline_str(v, "package").unwrap_or(name).to_string();
    let source = if let Some(g) = inline_str(v, "git") {
        Source::Git(g.to_string())
    } else if let Some(u) = inline_str(v, "url") {
        Source::Url(u.to_string())
    } else if let Some(p) = inline_str(v, "path") {
        Source::Path(p.to_string())
    } else if let Some(r) = inline_str(v, "registry").or_else(|| inline_str(v, "registry-index")) {
        Source::Index(r.to_string())
    } else if v.contains("workspace") && v.contains("true")
        || inline_str(v, "version").is_some()
        || v.contains("features")
    {
        Source::Registry
    } else {
        return None;
    };
    Some((name.to_string(), reg, source))
}

impl TomlState {
    fn cargo(&mut self, line: &str) -> Found {
        if let Some(t) = table_name(line) {
            self.section = cargo_section(&t);
            return match &self.section {
                Section::DepEntry(n) => vec![(n.clone(), n.clone(), Source::Registry)],
                _ => vec![],
            };
        }
        let Some((k, v)) = toml_kv(line) else {
            return vec![];
        };
        match self.section.clone() {
            Section::DepTable => {
                // `foo.workspace = true`, `foo.version = "1"`, `foo.git = "…"`.
                if let Some((name, field)) = k.split_once('.') {
                    return dotted_field(name.trim_matches('"'), field, v);
                }
                toml_dep_value(k, v).into_iter().collect()
            }
            Section::DepEntry(name) => dotted_field(&name, k, v),
            Section::Override => toml_dep_value(k, v)
                .map(|(n, r, s)| match s {
                    Source::Registry => (n, r, Source::Replace(v.to_string())),
                    other => (n, r, other),
                })
                .into_iter()
                .collect(),
            Section::Index => match (k, unquote(v)) {
                ("index" | "url" | "registry", Some(u)) => {
                    vec![(k.to_string(), k.to_string(), Source::Index(u.to_string()))]
                }
                _ => vec![],
            },
            Section::Unknown => {
                if PACKAGE_KEYS.contains(&k) || k.contains('.') {
                    return vec![];
                }
                toml_dep_value(k, v).into_iter().collect()
            }
            _ => vec![],
        }
    }

    fn pyproject(&mut self, line: &str) -> Found {
        if !self.in_array
            && let Some(t) = table_name(line)
        {
            self.section = pyproject_section(&t);
            self.table = t;
            self.build_requires = false;
            return vec![];
        }
        let t = line.trim();
        if self.in_array {
            if t.starts_with(']') {
                self.in_array = false;
            }
            return quoted_strings(t).filter_map(pep508).collect();
        }
        self.build_requires = false;
        let Some((k, v)) = toml_kv(line) else {
            // A bare `"requests>=2",` line of an array we entered before the hunk.
            if self.section == Section::Unknown && t.starts_with('"') {
                return quoted_strings(t).filter_map(pep508).collect();
            }
            return vec![];
        };
        match self.section {
            Section::Pep508Arrays | Section::Unknown if v.starts_with('[') => {
                // Only the dependency arrays hold requirements: `[project]` also has
                // `authors`, `maintainers`, `classifiers` and `keywords` arrays whose strings
                // (`"Programming Language :: Python"`, `{name = …, email = …}`) are not.
                let in_scope = match (&self.section, self.table.as_str()) {
                    (Section::Pep508Arrays, "project") => k == "dependencies",
                    (Section::Pep508Arrays, "build-system") => k == "requires",
                    (Section::Pep508Arrays, _) => true,
                    _ => matches!(
                        k,
                        "dependencies" | "requires" | "dev" | "test" | "optional-dependencies"
                    ),
                };
                self.build_requires = in_scope && k == "requires";
                if !v.contains(']') {
                    self.in_array = in_scope;
                }
                if !in_scope {
                    return vec![];
                }
                quoted_strings(v).filter_map(pep508).collect()
            }
            Section::DepTable if k != "python" => toml_dep_value(k, v).into_iter().collect(),
            Section::Override => toml_dep_value(k, v).into_iter().collect(),
            Section::Index if k == "url" => unquote(v)
                .map(|u| vec![("index".into(), "index".into(), Source::Index(u.to_string()))])
                .unwrap_or_default(),
            Section::Unknown if !PACKAGE_KEYS.contains(&k) && k != "python" => {
                toml_dep_value(k, v).into_iter().collect()
            }
            _ => vec![],
        }
    }
}

fn dotted_field(name: &str, field: &str, v: &str) -> Found {
    let val = unquote(v).unwrap_or(v).to_string();
    let source = match field.trim() {
        "git" => Source::Git(val),
        "path" => Source::Path(val),
        "registry" | "registry-index" => Source::Index(val),
        "version" | "workspace" => Source::Registry,
        "package" => return vec![(name.to_string(), val, Source::Registry)],
        _ => return vec![],
    };
    vec![(name.to_string(), name.to_string(), source)]
}

fn quoted_strings(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let start = rest.find(['"', '\''])?;
        let q = rest[start..].chars().next()?;
        let body = &rest[start + 1..];
        let end = body.find(q)?;
        let item = &body[..end];
        rest = &body[end + 1..];
        Some(item)
    })
}

/// A PEP 508 requirement string: `name[extras] (>=1) ; marker` or `name @ url`.
fn pep508(s: &str) -> Option<(String, String, Source)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(s.len());
    let name = &s[..end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let rest = s[end..].trim_start();
    let rest = if rest.starts_with('[') {
        rest.split_once(']')
            .map(|(_, r)| r.trim_start())
            .unwrap_or("")
    } else {
        rest
    };
    // After the name only a version specifier, a marker or a URL may follow; anything else
    // is prose (a trove classifier `Programming Language :: Python`, an e-mail address).
    if !(rest.is_empty() || rest.starts_with(['<', '>', '=', '!', '~', '(', ';', ',', '@'])) {
        return None;
    }
    let source = match rest.strip_prefix('@') {
        Some(url) if !url.contains(':') => return None,
        Some(url) => url_source(url.split(';').next().unwrap_or("").trim()),
        None => Source::Registry,
    };
    Some((name.to_string(), name.to_string(), source))
}

fn url_source(url: &str) -> Source {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("git+")
        || lower.starts_with("git://")
        || lower.starts_with("git@")
        || lower.ends_with(".git")
    {
        Source::Git(url.to_string())
    } else if lower.starts_with("file:")
        || lower.starts_with("./")
        || lower.starts_with("../")
        || lower.starts_with('/')
    {
        Source::Path(url.to_string())
    } else {
        Source::Url(url.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// requirements*.txt

fn requirement_line(line: &str) -> Option<(String, Source)> {
    let t = line.split(" #").next().unwrap_or(line).trim();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    for opt in [
        "--extra-index-url",
        "--index-url",
        "-i ",
        "--find-links",
        "-f ",
    ] {
        if let Some(rest) = t.strip_prefix(opt) {
            let url = rest.trim_start_matches('=').trim();
            return Some((opt.trim().to_string(), Source::Index(url.to_string())));
        }
    }
    if t.starts_with("-r")
        || t.starts_with("-c")
        || t.starts_with("--requirement")
        || t.starts_with("--constraint")
    {
        return None;
    }
    let editable = t
        .strip_prefix("-e")
        .or_else(|| t.strip_prefix("--editable"))
        .map(|r| r.trim_start_matches('=').trim());
    let spec = editable.unwrap_or(t);
    let lower = spec.to_ascii_lowercase();
    if lower.contains("://")
        || lower.starts_with("git+")
        || lower.starts_with('.')
        || lower.starts_with('/')
        || lower.starts_with("file:")
    {
        let name = spec
            .split("#egg=")
            .nth(1)
            .map(|e| e.split(['&', ' ']).next().unwrap_or(e).to_string())
            .unwrap_or_else(|| {
                spec.rsplit('/')
                    .next()
                    .unwrap_or(spec)
                    .trim_end_matches(".git")
                    .to_string()
            });
        return Some((name, url_source(spec)));
    }
    pep508(spec).map(|(n, _, s)| (n, s))
}

// ---------------------------------------------------------------------------------------
// package.json

#[derive(Debug, Default)]
struct JsonState {
    depth: i32,
    /// Depth of the dependency object we are in, when any.
    deps_depth: Option<i32>,
    /// The run started at the top of the file: no guessing.
    exact: bool,
}

const DEP_OBJECTS: &[&str] = &[
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
    "overrides",
    "resolutions",
];

/// Top-level package.json fields and nested keys whose values look like specs but are not
/// dependencies; used when the enclosing object is not in view.
const JSON_NON_DEPS: &[&str] = &[
    "name",
    "version",
    "description",
    "main",
    "module",
    "types",
    "typings",
    "license",
    "homepage",
    "author",
    "node",
    "npm",
    "yarn",
    "pnpm",
    "packageManager",
    "type",
    "browser",
    "bin",
    "private",
    "url",
    "email",
    "directory",
    "exports",
    "import",
    "require",
    "default",
];

impl JsonState {
    /// Move the state past `line`; a dependency declared on it as `(name, spec)`.
    fn feed<'l>(&mut self, line: &'l str) -> Option<(&'l str, &'l str)> {
        let t = line.trim();
        let before = self.depth;
        let (opens, closes) = brace_counts(t);
        self.depth += opens - closes;
        let key_val = json_kv(t);
        if let Some((k, v)) = key_val
            && v.starts_with('{')
            && DEP_OBJECTS.contains(&k)
        {
            self.deps_depth = Some(before + 1);
            return None;
        }
        if let Some(d) = self.deps_depth
            && self.depth < d
        {
            self.deps_depth = None;
            return None;
        }
        let (k, v) = key_val?;
        let spec = v.trim_end_matches(',').trim();
        let spec = spec.strip_prefix('"')?.strip_suffix('"')?;
        let in_deps = self.deps_depth.is_some_and(|d| before == d);
        let guess = self.deps_depth.is_none()
            && !self.exact
            && self.depth == before
            && !JSON_NON_DEPS.contains(&k);
        if !(in_deps || guess && looks_like_npm_spec(spec)) {
            return None;
        }
        Some((k, spec))
    }
}

/// Braces outside strings. Bytewise: every byte that matters is ASCII, and an escaped
/// multi-byte character ends the escape at its lead byte as its `char` would.
fn brace_counts(t: &str) -> (i32, i32) {
    // Most lines of a manifest have no brace at all; memchr settles those.
    if memchr::memchr2(b'{', b'}', t.as_bytes()).is_none() {
        return (0, 0);
    }
    let mut in_str = false;
    let mut esc = false;
    let (mut o, mut c) = (0, 0);
    for &b in t.as_bytes() {
        if in_str {
            match b {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => o += 1,
            b'}' => c += 1,
            _ => {}
        }
    }
    (o, c)
}

fn json_kv(t: &str) -> Option<(&str, &str)> {
    let rest = t.strip_prefix('"')?;
    let end = rest.find('"')?;
    let v = rest[end + 1..].trim_start().strip_prefix(':')?.trim();
    Some((&rest[..end], v))
}

fn looks_like_npm_spec(s: &str) -> bool {
    looks_like_version(s)
        || s.eq_ignore_ascii_case("latest")
        || s.eq_ignore_ascii_case("next")
        || [
            "git+",
            "git://",
            "github:",
            "gitlab:",
            "bitbucket:",
            "http://",
            "https://",
            "file:",
            "link:",
            "npm:",
            "workspace:",
        ]
        .iter()
        .any(|p| starts_with_ignore_ascii_case(s, p))
        || (s.contains('/') && !s.contains(' ') && !s.contains('.') && s.split('/').count() == 2)
}

/// Whether `s` starts with `prefix`, ASCII letters compared case-insensitively.
fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn npm_dep(name: &str, spec: &str) -> (String, String, Source) {
    let lower = spec.to_ascii_lowercase();
    let source = if ["git+", "git://", "git@", "github:", "gitlab:", "bitbucket:"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        Source::Git(spec.to_string())
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        Source::Url(spec.to_string())
    } else if lower.starts_with("file:")
        || lower.starts_with("link:")
        || lower.starts_with("workspace:")
        || lower.starts_with('.')
        || lower.starts_with('/')
    {
        Source::Path(spec.to_string())
    } else if spec.contains('/')
        && !spec.starts_with('@')
        && !lower.starts_with("npm:")
        && !looks_like_version(spec)
    {
        // `owner/repo` is GitHub shorthand.
        Source::Git(spec.to_string())
    } else {
        Source::Registry
    };
    let registry_name = lower
        .strip_prefix("npm:")
        .map(|a| {
            let a = &spec[4..4 + a.len()];
            // `npm:name@version`, scoped names start with '@'.
            match a[1..].find('@') {
                Some(i) => a[..i + 1].to_string(),
                None => a.to_string(),
            }
        })
        .unwrap_or_else(|| name.to_string());
    (name.to_string(), registry_name, source)
}

// ---------------------------------------------------------------------------------------
// go.mod

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoBlock {
    Unknown,
    Require,
    Replace,
    Other,
    Top,
}

fn go_line(block: &mut GoBlock, line: &str) -> Option<(String, Source)> {
    let t = line.split("//").next().unwrap_or("").trim();
    if t.is_empty() {
        return None;
    }
    if t == ")" {
        *block = GoBlock::Top;
        return None;
    }
    let mut words = t.split_whitespace();
    let first = words.next()?;
    let (kind, rest) = match first {
        "require" | "replace" | "exclude" | "retract" | "module" | "go" | "toolchain"
        | "godebug" | "tool" => {
            let rest: Vec<&str> = words.collect();
            if rest.first() == Some(&"(") {
                *block = match first {
                    "require" => GoBlock::Require,
                    "replace" => GoBlock::Replace,
                    _ => GoBlock::Other,
                };
                return None;
            }
            (
                match first {
                    "require" => GoBlock::Require,
                    "replace" => GoBlock::Replace,
                    _ => return None,
                },
                rest,
            )
        }
        _ => (*block, t.split_whitespace().collect()),
    };
    match kind {
        GoBlock::Replace => replace_entry(&rest),
        GoBlock::Require => require_entry(&rest),
        GoBlock::Unknown => {
            if rest.contains(&"=>") {
                replace_entry(&rest)
            } else {
                require_entry(&rest)
            }
        }
        _ => None,
    }
}

fn require_entry(words: &[&str]) -> Option<(String, Source)> {
    match words {
        [m, v, ..]
            if m.contains('.')
                && v.starts_with('v')
                && v[1..].starts_with(|c: char| c.is_ascii_digit()) =>
        {
            Some((m.to_string(), Source::Registry))
        }
        _ => None,
    }
}

fn replace_entry(words: &[&str]) -> Option<(String, Source)> {
    let arrow = words.iter().position(|w| *w == "=>")?;
    let from = words.first()?;
    let to = words.get(arrow + 1)?;
    let source = if to.starts_with("./") || to.starts_with("../") || to.starts_with('/') {
        Source::Path(to.to_string())
    } else {
        Source::Replace(words[arrow + 1..].join(" "))
    };
    Some((from.to_string(), source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(fmt: Format, text: &str) -> Vec<(String, Source)> {
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, t)| (i as u32 + 1, t, true));
        parse_lines(fmt, true, lines)
            .into_iter()
            .map(|d| (d.registry_name, d.source))
            .collect()
    }

    #[test]
    fn a_hunk_without_its_table_still_yields_version_like_entries() {
        let lines = "tokio = \"1\"\nedition = \"2021\"\nfoo = { path = \"../foo\" }\n";
        let got: Vec<_> = parse_lines(
            Format::CargoToml,
            false,
            lines.lines().map(|t| (1, t, true)),
        )
        .into_iter()
        .map(|d| d.name)
        .collect();
        assert_eq!(got, vec!["tokio", "foo"]);
    }

    #[test]
    fn cargo_tables_inline_tables_and_dotted_keys_are_read() {
        let text = "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[dependencies]\nserde = \"1\"\nevil = { git = \"https://example.invalid/e.git\" }\nren = { version = \"1\", package = \"real-name\" }\nws.workspace = true\n\n[dependencies.tbl]\npath = \"../tbl\"\n";
        let got = parse(Format::CargoToml, text);
        assert!(got.contains(&("serde".into(), Source::Registry)));
        assert!(got.contains(&(
            "evil".into(),
            Source::Git("https://example.invalid/e.git".into())
        )));
        assert!(got.contains(&("real-name".into(), Source::Registry)));
        assert!(got.contains(&("tbl".into(), Source::Path("../tbl".into()))));
        assert!(!got.iter().any(|(n, _)| n == "name" || n == "version"));
    }

    #[test]
    fn package_json_dependencies_are_read_but_scripts_are_not() {
        let text = "{\n  \"name\": \"x\",\n  \"version\": \"1.0.0\",\n  \"scripts\": {\n    \"test\": \"jest\"\n  },\n  \"dependencies\": {\n    \"left-pad\": \"^1.3.0\",\n    \"fork\": \"git+https://example.invalid/f.git\",\n    \"al\": \"npm:real@1.0.0\"\n  },\n  \"engines\": { \"node\": \">=18\" }\n}\n";
        let got = parse(Format::PackageJson, text);
        assert_eq!(
            got,
            vec![
                ("left-pad".into(), Source::Registry),
                (
                    "fork".into(),
                    Source::Git("git+https://example.invalid/f.git".into())
                ),
                ("real".into(), Source::Registry),
            ]
        );
    }

    #[test]
    fn requirement_lines_cover_editable_git_and_indexes() {
        assert_eq!(
            requirement_line("requests>=2.31 ; python_version > '3.8'"),
            Some(("requests".into(), Source::Registry))
        );
        assert_eq!(
            requirement_line("-e git+https://example.invalid/x.git#egg=xpkg"),
            Some((
                "xpkg".into(),
                Source::Git("git+https://example.invalid/x.git#egg=xpkg".into())
            ))
        );
        assert!(matches!(
            requirement_line("--extra-index-url https://pypi.example/simple"),
            Some((_, Source::Index(_)))
        ));
        assert_eq!(requirement_line("# comment"), None);
    }

    #[test]
    fn pyproject_arrays_and_poetry_tables_are_read() {
        let text = "[project]\nname = \"x\"\ndependencies = [\n  \"httpx>=0.27\",\n  \"pkg @ https://example.invalid/p.whl\",\n]\n[tool.poetry.dependencies]\npython = \"^3.11\"\nrich = \"^13\"\n";
        let got = parse(Format::Pyproject, text);
        assert!(got.contains(&("httpx".into(), Source::Registry)));
        assert!(got.contains(&(
            "pkg".into(),
            Source::Url("https://example.invalid/p.whl".into())
        )));
        assert!(got.contains(&("rich".into(), Source::Registry)));
        assert!(!got.iter().any(|(n, _)| n == "python" || n == "x"));
    }

    #[test]
    fn pyproject_metadata_arrays_are_not_dependencies() {
        let text = "[project]\nname = \"jinja2\"\nmaintainers = [{name = \"Pallets\", email = \"contact@example.invalid\"}]\nclassifiers = [\n  \"Programming Language :: Python :: 3.13\",\n]\nkeywords = [\"templates\"]\ndependencies = [\"MarkupSafe>=2.0\"]\n";
        let got = parse(Format::Pyproject, text);
        assert_eq!(got, vec![("MarkupSafe".to_string(), Source::Registry)]);
        // Out of context (a hunk inside the classifiers array) prose is not a requirement.
        let hunk =
            "  \"Programming Language :: Python :: 3.13\",\n  \"contact@example.invalid\",\n";
        let lines = hunk.lines().enumerate().map(|(i, t)| (line_no(i), t, true));
        assert!(parse_lines(Format::Pyproject, false, lines).is_empty());
    }

    #[test]
    fn build_system_requires_are_marked_build_only() {
        let text = "[build-system]\nrequires = [\"hatchling>=1.6.0,<2\", \"hatch-vcs==0.4.0\"]\nbuild-backend = \"hatchling.build\"\n[project]\ndependencies = [\n  \"idna\",\n]\n";
        let lines = text.lines().enumerate().map(|(i, t)| (line_no(i), t, true));
        let got: Vec<(String, bool)> = parse_lines(Format::Pyproject, true, lines)
            .into_iter()
            .map(|d| (d.name, d.build_only))
            .collect();
        assert_eq!(
            got,
            vec![
                ("hatchling".to_string(), true),
                ("hatch-vcs".to_string(), true),
                ("idna".to_string(), false)
            ]
        );
    }

    #[test]
    fn go_mod_requires_and_replaces_are_read() {
        let text = "module example.com/m\n\ngo 1.22\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n)\n\nreplace github.com/pkg/errors => github.com/evil/errors v0.9.2\n";
        let got = parse(Format::GoMod, text);
        assert_eq!(got[0], ("github.com/pkg/errors".into(), Source::Registry));
        assert_eq!(
            got[1],
            (
                "github.com/pkg/errors".into(),
                Source::Replace("github.com/evil/errors v0.9.2".into())
            )
        );
    }

    #[test]
    fn pypi_names_normalize_per_pep_503() {
        assert_eq!(Ecosystem::PyPi.normalize("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(Ecosystem::Cargo.normalize("rust-decimal"), "rust_decimal");
    }
}
