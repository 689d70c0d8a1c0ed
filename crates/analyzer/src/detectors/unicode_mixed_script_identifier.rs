//! `unicode-mixed-script-identifier`: identifiers that mix Latin letters with Cyrillic or Greek
//! look-alikes (Trojan Source homoglyphs, CVE-2021-42694). `sayНello` with a Cyrillic `Н` is a
//! different function from `sayHello`, yet both look the same in review.
//!
//! Cyrillic and Greek letters are two bytes in UTF-8, too short and too common to anchor an
//! automaton pattern, so this is the one per-line look in the Unicode family: a hunk whose text
//! is all ASCII (checked with SIMD-fast `is_ascii`) is skipped outright, as is every ASCII
//! line of the rest. Only tokens that mix scripts *and* contain a letter from the confusable
//! table are reported, so Greek maths (`Δt`, `σ_x`) and Russian or Greek prose stay quiet.
//! When the de-confused spelling ("skeleton") of the token also appears in the hunk as plain
//! ASCII, the homoglyph shadows a real name and the finding is critical.

use memchr::memmem;

use crate::detector::{Detector, DetectorMeta, HunkCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct UnicodeMixedScriptIdentifier;

static META: DetectorMeta = DetectorMeta::new(
    "unicode-mixed-script-identifier",
    "Identifier mixes Latin letters with Cyrillic or Greek look-alikes",
    Severity::High,
    Confidence::High,
    &[Vector::Unicode],
    &[],
    "A name in the added code mixes Latin letters with Cyrillic or Greek letters that look the \
     same (the Trojan Source homoglyph attack). To a reviewer it reads like a familiar name; to \
     the compiler it is a different one, so a call, a check or an import can silently go \
     somewhere else. The evidence marks each foreign letter. Such names are almost never \
     intended; ask for plain ASCII.",
);

/// The Latin letter a Cyrillic or Greek character is confusable with, if any (a subset of
/// Unicode's confusables.txt covering the letters attackers use).
pub(super) fn latin_lookalike(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic lower case.
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'і' => 'i',
        'ј' => 'j',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'һ' => 'h',
        'ӏ' => 'l',
        // Cyrillic upper case.
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'Ѕ' => 'S',
        'І' => 'I',
        'Ј' => 'J',
        'Ү' => 'Y',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        // Greek.
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        'ο' => 'o',
        'ν' => 'v',
        'ρ' => 'p',
        'ι' => 'i',
        'υ' => 'u',
        _ => return None,
    })
}

/// UTF-8 lead bytes of every character [`latin_lookalike`] knows: Greek U+0391..U+03C5
/// (0xCE, 0xCF) and Cyrillic U+0405..U+051D (0xD0..=0xD4).
const LOOKALIKE_LEADS: std::ops::RangeInclusive<u8> = 0xCE..=0xD4;

/// Whether `text` has a byte in [`LOOKALIKE_LEADS`]. `is_ascii` (word at a time) settles
/// most texts; the rest are checked in fixed blocks whose branch-free fold vectorises.
fn has_lookalike_lead(text: &str) -> bool {
    if text.is_ascii() {
        return false;
    }
    let (lo, n) = (
        *LOOKALIKE_LEADS.start(),
        LOOKALIKE_LEADS.end() - LOOKALIKE_LEADS.start(),
    );
    text.as_bytes().chunks(64).any(|block| {
        block
            .iter()
            .fold(false, |hit, &b| hit | (b.wrapping_sub(lo) <= n))
    })
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}') && c.is_alphabetic()
}

fn is_ident(c: char) -> bool {
    // ASCII, and U+0400..U+045F (the basic Cyrillic block: letters only), answer without
    // the Unicode tables; a Russian comment is otherwise a table lookup per letter.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_' || c == '$';
    }
    matches!(c, '\u{0400}'..='\u{045F}') || c.is_alphanumeric()
}

/// A mixed-script token found on a line.
#[derive(Debug, PartialEq)]
pub(super) struct Mixed<'a> {
    /// Byte offset of the token in the line.
    pub at: usize,
    pub token: &'a str,
    /// The token with look-alikes replaced by their Latin letters.
    pub skeleton: String,
}

/// Tokens of `line` that mix Latin letters with Cyrillic/Greek look-alikes.
pub(super) fn mixed_tokens(line: &str) -> Vec<Mixed<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes_end = line.len();
    let mut iter = line.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_ident(c) {
            if start.is_none() {
                start = Some(i);
            }
            if iter.peek().is_some_and(|(_, n)| is_ident(*n)) {
                continue;
            }
            let s = start.take().unwrap_or(i);
            let end = iter.peek().map(|(j, _)| *j).unwrap_or(bytes_end);
            let token = &line[s..end];
            if token.is_ascii() {
                continue;
            }
            let latin = token.chars().any(is_latin_letter);
            let lookalike = token.chars().any(|c| latin_lookalike(c).is_some());
            if latin && lookalike {
                let skeleton = token
                    .chars()
                    .map(|c| latin_lookalike(c).unwrap_or(c))
                    .collect();
                out.push(Mixed {
                    at: s,
                    token,
                    skeleton,
                });
            }
        }
    }
    out
}

/// Mark each look-alike letter: `say[Н U+041D]ello`.
pub(super) fn mark_lookalikes(token: &str) -> String {
    token
        .chars()
        .map(|c| match latin_lookalike(c) {
            Some(l) => format!("[{c} U+{:04X}, looks like '{l}']", c as u32),
            None => c.to_string(),
        })
        .collect()
}

/// Whether `word` appears in `text` as a whole identifier.
fn has_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    memmem::find_iter(text.as_bytes(), word.as_bytes()).any(|i| {
        let before = text.get(..i).and_then(|p| p.chars().next_back());
        let after = text.get(i + word.len()..).and_then(|p| p.chars().next());
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

impl Detector for UnicodeMixedScriptIdentifier {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_hunk(&self, h: &HunkCtx<'_>, out: &mut Findings) {
        let class = h.file.class;
        // Prose is for people, and a hunk without a look-alike's lead byte cannot hold a
        // homoglyph: most hunks are ASCII, and most non-ASCII text is accents, CJK or emoji.
        if class.docs || !has_lookalike_lead(&h.hunk.text) {
            return;
        }
        let path = h.file.path();
        for (line_no, text) in h.hunk.added_lines() {
            // Every look-alike is a two-byte character led by one of LOOKALIKE_LEADS; a line
            // without such a byte (ASCII, CJK, emoji, accented Latin) has no candidate.
            if text.is_ascii() || !text.bytes().any(|b| LOOKALIKE_LEADS.contains(&b)) {
                continue;
            }
            for m in mixed_tokens(text) {
                let shadows = has_word(&h.hunk.text, &m.skeleton);
                let (severity, confidence, title) = if shadows {
                    (
                        Severity::Critical,
                        Confidence::High,
                        "Homoglyph identifier shadows an existing name",
                    )
                } else if class.test {
                    (Severity::Medium, Confidence::Medium, META.title.as_ref())
                } else {
                    (META.severity, META.confidence, META.title.as_ref())
                };
                let column = text.get(..m.at).map(|p| p.chars().count() as u32 + 1);
                let mut loc = Location::line(path, line_no);
                loc.column = column;
                let mut evidence =
                    format!("{} (reads as \"{}\")", mark_lookalikes(m.token), m.skeleton);
                if shadows {
                    evidence.push_str(&format!(
                        "; the ASCII name \"{}\" is also in this hunk",
                        m.skeleton
                    ));
                }
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cyrillic_letter_inside_a_latin_name_is_found() {
        let m = mixed_tokens("def sayНello(): pass");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].token, "sayНello");
        assert_eq!(m[0].skeleton, "sayHello");
        assert_eq!(m[0].at, 4);
    }

    #[test]
    fn greek_maths_and_single_script_words_are_not_mixed() {
        assert!(mixed_tokens("Δt = σ_x * θ1").is_empty());
        assert!(mixed_tokens("msg = \"Привет, мир\"").is_empty());
        assert!(mixed_tokens("label = 'Ελληνικά'").is_empty());
    }

    #[test]
    fn every_lookalike_starts_with_a_gated_lead_byte() {
        let mut seen = 0;
        for c in (0u32..0x11_0000).filter_map(char::from_u32) {
            if latin_lookalike(c).is_some() {
                let mut buf = [0u8; 4];
                let lead = c.encode_utf8(&mut buf).as_bytes()[0];
                assert!(LOOKALIKE_LEADS.contains(&lead), "{c} U+{:04X}", c as u32);
                seen += 1;
            }
        }
        assert!(seen > 40, "{seen}");
    }

    #[test]
    fn only_greek_and_cyrillic_lead_bytes_open_the_gate() {
        assert!(!has_lookalike_lead("plain ascii"));
        assert!(!has_lookalike_lead(&format!(
            "{}// Grüße, 日本語 🎉",
            "x".repeat(100)
        )));
        assert!(has_lookalike_lead(&format!("{}sayНello", "x".repeat(130))));
        assert!(has_lookalike_lead("Δt"));
    }

    #[test]
    fn the_fast_identifier_test_agrees_with_the_unicode_tables() {
        for c in (0u32..0x11_0000).filter_map(char::from_u32) {
            assert_eq!(
                is_ident(c),
                c.is_alphanumeric() || c == '_' || c == '$',
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn whole_words_are_matched_for_shadowing() {
        assert!(has_word("if (isAdmin) {", "isAdmin"));
        assert!(!has_word("if (isAdministrator) {", "isAdmin"));
    }
}
