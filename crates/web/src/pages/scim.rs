//! `/admin/integrations/scim`: what an admin needs to connect an identity
//! provider (Okta, Entra ID, …): the SCIM base URL, a token shown once, and
//! the live tokens with their last use, each revocable.

use super::layout::{csrf_input, error_summary, html_response, page, Field, FormError, Nav};
use super::recognition::local;
use super::{button_post, check_csrf, run, AdminCaller, CsrfForm, PageForm};
use crate::integrations::scim::base_url;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use plaudit_app::Caller;
use plaudit_store::ScimToken;
use serde::Deserialize;

pub const PATH: &str = "/admin/integrations/scim";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    pub csrf: String,
    pub name: String,
}

/// What a request adds to the page: a token just made, a form that failed, a revocation.
#[derive(Default)]
struct Shown<'a> {
    new_token: Option<&'a str>,
    form: Option<&'a TokenForm>,
    error: Option<&'a FormError>,
    revoked: bool,
}

struct View<'a> {
    base: String,
    tokens: Vec<ScimToken>,
    /// Display names of the admins who made the tokens.
    creators: Vec<(String, String)>,
    /// Users provisioned, of those deleted by the identity provider, and groups.
    counts: (i64, i64, i64),
    shown: Shown<'a>,
}

fn scim_page(caller: &Caller, v: &View) -> Markup {
    let org = &caller.org;
    let csrf = caller.csrf_token.as_deref().unwrap_or("");
    let when = |ms: i64| local(org, ms, "%-d %b %Y, %H:%M");
    let empty = TokenForm::default();
    let form = v.shown.form.unwrap_or(&empty);
    let error = v.shown.error;
    let body = html! {
        h1 { "SCIM provisioning" }
        p.lead { "Let your identity provider (Okta, Microsoft Entra ID, OneLogin, …) create, update and deactivate members and keep groups in sync." }
        @if v.shown.revoked { div.notice role="status" { p { "Token revoked. The identity provider using it can no longer connect." } } }
        @if let Some(token) = v.shown.new_token {
            div.notice role="status" data-testid="new-scim-token" {
                p { strong { "Copy this token now." } " It is shown only this once; Plaudit keeps only a hash of it." }
                p { code.secret data-testid="scim-token" { (token) } }
            }
        }
        section aria-labelledby="connect-title" {
            h2 #connect-title { "Connect" }
            dl.facts {
                div { dt { "SCIM base URL (tenant URL)" } dd { code data-testid="scim-base-url" { (v.base) } } }
                div { dt { "Authentication" } dd { "Bearer token (HTTP header " code { "Authorization: Bearer …" } ")" } }
                div { dt { "userName" } dd { "the member's e-mail address" } }
            }
            p { "Deleting a user in the identity provider deactivates the member: they cannot sign in, give or receive recognition, and their balance and history are kept. Provisioning the same user again brings them back." }
        }
        section aria-labelledby="status-title" {
            h2 #status-title { "Status" }
            @let last_use = v.tokens.iter().filter_map(|t| t.last_used_at).max();
            @let last_error = v.tokens.iter().filter_map(|t| t.last_error.as_ref().map(|(m, at)| (*at, m.as_str()))).max();
            dl.facts data-testid="scim-status" {
                div { dt { "Last request" } dd { @match last_use { Some(ms) => (when(ms)), None => "none yet" } } }
                div { dt { "Users provisioned" } dd { (v.counts.0) @if v.counts.1 > 0 { " (" (v.counts.1) " deleted by the identity provider, kept as inactive members)" } } }
                div { dt { "Groups" } dd { (v.counts.2) } }
                div { dt { "Last error" } dd data-testid="scim-last-error" {
                    @match last_error { Some((at, m)) => { (when(at)) ": " code dir="auto" { (m) } }, None => "none" }
                } }
            }
        }
        section aria-labelledby="new-token-title" {
            h2 #new-token-title { "Create a token" }
            (error_summary(error, &[("name", "Name")]))
            form.form method="post" action={ (PATH) "/tokens" } novalidate {
                (csrf_input(csrf))
                (Field::new("name", "Name", &form.name)
                    .hint("Where the token is used, e.g. \"Entra ID\". The token acts as you: it stops working if you are no longer an active admin.")
                    .render(error))
                div.actions { button.button type="submit" { "Create token" } }
            }
        }
        section aria-labelledby="tokens-title" {
            h2 #tokens-title { "Tokens" }
            @if v.tokens.is_empty() {
                p data-testid="no-scim-tokens" { "No tokens yet." }
            } @else {
                div.table-wrap {
                    table data-testid="scim-tokens" {
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "By" }
                            th scope="col" { "Last used" } th scope="col" { span.visually-hidden { "Actions" } }
                        } }
                        tbody {
                            @for t in &v.tokens {
                                @let by = v.creators.iter().find(|(id, _)| id == &t.created_by).map_or("", |(_, n)| n.as_str());
                                tr {
                                    td dir="auto" { (t.name) }
                                    td { (when(t.created_at)) }
                                    td dir="auto" { (by) }
                                    td data-testid="last-used" { @match t.last_used_at { Some(ms) => (when(ms)), None => "never" } }
                                    td {
                                        form method="post" action={ (PATH) "/tokens/" (t.id) "/revoke" } {
                                            (csrf_input(csrf))
                                            button.button.button-quiet type="submit" aria-label={ "Revoke " (t.name) } { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(Some(caller), Nav::Integrations, "SCIM provisioning", body)
}

async fn render(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    status: StatusCode,
    shown: Shown<'_>,
) -> Response {
    let c = caller.clone();
    let loaded = run(state, move |app| {
        let tokens = app.list_scim_tokens(&c)?;
        let counts = app.scim_status(&c)?;
        let mut creators = Vec::new();
        for t in &tokens {
            if !creators.iter().any(|(id, _): &(String, String)| id == &t.created_by) {
                let name = app.member(&c, &t.created_by).map(|m| m.profile.display_name).unwrap_or_default();
                creators.push((t.created_by.clone(), name));
            }
        }
        Ok((tokens, creators, counts))
    })
    .await;
    let (tokens, creators, counts) = match loaded {
        Ok(v) => v,
        Err(e) => return super::layout::error_page(Some(caller), &e),
    };
    let view = View { base: base_url(state, headers), tokens, creators, counts, shown };
    html_response(status, scim_page(caller, &view))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    pub revoked: String,
}

pub async fn show(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    headers: HeaderMap,
    super::PageQuery(q): super::PageQuery<ShowQuery>,
) -> Response {
    let shown = Shown { revoked: !q.revoked.is_empty(), ..Default::default() };
    render(&state, &caller, &headers, StatusCode::OK, shown).await
}

/// Creates a token and shows it on the answer itself (never in a URL), once.
pub async fn create_token(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    headers: HeaderMap,
    PageForm(f): PageForm<TokenForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let c = caller.clone();
    let name = f.name.clone();
    match run(&state, move |app| app.create_scim_token(&c, &name)).await {
        Ok((raw, _)) => {
            let shown = Shown { new_token: Some(&raw), ..Default::default() };
            render(&state, &caller, &headers, StatusCode::OK, shown).await
        }
        Err(e) => {
            let fe = FormError::from_error(&e, &[("name", "name")]);
            let shown = Shown { form: Some(&f), error: Some(&fe), ..Default::default() };
            render(&state, &caller, &headers, crate::http::status_of(e.kind), shown).await
        }
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    button_post(&state, &caller, &f.csrf, move |app, c| app.revoke_scim_token(c, &id), |()| format!("{PATH}?revoked=1"))
        .await
}
