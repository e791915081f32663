//! Admin pages of the chat integrations: Slack (connect with "Add to
//! Slack", the channel for posts, reaction giving, status, last error, a
//! test message, disconnect) and Microsoft Teams (security token and
//! Workflows URL, status, test, disconnect). A failed form shows the page
//! again with the message beside the field and nothing changed.

use super::layout::{checkbox_field, csrf_input, error_summary, html_response, page, Field, FormError, Nav};
use super::{button_post, check_csrf, run, AdminCaller, CsrfForm, PageForm, PageQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::slack::{SlackSettings, SlackStatus};
use plaudit_app::teams::{TeamsSetup, TeamsStatus};
use plaudit_app::Caller;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    pub notice: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SlackForm {
    pub csrf: String,
    pub channel_id: String,
    pub reactions_enabled: Option<String>,
    pub reaction_points: String,
    pub reaction_emoji: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TeamsForm {
    pub csrf: String,
    pub security_token: String,
    pub workflows_url: String,
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".into())
}

fn subnav(current: &str) -> Markup {
    html! {
        nav aria-label="Integrations" {
            ul.tabs {
                li { a href="/admin/integrations/slack" aria-current=[(current == "slack").then_some("page")] { "Slack" } }
                li { a href="/admin/integrations/teams" aria-current=[(current == "teams").then_some("page")] { "Microsoft Teams" } }
            }
        }
    }
}

fn notice_text(notice: &str) -> Option<&'static str> {
    Some(match notice {
        "connected" => "Slack is connected. Choose the channel for posts below.",
        "cancelled" => "The Slack install was cancelled; nothing changed.",
        "saved" => "Saved.",
        "test_sent" => "The test message was sent.",
        "disconnected" => "Disconnected.",
        _ => return None,
    })
}

fn status_block(last_ok: Option<i64>, last_error: Option<&str>, last_error_at: Option<i64>) -> Markup {
    let failing = last_error.is_some() && last_error_at.unwrap_or(0) >= last_ok.unwrap_or(0);
    html! {
        dl.details data-testid="integration-status" {
            dt { "Status" }
            dd { @if failing { span.badge.badge-inactive { "Failing" } } @else { span.badge { "Connected" } } }
            dt { "Last successful call" } dd { (when(last_ok)) }
            dt { "Last error" }
            dd data-testid="last-error" { @match last_error { Some(e) => { (e) " (" (when(last_error_at)) ")" }, None => { "none" } } }
        }
    }
}

/// A failed test message: beside the setting that is missing (422), or
/// what the other service answered (502).
fn test_failure(e: &plaudit_domain::Error, field: &str) -> (FormError, StatusCode) {
    if e.kind == plaudit_domain::ErrorKind::Validation {
        (FormError::from_error(e, &[(field, field)]), StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        (FormError::general(format!("The test message failed: {}", e.message)), StatusCode::BAD_GATEWAY)
    }
}

// ---------------------------------------------------------------- Slack

fn slack_page(
    caller: &Caller,
    status: Option<&SlackStatus>,
    form: &SlackForm,
    error: Option<&FormError>,
    notice: &str,
    status_code: StatusCode,
) -> Response {
    let csrf = caller.csrf_token.as_deref().unwrap_or("");
    let labels = [
        ("channel_id", "Channel for posts"),
        ("reaction_points", "Points per reaction"),
        ("reaction_emoji", "Reaction emoji"),
    ];
    let body = html! {
        h1 { "Integrations" }
        (subnav("slack"))
        h2 { "Slack" }
        @if let Some(n) = notice_text(notice) { p.notice role="status" { (n) } }
        (error_summary(error, &labels))
        @match status {
            None => {
                p { "People recognise each other in Slack with " code { "/plaudit @ana +10 for the launch #teamwork" }
                    ", and recognition is posted to a channel. Slack users are matched to members by their verified e-mail." }
                a.button href="/integrations/slack/install" data-testid="add-to-slack" { "Add to Slack" }
            }
            Some(s) => {
                p { "Linked to the Slack workspace " strong dir="auto" { (s.install.team_name) } " (" code { (s.install.team_id) } ")." }
                (status_block(s.install.last_ok_at, s.install.last_error.as_deref(), s.install.last_error_at))
                form method="post" action="/admin/integrations/slack/settings" novalidate {
                    (csrf_input(csrf))
                    (Field::new("channel_id", "Channel for posts", &form.channel_id)
                        .hint("The channel's id, like C0123ABCD (in Slack: the channel's details, at the bottom). Empty: no posts.")
                        .no_spellcheck()
                        .render(error))
                    (checkbox_field("reactions_enabled", "Reactions give points", form.reactions_enabled.is_some(),
                        Some("A reaction with the emoji below on someone's message gives them points from the reactor's allowance."), error))
                    (Field::new("reaction_points", "Points per reaction", &form.reaction_points).kind("number").render(error))
                    (Field::new("reaction_emoji", "Reaction emoji", &form.reaction_emoji)
                        .hint(&format!("Slack's name of the emoji, without colons. Empty: {} (from your currency).", s.reaction_emoji))
                        .no_spellcheck()
                        .render(error))
                    button.button type="submit" { "Save" }
                }
                form.inline method="post" action="/admin/integrations/slack/test" {
                    (csrf_input(csrf))
                    button.button.button-quiet type="submit" { "Send test message" }
                }
                form.inline method="post" action="/admin/integrations/slack/disconnect" {
                    (csrf_input(csrf))
                    button.button.button-danger type="submit" { "Disconnect" }
                }
                p.muted { "Reinstall with " a href="/integrations/slack/install" { "Add to Slack" } " to renew the bot token." }
            }
        }
    };
    html_response(status_code, page(Some(caller), Nav::Integrations, "Slack", body))
}

fn slack_form_of(s: Option<&SlackStatus>) -> SlackForm {
    match s {
        None => SlackForm::default(),
        Some(s) => SlackForm {
            csrf: String::new(),
            channel_id: s.install.channel_id.clone(),
            reactions_enabled: s.install.reactions_enabled.then(|| "on".into()),
            reaction_points: s.install.reaction_points.to_string(),
            reaction_emoji: s.install.reaction_emoji.clone(),
        },
    }
}

async fn slack_status(state: &AppState, caller: &Caller) -> Result<Option<SlackStatus>, Response> {
    let c = caller.clone();
    run(state, move |app| app.slack_status(&c)).await.map_err(|e| super::layout::error_page(Some(caller), &e))
}

pub async fn slack(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    let status = match slack_status(&state, &caller).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    slack_page(&caller, status.as_ref(), &slack_form_of(status.as_ref()), None, &q.notice, StatusCode::OK)
}

pub async fn slack_save(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(form): PageForm<SlackForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &form.csrf) {
        return r;
    }
    let points = match form.reaction_points.trim() {
        "" => Ok(1),
        p => p.parse::<i64>().map_err(|_| FormError::on("reaction_points", "Enter a whole number, such as 1")),
    };
    let result = match points {
        Err(e) => Err(e),
        Ok(reaction_points) => {
            let settings = SlackSettings {
                channel_id: form.channel_id.clone(),
                reactions_enabled: form.reactions_enabled.is_some(),
                reaction_points,
                reaction_emoji: form.reaction_emoji.clone(),
            };
            let c = caller.clone();
            run(&state, move |app| app.slack_save_settings(&c, &settings)).await.map(|_| ()).map_err(|e| {
                FormError::from_error(
                    &e,
                    &[
                        ("channel_id", "channel_id"),
                        ("reaction_points", "reaction_points"),
                        ("reaction_emoji", "reaction_emoji"),
                    ],
                )
            })
        }
    };
    match result {
        Ok(()) => Redirect::to("/admin/integrations/slack?notice=saved").into_response(),
        Err(e) => {
            let status = match slack_status(&state, &caller).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            slack_page(&caller, status.as_ref(), &form, Some(&e), "", StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn slack_test(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &form.csrf) {
        return r;
    }
    let c = caller.clone();
    match run(&state, move |app| app.slack_test_message(&c)).await {
        Ok(()) => Redirect::to("/admin/integrations/slack?notice=test_sent").into_response(),
        Err(e) => {
            let status = match slack_status(&state, &caller).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            let (fe, code) = test_failure(&e, "channel_id");
            slack_page(&caller, status.as_ref(), &slack_form_of(status.as_ref()), Some(&fe), "", code)
        }
    }
}

pub async fn slack_disconnect(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    button_post(
        &state,
        &caller,
        &form.csrf,
        |app, c| app.slack_disconnect(c),
        |()| "/admin/integrations/slack?notice=disconnected".into(),
    )
    .await
}

// ---------------------------------------------------------------- Teams

#[allow(clippy::too_many_arguments)]
fn teams_page(
    webhook_url: &str,
    caller: &Caller,
    status: Option<&TeamsStatus>,
    form: &TeamsForm,
    error: Option<&FormError>,
    notice: &str,
    status_code: StatusCode,
) -> Response {
    let csrf = caller.csrf_token.as_deref().unwrap_or("");
    let labels = [("security_token", "Security token"), ("workflows_url", "Workflows URL")];
    let body = html! {
        h1 { "Integrations" }
        (subnav("teams"))
        h2 { "Microsoft Teams" }
        @if let Some(n) = notice_text(notice) { p.notice role="status" { (n) } }
        (error_summary(error, &labels))
        p { "In Teams, create an outgoing webhook (a team's " em { "Manage team → Apps → Create an outgoing webhook" }
            ") with this callback URL, then paste the security token Teams shows below." }
        p { code data-testid="teams-webhook-url" { (webhook_url) } }
        p { "People then say " code { "@Plaudit @Ana +10 for the launch #teamwork" } ". Each person links their Teams account once by saying "
            code { "@Plaudit link" } " and opening the link it answers." }
        @if let Some(s) = status {
            (status_block(s.config.last_ok_at, s.config.last_error.as_deref(), s.config.last_error_at))
        }
        form method="post" action="/admin/integrations/teams" novalidate {
            (csrf_input(csrf))
            (Field::new("security_token", "Security token", &form.security_token)
                .hint(if status.is_some() { "Stored; it is never shown again. Paste it again to change the settings." } else { "Shown by Teams once, when you create the outgoing webhook." })
                .kind("password")
                .autocomplete("off")
                .required()
                .render(error))
            (Field::new("workflows_url", "Workflows URL", &form.workflows_url)
                .hint("For posts to a channel: a Workflows \"Post to a channel when a webhook request is received\" URL. Empty: no posts.")
                .kind("url")
                .no_spellcheck()
                .render(error))
            button.button type="submit" { "Save" }
        }
        @if status.is_some() {
            form.inline method="post" action="/admin/integrations/teams/test" {
                (csrf_input(csrf))
                button.button.button-quiet type="submit" { "Send test message" }
            }
            form.inline method="post" action="/admin/integrations/teams/disconnect" {
                (csrf_input(csrf))
                button.button.button-danger type="submit" { "Disconnect" }
            }
        }
    };
    html_response(status_code, page(Some(caller), Nav::Integrations, "Microsoft Teams", body))
}

async fn teams_status(state: &AppState, caller: &Caller) -> Result<Option<TeamsStatus>, Response> {
    let c = caller.clone();
    run(state, move |app| app.teams_status(&c)).await.map_err(|e| super::layout::error_page(Some(caller), &e))
}

pub async fn teams(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    let status = match teams_status(&state, &caller).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    teams_page(
        &state.app.teams_webhook_url(&caller.org),
        &caller,
        status.as_ref(),
        &TeamsForm::default(),
        None,
        &q.notice,
        StatusCode::OK,
    )
}

pub async fn teams_save(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(form): PageForm<TeamsForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &form.csrf) {
        return r;
    }
    let setup = TeamsSetup { security_token: form.security_token.clone(), workflows_url: form.workflows_url.clone() };
    let c = caller.clone();
    match run(&state, move |app| app.teams_configure(&c, &setup)).await {
        Ok(_) => Redirect::to("/admin/integrations/teams?notice=saved").into_response(),
        Err(e) => {
            let status = match teams_status(&state, &caller).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            let fe =
                FormError::from_error(&e, &[("security_token", "security_token"), ("workflows_url", "workflows_url")]);
            // The token is a secret: it is not echoed back into the form.
            let kept = TeamsForm { security_token: String::new(), ..form };
            teams_page(
                &state.app.teams_webhook_url(&caller.org),
                &caller,
                status.as_ref(),
                &kept,
                Some(&fe),
                "",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

pub async fn teams_test(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &form.csrf) {
        return r;
    }
    let c = caller.clone();
    match run(&state, move |app| app.teams_test_message(&c)).await {
        Ok(()) => Redirect::to("/admin/integrations/teams?notice=test_sent").into_response(),
        Err(e) => {
            let status = match teams_status(&state, &caller).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            let (fe, code) = test_failure(&e, "workflows_url");
            teams_page(
                &state.app.teams_webhook_url(&caller.org),
                &caller,
                status.as_ref(),
                &TeamsForm::default(),
                Some(&fe),
                "",
                code,
            )
        }
    }
}

pub async fn teams_disconnect(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    button_post(
        &state,
        &caller,
        &form.csrf,
        |app, c| app.teams_disconnect(c),
        |()| "/admin/integrations/teams?notice=disconnected".into(),
    )
    .await
}

/// `/admin/integrations`: every integration, whether it is set up, its last
/// error, and the way to its own page.
pub async fn overview(State(state): State<AppState>, AdminCaller(caller): AdminCaller) -> Response {
    let c = caller.clone();
    let statuses = match run(&state, move |app| app.integration_statuses(&c)).await {
        Ok(s) => s,
        Err(e) => return super::layout::error_page(Some(&caller), &e),
    };
    let body = html! {
        h1 { "Integrations" }
        p.hint { "Connect Plaudit to the tools your organisation already uses." }
        ul.integrations data-testid="integrations" {
            @for s in &statuses {
                li.card {
                    h2 { a href=(s.path) { (s.name) } }
                    p { (s.what) }
                    p {
                        strong { @if s.connected { "Connected" } @else { "Not connected" } }
                        " · " (s.detail)
                    }
                    @if let Some(e) = &s.last_error {
                        p.error { "Last error: " (e) }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(Some(&caller), Nav::Integrations, "Integrations", body))
}
