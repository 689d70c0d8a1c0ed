//! Errors shared by the whole crate. Every public error is `#[non_exhaustive]` so new rules
//! can add variants without breaking callers; messages say what was wrong and what to do.

use std::fmt;

/// Longest prefix of a rejected input echoed back in an error message. Inputs are
/// attacker-controlled, so errors never carry them unbounded.
const ECHO_LIMIT: usize = 64;

/// A text value did not name any variant of a domain enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("unknown {kind} {value:?}; expected one of: {}", .expected.join(", "))]
pub struct ParseEnumError {
    /// The enum that was being parsed, e.g. `TlpLabel`.
    pub kind: &'static str,
    /// The rejected input, truncated to a short prefix.
    pub value: String,
    /// The accepted spellings.
    pub expected: &'static [&'static str],
}

impl ParseEnumError {
    pub(crate) fn new(kind: &'static str, value: &str, expected: &'static [&'static str]) -> Self {
        Self {
            kind,
            value: truncate(value),
            expected,
        }
    }
}

pub(crate) fn truncate(value: &str) -> String {
    value.chars().take(ECHO_LIMIT).collect()
}

/// A value failed a domain invariant (range, length, required field, format).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A number was outside its allowed range.
    #[error("{field} must be between {min} and {max}, got {got}")]
    OutOfRange {
        /// Which field.
        field: &'static str,
        /// Smallest allowed value.
        min: String,
        /// Largest allowed value.
        max: String,
        /// The rejected value.
        got: String,
    },
    /// A required text field was empty or only whitespace.
    #[error("{field} must not be empty; write at least a few words")]
    Empty {
        /// Which field.
        field: &'static str,
    },
    /// A text field was longer than allowed.
    #[error("{field} is {len} bytes long; the limit is {max} bytes, shorten it")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A list had more entries than allowed.
    #[error("{field} has {len} entries; the limit is {max}")]
    TooMany {
        /// Which field.
        field: &'static str,
        /// Number of entries.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A revision range was not of the form `base..head`.
    #[error(
        "invalid revision {value:?}: {reason}; expected `base..head` with two non-empty revisions"
    )]
    Revision {
        /// The rejected input, truncated.
        value: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// A date was not where it had to be relative to another date.
    #[error("{field} {problem}")]
    Date {
        /// Which field.
        field: &'static str,
        /// What was wrong, e.g. "must be in the future".
        problem: &'static str,
    },
}

/// Checks a required, bounded text field.
pub(crate) fn require_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::Empty { field });
    }
    optional_text(field, value, max)
}

/// Checks a bounded text field that may be empty.
pub(crate) fn optional_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if value.len() > max {
        return Err(ValidationError::TooLong {
            field,
            len: value.len(),
            max,
        });
    }
    Ok(())
}

/// Checks a bounded list of bounded, non-empty strings.
pub(crate) fn text_list(
    field: &'static str,
    values: &[String],
    max_len: usize,
    max_each: usize,
) -> Result<(), ValidationError> {
    if values.len() > max_len {
        return Err(ValidationError::TooMany {
            field,
            len: values.len(),
            max: max_len,
        });
    }
    values
        .iter()
        .try_for_each(|v| require_text(field, v, max_each))
}

impl ValidationError {
    pub(crate) fn out_of_range(
        field: &'static str,
        min: impl fmt::Display,
        max: impl fmt::Display,
        got: impl fmt::Display,
    ) -> Self {
        Self::OutOfRange {
            field,
            min: min.to_string(),
            max: max.to_string(),
            got: got.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecisionOutcome, Forge, Role, SlaStatus, TlpLabel, TriageOutcome};

    #[test]
    fn unknown_enum_text_is_named_truncated_and_lists_the_choices() {
        let long = "x".repeat(500);
        let err = long.parse::<TlpLabel>().unwrap_err();
        assert_eq!(err.kind, "TlpLabel");
        assert_eq!(err.value.len(), ECHO_LIMIT);
        assert!(
            err.to_string()
                .contains("expected one of: clear, green, amber, amber-strict, red")
        );
    }

    #[test]
    fn kebab_case_text_forms_are_stable() {
        assert_eq!(
            DecisionOutcome::ChangesRequested.as_str(),
            "changes-requested"
        );
        assert_eq!(
            DecisionOutcome::ReportedToForge.as_str(),
            "reported-to-forge"
        );
        assert_eq!(TriageOutcome::NotSecurity.as_str(), "not-security");
        assert_eq!(SlaStatus::AtRisk.as_str(), "at-risk");
        assert_eq!(Forge::Github.to_string(), "github");
        assert_eq!("coordinator".parse::<Role>(), Ok(Role::Coordinator));
    }

    #[test]
    fn serde_and_as_str_agree_for_every_variant() {
        fn check<T>(all: &[T])
        where
            T: Copy
                + PartialEq
                + std::fmt::Debug
                + std::fmt::Display
                + serde::Serialize
                + serde::de::DeserializeOwned,
        {
            for v in all {
                let json = serde_json::to_string(v).unwrap();
                assert_eq!(json, format!("\"{v}\""));
                assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *v);
            }
        }
        check(TlpLabel::ALL);
        check(DecisionOutcome::ALL);
        check(TriageOutcome::ALL);
        check(Role::ALL);
        check(crate::Verdict::ALL);
        check(crate::CaseStatus::ALL);
        check(crate::AssessmentStatus::ALL);
        check(crate::EmbargoState::ALL);
        check(crate::AttackVector::ALL);
        check(crate::Language::ALL);
        check(crate::ParticipantRole::ALL);
        check(crate::Finality::ALL);
    }
}
