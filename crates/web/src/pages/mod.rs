//! The server-rendered web app.

use crate::AppState;
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(|| async { Redirect::to("/signin") }))
}
