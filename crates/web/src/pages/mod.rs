//! The server-rendered web app: maud templates over the same use cases as
//! the API. Every page is plain HTML that works without JavaScript; forms
//! post back to the page they came from and show the app's errors next to
//! the field they are about.
//!
//! - `layout`: the page shell (header, nav, skip link), error pages, form helpers
//! - `account`: sign-up, sign-in, sign-out, forgotten passwords
//! - `recognition`: the feed, giving recognition, reactions, comments, add-ons, undo and hiding
//! - `directory`: the directory, member profiles (with the recognition they got and gave) and the admin's member editor
//! - `admin`: company values, currency, recognition rules and allowances (admins)
//! - `rewards`: the reward catalog, redeeming, my redemptions; the admin's catalog, fulfilment queue and statements
//! - `okrs`: the cycle overview, objectives with their key results and check-ins, KPIs
//! - `settings`: organisation settings
//! - `webhooks`: the admin's webhook endpoints, their delivery logs, tests and redelivery
//! - `scim`: the SCIM provisioning integration (base URL, tokens)
//! - `notifications`: which mails a member gets
//! - `assets`: the embedded stylesheet and script

mod account;
mod admin;
mod assets;
mod directory;
mod integrations;
pub(crate) mod layout;
mod notifications;
mod okrs;
mod recognition;
mod rewards;
mod scim;
mod settings;
mod webhooks;

use crate::http::{blocking, clear_session_cookie, cookie, csrf_matches, SESSION_COOKIE};
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use plaudit_app::{App, Caller};
use plaudit_domain::{Error, ErrorKind};
use serde::de::DeserializeOwned;

pub(crate) use account::signed_in;
pub use layout::not_found_page;
pub(crate) use recognition::time_el;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/signup", get(account::signup_form).post(account::signup))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signout", post(account::signout))
        .route("/forgot-password", get(account::forgot_form).post(account::forgot))
        .route("/reset-password", get(account::reset_form).post(account::reset))
        .route("/settings/notifications", get(notifications::form).post(notifications::save))
        .route("/feed", get(recognition::feed))
        .route("/give", get(recognition::give_form).post(recognition::give))
        .route("/recognitions/{id}/reactions", post(recognition::react))
        .route("/recognitions/{id}/comments", post(recognition::comment))
        .route("/recognitions/{id}/addons", post(recognition::add_on))
        .route("/recognitions/{id}/undo", post(recognition::undo))
        .route("/recognitions/{id}/hide", post(recognition::hide))
        .route("/admin/recognition", get(admin::show_page))
        .route("/admin/recognition/values", post(admin::create_value))
        .route("/admin/recognition/values/{id}", post(admin::update_value))
        .route("/admin/recognition/values/{id}/move", post(admin::move_value))
        .route("/admin/recognition/values/{id}/archive", post(admin::archive_value))
        .route("/admin/recognition/currency", post(admin::currency))
        .route("/admin/recognition/rules", post(admin::rules))
        .route("/admin/recognition/allowances", post(admin::allowances))
        .route("/directory", get(directory::directory))
        .route("/members/{id}", get(directory::profile))
        .route("/members/{id}/edit", get(directory::edit_form).post(directory::edit))
        .route("/okrs", get(okrs::overview))
        .route("/okrs/settings", post(okrs::save_settings))
        .route("/okrs/cycles", post(okrs::create_cycle))
        .route("/okrs/cycles/{id}/close", post(okrs::close_cycle))
        .route("/okrs/cycles/{id}/activate", post(okrs::activate_cycle))
        .route("/okrs/objectives", post(okrs::create_objective))
        .route("/okrs/objectives/{id}", get(okrs::objective))
        .route("/okrs/objectives/{id}/key_results", post(okrs::create_key_result))
        .route("/okrs/key_results/{id}/check_ins", post(okrs::check_in))
        .route("/kpis", get(okrs::kpis).post(okrs::create_kpi))
        .route("/kpis/{id}", get(okrs::kpi))
        .route("/kpis/{id}/upload", post(okrs::upload))
        .route("/kpis/{id}/improve", post(okrs::improve))
        .route("/settings", get(settings::settings_form).post(settings::save))
        .route("/rewards", get(rewards::catalog))
        .route("/rewards/{id}/redeem", get(rewards::confirm).post(rewards::redeem))
        .route("/redemptions", get(rewards::mine))
        .route("/redemptions/{id}/cancel", post(rewards::cancel))
        .route("/admin/rewards", get(rewards::admin).post(rewards::create))
        .route("/admin/rewards/{id}", post(rewards::update))
        .route("/admin/redemptions/{id}/fulfil", post(rewards::fulfil))
        .route("/admin/redemptions/{id}/decline", post(rewards::decline))
        .route("/admin/statements", get(rewards::statements))
        .route("/admin/integrations/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/admin/integrations/webhooks/{id}", get(webhooks::show).post(webhooks::update))
        .route("/admin/integrations/webhooks/{id}/test", post(webhooks::test))
        .route("/admin/integrations/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/admin/integrations/webhooks/{id}/delete", post(webhooks::delete))
        .route("/admin/integrations/webhook_deliveries/{id}/redeliver", post(webhooks::redeliver))
        .route("/admin/integrations", get(integrations::overview))
        .route("/admin/integrations/slack", get(integrations::slack))
        .route("/admin/integrations/slack/settings", post(integrations::slack_save))
        .route("/admin/integrations/slack/test", post(integrations::slack_test))
        .route("/admin/integrations/slack/disconnect", post(integrations::slack_disconnect))
        .route("/admin/integrations/teams", get(integrations::teams).post(integrations::teams_save))
        .route("/admin/integrations/teams/test", post(integrations::teams_test))
        .route("/admin/integrations/teams/disconnect", post(integrations::teams_disconnect))
        .route(scim::PATH, get(scim::show))
        .route("/admin/integrations/scim/tokens", post(scim::create_token))
        .route("/admin/integrations/scim/tokens/{id}/revoke", post(scim::revoke_token))
        .route("/assets/{file}", get(assets::serve))
}

/// `/`: the feed for someone signed in, else the sign-in form.
async fn index(caller: Option<PageCaller>) -> Redirect {
    match caller {
        Some(_) => Redirect::to("/feed"),
        None => Redirect::to("/signin"),
    }
}

/// Runs app work off the async threads and hands back the app's own error.
pub(crate) async fn run<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&App) -> plaudit_domain::Result<T> + Send + 'static,
) -> Result<T, Error> {
    blocking(&state.app, f).await.map_err(|e| e.0)
}

/// A button's post (a form with only the CSRF field): checks the token,
/// runs `action` as the caller, then sends the browser to the page `to`
/// names for the answer, or shows the error page.
pub(crate) async fn button_post<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    csrf: &str,
    action: impl FnOnce(&App, &Caller) -> plaudit_domain::Result<T> + Send + 'static,
    to: impl FnOnce(T) -> String,
) -> Response {
    if let Err(refused) = check_csrf(caller, csrf) {
        return refused;
    }
    let c = caller.clone();
    match run(state, move |app| action(app, &c)).await {
        Ok(answer) => Redirect::to(&to(answer)).into_response(),
        Err(e) => layout::error_page(Some(caller), &e),
    }
}

/// The signed-in member of a page request. Without a valid session the
/// request is sent to `/signin` (coming back here afterwards), not answered
/// with a JSON error.
pub struct PageCaller(pub Caller);

async fn session_caller(headers: &HeaderMap, state: &AppState) -> Result<Option<Caller>, Error> {
    let Some(token) = cookie(headers, SESSION_COOKIE).map(str::to_string) else { return Ok(None) };
    if token.is_empty() {
        return Ok(None);
    }
    match run(state, move |app| app.caller_from_session(&token)).await {
        Ok(caller) => Ok(Some(caller)),
        Err(e) if e.kind == ErrorKind::Unauthenticated => Ok(None),
        Err(e) => Err(e),
    }
}

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match session_caller(&parts.headers, state).await {
            Ok(Some(caller)) => Ok(PageCaller(caller)),
            Ok(None) => {
                let target = if parts.method.is_safe() {
                    let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                    format!("/signin?{}", query_string(&[("next", here)]))
                } else {
                    "/signin".to_string()
                };
                let mut resp = Redirect::to(&target).into_response();
                if cookie(&parts.headers, SESSION_COOKIE).is_some() {
                    // A stale cookie: drop it.
                    let clear = clear_session_cookie(state.options.secure_cookies);
                    if let Ok(v) = clear.parse() {
                        resp.headers_mut().append(header::SET_COOKIE, v);
                    }
                }
                Err(resp)
            }
            Err(e) => Err(layout::error_page(None, &e)),
        }
    }
}

impl OptionalFromRequestParts<AppState> for PageCaller {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Response> {
        match session_caller(&parts.headers, state).await {
            Ok(caller) => Ok(caller.map(PageCaller)),
            Err(e) => Err(layout::error_page(None, &e)),
        }
    }
}

/// A signed-in admin; anyone else gets a 403 page.
pub struct AdminCaller(pub Caller);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let PageCaller(caller) = <PageCaller as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        match caller.require_admin() {
            Ok(()) => Ok(AdminCaller(caller)),
            Err(e) => Err(layout::error_page(Some(&caller), &e)),
        }
    }
}

/// A URL-encoded form body; a body that does not parse gets an HTML 400 page.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(rejection) => Err(layout::status_page(
                None,
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                &format!("The server could not read what was sent: {}", rejection.body_text()),
            )),
        }
    }
}

/// Query parameters; a query string that does not parse gets an HTML 400 page.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(PageQuery(v)),
            Err(rejection) => Err(layout::status_page(
                None,
                StatusCode::BAD_REQUEST,
                "The address could not be read",
                &format!("The query string of this address is not valid: {}", rejection.body_text()),
            )),
        }
    }
}

/// Refuses a signed-in form post whose hidden `csrf` field is not the session's token.
/// A form post that carries nothing but the CSRF token (a button).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

// The refusal is answered at once, so a large Err costs nothing worth boxing.
#[allow(clippy::result_large_err)]
pub(crate) fn check_csrf(caller: &Caller, sent: &str) -> Result<(), Response> {
    if csrf_matches(caller.csrf_token.as_deref(), sent) {
        Ok(())
    } else {
        Err(csrf_refused(Some(caller)))
    }
}

pub(crate) fn csrf_refused(caller: Option<&Caller>) -> Response {
    layout::status_page(
        caller,
        StatusCode::FORBIDDEN,
        "The form could not be verified",
        "This form was not sent from a page of this site, or it expired. Go back, reload the page and try again.",
    )
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `a=1&b=2` from pairs, leaving out empty values.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A place on this site to go back to after signing in; anything else
/// (another host, `//evil`, odd characters) falls back to the feed.
pub(crate) fn safe_next(next: &str) -> &str {
    let b = next.as_bytes();
    let local = b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && b.iter().all(|c| (0x21..0x7f).contains(c))
        && !next.starts_with("/signin")
        && !next.starts_with("/signup")
        && next.len() <= 2000;
    if local {
        next
    } else {
        "/feed"
    }
}

/// The fallback for paths no route knows: an HTML page for browsers,
/// problem+json for everyone else (and always under `/api/`).
pub async fn fallback(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    let api_path = ["/api/", "/scim/", "/integrations/"].iter().any(|p| uri.path().starts_with(p));
    if !wants_html || api_path {
        return crate::http::ApiError(Error::not_found("page")).into_response();
    }
    let caller = session_caller(&headers, &state).await.ok().flatten();
    not_found_page(caller.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/members/abc?x=1"), "/members/abc?x=1");
        for bad in ["//evil.example", "/\\evil", "https://evil.example", "", "/a b", "/signin?next=/x"] {
            assert_eq!(safe_next(bad), "/feed", "{bad}");
        }
    }

    #[test]
    fn query_strings_encode_any_script() {
        assert_eq!(
            query_string(&[("q", "徐东"), ("department", ""), ("status", "all")]),
            "q=%E5%BE%90%E4%B8%9C&status=all"
        );
        assert_eq!(query_string(&[("q", "a&b=c d")]), "q=a%26b%3Dc%20d");
    }
}
