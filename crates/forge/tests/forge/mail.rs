//! Forwarded mail: the fixtures in `tests/fixtures/mail/` (see its README) are the ways mail
//! clients forward a `git format-patch` series, modelled on the xz-utils series of 2024 as it
//! went over a mailing list (defanged, `example.invalid` addresses).

use std::path::PathBuf;

use proptest::prelude::*;
use sx_forge::mail::{MailError, MailLimits, read_forwarded, read_header};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mail")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str) -> sx_forge::mail::Forwarded {
    read_forwarded(&fixture(name), &MailLimits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refusal(name: &str) -> MailError {
    read_forwarded(&fixture(name), &MailLimits::default())
        .err()
        .unwrap_or_else(|| panic!("{name} was accepted"))
}

const INTAKE: &str = "submit+aaaabbbbccccddddeeeeffffgggghhhh@intake.example.invalid";

/// The analyzer's reading of the rebuilt series: (files, commit subjects, title).
fn series_shape(series: &str) -> (Vec<String>, Vec<String>, Option<String>) {
    let change = sx_analyzer::diff::parse(series.as_bytes(), &Default::default()).unwrap();
    (
        change.files.iter().map(|f| f.path().to_string()).collect(),
        change
            .commits
            .iter()
            .map(|c| c.subject().to_string())
            .collect(),
        change.title,
    )
}

#[test]
fn a_patch_forwarded_inline_by_thunderbird_keeps_its_author_and_the_directives() {
    let f = read("inline-thunderbird.eml");
    assert_eq!(f.header.sender, "lasse@maint.example.invalid");
    assert_eq!(
        f.header.message_id.as_deref(),
        Some("fwd-1@maint.example.invalid")
    );
    assert_eq!(f.header.recipients, [INTAKE]);
    assert_eq!(
        f.directives.project.as_deref(),
        Some("github:tukaani-project/xz")
    );
    assert_eq!(f.directives.suspicion, Some(4));
    assert_eq!(
        f.concern,
        "The m4 change greps the source tree for a marked file and pipes it\nthrough tr into eval. Nothing in the series explains why."
    );
    assert_eq!((f.patches, f.files), (1, 1));
    let (files, subjects, _) = series_shape(&f.series);
    assert_eq!(files, ["m4/build-to-host.m4"]);
    assert_eq!(subjects, ["build: speed up build-to-host path translation"]);
    let change = sx_analyzer::diff::parse(f.series.as_bytes(), &Default::default()).unwrap();
    assert_eq!(
        change.commits[0].author_email, "jia@contributor.example.invalid",
        "the forwarded header names the patch's author, not the maintainer"
    );
    assert_eq!(
        f.title.as_deref(),
        Some("build: speed up build-to-host path translation")
    );
    // format=flowed undone: the soft-wrapped line is whole again, context lines unstuffed.
    assert!(
        f.series.contains(
            "\n+  gl_[$1]_config='sed \\\"r\\n\\\" $gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d 2>/dev/null'\n"
        ),
        "{}",
        f.series
    );
    assert!(f.series.contains("\n [\n"), "{}", f.series);
    assert_eq!(change.parse_notes, [], "the hunk reads cleanly");
}

#[test]
fn a_series_forwarded_as_attached_messages_keeps_its_cover_letter_and_list() {
    let f = read("attached-rfc822-series.eml");
    assert_eq!(f.directives.suspicion, Some(5));
    assert_eq!(f.directives.tags, ["build-system", "sandbox"]);
    assert_eq!(f.directives.project, None);
    assert_eq!(f.list_id.as_deref(), Some("xz-devel.lists.example.invalid"));
    assert!(
        f.concern.starts_with("A new contributor wants"),
        "{}",
        f.concern
    );
    assert_eq!((f.patches, f.files), (2, 2));
    let (files, subjects, title) = series_shape(&f.series);
    assert_eq!(files, ["m4/build-to-host.m4", "CMakeLists.txt"]);
    assert_eq!(
        subjects,
        [
            "build: speed up build-to-host path translation",
            "CMake: use a compile check for Landlock"
        ]
    );
    assert_eq!(
        title.as_deref(),
        Some("Speed up the build and simplify the Landlock check"),
        "the [PATCH 0/2] cover letter is the series' title"
    );
    assert_eq!(f.title, title);
}

#[test]
fn an_attached_mbox_is_read_and_a_quoted_printable_concern_decoded() {
    let f = read("mbox-attachment.eml");
    assert_eq!(f.header.sender, "joerg@maint.example.invalid");
    assert!(
        f.concern.starts_with("Grüße, the attached series"),
        "{}",
        f.concern
    );
    assert_eq!(
        f.list_id.as_deref(),
        Some("linux-kernel.vger.example.invalid")
    );
    assert_eq!((f.patches, f.files), (2, 2));
    let (_, _, title) = series_shape(&f.series);
    assert!(title.is_some());
}

#[test]
fn patch_files_are_taken_and_a_signature_ignored_and_the_cover_letter_missing_leaves_no_concern() {
    let f = read("patch-files-attached.eml");
    assert_eq!(
        f.directives.project.as_deref(),
        Some("github:tukaani-project/xz")
    );
    assert_eq!(f.concern, "");
    let (files, subjects, title) = series_shape(&f.series);
    assert_eq!(files, ["m4/build-to-host.m4", "CMakeLists.txt"]);
    assert_eq!(subjects.len(), 2);
    assert_eq!(title, None);
}

#[test]
fn the_maintainers_cover_text_then_a_pasted_mbox_is_a_series() {
    let f = read("inline-mbox-series.eml");
    assert_eq!(
        f.directives.project.as_deref(),
        Some("email:lists.example.invalid/xz-devel")
    );
    assert_eq!(f.directives.suspicion, Some(3));
    assert_eq!(
        f.concern,
        "Pasted from `b4 am -o -`; I do not trust the test files this relies on."
    );
    assert_eq!((f.patches, f.files), (2, 2));
}

#[test]
fn a_redirected_patch_mail_is_the_series_and_resent_from_the_sender() {
    let f = read("redirected.eml");
    assert!(f.header.redirected);
    assert_eq!(f.header.sender, "lasse@maint.example.invalid");
    assert!(f.header.recipients.iter().any(|r| r == INTAKE));
    assert_eq!(f.list_id.as_deref(), Some("xz-devel.lists.example.invalid"));
    assert_eq!(f.concern, "");
    let (files, _, _) = series_shape(&f.series);
    assert_eq!(files, ["CMakeLists.txt"]);
}

#[test]
fn html_only_no_patch_invalid_utf8_and_binary_junk_are_refused_with_their_reason() {
    assert_eq!(refusal("html-only.eml"), MailError::HtmlOnly);
    assert_eq!(refusal("no-patch.eml"), MailError::NoPatch);
    assert!(
        matches!(refusal("invalid-utf8.eml"), MailError::InvalidUtf8 { ref part } if part == "the message body"),
        "{:?}",
        refusal("invalid-utf8.eml")
    );
    assert!(matches!(
        refusal("binary-junk.bin"),
        MailError::NotAMessage { .. }
    ));
    assert!(matches!(
        read_header(&fixture("binary-junk.bin"), &MailLimits::default()),
        Err(MailError::NotAMessage { .. })
    ));
}

#[test]
fn a_message_over_the_limit_is_refused_before_it_is_parsed() {
    let limits = MailLimits {
        max_message_bytes: 1024,
        ..MailLimits::default()
    };
    let raw = fixture("attached-rfc822-series.eml");
    assert_eq!(
        read_forwarded(&raw, &limits),
        Err(MailError::TooLarge {
            size: raw.len(),
            limit: 1024
        })
    );
    let small_change = MailLimits {
        max_change_bytes: 512,
        ..MailLimits::default()
    };
    assert!(matches!(
        read_forwarded(&raw, &small_change),
        Err(MailError::ChangeTooLarge { .. })
    ));
}

#[test]
fn a_sender_must_be_one_address() {
    let two = b"From: a@example.invalid, b@example.invalid\nSubject: x\n\ndiff --git a/x b/x\n";
    assert_eq!(
        read_header(two, &MailLimits::default()),
        Err(MailError::Sender { found: 2 })
    );
    let none = b"Subject: x\n\nhello\n";
    assert_eq!(
        read_header(none, &MailLimits::default()),
        Err(MailError::Sender { found: 0 })
    );
}

#[test]
fn an_mta_envelope_line_in_front_is_skipped() {
    let mut raw = b"From lasse@maint.example.invalid  Sat Feb 24 09:00:00 2024\n".to_vec();
    raw.extend_from_slice(&fixture("inline-thunderbird.eml"));
    let f = read_forwarded(&raw, &MailLimits::default()).unwrap();
    assert_eq!(f.header.sender, "lasse@maint.example.invalid");
}

#[test]
fn an_attachment_named_as_a_patch_that_is_not_one_is_refused_by_name() {
    let raw = b"From: m@example.invalid\nSubject: x\nMIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n\
--b\nContent-Type: text/x-patch; name=\"fix.patch\"\nContent-Disposition: attachment; filename=\"fix.patch\"\n\n\
just words\n--b--\n";
    match read_forwarded(raw, &MailLimits::default()) {
        Err(MailError::NotAPatch { part, .. }) => assert!(part.contains("fix.patch"), "{part}"),
        other => panic!("{other:?}"),
    }
}

/// Builds a multipart message from generated pieces: the shapes the parser walks (nesting,
/// encodings, attachments) filled with arbitrary text.
fn arbitrary_message() -> impl Strategy<Value = Vec<u8>> {
    let text = proptest::collection::vec(any::<u8>(), 0..400);
    let encodings = prop_oneof![
        Just("7bit"),
        Just("8bit"),
        Just("base64"),
        Just("quoted-printable")
    ];
    let ctypes = prop_oneof![
        Just("text/plain; charset=utf-8"),
        Just("text/html"),
        Just("text/x-patch; name=\"a.patch\""),
        Just("application/mbox"),
        Just("message/rfc822"),
        Just("multipart/mixed; boundary=inner"),
        Just("application/octet-stream; name=\"b.diff\""),
    ];
    proptest::collection::vec((ctypes, encodings, text), 0..6).prop_map(|parts| {
        let mut out =
            b"From: m@example.invalid\nTo: submit+x@intake.example.invalid\nSubject: [PATCH] p\n\
MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n"
                .to_vec();
        for (ctype, encoding, body) in parts {
            out.extend_from_slice(
                format!(
                    "--outer\nContent-Type: {ctype}\nContent-Transfer-Encoding: {encoding}\n\n"
                )
                .as_bytes(),
            );
            out.extend_from_slice(b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+");
            out.extend_from_slice(&body);
            out.push(b'\n');
        }
        out.extend_from_slice(b"--outer--\n");
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = read_header(&raw, &MailLimits::default());
        let _ = read_forwarded(&raw, &MailLimits::default());
    }

    #[test]
    fn arbitrary_mime_structures_never_panic_and_accepted_ones_parse(raw in arbitrary_message()) {
        if let Ok(f) = read_forwarded(&raw, &MailLimits::default()) {
            prop_assert!(f.files >= 1);
            prop_assert!(sx_analyzer::diff::parse(f.series.as_bytes(), &Default::default()).is_ok());
        }
    }

    #[test]
    fn cutting_a_fixture_anywhere_never_panics(cut in 0usize..5000, which in 0usize..6) {
        let names = [
            "inline-thunderbird.eml",
            "attached-rfc822-series.eml",
            "mbox-attachment.eml",
            "patch-files-attached.eml",
            "inline-mbox-series.eml",
            "redirected.eml",
        ];
        let raw = fixture(names[which]);
        let cut = cut.min(raw.len());
        let _ = read_forwarded(&raw[..cut], &MailLimits::default());
    }
}
