//! `encoded-blob`: a long base64, hex or `\xNN`-escaped run inside an added line of source,
//! build or install code — the carrier of node-ipc's obscured strings, event-stream's
//! encrypted payload and countless droppers.
//!
//! Only lines of at least [`MIN_LINE`] bytes are looked at (the span length is free), so the
//! per-character work is confined to the rare long lines. Each run is decoded and classified:
//! code or an executable is a strong signal, readable text a weak one, opaque bytes a medium
//! one. Legitimate blobs are recognised by what precedes them — image and font data URIs,
//! integrity hashes, SSH public keys, source maps — and lockfiles, docs and generated files are
//! skipped unless the blob decodes to something that runs. Blobs in tests are test vectors
//! until they decode to code, so they are reported low.

use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, HunkCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::inline_data::{
    Decoded, classify, decode_base64, decode_escapes, decode_hex, entropy, is_base64_byte,
    runs_commands,
};

#[derive(Debug)]
pub struct EncodedBlob;

static META: DetectorMeta = DetectorMeta::new(
    "encoded-blob",
    "Long encoded blob in code",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::Payload, Vector::Obfuscation],
    &[],
    "An added line carries a long base64, hex or escaped string. Code rarely needs one; payloads \
     nearly always do, because an encoded blob cannot be read in review. Decode it offline and \
     check that what it contains matches what the change claims.",
);

/// Lines shorter than this are not examined.
const MIN_LINE: usize = 100;
/// Minimum run lengths, in characters of the encoding.
const MIN_BASE64: usize = 100;
/// sha512 in hex is 128 characters; stay above it.
const MIN_HEX: usize = 160;
/// Minimum number of consecutive `\xNN` escapes.
const MIN_ESCAPES: usize = 32;

/// Text shortly before a run that marks it as a legitimate, non-executable blob.
const BENIGN_PREFIXES: &[&str] = &[
    "data:image/",
    "data:font/",
    "data:application/font",
    "data:application/x-font",
    "data:application/vnd.ms-fontobject",
    "data:audio/",
    "data:video/",
    "\"image/png\"",
    "\"image/jpeg\"",
    "\"image/gif\"",
    "sha256-",
    "sha384-",
    "sha512-",
    "integrity",
    "ssh-rsa ",
    "ssh-ed25519 ",
    "ecdsa-sha2-",
    "sourcemappingurl",
    "checksum",
    "sha512sum",
    "sha256sum",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Base64,
    Hex,
    Escapes,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Escapes => "\\x-escaped",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    encoding: Encoding,
}

/// The longest qualifying run of `line`, if any.
fn longest_run(line: &str) -> Option<Run> {
    let b = line.as_bytes();
    let mut best: Option<Run> = None;
    let mut keep = |r: Run| {
        if best.is_none_or(|x| r.end - r.start > x.end - x.start) {
            best = Some(r);
        }
    };
    let mut i = 0;
    while i < b.len() {
        // Skip ahead: here no run is open, and every qualifying run (>= MIN_BASE64 base64
        // bytes, or >= MIN_ESCAPES `\xNN` = 128 bytes) starting in i..=i+MIN_BASE64-1 covers
        // all of i+k..=i+MIN_BASE64-1 for some k with base64 bytes or backslashes. So find,
        // from that far end backwards, the last byte q that is neither: no qualifying run
        // starts in i..=q, and the scan state after q is the same as byte by byte. Ordinary
        // long lines (short words between spaces and punctuation) are crossed in strides of
        // about MIN_BASE64 bytes, looking at a word or so per stride.
        if let Some(window) = b.get(i..i + MIN_BASE64)
            && let Some(q) = window
                .iter()
                .rposition(|&c| c != b'\\' && !is_base64_byte(c))
        {
            i += q + 1;
            continue;
        }
        if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'x' | b'X')) {
            let start = i;
            let mut n = 0;
            while i + 4 <= b.len()
                && b[i] == b'\\'
                && matches!(b[i + 1], b'x' | b'X')
                && b[i + 2].is_ascii_hexdigit()
                && b[i + 3].is_ascii_hexdigit()
            {
                i += 4;
                n += 1;
            }
            if n >= MIN_ESCAPES {
                keep(Run {
                    start,
                    end: i,
                    encoding: Encoding::Escapes,
                });
            }
            i = i.max(start + 1);
            continue;
        }
        if !is_base64_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_base64_byte(b[i]) {
            i += 1;
        }
        let run = &b[start..i];
        if run.len() >= MIN_BASE64 {
            if run.iter().all(u8::is_ascii_hexdigit) {
                if run.len() >= MIN_HEX && entropy(run) >= 3.0 {
                    keep(Run {
                        start,
                        end: i,
                        encoding: Encoding::Hex,
                    });
                }
            } else if looks_like_base64(run) {
                keep(Run {
                    start,
                    end: i,
                    encoding: Encoding::Base64,
                });
            }
        }
    }
    best
}

/// Mixed case and digits, few slashes (a long path is not a blob), not a repetition.
fn looks_like_base64(run: &[u8]) -> bool {
    let upper = run.iter().any(u8::is_ascii_uppercase);
    let lower = run.iter().any(u8::is_ascii_lowercase);
    let digit = run.iter().any(u8::is_ascii_digit);
    let slashes = run.iter().filter(|&&c| c == b'/').count();
    let dashes = run.iter().filter(|&&c| c == b'-' || c == b'_').count();
    upper
        && lower
        && digit
        && slashes * 8 < run.len()
        && dashes * 8 < run.len()
        && entropy(run) >= 4.2
}

fn benign_context(line: &str, start: usize) -> bool {
    let from = line.floor_char_boundary(start.saturating_sub(64));
    let before = line.get(from..start).unwrap_or("").to_ascii_lowercase();
    BENIGN_PREFIXES.iter().any(|p| before.contains(p))
}

fn decode(run: &str, encoding: Encoding) -> Decoded {
    let bytes = match encoding {
        Encoding::Base64 => decode_base64(run),
        Encoding::Hex => decode_hex(run),
        Encoding::Escapes => Some(decode_escapes(run)),
    };
    bytes.map(|b| classify(&b)).unwrap_or(Decoded::Opaque)
}

impl Detector for EncodedBlob {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_hunk(&self, h: &HunkCtx<'_>, out: &mut Findings) {
        let class = h.file.class;
        if class.lockfile || h.file.file.binary.is_some() {
            return;
        }
        for line in &h.hunk.lines {
            // The cheap gate: span length, no text touched.
            if line.kind != LineKind::Added || ((line.end - line.start) as usize) < MIN_LINE {
                continue;
            }
            let text = h.hunk.line_text(line);
            let Some(run) = longest_run(text) else {
                continue;
            };
            if benign_context(text, run.start) {
                continue;
            }
            let blob = text.get(run.start..run.end).unwrap_or("");
            let decoded = decode(blob, run.encoding);
            let runnable = decoded.is_runnable();
            // Docs and generated bundles carry blobs legitimately (fonts, wasm, examples);
            // only a blob that decodes to something that runs is worth a word there.
            if (class.docs || class.generated) && !runnable {
                continue;
            }
            let (severity, confidence) = match (&decoded, class.test) {
                // Encoded code that spawns processes or evaluates more code: a dropper.
                (
                    Decoded::Text {
                        text,
                        code: Some(_),
                    },
                    false,
                ) if runs_commands(text) => (Severity::Critical, Confidence::High),
                (
                    Decoded::Text {
                        text,
                        code: Some(_),
                    },
                    true,
                ) if runs_commands(text) => (Severity::High, Confidence::High),
                // Binaries embedded in tests are how parser test suites work.
                (d, true) if d.is_runnable() => (Severity::Medium, Confidence::Medium),
                (d, false) if d.is_runnable() => (Severity::High, Confidence::High),
                (_, true) => (Severity::Low, Confidence::Low),
                (Decoded::Archive(_) | Decoded::Opaque, false) => {
                    (Severity::Medium, Confidence::Medium)
                }
                (_, false) => (Severity::Medium, Confidence::Low),
            };
            let chars = run.end - run.start;
            let title = if runnable {
                format!("Encoded blob that {}", decoded.describe())
            } else if class.test {
                format!(
                    "Long {} blob in a test file (test vector?)",
                    run.encoding.name()
                )
            } else {
                format!(
                    "Long {} blob ({chars} characters) in code",
                    run.encoding.name()
                )
            };
            let head = super::inline_data::preview(blob, 60);
            let path = h.file.path();
            let col = text
                .get(..run.start)
                .map(|s| s.chars().count() as u32 + 1)
                .unwrap_or(1);
            let mut b = META
                .finding(Location::line(path, line.new_line.unwrap_or(0)))
                .column(col)
                .title(title)
                .severity(severity)
                .confidence(confidence)
                .evidence(format!(
                    "{head} ({chars} chars, {}) {}",
                    run.encoding.name(),
                    decoded.describe()
                ));
            if let Some(lang) = class.language {
                b = b.language(lang);
            }
            out.push(b.build());
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn a_long_base64_blob_of_code_is_found_and_decoded() {
        let payload = b64(&"require('child_process').exec('echo defanged'); ".repeat(3));
        let line = format!("const p = \"{payload}\";");
        let run = longest_run(&line).unwrap();
        assert_eq!(run.encoding, Encoding::Base64);
        let d = decode(&line[run.start..run.end], run.encoding);
        assert!(d.is_runnable(), "{d:?}");
    }

    #[test]
    fn image_data_uris_and_integrity_hashes_are_benign_context() {
        let noise: String = (0..40u32)
            .map(|i| b64(&format!("{}", i * 7919 % 1009)))
            .collect();
        let png = format!("background: url(data:image/png;base64,iVBORw0KGgo{noise});");
        let run = longest_run(&png).unwrap();
        assert!(benign_context(&png, run.start));
        let sri = format!("<script integrity=\"sha512-{noise}\">");
        let run = longest_run(&sri).unwrap();
        assert!(benign_context(&sri, run.start));
    }

    #[test]
    fn long_paths_identifiers_and_hashes_are_not_blobs() {
        assert!(longest_run(&"src/components/widgets/".repeat(8)).is_none());
        assert!(longest_run(&"a".repeat(300)).is_none());
        // A sha512 in hex is 128 characters: under the hex minimum.
        assert!(longest_run(&format!("x = \"{}\"", "0f1e2d3c4b5a6978".repeat(8))).is_none());
    }

    #[test]
    fn runs_after_long_prose_are_found_at_their_place() {
        let payload = b64(&"require('child_process').exec('echo defanged'); ".repeat(3));
        for pad in [0, 1, 98, 99, 100, 101, 150, 257] {
            let prose = "a b; ".repeat(60);
            let line = format!(
                "{}{} \"{payload}\" {}",
                &prose[..pad],
                "x",
                "c d, ".repeat(30)
            );
            let run = longest_run(&line).unwrap();
            assert_eq!(&line[run.start..run.end], payload, "pad {pad}");
            let esc = format!("{}\"{}\"", &prose[..pad], "\\x90\\x31".repeat(20));
            let run = longest_run(&esc).unwrap();
            assert_eq!(
                (run.encoding, run.start),
                (Encoding::Escapes, pad + 1),
                "pad {pad}"
            );
        }
    }

    #[test]
    fn escaped_shellcode_runs_are_found() {
        let line = format!("buf = b\"{}\"", "\\x90\\x31\\xc0\\x50".repeat(10));
        let run = longest_run(&line).unwrap();
        assert_eq!(run.encoding, Encoding::Escapes);
        assert_eq!(run.end - run.start, 160);
    }
}
