//! E-mail over the API: password resets (no sign-in) and the caller's mail choices.

use crate::http::{blocking, ApiCaller, ApiResult, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub org: String,
    pub email: String,
}

/// The same answer for every address: whether an account exists stays unknown.
pub async fn request_reset(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<ResetRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    blocking(&state.app, move |app| app.request_password_reset(&b.org, &b.email)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "detail": "if an active account has this e-mail in this organisation, a link to set a new password is on its way",
            "expires_in_seconds": plaudit_app::mail::RESET_TTL_MS / 1000,
        })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    pub token: String,
    pub password: String,
}

pub async fn confirm_reset(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<ResetConfirm>,
) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.reset_password(&b.token, &b.password)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_notifications(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let prefs = blocking(&state.app, move |app| app.mail_preferences(&caller)).await?;
    Ok(Json(json!(prefs)))
}

pub async fn patch_notifications(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(b): JsonBody<BTreeMap<String, bool>>,
) -> ApiResult<Json<Value>> {
    let changes: Vec<(String, bool)> = b.into_iter().collect();
    let prefs = blocking(&state.app, move |app| app.set_mail_preferences(&caller, &changes)).await?;
    Ok(Json(json!(prefs)))
}
