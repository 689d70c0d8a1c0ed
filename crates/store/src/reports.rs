//! Trend-report aggregations and stored reports.
//!
//! Every figure of a trend report is aggregated in SQL over **published** cases only: a case
//! counts when it has a publication time before the period's end *and* its label is one the
//! domain lets an anonymous viewer see ([`public_labels`], from `sx_domain::may_view`). Sealed
//! cases never enter a query's result, not even as a count.
//!
//! The *cohort* of a period is the public cases published in `[from, to)`; verdicts, attack
//! vectors, ecosystems, timings, agreement, detectors, subgroup load and notable cases describe
//! the cohort. Volumes count public cases received, first assessed and published in the period
//! (as known at `to`, so a report is reproducible: regenerating it later gives the same numbers).
//! Percentiles use the nearest-rank method, computed with window functions so only the one or
//! two rows at the ranks leave the database.

use serde::{Deserialize, Serialize};
use sx_domain::{ObjectKind, TlpLabel, TlpObject, Viewer, may_view};
use time::OffsetDateTime;

use crate::records::Versioned;

/// TLP labels whose cases an anonymous viewer may see, as the domain decides.
pub fn public_labels() -> Vec<&'static str> {
    TlpLabel::ALL
        .iter()
        .filter(|label| {
            may_view(
                &Viewer::Anonymous,
                &TlpObject {
                    kind: ObjectKind::Case,
                    label: **label,
                    case_label: **label,
                    author: None,
                    recipients: Vec::new(),
                },
            )
        })
        .map(|label| label.as_str())
        .collect()
}

/// What to aggregate.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportQuery {
    /// Period start (inclusive).
    pub from: OffsetDateTime,
    /// Period end (exclusive); also the cut-off for "published".
    pub to: OffsetDateTime,
    /// Start of the previous period (which ends at `from`), for changes.
    pub previous_from: OffsetDateTime,
    /// How many detectors to return, most frequent first.
    pub top_detectors: u32,
    /// How many notable cases to return.
    pub notable: u32,
}

impl ReportQuery {
    /// A query for `[from, to)` compared with `[previous_from, from)`, with the default limits
    /// (15 detectors, 10 notable cases).
    pub fn new(from: OffsetDateTime, to: OffsetDateTime, previous_from: OffsetDateTime) -> Self {
        ReportQuery {
            from,
            to,
            previous_from,
            top_detectors: 15,
            notable: 10,
        }
    }
}

/// Time from receipt to an event, over the cohort (microsecond durations).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingFigures {
    /// Cohort cases that have the event.
    pub count: u64,
    /// Of those, how many within 24 hours of receipt.
    pub within_24h: u64,
    /// Median (nearest rank), microseconds.
    pub median_us: Option<i64>,
    /// 90th percentile (nearest rank), microseconds.
    pub p90_us: Option<i64>,
}

/// One attack-vector or ecosystem tag: cohort cases carrying it now and in the previous period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    /// `vector` or `language`.
    pub kind: String,
    /// The tag.
    pub value: String,
    /// Cases in this period's cohort.
    pub current: u64,
    /// Cases in the previous period's cohort.
    pub previous: u64,
}

/// One cell of the suspicion × verdict matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementCell {
    /// The maintainer's suspicion (1–5).
    pub suspicion: u8,
    /// The effective expert verdict (`None`: no verdict).
    pub verdict: Option<String>,
    /// Cases.
    pub cases: u64,
}

/// How one detector fared against expert verdicts (the domain's definition).
pub type DetectorFigures = sx_domain::DetectorRecord;

/// Which published cases to count detectors over.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorQuery {
    /// Published at or after this (`None`: since the beginning).
    pub published_from: Option<OffsetDateTime>,
    /// Published before this.
    pub published_before: OffsetDateTime,
    /// Only this detector (`None`: every detector).
    pub detector: Option<String>,
    /// How many detectors to return, most frequent first.
    pub limit: u32,
}

impl DetectorQuery {
    /// Every detector over every case published before `before`.
    pub fn all_time(before: OffsetDateTime) -> Self {
        DetectorQuery {
            published_from: None,
            published_before: before,
            detector: None,
            limit: crate::MAX_PAGE,
        }
    }
}

/// Detector records over a set of published cases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectorSummary {
    /// Public cases published in the queried range (whether or not a detector fired).
    pub published: u64,
    /// The detectors, most cases first (ties by id).
    pub detectors: Vec<DetectorFigures>,
}

/// One subgroup's share of the cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubgroupLoad {
    /// Subgroup slug.
    pub slug: String,
    /// Cohort cases routed to it.
    pub cases: u64,
    /// Of those, with a human assessment.
    pub assessed: u64,
    /// Of those, first assessed within 24 hours.
    pub within_24h: u64,
}

/// Everything a trend report needs from the store.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportFigures {
    /// Public cases received in the period.
    pub received: u64,
    /// Public cases first assessed by an expert in the period.
    pub assessed: u64,
    /// Public cases published in the period (the cohort).
    pub published: u64,
    /// Public cases published in the previous period.
    pub previous_published: u64,
    /// Cohort by effective verdict (`None`: no expert verdict), most frequent first.
    pub verdicts: Vec<(Option<String>, u64)>,
    /// Attack vectors and ecosystems, this period and the previous one.
    pub tags: Vec<TagCount>,
    /// Receipt to first automated report.
    pub automated: TimingFigures,
    /// Receipt to first human assessment.
    pub human: TimingFigures,
    /// Suspicion × verdict.
    pub agreement: Vec<AgreementCell>,
    /// Most frequent detectors.
    pub detectors: Vec<DetectorFigures>,
    /// Per-subgroup load, busiest first.
    pub subgroups: Vec<SubgroupLoad>,
    /// Notable cohort cases: malicious, then suspicious, then the rest; newest first.
    pub notable: Vec<Versioned<sx_domain::Case>>,
}

/// A generated report as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredReport {
    /// `week` or `month`.
    pub period: String,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: String,
    /// End of the period (exclusive).
    pub ends_at: OffsetDateTime,
    /// When it was generated.
    pub generated_at: OffsetDateTime,
    /// The report document (the server's JSON form).
    pub doc: serde_json::Value,
}

/// Expands the report methods of [`crate::Store`] inside a backend's `impl Store`.
macro_rules! report_methods {
    () => {
        async fn report_figures(&self, query: &crate::reports::ReportQuery) -> StoreResult<crate::reports::ReportFigures> {
            use crate::reports::*;
            let labels = public_labels();
            let is_pg = <Db as sqlx::Database>::NAME == "PostgreSQL";
            // Microseconds between two timestamp columns (SQLite stores microseconds).
            let micros = |later: &str, earlier: &str| {
                if is_pg {
                    format!("CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000 AS BIGINT)")
                } else {
                    format!("({later} - {earlier})")
                }
            };
            const DAY_US: i64 = 86_400_000_000;
            // ` AND <public> AND published_at in [from, to)` on alias `c`.
            let cohort = |q: &mut sqlx::QueryBuilder<Db>, from: OffsetDateTime, to: OffsetDateTime| {
                q.push(" c.published_at IS NOT NULL AND c.published_at >= ")
                    .push_bind(DbTime(from))
                    .push(" AND c.published_at < ")
                    .push_bind(DbTime(to))
                    .push(" AND c.tlp IN (");
                let mut sep = q.separated(", ");
                for l in &labels {
                    sep.push_bind(*l);
                }
                q.push(")");
            };
            let count = |n: i64| u64::try_from(n).unwrap_or(0);

            // Volumes.
            let mut volumes = [0u64; 2];
            for (slot, column) in ["received_at", "first_assessed_at"].into_iter().enumerate() {
                let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                    "SELECT COUNT(*) AS n FROM cases c WHERE c.{column} >= "
                ));
                q.push_bind(DbTime(query.from)).push(format!(" AND c.{column} < ")).push_bind(DbTime(query.to)).push(" AND");
                cohort(&mut q, OffsetDateTime::UNIX_EPOCH - time::Duration::days(1), query.to);
                volumes[slot] = count(q.build().fetch_one(&self.pool).await?.try_get("n")?);
            }
            let mut cohorts = [0u64; 2];
            for (slot, (from, to)) in [(query.from, query.to), (query.previous_from, query.from)].into_iter().enumerate() {
                let mut q = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM cases c WHERE");
                cohort(&mut q, from, to);
                cohorts[slot] = count(q.build().fetch_one(&self.pool).await?.try_get("n")?);
            }

            // Verdict mix.
            let mut q = sqlx::QueryBuilder::<Db>::new("SELECT c.verdict AS v, COUNT(*) AS n FROM cases c WHERE");
            cohort(&mut q, query.from, query.to);
            q.push(" GROUP BY c.verdict");
            let mut verdicts = Vec::new();
            for row in q.build().fetch_all(&self.pool).await? {
                verdicts.push((row.try_get::<Option<String>, _>("v")?, count(row.try_get("n")?)));
            }
            verdicts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

            // Attack vectors and ecosystems, this period and the previous one, in one pass.
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT t.kind AS kind, t.value AS value, COALESCE(SUM(CASE WHEN c.published_at >= ",
            );
            q.push_bind(DbTime(query.from))
                .push(" THEN 1 ELSE 0 END), 0) AS cur, COALESCE(SUM(CASE WHEN c.published_at < ")
                .push_bind(DbTime(query.from))
                .push(" THEN 1 ELSE 0 END), 0) AS prev FROM cases c JOIN case_tags t ON t.case_id = c.id WHERE");
            cohort(&mut q, query.previous_from, query.to);
            q.push(" GROUP BY t.kind, t.value");
            let mut tags = Vec::new();
            for row in q.build().fetch_all(&self.pool).await? {
                tags.push(TagCount {
                    kind: row.try_get("kind")?,
                    value: row.try_get("value")?,
                    current: count(row.try_get("cur")?),
                    previous: count(row.try_get("prev")?),
                });
            }
            tags.sort_by(|a, b| a.kind.cmp(&b.kind).then(b.current.cmp(&a.current)).then_with(|| a.value.cmp(&b.value)));

            // Timings: counts, share within 24 h, and the median and p90 rows.
            let mut timings = [TimingFigures::default(), TimingFigures::default()];
            for (slot, column) in ["reported_at", "first_assessed_at"].into_iter().enumerate() {
                let d = micros(&format!("c.{column}"), "c.received_at");
                let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                    "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN {d} <= {DAY_US} THEN 1 ELSE 0 END), 0) AS fast \
                     FROM cases c WHERE c.{column} IS NOT NULL AND"
                ));
                cohort(&mut q, query.from, query.to);
                let row = q.build().fetch_one(&self.pool).await?;
                let t = &mut timings[slot];
                t.count = count(row.try_get("n")?);
                t.within_24h = count(row.try_get("fast")?);
                let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                    "SELECT r.d AS d, r.rn AS rn, r.n AS n FROM (SELECT s.d, ROW_NUMBER() OVER (ORDER BY s.d) AS rn, \
                     COUNT(*) OVER () AS n FROM (SELECT {d} AS d FROM cases c WHERE c.{column} IS NOT NULL AND"
                ));
                cohort(&mut q, query.from, query.to);
                q.push(") s) r WHERE r.rn = (r.n * 50 + 99) / 100 OR r.rn = (r.n * 90 + 99) / 100 ORDER BY r.rn");
                for row in q.build().fetch_all(&self.pool).await? {
                    let rn: i64 = row.try_get("rn")?;
                    let n: i64 = row.try_get("n")?;
                    let d: i64 = row.try_get("d")?;
                    if rn == (n * 50 + 99) / 100 {
                        t.median_us = Some(d);
                    }
                    if rn == (n * 90 + 99) / 100 {
                        t.p90_us = Some(d);
                    }
                }
            }
            let [automated, human] = timings;

            // Suspicion × verdict.
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT c.suspicion AS s, c.verdict AS v, COUNT(*) AS n FROM cases c WHERE c.suspicion IS NOT NULL AND",
            );
            cohort(&mut q, query.from, query.to);
            q.push(" GROUP BY c.suspicion, c.verdict");
            let mut agreement = Vec::new();
            for row in q.build().fetch_all(&self.pool).await? {
                let s: i16 = row.try_get("s")?;
                agreement.push(AgreementCell {
                    suspicion: u8::try_from(s).map_err(|_| StoreError::corrupt(format!("suspicion {s}")))?,
                    verdict: row.try_get("v")?,
                    cases: count(row.try_get("n")?),
                });
            }
            agreement.sort_by(|a, b| a.suspicion.cmp(&b.suspicion).then_with(|| a.verdict.cmp(&b.verdict)));

            // Detectors, most frequent first, with their record against verdicts.
            let detectors = crate::Store::detector_figures(
                self,
                &DetectorQuery {
                    published_from: Some(query.from),
                    published_before: query.to,
                    detector: None,
                    limit: query.top_detectors,
                },
            )
            .await?
            .detectors;

            // Per-subgroup load.
            let d = micros("c.first_assessed_at", "c.received_at");
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT s.slug AS slug, COUNT(*) AS n, \
                 COALESCE(SUM(CASE WHEN c.first_assessed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS assessed, \
                 COALESCE(SUM(CASE WHEN c.first_assessed_at IS NOT NULL AND {d} <= {DAY_US} THEN 1 ELSE 0 END), 0) AS fast \
                 FROM cases c JOIN case_subgroups cs ON cs.case_id = c.id JOIN subgroups s ON s.id = cs.subgroup_id WHERE"
            ));
            cohort(&mut q, query.from, query.to);
            q.push(" GROUP BY s.slug ORDER BY COUNT(*) DESC, s.slug");
            let mut subgroups = Vec::new();
            for row in q.build().fetch_all(&self.pool).await? {
                subgroups.push(SubgroupLoad {
                    slug: row.try_get("slug")?,
                    cases: count(row.try_get("n")?),
                    assessed: count(row.try_get("assessed")?),
                    within_24h: count(row.try_get("fast")?),
                });
            }

            // Notable cases: ranked over the cohort's index entries, then only the chosen rows'
            // documents are read (ranking with `c.doc` in the select list reads every cohort row).
            let order = |t: &str| {
                format!(
                    "CASE {t}.verdict WHEN 'malicious' THEN 0 WHEN 'suspicious' THEN 1 ELSE 2 END, \
                     {t}.published_at DESC, {t}.id DESC"
                )
            };
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT d.doc AS doc, d.version AS version FROM (SELECT c.id, c.verdict, c.published_at FROM cases c WHERE",
            );
            cohort(&mut q, query.from, query.to);
            q.push(format!(" ORDER BY {} LIMIT ", order("c")))
                .push_bind(i64::from(query.notable))
                .push(format!(") n JOIN cases d ON d.id = n.id ORDER BY {}", order("n")));
            let notable = q
                .build()
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| versioned(r, "case"))
                .collect::<StoreResult<Vec<_>>>()?;

            Ok(ReportFigures {
                received: volumes[0],
                assessed: volumes[1],
                published: cohorts[0],
                previous_published: cohorts[1],
                verdicts,
                tags,
                automated,
                human,
                agreement,
                detectors,
                subgroups,
                notable,
            })
        }

        async fn detector_figures(&self, query: &crate::reports::DetectorQuery) -> StoreResult<crate::reports::DetectorSummary> {
            use crate::reports::*;
            let labels = public_labels();
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            let from = query.published_from.unwrap_or(OffsetDateTime::UNIX_EPOCH - time::Duration::days(1));
            // ` c.published_at in [from, before) AND <public>` on alias `c`.
            let cohort = |q: &mut sqlx::QueryBuilder<Db>| {
                q.push(" c.published_at IS NOT NULL AND c.published_at >= ")
                    .push_bind(DbTime(from))
                    .push(" AND c.published_at < ")
                    .push_bind(DbTime(query.published_before))
                    .push(" AND c.tlp IN (");
                let mut sep = q.separated(", ");
                for l in &labels {
                    sep.push_bind(*l);
                }
                q.push(")");
            };
            // The verdicts that confirm or refute a finding, as the domain defines them.
            let verdict_list = |judgement: sx_domain::Judgement| {
                judgement.verdicts().iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
            };
            let (confirming, refuting) =
                (verdict_list(sx_domain::Judgement::Confirmed), verdict_list(sx_domain::Judgement::Refuted));

            let mut q = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM cases c WHERE");
            cohort(&mut q);
            let published = count(q.build().fetch_one(&self.pool).await?.try_get("n")?);

            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT f.detector AS detector, COUNT(*) AS n, \
                 COALESCE(SUM(CASE WHEN c.verdict IN ({confirming}) THEN 1 ELSE 0 END), 0) AS confirmed, \
                 COALESCE(SUM(CASE WHEN c.verdict IN ({refuting}) THEN 1 ELSE 0 END), 0) AS refuted \
                 FROM cases c JOIN case_findings f ON f.case_id = c.id WHERE"
            ));
            cohort(&mut q);
            if let Some(d) = &query.detector {
                q.push(" AND f.detector = ").push_bind(d.clone());
            }
            q.push(" GROUP BY f.detector ORDER BY COUNT(*) DESC, f.detector LIMIT ")
                .push_bind(i64::from(query.limit));
            let mut detectors = Vec::new();
            for row in q.build().fetch_all(&self.pool).await? {
                detectors.push(DetectorFigures {
                    detector: row.try_get("detector")?,
                    cases: count(row.try_get("n")?),
                    confirmed: count(row.try_get("confirmed")?),
                    refuted: count(row.try_get("refuted")?),
                });
            }
            Ok(DetectorSummary { published, detectors })
        }

        async fn save_report(&self, report: &crate::reports::StoredReport) -> StoreResult<bool> {
            let r = sqlx::query(
                "INSERT INTO reports (period, starts_on, ends_at, generated_at, doc) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (period, starts_on) DO NOTHING",
            )
            .bind(&report.period)
            .bind(&report.starts_on)
            .bind(DbTime(report.ends_at))
            .bind(DbTime(report.generated_at))
            .bind(Json(&report.doc))
            .execute(&self.pool)
            .await?;
            Ok(r.rows_affected() == 1)
        }

        async fn get_report(&self, period: &str, starts_on: &str) -> StoreResult<Option<crate::reports::StoredReport>> {
            let row = sqlx::query(
                "SELECT period, starts_on, ends_at, generated_at, doc FROM reports WHERE period = $1 AND starts_on = $2",
            )
            .bind(period)
            .bind(starts_on)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(stored_report).transpose()
        }

        async fn list_reports(&self, limit: u32) -> StoreResult<Vec<crate::reports::StoredReport>> {
            let rows = sqlx::query(
                "SELECT period, starts_on, ends_at, generated_at, doc FROM reports \
                 ORDER BY ends_at DESC, period DESC LIMIT $1",
            )
            .bind(page(limit)?)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(stored_report).collect()
        }
    };
}

/// Free helpers of [`report_methods`]; expanded once per backend module.
macro_rules! report_helpers {
    () => {
        fn stored_report(row: &Row) -> StoreResult<crate::reports::StoredReport> {
            Ok(crate::reports::StoredReport {
                period: row.try_get("period")?,
                starts_on: row.try_get("starts_on")?,
                ends_at: row.try_get::<DbTime, _>("ends_at")?.0,
                generated_at: row.try_get::<DbTime, _>("generated_at")?.0,
                doc: row.try_get::<Json<serde_json::Value>, _>("doc")?.0,
            })
        }
    };
}

pub(crate) use {report_helpers, report_methods};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clear_cases_are_public() {
        assert_eq!(public_labels(), vec!["clear"]);
    }
}
