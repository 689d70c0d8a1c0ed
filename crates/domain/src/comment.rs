//! Comment thread entries. Each carries its own TLP label; the effective label is the
//! stricter of its own and its case's (see [`crate::tlp`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ValidationError, require_text};
use crate::ids::{CaseId, CommentId, UserId};
use crate::tlp::TlpLabel;

/// Longest comment body, in bytes.
pub const MAX_COMMENT_LEN: usize = 50_000;

/// One entry in a case's comment thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Stable id.
    pub id: CommentId,
    /// The case.
    pub case_id: CaseId,
    /// Who wrote it.
    pub author: UserId,
    /// The entry it answers, if any.
    pub in_reply_to: Option<CommentId>,
    /// Markdown text (rendered escaped).
    pub body: String,
    /// Its own label.
    pub tlp: TlpLabel,
    /// For RED entries: the named recipients (besides the author). Empty means every named
    /// participant of the case.
    pub recipients: Vec<UserId>,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Comment {
    /// Checks the body.
    ///
    /// # Errors
    /// When the body is empty or too long.
    pub fn validate(&self) -> Result<(), ValidationError> {
        require_text("comment", &self.body, MAX_COMMENT_LEN)
    }
}
