//! Endpoints and admin pages of the integrations (`/admin/integrations/<name>`).

pub mod email;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new().merge(email::routes())
}
