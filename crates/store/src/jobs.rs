//! The durable job queue's records and retry policy.
//!
//! A job is a named JSON payload with a time before which it must not run. Workers *lease* a
//! job for a bounded time; a worker that dies simply lets the lease expire and the job becomes
//! leasable again (counting as an attempt). A failed attempt is retried after an exponential
//! backoff; after `max_attempts` the job is dead-lettered (state `dead`) for an operator to
//! inspect. Completion and failure are accepted only from the worker that holds the lease, so a
//! job whose lease was taken over cannot be completed twice.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Default number of attempts before a job is dead-lettered.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// First retry delay; doubles with each further attempt.
pub const BACKOFF_BASE: Duration = Duration::from_secs(10);

/// Longest retry delay.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3600);

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// The registered job name, e.g. `analyze_case`.
    pub name: String,
    /// The job's input.
    pub payload: serde_json::Value,
    /// Not before this time.
    pub run_at: OffsetDateTime,
    /// Attempts before dead-lettering (at least 1).
    pub max_attempts: u32,
}

impl NewJob {
    /// A job to run as soon as possible with the default attempt budget.
    pub fn now(name: impl Into<String>, payload: serde_json::Value, now: OffsetDateTime) -> Self {
        NewJob {
            name: name.into(),
            payload,
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Leased by a worker.
    Running,
    /// Completed successfully.
    Done,
    /// Failed `max_attempts` times; needs an operator.
    Dead,
}

impl JobState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// The registered job name.
    pub name: String,
    /// Its input.
    pub payload: serde_json::Value,
    /// Current state.
    pub state: JobState,
    /// Attempts started so far (a lease counts as an attempt).
    pub attempts: u32,
    /// Attempt budget.
    pub max_attempts: u32,
    /// Earliest next run (for queued jobs).
    pub run_at: OffsetDateTime,
    /// Worker holding the lease.
    pub leased_by: Option<String>,
    /// When the current lease ends.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// The last failure message.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: OffsetDateTime,
}

/// Number of jobs per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    /// Waiting.
    pub queued: u64,
    /// Leased.
    pub running: u64,
    /// Completed.
    pub done: u64,
    /// Dead-lettered.
    pub dead: u64,
}

/// Delay before the retry that follows failed attempt number `attempts` (1-based).
pub fn backoff(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    BACKOFF_BASE.saturating_mul(1u32 << exp).min(BACKOFF_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(1), Duration::from_secs(10));
        assert_eq!(backoff(2), Duration::from_secs(20));
        assert_eq!(backoff(3), Duration::from_secs(40));
        assert_eq!(backoff(10), BACKOFF_CAP);
        assert_eq!(backoff(u32::MAX), BACKOFF_CAP);
    }

    #[test]
    fn job_states_round_trip_through_their_names() {
        for s in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Dead,
        ] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("lost"), None);
    }
}
