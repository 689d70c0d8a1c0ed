//! The embedded popularity lists (`crates/analyzer/data/popular-*.txt`, origin documented in
//! `data/README.md`) and the look-alike search used by `dep-typosquat`.
//!
//! A name is a *look-alike* of a popular name when it is not itself popular and either has
//! the same letters once separators are dropped (`rustdecimal` / `rust_decimal`,
//! `crossenv` / `cross-env`), is within a small Damerau–Levenshtein distance (1 for names of
//! 5–7 characters, 2 from 8 on; shorter names collide by chance too often), or is the popular
//! name plus a common affix (`-js`, `py`, `python-`, …).

use std::collections::HashSet;
use std::sync::OnceLock;

use super::dep_manifest::Ecosystem;

const CRATES: &str = include_str!("../../data/popular-crates.txt");
const NPM: &str = include_str!("../../data/popular-npm.txt");
const PYPI: &str = include_str!("../../data/popular-pypi.txt");

/// One ecosystem's list, normalized.
#[derive(Debug)]
pub struct Popular {
    eco: Ecosystem,
    /// Normalized names in file order.
    names: Vec<String>,
    set: HashSet<String>,
}

fn load(eco: Ecosystem, text: &str) -> Popular {
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| eco.normalize(l))
        .collect();
    let set = names.iter().cloned().collect();
    Popular { eco, names, set }
}

/// The list for an ecosystem (`None` for Go, which has no list).
pub fn list(eco: Ecosystem) -> Option<&'static Popular> {
    static C: OnceLock<Popular> = OnceLock::new();
    static N: OnceLock<Popular> = OnceLock::new();
    static P: OnceLock<Popular> = OnceLock::new();
    Some(match eco {
        Ecosystem::Cargo => C.get_or_init(|| load(eco, CRATES)),
        Ecosystem::Npm => N.get_or_init(|| load(eco, NPM)),
        Ecosystem::PyPi => P.get_or_init(|| load(eco, PYPI)),
        Ecosystem::Go => return None,
    })
}

/// How a name resembles a popular one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resemblance {
    /// Same letters, separators differ.
    Separators,
    /// Damerau–Levenshtein distance.
    Edits(usize),
    /// Popular name plus an affix.
    Affix(&'static str),
}

const AFFIXES: &[&str] = &[
    "-js", ".js", "js", "-rs", "_rs", "rs", "-py", "py", "-python", "python-", "python3-", "py-",
    "node-", "-node", "rust-",
];

impl Popular {
    pub fn contains(&self, name: &str) -> bool {
        self.set.contains(&self.eco.normalize(name))
    }

    /// The popular name `name` imitates, if any.
    pub fn lookalike(&self, name: &str) -> Option<(&str, Resemblance)> {
        let n = self.eco.normalize(name);
        if self.set.contains(&n) || n.starts_with('@') {
            return None;
        }
        let skel = skeleton(&n);
        if let Some(p) = self.names.iter().find(|p| skeleton(p) == skel) {
            return Some((p, Resemblance::Separators));
        }
        let mut best: Option<(&str, usize)> = None;
        for p in &self.names {
            let short = n.len().min(p.len());
            let limit = match short {
                0..=4 => continue,
                5..=7 => 1,
                _ => 2,
            };
            if n.len().abs_diff(p.len()) > limit {
                continue;
            }
            let d = osa_distance(n.as_bytes(), p.as_bytes());
            if d <= limit && best.is_none_or(|(_, bd)| d < bd) {
                best = Some((p, d));
            }
        }
        if let Some((p, d)) = best {
            return Some((p, Resemblance::Edits(d)));
        }
        for p in &self.names {
            if p.len() < 4 {
                continue;
            }
            for a in AFFIXES {
                let a_norm = self.eco.normalize(a);
                if n.strip_suffix(a_norm.as_str()) == Some(p.as_str())
                    || n.strip_prefix(a_norm.as_str()) == Some(p.as_str())
                {
                    return Some((p, Resemblance::Affix(a)));
                }
            }
        }
        None
    }
}

fn skeleton(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect()
}

/// Optimal-string-alignment distance (Damerau–Levenshtein with adjacent transpositions).
pub fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_transpositions_as_one_edit() {
        assert_eq!(osa_distance(b"serde", b"sedre"), 1);
        assert_eq!(osa_distance(b"faster_log", b"fast_log"), 2);
        assert_eq!(osa_distance(b"", b"abc"), 3);
    }

    #[test]
    fn incident_names_are_lookalikes_and_popular_names_are_not() {
        let crates = list(Ecosystem::Cargo).unwrap();
        assert_eq!(
            crates.lookalike("rustdecimal"),
            Some(("rust_decimal", Resemblance::Separators))
        );
        assert_eq!(
            crates.lookalike("faster_log"),
            Some(("fast_log", Resemblance::Edits(2)))
        );
        assert_eq!(
            crates.lookalike("rust-decimal"),
            None,
            "crates.io treats - and _ alike"
        );
        assert_eq!(crates.lookalike("serde_json"), None);
        let npm = list(Ecosystem::Npm).unwrap();
        assert_eq!(
            npm.lookalike("crossenv"),
            Some(("cross-env", Resemblance::Separators))
        );
        assert_eq!(npm.lookalike("left-pad"), None);
        let pypi = list(Ecosystem::PyPi).unwrap();
        assert_eq!(
            pypi.lookalike("python3-dateutil").map(|(p, _)| p),
            Some("python-dateutil")
        );
        assert_eq!(pypi.lookalike("Requests"), None);
    }

    #[test]
    fn every_list_is_sizeable_and_has_no_blank_names() {
        for eco in [Ecosystem::Cargo, Ecosystem::Npm, Ecosystem::PyPi] {
            let l = list(eco).unwrap();
            assert!(l.names.len() >= 300, "{eco:?}: {}", l.names.len());
            assert!(l.names.iter().all(|n| !n.is_empty() && !n.contains(' ')));
        }
    }
}
