//! Making invisible characters visible.
//!
//! Evidence, paths and messages come from the submission, so every renderer shows them through
//! [`visible`]: control characters (C0, DEL, C1 — including ESC, which would otherwise let a
//! file name recolour or rewrite the reader's terminal), bidirectional overrides and isolates
//! (Trojan Source), zero-width and other default-ignorable characters, unusual spaces and line
//! separators are replaced by a `<U+XXXX>` marker. Everything else, including ordinary
//! non-ASCII text, is kept as it is. Tab is kept: it is visible as whitespace and common in
//! source.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown as a `<U+XXXX>` marker by [`visible`].
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        // C0 controls except tab, DEL, C1 controls.
        '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Soft hyphen, combining grapheme joiner, Arabic letter mark, Mongolian vowel separator.
        | '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{180e}'
        // Hangul fillers, Khmer inherent vowels: render as nothing in most fonts.
        | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{3164}' | '\u{ffa0}'
        // Unusual spaces that look like a plain space.
        | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
        // Zero-width space/joiners, LRM/RLM, line and paragraph separators.
        | '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}'
        // Bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO).
        | '\u{202a}'..='\u{202e}'
        // Word joiner, invisible operators, bidi isolates, deprecated format characters.
        | '\u{2060}'..='\u{206f}'
        // Variation selectors, BOM / zero-width no-break space, interlinear annotations.
        | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        // Musical symbol format characters, tag characters, variation selectors supplement.
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}' | '\u{e0100}'..='\u{e01ef}'
    )
}

/// `s` with every hidden character (see [`is_hidden`]) replaced by `<U+XXXX>`. Borrows when
/// there is nothing to replace.
pub fn visible(s: &str) -> Cow<'_, str> {
    let Some(first) = s
        .char_indices()
        .find(|(_, c)| is_hidden(*c))
        .map(|(i, _)| i)
    else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if is_hidden(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "<U+{:04X}>", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Number of hidden characters in `s`.
pub fn hidden_count(s: &str) -> usize {
    s.chars().filter(|c| is_hidden(*c)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_zero_width_characters_become_markers() {
        assert_eq!(visible("a\u{202e}b\u{200b}c"), "a<U+202E>b<U+200B>c");
        assert_eq!(visible("\u{2066}x\u{2069}"), "<U+2066>x<U+2069>");
        assert_eq!(visible("\u{feff}"), "<U+FEFF>");
        assert_eq!(visible("\u{e0041}"), "<U+E0041>");
    }

    #[test]
    fn terminal_escapes_cannot_pass_through() {
        assert_eq!(visible("\u{1b}[31mred"), "<U+001B>[31mred");
        assert_eq!(
            visible("a\rb\nc\u{7f}\u{9b}"),
            "a<U+000D>b<U+000A>c<U+007F><U+009B>"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let s = "let café = \"日本\";\tok";
        assert!(matches!(visible(s), Cow::Borrowed(_)));
        assert_eq!(visible(s), s);
        assert_eq!(hidden_count(s), 0);
        assert_eq!(hidden_count("a\u{200d}\u{200d}"), 2);
    }
}
