//! Commit metadata: `git show` / `git log -p` headers, identities and dates.
//!
//! ```text
//! commit 1f0e3c… (HEAD -> main)
//! Author: Jane Doe <jane@example.org>
//! Date:   Tue Oct 3 12:00:00 2023 +0200
//!
//!     Subject line
//!
//!     Body, indented by four spaces.
//! ```
//!
//! `--format=fuller` adds `AuthorDate:`/`Commit:`/`CommitDate:`, `--format=raw` writes
//! `author Name <mail> 1696327200 +0200`. Dates are parsed leniently (git's default format,
//! RFC 2822, ISO 8601, raw seconds); an unparsable date is left `None`, never an error.

use crate::change::CommitMeta;

/// Whether `line` starts a commit header: `commit <hex>` optionally followed by decorations.
/// Returns the commit id.
pub(crate) fn commit_line(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"commit ")?;
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let id = rest.get(..end)?;
    let after = rest.get(end..).unwrap_or_default();
    let hex = (7..=64).contains(&id.len()) && id.iter().all(u8::is_ascii_hexdigit);
    // `git log --decorate` adds " (HEAD -> main)"; `git log --graph` is not supported.
    let tail_ok = after.is_empty() || after.starts_with(b" (") || after.starts_with(b" from ");
    (hex && tail_ok).then(|| String::from_utf8_lossy(id).into_owned())
}

/// Apply one header line of a `git show` commit header to `meta`. Unknown headers
/// (`Merge:`, `tree`, `parent`, `gpgsig` …) are ignored.
pub(crate) fn apply_commit_header(meta: &mut CommitMeta, line: &str) {
    if let Some(v) = line.strip_prefix("Author:") {
        let (name, email) = parse_ident(v.trim());
        meta.author_name = name;
        meta.author_email = email;
    } else if let Some(v) = line
        .strip_prefix("AuthorDate:")
        .or_else(|| line.strip_prefix("Date:"))
    {
        if let Some((t, off)) = parse_date(v.trim()) {
            meta.author_time = Some(t);
            meta.author_offset_minutes = Some(off);
        }
    } else if let Some(v) = line.strip_prefix("Commit:") {
        let (name, email) = parse_ident(v.trim());
        meta.committer_name = Some(name);
        meta.committer_email = Some(email);
    } else if let Some(v) = line.strip_prefix("CommitDate:") {
        meta.committer_time = parse_date(v.trim()).map(|(t, _)| t);
    } else if let Some(v) = line.strip_prefix("author ") {
        let (name, email, date) = parse_raw_ident(v);
        meta.author_name = name;
        meta.author_email = email;
        if let Some((t, off)) = date {
            meta.author_time = Some(t);
            meta.author_offset_minutes = Some(off);
        }
    } else if let Some(v) = line.strip_prefix("committer ") {
        let (name, email, date) = parse_raw_ident(v);
        meta.committer_name = Some(name);
        meta.committer_email = Some(email);
        meta.committer_time = date.map(|(t, _)| t);
    }
}

/// `Name <email>` (name possibly quoted), or a bare address.
pub(crate) fn parse_ident(s: &str) -> (String, String) {
    match (s.find('<'), s.rfind('>')) {
        (Some(lt), Some(gt)) if lt < gt => {
            let name = s.get(..lt).unwrap_or("").trim();
            let name = name
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .map(|n| n.replace("\\\"", "\"").replace("\\\\", "\\"))
                .unwrap_or_else(|| name.to_owned());
            let email = s.get(lt + 1..gt).unwrap_or("").trim().to_owned();
            (name, email)
        }
        _ if s.contains('@') && !s.contains(' ') => (String::new(), s.to_owned()),
        _ => (s.trim().to_owned(), String::new()),
    }
}

/// `Name <email> 1696327200 +0200` from `--format=raw`.
fn parse_raw_ident(s: &str) -> (String, String, Option<(i64, i32)>) {
    let (ident, date) = match s.rfind('>') {
        Some(gt) => (s.get(..=gt).unwrap_or(s), s.get(gt + 1..).unwrap_or("")),
        None => (s, ""),
    };
    let (name, email) = parse_ident(ident);
    (name, email, parse_date(date.trim()))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A UTC offset token: `+0200`, `-05:30`, `Z`, `UTC`, `GMT`. Minutes east of UTC.
fn parse_offset(tok: &str) -> Option<i32> {
    match tok {
        "Z" | "z" | "UTC" | "GMT" | "UT" => return Some(0),
        _ => {}
    }
    let (sign, digits) = match tok.as_bytes().first()? {
        b'+' => (1, tok.get(1..)?),
        b'-' => (-1, tok.get(1..)?),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|&c| c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits.get(..2)?.parse().ok()?;
    let m: i32 = digits.get(2..)?.parse().ok()?;
    (h <= 23 && m <= 59).then_some(sign * (h * 60 + m))
}

/// Parse a date in any of the formats git and mail use. Returns Unix seconds and the UTC
/// offset in minutes.
pub(crate) fn parse_date(s: &str) -> Option<(i64, i32)> {
    let s = s.trim();
    if s.len() > 200 {
        return None;
    }
    let mut tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    // Raw: "<seconds> <offset>".
    if let [secs, off] = tokens.as_slice()
        && let (Ok(t), Some(o)) = (secs.parse::<i64>(), parse_offset(off))
    {
        return Some((t, o));
    }
    // ISO 8601 "2023-10-03T12:00:00+02:00": split the T and a glued offset.
    let mut split: Vec<&str> = Vec::with_capacity(tokens.len() + 2);
    for t in tokens.drain(..) {
        if t.len() > 10 && t.as_bytes().get(4) == Some(&b'-') && t.as_bytes().get(10) == Some(&b'T')
        {
            split.push(t.get(..10)?);
            let time = t.get(11..)?;
            match time.find(['+', '-', 'Z']) {
                Some(i) => {
                    split.push(time.get(..i)?);
                    split.push(time.get(i..)?);
                }
                None => split.push(time),
            }
        } else {
            split.push(t);
        }
    }
    let (mut year, mut month, mut day) = (None::<i64>, None::<u32>, None::<u32>);
    let (mut hms, mut offset) = (None::<(u32, u32, u32)>, None::<i32>);
    for t in split {
        if let Some(o) = parse_offset(t).filter(|_| offset.is_none() && hms.is_some()) {
            offset = Some(o);
        } else if t.contains(':') && hms.is_none() {
            let mut parts = t.split(':');
            let h = parts.next()?.parse().ok()?;
            let m = parts.next()?.parse().ok()?;
            // Fractional seconds ("00.000000000") are dropped.
            let sec = parts
                .next()
                .map(|p| p.split('.').next().unwrap_or("0").parse().ok())
                .unwrap_or(Some(0))?;
            hms = Some((h, m, sec));
        } else if t.len() == 10 && t.as_bytes().get(4) == Some(&b'-') {
            let mut parts = t.split('-');
            year = Some(parts.next()?.parse().ok()?);
            month = Some(parts.next()?.parse().ok()?);
            day = Some(parts.next()?.parse().ok()?);
        } else if let Some(m) = MONTHS
            .iter()
            .position(|m| t.len() >= 3 && t.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(m)))
        {
            month = Some(m as u32 + 1);
        } else if let Ok(n) = t.parse::<i64>() {
            if t.len() == 4 && year.is_none() {
                year = Some(n);
            } else if day.is_none() && (1..=31).contains(&n) {
                day = u32::try_from(n).ok();
            }
        }
    }
    let (year, month, day, (h, mi, sec)) = (year?, month?, day?, hms?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    if !(0..=9999).contains(&year) {
        return None;
    }
    let offset = offset.unwrap_or(0);
    let local = days_from_civil(year, month, day) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(sec);
    Some((local - i64::from(offset) * 60, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_lines_need_a_hex_id() {
        assert_eq!(
            commit_line(b"commit 0123456789abcdef0123456789abcdef01234567 (HEAD -> main)"),
            Some("0123456789abcdef0123456789abcdef01234567".into())
        );
        assert_eq!(commit_line(b"commit abc1234"), Some("abc1234".into()));
        assert_eq!(commit_line(b"commit to the cause"), None);
        assert_eq!(commit_line(b"commit abc"), None);
        assert_eq!(commit_line(b"commit abc1234 and more"), None);
    }

    #[test]
    fn dates_in_git_mail_iso_and_raw_formats_agree() {
        let want = Some((1_696_327_200, 120));
        assert_eq!(parse_date("Tue Oct 3 12:00:00 2023 +0200"), want);
        assert_eq!(parse_date("Tue, 3 Oct 2023 12:00:00 +0200"), want);
        assert_eq!(parse_date("2023-10-03 12:00:00 +0200"), want);
        assert_eq!(parse_date("2023-10-03T12:00:00+02:00"), want);
        assert_eq!(parse_date("1696327200 +0200"), want);
        assert_eq!(parse_date("2023-10-03T10:00:00Z"), Some((1_696_327_200, 0)));
        assert_eq!(
            parse_date("Mon Sep 17 00:00:00 2001"),
            Some((1_000_684_800, 0))
        );
        assert_eq!(
            parse_date("Thu, 1 Jan 1970 00:00:00 -0130"),
            Some((5400, -90))
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("Tue Oct 3 25:00:00 2023 +0200"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn idents_split_name_and_address() {
        assert_eq!(
            parse_ident("Jane Doe <jane@example.org>"),
            ("Jane Doe".into(), "jane@example.org".into())
        );
        assert_eq!(
            parse_ident("\"Doe, Jane\" <j@x>"),
            ("Doe, Jane".into(), "j@x".into())
        );
        assert_eq!(parse_ident("j@x"), (String::new(), "j@x".into()));
        assert_eq!(parse_ident("Nobody"), ("Nobody".into(), String::new()));
    }

    #[test]
    fn fuller_and_raw_headers_fill_author_and_committer() {
        let mut m = CommitMeta::default();
        for l in [
            "Author:     Jane <j@x>",
            "AuthorDate: Tue Oct 3 12:00:00 2023 +0200",
            "Commit:     Bot <b@x>",
            "CommitDate: Tue Oct 3 13:00:00 2023 +0200",
            "Merge: abc def",
        ] {
            apply_commit_header(&mut m, l);
        }
        assert_eq!(m.author_name, "Jane");
        assert_eq!(m.author_time, Some(1_696_327_200));
        assert_eq!(m.committer_email.as_deref(), Some("b@x"));
        assert_eq!(m.committer_time, Some(1_696_330_800));
        let mut r = CommitMeta::default();
        apply_commit_header(&mut r, "author Jane Doe <j@x> 1696327200 +0200");
        apply_commit_header(&mut r, "committer Bot <b@x> 1696330800 -0100");
        assert_eq!(r.author_offset_minutes, Some(120));
        assert_eq!(r.committer_time, Some(1_696_330_800));
        assert_eq!(r.author_name, "Jane Doe");
    }
}
