//! Mail framing: `git format-patch` output and mboxes of several patches.
//!
//! ```text
//! From 1f0e3c… Mon Sep 17 00:00:00 2001        <- mbox separator (git's magic date)
//! From: =?UTF-8?q?J=C3=B6rg?= <j@example.org>  <- RFC 2047 encoded-words
//! Date: Tue, 3 Oct 2023 12:00:00 +0200
//! Subject: [PATCH 1/2] fix the frobnicator     <- may be folded over several lines
//!  when it is long
//!
//! Body of the commit message.
//! ---                                          <- end of message; diffstat follows
//!  src/x.rs | 2 +-
//! diff --git a/src/x.rs b/src/x.rs
//! …
//! --                                           <- signature ("-- "), ignored
//! 2.42.0
//! ```
//!
//! Only the headers a commit needs are kept; everything is decoded lossily.

use base64::Engine as _;

/// Headers of one mail that matter for a commit.
#[derive(Debug, Default)]
pub(crate) struct MailHeaders {
    pub from: Option<String>,
    pub date: Option<String>,
    pub subject: Option<String>,
    pub transfer_encoding: Option<String>,
    /// Which of the above the last header line was (for folded continuations).
    last: Option<Field>,
}

#[derive(Debug, Clone, Copy)]
enum Field {
    From,
    Date,
    Subject,
    TransferEncoding,
}

impl MailHeaders {
    /// Feed one header line (a new `Name: value` or a folded continuation).
    pub fn push_line(&mut self, line: &str) {
        if line.starts_with([' ', '\t']) {
            // RFC 5322 unfolding: drop the line break, keep the whitespace.
            if let Some(slot) = self.last.and_then(|f| self.slot(f)) {
                slot.push_str(line);
            }
            return;
        }
        let Some((name, value)) = line.split_once(':') else {
            self.last = None;
            return;
        };
        let field = match name.trim().to_ascii_lowercase().as_str() {
            "from" => Field::From,
            "date" => Field::Date,
            "subject" => Field::Subject,
            "content-transfer-encoding" => Field::TransferEncoding,
            _ => {
                self.last = None;
                return;
            }
        };
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        let slot = match field {
            Field::From => &mut self.from,
            Field::Date => &mut self.date,
            Field::Subject => &mut self.subject,
            Field::TransferEncoding => &mut self.transfer_encoding,
        };
        // The first occurrence wins (later ones could be smuggled in by a relay).
        if slot.is_none() {
            *slot = Some(value);
            self.last = Some(field);
        } else {
            self.last = None;
        }
    }

    fn slot(&mut self, f: Field) -> Option<&mut String> {
        match f {
            Field::From => self.from.as_mut(),
            Field::Date => self.date.as_mut(),
            Field::Subject => self.subject.as_mut(),
            Field::TransferEncoding => self.transfer_encoding.as_mut(),
        }
    }
}

/// Whether a line is a mail header `Name: value` (used to recognise mails without an mbox
/// `From ` line and to confirm a `From ` separator).
pub(crate) fn looks_like_header(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    colon > 0
        && colon <= 76
        && line
            .get(..colon)
            .is_some_and(|n| n.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Headers a mail saved on its own (without an mbox `From ` line) typically starts with.
pub(crate) fn is_mail_start_header(line: &[u8]) -> bool {
    const STARTS: [&[u8]; 8] = [
        b"From: ",
        b"Return-Path: ",
        b"Received: ",
        b"Delivered-To: ",
        b"Message-ID: ",
        b"Message-Id: ",
        b"MIME-Version: ",
        b"Subject: ",
    ];
    STARTS.iter().any(|s| line.starts_with(s))
}

/// An mbox separator line. Returns `Some(commit id)` for git's
/// `From <sha> Mon Sep 17 00:00:00 2001`, `Some(None)` for another `From ` line that is
/// followed by a header.
pub(crate) fn mbox_separator(line: &[u8], next: Option<&[u8]>) -> Option<Option<String>> {
    let rest = line.strip_prefix(b"From ")?;
    let id = rest
        .get(..40)
        .filter(|id| id.iter().all(u8::is_ascii_hexdigit));
    if let Some(id) = id
        && rest.get(40..) == Some(b" Mon Sep 17 00:00:00 2001")
    {
        return Some(Some(String::from_utf8_lossy(id).into_owned()));
    }
    next.filter(|n| looks_like_header(n)).map(|_| None)
}

/// Decode RFC 2047 encoded-words (`=?charset?Q?…?=` and `=?charset?B?…?=`) in a header
/// value. Whitespace between two adjacent encoded-words is dropped, as the RFC says.
pub(crate) fn decode_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(rest);
            break;
        };
        let (before, candidate) = rest.split_at(start);
        match decode_word(candidate) {
            Some((decoded, len)) => {
                let between_words = last_was_word && before.chars().all(char::is_whitespace);
                if !between_words {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = candidate.get(len..).unwrap_or("");
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = candidate.get(2..).unwrap_or("");
                last_was_word = false;
            }
        }
    }
    out
}

/// Decode one encoded-word at the start of `s`; returns the text and the bytes consumed.
fn decode_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let q1 = inner.find('?')?;
    let charset = inner.get(..q1)?;
    let after_charset = inner.get(q1 + 1..)?;
    let q2 = after_charset.find('?')?;
    let encoding = after_charset.get(..q2)?;
    let after_enc = after_charset.get(q2 + 1..)?;
    let end = after_enc.find("?=")?;
    let text = after_enc.get(..end)?;
    if text.contains(' ') || charset.is_empty() {
        return None;
    }
    let bytes = match encoding {
        "Q" | "q" => decode_q(text)?,
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?,
        _ => return None,
    };
    // RFC 2231 language suffix: "UTF-8*en".
    let charset = charset.split('*').next().unwrap_or(charset);
    let decoded = if charset.eq_ignore_ascii_case("iso-8859-1")
        || charset.eq_ignore_ascii_case("latin1")
        || charset.eq_ignore_ascii_case("iso-8859-15")
    {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let consumed = 2 + q1 + 1 + q2 + 1 + end + 2;
    Some((decoded, consumed))
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = b.get(i + 1..i + 3)?;
                let s = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(s, 16).ok()?);
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// A subject with its `[PATCH v2 3/7]`-style prefixes removed, and the patch number and
/// total when a prefix carried them.
pub(crate) fn clean_subject(subject: &str) -> (String, Option<(u32, u32)>) {
    let mut s = subject.trim();
    let mut numbering = None;
    loop {
        if let Some(rest) = s.strip_prefix('[')
            && let Some(close) = rest.find(']')
        {
            let tag = rest.get(..close).unwrap_or("");
            // Only mailing-list patch tags are stripped. Anything else (`[skip ci]`,
            // `[security]`) is part of the author's claim and detectors must see it.
            let upper = tag.to_ascii_uppercase();
            let patch_tag = ["PATCH", "RFC", "RESEND"].iter().any(|w| upper.contains(w))
                || tag.split_whitespace().all(|w| {
                    w.split_once('/')
                        .is_some_and(|(n, m)| n.parse::<u32>().is_ok() && m.parse::<u32>().is_ok())
                });
            if !patch_tag {
                break;
            }
            for word in tag.split_whitespace() {
                if let Some((n, m)) = word.split_once('/')
                    && let (Ok(n), Ok(m)) = (n.parse::<u32>(), m.parse::<u32>())
                {
                    numbering = Some((n, m));
                }
            }
            s = rest.get(close + 1..).unwrap_or("").trim_start();
            continue;
        }
        match s.get(..3) {
            Some(p) if p.eq_ignore_ascii_case("re:") => s = s.get(3..).unwrap_or("").trim_start(),
            _ => break,
        }
    }
    (s.trim_end().to_owned(), numbering)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_patch_tags_are_stripped_from_subjects() {
        assert_eq!(clean_subject("[PATCH v2 3/7] net: fix").0, "net: fix");
        assert_eq!(clean_subject("[RFC PATCH] [PATCH 1/2] x").0, "x");
        assert_eq!(
            clean_subject("[PATCH] [skip ci] Fix typo").0,
            "[skip ci] Fix typo"
        );
        assert_eq!(clean_subject("[skip-ci] Fix typo").0, "[skip-ci] Fix typo");
    }

    #[test]
    fn folded_headers_are_unfolded_and_first_occurrence_wins() {
        let mut h = MailHeaders::default();
        for l in [
            "From: Jane <j@x>",
            "Subject: [PATCH 1/2] a long",
            " subject line",
            "X-Other: y",
            " continued other",
            "Subject: smuggled",
            "Content-Transfer-Encoding: 8bit",
        ] {
            h.push_line(l);
        }
        assert_eq!(
            h.subject.as_deref(),
            Some("[PATCH 1/2] a long subject line")
        );
        assert_eq!(h.from.as_deref(), Some("Jane <j@x>"));
        assert_eq!(h.transfer_encoding.as_deref(), Some("8bit"));
    }

    #[test]
    fn encoded_words_in_q_and_b_forms_decode() {
        assert_eq!(
            decode_header("=?UTF-8?q?J=C3=B6rg_M?= <j@x>"),
            "J\u{f6}rg M <j@x>"
        );
        assert_eq!(decode_header("=?utf-8?B?SsO2cmc=?="), "J\u{f6}rg");
        assert_eq!(
            decode_header("=?UTF-8?q?a?= =?UTF-8?q?b?= c =?ISO-8859-1?Q?=E9?="),
            "ab c \u{e9}"
        );
        assert_eq!(decode_header("plain =? not a word"), "plain =? not a word");
        assert_eq!(decode_header("=?UTF-8?x?abc?="), "=?UTF-8?x?abc?=");
        assert_eq!(decode_header("=?UTF-8?q?=ZZ?="), "=?UTF-8?q?=ZZ?=");
    }

    #[test]
    fn patch_prefixes_are_removed_and_numbering_kept() {
        assert_eq!(
            clean_subject("[PATCH v2 3/7] net: fix it"),
            ("net: fix it".into(), Some((3, 7)))
        );
        assert_eq!(
            clean_subject("Re: [RFC PATCH 00/12] cover"),
            ("cover".into(), Some((0, 12)))
        );
        assert_eq!(clean_subject("[PATCH] x"), ("x".into(), None));
        assert_eq!(
            clean_subject("[unterminated x"),
            ("[unterminated x".into(), None)
        );
    }

    #[test]
    fn mbox_separators_are_recognised() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let line = format!("From {sha} Mon Sep 17 00:00:00 2001");
        assert_eq!(
            mbox_separator(line.as_bytes(), None),
            Some(Some(sha.into()))
        );
        assert_eq!(
            mbox_separator(
                b"From jane@x Tue Oct  3 12:00:00 2023",
                Some(b"Return-Path: <j@x>")
            ),
            Some(None)
        );
        assert_eq!(mbox_separator(b"From here on, we", Some(b"continue")), None);
        assert!(looks_like_header(b"X-Mailer: git-send-email"));
        assert!(!looks_like_header(b"not a: header"));
        assert!(is_mail_start_header(b"From: Jane <j@x>"));
    }
}
