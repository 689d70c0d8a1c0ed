//! Atom feeds (RFC 4287): published cases and trend reports.
//!
//! Written by hand: a feed is a few elements, and every text and attribute goes through
//! [`xml_escape`]. Each feed and entry has a permanent `id` (`urn:uuid:` for cases, the
//! report's URL for reports), an `updated` time, a `title`, an `alternate` link and, at feed
//! level, an `author` and a `self` link, as section 4.1 requires.

use std::fmt::Write as _;

use sx_domain::PublishedCase;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::model::Report;

/// Escapes text for XML character data and attribute values.
#[must_use]
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids (controls other than tab/newline/return) are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// One feed entry.
#[derive(Debug)]
pub struct Entry {
    /// Permanent id (an IRI).
    pub id: String,
    /// Title (text).
    pub title: String,
    /// Last change.
    pub updated: OffsetDateTime,
    /// First publication.
    pub published: Option<OffsetDateTime>,
    /// The HTML page.
    pub link: String,
    /// Summary (text).
    pub summary: String,
}

/// A whole feed document.
#[must_use]
pub fn feed(base_url: &str, path: &str, title: &str, subtitle: &str, entries: &[Entry]) -> String {
    let base = base_url.trim_end_matches('/');
    // A feed's `updated` is its newest entry's; an empty feed uses a fixed instant so the
    // document does not change between requests.
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(o, "  <id>{}</id>", xml_escape(&format!("{base}{path}")));
    let _ = writeln!(o, "  <title>{}</title>", xml_escape(title));
    let _ = writeln!(o, "  <subtitle>{}</subtitle>", xml_escape(subtitle));
    let _ = writeln!(o, "  <updated>{}</updated>", rfc3339(updated));
    let _ = writeln!(
        o,
        "  <author><name>S-Express</name><uri>{}/</uri></author>",
        xml_escape(base)
    );
    let _ = writeln!(
        o,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        xml_escape(&format!("{base}{path}"))
    );
    let _ = writeln!(
        o,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/\"/>",
        xml_escape(base)
    );
    let _ = writeln!(
        o,
        "  <generator uri=\"https://github.com/s-express\">S-Express</generator>"
    );
    for e in entries {
        o.push_str("  <entry>\n");
        let _ = writeln!(o, "    <id>{}</id>", xml_escape(&e.id));
        let _ = writeln!(
            o,
            "    <title type=\"text\">{}</title>",
            xml_escape(&e.title)
        );
        let _ = writeln!(o, "    <updated>{}</updated>", rfc3339(e.updated));
        if let Some(p) = e.published {
            let _ = writeln!(o, "    <published>{}</published>", rfc3339(p));
        }
        let _ = writeln!(
            o,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            xml_escape(&e.link)
        );
        let _ = writeln!(
            o,
            "    <summary type=\"text\">{}</summary>",
            xml_escape(&e.summary)
        );
        o.push_str("  </entry>\n");
    }
    o.push_str("</feed>\n");
    o
}

/// The entry of a published case. Only the public projection is used.
#[must_use]
pub fn case_entry(base_url: &str, case: &PublishedCase) -> Entry {
    let base = base_url.trim_end_matches('/');
    let verdict = case
        .effective_verdict
        .as_ref()
        .map_or("no expert verdict", |e| e.verdict.as_str());
    // The title the web UI shows (`Case <short id>` for an untitled change).
    let title = crate::pages::case_title(case.source.title.as_deref(), case.id);
    let mut summary = format!(
        "Expert verdict: {verdict}. Maintainer suspicion {} of 5.",
        case.concern.suspicion.get()
    );
    if let Some(r) = &case.report {
        let _ = write!(summary, " Automated risk band: {}.", r.band.as_str());
    }
    if let Some(d) = &case.decision {
        let _ = write!(summary, " Maintainer decision: {}.", d.outcome.as_str());
    }
    if let Some(pr) = &case.source.pull_request_url {
        let _ = write!(summary, " Change: {pr}");
    }
    Entry {
        id: format!("urn:uuid:{}", case.id),
        title: format!("[{verdict}] {title}"),
        updated: case.published_at,
        published: Some(case.published_at),
        link: format!("{base}/cases/{}", case.id),
        summary,
    }
}

/// The entry of a stored report.
#[must_use]
pub fn report_entry(base_url: &str, report: &Report) -> Entry {
    let base = base_url.trim_end_matches('/');
    let link = format!("{base}/reports/{}/{}", report.period, report.starts_on);
    let v = &report.volumes;
    let mut summary = format!(
        "{} cases published ({} received, {} first assessed by an expert).",
        v.published, v.received, v.assessed
    );
    if let Some(m) = report.time_to_human.median_seconds {
        let _ = write!(
            summary,
            " Median time to the first human assessment: {}.",
            super::render::duration(Some(m))
        );
    }
    if let Some(top) = report
        .vectors
        .iter()
        .max_by_key(|t| t.cases)
        .filter(|t| t.cases > 0)
    {
        let _ = write!(
            summary,
            " Most frequent attack vector: {} ({} cases).",
            top.tag, top.cases
        );
    }
    Entry {
        id: link.clone(),
        title: format!("Trend report: {}", report.title),
        updated: report.generated_at,
        published: Some(report.generated_at),
        link,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(title: Option<&str>) -> PublishedCase {
        let spec = sx_store::seed::SeedSpec::new(200, 0);
        let mut case = (0..spec.cases)
            .map(|i| sx_store::seed::case(&spec, i).unwrap())
            .find(|c| c.published_at.is_some())
            .expect("the seed publishes some cases");
        case.source.title = title.map(str::to_string);
        match case.public_view(&sx_domain::Policy::default()) {
            sx_domain::PublicCaseView::Published(c) => *c,
            other => panic!("not published: {other:?}"),
        }
    }

    #[test]
    fn case_entries_are_titled_as_the_web_ui_titles_cases() {
        for untitled in [None, Some(""), Some("  ")] {
            let case = published(untitled);
            let entry = case_entry("https://sx.example.org", &case);
            let id = case.id.to_string();
            assert!(
                entry
                    .title
                    .ends_with(&format!("] Case {}", &id[id.len() - 8..])),
                "{untitled:?}: {}",
                entry.title
            );
        }
        let entry = case_entry("https://sx.example.org", &published(Some("Fix typo")));
        assert!(entry.title.ends_with("] Fix typo"), "{}", entry.title);
    }

    #[test]
    fn xml_escaping_covers_markup_quotes_and_forbidden_characters() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}\u{7}d\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;d\n"
        );
    }
}
