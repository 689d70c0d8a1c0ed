//! Typed ids. Each is a `Uuid` newtype so a `CaseId` can never be passed where a `UserId` is
//! expected; serde keeps them as plain UUID strings.

uuid_id!(
    /// A case: one forwarded change and everything said and decided about it.
    CaseId
);
uuid_id!(
    /// A registered user (maintainer, expert, coordinator, admin).
    UserId
);
uuid_id!(
    /// A project on a forge (`owner/name`).
    ProjectId
);
uuid_id!(
    /// A subgroup of experts (by language or attack vector).
    SubgroupId
);
uuid_id!(
    /// One expert's assessment of one revision of a case.
    AssessmentId
);
uuid_id!(
    /// A second, independent review of an assessment.
    SecondReviewId
);
uuid_id!(
    /// A comment thread entry on a case.
    CommentId
);
uuid_id!(
    /// A proposal for an embargo end date.
    EmbargoProposalId
);
uuid_id!(
    /// A request to extend a case's grace period beyond the instance maximum.
    GraceExtensionId
);

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn ids_serialize_as_plain_uuid_strings_and_parse_back() {
        let id = CaseId::from_uuid(Uuid::from_u128(0x1234));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00000000-0000-0000-0000-000000001234\"");
        assert_eq!(serde_json::from_str::<CaseId>(&json).unwrap(), id);
        assert_eq!(id.to_string().parse::<CaseId>().unwrap(), id);
        assert!("not-a-uuid".parse::<UserId>().is_err());
        assert_eq!(Uuid::from(id), id.as_uuid());
    }
}
