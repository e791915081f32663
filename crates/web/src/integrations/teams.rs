//! Microsoft Teams: the outgoing webhook (verified with the organisation's
//! security token before the body is read; answered within 5 seconds with
//! a message reply) and the page where a member links their Teams account.

use super::slack::bad_request;
use crate::http::{blocking, ApiError};
use crate::pages::layout::{csrf_input, error_page, html_response, page, Nav};
use crate::pages::{check_csrf, run, PageCaller, PageForm};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use maud::html;
use plaudit_app::teams::reply_body;
use serde::Deserialize;

/// `POST /integrations/teams/{org}/webhook`.
pub async fn webhook(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let result = blocking(&state.app, move |app| app.teams_webhook(&org, auth.as_deref(), &body)).await;
    match result {
        Ok(reply) => {
            let answer = Json(reply_body(&reply)).into_response();
            let app = state.app.clone();
            // The channel post comes after the reply, off the answer's path.
            tokio::task::spawn_blocking(move || app.announce_reply(&reply));
            answer
        }
        Err(ApiError(e)) if e.code == "bad_request" => bad_request(&e.message),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkQuery {
    code: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    csrf: String,
    code: String,
}

/// `GET /integrations/teams/link?code=`: confirm linking a Teams account.
pub async fn link_form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<LinkQuery>,
) -> Response {
    let c = caller.clone();
    let code = q.code.clone();
    let name = match run(&state, move |app| app.teams_link_preview(&c, &code)).await {
        Ok(n) => n,
        Err(e) => return error_page(Some(&caller), &e),
    };
    let body = html! {
        h1 { "Link your Teams account" }
        p { "Teams user " strong dir="auto" { (if name.is_empty() { "(no name)" } else { name.as_str() }) }
            " will give and receive recognition as " strong dir="auto" { (caller.member.profile.display_name) } " in Plaudit." }
        form method="post" action="/integrations/teams/link" {
            (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
            input type="hidden" name="code" value=(q.code);
            button.button type="submit" { "Link my Teams account" }
        }
    };
    html_response(StatusCode::OK, page(Some(&caller), Nav::None, "Link Teams", body))
}

/// `POST /integrations/teams/link`.
pub async fn link_confirm(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(form): PageForm<LinkForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &form.csrf) {
        return r;
    }
    let c = caller.clone();
    match run(&state, move |app| app.teams_link_confirm(&c, &form.code)).await {
        Ok(()) => {
            let body = html! {
                h1 { "Teams account linked" }
                p { "You can now recognise people in Teams with " code { "@Plaudit @name +10 for …" } "." }
                p { a href="/feed" { "Back to the feed" } }
            };
            html_response(StatusCode::OK, page(Some(&caller), Nav::None, "Teams linked", body))
        }
        Err(e) => error_page(Some(&caller), &e),
    }
}
