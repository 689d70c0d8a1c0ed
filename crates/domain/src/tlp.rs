//! TLP 2.0 labels and the one function that decides who may see what.
//!
//! Every read path (pages, API, feeds, exports, notifications) asks [`may_view`]; nothing
//! else decides visibility. The audiences, from strictest to laxest, each containing the
//! previous one:
//!
//! | label | who may see it |
//! |---|---|
//! | `RED` | named participants of the case only (narrowed further to the object's explicit recipients, if it lists any) |
//! | `AMBER+STRICT` | also the project's maintainers, the assigned experts, and members/coordinators of subgroups read in by a rule |
//! | `AMBER` | also every member and coordinator of the case's routed subgroups |
//! | `GREEN` | every registered user |
//! | `CLEAR` | everyone, including anonymous visitors |
//!
//! The author of an object always sees it. Decisions this module documents:
//!
//! * **Coordinators** get no blanket access: a coordinator of one of the case's subgroups sees
//!   AMBER (like the subgroup's members); to see AMBER+STRICT they must be named or read in.
//! * **Admins** get no bypass at all, for any label: operating the instance is not a need to
//!   know. (An operator with database access can of course read it; the log records that.)
//! * **Conflicts of interest** are applied when the viewer's [`CaseRelation`] is computed
//!   (see [`Case::relation_of`](crate::case::Case::relation_of)): a conflicted expert is never
//!   counted as a subgroup member or read-in for that case.
//! * An object's **effective label** is the stricter of its own and its case's, so a CLEAR
//!   comment on a sealed case stays sealed until the case is published.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::user::Role;

string_enum! {
    /// A TLP 2.0 label. Declared from laxest to strictest, so `Ord` ranks strictness
    /// (`Clear < Green < Amber < AmberStrict < Red`). Parsing also accepts the MISP/TLP
    /// spelling `amber+strict` and the legacy `white` (= CLEAR); see [`TlpLabel::parse_lenient`]
    /// for `TLP:`-prefixed, upper-case input.
    pub enum TlpLabel {
        /// Disclosure is not limited.
        Clear = "clear" | "white",
        /// The community: every registered user.
        Green = "green",
        /// Need to know, including the case's subgroups.
        Amber = "amber",
        /// Need to know, only the people working the case.
        AmberStrict = "amber-strict" | "amber+strict",
        /// Named recipients only.
        Red = "red",
    }
}

impl Default for TlpLabel {
    /// New cases are AMBER+STRICT.
    fn default() -> Self {
        Self::AmberStrict
    }
}

impl TlpLabel {
    /// Parses `TLP:AMBER+STRICT`, `tlp:red`, `Amber` and the like.
    ///
    /// # Errors
    /// When the text is no TLP label.
    pub fn parse_lenient(text: &str) -> Result<Self, crate::error::ParseEnumError> {
        let lower = text.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp:").unwrap_or(&lower);
        bare.parse()
    }

    /// The canonical display form, e.g. `TLP:AMBER+STRICT`.
    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Clear => "TLP:CLEAR",
            Self::Green => "TLP:GREEN",
            Self::Amber => "TLP:AMBER",
            Self::AmberStrict => "TLP:AMBER+STRICT",
            Self::Red => "TLP:RED",
        }
    }

    /// The stricter of two labels.
    #[must_use]
    pub fn stricter(self, other: Self) -> Self {
        self.max(other)
    }

    /// The label an object takes when its case is published: everything becomes CLEAR except
    /// RED, which was meant for named people only and stays RED.
    #[must_use]
    pub const fn after_publication(self) -> Self {
        match self {
            Self::Red => Self::Red,
            _ => Self::Clear,
        }
    }
}

/// How a registered viewer stands towards one case. Computed by
/// [`Case::relation_of`](crate::case::Case::relation_of), which already drops
/// subgroup-derived relations for experts with a conflict of interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseRelation {
    /// On the case's named participant list.
    pub named_participant: bool,
    /// A maintainer of the case's project.
    pub project_maintainer: bool,
    /// An expert who claimed the case.
    pub assigned_expert: bool,
    /// A member or coordinator of a subgroup read in by a rule.
    pub read_in_by_rule: bool,
    /// A member of one of the case's routed subgroups.
    pub subgroup_member: bool,
    /// A coordinator of one of the case's routed subgroups.
    pub subgroup_coordinator: bool,
}

impl CaseRelation {
    /// Whether the viewer is any kind of participant (named, maintainer, assigned, read in).
    /// Participants see the participant list.
    #[must_use]
    pub const fn is_participant(&self) -> bool {
        self.named_participant
            || self.project_maintainer
            || self.assigned_expert
            || self.read_in_by_rule
    }
}

/// Who is looking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Viewer {
    /// Not logged in (public pages, feeds, dataset).
    Anonymous,
    /// A registered user.
    Member {
        /// Who.
        user: UserId,
        /// Their roles (recorded for audit; roles alone never widen access, see module docs).
        roles: BTreeSet<Role>,
        /// Their relation to the case the object belongs to.
        relation: CaseRelation,
    },
}

string_enum! {
    /// What kind of object is being shown.
    pub enum ObjectKind {
        /// The case itself (its change, concern, report).
        Case = "case",
        /// A comment thread entry.
        Comment = "comment",
        /// An assessment or second review.
        Assessment = "assessment",
    }
}

/// The labelled thing being shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlpObject {
    /// What it is.
    pub kind: ObjectKind,
    /// Its own label.
    pub label: TlpLabel,
    /// Its case's label (for a case, the same as `label`).
    pub case_label: TlpLabel,
    /// Who wrote it (always sees it).
    pub author: Option<UserId>,
    /// For RED objects: explicit recipients narrowing the named list. Empty means the
    /// case's whole named list.
    pub recipients: Vec<UserId>,
}

impl TlpObject {
    /// The label that governs visibility: the stricter of the object's and its case's.
    #[must_use]
    pub fn effective_label(&self) -> TlpLabel {
        self.label.stricter(self.case_label)
    }
}

/// THE visibility decision: whether `viewer` may be shown `object`.
#[must_use]
pub fn may_view(viewer: &Viewer, object: &TlpObject) -> bool {
    let label = object.effective_label();
    let (user, relation) = match viewer {
        Viewer::Anonymous => return label == TlpLabel::Clear,
        Viewer::Member { user, relation, .. } => (*user, relation),
    };
    if object.author == Some(user) {
        return true;
    }
    let red = relation.named_participant
        && (object.recipients.is_empty() || object.recipients.contains(&user));
    let amber_strict = relation.named_participant
        || relation.project_maintainer
        || relation.assigned_expert
        || relation.read_in_by_rule;
    let amber = amber_strict || relation.subgroup_member || relation.subgroup_coordinator;
    match label {
        TlpLabel::Clear | TlpLabel::Green => true,
        TlpLabel::Amber => amber,
        TlpLabel::AmberStrict => amber_strict,
        TlpLabel::Red => red,
    }
}

/// Whether `viewer` may see a case's participant list: every participant may, so nobody is
/// read in without the others knowing.
#[must_use]
pub fn may_view_participants(viewer: &Viewer) -> bool {
    match viewer {
        Viewer::Anonymous => false,
        Viewer::Member { relation, .. } => relation.is_participant(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn uid(n: u128) -> UserId {
        UserId::from_uuid(Uuid::from_u128(n))
    }

    fn member(n: u128, relation: CaseRelation) -> Viewer {
        Viewer::Member {
            user: uid(n),
            roles: BTreeSet::new(),
            relation,
        }
    }

    fn object(label: TlpLabel) -> TlpObject {
        TlpObject {
            kind: ObjectKind::Case,
            label,
            case_label: label,
            author: None,
            recipients: vec![],
        }
    }

    #[test]
    fn labels_parse_in_every_spelling_and_print_canonically() {
        for (text, label) in [
            ("TLP:AMBER+STRICT", TlpLabel::AmberStrict),
            ("amber+strict", TlpLabel::AmberStrict),
            ("amber-strict", TlpLabel::AmberStrict),
            ("tlp:white", TlpLabel::Clear),
            (" Red ", TlpLabel::Red),
        ] {
            assert_eq!(TlpLabel::parse_lenient(text), Ok(label), "{text}");
        }
        assert!(TlpLabel::parse_lenient("tlp:unclear").is_err());
        assert_eq!(
            serde_json::to_string(&TlpLabel::AmberStrict).unwrap(),
            "\"amber-strict\""
        );
        assert_eq!(TlpLabel::AmberStrict.display_name(), "TLP:AMBER+STRICT");
        assert_eq!(TlpLabel::default(), TlpLabel::AmberStrict);
    }

    #[test]
    fn the_misp_taxonomy_values_all_parse_except_the_non_standard_ones() {
        // Values of tlp-machinetag.json in /work/shared/fixtures/tlp-misp-taxonomies.
        for value in ["red", "amber", "amber+strict", "green", "white", "clear"] {
            assert!(TlpLabel::parse_lenient(value).is_ok(), "{value}");
        }
        for value in ["ex:chr", "unclear"] {
            assert!(TlpLabel::parse_lenient(value).is_err(), "{value}");
        }
    }

    #[test]
    fn anonymous_viewers_see_only_clear() {
        for &label in TlpLabel::ALL {
            assert_eq!(
                may_view(&Viewer::Anonymous, &object(label)),
                label == TlpLabel::Clear
            );
        }
    }

    #[test]
    fn subgroup_members_see_amber_but_not_amber_strict() {
        let v = member(
            1,
            CaseRelation {
                subgroup_member: true,
                ..CaseRelation::default()
            },
        );
        assert!(may_view(&v, &object(TlpLabel::Amber)));
        assert!(!may_view(&v, &object(TlpLabel::AmberStrict)));
        let coord = member(
            1,
            CaseRelation {
                subgroup_coordinator: true,
                ..CaseRelation::default()
            },
        );
        assert!(may_view(&coord, &object(TlpLabel::Amber)));
        assert!(!may_view(&coord, &object(TlpLabel::AmberStrict)));
    }

    #[test]
    fn maintainers_and_assigned_experts_see_amber_strict_but_not_red() {
        for relation in [
            CaseRelation {
                project_maintainer: true,
                ..CaseRelation::default()
            },
            CaseRelation {
                assigned_expert: true,
                ..CaseRelation::default()
            },
            CaseRelation {
                read_in_by_rule: true,
                ..CaseRelation::default()
            },
        ] {
            let v = member(1, relation);
            assert!(may_view(&v, &object(TlpLabel::AmberStrict)));
            assert!(!may_view(&v, &object(TlpLabel::Red)));
        }
    }

    #[test]
    fn red_is_for_named_participants_narrowed_to_explicit_recipients() {
        let named = CaseRelation {
            named_participant: true,
            ..CaseRelation::default()
        };
        let mut red = object(TlpLabel::Red);
        assert!(may_view(&member(1, named), &red));
        red.recipients = vec![uid(2)];
        assert!(!may_view(&member(1, named), &red));
        assert!(may_view(&member(2, named), &red));
        // A recipient who is not (or no longer) a named participant does not see it.
        assert!(!may_view(&member(2, CaseRelation::default()), &red));
        red.author = Some(uid(3));
        assert!(may_view(&member(3, CaseRelation::default()), &red));
    }

    #[test]
    fn admins_and_coordinators_get_nothing_from_their_roles_alone() {
        let v = Viewer::Member {
            user: uid(1),
            roles: [Role::Admin, Role::Coordinator].into_iter().collect(),
            relation: CaseRelation::default(),
        };
        assert!(may_view(&v, &object(TlpLabel::Green)));
        for label in [TlpLabel::Amber, TlpLabel::AmberStrict, TlpLabel::Red] {
            assert!(!may_view(&v, &object(label)), "{label}");
        }
    }

    #[test]
    fn a_clear_comment_on_a_sealed_case_stays_sealed() {
        let comment = TlpObject {
            kind: ObjectKind::Comment,
            label: TlpLabel::Clear,
            case_label: TlpLabel::AmberStrict,
            author: None,
            recipients: vec![],
        };
        assert!(!may_view(&Viewer::Anonymous, &comment));
        assert_eq!(comment.effective_label(), TlpLabel::AmberStrict);
    }

    #[test]
    fn publication_clears_every_label_but_red() {
        for &label in TlpLabel::ALL {
            let expected = if label == TlpLabel::Red {
                TlpLabel::Red
            } else {
                TlpLabel::Clear
            };
            assert_eq!(label.after_publication(), expected);
        }
    }

    #[test]
    fn only_participants_see_the_participant_list() {
        assert!(!may_view_participants(&Viewer::Anonymous));
        assert!(!may_view_participants(&member(
            1,
            CaseRelation {
                subgroup_member: true,
                ..CaseRelation::default()
            }
        )));
        assert!(may_view_participants(&member(
            1,
            CaseRelation {
                read_in_by_rule: true,
                ..CaseRelation::default()
            }
        )));
        assert!(may_view_participants(&member(
            1,
            CaseRelation {
                named_participant: true,
                ..CaseRelation::default()
            }
        )));
    }

    fn label() -> impl Strategy<Value = TlpLabel> {
        proptest::sample::select(TlpLabel::ALL)
    }

    fn relation() -> impl Strategy<Value = CaseRelation> {
        proptest::array::uniform6(any::<bool>()).prop_map(|b| CaseRelation {
            named_participant: b[0],
            project_maintainer: b[1],
            assigned_expert: b[2],
            read_in_by_rule: b[3],
            subgroup_member: b[4],
            subgroup_coordinator: b[5],
        })
    }

    fn roles() -> impl Strategy<Value = BTreeSet<Role>> {
        proptest::collection::btree_set(proptest::sample::select(Role::ALL), 0..4)
    }

    fn viewer() -> impl Strategy<Value = Viewer> {
        prop_oneof![
            Just(Viewer::Anonymous),
            (0u128..4, roles(), relation()).prop_map(|(n, roles, relation)| Viewer::Member {
                user: uid(n),
                roles,
                relation
            }),
        ]
    }

    fn tlp_object() -> impl Strategy<Value = TlpObject> {
        (
            proptest::sample::select(ObjectKind::ALL),
            label(),
            label(),
            proptest::option::of(0u128..4),
            proptest::collection::vec(0u128..4, 0..3),
        )
            .prop_map(|(kind, label, case_label, author, recipients)| TlpObject {
                kind,
                label,
                case_label,
                author: author.map(uid),
                recipients: recipients.into_iter().map(uid).collect(),
            })
    }

    /// Independent restatement of the policy: the strictest label a viewer is cleared for.
    fn clearance(viewer: &Viewer, object: &TlpObject) -> TlpLabel {
        let Viewer::Member {
            user, relation: r, ..
        } = viewer
        else {
            return TlpLabel::Clear;
        };
        let is_author = object.author == Some(*user);
        let is_recipient = object.recipients.is_empty() || object.recipients.contains(user);
        if is_author || (r.named_participant && is_recipient) {
            TlpLabel::Red
        } else if r.named_participant
            || r.project_maintainer
            || r.assigned_expert
            || r.read_in_by_rule
        {
            TlpLabel::AmberStrict
        } else if r.subgroup_member || r.subgroup_coordinator {
            TlpLabel::Amber
        } else {
            TlpLabel::Green
        }
    }

    proptest! {
        #[test]
        fn no_viewer_ever_sees_more_than_the_label_allows(v in viewer(), o in tlp_object()) {
            let effective = o.label.max(o.case_label);
            prop_assert_eq!(may_view(&v, &o), effective <= clearance(&v, &o));
        }

        #[test]
        fn a_stricter_label_never_admits_more_viewers(v in viewer(), o in tlp_object(), a in label(), b in label()) {
            let (lax, strict) = if a <= b { (a, b) } else { (b, a) };
            let with = |l: TlpLabel| TlpObject { label: l, ..o.clone() };
            prop_assert!(!may_view(&v, &with(strict)) || may_view(&v, &with(lax)));
            let in_case = |l: TlpLabel| TlpObject { case_label: l, ..o.clone() };
            prop_assert!(!may_view(&v, &in_case(strict)) || may_view(&v, &in_case(lax)));
        }

        #[test]
        fn roles_never_change_what_a_viewer_sees(n in 0u128..4, r in relation(), a in roles(), b in roles(), o in tlp_object()) {
            let va = Viewer::Member { user: uid(n), roles: a, relation: r };
            let vb = Viewer::Member { user: uid(n), roles: b, relation: r };
            prop_assert_eq!(may_view(&va, &o), may_view(&vb, &o));
        }

        #[test]
        fn lenient_parsing_round_trips_every_label(l in label()) {
            prop_assert_eq!(TlpLabel::parse_lenient(l.display_name()), Ok(l));
            prop_assert_eq!(l.as_str().parse::<TlpLabel>(), Ok(l));
        }
    }
}
