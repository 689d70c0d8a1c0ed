//! Runs every detector fixture under `tests/fixtures/<detector-id>/`.
//!
//! - `<incident>.pos.{diff,patch,mbox}` must produce a finding of that detector;
//! - `<lookalike>.neg.{diff,patch,mbox}` must not;
//! - every fixture's findings are snapshotted with `insta`.
//!
//! A fixture opens with `#` comment lines naming the real incident it imitates. Directives in
//! those lines: `# expect-top: PATH:LINE` (the top-ranked finding must point there),
//! `# title: …` (the pull-request title). A sidecar `<stem>.context.json` holds a
//! `RepoContext` for contributor-history detectors.
//!
//! New files are picked up without code changes; a registered detector without a docs page or
//! without both a positive and a negative fixture fails `every_detector_has_docs_and_fixtures`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use sx_analyzer::change::RepoContext;
use sx_analyzer::diff::{Limits, parse};
use sx_analyzer::{Analyzer, Report};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    crate_dir().join("tests/fixtures")
}

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| Analyzer::builtin().expect("built-in analyzer builds"))
}

#[derive(Debug)]
struct Fixture {
    detector: String,
    name: String,
    positive: bool,
    path: PathBuf,
}

fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(fixtures_dir()) else {
        return out;
    };
    for d in dirs.flatten() {
        if !d.path().is_dir() {
            continue;
        }
        let detector = d.file_name().to_string_lossy().to_string();
        for f in std::fs::read_dir(d.path())
            .expect("readable fixture dir")
            .flatten()
        {
            let name = f.file_name().to_string_lossy().to_string();
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            if !matches!(ext, "diff" | "patch" | "mbox") {
                continue;
            }
            let (stem, positive) = if let Some(s) = stem.strip_suffix(".pos") {
                (s, true)
            } else if let Some(s) = stem.strip_suffix(".neg") {
                (s, false)
            } else {
                panic!("fixture {name} in {detector}/ must end in .pos.{ext} or .neg.{ext}");
            };
            out.push(Fixture {
                detector: detector.clone(),
                name: stem.to_string(),
                positive,
                path: f.path(),
            });
        }
    }
    out.sort_by(|a, b| (&a.detector, &a.name).cmp(&(&b.detector, &b.name)));
    out
}

struct Prepared {
    report: Report,
    expect_top: Option<(String, u32)>,
}

fn run(fx: &Fixture) -> Prepared {
    let raw = std::fs::read(&fx.path).expect("readable fixture");
    // The leading comment block names the incident and carries directives; the diff follows.
    let mut body_start = 0;
    let mut directives = BTreeMap::new();
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if !line.starts_with(b"#") {
            break;
        }
        body_start += line.len();
        let text = String::from_utf8_lossy(line);
        if let Some((k, v)) = text.trim_start_matches('#').trim().split_once(':') {
            directives.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    assert!(
        body_start > 0,
        "{}: a fixture must open with a comment naming the incident",
        fx.path.display()
    );
    let mut change = parse(&raw[body_start..], &Limits::default())
        .unwrap_or_else(|e| panic!("{}: does not parse: {e}", fx.path.display()));
    if let Some(t) = directives.get("title") {
        change.title = Some(t.clone());
    }
    let ctx_path = fx.path.with_file_name(format!("{}.context.json", fx.name));
    if ctx_path.exists() {
        let ctx: RepoContext =
            serde_json::from_slice(&std::fs::read(&ctx_path).expect("readable context"))
                .unwrap_or_else(|e| panic!("{}: {e}", ctx_path.display()));
        change.context = Some(ctx);
    }
    let expect_top = directives.get("expect-top").map(|v| {
        let (p, l) = v.rsplit_once(':').expect("expect-top: PATH:LINE");
        (p.to_string(), l.parse().expect("line number"))
    });
    Prepared {
        report: analyzer().analyze(&change),
        expect_top,
    }
}

#[test]
fn positive_fixtures_fire_and_negative_fixtures_stay_quiet() {
    let all = fixtures();
    let mut failures = Vec::new();
    for fx in &all {
        let p = run(fx);
        let fired = p.report.findings.iter().any(|f| f.id == fx.detector);
        if fx.positive && !fired {
            failures.push(format!(
                "{}/{}.pos: expected a `{}` finding, got [{}]",
                fx.detector,
                fx.name,
                fx.detector,
                p.report
                    .findings
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !fx.positive && fired {
            let f = p
                .report
                .findings
                .iter()
                .find(|f| f.id == fx.detector)
                .expect("fired");
            failures.push(format!(
                "{}/{}.neg: false positive at {}:{:?}: {}",
                fx.detector, fx.name, f.path, f.line, f.evidence
            ));
        }
        if let Some((path, line)) = &p.expect_top {
            match p.report.findings.first() {
                Some(top) if &top.path == path && top.line == Some(*line) => {}
                other => failures.push(format!(
                    "{}/{}: top finding should point at {path}:{line}, got {:?}",
                    fx.detector,
                    fx.name,
                    other.map(|f| (&f.id, &f.path, f.line))
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fixture_findings_match_their_snapshots() {
    for fx in fixtures() {
        let p = run(&fx);
        let view: Vec<_> = p
            .report
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "id": f.id, "severity": f.severity, "confidence": f.confidence,
                    "path": f.path, "line": f.line, "title": f.title, "evidence": f.evidence,
                })
            })
            .collect();
        let snap = serde_json::json!({ "band": p.report.risk.band, "findings": view });
        let kind = if fx.positive { "pos" } else { "neg" };
        insta::assert_json_snapshot!(format!("{}__{}.{kind}", fx.detector, fx.name), snap);
    }
}

#[test]
fn every_detector_has_docs_and_fixtures() {
    let docs = crate_dir().join("../../docs/detectors");
    let all = fixtures();
    let mut missing = Vec::new();
    for d in analyzer().detectors() {
        let id = d.meta().id.as_ref();
        if !docs.join(format!("{id}.md")).exists() {
            missing.push(format!("{id}: no docs/detectors/{id}.md"));
        }
        for positive in [true, false] {
            if !all
                .iter()
                .any(|f| f.detector == id && f.positive == positive)
            {
                let kind = if positive { "pos" } else { "neg" };
                missing.push(format!("{id}: no tests/fixtures/{id}/*.{kind}.diff"));
            }
        }
    }
    for fx in &all {
        if !analyzer().detectors().any(|d| d.meta().id == fx.detector) {
            missing.push(format!(
                "tests/fixtures/{}/ names no registered detector",
                fx.detector
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn detector_docs_pages_have_the_required_sections() {
    let docs = crate_dir().join("../../docs/detectors");
    for d in analyzer().detectors() {
        let id = d.meta().id.as_ref();
        let Ok(text) = std::fs::read_to_string(docs.join(format!("{id}.md"))) else {
            continue;
        };
        for section in [
            "## What it catches",
            "## Incident",
            "## False positives",
            "## What to do",
        ] {
            assert!(
                text.contains(section),
                "docs/detectors/{id}.md lacks '{section}'"
            );
        }
    }
}

#[test]
fn no_snapshot_outlives_its_fixture() {
    let dir = crate_dir().join("tests/analyzer/snapshots");
    let expected: std::collections::HashSet<String> = fixtures()
        .iter()
        .map(|fx| {
            let kind = if fx.positive { "pos" } else { "neg" };
            format!(
                "analyzer__detector_fixtures__{}__{}.{kind}.snap",
                fx.detector, fx.name
            )
        })
        .collect();
    let orphans: Vec<String> = std::fs::read_dir(&dir)
        .expect("snapshots dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("analyzer__detector_fixtures__") && n.ends_with(".snap"))
        .filter(|n| !expected.contains(n))
        .collect();
    assert!(
        orphans.is_empty(),
        "snapshots without a fixture (delete them): {orphans:?}"
    );
}
