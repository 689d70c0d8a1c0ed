//! The maintainer's decision. Experts only advise; the maintainer decides and records it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::UserId;

string_enum! {
    /// What the maintainer did with the change.
    pub enum DecisionOutcome {
        /// Merged it.
        Merged = "merged",
        /// Rejected/closed it.
        Rejected = "rejected",
        /// Asked the author for changes.
        ChangesRequested = "changes-requested",
        /// Reported the author or the change to the forge.
        ReportedToForge = "reported-to-forge",
        /// Something else (the note says what).
        Other = "other",
    }
}

/// The maintainer's recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What they did.
    pub outcome: DecisionOutcome,
    /// Their note (required for `other`).
    pub note: String,
    /// Who decided.
    pub by: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
