//! The analyzer's output: findings ranked by their weight, the case-level risk and a summary.
//! `schema_version` versions the JSON form (see `docs/report-schema.md`).

use serde::{Deserialize, Serialize};

use crate::change::ParseNote;
use crate::finding::Finding;
use crate::score::Risk;

/// Version of the JSON report schema. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The analysis of one change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub analyzer: AnalyzerInfo,
    pub risk: Risk,
    /// Findings, highest score first.
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Findings hidden by content-bound suppressions, for the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    /// What the parser tolerated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ParseNote>,
}

/// Which analyzer made the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnalyzerInfo {
    pub name: String,
    pub version: String,
    /// Version of the risk model weights.
    pub model_version: u32,
    pub detectors: usize,
}

/// Size of the change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub added_lines: usize,
    pub removed_lines: usize,
    pub binary_files: usize,
    pub commits: usize,
}

/// A finding a suppression hid.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Suppressed {
    pub id: String,
    pub path: String,
    pub line: Option<u32>,
    pub reason: String,
}
