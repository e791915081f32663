//! Sign-up, sign-in and sign-out.
//!
//! Before there is a session, forms are protected by a double-submit token:
//! a short-lived `plaudit_csrf` cookie (HttpOnly, SameSite=Strict) and the
//! same value in a hidden field; a post whose two values differ is refused.

use super::layout::{error_summary, html_response, page, Field, FormError, Nav};
use super::{check_csrf, query_string, run, safe_next, CsrfForm, PageCaller, PageForm, PageQuery};
use crate::http::{clear_session_cookie, cookie, csrf_matches, session_cookie, SESSION_COOKIE};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::orgs::NewOrg;
use plaudit_app::sso::SsoOffer;
use plaudit_app::NewSession;
use plaudit_domain::org::Plan;
use plaudit_domain::ErrorKind;
use serde::Deserialize;

pub const FORM_CSRF_COOKIE: &str = "plaudit_csrf";
const FORM_CSRF_MAX_AGE_SECS: i64 = 30 * 60;

fn plausible_token(t: &str) -> bool {
    (16..=128).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The pre-session token of this browser, or a new one.
fn form_token(headers: &HeaderMap) -> String {
    match cookie(headers, FORM_CSRF_COOKIE) {
        Some(t) if plausible_token(t) => t.to_string(),
        _ => plaudit_app::auth::random_token(),
    }
}

fn form_token_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{FORM_CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

fn with_cookie(mut resp: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A form page that (re)sets the pre-session token it carries.
fn form_page(state: &AppState, status: StatusCode, token: &str, markup: Markup) -> Response {
    let resp = html_response(status, markup);
    with_cookie(resp, &form_token_cookie(token, FORM_CSRF_MAX_AGE_SECS, state.options.secure_cookies))
}

/// Whether a pre-session form post carries the token its cookie holds.
fn form_token_ok(headers: &HeaderMap, sent: &str) -> bool {
    csrf_matches(cookie(headers, FORM_CSRF_COOKIE), sent)
}

fn expired_form() -> FormError {
    FormError::general(
        "This form had expired or was not sent from this site. Please check the details and send it again.",
    )
}

/// Signs the new session in: its cookie, the pre-session token dropped, and on to `to`.
pub(crate) fn signed_in(state: &AppState, s: &NewSession, to: &str) -> Response {
    let max_age = (s.expires_at - plaudit_app::now_ms()) / 1000;
    let resp = Redirect::to(to).into_response();
    let resp = with_cookie(resp, &session_cookie(&s.token, max_age, state.options.secure_cookies));
    with_cookie(resp, &form_token_cookie("", 0, state.options.secure_cookies))
}

// ---------------------------------------------------------------- sign-up

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    pub csrf: String,
    pub org_name: String,
    pub org_slug: String,
    pub timezone: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

/// The app's field names and this form's inputs.
const SIGNUP_FIELDS: &[(&str, &str)] = &[
    ("name", "org_name"),
    ("slug", "org_slug"),
    ("timezone", "timezone"),
    ("display_name", "name"),
    ("email", "email"),
    ("password", "password"),
];

const SIGNUP_LABELS: &[(&str, &str)] = &[
    ("org_name", "Organisation name"),
    ("org_slug", "Short name"),
    ("timezone", "Time zone"),
    ("name", "Your name"),
    ("email", "E-mail"),
    ("password", "Password"),
];

fn signup_disabled_page() -> Response {
    let body = html! {
        div.narrow {
            h1 { "Create an organisation" }
            div.notice.notice-warning role="status" {
                p { "Sign-up is turned off on this server. Ask its operator to create an organisation for you." }
            }
            p { "Already have an account? " a href="/signin" { "Sign in" } }
        }
    };
    html_response(StatusCode::FORBIDDEN, page(None, Nav::None, "Sign-up is turned off", body))
}

fn signup_page(token: &str, f: &SignupForm, error: Option<&FormError>) -> Markup {
    let body = html! {
        div.narrow {
            h1 { "Create an organisation" }
            p.lead { "Start recognising the people you work with. Free for up to 50 active members." }
            (error_summary(error, SIGNUP_LABELS))
            form.form method="post" action="/signup" novalidate {
                input type="hidden" name="csrf" value=(token);
                fieldset {
                    legend { "Your organisation" }
                    (Field::new("org_name", "Organisation name", &f.org_name).required().autocomplete("organization").render(error))
                    (Field::new("org_slug", "Short name", &f.org_slug).required().no_spellcheck()
                        .hint("Lower-case letters, digits and hyphens, e.g. acme. Everyone uses it to sign in.").render(error))
                    (Field::new("timezone", "Time zone", &f.timezone).list("timezones").no_spellcheck().fill_timezone()
                        .hint("An IANA time zone such as Europe/Oslo; months and anniversaries follow it. Empty means UTC.").render(error))
                    (timezone_datalist())
                }
                fieldset {
                    legend { "You, the owner" }
                    (Field::new("name", "Your name", &f.name).required().autocomplete("name").render(error))
                    (Field::new("email", "E-mail", &f.email).kind("email").required().autocomplete("email").no_spellcheck().render(error))
                    (Field::new("password", "Password", "").kind("password").required().autocomplete("new-password")
                        .hint("At least 10 characters.").render(error))
                }
                div.actions { button.button type="submit" { "Create organisation" } }
            }
            p { "Already have an account? " a href="/signin" { "Sign in" } }
        }
    };
    page(None, Nav::None, "Create an organisation", body)
}

/// The time zones the server knows, as suggestions for a time zone input.
pub fn timezone_datalist() -> Markup {
    let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.as_str().to_string()).collect();
    names.retain(|n| n.contains('/') || n == "UTC");
    names.sort();
    html! {
        datalist #timezones {
            @for n in &names { option value=(n) {} }
        }
    }
}

pub async fn signup_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.app.config.signup_enabled {
        return signup_disabled_page();
    }
    let token = form_token(&headers);
    form_page(&state, StatusCode::OK, &token, signup_page(&token, &SignupForm::default(), None))
}

pub async fn signup(State(state): State<AppState>, headers: HeaderMap, PageForm(f): PageForm<SignupForm>) -> Response {
    if !state.app.config.signup_enabled {
        return signup_disabled_page();
    }
    let token = form_token(&headers);
    if !form_token_ok(&headers, &f.csrf) {
        return form_page(&state, StatusCode::FORBIDDEN, &token, signup_page(&token, &f, Some(&expired_form())));
    }
    let new = NewOrg {
        name: f.org_name.clone(),
        slug: f.org_slug.trim().to_lowercase(),
        timezone: f.timezone.clone(),
        plan: Plan::Free,
        owner_email: f.email.clone(),
        owner_name: f.name.clone(),
        owner_password: Some(f.password.clone()),
    };
    if f.name.trim().is_empty() {
        let e = FormError::on("name", "Enter your name");
        return form_page(&state, StatusCode::UNPROCESSABLE_ENTITY, &token, signup_page(&token, &f, Some(&e)));
    }
    match run(&state, move |app| app.sign_up(new)).await {
        Ok((_, session)) => signed_in(&state, &session, "/directory"),
        Err(e) if e.code == "signup_disabled" => signup_disabled_page(),
        Err(e) => {
            let status = crate::http::status_of(e.kind);
            let fe = FormError::from_error(&e, SIGNUP_FIELDS);
            form_page(&state, status, &token, signup_page(&token, &f, Some(&fe)))
        }
    }
}

// ---------------------------------------------------------------- sign-in

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SigninForm {
    pub csrf: String,
    pub org: String,
    pub email: String,
    pub password: String,
    pub next: String,
    /// Set by the "single sign-on" button: go to the organisation's provider instead.
    pub sso: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SigninQuery {
    pub org: String,
    pub next: String,
    pub signed_out: String,
    pub reset: String,
}

const SIGNIN_LABELS: &[(&str, &str)] = &[("org", "Organisation"), ("email", "E-mail"), ("password", "Password")];

fn signin_page(
    state: &AppState,
    token: &str,
    f: &SigninForm,
    error: Option<&FormError>,
    notice: Option<&str>,
    offer: Option<&SsoOffer>,
) -> Markup {
    let body = html! {
        div.narrow {
            h1 { "Sign in" }
            @if let Some(n) = notice { div.notice role="status" { p { (n) } } }
            (error_summary(error, SIGNIN_LABELS))
            @if let Some(o) = offer {
                div.card.sso-offer data-testid="sso-offer" {
                    p { span dir="auto" { (o.org_name) } " signs you in with your company account." }
                    a.button href=(sso_start_url(&o.org_slug, &f.next)) { "Sign in with SSO" }
                    @if o.require_sso { p.muted { "Only owners may sign in with a password." } }
                }
            }
            form.form.card method="post" action="/signin" novalidate {
                input type="hidden" name="csrf" value=(token);
                @if !f.next.is_empty() { input type="hidden" name="next" value=(safe_next(&f.next)); }
                (Field::new("org", "Organisation", &f.org).required().no_spellcheck().autocomplete("organization")
                    .hint("Your organisation's short name, e.g. acme.").render(error))
                (Field::new("email", "E-mail", &f.email).kind("email").required().autocomplete("username").no_spellcheck().render(error))
                (Field::new("password", "Password", "").kind("password").required().autocomplete("current-password").render(error))
                div.actions {
                    button.button type="submit" { "Sign in" }
                    button.button.button-quiet type="submit" name="sso" value="1" { "Use single sign-on (SSO)" }
                }
            }
            p { a href={ "/forgot-password" @if !f.org.is_empty() { "?" (query_string(&[("org", &f.org)])) } } { "Forgot password?" } }
            @if state.app.config.signup_enabled {
                p { "New to Plaudit? " a href="/signup" { "Create an organisation" } }
            }
        }
    };
    page(None, Nav::None, "Sign in", body)
}

pub async fn signin_form(
    State(state): State<AppState>,
    caller: Option<PageCaller>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<SigninQuery>,
) -> Response {
    if caller.is_some() {
        return Redirect::to(safe_next(&q.next)).into_response();
    }
    let token = form_token(&headers);
    let notice = if !q.reset.is_empty() {
        Some("Your new password is set and every old session is signed out. Sign in with the new password.")
    } else {
        (!q.signed_out.is_empty()).then_some("You are signed out.")
    };
    let offer = sso_offer(&state, &q.org).await;
    let f = SigninForm { org: q.org, next: q.next, ..Default::default() };
    form_page(&state, StatusCode::OK, &token, signin_page(&state, &token, &f, None, notice, offer.as_ref()))
}

/// Where "Sign in with SSO" starts, coming back to `next`.
fn sso_start_url(org_slug: &str, next: &str) -> String {
    let next = if next.is_empty() { "" } else { safe_next(next) };
    let query = query_string(&[("next", next)]);
    let sep = if query.is_empty() { "" } else { "?" };
    format!("/auth/oidc/{}/start{sep}{query}", super::encode_component(org_slug))
}

/// The organisation's SSO, when it has it turned on (errors just hide the button).
async fn sso_offer(state: &AppState, org: &str) -> Option<SsoOffer> {
    let org = org.trim().to_lowercase();
    if org.is_empty() {
        return None;
    }
    run(state, move |app| app.sso_offer(&org)).await.ok().flatten()
}

pub async fn signin(State(state): State<AppState>, headers: HeaderMap, PageForm(f): PageForm<SigninForm>) -> Response {
    let token = form_token(&headers);
    if !form_token_ok(&headers, &f.csrf) {
        return form_page(
            &state,
            StatusCode::FORBIDDEN,
            &token,
            signin_page(&state, &token, &f, Some(&expired_form()), None, None),
        );
    }
    if !f.sso.is_empty() {
        if f.org.trim().is_empty() {
            let e = FormError::on("org", "Enter your organisation's short name to sign in with SSO");
            return form_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                signin_page(&state, &token, &f, Some(&e), None, None),
            );
        }
        // Back to this page, which then offers the organisation's SSO: a form's
        // redirect straight to the provider would break the `form-action 'self'` policy.
        return match sso_offer(&state, &f.org).await {
            Some(o) => {
                let next = if f.next.is_empty() { "" } else { safe_next(&f.next) };
                Redirect::to(&format!("/signin?{}", query_string(&[("org", &o.org_slug), ("next", next)])))
                    .into_response()
            }
            None => {
                let e = FormError::on("org", "This organisation does not offer sign-in with SSO; use your password");
                form_page(&state, StatusCode::NOT_FOUND, &token, signin_page(&state, &token, &f, Some(&e), None, None))
            }
        };
    }
    let missing = [
        ("org", &f.org, "Enter your organisation's short name"),
        ("email", &f.email, "Enter your e-mail"),
        ("password", &f.password, "Enter your password"),
    ]
    .into_iter()
    .find(|(_, v, _)| v.trim().is_empty());
    if let Some((field, _, message)) = missing {
        let e = FormError::on(field, message);
        return form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &token,
            signin_page(&state, &token, &f, Some(&e), None, None),
        );
    }
    let (org, email, password) = (f.org.trim().to_lowercase(), f.email.clone(), f.password.clone());
    match run(&state, move |app| app.sign_in(&org, &email, &password)).await {
        Ok(session) => signed_in(&state, &session, safe_next(&f.next)),
        Err(e) => {
            let status = crate::http::status_of(e.kind);
            let fe = match e.code {
                "invalid_credentials" => {
                    FormError::general("The organisation, e-mail or password is wrong. Check them and try again.")
                }
                "sso_required" => FormError::general(
                    "Your organisation signs you in with SSO, not a password. Use “Sign in with SSO”.",
                ),
                "member_inactive" => FormError::general(
                    "This account is deactivated. Ask an admin of your organisation to reactivate it.",
                ),
                "rate_limited" => {
                    let wait = e.retry_after.unwrap_or(1);
                    let unit = if wait == 1 { "second" } else { "seconds" };
                    FormError::general(format!("Too many failed sign-ins. Try again in {wait} {unit}."))
                }
                _ => FormError::from_error(&e, &[("org", "org"), ("email", "email"), ("password", "password")]),
            };
            let offer = if e.code == "sso_required" { sso_offer(&state, &f.org).await } else { None };
            let page = signin_page(&state, &token, &f, Some(&fe), None, offer.as_ref());
            let mut resp = form_page(&state, status, &token, page);
            if e.kind == ErrorKind::RateLimited {
                if let Some(secs) = e.retry_after {
                    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
            }
            resp
        }
    }
}

// ---------------------------------------------------------------- sign-out

pub async fn signout(
    State(state): State<AppState>,
    caller: Option<PageCaller>,
    headers: HeaderMap,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    if let Some(PageCaller(caller)) = &caller {
        if let Err(refused) = check_csrf(caller, &f.csrf) {
            return refused;
        }
        if let Some(token) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
            if let Err(e) = run(&state, move |app| app.sign_out(&token)).await {
                return super::layout::error_page(Some(caller), &e);
            }
        }
    }
    let to = format!("/signin?{}", query_string(&[("signed_out", "1")]));
    with_cookie(Redirect::to(&to).into_response(), &clear_session_cookie(state.options.secure_cookies))
}

// ---------------------------------------------------------------- password reset

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    pub csrf: String,
    pub org: String,
    pub email: String,
}

const FORGOT_LABELS: &[(&str, &str)] = &[("org", "Organisation"), ("email", "E-mail")];

fn no_mail_notice() -> Markup {
    html! {
        div.notice.notice-warning role="status" data-testid="no-mail" {
            p { "This server does not send e-mail, so it cannot send you a reset link. Ask an admin of your organisation to set a new password for you." }
        }
    }
}

fn forgot_page(state: &AppState, token: &str, f: &ForgotForm, error: Option<&FormError>, sent: bool) -> Markup {
    let body = html! {
        div.narrow {
            h1 { "Forgot your password?" }
            @if !state.app.mail_configured() {
                (no_mail_notice())
            } @else {
                @if sent {
                    div.notice role="status" data-testid="reset-sent" {
                        p { "If an active account in " strong { (f.org) } " has the e-mail " strong { (f.email) }
                            ", a link to set a new password is on its way. It works once, for an hour." }
                    }
                }
                p.lead { "Give your organisation and e-mail, and we mail you a link to set a new password." }
                (error_summary(error, FORGOT_LABELS))
                form.form.card method="post" action="/forgot-password" novalidate {
                    input type="hidden" name="csrf" value=(token);
                    (Field::new("org", "Organisation", &f.org).required().no_spellcheck().autocomplete("organization")
                        .hint("Your organisation's short name, e.g. acme.").render(error))
                    (Field::new("email", "E-mail", &f.email).kind("email").required().autocomplete("username").no_spellcheck().render(error))
                    div.actions { button.button type="submit" { "Send the link" } }
                }
            }
            p { a href="/signin" { "Back to sign-in" } }
        }
    };
    page(None, Nav::None, "Forgot your password?", body)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotQuery {
    pub org: String,
}

pub async fn forgot_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ForgotQuery>,
) -> Response {
    let token = form_token(&headers);
    let f = ForgotForm { org: q.org, ..Default::default() };
    form_page(&state, StatusCode::OK, &token, forgot_page(&state, &token, &f, None, false))
}

pub async fn forgot(State(state): State<AppState>, headers: HeaderMap, PageForm(f): PageForm<ForgotForm>) -> Response {
    let token = form_token(&headers);
    if !form_token_ok(&headers, &f.csrf) {
        return form_page(
            &state,
            StatusCode::FORBIDDEN,
            &token,
            forgot_page(&state, &token, &f, Some(&expired_form()), false),
        );
    }
    let missing = [("org", &f.org, "Enter your organisation's short name"), ("email", &f.email, "Enter your e-mail")]
        .into_iter()
        .find(|(_, v, _)| v.trim().is_empty());
    if let Some((field, _, message)) = missing {
        let e = FormError::on(field, message);
        return form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &token,
            forgot_page(&state, &token, &f, Some(&e), false),
        );
    }
    let (org, email) = (f.org.trim().to_lowercase(), f.email.trim().to_string());
    match run(&state, move |app| app.request_password_reset(&org, &email)).await {
        Ok(()) => form_page(&state, StatusCode::OK, &token, forgot_page(&state, &token, &f, None, true)),
        Err(e) if e.code == "mail_not_configured" => {
            form_page(&state, StatusCode::SERVICE_UNAVAILABLE, &token, forgot_page(&state, &token, &f, None, false))
        }
        Err(e) => super::layout::error_page(None, &e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    pub csrf: String,
    pub token: String,
    pub password: String,
    pub confirm: String,
}

const RESET_LABELS: &[(&str, &str)] = &[("password", "New password"), ("confirm", "New password again")];

fn reset_page(form_token: &str, reset_token: &str, usable: bool, error: Option<&FormError>) -> Markup {
    let body = html! {
        div.narrow {
            h1 { "Choose a new password" }
            @if !usable {
                div.notice.notice-warning role="status" data-testid="reset-invalid" {
                    p { "This link has expired or was used already. " a href="/forgot-password" { "Ask for a new link" } "." }
                }
            } @else {
                (error_summary(error, RESET_LABELS))
                form.form.card method="post" action="/reset-password" novalidate {
                    input type="hidden" name="csrf" value=(form_token);
                    input type="hidden" name="token" value=(reset_token);
                    (Field::new("password", "New password", "").kind("password").required().autocomplete("new-password")
                        .hint("At least 10 characters. Every session of your account is signed out.").render(error))
                    (Field::new("confirm", "New password again", "").kind("password").required().autocomplete("new-password").render(error))
                    div.actions { button.button type="submit" { "Set the new password" } }
                }
            }
        }
    };
    page(None, Nav::None, "Choose a new password", body)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetQuery {
    pub token: String,
}

pub async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ResetQuery>,
) -> Response {
    let token = form_token(&headers);
    let reset_token = q.token.clone();
    let usable = match run(&state, move |app| app.password_reset_usable(&reset_token)).await {
        Ok(u) => u,
        Err(e) => return super::layout::error_page(None, &e),
    };
    let status = if usable { StatusCode::OK } else { StatusCode::GONE };
    let mut resp = form_page(&state, status, &token, reset_page(&token, &q.token, usable, None));
    // The token is in the address: never leak it to other sites.
    resp.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

pub async fn reset(State(state): State<AppState>, headers: HeaderMap, PageForm(f): PageForm<ResetForm>) -> Response {
    let token = form_token(&headers);
    if !form_token_ok(&headers, &f.csrf) {
        return form_page(
            &state,
            StatusCode::FORBIDDEN,
            &token,
            reset_page(&token, &f.token, true, Some(&expired_form())),
        );
    }
    if f.password != f.confirm {
        let e = FormError::on("confirm", "The two passwords differ");
        return form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &token,
            reset_page(&token, &f.token, true, Some(&e)),
        );
    }
    let (reset_token, password) = (f.token.clone(), f.password.clone());
    match run(&state, move |app| app.reset_password(&reset_token, &password)).await {
        Ok(()) => {
            let to = format!("/signin?{}", query_string(&[("reset", "1")]));
            with_cookie(Redirect::to(&to).into_response(), &form_token_cookie("", 0, state.options.secure_cookies))
        }
        Err(e) if e.code == "reset_token_invalid" => {
            form_page(&state, StatusCode::GONE, &token, reset_page(&token, &f.token, false, None))
        }
        Err(e) => {
            let fe = FormError::from_error(&e, &[("password", "password")]);
            form_page(&state, crate::http::status_of(e.kind), &token, reset_page(&token, &f.token, true, Some(&fe)))
        }
    }
}
