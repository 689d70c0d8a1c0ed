//! What a case is about: the change and its source, the maintainer's concern, and the
//! analyzer's summary. All of it is attacker-influenced text, so constructors validate
//! sizes and formats.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ValidationError, optional_text, require_text, text_list, truncate};

/// Longest revision name accepted (a SHA-256 hex object id is 64 bytes; refs can be longer).
pub const MAX_REVISION_LEN: usize = 255;
/// Longest concern text accepted, in bytes.
pub const MAX_CONCERN_LEN: usize = 20_000;
/// Most tags on a concern or report.
pub const MAX_TAGS: usize = 64;
/// Longest single tag or finding id, in bytes.
pub const MAX_TAG_LEN: usize = 100;
/// Longest URL or reference accepted, in bytes.
pub const MAX_URL_LEN: usize = 2_000;

/// A revision range `base..head`. Assessments are bound to one; a new head outdates them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Revision {
    base: String,
    head: String,
}

impl Revision {
    /// Builds a range from its two ends.
    ///
    /// # Errors
    /// When either end is empty, too long, contains whitespace, control characters or `..`,
    /// or starts or ends with `.`.
    pub fn new(base: &str, head: &str) -> Result<Self, ValidationError> {
        for part in [base, head] {
            let reason = if part.is_empty() {
                Some("a revision is empty")
            } else if part.len() > MAX_REVISION_LEN {
                Some("a revision is longer than 255 bytes")
            } else if part.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Some("a revision contains whitespace or control characters")
            } else if part.contains("..") {
                Some("a revision contains `..`")
            } else if part.starts_with('.') || part.ends_with('.') {
                // Also rejects `a...b`, git's symmetric-difference form, which means something else.
                Some("a revision starts or ends with `.`")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(ValidationError::Revision {
                    value: truncate(&format!("{base}..{head}")),
                    reason,
                });
            }
        }
        Ok(Self {
            base: base.to_owned(),
            head: head.to_owned(),
        })
    }

    /// The base revision.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The head revision.
    #[must_use]
    pub fn head(&self) -> &str {
        &self.head
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.base, self.head)
    }
}

impl FromStr for Revision {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once("..") {
            Some((base, head)) => Self::new(base, head),
            None => Err(ValidationError::Revision {
                value: truncate(s),
                reason: "no `..` separator",
            }),
        }
    }
}

impl TryFrom<String> for Revision {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Revision> for String {
    fn from(r: Revision) -> Self {
        r.to_string()
    }
}

/// Where the change came from. At least one of `pull_request_url` and `patch_ref` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSource {
    /// The forge pull/merge request URL, if any.
    pub pull_request_url: Option<String>,
    /// Reference to the stored diff/patch text (e.g. a content hash the store resolves).
    pub patch_ref: Option<String>,
    /// The change author's forge handle, as the forge reports it. Used for conflicts.
    pub author: Option<String>,
    /// The change's title or subject line.
    pub title: Option<String>,
}

impl ChangeSource {
    /// Checks the invariants: a source exists, and every field is bounded.
    ///
    /// # Errors
    /// When neither a pull request URL nor a patch reference is given, or a field is too long.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.pull_request_url.is_none() && self.patch_ref.is_none() {
            return Err(ValidationError::Empty {
                field: "pull_request_url or patch_ref",
            });
        }
        if let Some(url) = &self.pull_request_url {
            require_text("pull_request_url", url, MAX_URL_LEN)?;
        }
        if let Some(patch) = &self.patch_ref {
            require_text("patch_ref", patch, MAX_URL_LEN)?;
        }
        if let Some(author) = &self.author {
            require_text("author", author, MAX_TAG_LEN)?;
        }
        if let Some(title) = &self.title {
            optional_text("title", title, MAX_URL_LEN)?;
        }
        Ok(())
    }
}

/// How suspicious the maintainer is, from 1 (just checking) to 5 (convinced it is hostile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SuspicionLevel(u8);

impl SuspicionLevel {
    /// Lowest level.
    pub const MIN: u8 = 1;
    /// Highest level.
    pub const MAX: u8 = 5;

    /// Validates a level.
    ///
    /// # Errors
    /// When `level` is outside 1..=5.
    pub fn new(level: u8) -> Result<Self, ValidationError> {
        if (Self::MIN..=Self::MAX).contains(&level) {
            Ok(Self(level))
        } else {
            Err(ValidationError::out_of_range(
                "suspicion level",
                Self::MIN,
                Self::MAX,
                level,
            ))
        }
    }

    /// The level as a number.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for SuspicionLevel {
    type Error = ValidationError;
    fn try_from(level: u8) -> Result<Self, Self::Error> {
        Self::new(level)
    }
}

impl From<SuspicionLevel> for u8 {
    fn from(level: SuspicionLevel) -> Self {
        level.0
    }
}

/// The maintainer's concern when forwarding the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// Free text: what looked dodgy.
    pub text: String,
    /// How suspicious they are.
    pub suspicion: SuspicionLevel,
    /// Free-form tags (e.g. `ci`, `new-contributor`).
    pub tags: Vec<String>,
}

impl Concern {
    /// Checks sizes.
    ///
    /// # Errors
    /// When the text is too long or a tag is empty or too long, or there are too many tags.
    pub fn validate(&self) -> Result<(), ValidationError> {
        optional_text("concern", &self.text, MAX_CONCERN_LEN)?;
        text_list("concern tags", &self.tags, MAX_TAGS, MAX_TAG_LEN)
    }
}

/// A probability in `[0, 1]` (finite).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct RiskProbability(f64);

impl RiskProbability {
    /// Validates a probability.
    ///
    /// # Errors
    /// When `p` is NaN, infinite or outside `[0, 1]`.
    pub fn new(p: f64) -> Result<Self, ValidationError> {
        if p.is_finite() && (0.0..=1.0).contains(&p) {
            Ok(Self(p))
        } else {
            Err(ValidationError::out_of_range("risk probability", 0, 1, p))
        }
    }

    /// The probability.
    #[must_use]
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for RiskProbability {
    type Error = ValidationError;
    fn try_from(p: f64) -> Result<Self, Self::Error> {
        Self::new(p)
    }
}

impl From<RiskProbability> for f64 {
    fn from(p: RiskProbability) -> Self {
        p.0
    }
}

string_enum! {
    /// The analyzer's risk band.
    pub enum RiskBand {
        /// Nothing notable.
        Low = "low",
        /// Worth a human look.
        Review = "review",
        /// Likely hostile.
        High = "high",
    }
}

/// The analyzer's automated first read, summarised for queries, with the full report kept
/// opaque so the domain does not depend on the analyzer's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomatedReport {
    /// Case-level risk probability.
    pub risk: RiskProbability,
    /// Case-level band.
    pub band: RiskBand,
    /// Detector ids of the findings.
    pub finding_ids: Vec<String>,
    /// Attack-vector and language tags of the findings (input to routing).
    pub tags: Vec<String>,
    /// The analyzer's full report, as JSON.
    pub full: serde_json::Value,
}

impl AutomatedReport {
    /// Checks sizes of the summary fields (the full report is bounded by the caller).
    ///
    /// # Errors
    /// When there are too many finding ids/tags or one is empty or too long.
    pub fn validate(&self) -> Result<(), ValidationError> {
        // Finding ids repeat per finding, so allow more of them than tags.
        text_list("finding ids", &self.finding_ids, MAX_TAGS * 16, MAX_TAG_LEN)?;
        text_list("report tags", &self.tags, MAX_TAGS, MAX_TAG_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_parse_and_print_as_base_dot_dot_head() {
        let r: Revision = "abc123..def456".parse().unwrap();
        assert_eq!((r.base(), r.head()), ("abc123", "def456"));
        assert_eq!(r.to_string(), "abc123..def456");
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"abc123..def456\"");
        assert_eq!(
            serde_json::from_str::<Revision>("\"a..b\"").unwrap(),
            Revision::new("a", "b").unwrap()
        );
    }

    #[test]
    fn malformed_revisions_are_rejected() {
        for bad in ["abc", "..b", "a..", "a...b", "a b..c", "a..b\n", "a..b..c"] {
            assert!(bad.parse::<Revision>().is_err(), "{bad:?}");
        }
        assert!(Revision::new(&"a".repeat(MAX_REVISION_LEN + 1), "b").is_err());
        assert!(serde_json::from_str::<Revision>("\"nope\"").is_err());
    }

    #[test]
    fn suspicion_is_one_to_five() {
        assert!(SuspicionLevel::new(0).is_err());
        assert_eq!(SuspicionLevel::new(1).map(SuspicionLevel::get), Ok(1));
        assert_eq!(SuspicionLevel::new(5).map(SuspicionLevel::get), Ok(5));
        assert!(SuspicionLevel::new(6).is_err());
        assert!(serde_json::from_str::<SuspicionLevel>("9").is_err());
        assert_eq!(
            serde_json::from_str::<SuspicionLevel>("3").unwrap().get(),
            3
        );
    }

    #[test]
    fn risk_is_a_finite_probability() {
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(RiskProbability::new(bad).is_err(), "{bad}");
        }
        assert!(RiskProbability::new(0.0).is_ok() && RiskProbability::new(1.0).is_ok());
        assert!(serde_json::from_str::<RiskProbability>("1.5").is_err());
    }

    #[test]
    fn a_source_needs_a_pull_request_or_a_patch() {
        let mut s = ChangeSource {
            pull_request_url: None,
            patch_ref: None,
            author: None,
            title: None,
        };
        assert!(s.validate().is_err());
        s.patch_ref = Some("sha256:abcd".into());
        assert!(s.validate().is_ok());
        s.author = Some(String::new());
        assert!(s.validate().is_err());
    }

    #[test]
    fn concern_tags_are_bounded() {
        let ok = Concern {
            text: String::new(),
            suspicion: SuspicionLevel::new(3).unwrap(),
            tags: vec!["ci".into()],
        };
        assert!(ok.validate().is_ok());
        let many = Concern {
            tags: vec!["t".into(); MAX_TAGS + 1],
            ..ok.clone()
        };
        assert!(matches!(
            many.validate(),
            Err(ValidationError::TooMany { .. })
        ));
        let long = Concern {
            text: "x".repeat(MAX_CONCERN_LEN + 1),
            ..ok
        };
        assert!(matches!(
            long.validate(),
            Err(ValidationError::TooLong { .. })
        ));
    }
}
