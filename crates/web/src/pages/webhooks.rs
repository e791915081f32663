//! `/admin/integrations/webhooks`: the admin's webhook endpoints. The list
//! page adds endpoints; each endpoint's page edits it, sends a test,
//! rotates its secret, deletes it and shows its delivery log with a
//! "Redeliver" button. A new secret is shown once, in the answer to the
//! form that made it. Bad input shows the form again with the message
//! beside the field and nothing changed.

use super::layout::{
    checkbox_field, csrf_input, error_page, error_summary, field_aria, html_response, page, Field, FieldAria,
    FormError, Nav,
};
use super::recognition::local;
use super::{button_post, check_csrf, query_string, run, AdminCaller, CsrfForm, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::webhooks::{EventNames, NewWebhook, WebhookChanges};
use plaudit_app::Caller;
use plaudit_domain::events::EventKind;
use plaudit_domain::webhooks::{DeliveryStatus, Subscription};
use plaudit_domain::ErrorKind;
use plaudit_store::{WebhookDelivery, WebhookEndpoint};
use serde::Deserialize;

const BASE: &str = "/admin/integrations/webhooks";
/// Deliveries shown per page of an endpoint's log.
const LOG_PAGE: i64 = 20;
/// The app's field names and this page's inputs.
const FIELDS: &[(&str, &str)] = &[("url", "url"), ("events", "events"), ("description", "description")];
const LABELS: &[(&str, &str)] = &[("url", "URL"), ("events", "Events"), ("description", "Description")];

/// The endpoint form as typed. Checkboxes repeat `events`, so the body is
/// read as pairs (a struct cannot hold a repeated key).
#[derive(Debug, Clone, Default)]
struct EndpointForm {
    csrf: String,
    url: String,
    description: String,
    events: Vec<String>,
    active: bool,
}

impl EndpointForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> EndpointForm {
        let mut f = EndpointForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "url" => f.url = v,
                "description" => f.description = v,
                "events" => f.events.push(v),
                "active" => f.active = true,
                _ => {}
            }
        }
        f
    }

    fn of(e: &WebhookEndpoint) -> EndpointForm {
        EndpointForm {
            csrf: String::new(),
            url: e.url.clone(),
            description: e.description.clone(),
            events: e.events.names(),
            active: e.active,
        }
    }

    fn new_default() -> EndpointForm {
        EndpointForm { events: vec!["*".into()], active: true, ..EndpointForm::default() }
    }

    fn events(&self) -> EventNames {
        EventNames::Many(self.events.clone())
    }
}

fn csrf(c: &Caller) -> Markup {
    csrf_input(c.csrf_token.as_deref().unwrap_or(""))
}

/// The events as checkboxes: "every event" or a choice.
fn events_field(form: &EndpointForm, error: Option<&FormError>) -> Markup {
    let FieldAria { message, hint_id, error_id, .. } = field_aria("events", true, error);
    let all = form.events.iter().any(|e| e == "*");
    html! {
        fieldset.field.field-invalid[message.is_some()] #events aria-describedby={ (hint_id) @if message.is_some() { " " (error_id) } } {
            legend { "Events" }
            p.hint id=(hint_id) { "Every event includes those added later." }
            @if let Some(m) = message {
                p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) }
            }
            div.field-checkbox {
                input #events-all type="checkbox" name="events" value="*" checked[all];
                label for="events-all" { "Every event" }
            }
            @for k in EventKind::ALL {
                @let id = format!("events-{}", k.as_str().replace('.', "-"));
                div.field-checkbox {
                    input id=(id) type="checkbox" name="events" value=(k.as_str())
                        checked[!all && form.events.iter().any(|e| e == k.as_str())];
                    label for=(id) { code { (k.as_str()) } }
                }
            }
        }
    }
}

fn endpoint_fields(form: &EndpointForm, error: Option<&FormError>) -> Markup {
    html! {
        (Field::new("url", "URL", &form.url).kind("url").required().no_spellcheck()
            .hint("Where Plaudit POSTs the events: https://…, no user name or password in it.").render(error))
        (Field::new("description", "Description", &form.description).render(error))
        (events_field(form, error))
        (checkbox_field("active", "Active: send events to this URL", form.active, None, error))
    }
}

fn events_summary(s: &Subscription) -> String {
    match s {
        Subscription::All => "Every event".to_string(),
        Subscription::Only(kinds) if kinds.is_empty() => "None".to_string(),
        Subscription::Only(kinds) => kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
    }
}

fn status_text(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "Pending",
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Failed => "Failed",
        DeliveryStatus::Cancelled => "Cancelled",
    }
}

fn notice(done: &str) -> Option<&'static str> {
    match done {
        "saved" => Some("The webhook is saved."),
        "deleted" => Some("The webhook is deleted; its pending deliveries are stopped."),
        "tested" => Some("A test was sent: its outcome is at the top of the log."),
        "redelivered" => Some("Queued: the delivery is sent again within seconds."),
        _ => None,
    }
}

/// A new secret, shown once.
fn secret_box(secret: &str) -> Markup {
    html! {
        div.notice role="status" data-testid="webhook-secret" {
            p { strong { "Signing secret: " } code { (secret) } }
            p { "Copy it now: it is not shown again. Receivers use it to check the Plaudit-Signature header." }
        }
    }
}

// ---------------------------------------------------------------- the list

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    pub done: String,
    pub cursor: String,
}

pub async fn list(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<DoneQuery>,
) -> Response {
    list_page(&state, &caller, EndpointForm::new_default(), None, &q.done).await
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    form: EndpointForm,
    error: Option<FormError>,
    done: &str,
) -> Response {
    let c = caller.clone();
    // Each endpoint with its latest delivery (an org has at most 20 endpoints).
    let loaded = run(state, move |app| {
        app.webhooks(&c)?
            .into_iter()
            .map(|e| {
                let last = app.webhook_deliveries(&c, &e.id, None, 1)?.items.into_iter().next();
                Ok((e, last))
            })
            .collect::<plaudit_domain::Result<Vec<_>>>()
    });
    let endpoints = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(Some(caller), &e),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let error = error.as_ref();
    let body = html! {
        h1 { "Webhooks" }
        p { "Plaudit POSTs each event to the URLs below as signed JSON, and tries again with growing pauses for up to a day when a receiver does not answer 2xx." }
        @if let Some(n) = notice(done) { div.notice role="status" { p { (n) } } }
        section.card aria-labelledby="endpoints-title" {
            h2 #endpoints-title { "Endpoints" }
            @if endpoints.is_empty() {
                p.empty { "No webhooks yet." }
            } @else {
                div.table-wrap {
                    table.directory {
                        thead { tr { th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "State" } th scope="col" { "Last delivery" } } }
                        tbody {
                            @for (e, last) in &endpoints {
                                tr data-testid="webhook" {
                                    td { a href={ (BASE) "/" (e.id) } { code { (e.url) } } @if !e.description.is_empty() { br; span.muted dir="auto" { (e.description) } } }
                                    td { (events_summary(&e.events)) }
                                    td { @if e.active { "Active" } @else { "Off" } }
                                    td data-testid="last-delivery" {
                                        @match last {
                                            Some(d) => {
                                                (status_text(d.status)) ", " code { (d.event_type) } ", " (local(&caller.org, d.updated_at, "%-d %b %H:%M"))
                                                @if let (DeliveryStatus::Pending | DeliveryStatus::Failed, Some(err)) = (d.status, &d.last_error) { br; span.muted dir="auto" { (err) } }
                                            }
                                            None => { "—" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="add-title" {
            h2 #add-title { "Add a webhook" }
            (error_summary(error, LABELS))
            form method="post" action=(BASE) novalidate {
                (csrf(caller))
                (endpoint_fields(&form, error))
                button.button type="submit" { "Add webhook" }
            }
        }
    };
    html_response(status, page(Some(caller), Nav::Integrations, "Webhooks", body))
}

pub async fn create(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let f = EndpointForm::from_pairs(pairs);
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let new = NewWebhook {
        url: f.url.clone(),
        events: Some(f.events()),
        description: f.description.clone(),
        active: Some(f.active),
    };
    let c = caller.clone();
    match run(&state, move |app| app.create_webhook(&c, new)).await {
        Ok((e, secret)) => {
            detail_page(&state, &caller, &e.id, None, None, Some(&secret), "", StatusCode::CREATED).await
        }
        Err(e) if e.kind == ErrorKind::Internal || e.kind == ErrorKind::Forbidden => error_page(Some(&caller), &e),
        Err(e) => list_page(&state, &caller, f, Some(FormError::from_error(&e, FIELDS)), "").await,
    }
}

// ---------------------------------------------------------------- one endpoint

pub async fn show(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<DoneQuery>,
) -> Response {
    detail_page_at(&state, &caller, &id, None, None, None, &q.done, StatusCode::OK, &q.cursor).await
}

/// An endpoint's page with the newest deliveries.
#[allow(clippy::too_many_arguments)]
async fn detail_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    form: Option<EndpointForm>,
    error: Option<FormError>,
    secret: Option<&str>,
    done: &str,
    status: StatusCode,
) -> Response {
    detail_page_at(state, caller, id, form, error, secret, done, status, "").await
}

#[allow(clippy::too_many_arguments)]
async fn detail_page_at(
    state: &AppState,
    caller: &Caller,
    id: &str,
    form: Option<EndpointForm>,
    error: Option<FormError>,
    secret: Option<&str>,
    done: &str,
    status: StatusCode,
    cursor: &str,
) -> Response {
    let (c, id_owned, cursor_owned) = (caller.clone(), id.to_string(), cursor.to_string());
    let loaded = run(state, move |app| {
        let e = app.webhook(&c, &id_owned)?;
        let log = app.webhook_deliveries(&c, &id_owned, Some(&cursor_owned), LOG_PAGE)?;
        Ok((e, log))
    })
    .await;
    let (e, log) = match loaded {
        Ok(v) => v,
        Err(err) => return error_page(Some(caller), &err),
    };
    let form = form.unwrap_or_else(|| EndpointForm::of(&e));
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { status };
    let error = error.as_ref();
    let org = &caller.org;
    let here = format!("{BASE}/{}", e.id);
    let body = html! {
        p { a href=(BASE) { "All webhooks" } }
        h1 { "Webhook " code { (e.url) } }
        @if let Some(s) = secret { (secret_box(s)) }
        @if let Some(n) = notice(done) { div.notice role="status" { p { (n) } } }
        section.card aria-labelledby="edit-title" {
            h2 #edit-title { "Settings" }
            (error_summary(error, LABELS))
            form method="post" action=(here) novalidate {
                (csrf(caller))
                (endpoint_fields(&form, error))
                button.button type="submit" { "Save" }
            }
        }
        section.card aria-labelledby="actions-title" {
            h2 #actions-title { "Test and secret" }
            div.actions {
                form.inline method="post" action={ (here) "/test" } {
                    (csrf(caller))
                    button.button type="submit" { "Send test" }
                }
                form.inline method="post" action={ (here) "/rotate" } {
                    (csrf(caller))
                    button.button.button-quiet type="submit" { "Rotate secret" }
                }
                form.inline method="post" action={ (here) "/delete" } {
                    (csrf(caller))
                    button.button.button-quiet.button-danger type="submit" { "Delete webhook" }
                }
            }
        }
        section.card aria-labelledby="log-title" {
            h2 #log-title { "Deliveries" }
            @if log.items.is_empty() {
                p.empty { "Nothing delivered yet." }
            } @else {
                div.table-wrap {
                    table.directory {
                        thead { tr {
                            th scope="col" { "Event" } th scope="col" { "Status" } th scope="col" { "Attempts" }
                            th scope="col" { "Last answer" } th scope="col" { "Next try" } th scope="col" { "Created" }
                            th scope="col" { span.visually-hidden { "Actions" } }
                        } }
                        tbody {
                            @for d in &log.items {
                                (log_row(caller, org, d))
                            }
                        }
                    }
                }
                @if let Some(next) = &log.next_cursor {
                    p { a href={ (here) "?" (query_string(&[("cursor", next)])) } { "Older deliveries" } }
                }
            }
        }
    };
    html_response(status, page(Some(caller), Nav::Integrations, "Webhook", body))
}

fn log_row(caller: &Caller, org: &plaudit_domain::org::Org, d: &WebhookDelivery) -> Markup {
    let when = |ms: i64| local(org, ms, "%-d %b %Y %H:%M:%S");
    html! {
        tr data-testid="delivery" data-status=(d.status.as_str()) {
            td { code { (d.event_type) } @if d.redelivery_of.is_some() { br; span.muted { "redelivery" } } }
            td { (status_text(d.status)) }
            td { (d.attempts) }
            td {
                @match (&d.last_error, d.last_status) {
                    (Some(err), _) => { span.muted dir="auto" { (err) } }
                    (None, Some(s)) => { "HTTP " (s) }
                    (None, None) => { "—" }
                }
            }
            td { @match d.next_attempt_at { Some(t) => { (when(t)) }, None => { "—" } } }
            td { (when(d.created_at)) }
            td {
                form method="post" action={ "/admin/integrations/webhook_deliveries/" (d.id) "/redeliver" } {
                    (csrf(caller))
                    button.button.button-small type="submit" { "Redeliver" span.visually-hidden { " " (d.event_type) " " (d.id) } }
                }
            }
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let f = EndpointForm::from_pairs(pairs);
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let changes = WebhookChanges {
        url: Some(f.url.clone()),
        events: Some(f.events()),
        description: Some(f.description.clone()),
        active: Some(f.active),
    };
    let (c, i) = (caller.clone(), id.clone());
    match run(&state, move |app| app.update_webhook(&c, &i, changes)).await {
        Ok(_) => Redirect::to(&format!("{BASE}/{id}?done=saved")).into_response(),
        Err(e) if matches!(e.kind, ErrorKind::Validation) => {
            let err = FormError::from_error(&e, FIELDS);
            detail_page(&state, &caller, &id, Some(f), Some(err), None, "", StatusCode::OK).await
        }
        Err(e) => error_page(Some(&caller), &e),
    }
}

pub async fn test(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    let to = format!("{BASE}/{id}?done=tested");
    button_post(&state, &caller, &f.csrf, move |app, c| app.test_webhook(c, &id), |_| to).await
}

pub async fn rotate(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let (c, i) = (caller.clone(), id.clone());
    match run(&state, move |app| app.rotate_webhook_secret(&c, &i)).await {
        Ok((_, secret)) => detail_page(&state, &caller, &id, None, None, Some(&secret), "", StatusCode::OK).await,
        Err(e) => error_page(Some(&caller), &e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    button_post(&state, &caller, &f.csrf, move |app, c| app.delete_webhook(c, &id), |()| format!("{BASE}?done=deleted"))
        .await
}

pub async fn redeliver(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    button_post(
        &state,
        &caller,
        &f.csrf,
        move |app, c| app.redeliver_webhook(c, &id),
        |d| format!("{BASE}/{}?done=redelivered", d.endpoint_id),
    )
    .await
}
