//! Integration settings over the API.

use crate::http::{blocking, ApiCaller, ApiResult, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use plaudit_app::teams::{TeamsSetup, TeamsStatus};
use serde_json::{json, Value};

fn teams_json(s: Option<&TeamsStatus>) -> Value {
    match s {
        None => json!({"configured": false}),
        Some(s) => json!({
            "configured": true,
            "webhook_url": s.webhook_url,
            "workflows_url_set": !s.workflows_host.is_empty(),
            "workflows_host": s.workflows_host,
            "last_error": s.config.last_error,
            "last_error_at": s.config.last_error_at.map(super::json::time),
            "last_ok_at": s.config.last_ok_at.map(super::json::time),
        }),
    }
}

/// `PUT /api/v1/integrations/teams` (admins).
pub async fn put_teams(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(setup): JsonBody<TeamsSetup>,
) -> ApiResult<Json<Value>> {
    let status = blocking(&state.app, move |app| app.teams_configure(&caller, &setup)).await?;
    Ok(Json(teams_json(Some(&status))))
}

/// `GET /api/v1/integrations/teams` (admins).
pub async fn get_teams(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let status = blocking(&state.app, move |app| app.teams_status(&caller)).await?;
    Ok(Json(teams_json(status.as_ref())))
}

/// `DELETE /api/v1/integrations/teams` (admins).
pub async fn delete_teams(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.teams_disconnect(&caller)).await?;
    Ok(StatusCode::NO_CONTENT)
}
