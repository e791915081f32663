//! Slack's requests: slash commands, events and interactivity, each
//! verified (signature and timestamp over the raw body) before it is read;
//! the install redirect and OAuth callback.
//!
//! Slack wants an answer within 3 seconds. The work runs on the blocking
//! pool; if it is done in time its reply is the answer, otherwise a short
//! acknowledgement is, and the reply goes to the command's `response_url`.
//! Channel announcements are sent after the answer.

use crate::http::ApiError;
use crate::pages::layout::{error_page, status_page};
use crate::pages::{run, PageCaller};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use plaudit_app::chat::ChatReply;
use plaudit_app::slack::{verify_signature, Interaction, SlashCommand};
use plaudit_app::App;
use plaudit_domain::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a request waits for its work before acknowledging without it.
pub const ACK_WITHIN: Duration = Duration::from_millis(2500);

/// A body that verified but cannot be read: 400, never 500.
pub(crate) fn bad_request(message: &str) -> Response {
    let body = json!({
        "type": "https://plaudit.dev/problems/bad_request",
        "title": "Bad Request",
        "status": 400,
        "detail": message,
        "code": "bad_request",
    });
    (StatusCode::BAD_REQUEST, [(axum::http::header::CONTENT_TYPE, "application/problem+json")], body.to_string())
        .into_response()
}

/// Verifies the request with the signing secret; nothing is parsed before.
#[allow(clippy::result_large_err)]
fn verify(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let Some(secret) = state.app.config.slack.signing_secret.as_deref().filter(|s| !s.is_empty()) else {
        tracing::warn!("a Slack request arrived but PLAUDIT_SLACK_SIGNING_SECRET is not set");
        return Err(ApiError(Error::new(ErrorKind::Unauthenticated, "signature_invalid", "Slack is not configured"))
            .into_response());
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = plaudit_app::now_ms() / 1000;
    verify_signature(secret, header("x-slack-request-timestamp"), header("x-slack-signature"), body, now)
        .map_err(|e| ApiError(e).into_response())
}

/// Runs `work` on the blocking pool and waits up to [`ACK_WITHIN`] for its
/// answer. `late` gets the answer if it came too late; `after` runs with it
/// once the answer is sent (or handed to `late`).
async fn within_deadline<T: Clone + Send + 'static>(
    app: &App,
    work: impl FnOnce(&App) -> T + Send + 'static,
    late: impl FnOnce(&App, &T) + Send + 'static,
    after: impl FnOnce(&App, &T) + Send + 'static,
) -> Option<T> {
    let (tx, mut rx) = tokio::sync::oneshot::channel::<T>();
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let answer = work(&app);
        if let Err(answer) = tx.send(answer.clone()) {
            late(&app, &answer);
        }
        after(&app, &answer);
    });
    match tokio::time::timeout(ACK_WITHIN, &mut rx).await {
        Ok(Ok(answer)) => Some(answer),
        Ok(Err(_)) => None,
        Err(_) => {
            // Closing first: an answer sent from now on goes to `late`; one that
            // slipped in before the close is still ours.
            rx.close();
            rx.try_recv().ok()
        }
    }
}

fn announce(app: &App, reply: &Option<ChatReply>) {
    if let Some(r) = reply {
        app.announce_reply(r);
    }
}

/// `POST /integrations/slack/commands`.
pub async fn commands(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = verify(&state, &headers, &body) {
        return r;
    }
    let Ok(cmd) = serde_urlencoded::from_bytes::<SlashCommand>(&body) else {
        return bad_request("the body is not a slash command form");
    };
    if cmd.ssl_check == "1" {
        return StatusCode::OK.into_response();
    }
    if cmd.team_id.is_empty() || cmd.user_id.is_empty() {
        return bad_request("the slash command has no team_id or user_id");
    }
    let response_url = cmd.response_url.clone();
    let answer = within_deadline(
        &state.app,
        move |app| app.slack_command(&cmd),
        move |app, reply| {
            if response_url.is_empty() {
                return;
            }
            if let Err(e) = app.slack_respond(&response_url, reply) {
                tracing::warn!(error = %e, "cannot answer a slash command late");
            }
        },
        |app, reply| app.announce_reply(reply),
    )
    .await;
    let text = match answer {
        // Slack parses `<!channel>` and `<url|label>` in answers: names and messages are escaped.
        Some(reply) => plaudit_app::slack::escape(&reply.text),
        None => "Working on it…".to_string(),
    };
    Json(json!({"response_type": "ephemeral", "text": text})).into_response()
}

/// `POST /integrations/slack/events`.
pub async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = verify(&state, &headers, &body) {
        return r;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("the body is not a JSON event");
    };
    if !event.is_object() {
        return bad_request("the body is not a JSON event");
    }
    if let Some(retry) = headers.get("x-slack-retry-num").and_then(|v| v.to_str().ok()) {
        // A retry runs like the original: its event_id makes a repeat a replay.
        tracing::info!(retry, event_id = event["event_id"].as_str().unwrap_or(""), "Slack retried an event");
    }
    let answer = within_deadline(
        &state.app,
        move |app| app.slack_event(&event),
        |_, _| {},
        |app, (_, reply)| announce(app, reply),
    )
    .await;
    match answer.and_then(|(json, _)| json) {
        Some(json) => Json(json).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

/// `POST /integrations/slack/interactivity`.
pub async fn interactivity(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = verify(&state, &headers, &body) {
        return r;
    }
    let Ok(form) = serde_urlencoded::from_bytes::<InteractionForm>(&body) else {
        return bad_request("the body has no payload field");
    };
    let Ok(payload) = serde_json::from_str::<Value>(&form.payload) else {
        return bad_request("the payload is not JSON");
    };
    if !payload.is_object() {
        return bad_request("the payload is not a JSON object");
    }
    let answer = within_deadline(
        &state.app,
        move |app| app.slack_interaction(&payload),
        |_, _| {},
        |app, (_, reply)| announce(app, reply),
    )
    .await;
    match answer {
        Some((Interaction::Json(v), _)) => Json(v).into_response(),
        _ => StatusCode::OK.into_response(),
    }
}

/// `GET /integrations/slack/install`: "Add to Slack" (admins).
pub async fn install(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    let c = caller.clone();
    match run(&state, move |app| app.slack_install_url(&c)).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => slack_error_page(&caller, &e),
    }
}

fn slack_error_page(caller: &plaudit_app::Caller, e: &Error) -> Response {
    match e.kind {
        ErrorKind::Forbidden | ErrorKind::NotFound | ErrorKind::Internal => error_page(Some(caller), e),
        _ => status_page(Some(caller), crate::http::status_of(e.kind), "Slack could not be connected", &e.message),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    code: String,
    state: String,
    error: String,
}

/// `GET /integrations/slack/oauth/callback`.
pub async fn oauth_callback(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if !q.error.is_empty() {
        return Redirect::to("/admin/integrations/slack?notice=cancelled").into_response();
    }
    let c = caller.clone();
    match run(&state, move |app| app.slack_oauth_callback(&c, &q.code, &q.state)).await {
        Ok(_) => Redirect::to("/admin/integrations/slack?notice=connected").into_response(),
        Err(e) => slack_error_page(&caller, &e),
    }
}
