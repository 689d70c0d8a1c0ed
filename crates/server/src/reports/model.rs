//! The report document: figures from the store turned into shares, changes, percentiles in
//! seconds and public case summaries. This is the JSON form (`schema_version` 1) that is stored,
//! served as `.json`, and rendered to Markdown and HTML.

use serde::{Deserialize, Serialize};
use sx_domain::{Policy, PublicCaseView};
use sx_store::reports::{ReportFigures, TagCount, TimingFigures};
use time::OffsetDateTime;

use super::period::{PeriodRange, format_date};

/// Version of the JSON form; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A trend report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Version of this form.
    pub schema_version: u32,
    /// `week` or `month`.
    pub period: String,
    /// "Week of 2026-11-16", "November 2026".
    pub title: String,
    /// First day (UTC).
    pub starts_on: String,
    /// First day after the period (UTC).
    pub ends_before: String,
    /// First day of the previous period, which changes compare against.
    pub previous_starts_on: String,
    /// When it was generated.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Volumes.
    pub volumes: Volumes,
    /// Effective expert verdicts of the cases published in the period.
    pub verdicts: Vec<Share>,
    /// Attack vectors.
    pub vectors: Vec<Trend>,
    /// Ecosystems (languages and file kinds).
    pub ecosystems: Vec<Trend>,
    /// Receipt to first automated report.
    pub time_to_automated: Timing,
    /// Receipt to first human assessment.
    pub time_to_human: Timing,
    /// Maintainer suspicion against expert verdict.
    pub agreement: Agreement,
    /// Detectors that fired most, with precision against verdicts.
    pub detectors: Vec<DetectorRow>,
    /// Load per subgroup.
    pub subgroups: Vec<SubgroupRow>,
    /// Notable published cases.
    pub notable: Vec<NotableCase>,
}

/// Case volumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Volumes {
    /// Published cases received in the period.
    pub received: u64,
    /// Published cases first assessed by an expert in the period.
    pub assessed: u64,
    /// Cases published in the period.
    pub published: u64,
    /// Cases published in the previous period.
    pub previous_published: u64,
    /// Change of `published` against the previous period, percent.
    pub published_change_percent: Option<f64>,
}

/// One part of a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// The verdict, or `none` when no expert gave one.
    pub key: String,
    /// Cases.
    pub cases: u64,
    /// Share of the period's published cases, percent.
    pub percent: f64,
}

/// A tag this period and the previous one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// The tag.
    pub tag: String,
    /// Cases this period.
    pub cases: u64,
    /// Cases the previous period.
    pub previous: u64,
    /// Change, percent (`None` when the previous period had none).
    pub change_percent: Option<f64>,
}

/// A duration distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Cases that reached the step.
    pub cases: u64,
    /// Cases published without reaching it.
    pub missing: u64,
    /// Median, seconds (nearest rank).
    pub median_seconds: Option<f64>,
    /// 90th percentile, seconds (nearest rank).
    pub p90_seconds: Option<f64>,
    /// Of `cases`, how many within 24 hours.
    pub within_24h: u64,
    /// Of `cases`, share within 24 hours, percent.
    pub within_24h_percent: Option<f64>,
}

/// Maintainer suspicion × expert verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// One row per suspicion level 1–5.
    pub rows: Vec<AgreementRow>,
    /// Cases where a low suspicion (1–2) met a benign verdict or a high one (4–5) met a
    /// suspicious or malicious verdict.
    pub agreeing: u64,
    /// Cases where a low suspicion met a suspicious or malicious verdict, or a high one a
    /// benign verdict.
    pub disagreeing: u64,
    /// `agreeing / (agreeing + disagreeing)`, percent.
    pub agreement_percent: Option<f64>,
}

/// One suspicion level's verdicts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementRow {
    /// Suspicion 1–5.
    pub suspicion: u8,
    /// Benign verdicts.
    pub benign: u64,
    /// Inconclusive verdicts.
    pub inconclusive: u64,
    /// Suspicious verdicts.
    pub suspicious: u64,
    /// Malicious verdicts.
    pub malicious: u64,
    /// No expert verdict.
    pub none: u64,
}

/// A detector's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectorRow {
    /// Detector id.
    pub detector: String,
    /// Cases it fired on.
    pub cases: u64,
    /// Of those, judged malicious or suspicious.
    pub confirmed: u64,
    /// Of those, judged benign.
    pub refuted: u64,
    /// `confirmed / (confirmed + refuted)`, percent ([`sx_domain::DetectorRecord::precision`]).
    pub precision_percent: Option<f64>,
    /// Fewer than [`sx_domain::precision::MIN_JUDGED`] settled cases back the precision.
    #[serde(default)]
    pub small_sample: bool,
}

impl DetectorRow {
    /// The row of one detector's record.
    #[must_use]
    pub fn of(d: &sx_domain::DetectorRecord) -> DetectorRow {
        DetectorRow {
            detector: d.detector.clone(),
            cases: d.cases,
            confirmed: d.confirmed,
            refuted: d.refuted,
            precision_percent: d.precision().map(|p| round1(p * 100.0)),
            small_sample: d.small_sample(),
        }
    }
}

/// A subgroup's load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubgroupRow {
    /// Slug.
    pub subgroup: String,
    /// Cases routed to it.
    pub cases: u64,
    /// Of those, with a human assessment.
    pub assessed: u64,
    /// Of the assessed, first assessed within 24 hours, percent.
    pub within_24h_percent: Option<f64>,
}

/// A published case worth reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotableCase {
    /// Case id.
    pub id: String,
    /// The change's title (attacker-controlled text: escape it).
    pub title: String,
    /// Effective verdict, or `none`.
    pub verdict: String,
    /// When it was published.
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// The case's public page.
    pub url: String,
    /// The pull request, when it is an http(s) URL.
    pub pull_request_url: Option<String>,
}

/// Rounds to one decimal.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `part / whole` in percent, one decimal; `None` for an empty whole.
#[must_use]
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round1(part as f64 * 100.0 / whole as f64))
}

fn change(current: u64, previous: u64) -> Option<f64> {
    (previous > 0).then(|| round1((current as f64 - previous as f64) * 100.0 / previous as f64))
}

fn timing(t: &TimingFigures, cohort: u64) -> Timing {
    let secs = |us: Option<i64>| us.map(|us| round1(us.max(0) as f64 / 1e6));
    Timing {
        cases: t.count,
        missing: cohort.saturating_sub(t.count),
        median_seconds: secs(t.median_us),
        p90_seconds: secs(t.p90_us),
        within_24h: t.within_24h,
        within_24h_percent: percent(t.within_24h, t.count),
    }
}

fn trends(tags: &[TagCount], kind: &str) -> Vec<Trend> {
    tags.iter()
        .filter(|t| t.kind == kind)
        .map(|t| Trend {
            tag: t.value.clone(),
            cases: t.current,
            previous: t.previous,
            change_percent: change(t.current, t.previous),
        })
        .collect()
}

/// Only `http(s)://` links leave as links; anything else (e.g. `javascript:`) is dropped.
fn web_url(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.trim().to_string())
}

impl Report {
    /// Builds the report of `range` from the store's figures. Notable cases pass through the
    /// domain's public view: a case the public may not see is left out.
    #[must_use]
    pub fn build(
        range: &PeriodRange,
        figures: &ReportFigures,
        policy: &Policy,
        base_url: &str,
        generated_at: OffsetDateTime,
    ) -> Report {
        let cohort = figures.published;
        let verdicts = figures
            .verdicts
            .iter()
            .map(|(v, n)| Share {
                key: v.clone().unwrap_or_else(|| "none".into()),
                cases: *n,
                percent: percent(*n, cohort).unwrap_or(0.0),
            })
            .collect();
        let mut rows: Vec<AgreementRow> = (1..=5)
            .map(|s| AgreementRow {
                suspicion: s,
                ..AgreementRow::default()
            })
            .collect();
        let (mut agreeing, mut disagreeing) = (0, 0);
        for cell in &figures.agreement {
            let Some(row) = rows.iter_mut().find(|r| r.suspicion == cell.suspicion) else {
                continue;
            };
            let verdict = cell.verdict.as_deref().unwrap_or("none");
            match verdict {
                "benign" => row.benign += cell.cases,
                "inconclusive" => row.inconclusive += cell.cases,
                "suspicious" => row.suspicious += cell.cases,
                "malicious" => row.malicious += cell.cases,
                _ => row.none += cell.cases,
            }
            let hostile = matches!(verdict, "suspicious" | "malicious");
            let benign = verdict == "benign";
            let (low, high) = (cell.suspicion <= 2, cell.suspicion >= 4);
            if (low && benign) || (high && hostile) {
                agreeing += cell.cases;
            } else if (low && hostile) || (high && benign) {
                disagreeing += cell.cases;
            }
        }
        let base = base_url.trim_end_matches('/');
        let notable = figures
            .notable
            .iter()
            .filter_map(|v| match v.value.public_view(policy) {
                PublicCaseView::Published(c) => Some(NotableCase {
                    id: c.id.to_string(),
                    title: c
                        .source
                        .title
                        .clone()
                        .filter(|t| !t.trim().is_empty())
                        .unwrap_or_else(|| format!("Case {}", crate::pages::short_id(c.id))),
                    verdict: c
                        .effective_verdict
                        .as_ref()
                        .map_or_else(|| "none".to_string(), |e| e.verdict.as_str().to_string()),
                    published_at: c.published_at,
                    url: format!("{base}/cases/{}", c.id),
                    pull_request_url: c.source.pull_request_url.as_deref().and_then(web_url),
                }),
                PublicCaseView::Sealed(_) => None,
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            period: range.period.as_str().to_string(),
            title: range.title(),
            starts_on: format_date(range.start),
            ends_before: format_date(range.end),
            previous_starts_on: format_date(range.previous_start),
            generated_at,
            volumes: Volumes {
                received: figures.received,
                assessed: figures.assessed,
                published: cohort,
                previous_published: figures.previous_published,
                published_change_percent: change(cohort, figures.previous_published),
            },
            verdicts,
            vectors: trends(&figures.tags, "vector"),
            ecosystems: trends(&figures.tags, "language"),
            time_to_automated: timing(&figures.automated, cohort),
            time_to_human: timing(&figures.human, cohort),
            agreement: Agreement {
                rows,
                agreeing,
                disagreeing,
                agreement_percent: percent(agreeing, agreeing + disagreeing),
            },
            detectors: figures.detectors.iter().map(DetectorRow::of).collect(),
            subgroups: figures
                .subgroups
                .iter()
                .map(|s| SubgroupRow {
                    subgroup: s.slug.clone(),
                    cases: s.cases,
                    assessed: s.assessed,
                    within_24h_percent: percent(s.within_24h, s.assessed),
                })
                .collect(),
            notable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_changes_round_to_one_decimal_and_skip_empty_bases() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(0, 0), None);
        assert_eq!(change(15, 10), Some(50.0));
        assert_eq!(change(5, 0), None);
        assert_eq!(change(0, 4), Some(-100.0));
    }

    #[test]
    fn only_web_links_are_kept() {
        assert_eq!(
            web_url(" https://x.test/p/1 ").as_deref(),
            Some("https://x.test/p/1")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("data:text/html,x"), None);
    }
}
