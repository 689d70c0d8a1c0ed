//! Forwarded mail: one RFC 5322 message that carries a `git format-patch` series, turned into
//! the change text a case stores and the maintainer's concern.
//!
//! ## The model
//!
//! A maintainer forwards what reached their mailing list to their intake address, in whatever
//! way their mail client forwards:
//!
//! - **inline**: their own text (the concern), then the forwarded mails pasted into the body —
//!   after a client's forward marker (`-------- Forwarded Message --------`, `Begin forwarded
//!   message:`, ...), as an mbox (`From <sha> Mon Sep 17 00:00:00 2001` lines), as bare mail
//!   headers, or as a plain diff;
//! - **as attachments**: `.patch`/`.diff` files, an mbox file (`b4 am -o -`, a list archive
//!   download), or one `message/rfc822` part per patch ("forward as attachment");
//! - **redirected** (mutt's bounce, Thunderbird's "Redirect"): the patch mail itself, with
//!   `Resent-From:` naming the maintainer.
//!
//! [`read_forwarded`] finds every forwarded mail and diff, rebuilds them as one mbox (each
//! mail behind its own separator line, so the analyzer sees commit messages and authors and a
//! `[PATCH 0/N]` cover letter becomes the series' title and description), and checks that the
//! result parses as a change with at least one file. The maintainer's own text becomes the
//! concern; a few lines in it are directives rather than prose:
//!
//! ```text
//! Project: github:tukaani-project/xz      (as `s-express submit --project` takes it)
//! Suspicion: 4                            (1 probably fine .. 5 almost certainly malicious)
//! Tags: build-system, test-fixtures
//! ```
//!
//! When the maintainer wrote nothing, the cover letter of the series is the concern.
//!
//! ## Hostile input
//!
//! Everything here is attacker-controlled (the forwarded patches certainly, the envelope
//! possibly). The message size is bounded before parsing, MIME nesting and part counts are
//! bounded, nothing is decoded that is not needed, and every refusal is a [`MailError`] that
//! says what to send instead. Text that is not valid UTF-8 is refused rather than repaired: a
//! lossy repair would change the bytes the analyzer and the experts look at. Parsing is pure:
//! no I/O, no clock.

use std::borrow::Cow;

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders as _, PartType};

/// Bounds on one forwarded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLimits {
    /// Largest accepted message, in bytes, as received (attachments still encoded).
    pub max_message_bytes: usize,
    /// Largest change text the rebuilt series may be.
    pub max_change_bytes: usize,
    /// Most MIME parts walked (all nesting levels together).
    pub max_parts: usize,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits {
            max_message_bytes: 16 << 20,
            max_change_bytes: 8 << 20,
            max_parts: 1000,
        }
    }
}

/// Why a message cannot be turned into a forwarded change. Every message says what to send
/// instead; none quotes more than a short, escaped piece of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// Over [`MailLimits::max_message_bytes`].
    #[error(
        "the message is {size} bytes, over this instance's {limit}-byte limit for forwarded mail; \
         forward fewer patches at once"
    )]
    TooLarge {
        /// The message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not an RFC 5322 message at all (no header block, binary data).
    #[error("this is not an e-mail message: {reason}")]
    NotAMessage {
        /// What is wrong.
        reason: &'static str,
    },
    /// No single sender address.
    #[error(
        "the message has {found} sender addresses in From:; send it from the one address your account uses"
    )]
    Sender {
        /// How many addresses From: (or Resent-From:) names.
        found: usize,
    },
    /// Only an HTML body and no patch attachment.
    #[error(
        "the message has only an HTML body, which does not carry patches intact; forward it as plain \
         text, attach the .patch files, or use your client's \"forward as attachment\""
    )]
    HtmlOnly,
    /// No patch anywhere.
    #[error(
        "no patch found in the message: forward the patch mails inline or as attachments, attach \
         the .patch files or an mbox, or redirect the patch mail itself"
    )]
    NoPatch,
    /// A part that should hold a patch does not parse as one.
    #[error("{part} is not a patch: {reason}")]
    NotAPatch {
        /// Which part (an attachment's name, "the message body", ...).
        part: String,
        /// The parser's reason.
        reason: String,
    },
    /// A text part or patch attachment is not valid UTF-8.
    #[error(
        "{part} is not valid UTF-8; S-Express keeps the exact bytes of a change, so it does not \
         repair text: attach the patch as a file encoded in UTF-8, or submit it with `s-express submit`"
    )]
    InvalidUtf8 {
        /// Which part.
        part: String,
    },
    /// Too many MIME parts.
    #[error("the message has more than {limit} MIME parts; forward fewer patches at once")]
    TooManyParts {
        /// The limit.
        limit: usize,
    },
    /// The rebuilt series is over [`MailLimits::max_change_bytes`].
    #[error(
        "the forwarded series is {size} bytes, over this instance's {limit}-byte maximum change size; \
         forward fewer patches at once"
    )]
    ChangeTooLarge {
        /// The series size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A directive line (`Suspicion:`, `Project:`, `Tags:`) has a value of the wrong form.
    #[error("the line {line:?} is invalid: {message}")]
    Directive {
        /// The line, cut short.
        line: String,
        /// What was expected.
        message: &'static str,
    },
}

/// The maintainer's directives, from lines of their own text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `Project:` — a project spec, as `s-express submit --project` takes it.
    pub project: Option<String>,
    /// `Suspicion:` — 1 to 5.
    pub suspicion: Option<u8>,
    /// `Tags:` / `Tag:` — comma-separated.
    pub tags: Vec<String>,
}

/// Who sent a message and to whom: what authentication needs, read from the header alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailHeader {
    /// Who forwarded it: the first `Resent-From:` address if the message was redirected, else
    /// the `From:` address, exactly as written.
    pub sender: String,
    /// `Message-ID:` without angle brackets, if any.
    pub message_id: Option<String>,
    /// `Subject:` of the forwarding message.
    pub subject: Option<String>,
    /// Every address the message names as a recipient, from the headers an MTA or fetcher
    /// adds (`Delivered-To:`, `X-Original-To:`, `Envelope-To:`, `X-Envelope-To:`) and then
    /// `Resent-To:`, `To:` and `Cc:`, in that order, lower-cased, without duplicates.
    pub recipients: Vec<String>,
    /// Whether the message was redirected (`Resent-From:`), so it is itself the patch mail.
    pub redirected: bool,
}

/// A forwarded message, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// Sender, recipients and ids.
    pub header: MailHeader,
    /// The maintainer's directives.
    pub directives: Directives,
    /// The maintainer's text without directives, quoted forwards or signature; when they wrote
    /// nothing, the series' cover letter (subject line, blank line, body).
    pub concern: String,
    /// The change text: every forwarded mail and diff as one mbox.
    pub series: String,
    /// How many patch mails and diffs the series holds (the cover letter not counted).
    pub patches: usize,
    /// Files the series touches.
    pub files: usize,
    /// The title the series gives itself (cover letter, else first patch), if any.
    pub title: Option<String>,
    /// `List-Id:` of the first forwarded mail that has one (without angle brackets, lower-case).
    pub list_id: Option<String>,
}

/// Separator put before each rebuilt mail: an mbox `From ` line that is not git's (so no
/// commit id is invented), which the analyzer accepts when a header line follows.
const MAIL_SEPARATOR: &str = "From forwarded@s-express Mon Sep 17 00:00:00 2001\n";

/// Most nested `message/rfc822` levels followed (a forward of a forward of a patch).
const MAX_DEPTH: usize = 4;

/// Reads the header of a message: enough to authenticate its sender before anything else
/// is parsed.
///
/// # Errors
/// When the message is too large, is not a message, or has no single sender.
pub fn read_header(raw: &[u8], limits: &MailLimits) -> Result<MailHeader, MailError> {
    let raw = checked_message(raw, limits)?;
    let message = parse_message(raw, true)?;
    header_of(&message)
}

/// Reads one forwarded message (see the module docs).
///
/// # Errors
/// A [`MailError`] saying why the message cannot become a change.
pub fn read_forwarded(raw: &[u8], limits: &MailLimits) -> Result<Forwarded, MailError> {
    let raw = checked_message(raw, limits)?;
    let message = parse_message(raw, false)?;
    let header = header_of(&message)?;
    let mut walk = Walk {
        limits,
        parts_seen: 0,
        mails: Vec::new(),
        own_text: String::new(),
        html_only: false,
        list_id: None,
    };
    if header.redirected {
        // The message itself is the forwarded mail; the maintainer wrote nothing.
        walk.nested(&message, "the redirected message", 0)?;
    } else {
        walk.outer(&message)?;
    }
    let (directives, mut concern) = directives_and_concern(&walk.own_text)?;
    if walk.mails.is_empty() {
        return Err(if walk.html_only {
            MailError::HtmlOnly
        } else {
            MailError::NoPatch
        });
    }
    let series = walk.series();
    if series.len() > limits.max_change_bytes {
        return Err(MailError::ChangeTooLarge {
            size: series.len(),
            limit: limits.max_change_bytes,
        });
    }
    let change = parse_change(&series, limits, "the forwarded series")?;
    if change.files.is_empty() {
        return Err(MailError::NoPatch);
    }
    if concern.is_empty()
        && let Some(title) = &change.title
    {
        // No words of the maintainer's own: the cover letter says what the series claims.
        concern = match &change.description {
            Some(d) => format!("{title}\n\n{d}"),
            None => title.clone(),
        };
    }
    let title = change
        .title
        .clone()
        .or_else(|| change.commits.first().map(|c| c.subject().to_string()))
        .filter(|t| !t.trim().is_empty());
    let list_id = walk
        .list_id
        .or_else(|| list_id(&message).filter(|_| header.redirected));
    Ok(Forwarded {
        header,
        directives,
        concern,
        patches: change.commits.len().max(1),
        files: change.files.len(),
        series,
        title,
        list_id,
    })
}

/// Parses with mail-parser, which never fails but may panic: some malformed MIME nesting
/// trips its `debug_assert!`s (found by this crate's property test; release builds compile
/// them out). A panic in a third-party parser must not take the intake down, so it is caught
/// and the message refused like any other that is not one.
fn parse_message(raw: &[u8], headers_only: bool) -> Result<Message<'_>, MailError> {
    let parsed = std::panic::catch_unwind(|| {
        let parser = MessageParser::default();
        if headers_only {
            parser.parse_headers(raw)
        } else {
            parser.parse(raw)
        }
    });
    match parsed {
        Ok(Some(message)) if !message.parts.is_empty() => Ok(message),
        Ok(_) => Err(MailError::NotAMessage {
            reason: "it has no header fields",
        }),
        Err(_) => Err(MailError::NotAMessage {
            reason: "its MIME structure is broken",
        }),
    }
}

/// The size check, the envelope line dropped, and the header block checked.
fn checked_message<'r>(raw: &'r [u8], limits: &MailLimits) -> Result<&'r [u8], MailError> {
    if raw.len() > limits.max_message_bytes {
        return Err(MailError::TooLarge {
            size: raw.len(),
            limit: limits.max_message_bytes,
        });
    }
    let raw = skip_envelope_line(raw);
    check_header_block(raw)?;
    Ok(raw)
}

fn header_of(message: &Message<'_>) -> Result<MailHeader, MailError> {
    let redirected = message.header_raw("Resent-From").is_some();
    Ok(MailHeader {
        sender: sender_of(message, redirected)?,
        message_id: message
            .message_id()
            .map(|m| m.trim_matches(['<', '>', ' ']).to_string())
            .filter(|m| !m.is_empty()),
        subject: message.subject().map(str::to_string),
        recipients: recipients(message),
        redirected,
    })
}

/// Parses a change text with the analyzer's parser (bounded as the service bounds it).
fn parse_change(
    text: &str,
    limits: &MailLimits,
    part: &str,
) -> Result<sx_analyzer::Change, MailError> {
    let diff_limits = sx_analyzer::diff::Limits {
        max_input_bytes: limits.max_change_bytes.max(1024),
        ..Default::default()
    };
    sx_analyzer::diff::parse(text.as_bytes(), &diff_limits).map_err(|e| MailError::NotAPatch {
        part: part.to_string(),
        reason: e.to_string(),
    })
}

/// Drops an mbox `From ` envelope line an MTA may put first (Postfix `pipe` with flag `F`,
/// an mbox of one message).
fn skip_envelope_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ")
        && let Some(end) = memchr_newline(raw)
    {
        return raw.get(end + 1..).unwrap_or_default();
    }
    raw
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// A message starts with a header field (`Name: value`, the name printable ASCII without a
/// colon) and its header block has no NUL or other binary bytes.
fn check_header_block(raw: &[u8]) -> Result<(), MailError> {
    let first_line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    let named = first_line
        .iter()
        .position(|&b| b == b':')
        .and_then(|colon| first_line.get(..colon))
        .is_some_and(|name| !name.is_empty() && name.iter().all(|b| b.is_ascii_graphic()));
    if !named {
        return Err(MailError::NotAMessage {
            reason: "it does not start with a header field such as `From: ...`",
        });
    }
    let header_end = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .or_else(|| raw.windows(4).position(|w| w == b"\r\n\r\n"))
        .unwrap_or(raw.len());
    let header = raw.get(..header_end).unwrap_or(raw);
    if header
        .iter()
        .any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')))
    {
        return Err(MailError::NotAMessage {
            reason: "its header block contains binary data",
        });
    }
    Ok(())
}

/// The sender: the first `Resent-From:` of a redirected message, else `From:`; exactly one
/// address.
fn sender_of(message: &Message<'_>, redirected: bool) -> Result<String, MailError> {
    let address = if redirected {
        message.resent_from()
    } else {
        message.from()
    };
    let addresses: Vec<String> = address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address.as_deref())
                .map(|s| s.trim().to_string())
                .filter(|s| s.contains('@'))
                .collect()
        })
        .unwrap_or_default();
    match addresses.as_slice() {
        [one] => Ok(one.clone()),
        other => Err(MailError::Sender { found: other.len() }),
    }
}

/// Recipient addresses, in the order described at [`MailHeader::recipients`].
fn recipients(message: &Message<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |a: &str| {
        let a = a
            .trim()
            .trim_matches(['<', '>'])
            .trim()
            .to_ascii_lowercase();
        if a.contains('@') && !a.contains(char::is_whitespace) && !out.contains(&a) {
            out.push(a);
        }
    };
    for name in [
        "Delivered-To",
        "X-Original-To",
        "Envelope-To",
        "X-Envelope-To",
    ] {
        for (header_name, value) in message.headers_raw() {
            if header_name.eq_ignore_ascii_case(name) {
                for word in value.split([',', ' ', '\t', '\r', '\n']) {
                    push(word);
                }
            }
        }
    }
    for list in [message.resent_to(), message.to(), message.cc()]
        .into_iter()
        .flatten()
    {
        for addr in list.iter() {
            if let Some(a) = addr.address.as_deref() {
                push(a);
            }
        }
    }
    out
}

/// `List-Id:` of a message: the part in angle brackets (RFC 2919), lower-case.
fn list_id(message: &Message<'_>) -> Option<String> {
    let raw = message.header_raw("List-Id")?;
    let id = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(start), Some(end)) if start < end => raw.get(start + 1..end)?,
        _ => raw.trim(),
    };
    let id = id.trim().to_ascii_lowercase();
    (!id.is_empty()).then_some(id)
}

/// The state of one walk over a message's parts.
struct Walk<'l> {
    limits: &'l MailLimits,
    parts_seen: usize,
    /// Each forwarded mail or diff, already normalized (LF line ends, a trailing newline).
    mails: Vec<Piece>,
    /// The maintainer's own text.
    own_text: String,
    /// The outer body had only HTML.
    html_only: bool,
    list_id: Option<String>,
}

/// One forwarded mail (starting with header lines) or a bare diff.
#[derive(Debug)]
struct Piece {
    text: String,
    is_mail: bool,
}

impl Walk<'_> {
    fn count_part(&mut self) -> Result<(), MailError> {
        self.parts_seen += 1;
        if self.parts_seen > self.limits.max_parts {
            return Err(MailError::TooManyParts {
                limit: self.limits.max_parts,
            });
        }
        Ok(())
    }

    /// The forwarding message: its inline text is the maintainer's (up to the first forwarded
    /// content), its attachments are forwarded mails and patch files.
    fn outer(&mut self, message: &Message<'_>) -> Result<(), MailError> {
        let mut saw_plain = false;
        let mut html_text = String::new();
        for id in &message.text_body {
            self.count_part()?;
            let Some(part) = message.part(*id) else {
                continue;
            };
            if let Some(name) = part.attachment_name() {
                // An inline part with a file name (`git send-email --attach`-style) is a file.
                saw_plain = true;
                let label = format!(
                    "the attachment {:?}",
                    name.chars().take(80).collect::<String>()
                );
                self.attachment(message, part, name, &label)?;
                continue;
            }
            match &part.body {
                PartType::Text(_) => {
                    saw_plain = true;
                    let text = checked_text(message, part, "the message body")?;
                    let (own, forwarded) = split_inline(&text);
                    push_paragraph(&mut self.own_text, &own);
                    self.inline(&forwarded, "the message body")?;
                }
                PartType::Html(html) => {
                    html_text.push_str(&mail_parser::decoders::html::html_to_text(html));
                }
                _ => {}
            }
        }
        if !saw_plain {
            self.html_only = !html_text.trim().is_empty() || message.html_body_count() > 0;
            let (own, _) = split_inline(&normalize_newlines(&html_text));
            push_paragraph(&mut self.own_text, &own);
        }
        self.attachments(message, 0)
    }

    /// A forwarded mail (a `message/rfc822` part, or the redirected message itself).
    fn nested(&mut self, message: &Message<'_>, what: &str, depth: usize) -> Result<(), MailError> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        if self.list_id.is_none() {
            self.list_id = list_id(message);
        }
        let mut body = String::new();
        for id in &message.text_body {
            self.count_part()?;
            if let Some(part) = message.part(*id)
                && matches!(part.body, PartType::Text(_))
            {
                body.push_str(&checked_text(message, part, what)?);
            }
        }
        let subject = message.subject().unwrap_or_default();
        let patch_like = contains_diff(&body) || is_series_subject(subject);
        if patch_like {
            let mut mail = String::new();
            for (name, value) in [
                (
                    "From",
                    message.header_raw("From").map(|v| unfold(v).to_string()),
                ),
                (
                    "Date",
                    message.header_raw("Date").map(|v| unfold(v).to_string()),
                ),
                ("Subject", Some(unfold(subject).to_string())),
            ] {
                if let Some(v) = value {
                    mail.push_str(name);
                    mail.push_str(": ");
                    mail.push_str(v.trim());
                    mail.push('\n');
                }
            }
            mail.push('\n');
            mail.push_str(&body);
            self.push_piece(mail, true);
        } else {
            // A forward of a forward: its own inline forwarded content counts.
            let (_, forwarded) = split_inline(&body);
            self.inline(&forwarded, what)?;
        }
        self.attachments(message, depth)
    }

    fn attachments(&mut self, message: &Message<'_>, depth: usize) -> Result<(), MailError> {
        for id in &message.attachments {
            self.count_part()?;
            let Some(part) = message.part(*id) else {
                continue;
            };
            let name = part.attachment_name().unwrap_or_default().to_string();
            let label = if name.is_empty() {
                "an attachment".to_string()
            } else {
                format!(
                    "the attachment {:?}",
                    name.chars().take(80).collect::<String>()
                )
            };
            match &part.body {
                PartType::Message(inner) => self.nested(inner, &label, depth + 1)?,
                PartType::Text(_) | PartType::Binary(_) | PartType::InlineBinary(_) => {
                    self.attachment(message, part, &name, &label)?;
                }
                PartType::Html(_) | PartType::Multipart(_) => {}
            }
        }
        Ok(())
    }

    /// A file attachment: a patch, a diff, an mbox or a saved mail (`.eml`) is taken; other
    /// files (signatures, images, HTML) are not part of a change.
    fn attachment(
        &mut self,
        message: &Message<'_>,
        part: &MessagePart<'_>,
        name: &str,
        label: &str,
    ) -> Result<(), MailError> {
        let lower = name.to_ascii_lowercase();
        let (ctype, subtype) = part
            .content_type()
            .map(|ct| {
                (
                    ct.ctype().to_ascii_lowercase(),
                    ct.subtype().unwrap_or_default().to_ascii_lowercase(),
                )
            })
            .unwrap_or_default();
        let named_patch = [".patch", ".diff", ".mbox", ".eml", ".mbx"]
            .iter()
            .any(|ext| lower.ends_with(ext));
        let typed_patch = matches!(
            (ctype.as_str(), subtype.as_str()),
            ("text", "x-patch" | "x-diff" | "patch" | "diff" | "x-mbox")
                | ("application", "mbox" | "x-patch" | "x-diff" | "patch")
                | ("message", "rfc822")
        );
        let plain = ctype == "text" && subtype == "plain" || lower.ends_with(".txt");
        if !(named_patch || typed_patch || plain) {
            return Ok(());
        }
        let text = match &part.body {
            PartType::Text(_) => checked_text(message, part, label)?,
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                match std::str::from_utf8(bytes) {
                    Ok(t) => normalize_newlines(t),
                    Err(_) => {
                        return Err(MailError::InvalidUtf8 {
                            part: label.to_string(),
                        });
                    }
                }
            }
            _ => return Ok(()),
        };
        if !(named_patch || typed_patch || contains_diff(&text)) {
            // A plain note attached beside the patches.
            return Ok(());
        }
        let before = self.mails.len();
        self.inline(&text, label)?;
        if self.mails.len() == before {
            return Err(MailError::NotAPatch {
                part: label.to_string(),
                reason: "it holds no diff".into(),
            });
        }
        Ok(())
    }

    /// Forwarded content as text: split at every forward marker and mbox separator into
    /// mails; bare diffs are kept as they are.
    fn inline(&mut self, text: &str, what: &str) -> Result<(), MailError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let text = unquote(text);
        let mut current = String::new();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut i = 0;
        let mut in_header = false;
        while let Some(line) = lines.get(i) {
            let bare = line.trim_end_matches(['\n', '\r']);
            let next = lines.get(i + 1).map(|l| l.trim_end_matches(['\n', '\r']));
            if is_forward_marker(bare) {
                self.flush(&mut current, what)?;
                in_header = true;
                i += 1;
                // Clients put a blank line between the marker and the headers.
                while lines.get(i).is_some_and(|l| l.trim().is_empty()) {
                    i += 1;
                }
                continue;
            }
            if is_mbox_separator(bare, next) {
                self.flush(&mut current, what)?;
                in_header = true;
                i += 1;
                continue;
            }
            if in_header {
                if bare.is_empty() {
                    in_header = false;
                    current.push('\n');
                } else {
                    current.push_str(&normalize_header_line(bare));
                    current.push('\n');
                }
            } else {
                current.push_str(line);
            }
            i += 1;
        }
        self.flush(&mut current, what)
    }

    /// Ends the current piece: a mail if it starts with header lines, a diff if it holds one;
    /// anything else (text between forwards) is dropped.
    fn flush(&mut self, current: &mut String, what: &str) -> Result<(), MailError> {
        let text = std::mem::take(current);
        if text.trim().is_empty() {
            return Ok(());
        }
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let is_mail = looks_like_header_line(first);
        if is_mail {
            let header_end = text.find("\n\n").unwrap_or(text.len());
            let header = text.get(..header_end).unwrap_or_default();
            let subject = header
                .lines()
                .find_map(|l| strip_prefix_ci(l, "subject:"))
                .unwrap_or_default();
            if self.list_id.is_none() {
                self.list_id = header
                    .lines()
                    .find_map(|l| strip_prefix_ci(l, "list-id:"))
                    .and_then(|v| {
                        let v = v.trim();
                        let inner = match (v.rfind('<'), v.rfind('>')) {
                            (Some(s), Some(e)) if s < e => v.get(s + 1..e).unwrap_or(v),
                            _ => v,
                        };
                        let inner = inner.trim().to_ascii_lowercase();
                        (!inner.is_empty()).then_some(inner)
                    });
            }
            if contains_diff(&text) || is_series_subject(subject) {
                self.push_piece(text.trim_start().to_string(), true);
            }
            return Ok(());
        }
        if contains_diff(&text) {
            // Check that a bare diff parses on its own, to name the part that is broken.
            parse_change(&text, self.limits, what)?;
            self.push_piece(text, false);
        }
        Ok(())
    }

    fn push_piece(&mut self, mut text: String, is_mail: bool) {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.mails.push(Piece { text, is_mail });
    }

    /// The series: every piece in order, each mail behind its own mbox separator.
    fn series(&self) -> String {
        let mut out = String::new();
        for piece in &self.mails {
            if piece.is_mail {
                // A separator that is not git's counts only after a blank line (mboxo).
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                out.push_str(MAIL_SEPARATOR);
            } else if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&piece.text);
        }
        out
    }
}

/// A text part's content with LF line ends, refused if its UTF-8 was invalid.
///
/// mail-parser repairs invalid UTF-8 with U+FFFD; when the decoded text has one and the part
/// is declared UTF-8 (or nothing), the raw content decides whether the writer put it there.
fn checked_text(
    message: &Message<'_>,
    part: &MessagePart<'_>,
    what: &str,
) -> Result<String, MailError> {
    let Some(text) = part.text_contents() else {
        return Ok(String::new());
    };
    if text.contains('\u{FFFD}') {
        let charset = part
            .content_type()
            .and_then(|ct| ct.attribute("charset"))
            .unwrap_or("utf-8")
            .to_ascii_lowercase();
        if matches!(charset.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii")
            && !raw_is_utf8(message, part)
        {
            return Err(MailError::InvalidUtf8 {
                part: what.to_string(),
            });
        }
    }
    let text = normalize_newlines(text);
    let flowed = part.content_type().is_some_and(|ct| {
        ct.attribute("format")
            .is_some_and(|f| f.eq_ignore_ascii_case("flowed"))
    });
    if flowed {
        let delsp = part.content_type().is_some_and(|ct| {
            ct.attribute("delsp")
                .is_some_and(|d| d.eq_ignore_ascii_case("yes"))
        });
        return Ok(unflow(&text, delsp));
    }
    Ok(text)
}

/// Undoes `format=flowed` (RFC 3676), as Thunderbird sends plain text: a line ending in a
/// space continues on the next (the space dropped with `DelSp=yes`), and a line starting with a
/// space was space-stuffed by the sender (a diff's context lines are). Without this, a forwarded
/// patch's long lines arrive cut in two and its context lines one space too deep.
fn unflow(text: &str, delsp: bool) -> String {
    let (body, ends_with_newline) = match text.strip_suffix('\n') {
        Some(body) => (body, true),
        None => (text, false),
    };
    let mut out = String::with_capacity(text.len());
    let mut open = false;
    for line in body.split('\n') {
        let line = line.strip_prefix(' ').unwrap_or(line);
        let soft = line.ends_with(' ') && line != "-- ";
        let kept = match line.strip_suffix(' ') {
            Some(cut) if soft && delsp => cut,
            _ => line,
        };
        out.push_str(kept);
        open = soft;
        if !soft {
            out.push('\n');
        }
    }
    if open {
        out.push('\n');
    }
    if !ends_with_newline {
        out.pop();
    }
    out
}

/// Whether a part's raw content, transfer-decoded, is valid UTF-8.
fn raw_is_utf8(message: &Message<'_>, part: &MessagePart<'_>) -> bool {
    let raw = message.raw_message();
    let start = usize::try_from(part.raw_body_offset()).unwrap_or(usize::MAX);
    let end = usize::try_from(part.raw_end_offset()).unwrap_or(usize::MAX);
    let Some(body) = raw.get(start..end.min(raw.len())) else {
        return false;
    };
    let decoded: Option<Cow<'_, [u8]>> = match part.encoding {
        mail_parser::Encoding::None => Some(Cow::Borrowed(body)),
        mail_parser::Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body).map(Cow::Owned)
        }
        mail_parser::Encoding::Base64 => {
            mail_parser::decoders::base64::base64_decode(body).map(Cow::Owned)
        }
    };
    decoded.is_some_and(|d| std::str::from_utf8(&d).is_ok())
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Unfolds a header value (folded lines joined).
fn unfold(value: &str) -> Cow<'_, str> {
    if value.contains('\n') {
        Cow::Owned(
            value
                .split('\n')
                .map(|l| l.trim_end_matches('\r'))
                .collect::<Vec<_>>()
                .join(""),
        )
    } else {
        Cow::Borrowed(value)
    }
}

fn push_paragraph(out: &mut String, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(text);
}

fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| line.get(prefix.len()..).unwrap_or_default())
}

/// Whether a subject is that of a patch series mail (`[PATCH ...]`, `[RFC ...]`, with a
/// `Fwd:`/`Re:` prefix or not).
fn is_series_subject(subject: &str) -> bool {
    let s = subject.to_ascii_lowercase();
    s.contains("[patch") || s.contains("[rfc")
}

/// Whether text holds a diff the analyzer would take (a `diff --git` line, or a `--- `
/// line followed by `+++ `).
fn contains_diff(text: &str) -> bool {
    let mut previous_minus = false;
    for line in text.lines() {
        if line.starts_with("diff --git ") || (previous_minus && line.starts_with("+++ ")) {
            return true;
        }
        previous_minus = line.starts_with("--- ");
    }
    false
}

/// A mail header line: `Name: value` with a name of letters, digits and `-`.
fn looks_like_header_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.len() <= 76
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// A header line as a mail client shows it in a forward (`Subject: \t[PATCH]`, as Thunderbird
/// writes it) in the form the analyzer reads (`Subject: [PATCH]`).
fn normalize_header_line(line: &str) -> String {
    match line.split_once(':') {
        Some((name, value)) if looks_like_header_line(line) => {
            format!("{name}: {}", value.trim())
        }
        // Folded continuation lines and anything else stay as they are.
        _ => line.to_string(),
    }
}

/// Forward markers of the common clients.
fn is_forward_marker(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    let dashed = l.starts_with("---") && l.ends_with("---");
    (dashed
        && (l.contains("forwarded message")
            || l.contains("original message")
            || l.contains("message transféré")
            || l.contains("weitergeleitete nachricht")))
        || l == "begin forwarded message:"
}

/// An mbox separator: git's `From <40 hex> Mon Sep 17 00:00:00 2001`, or another `From `
/// line followed by a header line.
fn is_mbox_separator(line: &str, next: Option<&str>) -> bool {
    let Some(rest) = line.strip_prefix("From ") else {
        return false;
    };
    let git = rest.len() == 40 + 25
        && rest
            .get(..40)
            .is_some_and(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
        && rest.get(40..) == Some(" Mon Sep 17 00:00:00 2001");
    git || (rest.contains('@') || rest.split_whitespace().count() >= 5)
        && next.is_some_and(looks_like_header_line)
}

/// Removes one level of `> ` quoting when every non-blank line is quoted (a client that
/// forwards by quoting).
fn unquote(text: &str) -> Cow<'_, str> {
    let mut nonblank = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    if nonblank.peek().is_none() || !nonblank.all(|l| l.starts_with('>')) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let stripped = line
            .strip_prefix("> ")
            .or_else(|| line.strip_prefix('>'))
            .unwrap_or(line);
        out.push_str(stripped);
    }
    Cow::Owned(out)
}

/// Splits a body into the writer's own text and the forwarded content: the latter starts at
/// the first forward marker, mbox separator, mail header block or diff.
fn split_inline(text: &str) -> (String, String) {
    let text = normalize_newlines(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut offset = 0;
    for (i, line) in lines.iter().enumerate() {
        let bare = line.trim_end_matches('\n');
        let next = lines.get(i + 1).map(|l| l.trim_end_matches('\n'));
        let starts = is_forward_marker(bare)
            || is_mbox_separator(bare, next)
            || starts_header_block(&lines, i)
            || bare.starts_with("diff --git ")
            || (bare.starts_with("--- ") && next.is_some_and(|n| n.starts_with("+++ ")));
        if starts {
            let own = text.get(..offset).unwrap_or_default().to_string();
            let rest = text.get(offset..).unwrap_or_default().to_string();
            return (own, rest);
        }
        offset += line.len();
    }
    (text, String::new())
}

/// Whether line `i` starts a pasted mail header block: at least two consecutive header lines,
/// one of them `From:` and one `Subject:`.
fn starts_header_block(lines: &[&str], i: usize) -> bool {
    let Some(first) = lines.get(i) else {
        return false;
    };
    let first = first.trim_end_matches('\n');
    if !(strip_prefix_ci(first, "from:").is_some() || strip_prefix_ci(first, "subject:").is_some())
    {
        return false;
    }
    let block: Vec<&str> = lines
        .iter()
        .skip(i)
        .map(|l| l.trim_end_matches('\n'))
        .take_while(|l| looks_like_header_line(l) || l.starts_with([' ', '\t']))
        .take(30)
        .collect();
    let has = |name: &str| block.iter().any(|l| strip_prefix_ci(l, name).is_some());
    block.len() >= 2 && has("from:") && has("subject:")
}

/// Directive lines out of the maintainer's text; the rest, without a signature, is the
/// concern.
fn directives_and_concern(text: &str) -> Result<(Directives, String), MailError> {
    let mut directives = Directives::default();
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line == "-- " || line == "--" {
            break; // the signature
        }
        let Some((key, value)) = line.split_once(':') else {
            kept.push(line);
            continue;
        };
        let value = value.trim();
        let bad = |message| MailError::Directive {
            line: line.chars().take(80).collect(),
            message,
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "project" if !value.is_empty() => {
                if value.contains(char::is_whitespace) || value.len() > 300 {
                    return Err(bad(
                        "write `Project: FORGE:OWNER/NAME`, e.g. `Project: github:acme/widget`",
                    ));
                }
                directives.project = Some(value.to_string());
            }
            "suspicion" if !value.is_empty() => {
                let number = value.split('/').next().unwrap_or(value).trim();
                match number.parse::<u8>() {
                    Ok(n @ 1..=5) => directives.suspicion = Some(n),
                    _ => {
                        return Err(bad(
                            "write `Suspicion: N` with N from 1 (probably fine) to 5 (almost certainly malicious)",
                        ));
                    }
                }
            }
            "tags" | "tag" if !value.is_empty() => {
                directives.tags.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string),
                );
            }
            _ => kept.push(line),
        }
    }
    let mut concern = String::new();
    let mut blank_run = 0;
    for line in kept {
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !concern.is_empty() {
            concern.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        concern.push_str(line.trim_end());
    }
    Ok((directives, concern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_taken_out_of_the_concern() {
        let (d, concern) = directives_and_concern(
            "Project: github:acme/widget\nSuspicion: 4/5\nTags: build, ci\n\nThe m4 change looks odd.\n\n\nWhy a binary test file?\n-- \nMia\n",
        )
        .unwrap();
        assert_eq!(d.project.as_deref(), Some("github:acme/widget"));
        assert_eq!(d.suspicion, Some(4));
        assert_eq!(d.tags, ["build", "ci"]);
        assert_eq!(
            concern,
            "The m4 change looks odd.\n\nWhy a binary test file?"
        );
        assert!(matches!(
            directives_and_concern("Suspicion: 9"),
            Err(MailError::Directive { .. })
        ));
        assert!(matches!(
            directives_and_concern("Project: acme widget"),
            Err(MailError::Directive { .. })
        ));
    }

    #[test]
    fn inline_text_splits_at_the_first_forwarded_content() {
        let (own, rest) = split_inline(
            "Please look.\n\n-------- Forwarded Message --------\nSubject: [PATCH] x\n",
        );
        assert_eq!(own, "Please look.\n\n");
        assert!(rest.starts_with("-------- Forwarded"));
        let (own, rest) =
            split_inline("Look.\nFrom: A <a@example.invalid>\nSubject: [PATCH] y\n\nbody\n");
        assert_eq!(own, "Look.\n");
        assert!(rest.starts_with("From: A"));
        // "From:" in prose without a Subject after it is prose.
        let (own, rest) = split_inline("From: my point of view this is odd.\n");
        assert_eq!(rest, "");
        assert!(own.starts_with("From: my point"));
    }

    #[test]
    fn separators_and_markers_are_recognised() {
        assert!(is_mbox_separator(
            "From 3f786850e387550fdab836ed7e6dc881de23001b Mon Sep 17 00:00:00 2001",
            None
        ));
        assert!(is_mbox_separator(
            "From jia@example.invalid Fri Mar 29 10:00:00 2024",
            Some("From: Jia <jia@example.invalid>")
        ));
        assert!(!is_mbox_separator("From here on we go", Some("and on")));
        assert!(is_forward_marker("---------- Forwarded message ---------"));
        assert!(is_forward_marker("-------- Forwarded Message --------"));
        assert!(is_forward_marker("Begin forwarded message:"));
        assert!(!is_forward_marker("--- a/x"));
        assert_eq!(
            normalize_header_line("Subject: \t[PATCH 1/2] x"),
            "Subject: [PATCH 1/2] x"
        );
    }

    #[test]
    fn flowed_text_is_joined_and_unstuffed() {
        assert_eq!(
            unflow("a long \nline\n  context\n-- \nsig\n", false),
            "a long line\n context\n-- \nsig\n"
        );
        assert_eq!(unflow("x \ny", true), "xy");
        assert_eq!(unflow("plain\n\nlines\n", false), "plain\n\nlines\n");
    }

    #[test]
    fn quoted_forwards_lose_one_quote_level() {
        assert_eq!(unquote("> a\n>\n> b\n"), "a\n\nb\n");
        assert_eq!(unquote("a\n> b\n"), "a\n> b\n");
    }
}
