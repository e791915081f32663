//! Endpoints that other services call (Slack, Microsoft Teams). Each
//! verifies the request's signature on the raw body before reading it.

pub mod slack;
pub mod teams;

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
}
