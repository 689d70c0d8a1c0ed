//! # sx-analyzer
//!
//! The analyzer turns a code change into an evidence-backed first assessment.
//!
//! **Model.** A [`Change`] (parsed from a unified diff, a `git format-patch`
//! series or built from a repository by the caller) goes through one [`Analyzer`] built once
//! from the registered Rust detectors and the declarative TOML rule packs. All line patterns of
//! every detector and rule are compiled into a single multi-pattern automaton; each hunk's text
//! is scanned once and every match is dispatched to the detector that declared the pattern.
//! Broader hooks (hunk, file, change) run after the scan. Findings carry a severity, a
//! confidence, a primary span, evidence and a plain explanation; a logistic model whose weights
//! live in a data file combines them into a case-level [`Risk`]: a probability in `[0, 1]` and
//! a band `low` / `review` / `high`.
//!
//! The crate is pure: no file system, network, database, environment or clock access. The
//! same input always yields the same report.

pub mod change;
pub mod classify;
pub mod detector;
pub mod detectors;
pub mod diff;
pub mod engine;
pub mod finding;
pub mod model_fit;
pub mod output;
pub mod report;
pub mod rules;
pub mod score;
pub mod suppress;

pub use change::Change;
pub use engine::{AnalyzeOptions, Analyzer, AnalyzerBuilder, BuildError};
pub use finding::{Confidence, Finding, Severity, Vector};
pub use report::Report;
pub use score::{Band, Model, Risk};
