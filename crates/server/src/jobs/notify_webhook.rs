//! `NotifyWebhook`: posts one signed notification to a user's webhook (see
//! [`crate::notify::webhook`] for the signature and the address policy).
//!
//! Idempotent: the delivery key is recorded once the target answered 2xx, and a job whose key
//! is recorded does nothing. Before sending, the recipient's settings and their right to see
//! the case (TLP) are checked again.

use crate::AppState;
use crate::notify::{Channel, deliver};

/// The job's registered name.
pub const NAME: &str = "notify_webhook";

/// Runs the job.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried with backoff).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    deliver(state, job, Channel::Webhook).await
}
