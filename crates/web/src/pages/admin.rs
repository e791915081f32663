//! The admin's recognition settings: company values, the currency, the
//! rules of giving and the monthly allowances. Each form posts on its own
//! and comes back here; a failure shows the page again with the error
//! beside the field at fault and what was typed kept.

use super::layout::{
    checkbox_field, csrf_input, error_page, error_summary, field_aria, html_response, page, Field, FieldAria,
    FormError, Nav,
};
use super::recognition::amount;
use super::{check_csrf, run, AdminCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::values::{NewValue, ValueChanges};
use plaudit_app::Caller;
use plaudit_domain::org::{Currency, Org, OrgPatch};
use plaudit_domain::recognition::CompanyValue;
use plaudit_domain::Error;
use serde::Deserialize;

// ---------------------------------------------------------------- forms

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewValueForm {
    pub csrf: String,
    pub new_value_name: String,
    pub new_value_emoji: String,
    pub new_value_description: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ValueForm {
    pub csrf: String,
    pub name: String,
    pub emoji: String,
    pub description: String,
    /// `up` or `down` (moving).
    pub direction: String,
    /// `true` or `false` (archiving).
    pub archived: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CurrencyForm {
    pub csrf: String,
    pub currency_emoji: String,
    pub currency_singular: String,
    pub currency_plural: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct RulesForm {
    pub csrf: String,
    pub default_allowance: String,
    pub max_points_per_recognition: String,
    pub allow_zero_point_posts: Option<String>,
    pub require_value: Option<String>,
    pub max_points_per_recipient_per_month: String,
    pub celebrations_enabled: Option<String>,
    pub anniversary_award_points: String,
    pub birthday_award_points: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AllowanceForm {
    pub csrf: String,
    /// `member` or `everyone`.
    pub allowance_scope: String,
    pub allowance_email: String,
    pub allowance_amount: String,
}

/// Every form of the page, as shown.
#[derive(Default, Clone)]
struct Forms {
    new_value: NewValueForm,
    /// The value whose edit failed, with what was typed.
    edit: Option<(String, ValueForm)>,
    currency: CurrencyForm,
    rules: RulesForm,
    allowance: AllowanceForm,
}

fn on(b: bool) -> Option<String> {
    b.then(|| "on".to_string())
}

impl Forms {
    fn of(org: &Org) -> Forms {
        Forms {
            new_value: NewValueForm::default(),
            edit: None,
            currency: CurrencyForm {
                csrf: String::new(),
                currency_emoji: org.currency.emoji.clone(),
                currency_singular: org.currency.name_singular.clone(),
                currency_plural: org.currency.name_plural.clone(),
            },
            rules: RulesForm {
                csrf: String::new(),
                default_allowance: org.default_allowance.to_string(),
                max_points_per_recognition: org.max_points_per_recognition.to_string(),
                allow_zero_point_posts: on(org.allow_zero_point_posts),
                require_value: on(org.require_value),
                max_points_per_recipient_per_month: org
                    .max_points_per_recipient_per_month
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                celebrations_enabled: on(org.celebrations_enabled),
                anniversary_award_points: org.anniversary_award_points.to_string(),
                birthday_award_points: org.birthday_award_points.to_string(),
            },
            allowance: AllowanceForm { allowance_scope: "member".into(), ..Default::default() },
        }
    }
}

fn whole(field: &str, s: &str) -> Result<i64, Error> {
    s.trim().parse::<i64>().map_err(|_| Error::invalid(field, "enter a whole number, such as 100"))
}

// ---------------------------------------------------------------- the page

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdminQuery {
    pub saved: String,
    pub n: String,
}

/// A text input whose id may differ from its name (the value editors share names).
#[allow(clippy::too_many_arguments)]
fn input(
    id: &str,
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    hint: Option<&str>,
    error: Option<&FormError>,
    required: bool,
) -> Markup {
    let FieldAria { message, hint_id, error_id, described } = field_aria(id, hint.is_some(), error);
    html! {
        div.field.field-invalid[message.is_some()] {
            label for=(id) { (label) @if !required { span.optional { " (optional)" } } }
            @if let Some(h) = hint { p.hint id=(hint_id) { (h) } }
            @if let Some(m) = message { p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) } }
            input.input id=(id) name=(name) type=(kind) value=(value) dir="auto"
                aria-describedby=[described] aria-invalid=[message.map(|_| "true")] required[required];
        }
    }
}

fn value_row(
    caller: &Caller,
    v: &CompanyValue,
    first: bool,
    last: bool,
    forms: &Forms,
    error: Option<&FormError>,
) -> Markup {
    let csrf = csrf_input(caller.csrf_token.as_deref().unwrap_or(""));
    let editing = forms.edit.as_ref().filter(|(id, _)| *id == v.id).map(|(_, f)| f);
    let (name, emoji, description) = match editing {
        Some(f) => (f.name.as_str(), f.emoji.as_str(), f.description.as_str()),
        None => (v.name.as_str(), v.emoji.as_str(), v.description.as_str()),
    };
    let prefix = format!("value-{}", v.id);
    let failed_here = error.is_some_and(|e| e.field.as_deref().is_some_and(|f| f.starts_with(&prefix)));
    html! {
        li.value-row.archived[v.archived] id=(prefix) {
            div.value-head {
                span.chip { span aria-hidden="true" { (v.emoji) } " " span dir="auto" { (v.name) } }
                @if v.archived { " " span.badge.badge-inactive { "Archived" } }
                @if !v.description.is_empty() { p.muted.value-description dir="auto" { (v.description) } }
            }
            div.value-actions {
                @if !v.archived {
                    form.inline method="post" action={ "/admin/recognition/values/" (v.id) "/move" } {
                        (csrf)
                        input type="hidden" name="direction" value="up";
                        button.button.button-quiet.button-small type="submit" disabled[first] {
                            "↑" span.visually-hidden { " Move " (v.name) " up" }
                        }
                    }
                    form.inline method="post" action={ "/admin/recognition/values/" (v.id) "/move" } {
                        (csrf)
                        input type="hidden" name="direction" value="down";
                        button.button.button-quiet.button-small type="submit" disabled[last] {
                            "↓" span.visually-hidden { " Move " (v.name) " down" }
                        }
                    }
                }
                form.inline method="post" action={ "/admin/recognition/values/" (v.id) "/archive" } {
                    (csrf)
                    input type="hidden" name="archived" value=(if v.archived { "false" } else { "true" });
                    button.button.button-quiet.button-small type="submit" {
                        @if v.archived { "Unarchive" } @else { "Archive" }
                        span.visually-hidden { " " (v.name) }
                    }
                }
            }
            details.value-edit open[failed_here] {
                summary { "Edit" span.visually-hidden { " " (v.name) } }
                form.form method="post" action={ "/admin/recognition/values/" (v.id) } novalidate {
                    (csrf)
                    (input(&format!("{prefix}-name"), "name", "Name", name, "text", None, error, true))
                    (input(&format!("{prefix}-emoji"), "emoji", "Emoji", emoji, "text", None, error, true))
                    (input(&format!("{prefix}-description"), "description", "Description", description, "text", None, error, false))
                    div.actions { button.button.button-small type="submit" { "Save value" span.visually-hidden { " " (v.name) } } }
                }
            }
        }
    }
}

fn admin_page(
    caller: &Caller,
    org: &Org,
    values: &[CompanyValue],
    forms: &Forms,
    error: Option<&FormError>,
    q: &AdminQuery,
) -> Markup {
    let csrf = csrf_input(caller.csrf_token.as_deref().unwrap_or(""));
    let active: Vec<&CompanyValue> = values.iter().filter(|v| !v.archived).collect();
    let archived: Vec<&CompanyValue> = values.iter().filter(|v| v.archived).collect();
    let mut labels: Vec<(String, String)> = [
        ("new_value_name", "New value: name"),
        ("new_value_emoji", "New value: emoji"),
        ("new_value_description", "New value: description"),
        ("currency_emoji", "Currency emoji"),
        ("currency_singular", "Currency name, one"),
        ("currency_plural", "Currency name, many"),
        ("default_allowance", "Monthly allowance"),
        ("max_points_per_recognition", "Most points per recipient in one recognition"),
        ("max_points_per_recipient_per_month", "Monthly cap per recipient"),
        ("anniversary_award_points", "Work anniversary award"),
        ("birthday_award_points", "Birthday award"),
        ("allowance_email", "Member's e-mail"),
        ("allowance_amount", "Allowance"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for v in values {
        for (f, l) in [("name", "name"), ("emoji", "emoji"), ("description", "description")] {
            labels.push((format!("value-{}-{f}", v.id), format!("{}: {l}", v.name)));
        }
    }
    let labels: Vec<(&str, &str)> = labels.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let notice = match q.saved.as_str() {
        "value" => Some("The value is saved.".to_string()),
        "order" => Some("The order of the values is saved.".to_string()),
        "archived" => Some("The value is archived: it stays on old posts but cannot be chosen any more.".to_string()),
        "unarchived" => Some("The value can be chosen again.".to_string()),
        "currency" => Some(format!("The currency is now {}.", amount(org, 2))),
        "rules" => Some("The recognition rules are saved.".to_string()),
        "allowance" => Some(match q.n.as_str() {
            "" => "The allowance is set.".to_string(),
            n => format!("The allowance is set for {n} members."),
        }),
        _ => None,
    };
    let f = forms;
    let r = &f.rules;
    let body = html! {
        h1 { "Values & rules" }
        p.lead { "What people recognise each other for, and how points work in " span dir="auto" { (org.name) } "." }
        @if let Some(n) = notice { div.notice role="status" { p { (n) } } }
        (error_summary(error, &labels))
        div.admin-grid {
            section.card #values-section aria-labelledby="values-title" {
                h2 #values-title { "Company values" }
                p.muted { "People pick these when they give recognition. Archived values stay on old posts." }
                @if values.is_empty() {
                    p.empty { "No values yet. Add the first one below." }
                } @else {
                    ol.value-list {
                        @for (i, v) in active.iter().enumerate() {
                            (value_row(caller, v, i == 0, i + 1 == active.len(), f, error))
                        }
                        @for v in &archived { (value_row(caller, v, true, true, f, error)) }
                    }
                }
                form.form.new-value method="post" action="/admin/recognition/values" novalidate {
                    (csrf)
                    h3 { "Add a value" }
                    div.field-row {
                        (input("new_value_emoji", "new_value_emoji", "Emoji", &f.new_value.new_value_emoji, "text", Some("One emoji, such as 🤝."), error, true))
                        (input("new_value_name", "new_value_name", "Name", &f.new_value.new_value_name, "text", Some("Up to 60 characters."), error, true))
                    }
                    (input("new_value_description", "new_value_description", "Description", &f.new_value.new_value_description, "text", None, error, false))
                    div.actions { button.button type="submit" { "Add value" } }
                }
            }
            section.card #currency-section aria-labelledby="currency-title" {
                h2 #currency-title { "Currency" }
                p.muted { "What your organisation calls its points. Shown as " strong { (amount(org, 20)) } "." }
                form.form method="post" action="/admin/recognition/currency" novalidate {
                    (csrf)
                    (Field::new("currency_emoji", "Currency emoji", &f.currency.currency_emoji).required().render(error))
                    (Field::new("currency_singular", "Currency name, one", &f.currency.currency_singular).required().hint("As in “1 point”.").render(error))
                    (Field::new("currency_plural", "Currency name, many", &f.currency.currency_plural).required().hint("As in “20 points”.").render(error))
                    div.actions { button.button type="submit" { "Save currency" } }
                }
            }
            section.card #rules-section aria-labelledby="rules-title" {
                h2 #rules-title { "Recognition rules" }
                form.form method="post" action="/admin/recognition/rules" novalidate {
                    (csrf)
                    (Field::new("default_allowance", "Monthly allowance", &r.default_allowance).kind("number").required()
                        .hint("What each member may give every month, unless their own allowance is set. It resets on the 1st.").render(error))
                    (Field::new("max_points_per_recognition", "Most points per recipient in one recognition", &r.max_points_per_recognition).kind("number").required().render(error))
                    (Field::new("max_points_per_recipient_per_month", "Monthly cap per recipient", &r.max_points_per_recipient_per_month).kind("number")
                        .hint("The most one person may give the same person in a month. Empty means no cap.").render(error))
                    (checkbox_field("allow_zero_point_posts", "Allow recognition without points", r.allow_zero_point_posts.is_some(), None, error))
                    (checkbox_field("require_value", "Require a company value on every recognition", r.require_value.is_some(), None, error))
                    (checkbox_field("celebrations_enabled", "Post work anniversaries and birthdays to the feed", r.celebrations_enabled.is_some(), None, error))
                    (Field::new("anniversary_award_points", "Work anniversary award", &r.anniversary_award_points).kind("number").required()
                        .hint("Points from the company with each work anniversary; 0 for none.").render(error))
                    (Field::new("birthday_award_points", "Birthday award", &r.birthday_award_points).kind("number").required()
                        .hint("Points from the company on each birthday; 0 for none.").render(error))
                    div.actions { button.button type="submit" { "Save rules" } }
                }
            }
            section.card #allowances-section aria-labelledby="allowances-title" {
                h2 #allowances-title { "Allowances" }
                p.muted { "Change what someone, or everyone, may give. This month's remainder follows the new amount, but never drops below what was given already." }
                form.form method="post" action="/admin/recognition/allowances" novalidate {
                    (csrf)
                    fieldset.radios {
                        legend { "Whose allowance" }
                        div.field-checkbox {
                            input #allowance_scope_member type="radio" name="allowance_scope" value="member" checked[f.allowance.allowance_scope != "everyone"];
                            label for="allowance_scope_member" { "One member" }
                        }
                        div.field-checkbox {
                            input #allowance_scope_everyone type="radio" name="allowance_scope" value="everyone" checked[f.allowance.allowance_scope == "everyone"];
                            label for="allowance_scope_everyone" { "Everyone (the new monthly allowance; own allowances are dropped)" }
                        }
                    }
                    (Field::new("allowance_email", "Member's e-mail", &f.allowance.allowance_email).kind("email").no_spellcheck()
                        .hint("Only for one member.").render(error))
                    (Field::new("allowance_amount", "Allowance", &f.allowance.allowance_amount).kind("number").required()
                        .hint("Points a month.").render(error))
                    div.actions { button.button type="submit" { "Set allowance" } }
                }
            }
        }
    };
    page(Some(caller), Nav::Recognition, "Values & rules", body)
}

async fn show(
    state: &AppState,
    caller: &Caller,
    forms: Option<Forms>,
    error: Option<FormError>,
    status: StatusCode,
    q: AdminQuery,
) -> Response {
    let c = caller.clone();
    match run(state, move |app| app.values(&c)).await {
        Ok(values) => {
            let org = &caller.org;
            let forms = forms.unwrap_or_else(|| Forms::of(org));
            html_response(status, admin_page(caller, org, &values, &forms, error.as_ref(), &q))
        }
        Err(e) => error_page(Some(caller), &e),
    }
}

/// `GET /admin/recognition`.
pub async fn show_page(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<AdminQuery>,
) -> Response {
    show(&state, &caller, None, None, StatusCode::OK, q).await
}

/// Shows the page again with `e` beside its field and the failed form as typed.
async fn failed(
    state: &AppState,
    caller: &Caller,
    e: &Error,
    fields: &[(&str, &str)],
    fill: impl FnOnce(&mut Forms),
) -> Response {
    let fe = FormError::from_error(e, fields);
    let mut forms = Forms::of(&caller.org);
    fill(&mut forms);
    show(state, caller, Some(forms), Some(fe), crate::http::status_of(e.kind), AdminQuery::default()).await
}

fn saved(what: &str, section: &str) -> Response {
    Redirect::to(&format!("/admin/recognition?saved={what}#{section}")).into_response()
}

// ---------------------------------------------------------------- values

pub async fn create_value(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<NewValueForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let new = NewValue {
        name: f.new_value_name.clone(),
        emoji: f.new_value_emoji.clone(),
        description: f.new_value_description.clone(),
        position: None,
    };
    let c = caller.clone();
    match run(&state, move |app| app.create_value(&c, new)).await {
        Ok(v) => Redirect::to(&format!("/admin/recognition?saved=value#value-{}", v.id)).into_response(),
        Err(e) => {
            let fields =
                [("name", "new_value_name"), ("emoji", "new_value_emoji"), ("description", "new_value_description")];
            failed(&state, &caller, &e, &fields, |forms| forms.new_value = f).await
        }
    }
}

pub async fn update_value(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ValueForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let changes = ValueChanges {
        name: Some(f.name.clone()),
        emoji: Some(f.emoji.clone()),
        description: Some(f.description.clone()),
        ..Default::default()
    };
    let (c, target) = (caller.clone(), id.clone());
    match run(&state, move |app| app.update_value(&c, &target, changes)).await {
        Ok(v) => Redirect::to(&format!("/admin/recognition?saved=value#value-{}", v.id)).into_response(),
        Err(e) => {
            let (n, em, d) =
                (format!("value-{id}-name"), format!("value-{id}-emoji"), format!("value-{id}-description"));
            let fields = [("name", n.as_str()), ("emoji", em.as_str()), ("description", d.as_str())];
            failed(&state, &caller, &e, &fields, |forms| forms.edit = Some((id.clone(), f))).await
        }
    }
}

/// The active values' order after moving `id` one place up or down,
/// renumbered 0, 1, 2 …
fn reordered(values: &[CompanyValue], id: &str, up: bool) -> Vec<(String, i64)> {
    let mut ids: Vec<&str> = values.iter().filter(|v| !v.archived).map(|v| v.id.as_str()).collect();
    if let Some(i) = ids.iter().position(|x| *x == id) {
        let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < ids.len()) };
        if let Some(j) = j {
            ids.swap(i, j);
        }
    }
    ids.iter().enumerate().map(|(i, id)| (id.to_string(), i as i64)).collect()
}

pub async fn move_value(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ValueForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let up = f.direction != "down";
    let c = caller.clone();
    let moved = run(&state, move |app| {
        let values = app.values(&c)?;
        if !values.iter().any(|v| v.id == id) {
            return Err(Error::not_found("value"));
        }
        for (vid, position) in reordered(&values, &id, up) {
            if values.iter().any(|v| v.id == vid && v.position != position) {
                app.update_value(&c, &vid, ValueChanges { position: Some(position), ..Default::default() })?;
            }
        }
        Ok(id)
    })
    .await;
    match moved {
        Ok(id) => Redirect::to(&format!("/admin/recognition?saved=order#value-{id}")).into_response(),
        Err(e) => error_page(Some(&caller), &e),
    }
}

pub async fn archive_value(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ValueForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let archived = f.archived != "false";
    let c = caller.clone();
    match run(&state, move |app| {
        app.update_value(&c, &id, ValueChanges { archived: Some(archived), ..Default::default() })
    })
    .await
    {
        Ok(v) => {
            let what = if archived { "archived" } else { "unarchived" };
            Redirect::to(&format!("/admin/recognition?saved={what}#value-{}", v.id)).into_response()
        }
        Err(e) => error_page(Some(&caller), &e),
    }
}

// ---------------------------------------------------------------- currency and rules

pub async fn currency(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<CurrencyForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let patch = OrgPatch {
        currency: Some(Currency {
            emoji: f.currency_emoji.clone(),
            name_singular: f.currency_singular.clone(),
            name_plural: f.currency_plural.clone(),
        }),
        ..Default::default()
    };
    let c = caller.clone();
    match run(&state, move |app| app.update_org(&c, patch)).await {
        Ok(_) => saved("currency", "currency-section"),
        Err(e) => {
            let fields = [
                ("currency.emoji", "currency_emoji"),
                ("currency.name_singular", "currency_singular"),
                ("currency.name_plural", "currency_plural"),
            ];
            failed(&state, &caller, &e, &fields, |forms| forms.currency = f).await
        }
    }
}

fn rules_patch(f: &RulesForm) -> Result<OrgPatch, Error> {
    let cap = match f.max_points_per_recipient_per_month.trim() {
        "" => None,
        s => Some(whole("max_points_per_recipient_per_month", s)?),
    };
    Ok(OrgPatch {
        default_allowance: Some(whole("default_allowance", &f.default_allowance)?),
        max_points_per_recognition: Some(whole("max_points_per_recognition", &f.max_points_per_recognition)?),
        allow_zero_point_posts: Some(f.allow_zero_point_posts.is_some()),
        require_value: Some(f.require_value.is_some()),
        max_points_per_recipient_per_month: Some(cap),
        celebrations_enabled: Some(f.celebrations_enabled.is_some()),
        anniversary_award_points: Some(whole("anniversary_award_points", &f.anniversary_award_points)?),
        birthday_award_points: Some(whole("birthday_award_points", &f.birthday_award_points)?),
        ..Default::default()
    })
}

const RULE_FIELDS: &[(&str, &str)] = &[
    ("default_allowance", "default_allowance"),
    ("max_points_per_recognition", "max_points_per_recognition"),
    ("max_points_per_recipient_per_month", "max_points_per_recipient_per_month"),
    ("allow_zero_point_posts", "allow_zero_point_posts"),
    ("require_value", "require_value"),
    ("celebrations_enabled", "celebrations_enabled"),
    ("anniversary_award_points", "anniversary_award_points"),
    ("birthday_award_points", "birthday_award_points"),
];

pub async fn rules(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<RulesForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let result = match rules_patch(&f) {
        Ok(patch) => {
            let c = caller.clone();
            run(&state, move |app| app.update_org(&c, patch)).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => saved("rules", "rules-section"),
        Err(e) => failed(&state, &caller, &e, RULE_FIELDS, |forms| forms.rules = f).await,
    }
}

// ---------------------------------------------------------------- allowances

pub async fn allowances(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<AllowanceForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let everyone = f.allowance_scope == "everyone";
    let (c, form) = (caller.clone(), f.clone());
    let done = run(&state, move |app| {
        let amount = whole("amount", &form.allowance_amount)?;
        if everyone {
            return app.set_allowance(&c, None, amount);
        }
        let email = form.allowance_email.trim();
        if email.is_empty() {
            return Err(Error::invalid("member", "enter the member's e-mail, or choose everyone"));
        }
        let m = app.find_member(&c, email)?.ok_or_else(|| {
            Error::invalid("member", format!("no member of this organisation has the e-mail '{email}'"))
        })?;
        app.set_allowance(&c, Some(&[m.id]), amount)
    })
    .await;
    match done {
        Ok(n) => {
            let to = if everyone {
                format!("/admin/recognition?saved=allowance&n={n}#allowances-section")
            } else {
                "/admin/recognition?saved=allowance#allowances-section".to_string()
            };
            Redirect::to(&to).into_response()
        }
        Err(e) => {
            let fields =
                [("amount", "allowance_amount"), ("member", "allowance_email"), ("members", "allowance_email")];
            failed(&state, &caller, &e, &fields, |forms| forms.allowance = f).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(id: &str, position: i64, archived: bool) -> CompanyValue {
        CompanyValue {
            id: id.into(),
            org_id: "o".into(),
            name: id.into(),
            emoji: "🤝".into(),
            description: String::new(),
            position,
            archived,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn moving_a_value_swaps_it_with_its_neighbour() {
        let values = [value("a", 0, false), value("b", 0, false), value("c", 5, false), value("x", 1, true)];
        let order = |moves: Vec<(String, i64)>| moves.into_iter().map(|(id, _)| id).collect::<Vec<_>>().join("");
        assert_eq!(order(reordered(&values, "b", true)), "bac");
        assert_eq!(order(reordered(&values, "b", false)), "acb");
        assert_eq!(order(reordered(&values, "a", true)), "abc");
        assert_eq!(order(reordered(&values, "c", false)), "abc");
        assert_eq!(reordered(&values, "c", true).last(), Some(&("b".to_string(), 2)));
    }
}
