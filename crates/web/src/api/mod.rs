//! The JSON API under `/api/v1`, plus health and metrics.

mod account;
mod directory;
pub mod json;
pub mod openapi;
mod recognition;
mod settings;
mod system;

use crate::AppState;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/signup", post(account::signup))
        .route("/api/v1/session", post(account::sign_in).delete(account::sign_out))
        .route("/api/v1/tokens", post(account::create_token).get(account::list_tokens))
        .route("/api/v1/tokens/{id}", delete(account::revoke_token))
        .route("/api/v1/me", get(account::me))
        .route("/api/v1/org", get(settings::get_org).patch(settings::patch_org))
        .route("/api/v1/audit_log", get(settings::audit_log))
        .route("/api/v1/members", get(directory::list).post(directory::create))
        .route(
            "/api/v1/members/import",
            post(directory::import).layer(axum::extract::DefaultBodyLimit::max(directory::MAX_IMPORT_BYTES)),
        )
        .route("/api/v1/members/{id}", get(directory::get_one).patch(directory::patch))
        .route("/api/v1/me/balance", get(recognition::my_balance))
        .route("/api/v1/members/{id}/balance", get(recognition::member_balance))
        .route("/api/v1/values", get(recognition::list_values).post(recognition::create_value))
        .route("/api/v1/values/{id}", patch(recognition::patch_value))
        .route("/api/v1/recognitions", get(recognition::feed).post(recognition::give))
        .route("/api/v1/recognitions/{id}", get(recognition::get_one))
        .route("/api/v1/recognitions/{id}/addons", post(recognition::add_on))
        .route("/api/v1/recognitions/{id}/reactions", post(recognition::react))
        .route("/api/v1/recognitions/{id}/comments", get(recognition::comments).post(recognition::comment))
        .route("/api/v1/recognitions/{id}/undo", post(recognition::undo))
        .route("/api/v1/recognitions/{id}/hide", post(recognition::hide))
        .route("/api/v1/awards", post(recognition::award))
        .route("/api/v1/allowances", put(recognition::set_allowances))
        .route("/api/v1/ledger", get(recognition::ledger))
        .fallback(system::not_found)
}
