//! Integration tests for sx-domain: the `Case` aggregate driven through whole journeys.

mod assessments;
mod case_flow;
mod embargo_and_grace;
mod fixtures;
mod queue;
mod snapshots;
mod visibility;
