//! The SCIM 2.0 service provider under `/scim/v2` (RFC 7643/7644) and the
//! admin API for its tokens (`/api/v1/scim_tokens`).
//!
//! Answers are `application/scim+json`; requests may be sent as
//! `application/scim+json` or `application/json`. Every error is a SCIM
//! Error with `status` as a string and, where one fits, a `scimType`.

use crate::api::json;
use crate::http::{blocking, ApiCaller, ApiResult, JsonBody};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Json, Router};
use plaudit_app::Caller;
use plaudit_domain::scim::{self, filter::parse_filter, invalid_syntax, invalid_value};
use plaudit_domain::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::{json, Value};

pub const CONTENT_TYPE: &str = "application/scim+json";

pub fn routes() -> Router<AppState> {
    let scim = Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(service_provider_config))
        .route("/scim/v2/Schemas", get(list_schemas))
        .route("/scim/v2/Schemas/{id}", get(get_schema))
        .route("/scim/v2/ResourceTypes", get(list_resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(get_resource_type))
        .route("/scim/v2/Users", get(list_users).post(create_user))
        .route("/scim/v2/Users/.search", post(search_users))
        .route("/scim/v2/Users/{id}", get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route("/scim/v2/Groups", get(list_groups).post(create_group))
        .route("/scim/v2/Groups/.search", post(search_groups))
        .route("/scim/v2/Groups/{id}", get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .route("/scim/v2/.search", post(search_all))
        .route("/scim/v2", any(unknown))
        .route("/scim/v2/{*rest}", any(unknown))
        .layer(axum::middleware::from_fn(scim_errors));
    Router::new()
        .route("/api/v1/scim_tokens", post(create_token).get(list_tokens))
        .route("/api/v1/scim_tokens/{id}", delete(revoke_token))
        .route("/api/v1/members/{id}/groups", get(member_groups))
        .merge(scim)
}

// ---------------------------------------------------------------- answers

/// An app error as a SCIM Error.
pub struct ScimError(pub Error);

impl From<Error> for ScimError {
    fn from(e: Error) -> Self {
        ScimError(e)
    }
}

fn scim_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Validation => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden | ErrorKind::PlanLimit => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        other => crate::http::status_of(other),
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut e = self.0;
        let status = scim_status(e.kind);
        if status.is_server_error() {
            tracing::error!(code = e.code, message = %e.message, "SCIM request failed");
            e.message = "something went wrong on our side".into();
        }
        let mut resp =
            (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], scim::error_json(status.as_u16(), &e).to_string())
                .into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"SCIM\""));
        }
        resp
    }
}

type ScimResult<T = Response> = Result<T, ScimError>;

fn scim_json(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], body.to_string()).into_response();
    if let Some(version) = body["meta"]["version"].as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
        resp.headers_mut().insert(header::ETAG, version);
    }
    if status == StatusCode::CREATED {
        if let Some(loc) = body["meta"]["location"].as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
            resp.headers_mut().insert(header::LOCATION, loc);
        }
    }
    resp
}

/// The framework's own refusals under `/scim/` (wrong method, body too
/// large) become SCIM Errors too.
async fn scim_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_scim =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    if is_scim || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (kind, code) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorKind::TooLarge, "payload_too_large"),
        StatusCode::NOT_FOUND => (ErrorKind::NotFound, "not_found"),
        s if s.is_server_error() => (ErrorKind::Internal, "internal"),
        _ => (ErrorKind::Validation, "bad_request"),
    };
    let detail = status.canonical_reason().unwrap_or("error").to_lowercase();
    let body = scim::error_json(status.as_u16(), &Error::new(kind, code, detail));
    let mut out = (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], body.to_string()).into_response();
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// Remembers, against the token, why a SCIM request failed (not 401/404,
/// which are a wrong token or an ordinary look-up), so admins can see what
/// their identity provider's mapping gets wrong.
pub async fn record_failures(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/scim/") {
        return next.run(req).await;
    }
    let token = bearer(req.headers()).map(str::to_string);
    let what = format!("{} {}", req.method(), req.uri().path().trim_start_matches("/scim/v2"));
    let resp = next.run(req).await;
    let status = resp.status();
    let Some(token) = token else { return resp };
    if status.is_success() || status.is_redirection() || matches!(status.as_u16(), 401 | 404) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let err: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let kind = err["scimType"].as_str().map(|t| format!(" {t}")).unwrap_or_default();
    let message = format!("{what}: {}{kind}: {}", status.as_u16(), err["detail"].as_str().unwrap_or(""));
    if let Err(e) = blocking(&state.app, move |app| app.record_scim_error(&token, &message)).await {
        tracing::warn!(message = %e.0.message, "could not record a SCIM failure");
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

async fn unknown() -> ScimError {
    ScimError(Error::not_found("SCIM endpoint"))
}

// ---------------------------------------------------------------- requests

/// The organisation's admin behind `Authorization: Bearer <SCIM token>`.
pub struct ScimCaller(pub Caller);

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let missing = || {
            ScimError(Error::new(
                ErrorKind::Unauthenticated,
                "unauthenticated",
                "send Authorization: Bearer <SCIM token>",
            ))
        };
        let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(missing)?;
        let (scheme, token) = auth.trim().split_once(' ').ok_or_else(missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(missing());
        }
        let token = token.trim().to_string();
        let caller = blocking(&state.app, move |app| app.scim_caller(&token)).await.map_err(|e| ScimError(e.0))?;
        Ok(ScimCaller(caller))
    }
}

/// A SCIM request body: JSON sent as `application/scim+json` or `application/json`.
fn body_json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|e| ScimError(invalid_syntax(format!("the body is not JSON: {e}"))))
}

/// The SCIM base URL, e.g. `https://plaudit.example.com/scim/v2`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let public = state.options.public_url.trim_end_matches('/');
    if !public.is_empty() {
        return format!("{public}/scim/v2");
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}/scim/v2")
}

async fn run<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&plaudit_app::App) -> plaudit_domain::Result<T> + Send + 'static,
) -> ScimResult<T> {
    blocking(&state.app, f).await.map_err(|e| ScimError(e.0))
}

/// List parameters, from the query string or a SearchRequest body.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListParams {
    pub filter: Option<String>,
    pub start_index: Option<Value>,
    pub count: Option<Value>,
    pub attributes: Option<Value>,
    pub excluded_attributes: Option<Value>,
}

fn number(v: &Option<Value>, name: &str) -> Result<Option<i64>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64()),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| ScimError(invalid_value(format!("{name} must be a whole number"))))
        }
        Some(_) => Err(ScimError(invalid_value(format!("{name} must be a whole number")))),
    }
}

/// `attributes` as a comma-separated string or (in a SearchRequest) a list.
fn names(v: &Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        _ => String::new(),
    }
}

impl ListParams {
    fn from_query(q: &[(String, String)]) -> ListParams {
        let get = |k: &str| q.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
        ListParams {
            filter: get("filter"),
            start_index: get("startIndex").map(Value::String),
            count: get("count").map(Value::String),
            attributes: get("attributes").map(Value::String),
            excluded_attributes: get("excludedAttributes").map(Value::String),
        }
    }

    fn from_body(body: &Value) -> Result<ListParams, ScimError> {
        let mut lower = serde_json::Map::new();
        if let Value::Object(map) = body {
            for (k, v) in map {
                // Keys are case-insensitive; map them onto the field names.
                let key = ["filter", "startIndex", "count", "attributes", "excludedAttributes"]
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(k))
                    .map_or(k.clone(), |f| f.to_string());
                lower.insert(key, v.clone());
            }
        }
        lower.remove("schemas");
        serde_json::from_value(Value::Object(lower))
            .map_err(|e| ScimError(invalid_value(format!("bad SearchRequest: {e}"))))
    }
}

fn bounds(p: &ListParams) -> Result<(usize, usize), ScimError> {
    Ok(scim::page_bounds(number(&p.start_index, "startIndex")?, number(&p.count, "count")?))
}

/// A ListResponse of one page, with `attributes`/`excludedAttributes` applied.
fn list_answer(total: usize, page: Vec<Value>, start: usize, p: &ListParams) -> ScimResult {
    let (attrs, excluded) = (names(&p.attributes), names(&p.excluded_attributes));
    let page = page.iter().map(|r| scim::project(r, &attrs, &excluded)).collect();
    Ok(scim_json(StatusCode::OK, scim::list_response(total, page, start)))
}

/// A ListResponse of everything in `items` that is on the requested page.
fn list_all(items: Vec<Value>, p: &ListParams) -> ScimResult {
    let (start, count) = bounds(p)?;
    let (total, page) = scim::page_of(items, start, count);
    list_answer(total, page, start, p)
}

fn parsed_filter(p: &ListParams) -> Result<Option<scim::filter::Filter>, ScimError> {
    match p.filter.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(f) => Ok(Some(parse_filter(f)?)),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Users,
    Groups,
}

async fn list(state: AppState, caller: Caller, base: String, kind: Kind, p: ListParams) -> ScimResult {
    let filter = parsed_filter(&p)?;
    let (start, count) = bounds(&p)?;
    let (total, page) = run(&state, move |app| match kind {
        Kind::Users => app.scim_users(&caller, filter.as_ref(), start, count, &base),
        Kind::Groups => Ok(scim::page_of(app.scim_groups(&caller, filter.as_ref(), &base)?, start, count)),
    })
    .await?;
    list_answer(total, page, start, &p)
}

fn one(resource: Value, q: &[(String, String)]) -> Response {
    let p = ListParams::from_query(q);
    scim_json(StatusCode::OK, scim::project(&resource, &names(&p.attributes), &names(&p.excluded_attributes)))
}

// ---------------------------------------------------------------- discovery

async fn service_provider_config(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": format!("{}/admin/integrations/scim", base.trim_end_matches("/scim/v2")),
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": scim::MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A SCIM token an admin creates on the SCIM integration page",
                "primary": true,
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
        }),
    )
}

fn by_id(items: Vec<Value>, id: &str, what: &str) -> ScimResult {
    items
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .map(|s| scim_json(StatusCode::OK, s))
        .ok_or_else(|| ScimError(Error::not_found(what)))
}

async fn list_schemas(State(state): State<AppState>, headers: HeaderMap) -> ScimResult {
    let items = scim::schemas(&base_url(&state, &headers));
    let n = items.len() as i64;
    list_all(items, &ListParams { count: Some(json!(n)), ..Default::default() })
}

async fn get_schema(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> ScimResult {
    by_id(scim::schemas(&base_url(&state, &headers)), &id, "Schema")
}

async fn list_resource_types(State(state): State<AppState>, headers: HeaderMap) -> ScimResult {
    list_all(scim::resource_types(&base_url(&state, &headers)), &ListParams::default())
}

async fn get_resource_type(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> ScimResult {
    by_id(scim::resource_types(&base_url(&state, &headers)), &id, "ResourceType")
}

// ---------------------------------------------------------------- users

type Q = Query<Vec<(String, String)>>;

async fn list_users(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Query(q): Q,
) -> ScimResult {
    let base = base_url(&state, &headers);
    list(state, c, base, Kind::Users, ListParams::from_query(&q)).await
}

async fn search_users(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let p = ListParams::from_body(&body_json(&body)?)?;
    let base = base_url(&state, &headers);
    list(state, c, base, Kind::Users, p).await
}

async fn get_user(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Q,
) -> ScimResult {
    let base = base_url(&state, &headers);
    let user = run(&state, move |app| app.scim_user(&c, &id, &base)).await?;
    Ok(one(user, &q))
}

async fn create_user(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let body = body_json(&body)?;
    let base = base_url(&state, &headers);
    let user = run(&state, move |app| app.scim_create_user(&c, &body, &base)).await?;
    Ok(scim_json(StatusCode::CREATED, user))
}

async fn replace_user(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let body = body_json(&body)?;
    let base = base_url(&state, &headers);
    let user = run(&state, move |app| app.scim_replace_user(&c, &id, &body, &base)).await?;
    Ok(scim_json(StatusCode::OK, user))
}

async fn patch_user(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let body = body_json(&body)?;
    let base = base_url(&state, &headers);
    let user = run(&state, move |app| app.scim_patch_user(&c, &id, &body, &base)).await?;
    Ok(scim_json(StatusCode::OK, user))
}

async fn delete_user(State(state): State<AppState>, ScimCaller(c): ScimCaller, Path(id): Path<String>) -> ScimResult {
    run(&state, move |app| app.scim_delete_user(&c, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- groups

async fn list_groups(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Query(q): Q,
) -> ScimResult {
    let base = base_url(&state, &headers);
    list(state, c, base, Kind::Groups, ListParams::from_query(&q)).await
}

async fn search_groups(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let p = ListParams::from_body(&body_json(&body)?)?;
    let base = base_url(&state, &headers);
    list(state, c, base, Kind::Groups, p).await
}

/// `POST /.search` at the root: Users, then Groups.
async fn search_all(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let p = ListParams::from_body(&body_json(&body)?)?;
    let filter = parsed_filter(&p)?;
    let base = base_url(&state, &headers);
    let items = run(&state, move |app| {
        let (_, mut all) = app.scim_users(&c, filter.as_ref(), 1, usize::MAX, &base)?;
        all.extend(app.scim_groups(&c, filter.as_ref(), &base)?);
        Ok(all)
    })
    .await?;
    list_all(items, &p)
}

async fn get_group(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Q,
) -> ScimResult {
    let base = base_url(&state, &headers);
    let group = run(&state, move |app| app.scim_group(&c, &id, &base)).await?;
    Ok(one(group, &q))
}

async fn create_group(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let body = body_json(&body)?;
    let base = base_url(&state, &headers);
    let group = run(&state, move |app| app.scim_create_group(&c, &body, &base)).await?;
    Ok(scim_json(StatusCode::CREATED, group))
}

async fn replace_group(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let body = body_json(&body)?;
    let base = base_url(&state, &headers);
    let group = run(&state, move |app| app.scim_replace_group(&c, &id, &body, &base)).await?;
    Ok(scim_json(StatusCode::OK, group))
}

async fn patch_group(
    State(state): State<AppState>,
    ScimCaller(c): ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let body = body_json(&body)?;
    let base = base_url(&state, &headers);
    let group = run(&state, move |app| app.scim_patch_group(&c, &id, &body, &base)).await?;
    Ok(scim_json(StatusCode::OK, group))
}

async fn delete_group(State(state): State<AppState>, ScimCaller(c): ScimCaller, Path(id): Path<String>) -> ScimResult {
    run(&state, move |app| app.scim_delete_group(&c, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- admin API

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TokenBody {
    pub name: String,
}

pub fn token_json(t: &plaudit_store::ScimToken) -> Value {
    json!({
        "id": t.id, "name": t.name, "created_at": json::time(t.created_at), "created_by": t.created_by,
        "last_used_at": t.last_used_at.map(json::time),
        "last_error": t.last_error.as_ref().map(|(message, at)| json!({"message": message, "at": json::time(*at)})),
    })
}

async fn create_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    JsonBody(b): JsonBody<TokenBody>,
) -> ApiResult<impl IntoResponse> {
    let base = base_url(&state, &headers);
    let (raw, token) = blocking(&state.app, move |app| app.create_scim_token(&caller, &b.name)).await?;
    let mut body = token_json(&token);
    body["token"] = raw.into();
    body["scim_base_url"] = base.into();
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list_tokens(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let tokens = blocking(&state.app, move |app| app.list_scim_tokens(&caller)).await?;
    Ok(Json(json::page(tokens.iter().map(token_json).collect(), None)))
}

async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    blocking(&state.app, move |app| app.revoke_scim_token(&caller, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn member_groups(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let groups = blocking(&state.app, move |app| app.member_groups(&caller, &id)).await?;
    let items =
        groups.iter().map(|g| json!({"id": g.id, "name": g.display_name, "external_id": g.external_id})).collect();
    Ok(Json(json::page(items, None)))
}
