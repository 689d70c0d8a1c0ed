//! Embeds the detector documentation (`docs/detectors/*.md`) so the web UI can serve it at
//! `/detectors/{id}` without reading the file system at run time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // The manifest directory as cargo gives it to this run, not as it was when the script
    // was compiled: a build directory reused from another checkout (CI keeps one outside the
    // clone) would otherwise read the docs of a checkout that may no longer exist.
    #[allow(
        clippy::disallowed_methods,
        reason = "cargo passes CARGO_MANIFEST_DIR to build scripts only this way"
    )]
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let dir = Path::new(&manifest).join("../../docs/detectors");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut pages: Vec<(String, String)> = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot read the detector docs at {}: {e}", dir.display()),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".md"))
        else {
            continue;
        };
        if id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            println!("cargo:rerun-if-changed={}", path.display());
            pages.push((id.to_string(), path.display().to_string()));
        }
    }
    pages.sort();
    let mut out = String::from(
        "/// Detector documentation pages: `(id, Markdown)`, sorted by id.\npub const DETECTOR_DOCS: &[(&str, &str)] = &[\n",
    );
    for (id, path) in &pages {
        let _ = writeln!(out, "    ({id:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");
    // A build script is the binary edge: cargo hands it OUT_DIR through the environment.
    #[allow(
        clippy::disallowed_methods,
        reason = "cargo passes OUT_DIR to build scripts only this way"
    )]
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let target = Path::new(&out_dir).join("detector_docs.rs");
    if let Err(e) = std::fs::write(&target, out) {
        panic!("cannot write {}: {e}", target.display());
    }
}
