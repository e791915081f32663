//! Which mails a member gets: one switch per kind (password resets always go).

use super::layout::{checkbox_field, csrf_input, error_page, html_response, page, Nav};
use super::{check_csrf, run, PageCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::mail::MailPreferences;
use plaudit_app::Caller;
use plaudit_domain::mail::MailKind;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    pub saved: String,
}

fn notifications_page(state: &AppState, caller: &Caller, prefs: &MailPreferences, saved: bool) -> Markup {
    let body = html! {
        h1 { "Notifications" }
        @if saved { div.notice role="status" { p { "Your choices are saved." } } }
        @if !state.app.mail_configured() {
            div.notice.notice-warning role="status" data-testid="no-mail" {
                p { "This server does not send e-mail at the moment; your choices apply once it does." }
            }
        }
        p.lead { "Mails go to " strong { (caller.member.profile.email) } ". Every mail has a link to stop that kind of mail." }
        form.form method="post" action="/settings/notifications" {
            (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
            fieldset {
                legend { "Send me a mail" }
                @for kind in MailKind::OPTIONAL {
                    (checkbox_field(kind.as_str(), kind.label(), prefs.get(kind.as_str()).copied().unwrap_or(true), None, None))
                }
                p.hint { "Password-reset links are always sent when you ask for one." }
            }
            div.actions { button.button type="submit" { "Save" } }
        }
    };
    page(Some(caller), Nav::None, "Notifications", body)
}

pub async fn form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<SavedQuery>,
) -> Response {
    let c = caller.clone();
    match run(&state, move |app| app.mail_preferences(&c)).await {
        Ok(prefs) => html_response(StatusCode::OK, notifications_page(&state, &caller, &prefs, !q.saved.is_empty())),
        Err(e) => error_page(Some(&caller), &e),
    }
}

/// Checkboxes: a kind is on when its box was sent, off otherwise.
pub async fn save(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Response {
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    if let Err(refused) = check_csrf(&caller, csrf) {
        return refused;
    }
    let changes: Vec<(String, bool)> = MailKind::OPTIONAL
        .into_iter()
        .map(|k| (k.as_str().to_string(), fields.iter().any(|(name, _)| name == k.as_str())))
        .collect();
    let c = caller.clone();
    match run(&state, move |app| app.set_mail_preferences(&c, &changes)).await {
        Ok(_) => Redirect::to("/settings/notifications?saved=1").into_response(),
        Err(e) => error_page(Some(&caller), &e),
    }
}
