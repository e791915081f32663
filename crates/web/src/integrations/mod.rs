//! Integrations with the tools an organisation already uses. Each one has
//! its own module and routes.
//!
//! - `scim`: SCIM 2.0 provisioning from an identity provider (`/scim/v2`)

pub mod scim;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new().merge(scim::routes())
}
