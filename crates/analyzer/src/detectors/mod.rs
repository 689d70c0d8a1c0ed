//! The detector registry: one file per detector, registered in [`registry`] — the one list.
//! A test (`tests/analyzer/detector_fixtures.rs`) fails if a registered detector or rule lacks
//! a docs page or a positive and a negative fixture.

// Sections keep parallel work apart; order inside the list is the report's tie-break order.
// -- modules: chains --
mod behaviour_chain;
// -- modules: payload, obfuscation, install hooks, exfiltration --
mod build_script_fetch;
mod build_test_data_pipeline;
mod decode_exec;
mod encoded_blob;
mod global_api_hook;
mod inline_data;
mod ip_literal_endpoint;
mod npm_lifecycle_script;
mod obfuscated_code;
mod python_install_hook;
// -- modules: ci, dependencies, binaries --
mod binary_executable;
mod binary_opaque_blob;
mod binary_sniff;
mod binary_type_mismatch;
mod binary_unreadable;
mod dep_integrity_changed;
mod dep_lockfile_only;
pub(crate) mod dep_manifest;
mod dep_new_dependency;
mod dep_nonregistry_source;
mod dep_typosquat;
mod file_made_executable;
mod gha_expression_injection;
mod gha_pr_target_checkout;
mod gha_publish_in_new_workflow;
mod gha_unpinned_action;
mod popular;
mod workflow_text;
// -- modules: unicode, weakening, sabotage, review evasion, contributor --
mod ci_skip_in_message;
mod commit_metadata_anomaly;
mod far_right_hidden_code;
mod fast_trust_escalation;
mod feature_probe_sabotaged;
mod generated_file_edited;
mod gitattributes_review_evasion;
mod identity_imitation;
mod infinite_loop_added;
mod line_too_long_to_review;
mod new_author_sensitive_files;
mod privilege_assignment_in_condition;
mod security_check_removed;
mod shell_metachar_path;
mod test_assertions_removed;
mod time_bomb_date_check;
mod triggered_destruction;
mod trivial_message_logic_change;
mod unicode_bidi_control;
mod unicode_invisible_character;
mod unicode_mixed_script_identifier;
mod unicode_variation_selector_payload;

use crate::detector::Detector;

/// Every built-in Rust detector, in a stable order.
pub fn registry() -> Vec<Box<dyn Detector>> {
    vec![
        // -- registry: chains --
        Box::new(behaviour_chain::BehaviourChain),
        // -- registry: payload, obfuscation, install hooks, exfiltration --
        Box::new(decode_exec::DecodeExec),
        Box::new(encoded_blob::EncodedBlob),
        Box::new(obfuscated_code::ObfuscatedCode),
        Box::new(global_api_hook::GlobalApiHook),
        Box::new(npm_lifecycle_script::NpmLifecycleScript),
        Box::new(python_install_hook::PythonInstallHook),
        Box::new(build_script_fetch::BuildScriptFetch),
        Box::new(build_test_data_pipeline::BuildTestDataPipeline),
        Box::new(ip_literal_endpoint::IpLiteralEndpoint),
        // -- registry: ci, dependencies, binaries --
        Box::new(gha_pr_target_checkout::GhaPrTargetCheckout),
        Box::new(gha_expression_injection::GhaExpressionInjection),
        Box::new(gha_unpinned_action::GhaUnpinnedAction),
        Box::new(gha_publish_in_new_workflow::GhaPublishInNewWorkflow),
        Box::new(dep_new_dependency::DepNewDependency),
        Box::new(dep_nonregistry_source::DepNonregistrySource),
        Box::new(dep_typosquat::DepTyposquat),
        Box::new(dep_lockfile_only::DepLockfileOnly),
        Box::new(dep_integrity_changed::DepIntegrityChanged),
        Box::new(binary_executable::BinaryExecutable),
        Box::new(binary_type_mismatch::BinaryTypeMismatch),
        Box::new(binary_opaque_blob::BinaryOpaqueBlob),
        Box::new(binary_unreadable::BinaryUnreadable),
        Box::new(file_made_executable::FileMadeExecutable),
        // -- registry: unicode, weakening, sabotage, review evasion, contributor --
        Box::new(unicode_bidi_control::UnicodeBidiControl),
        Box::new(unicode_invisible_character::UnicodeInvisibleCharacter),
        Box::new(unicode_mixed_script_identifier::UnicodeMixedScriptIdentifier),
        Box::new(unicode_variation_selector_payload::UnicodeVariationSelectorPayload),
        Box::new(ci_skip_in_message::CiSkipInMessage),
        Box::new(commit_metadata_anomaly::CommitMetadataAnomaly),
        Box::new(far_right_hidden_code::FarRightHiddenCode),
        Box::new(fast_trust_escalation::FastTrustEscalation),
        Box::new(feature_probe_sabotaged::FeatureProbeSabotaged),
        Box::new(generated_file_edited::GeneratedFileEdited),
        Box::new(gitattributes_review_evasion::GitattributesReviewEvasion),
        Box::new(identity_imitation::IdentityImitation),
        Box::new(infinite_loop_added::InfiniteLoopAdded),
        Box::new(line_too_long_to_review::LineTooLongToReview),
        Box::new(new_author_sensitive_files::NewAuthorSensitiveFiles),
        Box::new(privilege_assignment_in_condition::PrivilegeAssignmentInCondition),
        Box::new(security_check_removed::SecurityCheckRemoved),
        Box::new(shell_metachar_path::ShellMetacharPath),
        Box::new(test_assertions_removed::TestAssertionsRemoved),
        Box::new(time_bomb_date_check::TimeBombDateCheck),
        Box::new(trivial_message_logic_change::TrivialMessageLogicChange),
        Box::new(triggered_destruction::TriggeredDestruction),
    ]
}
