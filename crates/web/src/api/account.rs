//! Sign-up, sign-in/out, API tokens and the caller.

use crate::api::json;
use crate::http::{
    blocking, clear_session_cookie, cookie, session_cookie, ApiCaller, ApiResult, JsonBody, SESSION_COOKIE,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use plaudit_app::orgs::NewOrg;
use plaudit_app::NewSession;
use plaudit_domain::org::Plan;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    pub org_name: String,
    pub org_slug: String,
    #[serde(default)]
    pub timezone: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

fn session_response(state: &AppState, status: StatusCode, s: &NewSession, body: Value) -> impl IntoResponse {
    let max_age = (s.expires_at - plaudit_app::now_ms()) / 1000;
    let cookie = session_cookie(&s.token, max_age, state.options.secure_cookies);
    (status, [(header::SET_COOKIE, cookie)], Json(body))
}

pub async fn signup(State(state): State<AppState>, JsonBody(b): JsonBody<SignupBody>) -> ApiResult<impl IntoResponse> {
    let (org, session) = blocking(&state.app, move |app| {
        app.sign_up(NewOrg {
            name: b.org_name,
            slug: b.org_slug,
            timezone: b.timezone,
            plan: Plan::Free,
            owner_email: b.email,
            owner_name: b.name,
            owner_password: Some(b.password),
        })
    })
    .await?;
    let body =
        json!({"org": json::org(&org), "member": json::member(&session.member), "csrf_token": session.csrf_token});
    Ok(session_response(&state, StatusCode::CREATED, &session, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub org: String,
    pub email: String,
    pub password: String,
}

pub async fn sign_in(State(state): State<AppState>, JsonBody(b): JsonBody<SignInBody>) -> ApiResult<impl IntoResponse> {
    let session = blocking(&state.app, move |app| app.sign_in(&b.org, &b.email, &b.password)).await?;
    let body = json!({"member": json::member(&session.member), "csrf_token": session.csrf_token});
    Ok(session_response(&state, StatusCode::OK, &session, body))
}

/// Signing out with a live session needs its CSRF token too, so another
/// site cannot sign people out.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<impl IntoResponse> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        blocking(&state.app, move |app| {
            if let Ok(caller) = app.caller_from_session(&token) {
                if !crate::http::csrf_matches(caller.csrf_token.as_deref(), &sent) {
                    return Err(plaudit_domain::Error::forbidden("missing or wrong X-CSRF-Token header")
                        .with_code("csrf_failed"));
                }
            }
            app.sign_out(&token)
        })
        .await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear_session_cookie(state.options.secure_cookies))]))
}

pub async fn me(ApiCaller(caller): ApiCaller) -> Json<Value> {
    let mut body = json::member(&caller.member);
    body["org"] = json::org(&caller.org);
    Json(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub name: String,
}

fn token_json(t: &plaudit_store::ApiToken) -> Value {
    json!({
        "id": t.id, "name": t.name, "created_at": json::time(t.created_at),
        "last_used_at": t.last_used_at.map(json::time),
    })
}

pub async fn create_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(b): JsonBody<TokenBody>,
) -> ApiResult<impl IntoResponse> {
    let (raw, token) = blocking(&state.app, move |app| app.create_api_token(&caller, &b.name)).await?;
    let mut body = token_json(&token);
    body["token"] = raw.into();
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn list_tokens(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let tokens = blocking(&state.app, move |app| app.list_api_tokens(&caller)).await?;
    Ok(Json(json::page(tokens.iter().filter(|t| t.revoked_at.is_none()).map(token_json).collect(), None)))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.revoke_api_token(&caller, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
