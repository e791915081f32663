//! Integrations with other services, each in its own module with its routes.
//!
//! - `sso`: sign-in with OpenID Connect, its admin page and API
//! - `webhooks`: the admin API of outbound webhooks (endpoints, delivery log, redelivery)

pub mod sso;
pub mod webhooks;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations/sso", get(sso::get_settings).put(sso::put_settings))
        .route("/api/v1/integrations/sso/test", post(sso::test_settings))
        .route("/admin/integrations/sso", get(sso::admin_form).post(sso::admin_save))
        .route("/admin/integrations/sso/test", post(sso::admin_test))
        .route("/auth/oidc/{org}/start", get(sso::start))
        .route("/auth/oidc/{org}/callback", get(sso::callback))
        .merge(webhooks::routes())
}
