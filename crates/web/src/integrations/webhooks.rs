//! `/api/v1/webhooks`: admins register endpoints, read each one's delivery
//! log, send a test and redeliver. The signing secret is in the answers of
//! create and rotate only.

use crate::api::json::{page, time};
use crate::http::{blocking, ApiCaller, ApiResult, JsonBody, QueryParams};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use plaudit_app::webhooks::{NewWebhook, WebhookChanges};
use plaudit_store::{WebhookDelivery, WebhookEndpoint};
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route("/api/v1/webhooks/{id}", get(get_one).patch(patch).delete(delete))
        .route("/api/v1/webhooks/{id}/rotate_secret", post(rotate_secret))
        .route("/api/v1/webhooks/{id}/test", post(test))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/webhook_deliveries/{id}/redeliver", post(redeliver))
}

pub fn endpoint(e: &WebhookEndpoint) -> Value {
    json!({
        "id": e.id, "url": e.url, "description": e.description, "events": e.events.names(),
        "active": e.active, "created_at": time(e.created_at), "updated_at": time(e.updated_at),
    })
}

fn with_secret(e: &WebhookEndpoint, secret: &str) -> Value {
    let mut v = endpoint(e);
    v["secret"] = secret.into();
    v
}

pub fn delivery(d: &WebhookDelivery) -> Value {
    json!({
        "id": d.id, "webhook_id": d.endpoint_id, "event_id": d.event_id, "event": d.event_type,
        "status": d.status.as_str(), "attempts": d.attempts, "last_status": d.last_status,
        "last_error": d.last_error, "next_attempt_at": d.next_attempt_at.map(time),
        "last_attempt_at": d.last_attempt_at.map(time), "delivered_at": d.delivered_at.map(time),
        "redelivery_of": d.redelivery_of, "created_at": time(d.created_at), "updated_at": time(d.updated_at),
    })
}

async fn list(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let list = blocking(&state.app, move |app| app.webhooks(&caller)).await?;
    Ok(Json(page(list.iter().map(endpoint).collect(), None)))
}

async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewWebhook>,
) -> ApiResult<impl IntoResponse> {
    let (e, secret) = blocking(&state.app, move |app| app.create_webhook(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(with_secret(&e, &secret))))
}

async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let e = blocking(&state.app, move |app| app.webhook(&caller, &id)).await?;
    Ok(Json(endpoint(&e)))
}

async fn patch(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(changes): JsonBody<WebhookChanges>,
) -> ApiResult<Json<Value>> {
    let e = blocking(&state.app, move |app| app.update_webhook(&caller, &id, changes)).await?;
    Ok(Json(endpoint(&e)))
}

async fn delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.delete_webhook(&caller, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_secret(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (e, secret) = blocking(&state.app, move |app| app.rotate_webhook_secret(&caller, &id)).await?;
    Ok(Json(with_secret(&e, &secret)))
}

async fn test(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = blocking(&state.app, move |app| app.test_webhook(&caller, &id)).await?;
    Ok(Json(delivery(&d)))
}

#[derive(Deserialize, Default)]
struct LogQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn deliveries(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<LogQuery>,
) -> ApiResult<Json<Value>> {
    let p = blocking(&state.app, move |app| {
        app.webhook_deliveries(&caller, &id, q.cursor.as_deref(), q.limit.unwrap_or(50))
    })
    .await?;
    Ok(Json(page(p.items.iter().map(delivery).collect(), p.next_cursor)))
}

async fn redeliver(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let d = blocking(&state.app, move |app| app.redeliver_webhook(&caller, &id)).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery(&d))))
}

/// The webhook schemas of `openapi.json`.
pub fn schemas() -> Map<String, Value> {
    let s = json!({"type": "string"});
    let ns = json!({"type": ["string", "null"]});
    let ni = json!({"type": ["integer", "null"]});
    let names: Vec<&str> = plaudit_domain::events::EventKind::ALL.iter().map(|k| k.as_str()).chain(["*"]).collect();
    let events = json!({"type": "array", "items": {"type": "string", "enum": names},
        "description": "event names, or [\"*\"] for every event (also those added later)"});
    let url = json!({"type": "string", "maxLength": 2000, "format": "uri",
        "description": "http or https, no credentials; private and local destinations need PLAUDIT_WEBHOOKS_ALLOW_PRIVATE"});
    let endpoint_props = json!({"id": s, "url": url, "description": s, "events": events, "active": {"type": "boolean"},
        "created_at": s, "updated_at": s});
    let mut with_secret = endpoint_props.clone();
    with_secret["secret"] = json!({"type": "string", "description": "whsec_…: shown only in this answer"});
    let obj = |required: &[&str], props: Value| json!({"type": "object", "required": required, "properties": props});
    let change_props = json!({"url": url, "events": events, "description": {"type": "string", "maxLength": 500},
        "active": {"type": "boolean"}});
    [
        ("Webhook", obj(&["id", "url", "events", "active"], endpoint_props)),
        ("WebhookWithSecret", obj(&["id", "url", "events", "active", "secret"], with_secret)),
        ("NewWebhook", obj(&["url"], change_props.clone())),
        ("WebhookChanges", obj(&[], change_props)),
        (
            "WebhookDelivery",
            obj(
                &["id", "webhook_id", "event_id", "event", "status", "attempts", "created_at"],
                json!({"id": s, "webhook_id": s, "event_id": s, "event": s,
                    "status": {"type": "string", "enum": ["pending", "delivered", "failed", "cancelled"]},
                    "attempts": {"type": "integer"}, "last_status": ni, "last_error": ns,
                    "next_attempt_at": ns, "last_attempt_at": ns, "delivered_at": ns, "redelivery_of": ns,
                    "created_at": s, "updated_at": s}),
            ),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
