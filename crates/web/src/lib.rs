//! Plaudit over HTTP: the JSON API (`api/`), the server-rendered web app
//! (`pages/`), and what both share: errors, callers and CSRF (`http`).
//! Handlers stay thin: parse, call the app, shape the answer.

pub mod api;
pub mod http;
pub mod integrations;
pub mod pages;

use axum::Router;
use plaudit_app::App;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// Mark cookies `Secure` (the public URL is HTTPS).
    pub secure_cookies: bool,
    /// The external base URL, for links.
    pub public_url: String,
}

/// Request counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub responses_2xx: AtomicU64,
    pub responses_4xx: AtomicU64,
    pub responses_5xx: AtomicU64,
    pub started_at_ms: AtomicU64,
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub options: Arc<WebOptions>,
    pub metrics: Arc<Metrics>,
}

/// The whole HTTP surface.
pub fn router(app: App, options: WebOptions) -> Router {
    let metrics = Arc::new(Metrics::default());
    metrics.started_at_ms.store(plaudit_app::now_ms() as u64, std::sync::atomic::Ordering::Relaxed);
    let state = AppState { app, options: Arc::new(options), metrics };
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(integrations::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::count_requests))
        .layer(axum::middleware::from_fn(http::api_problems))
        .layer(axum::middleware::from_fn(http::security_headers))
        .with_state(state)
}
