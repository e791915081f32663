//! The JSON API under `/api/v1`, plus health and metrics.

mod account;
mod directory;
mod integrations;
pub mod json;
mod mail;
pub mod okrs;
pub mod openapi;
mod recognition;
pub mod rewards;
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
        .route("/api/v1/me/notifications", get(mail::get_notifications).patch(mail::patch_notifications))
        .route("/api/v1/password_resets", post(mail::request_reset))
        .route("/api/v1/password_resets/confirm", post(mail::confirm_reset))
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
        .route("/api/v1/okr_settings", get(okrs::get_settings).patch(okrs::patch_settings))
        .route("/api/v1/cycles", get(okrs::list_cycles).post(okrs::create_cycle))
        .route("/api/v1/cycles/{id}", get(okrs::get_cycle).patch(okrs::patch_cycle))
        .route("/api/v1/cycles/{id}/close", post(okrs::close_cycle))
        .route("/api/v1/objectives", get(okrs::list_objectives).post(okrs::create_objective))
        .route("/api/v1/objectives/tree", get(okrs::tree))
        .route("/api/v1/objectives/{id}", get(okrs::get_objective).patch(okrs::patch_objective))
        .route("/api/v1/objectives/{id}/key_results", post(okrs::create_key_result))
        .route("/api/v1/key_results/{id}", get(okrs::get_key_result).patch(okrs::patch_key_result))
        .route("/api/v1/key_results/{id}/check_ins", get(okrs::list_check_ins).post(okrs::create_check_in))
        .route("/api/v1/kpis", get(okrs::list_kpis).post(okrs::create_kpi))
        .route("/api/v1/kpis/{id}", get(okrs::get_kpi))
        .route(
            "/api/v1/kpis/{id}/values",
            get(okrs::list_values).post(okrs::post_values).layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route("/api/v1/kpis/{id}/key_results", post(okrs::improve_kpi))
        .route("/api/v1/rewards", get(rewards::list).post(rewards::create))
        .route("/api/v1/rewards/{id}", get(rewards::get_one).patch(rewards::patch))
        .route(
            "/api/v1/rewards/{id}/image",
            put(rewards::put_image)
                .get(rewards::get_image)
                .layer(axum::extract::DefaultBodyLimit::max(rewards::MAX_IMAGE_BODY)),
        )
        .route("/api/v1/redemptions", get(rewards::list_redemptions).post(rewards::redeem))
        .route("/api/v1/redemptions/{id}", get(rewards::get_redemption))
        .route("/api/v1/redemptions/{id}/fulfil", post(rewards::fulfil))
        .route("/api/v1/redemptions/{id}/decline", post(rewards::decline))
        .route("/api/v1/redemptions/{id}/cancel", post(rewards::cancel))
        .route("/api/v1/billing/statements/{month}", get(rewards::get_statement))
        .route(
            "/api/v1/integrations/teams",
            put(integrations::put_teams).get(integrations::get_teams).delete(integrations::delete_teams),
        )
        .fallback(system::not_found)
}
