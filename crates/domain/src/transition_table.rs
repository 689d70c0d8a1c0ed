//! The checks shared by the unit tests of the hand-written transition tables (assessments,
//! embargoes): each table lists every (state, action) pair, `Some(to)` where the action is
//! legal, and `apply` does what the table says.

use std::fmt::{Debug, Display};

/// Asserts that `table` lists every pair of `states` and `actions`.
pub(crate) fn assert_covers_every_pair<S, A>(
    table: &[(S, A, Option<S>)],
    states: &[S],
    actions: &[A],
) where
    S: PartialEq + Display,
    A: PartialEq + Display,
{
    assert_eq!(table.len(), states.len() * actions.len());
    for s in states {
        for a in actions {
            assert!(
                table.iter().any(|(ts, ta, _)| ts == s && ta == a),
                "{s} {a} missing"
            );
        }
    }
}

/// Asserts that `apply` moves to the state `table` names, and fails with exactly
/// `refused(from, action)` where it names none.
pub(crate) fn assert_apply_follows<S, A, E>(
    table: &[(S, A, Option<S>)],
    apply: impl Fn(S, A) -> Result<S, E>,
    refused: impl Fn(S, A) -> E,
) where
    S: Copy + PartialEq + Debug + Display,
    A: Copy + Display,
    E: PartialEq + Debug,
{
    for &(from, action, to) in table {
        match to {
            Some(to) => assert_eq!(apply(from, action), Ok(to), "{from} --{action}-->"),
            None => assert_eq!(apply(from, action), Err(refused(from, action))),
        }
    }
}
