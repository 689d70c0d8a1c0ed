//! How far a detector's findings agree with expert verdicts: the one definition behind the
//! trend reports, `s-express model evaluate` and the detector pages.
//!
//! A detector *fired* on a case when the case's automated report has at least one finding of
//! it (a case counts once, however many findings the detector made). The experts' effective
//! verdict then *confirms* the detector (`malicious` or `suspicious`), *refutes* it (`benign`)
//! or does neither (`inconclusive`, or no verdict yet). Precision is
//! `confirmed / (confirmed + refuted)`: of the cases an expert settled, the share where the
//! detector was right to raise its hand. It says nothing about what the detector missed.
//!
//! A precision resting on few settled cases is mostly noise; [`DetectorRecord::small_sample`]
//! says when fewer than [`MIN_JUDGED`] cases back it, and every place that shows the figure
//! says so next to it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Verdict;

/// Settled cases (confirmed + refuted) below which a precision is flagged as a small sample.
pub const MIN_JUDGED: u64 = 30;

/// What an expert verdict says about a finding on the same case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// `malicious` or `suspicious`: the detector was right to fire.
    Confirmed,
    /// `benign`: it fired on a harmless change.
    Refuted,
    /// `inconclusive`, or no verdict.
    Unsettled,
}

impl Judgement {
    /// The judgement an effective verdict passes on a case's findings.
    #[must_use]
    pub fn of(verdict: Option<Verdict>) -> Judgement {
        match verdict {
            Some(Verdict::Malicious | Verdict::Suspicious) => Judgement::Confirmed,
            Some(Verdict::Benign) => Judgement::Refuted,
            Some(Verdict::Inconclusive) | None => Judgement::Unsettled,
        }
    }

    /// The verdicts (as stored strings) that pass this judgement, for queries that count in
    /// the database.
    #[must_use]
    pub fn verdicts(self) -> Vec<&'static str> {
        Verdict::ALL
            .iter()
            .filter(|v| Judgement::of(Some(**v)) == self)
            .map(|v| v.as_str())
            .collect()
    }
}

/// One detector's record against expert verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorRecord {
    /// Detector or rule id.
    pub detector: String,
    /// Cases it fired on.
    pub cases: u64,
    /// Of those, judged malicious or suspicious.
    pub confirmed: u64,
    /// Of those, judged benign.
    pub refuted: u64,
}

impl DetectorRecord {
    /// An empty record for `detector`.
    #[must_use]
    pub fn new(detector: impl Into<String>) -> Self {
        DetectorRecord {
            detector: detector.into(),
            ..DetectorRecord::default()
        }
    }

    /// Cases an expert settled either way.
    #[must_use]
    pub fn judged(&self) -> u64 {
        self.confirmed + self.refuted
    }

    /// `confirmed / judged`, in `[0, 1]`; `None` when no case was settled.
    #[must_use]
    pub fn precision(&self) -> Option<f64> {
        let judged = self.judged();
        (judged > 0).then(|| self.confirmed as f64 / judged as f64)
    }

    /// Whether fewer than [`MIN_JUDGED`] settled cases back the precision.
    #[must_use]
    pub fn small_sample(&self) -> bool {
        self.judged() < MIN_JUDGED
    }

    /// Counts one case the detector fired on.
    pub fn count(&mut self, verdict: Option<Verdict>) {
        self.cases += 1;
        match Judgement::of(verdict) {
            Judgement::Confirmed => self.confirmed += 1,
            Judgement::Refuted => self.refuted += 1,
            Judgement::Unsettled => {}
        }
    }
}

/// Detector records built case by case (for data outside the database, e.g. a dataset file).
#[derive(Debug, Clone, Default)]
pub struct DetectorTally {
    by_detector: BTreeMap<String, DetectorRecord>,
}

impl DetectorTally {
    /// Counts one case: the detectors that fired on it (repeats count once) and its verdict.
    pub fn add<'a>(
        &mut self,
        detectors: impl IntoIterator<Item = &'a str>,
        verdict: Option<Verdict>,
    ) {
        let mut fired: Vec<&str> = detectors.into_iter().collect();
        fired.sort_unstable();
        fired.dedup();
        for d in fired {
            self.by_detector
                .entry(d.to_string())
                .or_insert_with(|| DetectorRecord::new(d))
                .count(verdict);
        }
    }

    /// The records, most cases first (ties by id), as the store orders them.
    #[must_use]
    pub fn into_records(self) -> Vec<DetectorRecord> {
        let mut out: Vec<DetectorRecord> = self.by_detector.into_values().collect();
        sort_records(&mut out);
        out
    }
}

/// Orders records most cases first, ties by detector id.
pub fn sort_records(records: &mut [DetectorRecord]) {
    records.sort_by(|a, b| {
        b.cases
            .cmp(&a.cases)
            .then_with(|| a.detector.cmp(&b.detector))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_confirm_refute_or_leave_unsettled() {
        assert_eq!(
            Judgement::of(Some(Verdict::Malicious)),
            Judgement::Confirmed
        );
        assert_eq!(
            Judgement::of(Some(Verdict::Suspicious)),
            Judgement::Confirmed
        );
        assert_eq!(Judgement::of(Some(Verdict::Benign)), Judgement::Refuted);
        assert_eq!(
            Judgement::of(Some(Verdict::Inconclusive)),
            Judgement::Unsettled
        );
        assert_eq!(Judgement::of(None), Judgement::Unsettled);
        assert_eq!(
            Judgement::Confirmed.verdicts(),
            vec!["suspicious", "malicious"]
        );
        assert_eq!(Judgement::Refuted.verdicts(), vec!["benign"]);
    }

    #[test]
    fn precision_counts_settled_cases_only_and_flags_small_samples() {
        let mut r = DetectorRecord::new("d");
        assert_eq!(r.precision(), None);
        r.count(Some(Verdict::Malicious));
        r.count(Some(Verdict::Benign));
        r.count(Some(Verdict::Inconclusive));
        r.count(None);
        assert_eq!((r.cases, r.confirmed, r.refuted, r.judged()), (4, 1, 1, 2));
        assert_eq!(r.precision(), Some(0.5));
        assert!(r.small_sample());
        for _ in 0..MIN_JUDGED {
            r.count(Some(Verdict::Suspicious));
        }
        assert!(!r.small_sample());
    }

    #[test]
    fn a_tally_counts_each_case_once_per_detector() {
        let mut t = DetectorTally::default();
        t.add(["a", "a", "b"], Some(Verdict::Malicious));
        t.add(["a"], Some(Verdict::Benign));
        t.add([], Some(Verdict::Benign));
        let records = t.into_records();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].detector, "a");
        assert_eq!(
            (records[0].cases, records[0].confirmed, records[0].refuted),
            (2, 1, 1)
        );
        assert_eq!((records[1].cases, records[1].confirmed), (1, 1));
    }
}
