//! `commit-metadata-anomaly`: commit metadata that does not fit how the change claims to have
//! been made:
//! - an author date more than 30 days away from the committer date (a backdated commit, or an
//!   old patch replayed under a new context);
//! - an author date in the future of its committer date;
//! - a committer who differs from the author and is not one of the repository's known active
//!   committers (PHP git server, 2021: the commits carried maintainers' names as authors but
//!   were pushed through another path). Forge web-flow committers (`noreply@github.com`,
//!   GitLab, Forgejo) are expected and ignored.
//!
//! Needs `Change::context` (the known committers come from its `top_authors`); silent without
//! it. Format-patch mails carry no committer, so only the first two checks apply to them.

use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct CommitMetadataAnomaly;

static META: DetectorMeta = DetectorMeta::new(
    "commit-metadata-anomaly",
    "Commit dates or committer do not match the author",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::Contributor],
    &[],
    "The commit's metadata is unusual: its author date is far from (or after) the date it was \
     committed, or it was committed by someone other than the author who is not a known \
     committer of this repository. Commit metadata is free text that anyone can set, and \
     forged or replayed commits show up exactly here. Check with the named author that they \
     wrote the change.",
);

const DAY: i64 = 86_400;
const FAR_DAYS: i64 = 30;

/// Committers that forges use when a change is merged or edited in the web interface.
fn is_forge_committer(email: &str) -> bool {
    let e = email.to_ascii_lowercase();
    e == "noreply@github.com"
        || e.ends_with("@users.noreply.github.com")
        || e.ends_with("noreply@gitlab.com")
        || e.starts_with("noreply@")
}

impl Detector for CommitMetadataAnomaly {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let Some(ctx) = &cx.change.context else {
            return;
        };
        for (i, c) in cx.change.commits.iter().enumerate() {
            let path = cx
                .change
                .files
                .iter()
                .find(|f| f.commit == Some(i))
                .or(cx.change.files.first())
                .map(|f| f.path().to_string())
                .unwrap_or_default();
            let who = format!("{} <{}>", c.author_name, c.author_email);
            let id =
                c.id.as_deref()
                    .map(|s| format!("commit {}: ", s.chars().take(12).collect::<String>()))
                    .unwrap_or_default();
            if let (Some(a), Some(t)) = (c.author_time, c.committer_time) {
                let days = (t - a) / DAY;
                if days.abs() > FAR_DAYS || a - t > DAY {
                    let what = if a > t {
                        "author date is after the commit date"
                    } else {
                        "author date is far from the commit date"
                    };
                    out.push(
                        META.finding(Location::file(path.clone()))
                            .title(format!("Commit {what}"))
                            .evidence(format!(
                                "{id}{who}: author date {a}, committer date {t} ({days} days apart)"
                            ))
                            .build(),
                    );
                }
            }
            let (Some(cn), Some(ce)) = (&c.committer_name, &c.committer_email) else {
                continue;
            };
            if ce.eq_ignore_ascii_case(&c.author_email) || is_forge_committer(ce) {
                continue;
            }
            let known = ctx
                .top_authors
                .iter()
                .any(|t| t.email.eq_ignore_ascii_case(ce));
            if known {
                continue;
            }
            out.push(
                META.finding(Location::file(path))
                    .title("Committed by an unknown identity on the author's behalf")
                    .confidence(Confidence::Low)
                    .evidence(format!("{id}author {who}, committer {cn} <{ce}> (not among the repository's known committers)"))
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_web_committers_are_expected() {
        assert!(is_forge_committer("noreply@github.com"));
        assert!(is_forge_committer(
            "41898282+github-actions[bot]@users.noreply.github.com"
        ));
        assert!(!is_forge_committer("pusher@example.invalid"));
    }
}
