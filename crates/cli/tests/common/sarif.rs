//! The official SARIF 2.1.0 schema (vendored next to the analyzer's tests, identical to the
//! one in `../shared/fixtures/sarif-codeql-action/`) with its stray `anyOf` moved from
//! `region.properties` up to `region` (see the schema README), shared by the test binaries.

use serde_json::Value;

/// A validator for SARIF 2.1.0 documents.
pub fn sarif_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../analyzer/tests/schemas/sarif-schema-2.1.0.json"
    );
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let region = &mut schema["definitions"]["region"];
    let stray = region["properties"]
        .as_object_mut()
        .unwrap()
        .remove("anyOf")
        .unwrap();
    region["anyOf"] = stray;
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}
