//! `identity-imitation`: a commit identity that imitates someone the repository trusts:
//! - the name of one of the repository's top authors with an e-mail that author never used
//!   (PHP git server, 2021: the backdoor commits were made in the names of two core
//!   maintainers);
//! - a bot's name (`dependabot[bot]`, `github-actions[bot]`, `renovate[bot]`, …) with an e-mail
//!   that is not that bot's (reviewers wave bot updates through);
//! - a name that becomes a top author's name once Cyrillic/Greek look-alike letters are
//!   replaced by Latin ones (a homoglyph name).
//!
//! An e-mail with its own earlier history in the repository (`RepoContext::authors` with
//! `prior_commits > 0`) is an established second address and stays quiet. Needs
//! `Change::context`; silent without it.

use super::unicode_mixed_script_identifier::latin_lookalike;
use crate::change::{CommitMeta, RepoContext};
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct IdentityImitation;

static META: DetectorMeta = DetectorMeta::new(
    "identity-imitation",
    "Commit identity imitates a maintainer or a bot",
    Severity::High,
    Confidence::Medium,
    &[Vector::Contributor],
    &[],
    "The commit is signed with the name of a trusted maintainer or of a well-known bot, but \
     with an e-mail address that identity has never used here, or with look-alike letters. \
     Commit names and e-mails are free text; attackers borrow trusted names so that reviewers \
     relax, as in the 2021 PHP source backdoor. Confirm with the person (or check the bot's \
     real address) before trusting anything in the change.",
);

/// Bot names and the e-mail suffixes their genuine commits use.
const BOTS: &[(&str, &[&str])] = &[
    (
        "dependabot",
        &[
            "dependabot[bot]@users.noreply.github.com",
            "support@github.com",
            "noreply@github.com",
        ],
    ),
    (
        "github-actions",
        &[
            "github-actions[bot]@users.noreply.github.com",
            "actions@github.com",
            "noreply@github.com",
        ],
    ),
    (
        "renovate",
        &[
            "renovate[bot]@users.noreply.github.com",
            "bot@renovateapp.com",
            "renovate@whitesourcesoftware.com",
        ],
    ),
    (
        "pre-commit-ci",
        &["pre-commit-ci[bot]@users.noreply.github.com"],
    ),
    ("snyk-bot", &["snyk-bot@snyk.io"]),
    (
        "greenkeeper",
        &[
            "greenkeeper[bot]@users.noreply.github.com",
            "support@greenkeeper.io",
        ],
    ),
    ("mergify", &["mergify[bot]@users.noreply.github.com"]),
    (
        "copilot",
        &[
            "copilot[bot]@users.noreply.github.com",
            "198982749+Copilot@users.noreply.github.com",
        ],
    ),
];

fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn skeleton(name: &str) -> String {
    normalise(
        &name
            .chars()
            .map(|c| latin_lookalike(c).unwrap_or(c))
            .collect::<String>(),
    )
}

/// What the identity imitates, if anything: (title, severity, confidence, detail).
fn judge(
    ctx: &RepoContext,
    name: &str,
    email: &str,
) -> Option<(&'static str, Severity, Confidence, String)> {
    let established = ctx
        .authors
        .iter()
        .any(|a| a.email.eq_ignore_ascii_case(email) && a.prior_commits > 0)
        || ctx
            .top_authors
            .iter()
            .any(|t| t.email.eq_ignore_ascii_case(email));
    let lower_email = email.to_ascii_lowercase();
    let n = normalise(name);
    for (bot, emails) in BOTS {
        let named =
            n == *bot || n == format!("{bot}[bot]") || n.starts_with(&format!("{bot}[bot]"));
        if named
            && !emails
                .iter()
                .any(|e| lower_email.ends_with(&e.to_ascii_lowercase()))
        {
            return Some((
                "Bot name with a non-bot e-mail",
                Severity::High,
                Confidence::High,
                format!("{name} <{email}> is not an address {bot} commits from"),
            ));
        }
    }
    if established {
        return None;
    }
    if let Some(t) = ctx
        .top_authors
        .iter()
        .find(|t| normalise(&t.name) == n && !t.email.eq_ignore_ascii_case(email))
    {
        return Some((
            "Maintainer's name with an unknown e-mail",
            Severity::High,
            Confidence::Medium,
            format!(
                "{name} <{email}>: the repository knows {} as <{}> ({} commits)",
                t.name, t.email, t.commits
            ),
        ));
    }
    if !name.is_ascii() {
        let sk = skeleton(name);
        if let Some(t) = ctx.top_authors.iter().find(|t| normalise(&t.name) == sk) {
            return Some((
                "Homoglyph of a maintainer's name",
                Severity::High,
                Confidence::High,
                format!(
                    "{} <{email}> reads as {}, a top author of the repository",
                    super::unicode_mixed_script_identifier::mark_lookalikes(name),
                    t.name
                ),
            ));
        }
    }
    None
}

fn identities(c: &CommitMeta) -> Vec<(&'static str, &str, &str)> {
    let mut v = vec![("author", c.author_name.as_str(), c.author_email.as_str())];
    if let (Some(n), Some(e)) = (&c.committer_name, &c.committer_email)
        && !e.eq_ignore_ascii_case(&c.author_email)
    {
        v.push(("committer", n.as_str(), e.as_str()));
    }
    v
}

impl Detector for IdentityImitation {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let Some(ctx) = &cx.change.context else {
            return;
        };
        for (i, c) in cx.change.commits.iter().enumerate() {
            for (role, name, email) in identities(c) {
                let Some((title, severity, confidence, detail)) = judge(ctx, name, email) else {
                    continue;
                };
                let path = cx
                    .change
                    .files
                    .iter()
                    .find(|f| f.commit == Some(i))
                    .or(cx.change.files.first())
                    .map(|f| f.path().to_string())
                    .unwrap_or_default();
                out.push(
                    META.finding(Location::file(path))
                        .title(format!("{title} ({role})"))
                        .severity(severity)
                        .confidence(confidence)
                        .evidence(detail)
                        .build(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::AuthorIdentity;

    fn ctx() -> RepoContext {
        RepoContext {
            top_authors: vec![AuthorIdentity {
                name: "Rasmus Lerdorf".into(),
                email: "rasmus@php.example".into(),
                commits: 900,
            }],
            ..RepoContext::default()
        }
    }

    #[test]
    fn a_maintainers_name_from_a_new_address_is_flagged() {
        assert!(judge(&ctx(), "Rasmus Lerdorf", "rasmus@mail.example").is_some());
        assert!(judge(&ctx(), "Rasmus Lerdorf", "RASMUS@php.example").is_none());
    }

    #[test]
    fn bots_must_use_their_own_addresses() {
        let c = ctx();
        assert!(judge(&c, "dependabot[bot]", "dependabot@evil.example").is_some());
        assert!(
            judge(
                &c,
                "dependabot[bot]",
                "49699333+dependabot[bot]@users.noreply.github.com"
            )
            .is_none()
        );
    }

    #[test]
    fn homoglyph_names_are_read_through() {
        assert!(judge(&ctx(), "Rаsmus Lerdorf", "r@x.example").is_some());
    }
}
