//! Liveness, readiness and Prometheus metrics.

use crate::http::{blocking, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::atomic::Ordering;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> ApiResult<&'static str> {
    blocking(&state.app, |app| app.store.ping()).await?;
    Ok("ready")
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    let uptime = (plaudit_app::now_ms() as u64).saturating_sub(m.started_at_ms.load(Ordering::Relaxed)) / 1000;
    let body = format!(
        "# HELP plaudit_http_requests_total HTTP requests received.\n\
         # TYPE plaudit_http_requests_total counter\n\
         plaudit_http_requests_total {}\n\
         # HELP plaudit_http_responses_total HTTP responses by status class.\n\
         # TYPE plaudit_http_responses_total counter\n\
         plaudit_http_responses_total{{class=\"2xx\"}} {}\n\
         plaudit_http_responses_total{{class=\"4xx\"}} {}\n\
         plaudit_http_responses_total{{class=\"5xx\"}} {}\n\
         # HELP plaudit_uptime_seconds Seconds since the server started.\n\
         # TYPE plaudit_uptime_seconds gauge\n\
         plaudit_uptime_seconds {uptime}\n",
        m.requests.load(Ordering::Relaxed),
        m.responses_2xx.load(Ordering::Relaxed),
        m.responses_4xx.load(Ordering::Relaxed),
        m.responses_5xx.load(Ordering::Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// Unknown paths: problem+json, or an HTML page for a browser outside `/api/`.
pub async fn not_found(
    state: State<AppState>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    crate::pages::fallback(state, uri, headers).await
}
