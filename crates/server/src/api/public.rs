//! `GET /api/v1/cases/{id}/public`: what the public may know of a case, for everyone.
//!
//! While a case is sealed the public sees that it exists, the subgroups it was routed to, when
//! it will be published and its (public) grace extensions — never its content. This answer is
//! built only from the domain's public projection (`Case::public_view`), whose sealed variant
//! has no field for content, so nothing can leak by accident. The answer is the same for every
//! caller, logged in or not: participants read the full case at `GET /api/v1/cases/{id}`.

use axum::extract::State;
use serde::Serialize;
use sx_domain::{CaseId, PublicCaseView};
use sx_store::Store;

use crate::AppState;
use crate::api::views::SubgroupRef;
use crate::error::{ApiError, Json, Path};

/// Answer of `GET /api/v1/cases/{id}/public`.
#[derive(Debug, Serialize)]
pub struct PublicCase {
    /// `sealed` (only the stub) or `published` (the published case), with their fields.
    #[serde(flatten)]
    pub view: PublicCaseView,
    /// The routed subgroups by name (the view lists their ids).
    pub subgroup_names: Vec<SubgroupRef>,
}

/// `GET /api/v1/cases/{id}/public`: the public view of a case; 404 only when no such case
/// exists.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<CaseId>,
) -> Result<Json<PublicCase>, ApiError> {
    let case = state
        .store
        .get_case(id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?
        .value;
    let subgroup_names = state
        .store
        .list_subgroups()
        .await?
        .into_iter()
        .map(|s| s.value)
        .filter(|s| case.subgroups.contains(&s.id))
        .map(|s| SubgroupRef {
            id: s.id,
            slug: s.slug,
            name: s.name,
        })
        .collect();
    Ok(Json(PublicCase {
        view: case.public_view(&state.policy),
        subgroup_names,
    }))
}
