//! Single sign-on with OpenID Connect over HTTP: the admin's settings (API
//! and page), and the browser's round trip through the identity provider
//! (`/auth/oidc/{org}/start` and `…/callback`).

use crate::api::json;
use crate::http::{blocking, cookie, ApiCaller, ApiResult, JsonBody};
use crate::pages::layout::{checkbox_field, csrf_input, error_summary, html_response, page, Field, FormError, Nav};
use crate::pages::{check_csrf, query_string, run, safe_next, AdminCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use maud::{html, Markup};
use plaudit_app::sso::{CallbackParams, SsoTestReport, SsoView};
use plaudit_app::Caller;
use plaudit_domain::sso::{split_domains, SsoInput};
use plaudit_domain::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::{json, Value};

/// The cookie that binds a sign-in in flight to the browser that started it
/// (the server keeps only its hash, beside the state).
pub const BROWSER_COOKIE: &str = "plaudit_oidc";

// ---------------------------------------------------------------- API

fn view_json(v: &SsoView) -> Value {
    json!({
        "configured": v.configured,
        "enabled": v.enabled,
        "status": status_word(v),
        "issuer_url": v.issuer_url,
        "client_id": v.client_id,
        "client_secret_set": v.has_client_secret,
        "allowed_domains": v.allowed_domains,
        "jit_enabled": v.jit_enabled,
        "require_sso": v.require_sso,
        "redirect_uri": v.redirect_uri,
        "signin_url": v.signin_url,
        "last_error": v.last_error,
        "last_error_at": v.last_error_at.map(json::time),
        "last_sign_in_at": v.last_sign_in_at.map(json::time),
        "updated_at": v.updated_at.map(json::time),
    })
}

fn status_word(v: &SsoView) -> &'static str {
    match (v.configured, v.enabled, v.last_error.is_some()) {
        (false, _, _) => "not_configured",
        (true, false, _) => "off",
        (true, true, true) => "error",
        (true, true, false) => "on",
    }
}

fn report_json(r: &SsoTestReport) -> Value {
    json!({
        "ok": true,
        "issuer": r.issuer,
        "authorization_endpoint": r.authorization_endpoint,
        "token_endpoint": r.token_endpoint,
        "jwks_uri": r.jwks_uri,
        "key_ids": r.key_ids,
        "signing_algs": r.signing_algs,
        "multi_tenant": r.multi_tenant,
    })
}

pub async fn get_settings(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let view = blocking(&state.app, move |app| app.sso_settings(&caller)).await?;
    Ok(Json(view_json(&view)))
}

pub async fn put_settings(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(input): JsonBody<SsoInput>,
) -> ApiResult<Json<Value>> {
    let view = blocking(&state.app, move |app| app.save_sso_settings(&caller, input)).await?;
    Ok(Json(view_json(&view)))
}

pub async fn test_settings(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let report = blocking(&state.app, move |app| app.test_sso(&caller)).await?;
    Ok(Json(report_json(&report)))
}

/// OpenAPI schemas of the routes above.
pub fn schemas() -> serde_json::Map<String, Value> {
    let s = || json!({"type": "string"});
    let b = || json!({"type": "boolean"});
    let ns = || json!({"type": ["string", "null"]});
    let domains = json!({"type": "array", "items": {"type": "string"}});
    let mut m = serde_json::Map::new();
    m.insert(
        "SsoSettings".into(),
        json!({"type": "object", "required": ["configured", "enabled", "status", "redirect_uri"], "properties": {
            "configured": b(), "enabled": b(),
            "status": {"type": "string", "enum": ["not_configured", "off", "on", "error"]},
            "issuer_url": s(), "client_id": s(), "client_secret_set": b(), "allowed_domains": domains,
            "jit_enabled": b(), "require_sso": b(), "redirect_uri": s(), "signin_url": s(),
            "last_error": ns(), "last_error_at": ns(), "last_sign_in_at": ns(), "updated_at": ns(),
        }}),
    );
    m.insert(
        "SsoSettingsInput".into(),
        json!({"type": "object", "required": ["issuer_url", "client_id"], "properties": {
            "enabled": b(), "issuer_url": s(), "client_id": s(),
            "client_secret": {"type": "string", "description": "write-only; empty keeps the stored secret"},
            "allowed_domains": domains, "jit_enabled": b(), "require_sso": b(),
        }}),
    );
    m.insert(
        "SsoTestReport".into(),
        json!({"type": "object", "required": ["ok", "issuer", "jwks_uri"], "properties": {
            "ok": b(), "issuer": s(), "authorization_endpoint": s(), "token_endpoint": ns(), "jwks_uri": s(),
            "key_ids": {"type": "array", "items": {"type": "string"}},
            "signing_algs": {"type": "array", "items": {"type": "string"}}, "multi_tenant": b(),
        }}),
    );
    m
}

// ---------------------------------------------------------------- admin page

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SsoForm {
    pub csrf: String,
    pub enabled: Option<String>,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub allowed_domains: String,
    pub jit_enabled: Option<String>,
    pub require_sso: Option<String>,
}

impl SsoForm {
    fn of(v: &SsoView) -> SsoForm {
        let on = |b: bool| b.then(|| "on".to_string());
        SsoForm {
            csrf: String::new(),
            enabled: on(v.enabled || !v.configured),
            issuer_url: v.issuer_url.clone(),
            client_id: v.client_id.clone(),
            client_secret: String::new(),
            allowed_domains: v.allowed_domains.join(", "),
            jit_enabled: on(v.jit_enabled),
            require_sso: on(v.require_sso),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SsoPageQuery {
    pub saved: String,
}

const LABELS: &[(&str, &str)] = &[
    ("issuer_url", "Issuer URL"),
    ("client_id", "Client id"),
    ("client_secret", "Client secret"),
    ("allowed_domains", "E-mail domains that may join"),
];

/// What the page shows below the form after "Test".
enum Tested {
    Not,
    Found(SsoTestReport),
    Failed(String),
}

fn admin_page(
    caller: &Caller,
    view: &SsoView,
    f: &SsoForm,
    error: Option<&FormError>,
    tested: &Tested,
    saved: bool,
) -> Markup {
    let now = plaudit_app::now_ms();
    let org = &caller.org;
    let secret_hint = if view.has_client_secret {
        "Stored encrypted and never shown. Leave empty to keep the current secret."
    } else {
        "Stored encrypted and never shown again."
    };
    let body = html! {
        h1 { "Single sign-on (SSO)" }
        p.lead { "Let people of " span dir="auto" { (org.name) } " sign in with your identity provider: Google, Microsoft Entra ID, Okta or any OpenID Connect provider." }
        @if saved { div.notice role="status" { p { "The SSO settings are saved." } } }
        (error_summary(error, LABELS))
        div.admin-grid {
            section.card #sso-status aria-labelledby="sso-status-title" {
                h2 #sso-status-title { "Status" }
                dl.facts {
                    div { dt { "Sign-in with SSO" } dd data-testid="sso-status" { @match status_word(view) {
                        "not_configured" => "Not set up",
                        "off" => "Off",
                        "error" => "On, with an error",
                        _ => "On",
                    } } }
                    div { dt { "Redirect URI" } dd { code data-testid="sso-redirect-uri" { (view.redirect_uri) } } }
                    div { dt { "Sign-in link" } dd { code { (view.signin_url) } } }
                    @if let Some(at) = view.last_sign_in_at {
                        div { dt { "Last worked" } dd { (crate::pages::time_el(org, at, now)) } }
                    }
                    @if let Some(e) = &view.last_error {
                        div { dt { "Last error" } dd data-testid="sso-last-error" {
                            (e)
                            @if let Some(at) = view.last_error_at { " (" (crate::pages::time_el(org, at, now)) ")" }
                        } }
                    }
                }
                p.muted { "Register the redirect URI at your provider, with the scopes openid, email and profile." }
                @if view.configured {
                    form.inline method="post" action="/admin/integrations/sso/test" {
                        (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
                        button.button.button-quiet type="submit" { "Test connection" }
                    }
                }
                @match tested {
                    Tested::Not => {}
                    Tested::Found(r) => {
                        div.notice role="status" data-testid="sso-test-result" {
                            p { strong { "The provider answered." } " Issuer " code { (r.issuer) }
                                @if r.multi_tenant { " (multi-tenant: each token's issuer is checked with its tenant id)" } "." }
                            ul {
                                li { "Authorization endpoint: " code { (r.authorization_endpoint) } }
                                li { "Token endpoint: " code { (r.token_endpoint.as_deref().unwrap_or("none")) } }
                                li { "Keys (" code { (r.jwks_uri) } "): " (r.key_ids.len()) " — " (r.key_ids.join(", ")) }
                                li { "ID token signatures: " (r.signing_algs.join(", ")) }
                            }
                        }
                    }
                    Tested::Failed(m) => {
                        div.notice.notice-warning role="alert" data-testid="sso-test-result" {
                            p { strong { "The test failed: " } (m) }
                        }
                    }
                }
            }
            section.card #sso-settings aria-labelledby="sso-settings-title" {
                h2 #sso-settings-title { "Provider" }
                form.form method="post" action="/admin/integrations/sso" novalidate {
                    (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
                    (checkbox_field("enabled", "Offer sign-in with SSO", f.enabled.is_some(), None, error))
                    (Field::new("issuer_url", "Issuer URL", &f.issuer_url).kind("url").required().no_spellcheck()
                        .hint("E.g. https://accounts.google.com, https://login.microsoftonline.com/common/v2.0 or https://yourcompany.okta.com.")
                        .render(error))
                    (Field::new("client_id", "Client id", &f.client_id).required().no_spellcheck().render(error))
                    @let secret = Field::new("client_secret", "Client secret", "").kind("password").autocomplete("off").hint(secret_hint);
                    (if view.has_client_secret { secret } else { secret.required() }.render(error))
                    (Field::new("allowed_domains", "E-mail domains that may join", &f.allowed_domains).no_spellcheck()
                        .hint("Comma-separated, e.g. example.com, example.org. Only for creating members at their first sign-in.")
                        .render(error))
                    (checkbox_field("jit_enabled", "Create members at their first sign-in", f.jit_enabled.is_some(),
                        Some("People with a verified address in one of the domains above join as members. Off: only people already in the directory can sign in."), error))
                    (checkbox_field("require_sso", "Require SSO for everyone but owners", f.require_sso.is_some(),
                        Some("Password sign-in is refused for everyone except owners, who keep it in case the provider fails."), error))
                    div.actions { button.button type="submit" { "Save SSO settings" } }
                }
            }
        }
    };
    page(Some(caller), Nav::Integrations, "Single sign-on", body)
}

async fn show(
    state: &AppState,
    caller: &Caller,
    form: Option<SsoForm>,
    error: Option<FormError>,
    tested: Tested,
    status: StatusCode,
    saved: bool,
) -> Response {
    let c = caller.clone();
    match run(state, move |app| app.sso_settings(&c)).await {
        Ok(view) => {
            let f = form.unwrap_or_else(|| SsoForm::of(&view));
            html_response(status, admin_page(caller, &view, &f, error.as_ref(), &tested, saved))
        }
        Err(e) => crate::pages::layout::error_page(Some(caller), &e),
    }
}

/// `GET /admin/integrations/sso`.
pub async fn admin_form(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<SsoPageQuery>,
) -> Response {
    show(&state, &caller, None, None, Tested::Not, StatusCode::OK, !q.saved.is_empty()).await
}

/// `POST /admin/integrations/sso`: saves, or shows the form again with the error beside its field.
pub async fn admin_save(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<SsoForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let input = SsoInput {
        enabled: f.enabled.is_some(),
        issuer_url: f.issuer_url.clone(),
        client_id: f.client_id.clone(),
        client_secret: f.client_secret.clone(),
        allowed_domains: split_domains(&f.allowed_domains),
        jit_enabled: f.jit_enabled.is_some(),
        require_sso: f.require_sso.is_some(),
    };
    let c = caller.clone();
    match run(&state, move |app| app.save_sso_settings(&c, input)).await {
        Ok(_) => Redirect::to("/admin/integrations/sso?saved=1").into_response(),
        Err(e) => {
            let fields: Vec<(&str, &str)> = LABELS.iter().map(|(k, _)| (*k, *k)).collect();
            let fe = FormError::from_error(&e, &fields);
            let status = crate::http::status_of(e.kind);
            show(
                &state,
                &caller,
                Some(SsoForm { client_secret: String::new(), ..f }),
                Some(fe),
                Tested::Not,
                status,
                false,
            )
            .await
        }
    }
}

/// `POST /admin/integrations/sso/test`: fetches the discovery document and keys.
pub async fn admin_test(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<crate::pages::CsrfForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let c = caller.clone();
    let tested = match run(&state, move |app| app.test_sso(&c)).await {
        Ok(report) => Tested::Found(report),
        Err(e) if e.kind == ErrorKind::Internal => return crate::pages::layout::error_page(Some(&caller), &e),
        Err(e) => Tested::Failed(e.message),
    };
    show(&state, &caller, None, None, tested, StatusCode::OK, false).await
}

// ---------------------------------------------------------------- sign-in round trip

fn plausible(t: &str) -> bool {
    (32..=128).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn browser_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    // Lax: the provider's redirect back is a top-level navigation from another site.
    format!("{BROWSER_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=900{secure}")
}

/// A refusal of a sign-in with SSO: what went wrong and the ways on.
fn refusal_page(org_slug: &str, e: &Error) -> Response {
    let status = crate::http::status_of(e.kind);
    let message = if e.kind == ErrorKind::Internal {
        tracing::error!(code = e.code, message = %e.message, "sso sign-in failed");
        "Something went wrong on our side. Please try again in a moment.".to_string()
    } else {
        let mut m = e.message.clone();
        if let Some(first) = m.get(0..1) {
            m.replace_range(0..1, &first.to_uppercase());
        }
        if !m.ends_with('.') {
            m.push('.');
        }
        m
    };
    let slug = crate::pages::encode_component(org_slug);
    let body = html! {
        div.error-page {
            p.status-code { (status.as_u16()) }
            h1 { "Sign-in with SSO did not work" }
            p data-testid="sso-error" data-code=(e.code) { (message) }
            p.muted { "You are not signed in." }
            p {
                @if e.code != "sso_not_configured" {
                    a href={ "/auth/oidc/" (slug) "/start" } { "Start again" }
                    " · "
                }
                a href={ "/signin?" (query_string(&[("org", org_slug)])) } { "Go to sign-in" }
            }
        }
    };
    html_response(status, page(None, Nav::None, "Sign-in with SSO did not work", body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartQuery {
    pub next: String,
}

/// `GET /auth/oidc/{org}/start`: off to the provider.
pub async fn start(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<StartQuery>,
) -> Response {
    let secret = match cookie(&headers, BROWSER_COOKIE) {
        Some(v) if plausible(v) => v.to_string(),
        _ => plaudit_app::auth::random_token(),
    };
    let next = safe_next(&q.next).to_string();
    let (slug, s) = (org.clone(), secret.clone());
    match run(&state, move |app| app.sso_start(&slug, &s, &next)).await {
        Ok(url) => {
            let mut resp = Redirect::to(&url).into_response();
            if let Ok(v) = HeaderValue::from_str(&browser_cookie(&secret, state.options.secure_cookies)) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => refusal_page(&org, &e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// `GET /auth/oidc/{org}/callback`: the provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<CallbackQuery>,
) -> Response {
    let browser = cookie(&headers, BROWSER_COOKIE).filter(|v| plausible(v)).map(str::to_string);
    let params =
        CallbackParams { state: q.state, code: q.code, error: q.error, error_description: q.error_description };
    let slug = org.clone();
    match run(&state, move |app| app.sso_callback(&slug, &params, browser.as_deref())).await {
        Ok((session, next)) => crate::pages::signed_in(&state, &session, safe_next(&next)),
        Err(e) => refusal_page(&org, &e),
    }
}
