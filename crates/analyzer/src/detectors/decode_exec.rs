//! `decode-exec`: an interpreter or shell fed directly from a decoder on one line —
//! `eval(atob(…))`, `exec(base64.b64decode(…))`, `new Function(Buffer.from(x, 'base64')…)`,
//! PHP `eval(base64_decode(…))`, `echo … | base64 -d | sh`, `powershell -enc …`.
//!
//! The behaviour-chain detector links a decode and an exec that sit apart in a file; this one
//! catches the nested one-line form, which has no benign use worth the risk, with high
//! confidence, and decodes an inline literal so the maintainer sees what would run.

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

use super::inline_data::{decode_char_codes, first_decodable};

#[derive(Debug)]
pub struct DecodeExec;

static META: DetectorMeta = DetectorMeta::new(
    "decode-exec",
    "Decoded data is executed directly",
    Severity::Critical,
    Confidence::High,
    &[Vector::Payload, Vector::Obfuscation],
    &[],
    "An interpreter or shell runs the output of a decoder (base64, hex, character codes, \
     decompression) on the same line. Nobody can review what will run without decoding it first; \
     this is how the node-ipc, ua-parser-js and tj-actions/changed-files payloads were hidden. \
     Decode the literal offline (the evidence shows it when it is inline), read it, and do not \
     merge code that executes encoded text.",
);

/// Calls that evaluate code or run a command.
macro_rules! sink {
    () => {
        r"(?:\b(?:eval|exec|execSync|execFileSync|spawnSync|system|popen|assert|create_function|runInThisContext|runInNewContext|instance_eval|class_eval|module_eval|shell_exec|passthru)\s*\(|(?i:\biex\b|\binvoke-expression\b)\s*\(?|\bnew\s+Function\s*\(|\bFunction\s*\(|\bsubprocess\.(?:run|call|check_output|check_call|Popen)\s*\(|\bchild_process['\x22]?\)?\.(?:exec|spawn)\w*\s*\()"
    };
}

/// Decoders, each ending at its opening parenthesis.
macro_rules! decoder {
    () => {
        r"(?:\batob\s*\(|\bBuffer\.from\s*\([^)]*['\x22](?:base64|hex)['\x22]|b64decode\s*\(|decodebytes\s*\(|decodestring\s*\(|\bbase64_decode\s*\(|\bgzinflate\s*\(|\bgzuncompress\s*\(|\bstr_rot13\s*\(|fromCharCode\s*\(|unhexlify\s*\(|\bfromhex\s*\(|\bcodecs\.decode\s*\(|\bmarshal\.loads\s*\(|\bzlib\.decompress\s*\(|decode64\s*\(|\bdecode_base64\s*\(|FromBase64String\s*\(|\bunescape\s*\()"
    };
}

/// Sink, then at most 200 characters within the same statement, then a decoder.
const NESTED: &str = concat!(sink!(), r"[^;\n]{0,200}?", decoder!());

/// Shell: decoded text piped into a shell or interpreter, or run through `eval "$(…)"`.
const SHELL: &str = r"(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r(?:\s+-p)?|openssl\s+(?:base64|enc)\s+-d)\b[^;\n]{0,80}?\|\s*(?:sudo\s+)?(?:/bin/|/usr/bin/(?:env\s+)?)?(?:(?:ba|z|da|k)?sh|python[23]?|node|perl|ruby|php)\b|(?:\beval|\b(?:ba)?sh\s+-c|\bsource)\s+[\x22']?\$\([^)]{0,200}?(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r)|(?:ba)?sh\s+<\(\s*[^)]{0,200}?(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r)";

/// PowerShell's encoded-command switch with an inline base64 argument.
const POWERSHELL: &str = r"(?i)\b(?:powershell|pwsh)(?:\.exe)?\b[^\n]{0,80}?\s-(?:e|ec|en|enc|encodedcommand)\s+[A-Za-z0-9+/]{16,}={0,2}";

// Generated and vendored files included: payloads hide in `dist/` (tj-actions/changed-files).
const NOT_DOCS: &[FileScope] = &[
    FileScope::Source,
    FileScope::Test,
    FileScope::ExecutionPath,
    FileScope::Generated,
];

macro_rules! nested {
    ($lit:expr) => {
        LinePattern::lit($lit).files(NOT_DOCS).regex(NESTED)
    };
}

static PATTERNS: &[LinePattern] = &[
    nested!("atob("),
    nested!("Buffer.from("),
    nested!("b64decode("),
    nested!("decodebytes("),
    nested!("decodestring("),
    nested!("base64_decode("),
    nested!("gzinflate("),
    nested!("gzuncompress("),
    nested!("str_rot13("),
    nested!("fromCharCode("),
    nested!("unhexlify("),
    nested!("fromhex("),
    nested!("codecs.decode("),
    nested!("marshal.loads("),
    nested!("zlib.decompress("),
    nested!("decode64("),
    nested!("decode_base64("),
    nested!("FromBase64String("),
    nested!("unescape("),
    LinePattern::lit("base64 -d").files(NOT_DOCS).regex(SHELL),
    LinePattern::lit("base64 --decode")
        .files(NOT_DOCS)
        .regex(SHELL),
    LinePattern::lit("base64 -D").files(NOT_DOCS).regex(SHELL),
    LinePattern::lit("xxd -r").files(NOT_DOCS).regex(SHELL),
    LinePattern::lit("openssl base64 -d")
        .files(NOT_DOCS)
        .regex(SHELL),
    LinePattern::lit("powershell")
        .ignore_case()
        .files(NOT_DOCS)
        .regex(POWERSHELL),
    LinePattern::lit("pwsh").files(NOT_DOCS).regex(POWERSHELL),
];

/// What the inline literal of a matched line decodes to, for the evidence.
fn decoded_note(line: &str, from: usize) -> Option<String> {
    let rest = line.get(from..)?;
    if let Some(i) = rest.find("fromCharCode(")
        && let Some(text) = rest
            .get(i + "fromCharCode(".len()..)
            .and_then(decode_char_codes)
    {
        return Some(format!(
            "decodes to \"{}\"",
            super::inline_data::preview(&text, 80)
        ));
    }
    first_decodable(rest, 12).map(|d| d.describe())
}

/// Whether the matched text at `at` is data rather than code of the file: a quote opens
/// before it on the line, the line is a line of a diff embedded in the test (`+  eval(…)`),
/// or the file is in a language that has none of these sinks (a Rust or Go test holding a
/// JavaScript or shell payload can only hold it as text).
fn in_string_literal(line: &str, at: usize, language: Option<&str>) -> bool {
    if matches!(language, Some("rust" | "go" | "java" | "c" | "cpp")) {
        return true;
    }
    let before = line.get(..at).unwrap_or("");
    let t = before.trim_start();
    if t.starts_with(['+', '-']) && !t.starts_with("++") && !t.starts_with("--") {
        return true;
    }
    ['"', '\'', '`']
        .iter()
        .any(|q| before.matches(*q).count() % 2 == 1)
}

impl Detector for DecodeExec {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let matched = hit.matched().trim();
        let mut evidence = matched.to_string();
        if let Some(note) = decoded_note(hit.text, hit.range.start) {
            evidence = format!("{evidence} … {note}");
        }
        let mut b = META.finding(hit.location(file.path())).evidence(evidence);
        // Tests hold payloads as data: detectors' own fixtures, decoder round-trip tests.
        // The xz backdoor hid in test files, so they are not silenced; a hit in a test is
        // medium confidence at most, and one that is plainly text in a string literal (or a
        // diff embedded in a test) is medium severity: notable, not an alarm.
        if file.class.test {
            b = b.confidence(Confidence::Medium);
            if in_string_literal(hit.text, hit.range.start, file.class.language) {
                b = b.severity(Severity::Medium);
            }
        }
        if let Some(lang) = file.class.language {
            b = b.language(lang);
        }
        out.push(b.build());
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn nested(line: &str) -> bool {
        Regex::new(NESTED).unwrap().is_match(line)
    }

    fn shell(line: &str) -> bool {
        Regex::new(SHELL).unwrap().is_match(line)
    }

    #[test]
    fn payload_text_in_strings_and_embedded_diffs_counts_as_data() {
        assert!(in_string_literal(
            "  const mail = \"eval(atob(x))\";",
            16,
            Some("javascript")
        ));
        assert!(in_string_literal("+  eval(atob(blob));", 3, Some("python")));
        assert!(in_string_literal("eval(atob(blob));", 0, Some("rust")));
        assert!(!in_string_literal(
            "    eval(atob(blob));",
            4,
            Some("javascript")
        ));
    }

    #[test]
    fn nested_decode_calls_inside_interpreters_match() {
        assert!(nested(r#"eval(atob("ZWNobyBkZWZhbmdlZA=="))"#));
        assert!(nested("exec(base64.b64decode(PAYLOAD))"));
        assert!(nested("exec(zlib.decompress(base64.b64decode(b'eJw=')))"));
        assert!(nested(
            "new Function(Buffer.from(x, 'base64').toString())()"
        ));
        assert!(nested("<?php @eval(base64_decode($_POST['z'])); ?>"));
        assert!(nested(
            "require('child_process').execSync(Buffer.from(c,'hex').toString())"
        ));
        assert!(nested(
            "IEX ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($s)))"
        ));
    }

    #[test]
    fn decoding_without_execution_does_not_match() {
        assert!(!nested(
            "const claims = JSON.parse(atob(token.split('.')[1]));"
        ));
        assert!(!nested("data = base64.b64decode(blob)"));
        assert!(!nested("exec(code); const s = atob(x)"));
        assert!(!nested("exec(compile(open(path).read(), path, 'exec'))"));
    }

    #[test]
    fn shell_decode_pipelines_into_a_shell_match() {
        assert!(shell("echo ZWNobyBkZWZhbmdlZA== | base64 -d | sh"));
        assert!(shell("echo $P | base64 --decode | sudo bash"));
        assert!(shell(r#"eval "$(echo $X | base64 -d)""#));
        assert!(shell("bash <(echo Zm9v | base64 -d)"));
        assert!(!shell("base64 -d < cert.b64 > cert.pem"));
        assert!(!shell("base64 -d key.b64 | gpg --import"));
    }

    #[test]
    fn inline_literals_are_decoded_for_the_evidence() {
        let line = r#"eval(atob("ZWNobyBkZWZhbmdlZA=="))"#;
        assert_eq!(
            decoded_note(line, 0).as_deref(),
            Some("decodes to \"echo defanged\"")
        );
        let codes = "eval(String.fromCharCode(101,99,104,111))";
        assert_eq!(
            decoded_note(codes, 0).as_deref(),
            Some("decodes to \"echo\"")
        );
    }
}
