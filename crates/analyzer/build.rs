//! Embeds every rule pack under the repository's `rules/` directory into the analyzer, so the
//! shipped binary needs no files beside it and a new pack needs no code change.
//!
//! Each pack is embedded twice: its text (`BUILTIN`, for tests and tools) and its rules
//! already parsed (`BUILTIN_SPECS`, `static` values of the types in `src/rules/spec.rs`), so
//! that building the analyzer — which every `s-express analyze` does — parses no TOML. A pack
//! that is not valid TOML fails the build, naming the file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/rules/spec.rs"]
mod spec;

use spec::{List, MatchSpec, PackFile, RuleSpec, Text};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// Rust source for a value of the spec types, as a constant expression.
trait ToRust {
    fn to_rust(&self, out: &mut String);
}

impl ToRust for Text {
    fn to_rust(&self, out: &mut String) {
        // `{:?}` of a str is a valid Rust string literal: quotes and escapes included.
        let _ = write!(out, "::std::borrow::Cow::Borrowed({:?})", self.as_ref());
    }
}

impl ToRust for bool {
    fn to_rust(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl<T: ToRust> ToRust for Option<T> {
    fn to_rust(&self, out: &mut String) {
        match self {
            None => out.push_str("None"),
            Some(v) => {
                out.push_str("Some(");
                v.to_rust(out);
                out.push(')');
            }
        }
    }
}

impl<T: ToRust + Clone> ToRust for List<T> {
    fn to_rust(&self, out: &mut String) {
        out.push_str("::std::borrow::Cow::Borrowed(&[");
        for v in self.iter() {
            v.to_rust(out);
            out.push_str(", ");
        }
        out.push_str("])");
    }
}

/// `Name { field: value, … }` from `(field, value)` pairs.
fn rust_struct(out: &mut String, name: &str, fields: &[(&str, &dyn ToRust)]) {
    let _ = write!(out, "{name} {{ ");
    for (field, value) in fields {
        let _ = write!(out, "{field}: ");
        value.to_rust(out);
        out.push_str(", ");
    }
    out.push('}');
}

impl ToRust for MatchSpec {
    fn to_rust(&self, out: &mut String) {
        let MatchSpec {
            literal,
            ignore_case,
            regex,
        } = self;
        rust_struct(
            out,
            "MatchSpec",
            &[
                ("literal", literal),
                ("ignore_case", ignore_case),
                ("regex", regex),
            ],
        );
    }
}

impl ToRust for RuleSpec {
    fn to_rust(&self, out: &mut String) {
        // Destructured so that a new field in spec.rs fails to compile here until it is emitted.
        let RuleSpec {
            id,
            title,
            severity,
            confidence,
            vectors,
            languages,
            explanation,
            files,
            exclude_files,
            lines,
            unless,
            role,
            matches,
        } = self;
        rust_struct(
            out,
            "RuleSpec",
            &[
                ("id", id),
                ("title", title),
                ("severity", severity),
                ("confidence", confidence),
                ("vectors", vectors),
                ("languages", languages),
                ("explanation", explanation),
                ("files", files),
                ("exclude_files", exclude_files),
                ("lines", lines),
                ("unless", unless),
                ("role", role),
                ("matches", matches),
            ],
        );
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rules = manifest.join("../../rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    println!("cargo:rerun-if-changed=src/rules/spec.rs");
    let mut files = Vec::new();
    collect(&rules, &mut files);
    files.sort();
    let mut texts = String::from("static BUILTIN: &[(&str, &str)] = &[\n");
    let mut specs = String::from("static BUILTIN_SPECS: &[(&str, &[RuleSpec])] = &[\n");
    for f in &files {
        let rel = f
            .strip_prefix(&rules)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        // Each sub-directory must be watched too, or a new pack is missed until a clean build.
        if let Some(parent) = f.parent() {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
        println!("cargo:rerun-if-changed={}", abs.display());
        let _ = writeln!(
            texts,
            "    ({rel:?}, include_str!({:?})),",
            abs.to_string_lossy()
        );
        let text = std::fs::read_to_string(f)
            .unwrap_or_else(|e| panic!("cannot read rule pack rules/{rel}: {e}"));
        let pack: PackFile = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("rule pack rules/{rel} is not a valid pack: {e}"));
        let _ = writeln!(specs, "    ({rel:?}, &[");
        for rule in pack.rule.iter() {
            specs.push_str("        ");
            rule.to_rust(&mut specs);
            specs.push_str(",\n");
        }
        specs.push_str("    ]),\n");
    }
    texts.push_str("];\n");
    specs.push_str("];\n");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("builtin_rules.rs");
    if let Err(e) = std::fs::write(&out, texts + &specs) {
        panic!("cannot write {}: {e}", out.display());
    }
}
