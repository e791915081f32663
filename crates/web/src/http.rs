//! What the API and the pages share: running store work off the async
//! threads, problem+json errors, finding the caller, cookies and CSRF.

use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plaudit_app::{App, Caller};
use plaudit_domain::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;

pub const SESSION_COOKIE: &str = "plaudit_session";

/// An error answered as RFC 9457 problem details.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PlanLimit => StatusCode::PAYMENT_REQUIRED,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(e.kind);
        if status.is_server_error() {
            tracing::error!(code = e.code, message = %e.message, "request failed");
        }
        let detail =
            if e.kind == ErrorKind::Internal { "something went wrong on our side".to_string() } else { e.message };
        let mut body = serde_json::json!({
            "type": format!("https://plaudit.dev/problems/{}", e.code),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": detail,
            "code": e.code,
        });
        if let Some(field) = e.field {
            body["field"] = field.into();
        }
        let mut resp = (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
        if let Some(secs) = e.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Runs store work on the blocking pool (the store's drivers are synchronous).
pub async fn blocking<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&App) -> plaudit_domain::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| ApiError(Error::internal(format!("worker failed: {e}"))))?
        .map_err(ApiError)
}

/// A JSON body whose parse errors are problem+json `validation_failed`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(ApiError(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    Error::new(ErrorKind::TooLarge, "payload_too_large", "the request body is too large")
                        .on_field("body")
                }
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::new(
                    ErrorKind::UnsupportedMediaType,
                    "unsupported_media_type",
                    "send the body as JSON with Content-Type: application/json",
                )
                .on_field("body"),
                _ => Error::invalid("body", format!("the request body is not valid: {}", rejection.body_text())),
            })),
        }
    }
}

/// Query parameters whose parse errors are problem+json `validation_failed`
/// (axum's own `Query` answers a plain-text 400).
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(QueryParams(v)),
            Err(rejection) => Err(ApiError(Error::invalid(
                "query",
                format!("the query string is not valid: {}", rejection.body_text()),
            ))),
        }
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The Set-Cookie value of a new session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The caller of an API request: `Authorization: Bearer <token>` or the
/// session cookie. Requests that change something with only a cookie must
/// carry the session's CSRF token in `X-CSRF-Token`.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            let token =
                auth.strip_prefix("Bearer ").ok_or_else(|| ApiError(Error::unauthenticated()))?.trim().to_string();
            let caller = blocking(&state.app, move |app| app.caller_from_api_token(&token)).await?;
            return Ok(ApiCaller(caller));
        }
        let token =
            cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| ApiError(Error::unauthenticated()))?.to_string();
        let caller = blocking(&state.app, move |app| app.caller_from_session(&token)).await?;
        if !parts.method.is_safe() {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !csrf_matches(caller.csrf_token.as_deref(), sent) {
                return Err(ApiError(
                    Error::forbidden("missing or wrong X-CSRF-Token header").with_code("csrf_failed"),
                ));
            }
        }
        Ok(ApiCaller(caller))
    }
}

/// Constant-time comparison of the session's CSRF token with the one sent.
pub fn csrf_matches(expected: Option<&str>, sent: &str) -> bool {
    let Some(expected) = expected else { return false };
    let (a, b) = (expected.as_bytes(), sent.as_bytes());
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts requests and responses for `/metrics`.
pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let resp = next.run(req).await;
    let counter = match resp.status().as_u16() {
        200..=399 => &state.metrics.responses_2xx,
        400..=499 => &state.metrics.responses_4xx,
        _ => &state.metrics.responses_5xx,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    resp
}

/// Headers every answer carries.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.entry("referrer-policy").or_insert(HeaderValue::from_static("same-origin"));
    h.entry("content-security-policy").or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    ));
    resp
}

/// Turns the framework's own plain-text refusals on API paths (wrong
/// method, body too large, wrong content type) into problem+json like
/// every other API error.
pub async fn api_problems(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    let plain = !resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/problem+json") || t.starts_with("application/json"));
    if !is_api || !plain || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let body = serde_json::json!({
        "type": format!("https://plaudit.dev/problems/{code}"),
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": status.canonical_reason().unwrap_or("error").to_lowercase(),
        "code": code,
    });
    let mut out = (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}
