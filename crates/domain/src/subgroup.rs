//! Subgroups of experts, organised by language or by attack vector, and what they take.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{SubgroupId, UserId};

string_enum! {
    /// What a subgroup is organised around.
    pub enum SubgroupKind {
        /// A language or file kind (e.g. Rust, CI workflows).
        Language = "language",
        /// An attack vector (e.g. dependency confusion, obfuscation).
        AttackVector = "attack-vector",
    }
}

string_enum! {
    /// A language, or a kind of file that needs its own expertise (build scripts, CI
    /// definitions, lockfiles). Derived from touched paths by
    /// [`languages_for_path`](crate::routing::languages_for_path).
    pub enum Language {
        /// Rust (`.rs`).
        Rust = "rust",
        /// Python.
        Python = "python",
        /// JavaScript and TypeScript.
        JavaScript = "javascript" | "typescript" | "js" | "ts",
        /// Go.
        Go = "go",
        /// C and C++.
        CCpp = "c-cpp" | "c" | "cpp" | "c++",
        /// Java.
        Java = "java",
        /// Shell scripts.
        Shell = "shell" | "sh" | "bash",
        /// Ruby.
        Ruby = "ruby",
        /// PHP.
        Php = "php",
        /// Build definitions and manifests: Makefile, CMake, autotools, `build.rs`,
        /// `setup.py`, `package.json`, `Cargo.toml`, Dockerfile.
        Build = "build",
        /// CI definitions: GitHub/Forgejo/Gitea workflows, GitLab CI, Woodpecker, Jenkins.
        Ci = "ci",
        /// Dependency lockfiles (`Cargo.lock`, `package-lock.json`, `go.sum`, ...).
        Lockfile = "lockfile",
    }
}

string_enum! {
    /// An attack vector, as the analyzer tags its findings.
    pub enum AttackVector {
        /// CI workflow injection, broadened permissions, unpinned actions.
        Ci = "ci",
        /// New, typosquatted or redirected dependencies; lockfile-only changes.
        Dependency = "dependency" | "dependencies" | "supply-chain",
        /// Obfuscated, minified or encoded payloads.
        Obfuscation = "obfuscation" | "obfuscated" | "encoded-payload",
        /// Network exfiltration of environment, tokens, keys or wallets.
        Exfiltration = "exfiltration",
        /// Install and build hooks that fetch or run things.
        InstallHook = "install-hook" | "install-script" | "build-hook",
        /// Binary artifacts and fixtures hiding payloads.
        Binary = "binary",
        /// Unicode bidi, zero-width and homoglyph tricks.
        Unicode = "unicode" | "bidi" | "homoglyph",
        /// Security weakening: TLS verification off, removed checks, disabled sandboxes.
        Weakening = "weakening",
        /// Sabotage and protestware: destruction, time bombs, infinite loops.
        Sabotage = "sabotage" | "protestware",
        /// Review evasion: misleading messages, hidden content, `.gitattributes` tricks.
        ReviewEvasion = "review-evasion",
        /// Contributor context: first-time authors on sensitive files, fast trust escalation.
        Contributor = "contributor",
    }
}

/// Which cases a subgroup takes. A case matches when any of its touched files has one of
/// `languages` or any of its findings has one of `vectors`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoutingRules {
    /// Languages and file kinds taken.
    pub languages: BTreeSet<Language>,
    /// Attack vectors taken.
    pub vectors: BTreeSet<AttackVector>,
}

/// A group of experts sharing a language or an attack vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subgroup {
    /// Stable id.
    pub id: SubgroupId,
    /// Short stable name used in URLs and rule packs, e.g. `rust` or `ci`.
    pub slug: String,
    /// Name to show.
    pub name: String,
    /// What the subgroup is organised around.
    pub kind: SubgroupKind,
    /// Expert members.
    pub members: Vec<UserId>,
    /// Coordinators of this subgroup (they see AMBER material of its cases).
    pub coordinators: Vec<UserId>,
    /// Which cases it takes.
    pub routing: RoutingRules,
}

impl Subgroup {
    /// Whether `user` is a member.
    #[must_use]
    pub fn is_member(&self, user: UserId) -> bool {
        self.members.contains(&user)
    }

    /// Whether `user` coordinates this subgroup.
    #[must_use]
    pub fn is_coordinator(&self, user: UserId) -> bool {
        self.coordinators.contains(&user)
    }
}
