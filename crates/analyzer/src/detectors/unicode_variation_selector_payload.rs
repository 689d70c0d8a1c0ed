//! `unicode-variation-selector-payload`: data hidden in runs of Unicode variation selectors
//! (GlassWorm, 2025). Variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) render as nothing;
//! GlassWorm's VS Code extensions stored a whole JavaScript payload as one selector per byte
//! (bytes 0–15 → U+FE00–U+FE0F, 16–255 → U+E0100–U+E01EF) inside an empty-looking string,
//! then decoded it with `codePointAt` and passed it to `eval`.
//!
//! Legitimate text uses at most one selector after a character (emoji presentation U+FE0F,
//! text presentation U+FE0E, one ideographic variation selector after a CJK ideograph), so a
//! run of four or more is reported and a run of sixteen or more is a hidden payload.
//!
//! Every selector is a literal pattern (256 of them: rare bytes, cheap for the automaton). The
//! first selector of a line speaks for the whole line.

use std::sync::OnceLock;

use super::unicode_bidi_control::{reveal, window};
use crate::detector::{Detector, DetectorMeta, FileCtx, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct UnicodeVariationSelectorPayload;

static META: DetectorMeta = DetectorMeta::new(
    "unicode-variation-selector-payload",
    "Invisible data encoded in Unicode variation selectors",
    Severity::Critical,
    Confidence::High,
    &[Vector::Unicode, Vector::Payload],
    &[],
    "The added line contains a long run of Unicode variation selectors. They render as nothing, \
     so the line looks like an empty string or ends early, but each selector can encode one \
     byte: the GlassWorm extensions hid their entire payload this way and decoded it at run \
     time into eval. Ordinary text never needs more than one selector in a row. The evidence \
     shows the decoded bytes; treat the change as hostile unless the run has a clear, benign \
     purpose.",
);

/// A run this long is reported at all.
const MIN_RUN: usize = 4;
/// A run this long is a hidden payload.
const PAYLOAD_RUN: usize = 16;

fn is_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// The byte a selector encodes under the GlassWorm scheme.
fn selector_byte(c: char) -> Option<u8> {
    match c {
        '\u{FE00}'..='\u{FE0F}' => u8::try_from(c as u32 - 0xFE00).ok(),
        '\u{E0100}'..='\u{E01EF}' => u8::try_from(c as u32 - 0xE0100 + 16).ok(),
        _ => None,
    }
}

fn patterns() -> &'static [LinePattern] {
    static P: OnceLock<Vec<LinePattern>> = OnceLock::new();
    P.get_or_init(|| {
        ('\u{FE00}'..='\u{FE0F}')
            .chain('\u{E0100}'..='\u{E01EF}')
            .map(|c| {
                // Built once per process; leaked so the literals are `'static`.
                let lit: &'static str = Box::leak(c.to_string().into_boxed_str());
                LinePattern::lit(lit)
            })
            .collect()
    })
}

/// The longest run of selectors in `line` from byte `from`: (start byte, length in chars,
/// decoded bytes of that run, capped).
fn longest_run(line: &str, from: usize) -> (usize, usize, Vec<u8>) {
    let mut best = (from, 0usize, Vec::new());
    let mut cur_start = from;
    let mut cur_len = 0usize;
    let mut cur_bytes: Vec<u8> = Vec::new();
    for (i, c) in line.char_indices().skip_while(|(i, _)| *i < from) {
        if let Some(b) = selector_byte(c) {
            if cur_len == 0 {
                cur_start = i;
                cur_bytes.clear();
            }
            cur_len += 1;
            if cur_bytes.len() < 200 {
                cur_bytes.push(b);
            }
            if cur_len > best.1 {
                best = (cur_start, cur_len, cur_bytes.clone());
            }
        } else {
            cur_len = 0;
        }
    }
    best
}

/// Show decoded bytes as text, escaping anything not printable ASCII.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(80)
        .map(|b| {
            if (0x20..0x7f).contains(b) {
                (*b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

impl Detector for UnicodeVariationSelectorPayload {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        patterns()
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        if hit
            .text
            .get(..hit.range.start)
            .is_none_or(|p| p.chars().any(is_selector))
        {
            return;
        }
        let (start, len, bytes) = longest_run(hit.text, hit.range.start);
        if len < MIN_RUN {
            return;
        }
        let (severity, confidence) = match (len >= PAYLOAD_RUN, file.class.docs) {
            (true, _) => (Severity::Critical, Confidence::High),
            (false, false) => (Severity::Medium, Confidence::Medium),
            (false, true) => (Severity::Low, Confidence::Low),
        };
        let evidence = format!(
            "{} — {len} variation selectors in a row, decoding to \"{}\"",
            reveal(&window(hit.text, start, 40, 60)),
            printable(&bytes)
        );
        let mut loc = hit.location(file.path());
        loc.column = Some(
            hit.text
                .get(..start)
                .map(|p| p.chars().count() as u32 + 1)
                .unwrap_or(1),
        );
        out.push(
            META.finding(loc)
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

    fn encode(s: &[u8]) -> String {
        s.iter()
            .map(|b| {
                if *b < 16 {
                    char::from_u32(0xFE00 + *b as u32).unwrap()
                } else {
                    char::from_u32(0xE0100 + *b as u32 - 16).unwrap()
                }
            })
            .collect()
    }

    #[test]
    fn an_encoded_payload_decodes_back_to_its_bytes() {
        let line = format!("const s = \"{}\";", encode(b"echo defanged\n"));
        let (_, len, bytes) = longest_run(&line, 0);
        assert_eq!(len, 14);
        assert_eq!(printable(&bytes), "echo defanged\\x0a");
    }

    #[test]
    fn single_emoji_presentation_selectors_do_not_form_runs() {
        let line = "ok = \"❤\u{FE0F} ✔\u{FE0F} 葛\u{E0100}\"";
        assert_eq!(longest_run(line, 0).1, 1);
    }
}
