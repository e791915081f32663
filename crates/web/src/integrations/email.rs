//! E-mail: the admin page (SMTP settings as configured, never the password;
//! the queue; a test mail) and the unsubscribe links mails carry, which
//! need no sign-in: the link is signed for one member and one kind of mail.

use crate::pages::layout::{csrf_input, error_page, html_response, page, status_page, Nav};
use crate::pages::{check_csrf, run, AdminCaller, CsrfForm, PageForm};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use plaudit_app::mail::MailStatus;
use plaudit_app::Caller;
use plaudit_domain::mail::{local_time, MailKind};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/integrations/email", get(admin_page))
        .route("/admin/integrations/email/test", post(send_test))
        .route("/unsubscribe/{token}", get(unsubscribe_form).post(unsubscribe))
}

/// The outcome of a test mail, shown above the settings.
enum TestResult {
    Sent(String),
    Failed(String),
}

fn email_page(caller: &Caller, status: &MailStatus, test: Option<&TestResult>) -> Markup {
    let tz = &caller.org.timezone;
    let body = html! {
        h1 { "E-mail" }
        @match test {
            Some(TestResult::Sent(to)) => div.notice role="status" data-testid="test-result" { p { "A test mail was sent to " strong { (to) } "." } },
            Some(TestResult::Failed(why)) => div.error-summary role="alert" data-testid="test-result" { h2 { "The test mail was not sent" } p { (why) } },
            None => {},
        }
        section aria-labelledby="smtp-title" {
            h2 #smtp-title { "Mail server" }
            @if let Some(smtp) = &status.smtp {
                dl.facts data-testid="smtp-settings" {
                    div { dt { "Status" } dd { "Configured" } }
                    div { dt { "Server" } dd { code { (smtp.host) ":" (smtp.port) } } }
                    div { dt { "Encryption" } dd { (smtp.tls.describe()) } }
                    div { dt { "Signs in as" } dd { @if let Some(u) = &smtp.username { code { (u) } } @else { "no sign-in" } } }
                    div { dt { "Sender" } dd { code { (status.from) } } }
                }
            } @else {
                div.notice.notice-warning role="status" data-testid="smtp-settings" {
                    p { "Not configured: no mail is sent. The operator sets " code { "PLAUDIT_SMTP_URL" }
                        " (e.g. " code { "smtps://user:password@mail.example.com:465" } ") and " code { "PLAUDIT_SMTP_FROM" }
                        " and restarts Plaudit. Until then members who forget their password ask an admin." }
                }
            }
        }
        section aria-labelledby="queue-title" {
            h2 #queue-title { "Queue" }
            dl.facts data-testid="mail-queue" {
                div { dt { "Waiting to be sent" } dd data-testid="queued" { (status.queue.queued) } }
                div { dt { "Given up on" } dd data-testid="failed" { (status.queue.failed) } }
                div { dt { "Last error" } dd data-testid="last-error" {
                    @match (&status.queue.last_error, status.queue.last_error_at) {
                        (Some(e), Some(at)) => { code { (e) } " (" (local_time(at, tz).unwrap_or_default()) ")" },
                        (Some(e), None) => code { (e) },
                        _ => "none",
                    }
                } }
            }
            p.hint { "Mail that cannot be delivered is tried again with growing pauses for a day." }
        }
        @if status.smtp.is_some() {
            section aria-labelledby="test-title" {
                h2 #test-title { "Test" }
                form method="post" action="/admin/integrations/email/test" {
                    (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
                    button.button type="submit" { "Send test e-mail to " (caller.member.profile.email) }
                }
            }
        }
    };
    page(Some(caller), Nav::Integrations, "E-mail", body)
}

pub async fn admin_page(State(state): State<AppState>, AdminCaller(caller): AdminCaller) -> Response {
    let c = caller.clone();
    match run(&state, move |app| app.mail_status(&c)).await {
        Ok(status) => html_response(StatusCode::OK, email_page(&caller, &status, None)),
        Err(e) => error_page(Some(&caller), &e),
    }
}

pub async fn send_test(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let c = caller.clone();
    let sent = run(&state, move |app| app.send_test_mail(&c)).await;
    let c = caller.clone();
    let status = match run(&state, move |app| app.mail_status(&c)).await {
        Ok(s) => s,
        Err(e) => return error_page(Some(&caller), &e),
    };
    match sent {
        Ok(to) => html_response(StatusCode::OK, email_page(&caller, &status, Some(&TestResult::Sent(to)))),
        Err(e) => html_response(
            StatusCode::BAD_GATEWAY,
            email_page(&caller, &status, Some(&TestResult::Failed(e.message.clone()))),
        ),
    }
}

fn kind_phrase(kind: MailKind) -> &'static str {
    match kind {
        MailKind::Recognition => "mails when you are recognised",
        MailKind::Redemption => "mails about your redemptions",
        MailKind::Digest => "the weekly digest of unrecognised team members",
        MailKind::CheckInReminder => "check-in reminders for your key results",
        MailKind::PasswordReset => "password-reset mails",
    }
}

fn invalid_link() -> Response {
    status_page(
        None,
        StatusCode::NOT_FOUND,
        "Link not valid",
        "This unsubscribe link is not valid. Sign in and choose your mails under Notifications.",
    )
}

pub async fn unsubscribe_form(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let t = token.clone();
    let target = match run(&state, move |app| app.unsubscribe_info(&t)).await {
        Ok(t) => t,
        Err(_) => return invalid_link(),
    };
    let body = html! {
        div.narrow {
            h1 { "Unsubscribe" }
            p { "Stop " (kind_phrase(target.kind)) " to " strong { (target.email) } " (" (target.org_name) ")?" }
            form method="post" action={ "/unsubscribe/" (token) } {
                button.button type="submit" { "Unsubscribe" }
            }
            p.hint { "Other mails stay as they are. You can turn this back on under Notifications after signing in." }
        }
    };
    html_response(StatusCode::OK, page(None, Nav::None, "Unsubscribe", body))
}

/// The confirmation, and RFC 8058's one-click POST (its body is ignored).
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let target = match run(&state, move |app| app.unsubscribe(&token)).await {
        Ok(t) => t,
        Err(_) => return invalid_link(),
    };
    let body = html! {
        div.narrow {
            h1 { "Unsubscribed" }
            div.notice role="status" data-testid="unsubscribed" {
                p { "You will no longer get " (kind_phrase(target.kind)) " at " strong { (target.email) } "." }
            }
            p { "Change your choices any time: " a href="/settings/notifications" { "Notifications" } "." }
        }
    };
    html_response(StatusCode::OK, page(None, Nav::None, "Unsubscribed", body))
}
