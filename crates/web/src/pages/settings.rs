//! Organisation settings (admins).

use super::account::timezone_datalist;
use super::layout::{csrf_input, error_summary, html_response, page, Field, FormError, Nav};
use super::{check_csrf, run, AdminCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::Caller;
use plaudit_domain::org::OrgPatch;
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SettingsForm {
    pub csrf: String,
    pub name: String,
    pub timezone: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsQuery {
    pub saved: String,
}

const LABELS: &[(&str, &str)] = &[("name", "Organisation name"), ("timezone", "Time zone")];

fn settings_page(caller: &Caller, f: &SettingsForm, error: Option<&FormError>, saved: bool) -> Markup {
    let org = &caller.org;
    let body = html! {
        h1 { "Settings" }
        @if saved { div.notice role="status" { p { "Settings saved." } } }
        (error_summary(error, LABELS))
        form.form method="post" action="/settings" novalidate {
            (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
            fieldset {
                legend { "Organisation" }
                (Field::new("name", "Organisation name", &f.name).required().autocomplete("organization").render(error))
                (Field::new("timezone", "Time zone", &f.timezone).required().list("timezones").no_spellcheck()
                    .hint("An IANA time zone such as Europe/Oslo. Monthly allowances reset and anniversaries fall in it.")
                    .render(error))
                (timezone_datalist())
            }
            div.actions { button.button type="submit" { "Save settings" } }
        }
        section.about aria-labelledby="about-title" {
            h2 #about-title { "About this organisation" }
            dl.facts {
                div { dt { "Short name" } dd { code { (org.slug) } } }
                div { dt { "Plan" } dd { @if org.plan.as_str() == "paid" { "Paid" } @else { "Free (up to 50 active members)" } } }
                div { dt { "Currency" } dd { (org.currency.emoji) " " (org.currency.name_plural) } }
                div { dt { "Monthly allowance" } dd { (org.default_allowance) " " (org.currency.name_plural) } }
            }
        }
    };
    page(Some(caller), Nav::Settings, "Settings", body)
}

pub async fn settings_form(AdminCaller(caller): AdminCaller, PageQuery(q): PageQuery<SettingsQuery>) -> Response {
    let f = SettingsForm { csrf: String::new(), name: caller.org.name.clone(), timezone: caller.org.timezone.clone() };
    html_response(StatusCode::OK, settings_page(&caller, &f, None, !q.saved.is_empty()))
}

pub async fn save(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<SettingsForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let patch = OrgPatch { name: Some(f.name.clone()), timezone: Some(f.timezone.clone()), ..Default::default() };
    let c = caller.clone();
    match run(&state, move |app| app.update_org(&c, patch)).await {
        Ok(_) => Redirect::to("/settings?saved=1").into_response(),
        Err(e) => {
            let fe = FormError::from_error(&e, &[("name", "name"), ("timezone", "timezone")]);
            html_response(crate::http::status_of(e.kind), settings_page(&caller, &f, Some(&fe), false))
        }
    }
}
