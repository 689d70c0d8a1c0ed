//! The case-level risk: a logistic model over findings whose weights live in a data file
//! (`model/weights.toml`, embedded; replaceable at run time), so it can be re-fitted from
//! expert verdicts without a code change. The formula is documented in that file and in
//! `docs/scoring.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::FileClass;
use crate::finding::{Confidence, Finding, Severity};

/// The weights file did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("risk model weights are not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("risk model weights: {0}")]
    Invalid(String),
}

/// Band thresholds on the probability.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Bands {
    pub review: f64,
    pub high: f64,
}

/// The logistic model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub version: u32,
    pub bias: f64,
    pub diminishing: f64,
    pub bands: Bands,
    pub severity: BTreeMap<Severity, f64>,
    pub confidence: BTreeMap<Confidence, f64>,
    pub location: BTreeMap<String, f64>,
    #[serde(default)]
    pub detector: BTreeMap<String, f64>,
}

/// The shipped weights.
pub const DEFAULT_WEIGHTS: &str = include_str!("../model/weights.toml");

impl Model {
    /// Parse and check a weights file.
    pub fn from_toml(text: &str) -> Result<Self, ModelError> {
        let m: Model = toml::from_str(text)?;
        if !(0.0 < m.bands.review && m.bands.review < m.bands.high && m.bands.high < 1.0) {
            return Err(ModelError::Invalid(
                "bands must satisfy 0 < review < high < 1".into(),
            ));
        }
        for s in Severity::ALL {
            if !m.severity.contains_key(&s) {
                return Err(ModelError::Invalid(format!("[severity] lacks {s}")));
            }
        }
        for c in Confidence::ALL {
            if !m.confidence.contains_key(&c) {
                return Err(ModelError::Invalid(format!("[confidence] lacks {c}")));
            }
        }
        let all = m
            .severity
            .values()
            .chain(m.confidence.values())
            .chain(m.location.values())
            .chain(m.detector.values());
        if all
            .chain([m.bias, m.diminishing].iter())
            .any(|w| !w.is_finite())
        {
            return Err(ModelError::Invalid("weights must be finite numbers".into()));
        }
        Ok(m)
    }

    /// The shipped model.
    pub fn builtin() -> Self {
        // The embedded file is checked by a unit test; fall back to a neutral model rather
        // than panic if someone ships a broken one.
        Self::from_toml(DEFAULT_WEIGHTS).unwrap_or_else(|_| Self::neutral())
    }

    fn neutral() -> Self {
        Self {
            version: 0,
            bias: -4.0,
            diminishing: 0.35,
            bands: Bands {
                review: 0.3,
                high: 0.8,
            },
            severity: Severity::ALL
                .iter()
                .zip([0.0, 1.0, 2.4, 4.0, 6.5])
                .map(|(s, w)| (*s, w))
                .collect(),
            confidence: Confidence::ALL
                .iter()
                .zip([0.45, 0.75, 1.0])
                .map(|(c, w)| (*c, w))
                .collect(),
            location: BTreeMap::new(),
            detector: BTreeMap::new(),
        }
    }

    /// Serialize back to TOML (for `model fit`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// A single finding's score, given the class of the file it is in.
    pub fn finding_score(&self, f: &Finding, class: Option<&FileClass>) -> f64 {
        let sev = self.severity.get(&f.severity).copied().unwrap_or(0.0);
        let conf = self.confidence.get(&f.confidence).copied().unwrap_or(1.0);
        let det = self.detector.get(&f.id).copied().unwrap_or(1.0);
        let loc: f64 = class
            .map(|c| {
                c.roles()
                    .iter()
                    .map(|r| self.location.get(*r).copied().unwrap_or(1.0))
                    .product()
            })
            .unwrap_or(1.0);
        sev * conf * det * loc
    }

    /// Combine scored findings into the case-level risk.
    pub fn risk(&self, findings: &[Finding]) -> Risk {
        let mut per_detector: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        for f in findings {
            let e = per_detector.entry(&f.id).or_insert((0.0, 0));
            e.0 = e.0.max(f.score);
            e.1 += 1;
        }
        let mut contributions: Vec<Contribution> = per_detector
            .into_iter()
            .map(|(id, (max, n))| Contribution {
                detector: id.to_string(),
                value: max + self.diminishing * (n as f64).ln(),
            })
            .collect();
        contributions.sort_by(|a, b| {
            b.value
                .total_cmp(&a.value)
                .then_with(|| a.detector.cmp(&b.detector))
        });
        let z = self.bias + contributions.iter().map(|c| c.value).sum::<f64>();
        let probability = 1.0 / (1.0 + (-z).exp());
        Risk {
            probability: (probability * 1e6).round() / 1e6,
            band: self.band(probability),
            logit: (z * 1e6).round() / 1e6,
            contributions,
        }
    }

    pub fn band(&self, p: f64) -> Band {
        if p >= self.bands.high {
            Band::High
        } else if p >= self.bands.review {
            Band::Review
        } else {
            Band::Low
        }
    }
}

/// The risk band.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Band {
    Low,
    Review,
    High,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Review => "review",
            Band::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Band::Low, Band::Review, Band::High]
            .into_iter()
            .find(|b| b.as_str() == s)
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detector's share of the logit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Contribution {
    pub detector: String,
    pub value: f64,
}

/// Case-level risk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Risk {
    pub probability: f64,
    pub band: Band,
    /// The model's linear score before the logistic function.
    pub logit: f64,
    /// What each detector added, largest first.
    pub contributions: Vec<Contribution>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::DetectorMeta;
    use crate::finding::{Location, Vector};

    const META: DetectorMeta = DetectorMeta::new(
        "t",
        "t",
        Severity::High,
        Confidence::High,
        &[Vector::Payload],
        &[],
        "e",
    );

    fn f(sev: Severity, conf: Confidence, score_with: &Model) -> Finding {
        let mut f = META
            .finding(Location::file("x"))
            .severity(sev)
            .confidence(conf)
            .build();
        f.score = score_with.finding_score(&f, None);
        f
    }

    #[test]
    fn the_shipped_weights_load() {
        Model::from_toml(DEFAULT_WEIGHTS).unwrap();
    }

    #[test]
    fn no_findings_is_low() {
        let m = Model::builtin();
        let r = m.risk(&[]);
        assert_eq!(r.band, Band::Low);
        assert!(r.probability < 0.05);
    }

    #[test]
    fn one_critical_high_confidence_finding_is_high() {
        let m = Model::builtin();
        let r = m.risk(&[f(Severity::Critical, Confidence::High, &m)]);
        assert_eq!(r.band, Band::High, "{r:?}");
    }

    #[test]
    fn one_medium_low_confidence_finding_stays_low() {
        let m = Model::builtin();
        let r = m.risk(&[f(Severity::Medium, Confidence::Low, &m)]);
        assert_eq!(r.band, Band::Low, "{r:?}");
    }

    #[test]
    fn repeats_of_one_detector_add_less_than_distinct_detectors() {
        let m = Model::builtin();
        let a = f(Severity::Medium, Confidence::Medium, &m);
        let mut b = a.clone();
        b.id = "other".into();
        let same = m.risk(&[a.clone(), a.clone()]);
        let distinct = m.risk(&[a, b]);
        assert!(distinct.probability > same.probability);
    }

    #[test]
    fn execution_path_files_weigh_more_than_docs() {
        let m = Model::builtin();
        let fi = META.finding(Location::file("x")).build();
        let build = crate::classify::classify("build.rs");
        let docs = crate::classify::classify("README.md");
        assert!(m.finding_score(&fi, Some(&build)) > m.finding_score(&fi, Some(&docs)));
    }

    #[test]
    fn broken_bands_are_refused() {
        let bad = DEFAULT_WEIGHTS.replace("review = 0.30", "review = 0.95");
        assert!(Model::from_toml(&bad).is_err());
    }
}
