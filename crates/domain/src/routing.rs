//! Routing: which subgroups should see a case, from the touched files' languages and the
//! analyzer's finding tags.
//!
//! Attack-vector matches rank above language matches: a finding says what is wrong, a file
//! extension only says where. Ties are broken by subgroup slug, then id, so the result never
//! depends on input order.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::SubgroupId;
use crate::subgroup::{AttackVector, Language, Subgroup};

/// The languages and file kinds of one path (possibly several: `build.rs` is Rust and a
/// build script; `package.json` is JavaScript and a build manifest). Unknown paths give none.
#[must_use]
pub fn languages_for_path(path: &str) -> Vec<Language> {
    use Language as L;
    // Paths are attacker-controlled; only look at them, never resolve them.
    let lower = path.trim().trim_start_matches("./").to_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let mut out: Vec<Language> = Vec::new();

    let ci_dirs = [
        ".github/workflows/",
        ".forgejo/workflows/",
        ".gitea/workflows/",
        ".woodpecker/",
        ".circleci/",
        ".buildkite/",
    ];
    let ci_files = [
        ".gitlab-ci.yml",
        ".gitlab-ci.yaml",
        ".woodpecker.yml",
        ".woodpecker.yaml",
        ".travis.yml",
        "jenkinsfile",
        "azure-pipelines.yml",
        "appveyor.yml",
        ".drone.yml",
        "cirrus.yml",
        ".cirrus.yml",
        "action.yml",
        "action.yaml",
    ];
    if ci_dirs
        .iter()
        .any(|d| lower.starts_with(d) || lower.contains(&format!("/{d}")))
        || ci_files.contains(&file)
    {
        out.push(L::Ci);
    }
    let lockfiles = [
        "cargo.lock",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "bun.lock",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "gradle.lockfile",
        "flake.lock",
    ];
    if lockfiles.contains(&file) {
        out.push(L::Lockfile);
    }
    let (build_lang, is_build): (Option<Language>, bool) = match file {
        "build.rs" | "cargo.toml" => (Some(L::Rust), true),
        "setup.py" | "setup.cfg" | "pyproject.toml" | "requirements.txt" | "pipfile" => {
            (Some(L::Python), true)
        }
        "package.json" | ".npmrc" | "binding.gyp" => (Some(L::JavaScript), true),
        "go.mod" => (Some(L::Go), true),
        "gemfile" | "rakefile" => (Some(L::Ruby), true),
        "composer.json" => (Some(L::Php), true),
        "pom.xml" | "build.gradle" | "build.gradle.kts" | "settings.gradle" => {
            (Some(L::Java), true)
        }
        "makefile" | "gnumakefile" | "cmakelists.txt" | "configure" | "configure.ac"
        | "configure.in" | "makefile.am" | "makefile.in" | "meson.build" | "dockerfile"
        | "containerfile" | "build.ninja" | "sconstruct" => (None, true),
        _ => (None, false),
    };
    let ext = file
        .rsplit_once('.')
        .filter(|(stem, _)| !stem.is_empty())
        .map(|(_, e)| e);
    let by_ext = match ext {
        Some("rs") => Some(L::Rust),
        Some("py" | "pyi" | "pyw" | "pyx") => Some(L::Python),
        Some("js" | "mjs" | "cjs" | "jsx" | "ts" | "tsx" | "mts" | "cts") => Some(L::JavaScript),
        Some("go") => Some(L::Go),
        Some("c" | "h" | "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "inl") => {
            Some(L::CCpp)
        }
        Some("java") => Some(L::Java),
        Some("sh" | "bash" | "zsh" | "ksh" | "dash") => Some(L::Shell),
        Some("rb" | "rake" | "gemspec") => Some(L::Ruby),
        Some("php" | "phtml") => Some(L::Php),
        _ => None,
    };
    let build_ext = matches!(ext, Some("cmake" | "m4" | "mk" | "gemspec" | "dockerfile"));
    for lang in [build_lang, by_ext].into_iter().flatten() {
        if !out.contains(&lang) {
            out.push(lang);
        }
    }
    if (is_build || build_ext) && !out.contains(&L::Build) {
        out.push(L::Build);
    }
    out
}

/// Parses a finding tag into an attack vector. Accepts `ci`, `vector:ci`,
/// `attack-vector:ci`, any case; unknown tags give `None`.
#[must_use]
pub fn vector_for_tag(tag: &str) -> Option<AttackVector> {
    let lower = tag.trim().to_ascii_lowercase();
    let bare = ["attack-vector:", "vector:", "av:"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    bare.parse().ok()
}

/// Parses a language tag (`lang:rust`, `language:python`); plain words are vectors, not
/// languages, so they are not read here.
#[must_use]
pub fn language_for_tag(tag: &str) -> Option<Language> {
    let lower = tag.trim().to_ascii_lowercase();
    ["lang:", "language:"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))?
        .parse()
        .ok()
}

/// Why a subgroup was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteMatch {
    /// The subgroup.
    pub subgroup: SubgroupId,
    /// Attack vectors it takes that the findings carry.
    pub vectors: Vec<AttackVector>,
    /// How many finding tags matched those vectors.
    pub vector_hits: usize,
    /// Languages it takes that the touched files (or language tags) have.
    pub languages: Vec<Language>,
    /// How many touched paths matched those languages.
    pub file_hits: usize,
}

/// Ranks the subgroups that should take a case, best first, with the reasons.
#[must_use]
pub fn route_scored<P: AsRef<str>, T: AsRef<str>>(
    paths: &[P],
    finding_tags: &[T],
    subgroups: &[Subgroup],
) -> Vec<RouteMatch> {
    let path_langs: Vec<Vec<Language>> = paths
        .iter()
        .map(|p| languages_for_path(p.as_ref()))
        .collect();
    let tag_vectors: Vec<AttackVector> = finding_tags
        .iter()
        .filter_map(|t| vector_for_tag(t.as_ref()))
        .collect();
    let tag_langs: BTreeSet<Language> = finding_tags
        .iter()
        .filter_map(|t| language_for_tag(t.as_ref()))
        .collect();

    let mut matches: Vec<(&Subgroup, RouteMatch)> = subgroups
        .iter()
        .map(|s| {
            let vectors: BTreeSet<AttackVector> = tag_vectors
                .iter()
                .copied()
                .filter(|v| s.routing.vectors.contains(v))
                .collect();
            let vector_hits = tag_vectors
                .iter()
                .filter(|v| s.routing.vectors.contains(v))
                .count();
            let mut languages: BTreeSet<Language> = path_langs
                .iter()
                .flatten()
                .copied()
                .filter(|l| s.routing.languages.contains(l))
                .collect();
            languages.extend(
                tag_langs
                    .iter()
                    .copied()
                    .filter(|l| s.routing.languages.contains(l)),
            );
            let file_hits = path_langs
                .iter()
                .filter(|ls| ls.iter().any(|l| s.routing.languages.contains(l)))
                .count();
            (
                s,
                RouteMatch {
                    subgroup: s.id,
                    vectors: vectors.into_iter().collect(),
                    vector_hits,
                    languages: languages.into_iter().collect(),
                    file_hits,
                },
            )
        })
        .filter(|(_, m)| !m.vectors.is_empty() || !m.languages.is_empty())
        .collect();
    matches.sort_by(|(sa, a), (sb, b)| {
        b.vectors
            .len()
            .cmp(&a.vectors.len())
            .then(b.vector_hits.cmp(&a.vector_hits))
            .then(b.languages.len().cmp(&a.languages.len()))
            .then(b.file_hits.cmp(&a.file_hits))
            .then(sa.slug.cmp(&sb.slug))
            .then(sa.id.cmp(&sb.id))
    });
    // A subgroup listed twice in the input is routed once.
    let mut seen = BTreeSet::new();
    matches
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| seen.insert(m.subgroup))
        .collect()
}

/// Ranks the subgroups that should take a case, best first.
#[must_use]
pub fn route<P: AsRef<str>, T: AsRef<str>>(
    paths: &[P],
    finding_tags: &[T],
    subgroups: &[Subgroup],
) -> Vec<SubgroupId> {
    route_scored(paths, finding_tags, subgroups)
        .into_iter()
        .map(|m| m.subgroup)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subgroup::{RoutingRules, SubgroupKind};
    use AttackVector as V;
    use Language as L;
    use uuid::Uuid;

    #[test]
    fn paths_map_to_languages_and_file_kinds() {
        let cases: &[(&str, &[Language])] = &[
            ("src/lib.rs", &[L::Rust]),
            ("build.rs", &[L::Rust, L::Build]),
            ("Cargo.toml", &[L::Rust, L::Build]),
            ("Cargo.lock", &[L::Lockfile]),
            ("tools/gen.py", &[L::Python]),
            ("setup.py", &[L::Python, L::Build]),
            ("web/app.tsx", &[L::JavaScript]),
            ("lib/index.mjs", &[L::JavaScript]),
            ("package.json", &[L::JavaScript, L::Build]),
            ("package-lock.json", &[L::Lockfile]),
            ("cmd/main.go", &[L::Go]),
            ("go.sum", &[L::Lockfile]),
            ("src/liblzma/check/crc64.c", &[L::CCpp]),
            ("include/x.hpp", &[L::CCpp]),
            ("src/Main.java", &[L::Java]),
            ("scripts/install.sh", &[L::Shell]),
            ("lib/x.rb", &[L::Ruby]),
            ("Gemfile.lock", &[L::Lockfile]),
            ("index.php", &[L::Php]),
            ("m4/build-to-host.m4", &[L::Build]),
            ("CMakeLists.txt", &[L::Build]),
            ("Makefile", &[L::Build]),
            ("configure.ac", &[L::Build]),
            (".github/workflows/ci.yml", &[L::Ci]),
            ("sub/.github/workflows/release.yaml", &[L::Ci]),
            (".gitlab-ci.yml", &[L::Ci]),
            (".woodpecker/build.yml", &[L::Ci]),
            ("README.md", &[]),
            (".rs", &[]),
            ("", &[]),
        ];
        for (path, expected) in cases {
            assert_eq!(languages_for_path(path), *expected, "{path}");
        }
    }

    #[test]
    fn path_matching_ignores_case() {
        assert_eq!(languages_for_path("SRC/MAIN.RS"), [L::Rust]);
        assert_eq!(languages_for_path(".GitHub/Workflows/CI.yml"), [L::Ci]);
    }

    #[test]
    fn finding_tags_map_to_vectors_with_or_without_prefixes() {
        assert_eq!(vector_for_tag("ci"), Some(V::Ci));
        assert_eq!(vector_for_tag("vector:Install-Hook"), Some(V::InstallHook));
        assert_eq!(
            vector_for_tag("attack-vector:review-evasion"),
            Some(V::ReviewEvasion)
        );
        assert_eq!(vector_for_tag("bidi"), Some(V::Unicode));
        assert_eq!(vector_for_tag("lang:rust"), None);
        assert_eq!(language_for_tag("lang:rust"), Some(L::Rust));
        assert_eq!(language_for_tag("rust"), None);
    }

    fn subgroup(n: u128, slug: &str, languages: &[Language], vectors: &[AttackVector]) -> Subgroup {
        Subgroup {
            id: SubgroupId::from_uuid(Uuid::from_u128(n)),
            slug: slug.into(),
            name: slug.into(),
            kind: if vectors.is_empty() {
                SubgroupKind::Language
            } else {
                SubgroupKind::AttackVector
            },
            members: vec![],
            coordinators: vec![],
            routing: RoutingRules {
                languages: languages.iter().copied().collect(),
                vectors: vectors.iter().copied().collect(),
            },
        }
    }

    fn groups() -> Vec<Subgroup> {
        vec![
            subgroup(1, "rust", &[L::Rust], &[]),
            subgroup(2, "ci", &[L::Ci], &[V::Ci]),
            subgroup(
                3,
                "supply-chain",
                &[L::Lockfile, L::Build],
                &[V::Dependency, V::InstallHook],
            ),
            subgroup(4, "obfuscation", &[], &[V::Obfuscation, V::Unicode]),
            subgroup(5, "python", &[L::Python], &[]),
        ]
    }

    fn ids(ns: &[u128]) -> Vec<SubgroupId> {
        ns.iter()
            .map(|n| SubgroupId::from_uuid(Uuid::from_u128(*n)))
            .collect()
    }

    #[test]
    fn vector_matches_rank_above_language_matches() {
        let paths = ["src/lib.rs", "src/main.rs", "build.rs"];
        let tags = ["install-hook", "obfuscation"];
        // supply-chain: 1 vector + Build; obfuscation: 1 vector; rust: languages only.
        assert_eq!(route(&paths, &tags, &groups()), ids(&[3, 4, 1]));
    }

    #[test]
    fn routing_explains_its_choice() {
        let m = route_scored(
            &["Cargo.lock", "src/a.rs"],
            &["dependency", "vector:dependency"],
            &groups(),
        );
        assert_eq!(m[0].subgroup, ids(&[3])[0]);
        assert_eq!(m[0].vectors, [V::Dependency]);
        assert_eq!(m[0].vector_hits, 2);
        assert_eq!(m[0].languages, [L::Lockfile]);
        assert_eq!(m[0].file_hits, 1);
    }

    #[test]
    fn nothing_matching_routes_nowhere_and_unknown_tags_are_ignored() {
        assert!(route(&["README.md"], &["no-such-vector"], &groups()).is_empty());
        assert!(route::<&str, &str>(&[], &[], &groups()).is_empty());
    }

    #[test]
    fn ties_are_broken_by_slug_whatever_the_input_order() {
        let paths = [".github/workflows/x.yml", "a.py"];
        let mut g = groups();
        let forward = route(&paths, &[] as &[&str], &g);
        g.reverse();
        assert_eq!(route(&paths, &[] as &[&str], &g), forward);
        assert_eq!(forward, ids(&[2, 5]));
    }

    #[test]
    fn language_tags_from_the_analyzer_also_route() {
        assert_eq!(
            route(&[] as &[&str], &["lang:python"], &groups()),
            ids(&[5])
        );
    }
}
