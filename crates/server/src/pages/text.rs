//! Attacker-controlled text made visible for HTML.
//!
//! [`segments`] splits text at every character `sx_analyzer`'s
//! [`sx_analyzer::output::is_hidden`] flags (bidi controls, zero-width and other
//! invisible characters, control characters), so a template can draw each one as a marked-up
//! `U+202E` badge instead of letting it reorder or hide what a reviewer reads. The analyzer's
//! renderers use the same predicate, so a page, the CLI and a PR comment flag exactly the same
//! characters. The text itself is escaped by askama when rendered.

use std::fmt::Write as _;

use sx_analyzer::output::is_hidden;

/// A run of ordinary text, or one hidden character shown as its code point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Ordinary text (escaped when rendered).
    Text(String),
    /// A hidden character, as `U+XXXX`.
    Hidden(String),
}

impl Segment {
    /// The hidden character's `U+XXXX` name, if this is one.
    #[must_use]
    pub fn hidden(&self) -> Option<&str> {
        match self {
            Segment::Hidden(name) => Some(name),
            Segment::Text(_) => None,
        }
    }

    /// The ordinary text, if this is a run of it.
    #[must_use]
    pub fn text(&self) -> &str {
        match self {
            Segment::Text(t) => t,
            Segment::Hidden(_) => "",
        }
    }
}

/// `s` split into ordinary runs and hidden characters (one segment when nothing is hidden).
/// For one-line values (paths, evidence, headers): a line break is itself a marker there.
#[must_use]
pub fn segments(s: &str) -> Vec<Segment> {
    split(s, is_hidden)
}

/// [`segments`] for multi-line prose (commit messages, concerns, comments), shown with
/// `white-space: pre-wrap`: line breaks stay line breaks; every other hidden character
/// (including a lone carriage return) is a marker.
#[must_use]
pub fn prose_segments(s: &str) -> Vec<Segment> {
    split(s, |c| c != '\n' && is_hidden(c))
}

fn split(s: &str, hidden: impl Fn(char) -> bool) -> Vec<Segment> {
    if !s.chars().any(&hidden) {
        return vec![Segment::Text(s.to_string())];
    }
    let mut out = Vec::new();
    let mut run = String::new();
    for c in s.chars() {
        if hidden(c) {
            if !run.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut run)));
            }
            let mut name = String::with_capacity(8);
            let _ = write!(name, "U+{:04X}", u32::from(c));
            out.push(Segment::Hidden(name));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        out.push(Segment::Text(run));
    }
    out
}

/// Whether `s` holds any hidden character.
#[must_use]
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden)
}

/// `s` with hidden characters replaced by `<U+XXXX>` (for short labels such as titles and
/// file names in lists, where a badge per character would be noise).
#[must_use]
pub fn visible(s: &str) -> String {
    sx_analyzer::output::visible(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_zero_width_characters_become_their_own_segments() {
        assert_eq!(
            segments("a\u{202e}bc\u{200b}"),
            vec![
                Segment::Text("a".into()),
                Segment::Hidden("U+202E".into()),
                Segment::Text("bc".into()),
                Segment::Hidden("U+200B".into()),
            ]
        );
        assert_eq!(segments("plain"), vec![Segment::Text("plain".into())]);
        assert_eq!(visible("x\u{2066}"), "x<U+2066>");
        assert!(has_hidden("\u{feff}") && !has_hidden("tab\tok"));
    }

    #[test]
    fn prose_keeps_its_line_breaks_but_marks_everything_else() {
        assert_eq!(
            prose_segments("Fix typo\n\nbody\r\u{202e}"),
            vec![
                Segment::Text("Fix typo\n\nbody".into()),
                Segment::Hidden("U+000D".into()),
                Segment::Hidden("U+202E".into()),
            ]
        );
        // A line break in a one-line value (a file name, say) is itself suspicious.
        assert_eq!(segments("a\nb").len(), 3);
    }
}
