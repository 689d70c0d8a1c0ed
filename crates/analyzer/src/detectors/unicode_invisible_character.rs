//! `unicode-invisible-character`: zero-width and otherwise invisible characters in added lines
//! (Trojan Source's "invisible character" variant, ASCII smuggling with Unicode tag characters).
//!
//! An invisible character inside an identifier makes two names that look identical different
//! (`is_admin` and `is_\u{200B}admin`), and tag characters (U+E0000 block) carry a whole hidden
//! ASCII text that renders as nothing. Each character is a literal pattern of its own.
//!
//! Legitimate uses stay quiet, by design:
//! - ZWJ/ZWNJ next to emoji (emoji ZWJ sequences such as 👩‍💻) or next to letters of scripts
//!   that need them for shaping (Arabic, Persian, Indic scripts);
//! - a byte order mark (U+FEFF) at the very start of a file;
//! - tag characters that form an emoji subdivision flag (🏴 + tags + U+E007F);
//! - soft hyphens in documentation prose (hyphenation hints).

use std::sync::OnceLock;

use super::unicode_bidi_control::{reveal, window};
use crate::detector::{Detector, DetectorMeta, FileCtx, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct UnicodeInvisibleCharacter;

static META: DetectorMeta = DetectorMeta::new(
    "unicode-invisible-character",
    "Invisible character in an added line",
    Severity::High,
    Confidence::High,
    &[Vector::Unicode],
    &[],
    "The added line contains a character that renders as nothing: a zero-width space or joiner, \
     a word joiner, a misplaced byte order mark, a soft hyphen or Unicode tag characters. Inside \
     an identifier it makes two names that look the same different, so a call can silently go \
     to an attacker's function; tag characters can carry a whole hidden text. The evidence shows \
     each one as <U+XXXX>. Ask why the character is there; in code it almost never belongs.",
);

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}'
    )
}

fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0000}'..='\u{E007F}')
}

/// Pictographs and emoji modifiers, around which ZWJ is ordinary.
fn is_emoji_like(c: char) -> bool {
    matches!(
        c,
        '\u{2600}'..='\u{27BF}' | '\u{2B00}'..='\u{2BFF}' | '\u{FE0F}' | '\u{1F000}'..='\u{1FAFF}'
    )
}

/// Letters of scripts whose shaping uses ZWJ/ZWNJ (everything non-Latin, non-Greek,
/// non-Cyrillic; those three never need joiners).
fn is_joining_script_letter(c: char) -> bool {
    c.is_alphabetic()
        && !c.is_ascii()
        && !matches!(c, '\u{00C0}'..='\u{052F}' | '\u{1E00}'..='\u{1FFF}')
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn patterns() -> &'static [LinePattern] {
    static P: OnceLock<Vec<LinePattern>> = OnceLock::new();
    P.get_or_init(|| {
        let mut chars: Vec<char> = vec!['\u{00AD}', '\u{180E}', '\u{FEFF}'];
        chars.extend('\u{200B}'..='\u{200D}');
        chars.extend('\u{2060}'..='\u{2064}');
        chars.extend('\u{E0000}'..='\u{E007F}');
        chars
            .into_iter()
            .map(|c| {
                // Built once per process; leaking a few hundred bytes gives the `'static`
                // literals `LinePattern` wants, like rule packs do.
                let lit: &'static str = Box::leak(c.to_string().into_boxed_str());
                LinePattern::lit(lit)
            })
            .collect()
    })
}

/// How bad one invisible character is, in context. `None` means legitimate.
fn judge(
    line: &str,
    at: usize,
    c: char,
    new_line: u32,
    docs: bool,
) -> Option<(Severity, Confidence, &'static str)> {
    let prev = line.get(..at).and_then(|p| p.chars().next_back());
    let next = line.get(at + c.len_utf8()..).and_then(|n| n.chars().next());
    let between_ident = prev.is_some_and(is_ident) && next.is_some_and(is_ident);
    match c {
        '\u{FEFF}' if at == 0 && new_line == 1 => None,
        '\u{200C}' | '\u{200D}' => {
            let near = |f: fn(char) -> bool| prev.is_some_and(f) || next.is_some_and(f);
            if near(is_emoji_like) || near(is_joining_script_letter) {
                return None;
            }
            Some(if between_ident && !docs {
                (
                    Severity::High,
                    Confidence::High,
                    "Zero-width joiner inside an identifier",
                )
            } else if docs {
                (
                    Severity::Low,
                    Confidence::Low,
                    "Zero-width joiner in documentation",
                )
            } else {
                (
                    Severity::Medium,
                    Confidence::Medium,
                    "Zero-width joiner outside emoji or shaping text",
                )
            })
        }
        '\u{00AD}' if docs => None,
        _ if is_tag(c) => {
            // An emoji subdivision flag: U+1F3F4 followed by tags ending in U+E007F.
            let head = line.get(..at).unwrap_or("");
            let flag = head.trim_end_matches(is_tag).ends_with('\u{1F3F4}');
            if flag {
                return None;
            }
            Some((
                Severity::High,
                Confidence::High,
                "Hidden text in Unicode tag characters",
            ))
        }
        _ => Some(if between_ident && !docs {
            (
                Severity::High,
                Confidence::High,
                "Invisible character inside an identifier",
            )
        } else if docs {
            (
                Severity::Low,
                Confidence::Low,
                "Invisible character in documentation",
            )
        } else {
            (
                Severity::Medium,
                Confidence::Medium,
                "Invisible character in code",
            )
        }),
    }
}

/// Decode a run of tag characters (U+E0020–U+E007E mirror ASCII) so the hidden text shows.
fn decode_tags(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\u{E0020}'..='\u{E007E}' => char::from_u32(c as u32 - 0xE0000),
            _ => None,
        })
        .take(120)
        .collect()
}

impl Detector for UnicodeInvisibleCharacter {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        patterns()
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        // The first invisible character of the line speaks for the whole line.
        if hit
            .text
            .get(..hit.range.start)
            .is_none_or(|p| p.chars().any(is_invisible))
        {
            return;
        }
        let docs = file.class.docs;
        let mut worst: Option<(usize, Severity, Confidence, &'static str)> = None;
        let mut count = 0usize;
        for (i, c) in hit
            .text
            .char_indices()
            .skip_while(|(i, _)| *i < hit.range.start)
        {
            if !is_invisible(c) {
                continue;
            }
            if let Some((s, conf, title)) = judge(hit.text, i, c, hit.line_no, docs) {
                count += 1;
                if worst.is_none_or(|w| (s, conf) > (w.1, w.2)) {
                    worst = Some((i, s, conf, title));
                }
            }
        }
        let Some((at, severity, confidence, title)) = worst else {
            return;
        };
        let mut evidence = format!(
            "{} ({count} invisible)",
            reveal(&window(hit.text, at, 60, 100))
        );
        let tags = decode_tags(hit.text);
        if !tags.is_empty() {
            evidence.push_str(&format!("; tag characters spell: {tags:?}"));
        }
        let mut loc = hit.location(file.path());
        loc.column = Some(
            hit.text
                .get(..at)
                .map(|p| p.chars().count() as u32 + 1)
                .unwrap_or(1),
        );
        // Unicode conformance vectors (idna's tests/IdnaTestV2.txt) hold these characters on
        // purpose, and nothing runs a data file under tests/ as code: context only.
        let (severity, confidence) = if file.class.is_test_data() {
            (severity.min(Severity::Low), confidence.min(Confidence::Low))
        } else {
            (severity, confidence)
        };
        out.push(
            META.finding(loc)
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

    fn judge_first(line: &str, new_line: u32, docs: bool) -> Option<Severity> {
        let (i, c) = line.char_indices().find(|(_, c)| is_invisible(*c))?;
        judge(line, i, c, new_line, docs).map(|j| j.0)
    }

    #[test]
    fn a_zero_width_space_inside_an_identifier_is_high() {
        assert_eq!(
            judge_first("if (is_\u{200B}admin) {", 3, false),
            Some(Severity::High)
        );
    }

    #[test]
    fn emoji_zwj_sequences_and_shaping_joiners_are_legitimate() {
        assert_eq!(judge_first("const dev = \"👩\u{200D}💻\";", 3, false), None);
        assert_eq!(judge_first("label = \"می\u{200C}خواهم\"", 3, false), None);
    }

    #[test]
    fn a_bom_is_legitimate_only_at_the_start_of_a_file() {
        assert_eq!(judge_first("\u{FEFF}import os", 1, false), None);
        assert!(judge_first("x = 1\u{FEFF}", 7, false).is_some());
    }

    #[test]
    fn subdivision_flags_are_legitimate_but_free_tag_text_is_not() {
        let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(
            judge_first(&format!("flag = \"{scotland}\""), 2, false),
            None
        );
        let smuggled = "note = \"hi\u{E0063}\u{E0075}\u{E0072}\u{E006C}\"";
        assert_eq!(judge_first(smuggled, 2, false), Some(Severity::High));
        assert_eq!(decode_tags(smuggled), "curl");
    }
}
