//! `gha-expression-injection`: attacker-controlled event fields (`github.event.issue.title`,
//! `github.head_ref`, commit messages, comment bodies, …) interpolated with `${{ }}` into a
//! `run:` script or an `actions/github-script` `script:`. The runner pastes the value into the
//! script before the shell parses it, so a branch named `a$(curl …|sh)` runs code — how the
//! Ultralytics and Nx "s1ngularity" workflows were taken over.
//!
//! The same expression inside `env:` or `with:` is the safe form (the value arrives as data),
//! so each hit is placed in its YAML block: the key owning the line decides.

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

use super::workflow_text::{NewSide, is_action, is_workflow, key_of, privileged_trigger};

#[derive(Debug)]
pub struct GhaExpressionInjection;

static META: DetectorMeta = DetectorMeta::new(
    "gha-expression-injection",
    "Untrusted event data interpolated into a workflow script",
    Severity::High,
    Confidence::High,
    &[Vector::Ci],
    &["yaml"],
    "A `${{ … }}` expression that expands text an outsider controls (a pull request or issue \
     title or body, a branch name, a comment, a commit message) is pasted into a `run:` or \
     `script:` step. The runner substitutes it before the shell or JavaScript runs, so a title \
     such as `\"; curl … | sh #` becomes code running with the workflow's token and secrets. \
     Pass the value through `env:` and quote the variable (`\"$TITLE\"`) instead.",
);

/// Contexts an outsider controls, after `${{`. Kept as one regex so the hit's range is the
/// whole expression.
const UNTRUSTED: &str = r"\$\{\{[^}]*?\b(?:github\.head_ref|github\.event\.(?:issue\.(?:title|body)|pull_request\.(?:title|body|head\.ref|head\.label|head\.repo\.default_branch)|comment\.body|review\.body|review_comment\.body|discussion\.(?:title|body)|pages(?:\[[^\]]*\]|\.\*)\.page_name|commits(?:\[[^\]]*\]|\.\*)\.(?:message|author\.(?:email|name))|head_commit\.(?:message|author\.(?:email|name))|workflow_run\.(?:head_branch|display_title|head_commit\.(?:message|author\.(?:email|name))))|toJSON\(\s*github\.event\s*\))[^}]*\}\}";

const CI: &[FileScope] = &[FileScope::Ci];

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("github.event.").regex(UNTRUSTED).files(CI),
    LinePattern::lit("github.head_ref")
        .regex(UNTRUSTED)
        .files(CI),
];

/// Where a hit sits.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// In a shell or script body: injectable.
    Script,
    /// A value of a mapping such as `env:` or `with:`: passed as data.
    Data,
    /// The owning block is outside what the change shows.
    Unknown,
}

/// Keys whose value is code.
const SCRIPT_KEYS: &[&str] = &["run", "script"];

fn place(side: &NewSide<'_>, line_no: u32) -> Place {
    let Some(idx) = side.index_of(line_no) else {
        return Place::Unknown;
    };
    let text = side.lines[idx].text;
    if let Some(k) = key_of(text) {
        if SCRIPT_KEYS.contains(&k) {
            return Place::Script;
        }
        // `KEY: ${{ … }}` inside a block scalar would be shell text, but that needs the owner;
        // a mapping entry under env/with/if is data.
        return match side.owner_key(idx) {
            Some(o) if SCRIPT_KEYS.contains(&o.key) => Place::Script,
            Some(_) => Place::Data,
            None => Place::Data,
        };
    }
    match side.owner_key(idx) {
        Some(o) if SCRIPT_KEYS.contains(&o.key) => Place::Script,
        Some(_) => Place::Data,
        // Not a `key: value` line and no owner in view: almost always the continuation of a
        // `run: |` block (mapping values would have a key).
        None => Place::Unknown,
    }
}

impl Detector for GhaExpressionInjection {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let path = file.path();
        if !is_workflow(path) && !is_action(path) {
            return;
        }
        let side = NewSide::of(file.file);
        let confidence = match place(&side, hit.line_no) {
            Place::Script => Confidence::High,
            Place::Unknown => Confidence::Medium,
            Place::Data => return,
        };
        let trigger = privileged_trigger(&side);
        let severity = if trigger.is_some() {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut b = META
            .finding(hit.location(path))
            .severity(severity)
            .confidence(confidence)
            .evidence(hit.text.trim());
        if let Some((t, l)) = trigger {
            b = b
                .title(format!(
                    "Untrusted event data interpolated into a script of a `{t}` workflow"
                ))
                .related(
                    crate::finding::Location::line(path, l.line_no)
                        .with_note(format!("trigger `{t}`")),
                );
        }
        out.push(b.build());
    }
}

#[cfg(test)]
mod tests {
    use super::super::workflow_text::SideLine;
    use super::*;

    fn side(text: &'static str) -> NewSide<'static> {
        NewSide {
            lines: text
                .lines()
                .enumerate()
                .map(|(i, t)| SideLine {
                    line_no: i as u32 + 1,
                    text: t,
                    added: true,
                })
                .collect(),
        }
    }

    #[test]
    fn a_run_block_line_is_script_and_an_env_entry_is_data() {
        let s = side(
            "    steps:\n      - env:\n          TITLE: ${{ github.event.issue.title }}\n        run: |\n          echo \"${{ github.head_ref }}\"\n",
        );
        assert_eq!(place(&s, 3), Place::Data);
        assert_eq!(place(&s, 5), Place::Script);
    }

    #[test]
    fn an_inline_run_is_script() {
        let s = side("      - run: echo ${{ github.event.pull_request.title }}\n");
        assert_eq!(place(&s, 1), Place::Script);
    }

    #[test]
    fn the_regex_accepts_untrusted_fields_and_not_trusted_ones() {
        let re = regex::Regex::new(UNTRUSTED).unwrap();
        assert!(re.is_match("echo ${{ github.event.pull_request.head.ref }}"));
        assert!(re.is_match("x=${{ github.event.commits[0].message }}"));
        assert!(!re.is_match("echo ${{ github.event.pull_request.number }}"));
        assert!(!re.is_match("echo ${{ github.event.repository.name }}"));
    }
}
