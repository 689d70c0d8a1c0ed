//! Re-fitting the risk model's weights from expert verdicts (`s-express model fit`).
//!
//! # Model
//!
//! The analyzer's risk (see [`crate::score`] and `docs/scoring.md`) is
//! `z = bias + Σ_d (w_d · x_d + diminishing · ln n_d)`, where for each detector `d` that fired,
//! `x_d` is the largest `severity × confidence × location` product over its findings, `n_d` the
//! number of its findings and `w_d` its per-detector weight (default 1). Because `w_d ≥ 0`, the
//! maximum of the weighted scores is `w_d` times the maximum of the unweighted ones, so `z` is
//! linear in `(bias, w_d)`: fitting them is a logistic regression with a fixed offset.
//!
//! The fit is L2-regularised *towards the current weights* (a detector that rarely fires keeps
//! roughly its hand-set weight; a detector seen often moves to what the verdicts say), weights
//! are kept in `[0, MAX_WEIGHT]` (a finding never lowers suspicion), and only detectors that
//! fired in at least [`FitOptions::min_cases`] examples get a weight of their own. The solver
//! is a projected Newton method with a backtracking line search: no randomness, so the same
//! dataset gives the same weights.
//!
//! Quality is measured by k-fold cross-validation: examples are split into folds
//! deterministically (stratified by label, ordered by a hash of the example id); each fold is
//! predicted by a model fitted on the other folds, and by the current model. [`Evaluation`]
//! holds the Brier score, log loss, a reliability table and precision/recall per band for both,
//! and [`FitReport::improves`] says whether the new weights are at least as good on held-out
//! data — the CLI refuses to write them otherwise.
//!
//! Pure: no I/O. The CLI turns dataset records into [`Example`]s.

use std::collections::BTreeMap;

use crate::finding::{Confidence, Severity};
use crate::score::{Band, Model};

/// Largest per-detector weight the fit may choose.
pub const MAX_WEIGHT: f64 = 10.0;

/// One finding as the dataset records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Detector or rule id.
    pub detector: String,
    /// Severity.
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// Location classes of the flagged file (`build`, `ci`, `test`, …; see
    /// [`crate::classify::FileClass::roles`]).
    pub roles: Vec<String>,
}

/// One labelled case.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Stable id (the case id); decides the fold.
    pub id: String,
    /// The automated findings at submission.
    pub findings: Vec<Observation>,
    /// The experts' conclusion: `true` for malicious or suspicious, `false` for benign.
    pub positive: bool,
}

/// Fitting settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Number of cross-validation folds (at least 2).
    pub folds: usize,
    /// L2 penalty pulling each weight towards its current value.
    pub l2: f64,
    /// A detector needs to fire in this many examples to get a fitted weight.
    pub min_cases: usize,
    /// Newton iterations at most.
    pub max_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            folds: 5,
            l2: 1.0,
            min_cases: 5,
            max_iterations: 100,
        }
    }
}

/// Why a fit could not run.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum FitError {
    /// Not enough examples for the requested folds.
    #[error(
        "{examples} labelled examples are too few for {folds}-fold cross-validation: need at least {needed} (with both benign and malicious/suspicious verdicts)"
    )]
    TooFewExamples {
        /// Examples given.
        examples: usize,
        /// Folds asked for.
        folds: usize,
        /// Examples needed.
        needed: usize,
    },
    /// Every example has the same label.
    #[error(
        "every labelled example is {0}; the fit needs both benign and malicious/suspicious verdicts"
    )]
    OneClass(&'static str),
    /// Invalid options.
    #[error("invalid fit options: {0}")]
    Options(&'static str),
}

/// Calibration and ranking quality of a set of predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Examples evaluated.
    pub n: usize,
    /// Positive (malicious or suspicious) examples.
    pub positives: usize,
    /// Mean squared error of the probability (lower is better).
    pub brier: f64,
    /// Mean negative log-likelihood (lower is better).
    pub log_loss: f64,
    /// Per band: the examples the model put in it.
    pub bands: Vec<BandStats>,
    /// Flagging at `review` or above, and at `high`.
    pub thresholds: Vec<ThresholdStats>,
    /// Ten equal-width probability bins.
    pub reliability: Vec<ReliabilityBin>,
}

/// The examples the model put in one band.
#[derive(Debug, Clone, PartialEq)]
pub struct BandStats {
    /// The band.
    pub band: Band,
    /// Examples in it.
    pub n: usize,
    /// Of which positive.
    pub positives: usize,
    /// Mean predicted probability.
    pub mean_predicted: f64,
}

impl BandStats {
    /// Observed share of positives (the band's precision); `None` when empty.
    pub fn observed(&self) -> Option<f64> {
        (self.n > 0).then(|| self.positives as f64 / self.n as f64)
    }
}

/// Treating "band ≥ `band`" as a positive prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdStats {
    /// The lowest band counted as flagged.
    pub band: Band,
    /// Examples flagged.
    pub flagged: usize,
    /// Flagged and positive.
    pub true_positives: usize,
    /// All positives.
    pub positives: usize,
}

impl ThresholdStats {
    /// TP / flagged; `None` when nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        (self.flagged > 0).then(|| self.true_positives as f64 / self.flagged as f64)
    }

    /// TP / positives; `None` when there are no positives.
    pub fn recall(&self) -> Option<f64> {
        (self.positives > 0).then(|| self.true_positives as f64 / self.positives as f64)
    }
}

/// One bin of a reliability table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, except 1.0).
    pub upper: f64,
    /// Examples in the bin.
    pub n: usize,
    /// Mean predicted probability.
    pub mean_predicted: f64,
    /// Observed share of positives.
    pub observed: f64,
}

/// A fitted weight.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorWeight {
    /// The detector.
    pub detector: String,
    /// Examples it fired in.
    pub cases: usize,
    /// Weight before the fit.
    pub before: f64,
    /// Weight after the fit (on all examples).
    pub after: f64,
}

/// Everything `model fit` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// The current model on the held-out folds.
    pub before: Evaluation,
    /// Models fitted on the other folds, on each held-out fold.
    pub after: Evaluation,
    /// The model fitted on every example (what would be written).
    pub model: Model,
    /// Fitted detector weights, highest first.
    pub weights: Vec<DetectorWeight>,
    /// Bias before and after.
    pub bias: (f64, f64),
    /// Folds used.
    pub folds: usize,
}

impl FitReport {
    /// Whether the fitted weights are at least as good as the current ones on held-out data
    /// (Brier score and log loss both not worse).
    pub fn improves(&self) -> bool {
        self.after.brier <= self.before.brier + 1e-12
            && self.after.log_loss <= self.before.log_loss + 1e-12
    }
}

/// An example reduced to the model's features under a given model's fixed tables.
#[derive(Debug, Clone)]
struct Features {
    /// `(detector, max unweighted score, count)`.
    per_detector: Vec<(String, f64, usize)>,
    y: f64,
}

fn features(model: &Model, e: &Example) -> Features {
    let mut per: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for f in &e.findings {
        let sev = model.severity.get(&f.severity).copied().unwrap_or(0.0);
        let conf = model.confidence.get(&f.confidence).copied().unwrap_or(1.0);
        let loc: f64 = f
            .roles
            .iter()
            .map(|r| model.location.get(r).copied().unwrap_or(1.0))
            .product();
        let s = per.entry(&f.detector).or_insert((0.0, 0));
        s.0 = s.0.max(sev * conf * loc);
        s.1 += 1;
    }
    Features {
        per_detector: per
            .into_iter()
            .map(|(d, (x, n))| (d.to_string(), x, n))
            .collect(),
        y: if e.positive { 1.0 } else { 0.0 },
    }
}

/// The logit of one example under `model` (same formula as [`Model::risk`]).
fn logit(model: &Model, f: &Features) -> f64 {
    let mut z = model.bias;
    for (d, x, n) in &f.per_detector {
        let w = model.detector.get(d).copied().unwrap_or(1.0);
        z += w * x + model.diminishing * (*n as f64).ln();
    }
    z
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The probability `model` gives each example.
pub fn predict(model: &Model, examples: &[Example]) -> Vec<f64> {
    examples
        .iter()
        .map(|e| sigmoid(logit(model, &features(model, e))))
        .collect()
}

/// Scores predictions against labels, with bands from `model`.
pub fn evaluate(model: &Model, predictions: &[f64], labels: &[bool]) -> Evaluation {
    let n = predictions.len().min(labels.len());
    let positives = labels.iter().take(n).filter(|y| **y).count();
    let mut brier = 0.0;
    let mut log_loss = 0.0;
    let bands_all = [Band::Low, Band::Review, Band::High];
    let mut bands: Vec<BandStats> = bands_all
        .iter()
        .map(|b| BandStats {
            band: *b,
            n: 0,
            positives: 0,
            mean_predicted: 0.0,
        })
        .collect();
    let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); 10];
    for (p, y) in predictions.iter().zip(labels).take(n) {
        let yv = if *y { 1.0 } else { 0.0 };
        brier += (p - yv) * (p - yv);
        let pc = p.clamp(1e-12, 1.0 - 1e-12);
        log_loss -= yv * pc.ln() + (1.0 - yv) * (1.0 - pc).ln();
        let bi = match model.band(*p) {
            Band::Low => 0,
            Band::Review => 1,
            Band::High => 2,
        };
        if let Some(b) = bands.get_mut(bi) {
            b.n += 1;
            b.positives += usize::from(*y);
            b.mean_predicted += p;
        }
        let bin = ((p * 10.0).floor() as usize).min(9);
        if let Some(b) = bins.get_mut(bin) {
            b.0 += 1;
            b.1 += p;
            b.2 += usize::from(*y);
        }
    }
    for b in &mut bands {
        if b.n > 0 {
            b.mean_predicted /= b.n as f64;
        }
    }
    let thresholds = [Band::Review, Band::High]
        .iter()
        .map(|min| {
            let mut flagged = 0;
            let mut tp = 0;
            for (p, y) in predictions.iter().zip(labels).take(n) {
                if model.band(*p) >= *min {
                    flagged += 1;
                    tp += usize::from(*y);
                }
            }
            ThresholdStats {
                band: *min,
                flagged,
                true_positives: tp,
                positives,
            }
        })
        .collect();
    let reliability = bins
        .into_iter()
        .enumerate()
        .map(|(i, (count, sum, pos))| ReliabilityBin {
            lower: i as f64 / 10.0,
            upper: (i + 1) as f64 / 10.0,
            n: count,
            mean_predicted: if count > 0 { sum / count as f64 } else { 0.0 },
            observed: if count > 0 {
                pos as f64 / count as f64
            } else {
                0.0
            },
        })
        .collect();
    let nf = n.max(1) as f64;
    Evaluation {
        n,
        positives,
        brier: brier / nf,
        log_loss: log_loss / nf,
        bands,
        thresholds,
        reliability,
    }
}

/// FNV-1a, for a fold assignment that depends only on the id.
fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Fold of each example: stratified by label, ordered by id hash, dealt round-robin.
fn assign_folds(examples: &[Example], folds: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| {
        let e = &examples[i];
        (e.positive, id_hash(&e.id), e.id.clone())
    });
    let mut out = vec![0; examples.len()];
    for (rank, i) in order.into_iter().enumerate() {
        out[i] = rank % folds;
    }
    out
}

/// One training row: sparse `(parameter index, value)` pairs, the fixed offset, the label.
type DesignRow = (Vec<(usize, f64)>, f64, f64);

/// Fits `bias` and the weights of `fitted` detectors on `train`; others keep `base`'s weights.
fn fit_on(base: &Model, train: &[Features], fitted: &[String], options: &FitOptions) -> Model {
    let k = fitted.len();
    let index: BTreeMap<&str, usize> = fitted
        .iter()
        .enumerate()
        .map(|(i, d)| (d.as_str(), i + 1))
        .collect();
    // Design rows: x[0] = 1 (bias), x[j] = feature of fitted detector j; plus a fixed offset.
    let rows: Vec<DesignRow> = train
        .iter()
        .map(|f| {
            let mut xs = vec![(0usize, 1.0)];
            let mut offset = 0.0;
            for (d, x, n) in &f.per_detector {
                offset += base.diminishing * (*n as f64).ln();
                match index.get(d.as_str()) {
                    Some(&j) => xs.push((j, *x)),
                    None => offset += base.detector.get(d).copied().unwrap_or(1.0) * x,
                }
            }
            (xs, offset, f.y)
        })
        .collect();
    let mut prior = vec![base.bias];
    prior.extend(
        fitted
            .iter()
            .map(|d| base.detector.get(d).copied().unwrap_or(1.0)),
    );
    // A weak pull on the bias keeps the problem well-posed when a class is rare.
    let penalty: Vec<f64> = std::iter::once(options.l2 * 0.01)
        .chain(std::iter::repeat_n(options.l2, k))
        .collect();
    let loss = |theta: &[f64]| -> f64 {
        let mut l = 0.0;
        for (xs, off, y) in &rows {
            let z = off + xs.iter().map(|(j, x)| theta[*j] * x).sum::<f64>();
            // log(1 + e^z) - y z, computed stably.
            l += if z > 0.0 {
                z + (-z).exp().ln_1p()
            } else {
                z.exp().ln_1p()
            } - y * z;
        }
        for j in 0..=k {
            l += 0.5 * penalty[j] * (theta[j] - prior[j]).powi(2);
        }
        l
    };
    let clamp = |theta: &mut [f64]| {
        for w in theta.iter_mut().skip(1) {
            *w = w.clamp(0.0, MAX_WEIGHT);
        }
    };
    let mut theta = prior.clone();
    let mut current = loss(&theta);
    for _ in 0..options.max_iterations {
        let mut grad = vec![0.0; k + 1];
        let mut hess = vec![vec![0.0; k + 1]; k + 1];
        for (xs, off, y) in &rows {
            let z = off + xs.iter().map(|(j, x)| theta[*j] * x).sum::<f64>();
            let p = sigmoid(z);
            let w = (p * (1.0 - p)).max(1e-12);
            for (a, xa) in xs {
                grad[*a] += (p - y) * xa;
                for (b, xb) in xs {
                    hess[*a][*b] += w * xa * xb;
                }
            }
        }
        for j in 0..=k {
            grad[j] += penalty[j] * (theta[j] - prior[j]);
            hess[j][j] += penalty[j];
        }
        let Some(step) = solve(hess, grad) else {
            break;
        };
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let mut candidate: Vec<f64> = theta.iter().zip(&step).map(|(a, s)| a - t * s).collect();
            clamp(&mut candidate);
            let l = loss(&candidate);
            if l < current {
                let moved = candidate
                    .iter()
                    .zip(&theta)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                theta = candidate;
                current = l;
                improved = moved > 1e-10;
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    let mut model = base.clone();
    model.bias = theta[0];
    for (i, d) in fitted.iter().enumerate() {
        model.detector.insert(d.clone(), theta[i + 1]);
    }
    model
}

/// Solves `a x = b` (symmetric positive definite) by Gaussian elimination with partial
/// pivoting; `None` if singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-14 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row][col] / a[col][col];
            if factor == 0.0 {
                continue;
            }
            let (upper, lower) = a.split_at_mut(row);
            for (target, pivot_value) in lower[0][col..n].iter_mut().zip(&upper[col][col..n]) {
                *target -= factor * pivot_value;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Fits the weights of `current` to the examples with k-fold cross-validation.
///
/// # Errors
/// When there are too few examples or only one class.
pub fn fit(
    current: &Model,
    examples: &[Example],
    options: &FitOptions,
) -> Result<FitReport, FitError> {
    if options.folds < 2 {
        return Err(FitError::Options("at least 2 folds are needed"));
    }
    if !(options.l2.is_finite() && options.l2 > 0.0) {
        return Err(FitError::Options(
            "the L2 penalty must be a positive number",
        ));
    }
    let positives = examples.iter().filter(|e| e.positive).count();
    let needed = options.folds * 2;
    if examples.len() < needed {
        return Err(FitError::TooFewExamples {
            examples: examples.len(),
            folds: options.folds,
            needed,
        });
    }
    if positives == 0 {
        return Err(FitError::OneClass("benign"));
    }
    if positives == examples.len() {
        return Err(FitError::OneClass("malicious or suspicious"));
    }
    let feats: Vec<Features> = examples.iter().map(|e| features(current, e)).collect();
    let labels: Vec<bool> = examples.iter().map(|e| e.positive).collect();
    let fold_of = assign_folds(examples, options.folds);

    let eligible = |rows: &[&Features]| -> Vec<String> {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for f in rows {
            for (d, _, _) in &f.per_detector {
                *count.entry(d).or_default() += 1;
            }
        }
        count
            .into_iter()
            .filter(|(_, n)| *n >= options.min_cases)
            .map(|(d, _)| d.to_string())
            .collect()
    };

    let before: Vec<f64> = feats.iter().map(|f| sigmoid(logit(current, f))).collect();
    let mut after = vec![0.0; examples.len()];
    for fold in 0..options.folds {
        let train: Vec<&Features> = feats
            .iter()
            .zip(&fold_of)
            .filter(|(_, k)| **k != fold)
            .map(|(f, _)| f)
            .collect();
        let fitted = eligible(&train);
        let train_owned: Vec<Features> = train.into_iter().cloned().collect();
        let model = fit_on(current, &train_owned, &fitted, options);
        for (i, f) in feats.iter().enumerate() {
            if fold_of[i] == fold {
                after[i] = sigmoid(logit(&model, f));
            }
        }
    }

    let all: Vec<&Features> = feats.iter().collect();
    let fitted = eligible(&all);
    let model = fit_on(current, &feats, &fitted, options);
    let mut cases: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &feats {
        for (d, _, _) in &f.per_detector {
            *cases.entry(d).or_default() += 1;
        }
    }
    let mut weights: Vec<DetectorWeight> = fitted
        .iter()
        .map(|d| DetectorWeight {
            detector: d.clone(),
            cases: cases.get(d.as_str()).copied().unwrap_or(0),
            before: current.detector.get(d).copied().unwrap_or(1.0),
            after: model.detector.get(d).copied().unwrap_or(1.0),
        })
        .collect();
    weights.sort_by(|a, b| {
        b.after
            .total_cmp(&a.after)
            .then_with(|| a.detector.cmp(&b.detector))
    });
    let mut model = model;
    model.version = current.version.saturating_add(1);
    Ok(FitReport {
        before: evaluate(current, &before, &labels),
        after: evaluate(current, &after, &labels),
        bias: (current.bias, model.bias),
        model,
        weights,
        folds: options.folds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a tiny deterministic generator for synthetic data.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn chance(&mut self, p: f64) -> bool {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
        }
    }

    fn obs(detector: &str, severity: Severity) -> Observation {
        Observation {
            detector: detector.into(),
            severity,
            confidence: Confidence::Medium,
            roles: vec![],
        }
    }

    /// 30 % positives. `strong-*` fire mostly on positives, `noise-*` equally often on both.
    fn synthetic(n: usize, seed: u64) -> Vec<Example> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|i| {
                let positive = rng.chance(0.3);
                let mut findings = Vec::new();
                let fire = |rng: &mut Rng, on_pos: f64, on_neg: f64| {
                    rng.chance(if positive { on_pos } else { on_neg })
                };
                if fire(&mut rng, 0.7, 0.03) {
                    findings.push(obs("strong-payload", Severity::High));
                }
                if fire(&mut rng, 0.5, 0.05) {
                    findings.push(obs("strong-exfil", Severity::Medium));
                }
                if fire(&mut rng, 0.4, 0.4) {
                    findings.push(obs("noise-unpinned", Severity::High));
                }
                if fire(&mut rng, 0.5, 0.5) {
                    findings.push(obs("noise-new-dep", Severity::Medium));
                    findings.push(obs("noise-new-dep", Severity::Low));
                }
                Example {
                    id: format!("case-{i:05}"),
                    findings,
                    positive,
                }
            })
            .collect()
    }

    #[test]
    fn the_fit_ranks_informative_detectors_above_noise_and_improves_held_out_brier() {
        let current = Model::builtin();
        let examples = synthetic(1500, 7);
        let report = fit(&current, &examples, &FitOptions::default()).unwrap();
        let w = |d: &str| {
            report
                .weights
                .iter()
                .find(|x| x.detector == d)
                .map(|x| x.after)
                .unwrap()
        };
        for strong in ["strong-payload", "strong-exfil"] {
            for noise in ["noise-unpinned", "noise-new-dep"] {
                assert!(
                    w(strong) > w(noise),
                    "{strong} {} vs {noise} {}",
                    w(strong),
                    w(noise)
                );
            }
        }
        assert!(w("noise-unpinned") < 0.3, "{:?}", report.weights);
        let top: Vec<&str> = report
            .weights
            .iter()
            .take(2)
            .map(|x| x.detector.as_str())
            .collect();
        assert!(top.contains(&"strong-payload") && top.contains(&"strong-exfil"));
        assert!(
            report.after.brier < report.before.brier * 0.8,
            "held-out Brier {} vs current {}",
            report.after.brier,
            report.before.brier
        );
        assert!(report.improves());
        // The fitted model round-trips through the weights file format.
        let text = report.model.to_toml();
        let back = Model::from_toml(&text).unwrap();
        assert_eq!(
            back.detector.get("strong-payload"),
            report.model.detector.get("strong-payload")
        );
        assert_eq!(back.version, current.version + 1);
    }

    #[test]
    fn the_fit_is_deterministic() {
        let examples = synthetic(300, 3);
        let a = fit(&Model::builtin(), &examples, &FitOptions::default()).unwrap();
        let b = fit(&Model::builtin(), &examples, &FitOptions::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn pure_noise_does_not_beat_a_model_that_already_fits() {
        // Labels independent of every finding: a model that already predicts the base rate
        // (all detector weights 0, bias at the log-odds) cannot be improved on held-out data.
        let mut rng = Rng(11);
        let examples: Vec<Example> = (0..400)
            .map(|i| Example {
                id: format!("c{i}"),
                findings: if rng.chance(0.5) {
                    vec![obs("noise-a", Severity::High)]
                } else {
                    vec![]
                },
                positive: rng.chance(0.3),
            })
            .collect();
        let mut current = Model::builtin();
        let rate = examples.iter().filter(|e| e.positive).count() as f64 / 400.0;
        current.bias = (rate / (1.0 - rate)).ln();
        current.detector.insert("noise-a".into(), 0.0);
        let report = fit(&current, &examples, &FitOptions::default()).unwrap();
        assert!(
            report.after.brier >= report.before.brier - 1e-3,
            "{} vs {}",
            report.after.brier,
            report.before.brier
        );
    }

    #[test]
    fn too_few_or_one_sided_examples_are_refused() {
        let few = synthetic(5, 1);
        assert!(matches!(
            fit(&Model::builtin(), &few, &FitOptions::default()),
            Err(FitError::TooFewExamples { .. })
        ));
        let mut one = synthetic(50, 1);
        for e in &mut one {
            e.positive = false;
        }
        assert_eq!(
            fit(&Model::builtin(), &one, &FitOptions::default()),
            Err(FitError::OneClass("benign"))
        );
    }

    #[test]
    fn evaluation_counts_bands_thresholds_and_bins() {
        let m = Model::builtin();
        let p = [0.05, 0.35, 0.9, 0.95];
        let y = [false, true, true, false];
        let e = evaluate(&m, &p, &y);
        assert_eq!(e.n, 4);
        assert_eq!(e.positives, 2);
        assert_eq!(
            e.bands.iter().map(|b| b.n).collect::<Vec<_>>(),
            vec![1, 1, 2]
        );
        let review = &e.thresholds[0];
        assert_eq!((review.flagged, review.true_positives), (3, 2));
        assert_eq!(review.recall(), Some(1.0));
        let high = &e.thresholds[1];
        assert_eq!(high.precision(), Some(0.5));
        assert_eq!(e.reliability.iter().map(|b| b.n).sum::<usize>(), 4);
        let brier = (0.05f64.powi(2) + 0.65f64.powi(2) + 0.1f64.powi(2) + 0.95f64.powi(2)) / 4.0;
        assert!((e.brier - brier).abs() < 1e-12);
    }
}
