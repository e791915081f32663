//! Integrations with other services, each in its own module with its routes.
//! Endpoints that other services call verify the request's signature on the
//! raw body before reading it.
//!
//! - `slack`: the Slack app (commands, events, interactivity, install)
//! - `teams`: the Microsoft Teams outgoing webhook and account linking
//! - `sso`: sign-in with OpenID Connect, its admin page and API
//! - `scim`: the SCIM 2.0 service provider (`/scim/v2`), tokens by bearer
//! - `email`: the admin's e-mail page (SMTP status, test mail)
//! - `webhooks`: the admin API of outbound webhooks (endpoints, delivery log, redelivery)

pub mod email;
pub mod scim;
pub mod slack;
pub mod sso;
pub mod teams;
pub mod webhooks;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations/slack/commands", post(slack::commands))
        .route("/integrations/slack/events", post(slack::events))
        .route("/integrations/slack/interactivity", post(slack::interactivity))
        .route("/integrations/slack/install", get(slack::install))
        .route("/integrations/slack/oauth/callback", get(slack::oauth_callback))
        .route("/integrations/teams/{org}/webhook", post(teams::webhook))
        .route("/integrations/teams/link", get(teams::link_form).post(teams::link_confirm))
        .route("/api/v1/integrations/sso", get(sso::get_settings).put(sso::put_settings))
        .route("/api/v1/integrations/sso/test", post(sso::test_settings))
        .route("/admin/integrations/sso", get(sso::admin_form).post(sso::admin_save))
        .route("/admin/integrations/sso/test", post(sso::admin_test))
        .route("/auth/oidc/{org}/start", get(sso::start))
        .route("/auth/oidc/{org}/callback", get(sso::callback))
        .merge(email::routes())
        .merge(scim::routes())
        .merge(webhooks::routes())
}
