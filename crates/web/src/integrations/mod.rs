//! Integrations with other systems. Each has its own module and routes.
//!
//! - `webhooks`: the admin API of outbound webhooks (endpoints, delivery log, redelivery)

pub mod webhooks;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new().merge(webhooks::routes())
}
