//! Organisation settings and the audit log.

use crate::api::json;
use crate::http::{blocking, ApiCaller, ApiResult, JsonBody, QueryParams};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use plaudit_domain::org::OrgPatch;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn get_org(ApiCaller(caller): ApiCaller) -> Json<Value> {
    Json(json::org(&caller.org))
}

pub async fn patch_org(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(patch): JsonBody<OrgPatch>,
) -> ApiResult<Json<Value>> {
    let org = blocking(&state.app, move |app| app.update_org(&caller, patch)).await?;
    Ok(Json(json::org(&org)))
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let org_id = caller.org.id.clone();
    let mut entries = blocking(&state.app, move |app| {
        app.store.read(|tx| tx.list_audit(&org_id, q.cursor.as_deref().filter(|c| !c.is_empty()), limit + 1))
    })
    .await?;
    let next = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.id.clone())
    } else {
        None
    };
    let items = entries
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "actor_id": e.actor_id, "action": e.action, "target": e.target,
                "details": serde_json::from_str::<Value>(&e.details).unwrap_or(Value::Null),
                "created_at": json::time(e.created_at),
            })
        })
        .collect();
    Ok(Json(json::page(items, next)))
}
