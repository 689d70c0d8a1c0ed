//! The comment S-Express posts on a forwarded pull request, and updates as the case moves.
//!
//! The comment respects the case's TLP label. A pull request comment on a public repository is
//! public, so while the case is sealed (AMBER+STRICT) it says only that the case exists, where
//! it is, and when it will be published at the latest — never the band, the findings or a
//! verdict. On a private repository the comment is seen by the repository's members only, who
//! are the project's own organisation, which AMBER+STRICT admits: there the automated first
//! assessment is shown at once. Once the case is published (CLEAR) the comment shows the
//! automated assessment and the experts' verdict everywhere.

use sx_domain::{Case, Policy, Viewer};

/// Markdown-escapes text for a forge comment (finding ids come from the analyzer, but escape
/// anyway: the comment must never be a vehicle for someone else's markup).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '+'
                | '!'
                | '|'
                | '<'
                | '>'
                | '@'
        ) {
            out.push('\\');
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// The comment body for `case`.
#[must_use]
pub fn body(case: &Case, public_base_url: &str, private_repo: bool, policy: &Policy) -> String {
    let url = format!("{public_base_url}/api/v1/cases/{}", case.id);
    let published = sx_domain::may_view(&Viewer::Anonymous, &case.tlp_object());
    let show = published || private_repo;
    let mut out = format!(
        "**S-Express** received this pull request as case [{}]({url}).\n\n",
        case.id
    );
    out.push_str(&format!(
        "Revision: `{}..{}`\n\n",
        escape(case.revision.base()),
        escape(case.revision.head())
    ));
    match (&case.report, show) {
        (Some(report), true) => {
            out.push_str(&format!(
                "**Automated first assessment:** band **{}** (risk {:.2}), {} finding(s)",
                report.band,
                report.risk.get(),
                report.finding_ids.len()
            ));
            let mut ids: Vec<&String> = report.finding_ids.iter().collect();
            ids.dedup();
            if !ids.is_empty() {
                let list: Vec<String> = ids.iter().take(10).map(|i| format!("`{}`", escape(i))).collect();
                out.push_str(&format!(": {}", list.join(", ")));
            }
            out.push_str(".\n\n");
        }
        (Some(_), false) => out.push_str(
            "The automated first assessment is ready for the project's maintainers at the link.\n\n",
        ),
        (None, _) => out.push_str("The automated first assessment is running.\n\n"),
    }
    if published {
        match case.effective_verdict() {
            Some(v) => out.push_str(&format!(
                "**Expert verdict:** {} ({}).\n\n",
                v.verdict, v.finality
            )),
            None => out.push_str("No expert verdict was given.\n\n"),
        }
        if let Some(decision) = &case.decision {
            out.push_str(&format!("Maintainer's decision: {}.\n\n", decision.outcome));
        }
        out.push_str("The case is published (TLP:CLEAR).\n");
    } else {
        out.push_str("The case is TLP:AMBER+STRICT: its content is shared with the project's maintainers and the assigned experts only");
        if let Some(at) = case.publication_date(policy) {
            let date = at.date();
            out.push_str(&format!(", and will be published on {date} at the latest"));
        } else {
            out.push_str(&format!(
                ", and will be published by {} at the latest",
                case.grace_deadline(policy).date()
            ));
        }
        out.push_str(". An expert assessment is due within 24 hours; this comment is updated when the case is published.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_mentions_are_escaped() {
        assert_eq!(escape("a*b@c[x](y)"), "a\\*b\\@c\\[x\\]\\(y\\)");
        assert_eq!(escape("a\nb"), "ab");
    }
}
