//! `s-express detectors`: list every built-in detector and rule with its metadata.
//!
//! The Markdown form is what the README's detector table is generated from; a test fails when
//! the README and the registry disagree, so the list cannot go stale.

use clap::ValueEnum;
use sx_analyzer::Analyzer;
use sx_analyzer::detector::Detector;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DetectorsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

fn sorted(analyzer: &Analyzer) -> Vec<&dyn Detector> {
    let mut v: Vec<&dyn Detector> = analyzer.detectors().collect();
    v.sort_by(|a, b| a.meta().id.cmp(&b.meta().id));
    v
}

/// The Markdown table embedded in the README between the `detectors` markers.
pub fn markdown(analyzer: &Analyzer) -> String {
    let mut out = String::from(
        "| detector | what it catches | default severity / confidence | vectors |\n|---|---|---|---|\n",
    );
    for d in sorted(analyzer) {
        let m = d.meta();
        let vectors: Vec<&str> = m.vectors.iter().map(|v| v.as_str()).collect();
        out.push_str(&format!(
            "| [`{id}`](docs/detectors/{id}.md) | {title} | {sev} / {conf} | {vec} |\n",
            id = m.id,
            title = m.title.replace('|', "\\|"),
            sev = m.severity,
            conf = m.confidence,
            vec = vectors.join(", "),
        ));
    }
    out
}

pub fn run(args: &DetectorsArgs) -> anyhow::Result<u8> {
    let analyzer = Analyzer::builtin()?;
    let text = match args.format {
        ListFormat::Markdown => markdown(&analyzer),
        ListFormat::Json => {
            let rows: Vec<_> = sorted(&analyzer)
                .into_iter()
                .map(|d| {
                    let m = d.meta();
                    serde_json::json!({
                        "id": m.id, "title": m.title, "severity": m.severity,
                        "confidence": m.confidence, "vectors": m.vectors,
                        "languages": m.languages, "doc": m.doc_path(),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&rows)? + "\n"
        }
        ListFormat::Text => {
            let mut s = String::new();
            for d in sorted(&analyzer) {
                let m = d.meta();
                s.push_str(&format!(
                    "{:<36} {:<8} {:<6} {}\n",
                    m.id, m.severity, m.confidence, m.title
                ));
            }
            s
        }
    };
    crate::write_stdout(&text)?;
    Ok(0)
}
