//! Values, recognition, awards, balances, allowances and the ledger.

use crate::api::json;
use crate::http::{blocking, ApiCaller, ApiResult, JsonBody, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use plaudit_app::recognition::{AwardRequest, GiveRequest, Posted};
use plaudit_app::values::{NewValue, ValueChanges};
use plaudit_store::FeedFilter;
use serde::Deserialize;
use serde_json::{json, Value};

fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// 201 for a new post, 200 with `Idempotent-Replayed: true` for a repeat.
fn posted(p: Posted) -> impl IntoResponse {
    let status = if p.replayed { StatusCode::OK } else { StatusCode::CREATED };
    (
        status,
        [("idempotent-replayed", if p.replayed { "true" } else { "false" })],
        Json(json::recognition(&p.recognition)),
    )
}

pub async fn list_values(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let values = blocking(&state.app, move |app| app.values(&caller)).await?;
    Ok(Json(json::page(values.iter().map(json::value).collect(), None)))
}

pub async fn create_value(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewValue>,
) -> ApiResult<impl IntoResponse> {
    let v = blocking(&state.app, move |app| app.create_value(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(json::value(&v))))
}

pub async fn patch_value(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(changes): JsonBody<ValueChanges>,
) -> ApiResult<Json<Value>> {
    let v = blocking(&state.app, move |app| app.update_value(&caller, &id, changes)).await?;
    Ok(Json(json::value(&v)))
}

pub async fn give(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    JsonBody(req): JsonBody<GiveRequest>,
) -> ApiResult<impl IntoResponse> {
    let key = idempotency_key(&headers);
    let p = blocking(&state.app, move |app| app.give(&caller, &req, key.as_deref())).await?;
    Ok(posted(p))
}

pub async fn award(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    JsonBody(req): JsonBody<AwardRequest>,
) -> ApiResult<impl IntoResponse> {
    let key = idempotency_key(&headers);
    let p = blocking(&state.app, move |app| app.award(&caller, &req, key.as_deref())).await?;
    Ok(posted(p))
}

#[derive(Deserialize, Default)]
pub struct FeedQuery {
    pub member: Option<String>,
    pub value: Option<String>,
    pub department: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn feed(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<FeedQuery>,
) -> ApiResult<Json<Value>> {
    let filter = FeedFilter {
        member_id: q.member.filter(|s| !s.is_empty()),
        value_id: q.value.filter(|s| !s.is_empty()),
        department: q.department.filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let page =
        blocking(&state.app, move |app| app.feed(&caller, &filter, q.cursor.as_deref(), q.limit.unwrap_or(50))).await?;
    Ok(Json(json::page(page.items.iter().map(json::recognition).collect(), page.next_cursor)))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (r, comments) =
        blocking(&state.app, move |app| Ok((app.recognition(&caller, &id)?, app.comments(&caller, &id)?))).await?;
    let mut body = json::recognition(&r);
    body["comments"] = comments.iter().map(json::comment).collect::<Vec<_>>().into();
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddonBody {
    pub points: i64,
}

pub async fn add_on(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<AddonBody>,
) -> ApiResult<impl IntoResponse> {
    let key = idempotency_key(&headers);
    let p = blocking(&state.app, move |app| app.add_on(&caller, &id, b.points, key.as_deref())).await?;
    Ok(posted(p))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionBody {
    pub emoji: String,
}

pub async fn react(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ReactionBody>,
) -> ApiResult<Json<Value>> {
    let member_id = caller.member.id.clone();
    let (r, mine) = blocking(&state.app, move |app| {
        let r = app.react(&caller, &id, &b.emoji)?;
        let mine = app.store.read(|tx| tx.my_reactions(&caller.org.id, &id, &member_id))?;
        Ok((r, mine))
    })
    .await?;
    let mut body = json::recognition(&r);
    body["my_reactions"] = mine.into();
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
}

pub async fn comment(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CommentBody>,
) -> ApiResult<impl IntoResponse> {
    let c = blocking(&state.app, move |app| app.comment(&caller, &id, &b.body)).await?;
    Ok((StatusCode::CREATED, Json(json::comment(&c))))
}

pub async fn comments(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let list = blocking(&state.app, move |app| app.comments(&caller, &id)).await?;
    Ok(Json(json::page(list.iter().map(json::comment).collect(), None)))
}

pub async fn undo(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.undo(&caller, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn hide(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.hide(&caller, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn my_balance(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let id = caller.member.id.clone();
    let b = blocking(&state.app, move |app| app.balance(&caller, &id)).await?;
    Ok(Json(json::balance(&b)))
}

pub async fn member_balance(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let b = blocking(&state.app, move |app| app.balance(&caller, &id)).await?;
    Ok(Json(json::balance(&b)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowanceBody {
    /// Member ids; absent means everyone.
    pub members: Option<Vec<String>>,
    pub amount: i64,
}

pub async fn set_allowances(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(b): JsonBody<AllowanceBody>,
) -> ApiResult<Json<Value>> {
    let n = blocking(&state.app, move |app| app.set_allowance(&caller, b.members.as_deref(), b.amount)).await?;
    Ok(Json(json!({"updated": n})))
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    pub member: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn ledger(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<LedgerQuery>,
) -> ApiResult<Json<Value>> {
    let member = q.member.filter(|m| !m.is_empty()).unwrap_or_else(|| caller.member.id.clone());
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let mut entries = blocking(&state.app, move |app| {
        app.ledger(&caller, &member, q.cursor.as_deref().filter(|c| !c.is_empty()), limit + 1)
    })
    .await?;
    let next = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.id.clone())
    } else {
        None
    };
    Ok(Json(json::page(entries.iter().map(json::ledger_entry).collect(), next)))
}
