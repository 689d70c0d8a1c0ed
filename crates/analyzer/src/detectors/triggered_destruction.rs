//! `triggered-destruction`: a destructive file operation in a file that also looks up the
//! host's country, locale or time zone, or compares the clock with a hard-coded date (node-ipc
//! / peacenotwar, 2022: the maintainer geolocated the host through an IP-geolocation API and,
//! for Russian and Belarusian addresses, overwrote every file it could reach with a heart).
//!
//! Each half alone is common — apps delete caches, format dates in the user's time zone, show
//! a country flag — so neither is a finding here. Destructive calls are declared as line
//! patterns with the `WriteSink` role (kinds `delete`, `overwrite`); `check_file` runs only for
//! files where one was recorded and then looks for a trigger in the same file's added lines
//! with a small automaton of its own. A geo-IP service, a comparison against a specific
//! country, locale or time zone, or a literal-date comparison is a strong trigger (critical);
//! merely reading the time zone or locale is a weak one (high).

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use super::time_bomb_date_check::{GO_NOW, JS_NOW, PY_NOW, SHELL_NOW};
use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, LinePattern, Role, RoleHit};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct TriggeredDestruction;

static META: DetectorMeta = DetectorMeta::new(
    "triggered-destruction",
    "Destructive file operation behind a country, locale or date trigger",
    Severity::Critical,
    Confidence::High,
    &[Vector::Sabotage],
    &[],
    "The same file decides something from the host's country (an IP-geolocation lookup), its \
     locale or time zone, or the current date, and deletes or overwrites files. That is the \
     shape of protestware and time bombs: node-ipc's maintainer geolocated machines and \
     overwrote every file on Russian and Belarusian hosts. Read what the trigger guards before \
     anything else; do not run the code to find out.",
);

const CODE: &[FileScope] = &[FileScope::Source, FileScope::ExecutionPath];

macro_rules! del {
    ($lit:expr) => {
        LinePattern::lit($lit)
            .files(CODE)
            .role(Role::WriteSink, "delete")
    };
    ($lit:expr, $re:expr) => {
        LinePattern::lit($lit)
            .files(CODE)
            .regex($re)
            .role(Role::WriteSink, "delete")
    };
}

static PATTERNS: &[LinePattern] = &[
    del!("rm -", r"\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\b"),
    del!("rimraf"),
    del!("shutil.rmtree("),
    del!("rmSync("),
    del!("rmdirSync("),
    del!("remove_dir_all("),
    del!("RemoveAll("),
    del!("rm_rf"),
    del!("Remove-Item", r"(?i)Remove-Item\b.*-Recurse"),
    del!("unlinkSync("),
    LinePattern::lit("writeFileSync(")
        .files(CODE)
        .role(Role::WriteSink, "overwrite"),
    LinePattern::lit("writeFile(")
        .files(CODE)
        .role(Role::WriteSink, "overwrite"),
];

/// How strongly a trigger points at targeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    Weak,
    Strong,
}

struct Trigger {
    literal: &'static str,
    regex: Option<&'static str>,
    what: &'static str,
    strength: Strength,
}

const COUNTRY_CMP: &str = r#"(?i)country[_-]?(?:code|name|iso)?['"]?\]?\s*(?:===?|!==?|\bin\b|\.includes\(|\.startsWith\(|\.equals\()\s*[\[(]?\s*['"][a-z ]{2,20}['"]|['"][a-z ]{2,20}['"]\s*(?:===?|!==?)\s*[\w.\[\]'"]*country|\.includes\(\s*[\w.]*country"#;

static TRIGGERS: &[Trigger] = &[
    Trigger {
        literal: "ip-api.com",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "ipgeolocation",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "ipinfo.io",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "ipapi.co",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "freegeoip",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "geoip",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "geolite",
        regex: None,
        what: "IP geolocation",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "country",
        regex: Some(COUNTRY_CMP),
        what: "country comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "Europe/",
        regex: Some(r"Europe/(?:Moscow|Minsk|Kaliningrad|Samara|Volgograd|Kiev|Kyiv)"),
        what: "time-zone comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "Asia/",
        regex: Some(
            r"Asia/(?:Yekaterinburg|Omsk|Novosibirsk|Krasnoyarsk|Irkutsk|Yakutsk|Vladivostok|Tehran|Shanghai)",
        ),
        what: "time-zone comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "ru_RU",
        regex: None,
        what: "locale comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "ru-RU",
        regex: None,
        what: "locale comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "be_BY",
        regex: None,
        what: "locale comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "be-BY",
        regex: None,
        what: "locale comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "new Date(",
        regex: Some(JS_NOW),
        what: "date comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "Date.now(",
        regex: Some(JS_NOW),
        what: "date comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: ".now(",
        regex: Some(PY_NOW),
        what: "date comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: ".today(",
        regex: Some(PY_NOW),
        what: "date comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "time.Now()",
        regex: Some(GO_NOW),
        what: "date comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "date +%s",
        regex: Some(SHELL_NOW),
        what: "date comparison",
        strength: Strength::Strong,
    },
    Trigger {
        literal: "resolvedOptions",
        regex: Some(r"resolvedOptions\(\)\.(?:timeZone|locale)"),
        what: "time zone or locale",
        strength: Strength::Weak,
    },
    Trigger {
        literal: "getlocale",
        regex: None,
        what: "locale",
        strength: Strength::Weak,
    },
    Trigger {
        literal: "navigator.language",
        regex: None,
        what: "locale",
        strength: Strength::Weak,
    },
    Trigger {
        literal: "LANG",
        regex: Some(r"\$LANG\b|\[['\x22]LANG['\x22]\]|env\.LANG\b|getenv\(\s*['\x22]LANG['\x22]"),
        what: "locale",
        strength: Strength::Weak,
    },
];

struct Compiled {
    ac: AhoCorasick,
    regexes: Vec<Option<Regex>>,
}

fn compiled() -> Option<&'static Compiled> {
    static C: OnceLock<Option<Compiled>> = OnceLock::new();
    C.get_or_init(|| {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(TRIGGERS.iter().map(|t| t.literal))
            .ok()?;
        let regexes = TRIGGERS
            .iter()
            .map(|t| t.regex.and_then(|r| Regex::new(r).ok()))
            .collect();
        Some(Compiled { ac, regexes })
    })
    .as_ref()
}

/// The strongest trigger on an added line of the file: (strength, what, line, text).
fn find_trigger(file: &FileCtx<'_>) -> Option<(Strength, &'static str, u32, String)> {
    let c = compiled()?;
    let mut best: Option<(Strength, &'static str, u32, String)> = None;
    for h in &file.file.hunks {
        for m in c.ac.find_overlapping_iter(h.text.as_bytes()) {
            let Some(line) = h.line_index_at(m.start()).and_then(|i| h.lines.get(i)) else {
                continue;
            };
            if line.kind != LineKind::Added {
                continue;
            }
            let pid = m.pattern().as_usize();
            let (Some(t), Some(re)) = (TRIGGERS.get(pid), c.regexes.get(pid)) else {
                continue;
            };
            if best.as_ref().is_some_and(|b| b.0 >= t.strength) {
                continue;
            }
            let text = h.line_text(line);
            let confirmed = match (t.regex, re) {
                (None, _) => Some(
                    text.get(m.start() - line.start as usize..m.end() - line.start as usize)
                        .unwrap_or(t.literal),
                ),
                (Some(_), Some(re)) => re.find(text).map(|x| x.as_str()),
                (Some(_), None) => None,
            };
            if let Some(ev) = confirmed {
                let ev = if ev.len() < 12 { text.trim() } else { ev };
                best = Some((
                    t.strength,
                    t.what,
                    line.new_line.unwrap_or(0),
                    crate::finding::excerpt(ev, 120),
                ));
            }
        }
    }
    best
}

fn is_destructive(r: &RoleHit) -> bool {
    r.role == Role::WriteSink && matches!(r.kind, "delete" | "overwrite")
}

impl Detector for TriggeredDestruction {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        if file.class.docs || file.class.test {
            return;
        }
        let Some(sink) = file.roles.iter().find(|r| is_destructive(r)) else {
            return;
        };
        let Some((strength, what, line, text)) = find_trigger(file) else {
            return;
        };
        let (severity, confidence) = match strength {
            Strength::Strong => (Severity::Critical, Confidence::High),
            Strength::Weak => (Severity::High, Confidence::Medium),
        };
        let path = file.path();
        out.push(
            META.finding(Location::line(path, sink.line))
                .title(format!(
                    "Files deleted or overwritten behind a trigger ({what})"
                ))
                .severity(severity)
                .confidence(confidence)
                .evidence(format!("{text} … {}", sink.text))
                .related(Location::line(path, line).with_note(what))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_regex_compiles() {
        for t in TRIGGERS {
            if let Some(r) = t.regex {
                Regex::new(r).unwrap_or_else(|e| panic!("{}: {e}", t.literal));
            }
        }
        assert!(compiled().is_some());
    }

    #[test]
    fn country_comparisons_are_recognised() {
        let re = Regex::new(COUNTRY_CMP).unwrap();
        assert!(re.is_match("if (data.country_name === 'russia') {"));
        assert!(re.is_match("if (['RU', 'BY'].includes(geo.countryCode)) {"));
        assert!(!re.is_match("const country = geo.country;"));
    }
}
