//! Generated documentation stays in sync with the code: the README's detector table is the
//! output of `s-express detectors --format markdown`.

use std::path::PathBuf;

fn readme() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(&path).expect("README.md is readable")
}

#[test]
fn the_readme_detector_table_matches_the_registry() {
    let out = crate::sx(&["detectors", "--format", "markdown"], None);
    assert!(out.status.success());
    let generated = crate::stdout(&out);
    let readme = readme();
    let start = readme
        .find("<!-- detectors:start -->\n")
        .expect("start marker")
        + "<!-- detectors:start -->\n".len();
    let end = readme.find("<!-- detectors:end -->").expect("end marker");
    assert!(
        readme[start..end] == generated,
        "README.md's detector table is stale: regenerate it with\n  \
         cargo run -q -p s-express -- detectors --format markdown\n\
         and paste the output between the detectors markers"
    );
}

#[test]
fn every_detector_listed_has_a_docs_page() {
    let out = crate::sx(&["detectors", "--format", "json"], None);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        rows.len() > 40,
        "expected the full registry, got {}",
        rows.len()
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for r in rows {
        let doc = r["doc"].as_str().expect("doc path");
        assert!(root.join(doc).exists(), "{doc} is missing");
    }
}
