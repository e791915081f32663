//! The reward catalog, redemptions and billing statements.

use crate::api::json::{page, time};
use crate::http::{blocking, ApiCaller, ApiError, ApiResult, JsonBody, QueryParams};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use plaudit_app::rewards::{NewReward, RewardChanges, Statement};
use plaudit_domain::rewards::{format_money, Redemption, RedemptionStatus, Reward, RewardKind, StatementLine};
use plaudit_domain::Error;
use serde::Deserialize;
use serde_json::{json, Value};

/// Room for the largest image the domain takes, so a larger one gets its 413 from the rule.
pub const MAX_IMAGE_BODY: usize = plaudit_domain::rewards::MAX_IMAGE_BYTES + 1024;

pub fn reward(r: &Reward) -> Value {
    json!({
        "id": r.id, "kind": r.kind, "name": r.name, "description": r.description,
        "cost_points": r.cost_points, "face_value_minor": r.face_value_minor, "currency": r.currency,
        "stock": r.stock, "per_member_monthly_limit": r.per_member_monthly_limit,
        "requires_approval": r.requires_approval, "archived": r.archived,
        "image_url": r.image_type.as_ref().map(|_| format!("/api/v1/rewards/{}/image", r.id)),
        "created_at": time(r.created_at), "updated_at": time(r.updated_at),
    })
}

pub fn redemption(r: &Redemption) -> Value {
    json!({
        "id": r.id, "reward_id": r.reward_id, "member_id": r.member_id, "points": r.points,
        "status": r.status, "code": r.code, "note": r.note, "reason": r.reason,
        "face_value_minor": r.face_value_minor, "currency": r.currency,
        "created_at": time(r.created_at), "updated_at": time(r.updated_at),
        "fulfilled_at": r.fulfilled_at.map(time), "fulfilled_month": r.fulfilled_month,
    })
}

/// The local date (org time zone) of a line.
pub fn local_date(ms: i64, tz: &str) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .and_then(|t| jiff::tz::TimeZone::get(tz).ok().map(|z| t.to_zoned_datetime(z).date().to_string()))
        .unwrap_or_default()
}

fn line(l: &StatementLine, tz: &str) -> Value {
    json!({
        "id": l.id, "date": local_date(l.created_at, tz), "created_at": time(l.created_at),
        "kind": l.kind, "redemption_id": l.redemption_id,
        "member_id": l.member_id, "member": l.member_name,
        "reward_id": l.reward_id, "reward": l.reward_name, "reward_kind": l.reward_kind,
        "face_value_minor": l.face_value_minor, "currency": l.currency,
    })
}

pub fn statement(s: &Statement) -> Value {
    json!({
        "month": s.month, "timezone": s.timezone, "closed": s.closed,
        "lines": s.lines.iter().map(|l| line(l, &s.timezone)).collect::<Vec<_>>(),
        "culture_lines": s.culture_lines.iter().map(|l| line(l, &s.timezone)).collect::<Vec<_>>(),
        "totals": s.totals.iter().map(|t| json!({"currency": t.currency, "face_value_minor": t.face_value_minor})).collect::<Vec<_>>(),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The statement as CSV: paid lines, then culture lines at zero, then one total row per currency.
pub fn statement_csv(s: &Statement) -> String {
    let mut out = String::from("date,member,reward,reward_kind,line,face_value_minor,currency,face_value\r\n");
    for l in s.lines.iter().chain(&s.culture_lines) {
        let cur = l.currency.clone().unwrap_or_default();
        let shown = if cur.is_empty() { "0".to_string() } else { format_money(l.face_value_minor, &cur) };
        let row = [
            local_date(l.created_at, &s.timezone),
            l.member_name.clone(),
            l.reward_name.clone(),
            l.reward_kind.as_str().to_string(),
            l.kind.clone(),
            l.face_value_minor.to_string(),
            cur,
            shown,
        ];
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    for t in &s.totals {
        out.push_str(&format!(
            "{},,,,total,{},{},{}\r\n",
            s.month,
            t.face_value_minor,
            t.currency,
            format_money(t.face_value_minor, &t.currency)
        ));
    }
    out
}

#[derive(Deserialize, Default)]
pub struct RewardQuery {
    pub kind: Option<String>,
    pub archived: Option<bool>,
    /// Only rewards the caller can afford now.
    pub affordable: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<RewardQuery>,
) -> ApiResult<Json<Value>> {
    let kind = q.kind.filter(|k| !k.is_empty()).map(|k| RewardKind::parse(&k)).transpose()?;
    let list = blocking(&state.app, move |app| {
        let mut list = app.rewards(&caller, q.archived.unwrap_or(false), kind)?;
        if q.affordable.unwrap_or(false) {
            let balance = app.balance(&caller, &caller.member.id)?.earned;
            list.retain(|r| r.cost_points <= balance && r.stock != Some(0));
        }
        Ok(list)
    })
    .await?;
    Ok(Json(page(list.iter().map(reward).collect(), None)))
}

pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewReward>,
) -> ApiResult<impl IntoResponse> {
    let r = blocking(&state.app, move |app| app.create_reward(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(reward(&r))))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.reward(&caller, &id)).await?;
    Ok(Json(reward(&r)))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(changes): JsonBody<RewardChanges>,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.update_reward(&caller, &id, changes)).await?;
    Ok(Json(reward(&r)))
}

pub async fn put_image(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.set_reward_image(&caller, &id, &body)).await?;
    Ok(Json(reward(&r)))
}

pub async fn get_image(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (ct, bytes) = blocking(&state.app, move |app| app.reward_image(&caller, &id)).await?;
    Ok(([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "private, max-age=300".to_string())], bytes)
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    pub reward_id: String,
}

pub async fn redeem(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    JsonBody(b): JsonBody<RedeemBody>,
) -> ApiResult<impl IntoResponse> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let done = blocking(&state.app, move |app| app.redeem(&caller, &b.reward_id, key.as_deref())).await?;
    let status = if done.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((
        status,
        [("idempotent-replayed", if done.replayed { "true" } else { "false" })],
        Json(redemption(&done.redemption)),
    ))
}

#[derive(Deserialize, Default)]
pub struct RedemptionQuery {
    pub status: Option<String>,
    pub member: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn list_redemptions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<RedemptionQuery>,
) -> ApiResult<Json<Value>> {
    let status = q.status.filter(|s| !s.is_empty()).map(|s| RedemptionStatus::parse(&s)).transpose()?;
    let p = blocking(&state.app, move |app| {
        app.redemptions(
            &caller,
            q.member.as_deref().filter(|m| !m.is_empty()),
            status,
            q.cursor.as_deref(),
            q.limit.unwrap_or(50),
        )
    })
    .await?;
    Ok(Json(page(p.items.iter().map(redemption).collect(), p.next_cursor)))
}

pub async fn get_redemption(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.redemption(&caller, &id)).await?;
    Ok(Json(redemption(&r)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FulfilBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn fulfil(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<FulfilBody>,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.fulfil(&caller, &id, b.code.as_deref(), b.note.as_deref())).await?;
    Ok(Json(redemption(&r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    pub reason: String,
}

pub async fn decline(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DeclineBody>,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.decline(&caller, &id, &b.reason)).await?;
    Ok(Json(redemption(&r)))
}

pub async fn cancel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = blocking(&state.app, move |app| app.cancel(&caller, &id)).await?;
    Ok(Json(redemption(&r)))
}

/// JSON, or CSV with `Accept: text/csv` (or `?format=csv`).
pub async fn get_statement(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(month): Path<String>,
    headers: HeaderMap,
    QueryParams(q): QueryParams<StatementQuery>,
) -> ApiResult<Response> {
    let wants_csv = q.format.as_deref() == Some("csv")
        || headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv"));
    let s = blocking(&state.app, move |app| app.statement(&caller, &month)).await?;
    if wants_csv {
        let name = format!("attachment; filename=\"plaudit-statement-{}.csv\"", s.month);
        let disposition =
            header::HeaderValue::from_str(&name).map_err(|_| ApiError(Error::internal("bad file name")))?;
        return Ok((
            [
                (header::CONTENT_TYPE, header::HeaderValue::from_static("text/csv; charset=utf-8")),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            statement_csv(&s),
        )
            .into_response());
    }
    Ok(Json(statement(&s)).into_response())
}

#[derive(Deserialize, Default)]
pub struct StatementQuery {
    pub format: Option<String>,
}
