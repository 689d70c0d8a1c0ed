//! Paths as they appear in diff headers.
//!
//! Git writes a path containing control characters, `"`, `\` or (by default) non-ASCII bytes
//! as a C string: `"a/t\303\251st\tx"`. Unquoting yields raw bytes, which become a `String`
//! lossily (the caller records whether anything was replaced). Plain `diff -u` output puts a
//! tab and a timestamp after the path instead.

use std::borrow::Cow;

/// Decode a C-quoted string starting at `s[0] == b'"'`. Returns the bytes and the rest of
/// the input after the closing quote, or `None` when the quoting is broken (then git treats
/// the name as unquoted, and so do we).
pub(crate) fn unquote(s: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut it = s.strip_prefix(b"\"")?.iter().enumerate();
    let body = s.get(1..)?;
    let mut out = Vec::with_capacity(body.len());
    while let Some((i, &b)) = it.next() {
        match b {
            b'"' => return Some((out, body.get(i + 1..).unwrap_or_default())),
            b'\\' => {
                let (_, &e) = it.next()?;
                let decoded = match e {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'v' => 0x0b,
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'0'..=b'3' => {
                        let (_, &d2) = it.next()?;
                        let (_, &d3) = it.next()?;
                        if !(b'0'..=b'7').contains(&d2) || !(b'0'..=b'7').contains(&d3) {
                            return None;
                        }
                        ((e - b'0') << 6) | ((d2 - b'0') << 3) | (d3 - b'0')
                    }
                    _ => return None,
                };
                out.push(decoded);
            }
            _ => out.push(b),
        }
    }
    None
}

/// The path field of a `---`/`+++`/`rename from`/`copy to` line: a quoted string, or the
/// text up to the first tab (what follows a tab is a timestamp). Also returns the text after
/// the tab, if any.
pub(crate) fn path_field(s: &[u8]) -> (Cow<'_, [u8]>, &[u8]) {
    if s.first() == Some(&b'"')
        && let Some((bytes, rest)) = unquote(s)
    {
        let rest = rest.strip_prefix(b"\t").unwrap_or(rest);
        return (Cow::Owned(bytes), rest);
    }
    match memchr::memchr(b'\t', s) {
        Some(i) => (
            Cow::Borrowed(s.get(..i).unwrap_or_default()),
            s.get(i + 1..).unwrap_or_default(),
        ),
        None => (Cow::Borrowed(s), &[]),
    }
}

/// Split the two names of a `diff --git <a> <b>` line.
///
/// Unquoted names may contain spaces, so git's rule is used: without a rename both names
/// are the same after their prefix, which fixes the split in the middle. Returns `None`
/// when the split cannot be determined; the `---`/`+++` or `rename` lines then name the
/// file.
pub(crate) fn split_git_names(rest: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if rest.first() == Some(&b'"') {
        let (a, after) = unquote(rest)?;
        let after = after.strip_prefix(b" ")?;
        let b = if after.first() == Some(&b'"') {
            unquote(after)?.0
        } else {
            after.to_vec()
        };
        return Some((a, b));
    }
    if rest.last() == Some(&b'"')
        && let Some(i) = memchr::memmem::find(rest, b" \"")
    {
        let (b, _) = unquote(rest.get(i + 1..)?)?;
        return Some((rest.get(..i)?.to_vec(), b));
    }
    // Same name on both sides: "P/name Q/name" with prefixes of equal length, or no prefix.
    if rest.len() % 2 == 1 {
        let mid = rest.len() / 2;
        if rest.get(mid) == Some(&b' ') {
            let (a, b) = (rest.get(..mid)?, rest.get(mid + 1..)?);
            if a == b || strip_component(a) == strip_component(b) {
                return Some((a.to_vec(), b.to_vec()));
            }
        }
    }
    // A rename with unquoted names containing spaces is ambiguous; guess at the " b/".
    if let Some(i) = memchr::memmem::find(rest, b" b/") {
        return Some((rest.get(..i)?.to_vec(), rest.get(i + 1..)?.to_vec()));
    }
    let i = memchr::memchr(b' ', rest)?;
    Some((rest.get(..i)?.to_vec(), rest.get(i + 1..)?.to_vec()))
}

/// Remove the first path component (`a/src/x` → `src/x`); a name without `/` is kept.
pub(crate) fn strip_component(path: &[u8]) -> &[u8] {
    match memchr::memchr(b'/', path) {
        Some(i) => path.get(i + 1..).unwrap_or_default(),
        None => path,
    }
}

/// Whether the names of a file carry a leading directory to strip, like `patch -p1`.
///
/// Both sides known: strip when their first components differ (`a/` vs `b/`, or
/// `project.orig/` vs `project/` from `diff -ruN`) — with `--no-prefix` they are equal.
/// One side known (the other is `/dev/null`): strip git's usual `a/`/`b/`-style prefix.
pub(crate) fn should_strip(old: Option<&[u8]>, new: Option<&[u8]>) -> bool {
    fn first(p: &[u8]) -> Option<&[u8]> {
        memchr::memchr(b'/', p).and_then(|i| p.get(..i))
    }
    fn single_letter_prefix(p: &[u8]) -> bool {
        matches!(p, [c, b'/', ..] if c.is_ascii_lowercase())
    }
    match (old, new) {
        (Some(a), Some(b)) => match (first(a), first(b)) {
            (Some(x), Some(y)) => x != y,
            _ => false,
        },
        (Some(p), None) | (None, Some(p)) => single_letter_prefix(p),
        (None, None) => false,
    }
}

/// Whether a name is git's or diff's "no file" marker.
pub(crate) fn is_dev_null(path: &[u8]) -> bool {
    path == b"/dev/null"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_escapes_and_octal_bytes_are_decoded() {
        let (bytes, rest) = unquote(br#""a/t\303\251st\tx\"q\\" tail"#).unwrap();
        assert_eq!(bytes, b"a/t\xc3\xa9st\tx\"q\\");
        assert_eq!(rest, b" tail");
        assert_eq!(String::from_utf8(bytes).unwrap(), "a/t\u{e9}st\tx\"q\\");
    }

    #[test]
    fn broken_quoting_is_rejected() {
        assert!(unquote(br#""abc"#).is_none());
        assert!(unquote(br#""a\q""#).is_none());
        assert!(unquote(br#""a\39x""#).is_none());
        assert!(unquote(br#""a\"#).is_none());
        assert!(unquote(b"plain").is_none());
    }

    #[test]
    fn path_fields_stop_at_the_timestamp_tab() {
        let (p, ts) = path_field(b"a/my file.c\t2023-10-03 12:00:00.000000000 +0200");
        assert_eq!(&*p, b"a/my file.c");
        assert_eq!(ts, b"2023-10-03 12:00:00.000000000 +0200");
        let (p, ts) = path_field(br#""b/\303\251""#);
        assert_eq!(&*p, "b/\u{e9}".as_bytes());
        assert!(ts.is_empty());
        let (p, _) = path_field(br#""broken"#);
        assert_eq!(&*p, br#""broken"#);
    }

    #[test]
    fn git_header_names_with_spaces_split_in_the_middle() {
        let (a, b) = split_git_names(b"a/my file.txt b/my file.txt").unwrap();
        assert_eq!(
            (a.as_slice(), b.as_slice()),
            (&b"a/my file.txt"[..], &b"b/my file.txt"[..])
        );
        let (a, b) = split_git_names(br#""a/t\303\251" "b/t\303\251""#).unwrap();
        assert_eq!(b, "b/t\u{e9}".as_bytes());
        assert_eq!(a, "a/t\u{e9}".as_bytes());
        let (a, b) = split_git_names(br#"a/x "b/y\tz""#).unwrap();
        assert_eq!((a.as_slice(), b.as_slice()), (&b"a/x"[..], &b"b/y\tz"[..]));
        let (a, b) = split_git_names(b"a/old name b/new").unwrap();
        assert_eq!(
            (a.as_slice(), b.as_slice()),
            (&b"a/old name"[..], &b"b/new"[..])
        );
        let (a, b) = split_git_names(b"src/x src/x").unwrap();
        assert_eq!((a.as_slice(), b.as_slice()), (&b"src/x"[..], &b"src/x"[..]));
        assert!(split_git_names(b"nospace").is_none());
    }

    #[test]
    fn prefixes_are_stripped_only_when_both_sides_agree_there_is_one() {
        assert!(should_strip(Some(b"a/x"), Some(b"b/x")));
        assert!(should_strip(Some(b"proj.orig/src/x"), Some(b"proj/src/x")));
        assert!(!should_strip(Some(b"src/x"), Some(b"src/x")));
        assert!(!should_strip(Some(b"x.orig"), Some(b"x")));
        assert!(should_strip(None, Some(b"b/x")));
        assert!(!should_strip(None, Some(b"x")));
        assert_eq!(strip_component(b"a/src/x"), b"src/x");
        assert_eq!(strip_component(b"x"), b"x");
        assert!(is_dev_null(b"/dev/null"));
    }
}
