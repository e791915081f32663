//! The page shell, error pages and form helpers every page uses.

use super::assets;
use crate::http::status_of;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use plaudit_app::Caller;
use plaudit_domain::{Error, ErrorKind};

/// Which top-level section a page belongs to, for `aria-current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Feed,
    Give,
    Directory,
    Okrs,
    Kpis,
    Recognition,
    Settings,
    Rewards,
    RewardsAdmin,
    Integrations,
    None,
}

/// A whole HTML document: skip link, header (organisation, navigation, the
/// signed-in member and the sign-out button), `<main>` and a footer.
pub fn page(caller: Option<&Caller>, current: Nav, title: &str, body: Markup) -> Markup {
    let site = caller.map_or("Plaudit", |c| c.org.name.as_str());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (site) }
                link rel="icon" type="image/svg+xml" href=(assets::url("favicon.svg"));
                link rel="stylesheet" href=(assets::url("plaudit.css"));
                @if let Some(c) = caller {
                    meta name="csrf-token" content=(c.csrf_token.as_deref().unwrap_or(""));
                    meta name="plaudit-member" content=(c.member.id);
                    meta name="plaudit-currency" content=(c.org.currency.emoji)
                        data-singular=(c.org.currency.name_singular) data-plural=(c.org.currency.name_plural);
                }
                script src=(assets::url("plaudit.js")) defer {}
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header {
                    div.site-header-inner {
                        @if let Some(c) = caller {
                            a.brand href="/feed" dir="auto" { (c.org.name) }
                            nav aria-label="Main" {
                                ul.nav {
                                    li { a href="/feed" aria-current=[(current == Nav::Feed).then_some("page")] { "Feed" } }
                                    li { a href="/give" aria-current=[(current == Nav::Give).then_some("page")] { "Give recognition" } }
                                    li { a href="/directory" aria-current=[(current == Nav::Directory).then_some("page")] { "Directory" } }
                                    li { a href="/okrs" aria-current=[(current == Nav::Okrs).then_some("page")] { "OKRs" } }
                                    li { a href="/kpis" aria-current=[(current == Nav::Kpis).then_some("page")] { "KPIs" } }
                                    li { a href="/rewards" aria-current=[(current == Nav::Rewards).then_some("page")] { "Rewards" } }
                                    @if c.member.role.is_admin() {
                                        li { a href="/admin/rewards" aria-current=[(current == Nav::RewardsAdmin).then_some("page")] { "Rewards admin" } }
                                        li { a href="/admin/recognition" aria-current=[(current == Nav::Recognition).then_some("page")] { "Values & rules" } }
                                        li { a href="/admin/integrations" aria-current=[(current == Nav::Integrations).then_some("page")] { "Integrations" } }
                                        li { a href="/settings" aria-current=[(current == Nav::Settings).then_some("page")] { "Settings" } }
                                    }
                                }
                            }
                            div.account {
                                span.signed-in-as {
                                    span.visually-hidden { "Signed in as " }
                                    a href={ "/members/" (c.member.id) } dir="auto" data-testid="current-member" { (c.member.profile.display_name) }
                                }
                                a href="/settings/notifications" { "Notifications" }
                                form.signout method="post" action="/signout" {
                                    input type="hidden" name="csrf" value=(c.csrf_token.as_deref().unwrap_or(""));
                                    button.button.button-quiet type="submit" { "Sign out" }
                                }
                            }
                        } @else {
                            a.brand href="/" { "Plaudit" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    (body)
                }
                footer.site-footer {
                    p { "Plaudit — recognition for everyone who makes the work happen." }
                }
            }
        }
    }
}

/// An HTML answer with a status; pages are personal, so never cached.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (status, Html(markup.into_string())).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A page that explains why a request could not be served.
pub fn status_page(caller: Option<&Caller>, status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        div.error-page {
            p.status-code { (status.as_u16()) }
            h1 { (title) }
            p { (message) }
            p {
                @if caller.is_some() {
                    a href="/feed" { "Back to the feed" }
                } @else {
                    a href="/signin" { "Go to sign-in" }
                }
            }
        }
    };
    html_response(status, page(caller, Nav::None, title, body))
}

/// The error page of an app error that no form field is about.
pub fn error_page(caller: Option<&Caller>, e: &Error) -> Response {
    let status = status_of(e.kind);
    let (title, message) = match e.kind {
        ErrorKind::Forbidden => ("Not allowed", e.message.as_str()),
        ErrorKind::NotFound => ("Not found", e.message.as_str()),
        ErrorKind::Unauthenticated => ("Please sign in", e.message.as_str()),
        ErrorKind::Internal => {
            tracing::error!(code = e.code, message = %e.message, "page failed");
            ("Something went wrong", "Something went wrong on our side. Please try again in a moment.")
        }
        ErrorKind::Unavailable => ("Unavailable", "The service is unavailable right now. Please try again shortly."),
        _ => ("That did not work", e.message.as_str()),
    };
    let mut resp = status_page(caller, status, title, message);
    if let Some(secs) = e.retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

pub fn not_found_page(caller: Option<&Caller>) -> Response {
    status_page(caller, StatusCode::NOT_FOUND, "Page not found", "There is no page at this address.")
}

/// The one error a form shows: beside `field` when it names one of the
/// form's inputs, else at the top of the form.
#[derive(Debug, Clone)]
pub struct FormError {
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    /// `fields` maps the app's field names to this form's input names.
    pub fn from_error(e: &Error, fields: &[(&str, &str)]) -> FormError {
        let field = e
            .field
            .as_deref()
            .and_then(|f| fields.iter().find(|(app_field, _)| *app_field == f).map(|(_, input)| input.to_string()));
        let message = if e.kind == ErrorKind::Internal {
            tracing::error!(code = e.code, message = %e.message, "form failed");
            "Something went wrong on our side. Please try again in a moment.".to_string()
        } else {
            capitalise(&e.message)
        };
        FormError { field, message }
    }

    pub fn general(message: impl Into<String>) -> FormError {
        FormError { field: None, message: message.into() }
    }

    pub fn on(field: &str, message: impl Into<String>) -> FormError {
        FormError { field: Some(field.to_string()), message: message.into() }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The box at the top of a form that failed: a link to the field at fault,
/// or the whole message when no field is.
pub fn error_summary(error: Option<&FormError>, labels: &[(&str, &str)]) -> Markup {
    html! {
        @if let Some(e) = error {
            div.error-summary role="alert" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { "There is a problem" }
                @match e.field.as_deref() {
                    Some(f) => {
                        @let label = labels.iter().find(|(id, _)| *id == f).map_or(f, |(_, l)| *l);
                        p { a href={ "#" (f) } { (label) ": " (e.message) } }
                    }
                    None => { p data-testid="form-error" { (e.message) } }
                }
            }
        }
    }
}

/// A labelled input with its hint and, when it is at fault, its error;
/// both are tied to the input with `aria-describedby`.
pub struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub kind: &'a str,
    pub hint: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    pub required: bool,
    pub list: Option<&'a str>,
    pub data_fill_timezone: bool,
    pub spellcheck_off: bool,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str, value: &'a str) -> Field<'a> {
        Field {
            name,
            label,
            value,
            kind: "text",
            hint: None,
            autocomplete: None,
            required: false,
            list: None,
            data_fill_timezone: false,
            spellcheck_off: false,
        }
    }
    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
    pub fn autocomplete(mut self, v: &'a str) -> Self {
        self.autocomplete = Some(v);
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn list(mut self, id: &'a str) -> Self {
        self.list = Some(id);
        self
    }
    pub fn fill_timezone(mut self) -> Self {
        self.data_fill_timezone = true;
        self
    }
    pub fn no_spellcheck(mut self) -> Self {
        self.spellcheck_off = true;
        self
    }

    pub fn render(&self, error: Option<&FormError>) -> Markup {
        let FieldAria { message, hint_id, error_id, described } = field_aria(self.name, self.hint.is_some(), error);
        html! {
            div.field.field-invalid[message.is_some()] {
                label for=(self.name) { (self.label) @if !self.required { span.optional { " (optional)" } } }
                @if let Some(h) = self.hint { p.hint id=(hint_id) { (h) } }
                @if let Some(m) = message {
                    p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) }
                }
                input.input
                    id=(self.name)
                    name=(self.name)
                    type=(self.kind)
                    value=(self.value)
                    dir="auto"
                    aria-describedby=[described]
                    aria-invalid=[message.map(|_| "true")]
                    autocomplete=[self.autocomplete]
                    list=[self.list]
                    spellcheck=[self.spellcheck_off.then_some("false")]
                    autocapitalize=[self.spellcheck_off.then_some("none")]
                    data-fill-timezone[self.data_fill_timezone]
                    required[self.required];
            }
        }
    }
}

/// A labelled `<select>` with its error.
pub fn select_field(
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
    hint: Option<&str>,
    error: Option<&FormError>,
) -> Markup {
    let FieldAria { message, hint_id, error_id, described } = field_aria(name, hint.is_some(), error);
    html! {
        div.field.field-invalid[message.is_some()] {
            label for=(name) { (label) }
            @if let Some(h) = hint { p.hint id=(hint_id) { (h) } }
            @if let Some(m) = message {
                p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) }
            }
            select.input id=(name) name=(name) aria-describedby=[described] aria-invalid=[message.map(|_| "true")] {
                @for (value, text) in options {
                    option value=(value) selected[*value == selected] { (text) }
                }
            }
        }
    }
}

/// What one form field needs to point at its hint and error: the error
/// message for this field (if the failed submit was about it), the ids of the
/// hint and error paragraphs, and the `aria-describedby` joining them.
pub struct FieldAria<'a> {
    pub message: Option<&'a str>,
    pub hint_id: String,
    pub error_id: String,
    pub described: Option<String>,
}

pub fn field_aria<'a>(id: &str, has_hint: bool, error: Option<&'a FormError>) -> FieldAria<'a> {
    let message = error.filter(|e| e.field.as_deref() == Some(id)).map(|e| e.message.as_str());
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described: Vec<&str> =
        [has_hint.then_some(hint_id.as_str()), message.map(|_| error_id.as_str())].into_iter().flatten().collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    FieldAria { message, hint_id, error_id, described }
}

/// A labelled checkbox (an unchecked box sends nothing).
pub fn checkbox_field(name: &str, label: &str, checked: bool, hint: Option<&str>, error: Option<&FormError>) -> Markup {
    let FieldAria { message, hint_id, error_id, described } = field_aria(name, hint.is_some(), error);
    html! {
        div.field.field-checkbox.field-invalid[message.is_some()] {
            input id=(name) name=(name) type="checkbox" value="on" checked[checked]
                aria-describedby=[described] aria-invalid=[message.map(|_| "true")];
            label for=(name) { (label) }
            @if let Some(h) = hint { p.hint id=(hint_id) { (h) } }
            @if let Some(m) = message {
                p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) }
            }
        }
    }
}

/// The session's CSRF token as a hidden form field.
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}
