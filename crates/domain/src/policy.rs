//! Instance configuration the rules depend on. The binary reads it once (config file, env)
//! and passes it in; the domain never reads configuration itself.

use time::Duration;

/// Instance-wide rule parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Longest time from receipt to publication without a two-coordinator extension.
    pub max_grace: Duration,
    /// Longest single grace extension that may be requested.
    pub max_extension: Duration,
    /// SLA clocks.
    pub sla: SlaPolicy,
}

impl Default for Policy {
    /// 90 days' grace, extensions of up to 90 days each, and the default SLA.
    fn default() -> Self {
        Self {
            max_grace: Duration::days(90),
            max_extension: Duration::days(90),
            sla: SlaPolicy::default(),
        }
    }
}

/// When the first human assessment is due, and when to warn and escalate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// First submitted assessment due this long after receipt.
    pub first_assessment_due: Duration,
    /// Offsets from receipt at which an unclaimed case raises a warning, ascending.
    pub unclaimed_warnings: Vec<Duration>,
    /// Offset from receipt after which an unclaimed case is escalated to coordinators. A
    /// missed deadline is always escalated, claimed or not.
    pub escalate_unclaimed_after: Duration,
}

impl Default for SlaPolicy {
    /// Due after 24 h; warnings at 12 h and 20 h unclaimed; escalation at 20 h unclaimed.
    fn default() -> Self {
        Self {
            first_assessment_due: Duration::hours(24),
            unclaimed_warnings: vec![Duration::hours(12), Duration::hours(20)],
            escalate_unclaimed_after: Duration::hours(20),
        }
    }
}
