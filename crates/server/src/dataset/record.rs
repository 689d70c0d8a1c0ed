//! One dataset record per published case (schema version [`SCHEMA_VERSION`], documented in
//! `docs/dataset.md` and `docs/dataset.schema.json`).
//!
//! [`record`] is the only way into the dataset and it decides visibility itself: it returns
//! `None` for any case the TLP rules do not show to an anonymous reader (so a sealed case can
//! never appear, whatever the caller passes), and it drops each assessment or second review
//! whose own label is stricter than CLEAR. Every free-text field passes through
//! [`super::redact::redact`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sx_domain::{AssessmentStatus, Case, CaseStatus, Project, Viewer, may_view};
use time::OffsetDateTime;

use super::redact::redact;

/// Version of the record format. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// File kinds counted in [`ChangeMeta::files_by_kind`], in column order.
pub const FILE_KINDS: [&str; 13] = [
    "source",
    "build",
    "ci",
    "install",
    "manifest",
    "lockfile",
    "test",
    "docs",
    "generated",
    "release",
    "governance",
    "binary",
    "other",
];

/// A published case, as the open dataset shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The case id.
    pub case_id: String,
    /// The project the change targeted.
    pub project: ProjectMeta,
    /// The change.
    pub change: ChangeMeta,
    /// What the maintainer feared.
    pub concern: ConcernMeta,
    /// The analyzer's first read at submission; `None` if none was attached.
    pub automated: Option<Automated>,
    /// Each expert assessment that was submitted (current or for an earlier revision).
    pub assessments: Vec<ExpertVerdict>,
    /// Second reviews that were submitted.
    pub second_reviews: Vec<SecondOpinion>,
    /// The case's effective verdict (most severe current opinion), if any.
    pub verdict: Option<String>,
    /// `preliminary` or `final`.
    pub verdict_finality: Option<String>,
    /// What triage concluded (`needs-expert`, `not-security`, `duplicate`).
    pub triage: Option<String>,
    /// The maintainer's decision.
    pub decision: Option<DecisionMeta>,
    /// Timestamps and durations.
    pub timings: Timings,
    /// Number of secret-looking spans replaced in this record's text fields.
    pub redactions: usize,
}

/// The project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectMeta {
    /// Forge kind.
    pub forge: String,
    /// Forge host.
    pub host: String,
    /// `owner/name`.
    pub name: String,
}

/// The change's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeMeta {
    /// The pull request URL, if any (credentials redacted).
    pub pull_request_url: Option<String>,
    /// The title or subject (redacted).
    pub title: Option<String>,
    /// Revisions submitted (1 + later pushes).
    pub revisions: usize,
    /// Package ecosystems touched (`npm`, `pypi`, `crates.io`, `go`, …), sorted.
    pub ecosystems: Vec<String>,
    /// Languages of touched files and findings, sorted.
    pub languages: Vec<String>,
    /// Files touched, per the analyzer.
    pub files: Option<u64>,
    /// Lines added.
    pub added_lines: Option<u64>,
    /// Lines removed.
    pub removed_lines: Option<u64>,
    /// Binary files.
    pub binary_files: Option<u64>,
    /// Commits in the change (0 for a bare diff).
    pub commits: Option<u64>,
    /// Touched files per kind (see [`FILE_KINDS`]; a file may count in several kinds); `None`
    /// when the change text was not available to the exporter.
    pub files_by_kind: Option<BTreeMap<String, u64>>,
}

/// The maintainer's concern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcernMeta {
    /// 1 (just checking) to 5 (convinced it is hostile).
    pub suspicion: u8,
    /// Tags.
    pub tags: Vec<String>,
    /// Free text (redacted).
    pub text: String,
}

/// The analyzer's first read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Automated {
    /// Risk probability at submission.
    pub risk: f64,
    /// `low`, `review` or `high`.
    pub band: String,
    /// Version of the risk model weights that scored it, when known.
    pub model_version: Option<u32>,
    /// Findings, highest score first.
    pub findings: Vec<FindingMeta>,
}

/// One automated finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingMeta {
    /// Detector or rule id.
    pub detector: String,
    /// `info` … `critical`, when known.
    pub severity: Option<String>,
    /// `low`, `medium`, `high`, when known.
    pub confidence: Option<String>,
    /// Its weight in the risk model at submission.
    pub score: Option<f64>,
    /// Location classes of the flagged file (`build`, `ci`, `test`, …).
    pub file_kinds: Vec<String>,
    /// Attack-vector tags.
    pub vectors: Vec<String>,
}

/// One expert's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertVerdict {
    /// `benign`, `inconclusive`, `suspicious`, `malicious`.
    pub verdict: String,
    /// `low`, `medium`, `high`.
    pub confidence: String,
    /// Whether it assessed the case's final revision (`false`: outdated by a later push).
    pub current: bool,
    /// When it was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// Minutes the expert reported spending.
    pub time_spent_minutes: u32,
    /// Self-reported thoroughness.
    pub thoroughness: String,
    /// Self-reported understanding of the code.
    pub understanding: String,
    /// The one-paragraph summary (redacted).
    pub summary: String,
}

/// A second expert's opinion on an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondOpinion {
    /// The second expert's verdict.
    pub verdict: String,
    /// The verdict of the assessment reviewed, when it is in the dataset.
    pub reviewed_verdict: Option<String>,
    /// When it was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
}

/// The maintainer's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionMeta {
    /// `merged`, `rejected`, `changes-requested`, `reported-to-forge`, `other`.
    pub outcome: String,
    /// Their note (redacted).
    pub note: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// When things happened, and how long they took (hours, fractional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Received.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// First claimed by an expert.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_claimed_at: Option<OffsetDateTime>,
    /// First assessment submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_assessed_at: Option<OffsetDateTime>,
    /// Decided.
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// Published.
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// Received → first claim.
    pub hours_to_first_claim: Option<f64>,
    /// Received → first assessment.
    pub hours_to_first_assessment: Option<f64>,
    /// Received → decision.
    pub hours_to_decision: Option<f64>,
    /// Received → publication.
    pub hours_to_publication: f64,
}

fn hours(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    let h = (to - from).as_seconds_f64() / 3600.0;
    (h * 1000.0).round() / 1000.0
}

/// Ecosystem of a manifest or lockfile name.
fn ecosystem_of_file(name: &str) -> Option<&'static str> {
    Some(match name {
        "package.json"
        | "package-lock.json"
        | "npm-shrinkwrap.json"
        | "yarn.lock"
        | "pnpm-lock.yaml"
        | ".npmrc" => "npm",
        "cargo.toml" | "cargo.lock" => "crates.io",
        "setup.py" | "setup.cfg" | "pyproject.toml" | "requirements.txt" | "pipfile"
        | "pipfile.lock" | "poetry.lock" | "uv.lock" => "pypi",
        "go.mod" | "go.sum" => "go",
        "gemfile" | "gemfile.lock" => "rubygems",
        "composer.json" | "composer.lock" => "packagist",
        "pom.xml" | "build.gradle" | "build.gradle.kts" => "maven",
        _ if name.ends_with(".gemspec") => "rubygems",
        _ if name.ends_with(".csproj") || name == "packages.config" => "nuget",
        _ => return None,
    })
}

/// Ecosystem a language's packages usually come from.
fn ecosystem_of_language(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "javascript" | "typescript" => "npm",
        "rust" => "crates.io",
        "python" => "pypi",
        "go" => "go",
        "ruby" => "rubygems",
        "php" => "packagist",
        "java" | "kotlin" => "maven",
        _ => return None,
    })
}

/// Path facts of the touched files: kinds, languages, ecosystems.
#[derive(Debug, Default)]
struct PathFacts {
    kinds: BTreeMap<String, u64>,
    languages: BTreeSet<String>,
    ecosystems: BTreeSet<String>,
}

fn path_facts<'a>(paths: impl Iterator<Item = (&'a str, bool)>) -> PathFacts {
    let mut facts = PathFacts::default();
    for kind in FILE_KINDS {
        facts.kinds.insert(kind.to_string(), 0);
    }
    for (path, binary) in paths {
        let class = sx_analyzer::classify::classify(path);
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let mut roles: Vec<&str> = class.roles();
        if binary {
            roles.push("binary");
        }
        if roles.is_empty() {
            roles.push(if class.language.is_some() {
                "source"
            } else {
                "other"
            });
        }
        for r in roles {
            *facts.kinds.entry(r.to_string()).or_default() += 1;
        }
        if let Some(lang) = class.language {
            facts.languages.insert(lang.to_string());
        }
        if let Some(eco) = ecosystem_of_file(&name) {
            facts.ecosystems.insert(eco.to_string());
        }
    }
    facts
}

struct Texts {
    count: usize,
}

impl Texts {
    fn clean(&mut self, text: &str) -> String {
        let r = redact(text);
        self.count += r.count;
        r.text
    }
}

/// Builds the dataset record of a case, or `None` when the case is not public (TLP decides).
///
/// `change_text` is the submitted diff when the exporter can read it (for file kinds); the
/// project must be the case's own.
pub fn record(case: &Case, project: &Project, change_text: Option<&str>) -> Option<Record> {
    if case.status != CaseStatus::Published
        || !may_view(&Viewer::Anonymous, &case.tlp_object())
        || project.id != case.project_id
    {
        return None;
    }
    let published_at = case.published_at.unwrap_or(case.updated_at);
    let mut texts = Texts { count: 0 };

    let report: Option<sx_analyzer::Report> = case
        .report
        .as_ref()
        .and_then(|r| serde_json::from_value(r.full.clone()).ok());

    // Files: from the change text when available, else the paths findings name.
    let parsed = change_text.and_then(|t| {
        let limits = sx_analyzer::diff::Limits::default();
        sx_analyzer::diff::parse(t.as_bytes(), &limits).ok()
    });
    let from_change = parsed
        .as_ref()
        .map(|c| path_facts(c.files.iter().map(|f| (f.path(), f.binary.is_some()))));
    let from_findings = path_facts(
        report
            .iter()
            .flat_map(|r| r.findings.iter())
            .filter(|f| !f.path.is_empty())
            .map(|f| (f.path.as_str(), false)),
    );
    let mut languages: BTreeSet<String> = from_findings.languages.clone();
    let mut ecosystems: BTreeSet<String> = from_findings.ecosystems.clone();
    if let Some(f) = &from_change {
        languages.extend(f.languages.iter().cloned());
        ecosystems.extend(f.ecosystems.iter().cloned());
    }
    if let Some(r) = &case.report {
        for tag in &r.tags {
            if let Some(lang) = tag.strip_prefix("lang:") {
                languages.insert(lang.to_string());
            }
        }
    }
    for lang in &languages {
        if let Some(eco) = ecosystem_of_language(lang) {
            ecosystems.insert(eco.to_string());
        }
    }

    let summary = report.as_ref().map(|r| &r.summary);
    let change = ChangeMeta {
        pull_request_url: case
            .source
            .pull_request_url
            .as_deref()
            .map(|u| texts.clean(u)),
        title: case.source.title.as_deref().map(|t| texts.clean(t)),
        revisions: 1 + case.previous_revisions.len(),
        ecosystems: ecosystems.into_iter().collect(),
        languages: languages.into_iter().collect(),
        files: summary.map(|s| s.files as u64),
        added_lines: summary.map(|s| s.added_lines as u64),
        removed_lines: summary.map(|s| s.removed_lines as u64),
        binary_files: summary.map(|s| s.binary_files as u64),
        commits: summary.map(|s| s.commits as u64),
        files_by_kind: from_change.map(|f| f.kinds),
    };

    let concern = ConcernMeta {
        suspicion: case.concern.suspicion.get(),
        tags: case.concern.tags.clone(),
        text: texts.clean(&case.concern.text),
    };

    let automated = case.report.as_ref().map(|r| {
        let findings = match &report {
            Some(full) => full
                .findings
                .iter()
                .map(|f| FindingMeta {
                    detector: f.id.clone(),
                    severity: Some(f.severity.as_str().to_string()),
                    confidence: Some(f.confidence.as_str().to_string()),
                    score: Some(f.score),
                    file_kinds: if f.path.is_empty() {
                        Vec::new()
                    } else {
                        sx_analyzer::classify::classify(&f.path)
                            .roles()
                            .into_iter()
                            .map(str::to_string)
                            .collect()
                    },
                    vectors: f.tags.iter().map(|t| t.as_str().to_string()).collect(),
                })
                .collect(),
            // The full report did not parse (an older schema): keep what the summary has.
            None => r
                .finding_ids
                .iter()
                .map(|id| FindingMeta {
                    detector: id.clone(),
                    severity: None,
                    confidence: None,
                    score: None,
                    file_kinds: Vec::new(),
                    vectors: Vec::new(),
                })
                .collect(),
        };
        Automated {
            risk: r.risk.get(),
            band: r.band.as_str().to_string(),
            model_version: report.as_ref().map(|f| f.analyzer.model_version),
            findings,
        }
    });

    let mut assessments = Vec::new();
    let mut verdict_of = BTreeMap::new();
    for a in &case.assessments {
        if !may_view(&Viewer::Anonymous, &case.assessment_object(a)) {
            continue;
        }
        let (Some(body), true) = (
            &a.body,
            matches!(
                a.status,
                AssessmentStatus::Submitted | AssessmentStatus::Outdated
            ) && a.submitted_at.is_some(),
        ) else {
            continue;
        };
        verdict_of.insert(a.id, body.verdict.as_str().to_string());
        assessments.push(ExpertVerdict {
            verdict: body.verdict.as_str().to_string(),
            confidence: body.confidence.as_str().to_string(),
            current: a.status == AssessmentStatus::Submitted && a.revision == case.revision,
            submitted_at: a.submitted_at,
            time_spent_minutes: body.time_spent_minutes,
            thoroughness: body.thoroughness.as_str().to_string(),
            understanding: body.understanding.as_str().to_string(),
            summary: texts.clean(&body.summary),
        });
    }
    let second_reviews = case
        .second_reviews
        .iter()
        .filter(|r| may_view(&Viewer::Anonymous, &case.second_review_object(r)))
        .filter_map(|r| {
            Some(SecondOpinion {
                verdict: r.verdict?.as_str().to_string(),
                reviewed_verdict: verdict_of.get(&r.assessment_id).cloned(),
                submitted_at: r.submitted_at,
            })
        })
        .collect();

    let effective = case.effective_verdict();
    let decision = case.decision.as_ref().map(|d| DecisionMeta {
        outcome: d.outcome.as_str().to_string(),
        note: texts.clean(&d.note),
        at: d.at,
    });
    let received = case.received_at;
    let timings = Timings {
        received_at: received,
        first_claimed_at: case.first_claimed_at,
        first_assessed_at: case.first_assessed_at,
        decided_at: case.decision.as_ref().map(|d| d.at),
        published_at,
        hours_to_first_claim: case.first_claimed_at.map(|t| hours(received, t)),
        hours_to_first_assessment: case.first_assessed_at.map(|t| hours(received, t)),
        hours_to_decision: case.decision.as_ref().map(|d| hours(received, d.at)),
        hours_to_publication: hours(received, published_at),
    };

    Some(Record {
        schema_version: SCHEMA_VERSION,
        case_id: case.id.to_string(),
        project: ProjectMeta {
            forge: project.forge.as_str().to_string(),
            host: project.host.clone(),
            name: project.full_name(),
        },
        change,
        concern,
        automated,
        assessments,
        second_reviews,
        verdict: effective.as_ref().map(|e| e.verdict.as_str().to_string()),
        verdict_finality: effective.as_ref().map(|e| e.finality.as_str().to_string()),
        triage: case.triage.as_ref().map(|t| t.outcome.as_str().to_string()),
        decision,
        timings,
        redactions: texts.count,
    })
}

/// CSV header, one column per [`csv_row`] cell.
pub const CSV_COLUMNS: [&str; 28] = [
    "schema_version",
    "case_id",
    "forge",
    "project",
    "pull_request_url",
    "title",
    "revisions",
    "ecosystems",
    "languages",
    "files",
    "added_lines",
    "removed_lines",
    "binary_files",
    "files_by_kind",
    "suspicion",
    "concern_tags",
    "concern_text",
    "risk",
    "band",
    "detectors",
    "expert_verdicts",
    "verdict",
    "verdict_finality",
    "decision",
    "received_at",
    "published_at",
    "hours_to_first_assessment",
    "hours_to_decision",
];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The record as CSV cells (lists joined with `;`, `kind=count` pairs for file kinds,
/// `verdict:confidence` per expert).
pub fn csv_row(r: &Record) -> Vec<String> {
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let optf = |v: Option<f64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut detectors: Vec<&str> = Vec::new();
    for f in r.automated.iter().flat_map(|a| a.findings.iter()) {
        if !detectors.contains(&f.detector.as_str()) {
            detectors.push(&f.detector);
        }
    }
    vec![
        r.schema_version.to_string(),
        r.case_id.clone(),
        r.project.forge.clone(),
        format!("{}/{}", r.project.host, r.project.name),
        r.change.pull_request_url.clone().unwrap_or_default(),
        r.change.title.clone().unwrap_or_default(),
        r.change.revisions.to_string(),
        r.change.ecosystems.join(";"),
        r.change.languages.join(";"),
        opt(r.change.files),
        opt(r.change.added_lines),
        opt(r.change.removed_lines),
        opt(r.change.binary_files),
        r.change
            .files_by_kind
            .as_ref()
            .map(|k| {
                k.iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| format!("{k}={n}"))
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default(),
        r.concern.suspicion.to_string(),
        r.concern.tags.join(";"),
        r.concern.text.clone(),
        optf(r.automated.as_ref().map(|a| a.risk)),
        r.automated
            .as_ref()
            .map(|a| a.band.clone())
            .unwrap_or_default(),
        detectors.join(";"),
        r.assessments
            .iter()
            .map(|a| format!("{}:{}", a.verdict, a.confidence))
            .collect::<Vec<_>>()
            .join(";"),
        r.verdict.clone().unwrap_or_default(),
        r.verdict_finality.clone().unwrap_or_default(),
        r.decision
            .as_ref()
            .map(|d| d.outcome.clone())
            .unwrap_or_default(),
        rfc3339(r.timings.received_at),
        rfc3339(r.timings.published_at),
        optf(r.timings.hours_to_first_assessment),
        optf(r.timings.hours_to_decision),
    ]
}

/// One CSV line (RFC 4180 quoting, CRLF end). Text cells that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading `'`.
pub fn csv_line(cells: &[String]) -> String {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let defused;
        let cell =
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
                defused = format!("'{cell}");
                &defused
            } else {
                cell
            };
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line.push_str("\r\n");
    line
}
