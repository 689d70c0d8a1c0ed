//! JSON: the [`Report`] as serialized by serde, pretty-printed. The shape is versioned by
//! `schema_version` and documented in `docs/report-schema.md` with a JSON Schema in
//! `docs/report.schema.json`. Strings are emitted as they are (JSON escaping is exact, so
//! invisible characters survive as data for tools to inspect).

use crate::report::Report;

/// Pretty-printed JSON followed by a newline.
pub fn render(report: &Report) -> String {
    // Serializing a `Report` cannot fail: it has only string map keys and finite numbers.
    // Should that ever change, emit a valid JSON error object rather than panic.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        serde_json::json!({ "schema_version": report.schema_version, "error": e.to_string() })
            .to_string()
    });
    out.push('\n');
    out
}

/// Compact single-line JSON (for JSON Lines streams), followed by a newline.
pub fn render_compact(report: &Report) -> String {
    let mut out = serde_json::to_string(report).unwrap_or_else(|e| {
        serde_json::json!({ "schema_version": report.schema_version, "error": e.to_string() })
            .to_string()
    });
    out.push('\n');
    out
}
