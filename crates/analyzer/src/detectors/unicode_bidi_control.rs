//! `unicode-bidi-control`: bidirectional control characters in added lines (Trojan Source,
//! CVE-2021-42574). Overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069) reorder
//! how code is *displayed* without changing how it compiles, so a reviewer reads a different
//! program from the one that runs. The directional marks U+200E/U+200F/U+061C are weaker: they
//! are legitimate inside right-to-left prose, so they are reported only outside RTL text.
//!
//! Each character is a literal pattern of its own (3-byte UTF-8), so the shared automaton
//! finds them; the first bidi character of a line handles the whole line, the others bail.
//!
//! This file also holds [`reveal`], used by every Unicode detector to make invisible
//! characters visible in evidence.

use crate::detector::{Detector, DetectorMeta, FileCtx, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct UnicodeBidiControl;

static META: DetectorMeta = DetectorMeta::new(
    "unicode-bidi-control",
    "Bidirectional control character in an added line",
    Severity::Critical,
    Confidence::High,
    &[Vector::Unicode],
    &[],
    "The added line contains a Unicode bidirectional override, embedding or isolate. These \
     invisible characters make editors and review tools display the code in a different order \
     from the one the compiler reads (the Trojan Source attack): a comment can appear to close \
     early, a string can appear to hold code, a return can appear commented out. Look at the \
     evidence below, where each control is shown as <U+XXXX>, and reject the change unless the \
     characters are inside genuine right-to-left text.",
);

/// Overrides, embeddings and isolates: these reorder display.
const REORDERING: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];
/// Directional marks: legitimate in right-to-left text.
const MARKS: &[char] = &['\u{200E}', '\u{200F}', '\u{061C}'];

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("\u{202A}"),
    LinePattern::lit("\u{202B}"),
    LinePattern::lit("\u{202C}"),
    LinePattern::lit("\u{202D}"),
    LinePattern::lit("\u{202E}"),
    LinePattern::lit("\u{2066}"),
    LinePattern::lit("\u{2067}"),
    LinePattern::lit("\u{2068}"),
    LinePattern::lit("\u{2069}"),
    LinePattern::lit("\u{200E}"),
    LinePattern::lit("\u{200F}"),
    // U+061C is two bytes in UTF-8 (D8 9C); it only ever encodes this character, so the short
    // anchor still hits rarely.
    LinePattern::lit("\u{061C}"),
];

fn is_bidi(c: char) -> bool {
    REORDERING.contains(&c) || MARKS.contains(&c)
}

/// Characters that render as nothing (or nearly) and must be shown in evidence.
pub(super) fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Escape invisible and control characters as `<U+XXXX>` so evidence shows what the reviewer
/// could not see. Runs of more than three identical-kind hidden characters are summarised.
pub(super) fn reveal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_hidden(c) || (c.is_control() && c != '\t') {
            let mut j = i + 1;
            while j < chars.len()
                && (is_hidden(chars[j]) || chars[j].is_control() && chars[j] != '\t')
            {
                j += 1;
            }
            if j - i > 3 {
                out.push_str(&format!(
                    "<U+{:04X} …{} hidden characters…>",
                    c as u32,
                    j - i
                ));
                i = j;
                continue;
            }
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// A window of about `before`/`after` characters around byte `at` of `line`, cut on char
/// boundaries, with `…` where it was cut.
pub(super) fn window(line: &str, at: usize, before: usize, after: usize) -> String {
    let at = (0..=at.min(line.len()))
        .rev()
        .find(|i| line.is_char_boundary(*i))
        .unwrap_or(0);
    let head = &line[..at];
    let tail = &line[at..];
    let start = head
        .char_indices()
        .rev()
        .nth(before.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let end = tail
        .char_indices()
        .nth(after)
        .map(|(i, _)| at + i)
        .unwrap_or(line.len());
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.push_str(line[start..end].trim());
    if end < line.len() {
        s.push('…');
    }
    s
}

/// Whether the line holds right-to-left letters (Hebrew, Arabic, Syriac, Thaana, NKo and their
/// presentation forms), in which directional marks are ordinary typography.
pub(super) fn has_rtl_letters(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFC}')
            && c.is_alphabetic()
    })
}

impl Detector for UnicodeBidiControl {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        // The first bidi character of the line speaks for the whole line.
        if hit
            .text
            .get(..hit.range.start)
            .is_none_or(|p| p.chars().any(is_bidi))
        {
            return;
        }
        let reorders = hit.text.chars().any(|c| REORDERING.contains(&c));
        let (severity, confidence, title) = if reorders {
            let prose = file.class.docs || file.class.language.is_none();
            if prose && has_rtl_letters(hit.text) {
                // Embeddings inside real RTL prose are how some translators control layout.
                (
                    Severity::Low,
                    Confidence::Low,
                    "Bidirectional embedding in right-to-left prose",
                )
            } else if prose {
                (Severity::Medium, Confidence::Medium, META.title.as_ref())
            } else {
                (Severity::Critical, Confidence::High, META.title.as_ref())
            }
        } else {
            // Only marks: ordinary in RTL text, odd in code.
            if has_rtl_letters(hit.text) {
                return;
            }
            let sev = if file.class.docs {
                Severity::Low
            } else {
                Severity::Medium
            };
            (
                sev,
                Confidence::Medium,
                "Directional mark outside right-to-left text",
            )
        };
        let count = hit.text.chars().filter(|c| is_bidi(*c)).count();
        let evidence = format!(
            "{} ({count} bidi control{})",
            reveal(&window(hit.text, hit.range.start, 60, 100)),
            if count == 1 { "" } else { "s" }
        );
        // Unicode conformance vectors (idna's tests/IdnaTestV2.txt) hold these characters on
        // purpose, and nothing runs a data file under tests/ as code: context only.
        let (severity, confidence) = if file.class.is_test_data() {
            (severity.min(Severity::Low), confidence.min(Confidence::Low))
        } else {
            (severity, confidence)
        };
        out.push(
            META.finding(hit.location(file.path()))
                .title(title)
                .severity(severity)
                .confidence(confidence)
                .evidence(evidence)
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_shows_controls_and_summarises_runs() {
        assert_eq!(reveal("a\u{202E}b"), "a<U+202E>b");
        assert_eq!(
            reveal("x\u{E0101}\u{E0102}\u{E0103}\u{E0104}y"),
            "x<U+E0101 …4 hidden characters…>y"
        );
        assert_eq!(reveal("tab\tok"), "tab\tok");
    }

    #[test]
    fn windows_cut_on_char_boundaries() {
        let s = "ééééé\u{202E}ééééé";
        let at = s.find('\u{202E}').unwrap();
        let w = window(s, at, 2, 3);
        assert_eq!(w, "…éé\u{202E}éé…");
        assert_eq!(window("abc", 99, 5, 5), "abc");
    }

    #[test]
    fn hebrew_and_arabic_count_as_rtl_letters() {
        assert!(has_rtl_letters("\"שלום\""));
        assert!(has_rtl_letters("'مرحبا'"));
        assert!(!has_rtl_letters("hello \u{200F}"));
    }
}
