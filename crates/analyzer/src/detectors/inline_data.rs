//! Reading inline data the way a reviewer would want it read: decode a base64, hex or
//! `\xNN`-escaped literal found in an added line, say what the bytes are (readable code,
//! an executable, an archive, or opaque noise) and how random a run of characters is.
//!
//! Shared by the payload and obfuscation detectors so a finding can show "decodes to:
//! `curl … | sh`" instead of a wall of base64. Everything here is bounded: decoding stops at
//! [`MAX_DECODE`] input bytes, so a 100 MB blob costs no more than a small one.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// At most this many input characters are decoded; enough to classify and preview.
pub(crate) const MAX_DECODE: usize = 16 * 1024;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// What decoded bytes turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// Readable text; `code` names the first marker of executable code found in it.
    Text {
        text: String,
        code: Option<&'static str>,
    },
    /// A native executable or WebAssembly module (the format's name).
    Executable(&'static str),
    /// A compressed or archive container (the format's name).
    Archive(&'static str),
    /// Bytes with no recognisable structure: encrypted, compressed without a header, or random.
    Opaque,
}

impl Decoded {
    /// True when the content is something that runs: code text or a binary executable.
    pub(crate) fn is_runnable(&self) -> bool {
        matches!(
            self,
            Decoded::Text { code: Some(_), .. } | Decoded::Executable(_)
        )
    }

    /// A short human description for evidence and titles.
    pub(crate) fn describe(&self) -> String {
        match self {
            Decoded::Text { text, .. } => format!("decodes to \"{}\"", preview(text, 80)),
            Decoded::Executable(kind) => format!("decodes to {kind}"),
            Decoded::Archive(kind) => format!("decodes to {kind} data"),
            Decoded::Opaque => "decodes to opaque bytes (encrypted or random)".to_string(),
        }
    }
}

fn bounded(s: &str) -> &str {
    match s.char_indices().nth(MAX_DECODE) {
        // Cut on a multiple of 4 so the prefix still decodes as base64.
        Some((i, _)) => s.get(..i - i % 4).unwrap_or(""),
        None => s,
    }
}

/// Decode base64 (standard or URL-safe alphabet, padding optional).
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = bounded(s.trim_end_matches('='));
    if s.len() < 2 {
        return None;
    }
    STANDARD.decode(s).or_else(|_| URL_SAFE.decode(s)).ok()
}

/// Decode an even-length run of hex digits.
pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = bounded(s);
    let s = s.get(..s.len() - s.len() % 2)?;
    hex::decode(s).ok()
}

/// Decode consecutive `\xNN` escapes (other text between them ends the run).
pub(crate) fn decode_escapes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len()
        && out.len() < MAX_DECODE
        && b[i] == b'\\'
        && matches!(b[i + 1], b'x' | b'X')
    {
        match s
            .get(i + 2..i + 4)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            Some(v) => out.push(v),
            None => break,
        }
        i += 4;
    }
    out
}

/// Decode `String.fromCharCode(104, 105, …)`-style decimal code lists.
pub(crate) fn decode_char_codes(args: &str) -> Option<String> {
    let inner = args.split(')').next()?;
    let mut out = String::new();
    for part in inner.split(',') {
        let n: u32 = part.trim().parse().ok()?;
        out.push(char::from_u32(n)?);
        if out.len() > MAX_DECODE {
            break;
        }
    }
    (out.chars().count() >= 3).then_some(out)
}

/// Markers of executable code in decoded text, checked in order (lower-case).
const CODE_MARKERS: &[&str] = &[
    "child_process",
    "subprocess",
    "os.system",
    "/bin/sh",
    "/bin/bash",
    "bash -c",
    "sh -c",
    "powershell",
    "curl ",
    "wget ",
    "eval(",
    "exec(",
    "require(",
    "import ",
    "<?php",
    "process.env",
    "os.environ",
    "socket",
    "http://",
    "https://",
    "function(",
    "function ",
    "=>",
    "#!/",
    "echo ",
    "| sh",
    "|sh",
    "| bash",
];

/// Markers of code that runs commands or evaluates more code: the dropper's business.
const COMMAND_MARKERS: &[&str] = &[
    "child_process",
    "subprocess",
    "os.system",
    "/bin/sh",
    "/bin/bash",
    "bash -c",
    "sh -c",
    "powershell",
    "curl ",
    "wget ",
    "eval(",
    "exec(",
    "| sh",
    "|sh",
    "| bash",
];

/// Whether decoded text runs commands or evaluates code (lower-case markers).
pub(crate) fn runs_commands(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    COMMAND_MARKERS.iter().any(|m| lower.contains(m))
}

/// The first code marker in `text`, if any.
pub(crate) fn code_marker(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    CODE_MARKERS.iter().copied().find(|m| lower.contains(m))
}

/// Say what decoded bytes are.
pub(crate) fn classify(bytes: &[u8]) -> Decoded {
    const MAGIC: &[(&[u8], bool, &str)] = &[
        (b"\x7fELF", true, "an ELF executable"),
        (b"\xcf\xfa\xed\xfe", true, "a Mach-O executable"),
        (b"\xfe\xed\xfa\xcf", true, "a Mach-O executable"),
        (b"\xca\xfe\xba\xbe", true, "a Mach-O universal binary"),
        (b"\0asm", true, "a WebAssembly module"),
        (b"\x1f\x8b", false, "gzip"),
        (b"\xfd7zXZ\0", false, "xz"),
        (b"PK\x03\x04", false, "zip"),
        (b"BZh", false, "bzip2"),
        (b"\x28\xb5\x2f\xfd", false, "zstd"),
        (b"7z\xbc\xaf\x27\x1c", false, "7-zip"),
    ];
    for (magic, exe, name) in MAGIC {
        if bytes.starts_with(magic) {
            return if *exe {
                Decoded::Executable(name)
            } else {
                Decoded::Archive(name)
            };
        }
    }
    // A DOS/PE header: "MZ" plus the "PE\0\0" signature where e_lfanew points.
    if bytes.starts_with(b"MZ") && bytes.len() >= 64 {
        return Decoded::Executable("a Windows PE executable");
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let total = text.chars().count().max(1);
        let printable = text
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
            .count();
        if printable * 100 / total >= 95 {
            return Decoded::Text {
                code: code_marker(text),
                text: text.to_string(),
            };
        }
    }
    Decoded::Opaque
}

/// Shannon entropy in bits per symbol over the bytes of `s`.
pub(crate) fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A one-line preview: control characters shown as escapes, cut at `max` characters.
pub(crate) fn preview(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Characters of a base64 token (both alphabets plus padding).
pub(crate) fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Find the first decodable literal in `s` (a base64 or hex token of at least `min` chars)
/// and say what it is. Used to explain one-line decode→exec payloads.
pub(crate) fn first_decodable(s: &str, min: usize) -> Option<Decoded> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_base64_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_base64_byte(b[i]) {
            i += 1;
        }
        let tok = s.get(start..i).unwrap_or("");
        if tok.len() < min {
            continue;
        }
        let bytes = if tok.bytes().all(|c| c.is_ascii_hexdigit()) {
            decode_hex(tok)
        } else {
            decode_base64(tok)
        };
        if let Some(bytes) = bytes {
            let d = classify(&bytes);
            if d != Decoded::Opaque {
                return Some(d);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_a_shell_command_reads_as_code() {
        let bytes = decode_base64("ZWNobyBkZWZhbmdlZA==").unwrap();
        let d = classify(&bytes);
        assert_eq!(
            d,
            Decoded::Text {
                text: "echo defanged".into(),
                code: Some("echo ")
            }
        );
        assert!(d.is_runnable());
    }

    #[test]
    fn command_running_code_is_told_apart_from_other_code() {
        assert!(runs_commands("require('child_process').exec('x')"));
        assert!(!runs_commands("const f = (a) => a + 1;"));
    }

    #[test]
    fn unpadded_and_url_safe_base64_decode() {
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert_eq!(decode_base64("-_-_").unwrap(), vec![0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn escapes_decode_until_the_run_ends() {
        assert_eq!(decode_escapes(r"\x63\x75\x72\x6c rest"), b"curl");
        assert!(decode_escapes(r"\xZZ").is_empty());
    }

    #[test]
    fn char_code_lists_decode() {
        assert_eq!(
            decode_char_codes("101,118,97,108)").as_deref(),
            Some("eval")
        );
        assert_eq!(decode_char_codes("1,x)"), None);
    }

    #[test]
    fn executables_and_archives_are_recognised() {
        assert_eq!(
            classify(b"\x7fELF\x02\x01"),
            Decoded::Executable("an ELF executable")
        );
        assert_eq!(classify(b"\xfd7zXZ\0\0"), Decoded::Archive("xz"));
        assert_eq!(classify(&[0x80, 0x81, 0xfe, 0x00, 0x13]), Decoded::Opaque);
    }

    #[test]
    fn entropy_separates_noise_from_repetition() {
        assert!(entropy(b"AAAAAAAAAAAAAAAA") < 0.1);
        let all: Vec<u8> = (0..=255).collect();
        assert!((entropy(&all) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn previews_make_control_characters_visible_and_cut() {
        assert_eq!(preview("a\nb\u{1b}", 10), "a\\nb\\u{1b}");
        assert_eq!(preview("abcdef", 3), "abc…");
    }

    #[test]
    fn the_first_decodable_token_is_found_among_others() {
        let d = first_decodable(r#"eval(atob("ZWNobyBkZWZhbmdlZA=="))"#, 12).unwrap();
        assert!(d.describe().contains("echo defanged"));
        assert!(first_decodable("short tokens only", 12).is_none());
    }
}
