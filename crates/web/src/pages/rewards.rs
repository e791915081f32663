//! Rewards in the browser. Members: the catalog (filter by kind, what I can
//! afford), redeeming with a confirmation, "my redemptions" with codes and
//! a notice of what changed. Admins: the catalog and stock, the fulfilment
//! queue (fulfil with a code, decline with a reason) and the monthly
//! statement with its CSV.

use super::layout::{
    checkbox_field, csrf_input, error_page, error_summary, field_aria, html_response, page, select_field, Field,
    FieldAria, FormError, Nav,
};
use super::recognition::{amount, local};
use super::{button_post, check_csrf, query_string, run, AdminCaller, CsrfForm, PageCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::rewards::{NewReward, RewardChanges};
use plaudit_app::Caller;
use plaudit_domain::rewards::{format_money, Redemption, RedemptionStatus, Reward, RewardKind};
use plaudit_domain::Error;
use serde::Deserialize;

fn csrf(c: &Caller) -> Markup {
    csrf_input(c.csrf_token.as_deref().unwrap_or(""))
}

fn money(r: &Reward) -> Option<String> {
    match (r.face_value_minor, r.currency.as_deref()) {
        (Some(v), Some(c)) => Some(format_money(v, c)),
        _ => None,
    }
}

fn status_badge(s: RedemptionStatus) -> Markup {
    let class = match s {
        RedemptionStatus::Pending => "badge badge-award",
        RedemptionStatus::Fulfilled => "badge badge-celebration",
        _ => "badge badge-inactive",
    };
    html! { span class=(class) data-testid="redemption-status" { (s.as_str()) } }
}

fn kind_options() -> Vec<(&'static str, &'static str)> {
    RewardKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect()
}

// ---------------------------------------------------------------- catalog

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CatalogQuery {
    pub kind: String,
    pub affordable: Option<String>,
}

pub async fn catalog(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<CatalogQuery>,
) -> Response {
    let kind = RewardKind::parse(&q.kind).ok();
    let c = caller.clone();
    let loaded = run(&state, move |app| {
        let rewards = app.rewards(&c, false, kind)?;
        let balance = app.balance(&c, &c.member.id)?.earned;
        let unseen = app.unseen_redemptions(&c)?;
        Ok((rewards, balance, unseen))
    })
    .await;
    let (mut rewards, balance, unseen) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(Some(&caller), &e),
    };
    let affordable = q.affordable.is_some();
    if affordable {
        rewards.retain(|r| r.cost_points <= balance && r.stock != Some(0));
    }
    let org = &caller.org;
    let mut kinds = vec![("", "All kinds")];
    kinds.extend(kind_options());
    let body = html! {
        h1 { "Rewards" }
        p.lead data-testid="earned-balance" { "You have " strong { (amount(org, balance)) } " to spend." }
        @if unseen > 0 {
            div.notice role="status" data-testid="redemption-notice" {
                p { (unseen) " of your redemptions changed. " a href="/redemptions" { "See my redemptions" } }
            }
        }
        form.filters method="get" action="/rewards" aria-label="Filter rewards" {
            (select_field("kind", "Kind", &kinds, &q.kind, None, None))
            (checkbox_field("affordable", "Only what I can afford now", affordable, None, None))
            button.button type="submit" { "Show" }
        }
        p { a href="/redemptions" { "My redemptions" } }
        @if rewards.is_empty() {
            p.empty { "No rewards match." }
        } @else {
            ul.reward-list {
                @for r in &rewards {
                    li.card.reward data-testid="reward" {
                        @if r.image_type.is_some() {
                            img src={ "/api/v1/rewards/" (r.id) "/image" } alt="" width="96" height="96";
                        }
                        h2 dir="auto" { (r.name) }
                        p.muted { (r.kind.label()) @if let Some(m) = money(r) { " · " (m) } }
                        @if !r.description.is_empty() { p dir="auto" { (r.description) } }
                        p { strong { (amount(org, r.cost_points)) } }
                        @if let Some(s) = r.stock { p.muted { (s) " left" } }
                        @if r.stock == Some(0) {
                            p { span.badge.badge-inactive { "Out of stock" } }
                        } @else if r.cost_points > balance {
                            p.muted { (amount(org, r.cost_points - balance)) " more needed" }
                        } @else {
                            a.button href={ "/rewards/" (r.id) "/redeem" } { "Redeem " span.visually-hidden { (r.name) } }
                        }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(Some(&caller), Nav::Rewards, "Rewards", body))
}

// ---------------------------------------------------------------- redeeming

fn confirm_page(caller: &Caller, r: &Reward, balance: i64, error: Option<&FormError>) -> Response {
    let org = &caller.org;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let body = html! {
        h1 { "Redeem " span dir="auto" { (r.name) } }
        (error_summary(error, &[]))
        section.card {
            p { "This costs " strong { (amount(org, r.cost_points)) } ". You have " (amount(org, balance)) "." }
            @if balance >= r.cost_points {
                p { "Afterwards you will have " (amount(org, balance - r.cost_points)) "." }
            }
            @if r.requires_approval {
                p.muted { "An admin fulfils it; you can cancel while it is pending." }
            }
            form method="post" action={ "/rewards/" (r.id) "/redeem" } {
                (csrf(caller))
                // One redemption however often the button is pressed.
                input type="hidden" name="key" value=(plaudit_store::new_id());
                button.button type="submit" { "Confirm: redeem for " (amount(org, r.cost_points)) }
                " "
                a href="/rewards" { "Back to the rewards" }
            }
        }
    };
    html_response(status, page(Some(caller), Nav::Rewards, "Redeem", body))
}

pub async fn confirm(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let c = caller.clone();
    match run(&state, move |app| Ok((app.reward(&c, &id)?, app.balance(&c, &c.member.id)?.earned))).await {
        Ok((r, balance)) => confirm_page(&caller, &r, balance, None),
        Err(e) => error_page(Some(&caller), &e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RedeemForm {
    pub csrf: String,
    pub key: String,
}

pub async fn redeem(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<RedeemForm>,
) -> Response {
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let c = caller.clone();
    let rid = id.clone();
    match run(&state, move |app| app.redeem(&c, &rid, Some(&f.key))).await {
        Ok(done) => Redirect::to(&format!("/redemptions?redeemed={}", done.redemption.id)).into_response(),
        Err(e)
            if matches!(
                e.kind,
                plaudit_domain::ErrorKind::Validation
                    | plaudit_domain::ErrorKind::Conflict
                    | plaudit_domain::ErrorKind::Forbidden
            ) && e.code != "not_permitted" =>
        {
            let c = caller.clone();
            match run(&state, move |app| Ok((app.reward(&c, &id)?, app.balance(&c, &c.member.id)?.earned))).await {
                Ok((r, balance)) => confirm_page(&caller, &r, balance, Some(&FormError::from_error(&e, &[]))),
                Err(e2) => error_page(Some(&caller), &e2),
            }
        }
        Err(e) => error_page(Some(&caller), &e),
    }
}

// ---------------------------------------------------------------- my redemptions

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MineQuery {
    pub redeemed: String,
    pub cancelled: String,
}

pub async fn mine(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<MineQuery>,
) -> Response {
    let c = caller.clone();
    let loaded = run(&state, move |app| {
        let page = app.redemptions(&c, None, None, None, 100)?;
        let rewards = app.rewards(&c, true, None)?;
        // Looking at the list is seeing the changes.
        let mut changed: Vec<String> = Vec::new();
        let unseen = app.unseen_redemptions(&c)?;
        if unseen > 0 {
            changed = app
                .store
                .read(|tx| {
                    tx.list_redemptions(
                        &c.org.id,
                        &plaudit_store::RedemptionFilter { member_id: Some(c.member.id.clone()), status: None },
                        None,
                        100,
                    )
                })?
                .into_iter()
                .filter(|r| !r.member_seen)
                .map(|r| r.id)
                .collect();
            app.mark_redemptions_seen(&c)?;
        }
        Ok((page.items, rewards, changed))
    })
    .await;
    let (items, rewards, changed) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(Some(&caller), &e),
    };
    let name_of = |id: &str| rewards.iter().find(|r| r.id == id).map_or("a reward".to_string(), |r| r.name.clone());
    let org = &caller.org;
    let body = html! {
        h1 { "My redemptions" }
        @if !q.redeemed.is_empty() {
            div.notice role="status" { p { "Redeemed. You can follow it here." } }
        }
        @if !q.cancelled.is_empty() {
            div.notice role="status" { p { "Cancelled: your points are back." } }
        }
        @if !changed.is_empty() {
            div.notice role="status" data-testid="redemption-notice" {
                p { "Updates since you last looked:" }
                ul {
                    @for r in items.iter().filter(|r| changed.contains(&r.id)) {
                        li { span dir="auto" { (name_of(&r.reward_id)) } ": " (r.status.as_str()) }
                    }
                }
            }
        }
        p { a href="/rewards" { "Back to the rewards" } }
        @if items.is_empty() {
            p.empty { "You have not redeemed anything yet." }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "My redemptions, newest first" }
                    thead { tr { th scope="col" { "Reward" } th scope="col" { "Points" } th scope="col" { "Status" } th scope="col" { "Redeemed" } th scope="col" { "Details" } } }
                    tbody {
                        @for r in &items {
                            tr data-testid="my-redemption" {
                                td dir="auto" { (name_of(&r.reward_id)) }
                                td { (amount(org, r.points)) }
                                td { (status_badge(r.status)) }
                                td { (local(org, r.created_at, "%-d %B %Y")) }
                                td {
                                    @if let Some(code) = &r.code { p { "Code: " code data-testid="redemption-code" { (code) } } }
                                    @if let Some(note) = &r.note { p dir="auto" { (note) } }
                                    @if let Some(reason) = &r.reason { p dir="auto" { "Reason: " (reason) } }
                                    @if r.status == RedemptionStatus::Pending {
                                        form.inline method="post" action={ "/redemptions/" (r.id) "/cancel" } {
                                            (csrf(&caller))
                                            button.button.button-quiet.button-small type="submit" { "Cancel " span.visually-hidden { (name_of(&r.reward_id)) } }
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
    html_response(StatusCode::OK, page(Some(&caller), Nav::Rewards, "My redemptions", body))
}

pub async fn cancel(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    button_post(&state, &caller, &f.csrf, move |app, c| app.cancel(c, &id), |_| "/redemptions?cancelled=1".into()).await
}

// ---------------------------------------------------------------- admin: catalog and queue

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewRewardForm {
    pub csrf: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub cost_points: String,
    pub face_value: String,
    pub stock: String,
    pub per_member_monthly_limit: String,
    pub requires_approval: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdminQuery {
    pub saved: String,
}

fn opt_int(field: &str, s: &str) -> Result<Option<i64>, Error> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>().map(Some).map_err(|_| Error::invalid(field, "enter a whole number, or leave it empty"))
}

/// `25.00` or `25` in major units → minor units (two decimals).
fn parse_money(s: &str) -> Result<Option<i64>, Error> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid("face_value_minor", "enter an amount such as 25.00");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 2 || whole.is_empty() {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    Ok(Some(whole * 100 + frac))
}

const REWARD_FIELDS: &[(&str, &str)] = &[
    ("kind", "kind"),
    ("name", "name"),
    ("description", "description"),
    ("cost_points", "cost_points"),
    ("face_value_minor", "face_value"),
    ("currency", "face_value"),
    ("stock", "stock"),
    ("per_member_monthly_limit", "per_member_monthly_limit"),
];

struct QueueItem {
    r: Redemption,
    member: String,
    reward: String,
}

async fn admin_page(
    state: &AppState,
    caller: &Caller,
    form: NewRewardForm,
    error: Option<FormError>,
    saved: &str,
    edit: Option<(String, UpdateForm)>,
) -> Response {
    let c = caller.clone();
    let loaded = run(state, move |app| {
        let rewards = app.rewards(&c, true, None)?;
        let pending = app.redemptions(&c, None, Some(RedemptionStatus::Pending), None, 100)?.items;
        let fulfilled = app.redemptions(&c, None, Some(RedemptionStatus::Fulfilled), None, 20)?.items;
        let mut queue = Vec::new();
        let mut done = Vec::new();
        for (r, target) in pending.into_iter().map(|r| (r, 0)).chain(fulfilled.into_iter().map(|r| (r, 1))) {
            let member = app
                .store
                .read(|tx| tx.member_by_id(&c.org.id, &r.member_id))?
                .map_or(String::new(), |m| m.profile.display_name);
            let reward = rewards.iter().find(|w| w.id == r.reward_id).map_or(String::new(), |w| w.name.clone());
            let item = QueueItem { r, member, reward };
            if target == 0 {
                queue.push(item);
            } else {
                done.push(item);
            }
        }
        Ok((rewards, queue, done))
    })
    .await;
    let (rewards, queue, done) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(Some(caller), &e),
    };
    let org = &caller.org;
    let error = error.as_ref();
    let notice = match saved {
        "created" => Some("The reward is in the catalog."),
        "updated" => Some("The reward is saved."),
        "fulfilled" => Some("Fulfilled: the member can see it now."),
        "declined" => Some("Declined: the member has their points back."),
        _ => None,
    };
    let money_hint = match (org.point_value_minor, org.money_currency.as_deref()) {
        (Some(pv), Some(c)) => {
            format!("In {c}. The points cost follows from it: one point is worth {}, rounded up.", format_money(pv, c))
        }
        _ => "Set the point value in Settings first.".to_string(),
    };
    let edit_labels: Vec<(String, &str)> =
        edit.iter().flat_map(|(id, _)| EDIT_LABELS.iter().map(move |(f, l)| (format!("edit-{f}-{id}"), *l))).collect();
    let mut labels =
        vec![("name", "Name"), ("cost_points", "Points cost"), ("face_value", "Face value"), ("kind", "Kind")];
    labels.extend(edit_labels.iter().map(|(f, l)| (f.as_str(), *l)));
    let body = html! {
        h1 { "Rewards admin" }
        p { a href="/admin/statements" { "Billing statements" } }
        @if let Some(n) = notice { div.notice role="status" { p { (n) } } }
        (error_summary(error, &labels))
        section.card aria-labelledby="queue-title" {
            h2 #queue-title { "Fulfilment queue" }
            @if queue.is_empty() {
                p.empty { "Nothing waits for you." }
            } @else {
                ul.queue {
                    @for q in &queue {
                        li.card data-testid="queue-item" {
                            p { strong dir="auto" { (q.member) } " redeemed " strong dir="auto" { (q.reward) } " for " (amount(org, q.r.points)) " on " (local(org, q.r.created_at, "%-d %B %Y")) "." }
                            form method="post" action={ "/admin/redemptions/" (q.r.id) "/fulfil" } {
                                (csrf(caller))
                                (named_input(&format!("code-{}", q.r.id), "code", "Gift-card code", Some("Shown only to the member and admins; stored encrypted."), error))
                                (named_input(&format!("note-{}", q.r.id), "note", "Note to the member", None, error))
                                button.button type="submit" { "Fulfil " span.visually-hidden { (q.reward) " for " (q.member) } }
                            }
                            form method="post" action={ "/admin/redemptions/" (q.r.id) "/decline" } {
                                (csrf(caller))
                                (named_input(&format!("reason-{}", q.r.id), "reason", "Reason for declining", None, error))
                                button.button.button-danger type="submit" { "Decline " span.visually-hidden { (q.reward) " for " (q.member) } }
                            }
                        }
                    }
                }
            }
        }
        @if !done.is_empty() {
            section.card aria-labelledby="done-title" {
                h2 #done-title { "Recently fulfilled" }
                p.muted { "Declining a fulfilled redemption gives the points back and puts a negative line on this month's statement." }
                ul.queue {
                    @for q in &done {
                        li.card data-testid="fulfilled-item" {
                            p { strong dir="auto" { (q.member) } ": " span dir="auto" { (q.reward) } ", " (amount(org, q.r.points))
                                @if let Some(at) = q.r.fulfilled_at { ", fulfilled " (local(org, at, "%-d %B %Y")) } }
                            form method="post" action={ "/admin/redemptions/" (q.r.id) "/decline" } {
                                (csrf(caller))
                                (named_input(&format!("reason-{}", q.r.id), "reason", "Reason for the refund", None, error))
                                button.button.button-danger.button-small type="submit" { "Refund " span.visually-hidden { (q.reward) " for " (q.member) } }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="catalog-title" {
            h2 #catalog-title { "Catalog and stock" }
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Reward" } th scope="col" { "Cost" } th scope="col" { "Face value" } th scope="col" { "Stock" } th scope="col" { "Actions" } } }
                    tbody {
                        @for r in &rewards {
                            tr.archived[r.archived] {
                                td dir="auto" { (r.name) " " span.muted { "(" (r.kind.label()) ")" } @if r.archived { " " span.badge.badge-inactive { "Archived" } } }
                                td { (amount(org, r.cost_points)) }
                                td { (money(r).unwrap_or_else(|| "—".into())) }
                                td {
                                    form.inline method="post" action={ "/admin/rewards/" (r.id) } {
                                        (csrf(caller))
                                        label for={ "stock-" (r.id) } { "Stock of " (r.name) }
                                        input.input.input-small id={ "stock-" (r.id) } name="stock" type="number" min="0"
                                            value=(r.stock.map(|s| s.to_string()).unwrap_or_default()) placeholder="unlimited";
                                        button.button.button-small type="submit" name="action" value="stock" { "Save stock" }
                                    }
                                }
                                td {
                                    form.inline method="post" action={ "/admin/rewards/" (r.id) } {
                                        (csrf(caller))
                                        @if r.archived {
                                            button.button.button-quiet.button-small type="submit" name="action" value="unarchive" { "Restore " span.visually-hidden { (r.name) } }
                                        } @else {
                                            button.button.button-quiet.button-small type="submit" name="action" value="archive" { "Archive " span.visually-hidden { (r.name) } }
                                        }
                                    }
                                    (edit_form(caller, r, edit.as_ref().filter(|(id, _)| *id == r.id).map(|(_, f)| f), error))
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="new-title" {
            h2 #new-title { "Add a reward" }
            form method="post" action="/admin/rewards" novalidate {
                (csrf(caller))
                (select_field("kind", "Kind", &kind_options(), if form.kind.is_empty() { "culture" } else { &form.kind }, Some("Gift cards and donations need the paid plan."), error))
                (Field::new("name", "Name", &form.name).required().render(error))
                (Field::new("description", "Description", &form.description).render(error))
                (Field::new("cost_points", "Points cost", &form.cost_points).kind("number").hint("For rewards without a face value.").render(error))
                (Field::new("face_value", "Face value", &form.face_value).hint(&money_hint).render(error))
                (Field::new("stock", "Stock", &form.stock).kind("number").hint("Leave empty for unlimited.").render(error))
                (Field::new("per_member_monthly_limit", "Limit per member per month", &form.per_member_monthly_limit).kind("number").render(error))
                (checkbox_field("requires_approval", "An admin approves each redemption", form.requires_approval.is_some() || form.name.is_empty(), None, error))
                button.button type="submit" { "Add the reward" }
            }
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html_response(status, page(Some(caller), Nav::RewardsAdmin, "Rewards admin", body))
}

const EDIT_LABELS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("description", "Description"),
    ("cost_points", "Points cost"),
    ("face_value", "Face value"),
    ("stock", "Stock"),
    ("per_member_monthly_limit", "Limit per member per month"),
];

/// Whether a reward is priced by its face value (the points cost follows from it).
fn priced_by_face_value(r: &Reward) -> bool {
    r.kind.needs_face_value() || r.face_value_minor.is_some()
}

/// Minor units → `25.00` (the inverse of `parse_money`).
fn major_units(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// A labelled input of the edit form of one reward: ids are `edit-{name}-{reward id}`.
#[allow(clippy::too_many_arguments)]
fn edit_input(
    rid: &str,
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    hint: Option<&str>,
    required: bool,
    error: Option<&FormError>,
) -> Markup {
    let id = format!("edit-{name}-{rid}");
    let FieldAria { message, hint_id, error_id, described } = field_aria(&id, hint.is_some(), error);
    html! {
        div.field.field-invalid[message.is_some()] {
            label for=(id) { (label) @if !required { span.optional { " (optional)" } } }
            @if let Some(h) = hint { p.hint id=(hint_id) { (h) } }
            @if let Some(m) = message { p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) } }
            input.input id=(id) name=(name) type=(kind) value=(value) dir="auto" autocomplete="off"
                aria-describedby=[described] aria-invalid=[message.map(|_| "true")] required[required];
        }
    }
}

/// The edit form of one reward, open (with what was sent) when it failed.
fn edit_form(caller: &Caller, r: &Reward, sent: Option<&UpdateForm>, error: Option<&FormError>) -> Markup {
    let by_face = priced_by_face_value(r);
    let currency = r.currency.clone().or_else(|| caller.org.money_currency.clone()).unwrap_or_default();
    let pick = |sent: Option<&String>, stored: String| sent.cloned().unwrap_or(stored);
    let name = pick(sent.and_then(|f| f.name.as_ref()), r.name.clone());
    let description = pick(sent.and_then(|f| f.description.as_ref()), r.description.clone());
    let cost = pick(sent.and_then(|f| f.cost_points.as_ref()), r.cost_points.to_string());
    let face = pick(sent.and_then(|f| f.face_value.as_ref()), r.face_value_minor.map(major_units).unwrap_or_default());
    let stock = sent.map_or_else(|| r.stock.map(|s| s.to_string()).unwrap_or_default(), |f| f.stock.clone());
    let limit = sent.map_or_else(
        || r.per_member_monthly_limit.map(|s| s.to_string()).unwrap_or_default(),
        |f| f.per_member_monthly_limit.clone(),
    );
    let approval = sent.map_or(r.requires_approval, |f| f.requires_approval.is_some());
    let face_label = if currency.is_empty() { "Face value".to_string() } else { format!("Face value ({currency})") };
    let face_hint = if currency.is_empty() {
        "Set the point value in Settings first.".to_string()
    } else {
        format!("In {currency}; the points cost follows from it, rounded up.")
    };
    let approval_id = format!("edit-requires_approval-{}", r.id);
    html! {
        details.reward-edit open[sent.is_some()] data-testid="reward-edit" {
            summary { "Edit " span.visually-hidden { (r.name) } }
            form method="post" action={ "/admin/rewards/" (r.id) } novalidate {
                (csrf(caller))
                (edit_input(&r.id, "name", "Name", &name, "text", None, true, error))
                (edit_input(&r.id, "description", "Description", &description, "text", None, false, error))
                @if by_face {
                    (edit_input(&r.id, "face_value", &face_label, &face, "text", Some(&face_hint), true, error))
                    p.muted { "Points cost now: " (amount(&caller.org, r.cost_points)) }
                } @else {
                    (edit_input(&r.id, "cost_points", "Points cost", &cost, "number", None, true, error))
                }
                (edit_input(&r.id, "stock", "Stock", &stock, "number", Some("Leave empty for unlimited."), false, error))
                (edit_input(&r.id, "per_member_monthly_limit", "Limit per member per month", &limit, "number", None, false, error))
                div.field.field-checkbox {
                    input id=(approval_id) name="requires_approval" type="checkbox" value="on" checked[approval];
                    label for=(approval_id) { "An admin approves each redemption" }
                }
                button.button.button-small type="submit" name="action" value="edit" { "Save " span.visually-hidden { (r.name) } }
            }
        }
    }
}

/// An optional text input whose id (unique on the page) differs from its name.
fn named_input(id: &str, name: &str, label: &str, hint: Option<&str>, error: Option<&FormError>) -> Markup {
    let FieldAria { message, hint_id, error_id, described } = field_aria(id, hint.is_some(), error);
    html! {
        div.field.field-invalid[message.is_some()] {
            label for=(id) { (label) span.optional { " (optional)" } }
            @if let Some(h) = hint { p.hint id=(hint_id) { (h) } }
            @if let Some(m) = message { p.field-error id=(error_id) { span.visually-hidden { "Error: " } (m) } }
            input.input id=(id) name=(name) type="text" dir="auto" autocomplete="off"
                aria-describedby=[described] aria-invalid=[message.map(|_| "true")];
        }
    }
}

pub async fn admin(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<AdminQuery>,
) -> Response {
    admin_page(&state, &caller, NewRewardForm::default(), None, &q.saved, None).await
}

pub async fn create(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageForm(f): PageForm<NewRewardForm>,
) -> Response {
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let parsed = (|| -> Result<NewReward, Error> {
        Ok(NewReward {
            kind: RewardKind::parse(&f.kind)?,
            name: f.name.clone(),
            description: f.description.clone(),
            cost_points: opt_int("cost_points", &f.cost_points)?,
            face_value_minor: parse_money(&f.face_value)?,
            currency: None,
            stock: opt_int("stock", &f.stock)?,
            per_member_monthly_limit: opt_int("per_member_monthly_limit", &f.per_member_monthly_limit)?,
            requires_approval: Some(f.requires_approval.is_some()),
        })
    })();
    let c = caller.clone();
    let result = match parsed {
        Ok(new) => run(&state, move |app| app.create_reward(&c, new)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to("/admin/rewards?saved=created").into_response(),
        Err(e) if e.kind == plaudit_domain::ErrorKind::Internal => error_page(Some(&caller), &e),
        Err(e) => {
            let err = FormError::from_error(&e, REWARD_FIELDS);
            admin_page(&state, &caller, f, Some(err), "", None).await
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct UpdateForm {
    pub csrf: String,
    pub action: String,
    pub stock: String,
    // The edit form (`action=edit`); a field the form did not send stays as it is.
    pub name: Option<String>,
    pub description: Option<String>,
    pub cost_points: Option<String>,
    pub face_value: Option<String>,
    pub per_member_monthly_limit: String,
    pub requires_approval: Option<String>,
}

/// What the edit form asks to change.
fn edit_changes(f: &UpdateForm) -> Result<RewardChanges, Error> {
    let cost_points = match &f.cost_points {
        Some(s) => Some(
            opt_int("cost_points", s)?.ok_or_else(|| Error::invalid("cost_points", "say how many points it costs"))?,
        ),
        None => None,
    };
    let face_value_minor = match &f.face_value {
        Some(s) => Some(parse_money(s)?),
        None => None,
    };
    Ok(RewardChanges {
        name: f.name.clone(),
        description: f.description.clone(),
        cost_points,
        face_value_minor,
        stock: Some(opt_int("stock", &f.stock)?),
        per_member_monthly_limit: Some(opt_int("per_member_monthly_limit", &f.per_member_monthly_limit)?),
        requires_approval: Some(f.requires_approval.is_some()),
        ..Default::default()
    })
}

pub async fn update(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<UpdateForm>,
) -> Response {
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let changes = match f.action.as_str() {
        "edit" => edit_changes(&f),
        "archive" => Ok(RewardChanges { archived: Some(true), ..Default::default() }),
        "unarchive" => Ok(RewardChanges { archived: Some(false), ..Default::default() }),
        _ => opt_int("stock", &f.stock).map(|s| RewardChanges { stock: Some(s), ..Default::default() }),
    };
    let c = caller.clone();
    let rid = id.clone();
    let result = match changes {
        Ok(ch) => run(&state, move |app| app.update_reward(&c, &id, ch)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to("/admin/rewards?saved=updated").into_response(),
        Err(e) if e.kind == plaudit_domain::ErrorKind::Internal => error_page(Some(&caller), &e),
        Err(e) if f.action == "edit" => {
            let err = FormError::from_error(&e, REWARD_FIELDS);
            let field = err.field.map(|input| format!("edit-{input}-{rid}"));
            let err = FormError { field, message: err.message };
            admin_page(&state, &caller, NewRewardForm::default(), Some(err), "", Some((rid, f))).await
        }
        Err(e) => {
            admin_page(&state, &caller, NewRewardForm::default(), Some(FormError::general(e.message)), "", None).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FulfilForm {
    pub csrf: String,
    pub code: String,
    pub note: String,
    pub reason: String,
}

pub async fn fulfil(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<FulfilForm>,
) -> Response {
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let c = caller.clone();
    let rid = id.clone();
    match run(&state, move |app| app.fulfil(&c, &rid, Some(&f.code), Some(&f.note))).await {
        Ok(_) => Redirect::to("/admin/rewards?saved=fulfilled").into_response(),
        Err(e) => {
            let field = e.field.clone().map(|f| format!("{f}-{id}"));
            let err = FormError { field, message: FormError::from_error(&e, &[]).message };
            admin_page(&state, &caller, NewRewardForm::default(), Some(err), "", None).await
        }
    }
}

pub async fn decline(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<FulfilForm>,
) -> Response {
    if let Err(resp) = check_csrf(&caller, &f.csrf) {
        return resp;
    }
    let c = caller.clone();
    let rid = id.clone();
    match run(&state, move |app| app.decline(&c, &rid, &f.reason)).await {
        Ok(_) => Redirect::to("/admin/rewards?saved=declined").into_response(),
        Err(e) => {
            let field = e.field.clone().map(|f| format!("{f}-{id}"));
            let err = FormError { field, message: FormError::from_error(&e, &[]).message };
            admin_page(&state, &caller, NewRewardForm::default(), Some(err), "", None).await
        }
    }
}

// ---------------------------------------------------------------- admin: statements

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatementQuery {
    pub month: String,
}

pub async fn statements(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    PageQuery(q): PageQuery<StatementQuery>,
) -> Response {
    let month = if q.month.trim().is_empty() {
        plaudit_domain::period::month_of(plaudit_app::now_ms(), &caller.org.timezone)
            .map(|m| m.label)
            .unwrap_or_default()
    } else {
        q.month.trim().to_string()
    };
    let c = caller.clone();
    let m = month.clone();
    let (statement, error) = match run(&state, move |app| app.statement(&c, &m)).await {
        Ok(s) => (Some(s), None),
        Err(e) if e.kind == plaudit_domain::ErrorKind::Validation => {
            (None, Some(FormError::from_error(&e, &[("month", "month")])))
        }
        Err(e) => return error_page(Some(&caller), &e),
    };
    let body = html! {
        h1 { "Billing statements" }
        p.lead { "Paid rewards fulfilled in a month (in " (caller.org.timezone) "), at face value." }
        (error_summary(error.as_ref(), &[("month", "Month")]))
        form.filters method="get" action="/admin/statements" {
            (Field::new("month", "Month", &month).kind("month").hint("Like 2026-11.").render(error.as_ref()))
            button.button type="submit" { "Show" }
        }
        @if let Some(s) = &statement {
            p {
                a.button href={ "/api/v1/billing/statements/" (s.month) "?" (query_string(&[("format", "csv")])) } download { "Download CSV" }
                @if s.closed { " " span.badge.badge-inactive { "Closed month" } }
            }
            section.card aria-labelledby="totals-title" {
                h2 #totals-title { "Totals for " (s.month) }
                @if s.totals.is_empty() {
                    p.empty data-testid="statement-total" { "Nothing to pay this month." }
                } @else {
                    ul { @for t in &s.totals { li data-testid="statement-total" { strong { (format_money(t.face_value_minor, &t.currency)) } } } }
                }
            }
            @for (title, lines) in [("Paid rewards", &s.lines), ("Culture rewards (no cost)", &s.culture_lines)] {
                section.card {
                    h2 { (title) }
                    @if lines.is_empty() {
                        p.empty { "None." }
                    } @else {
                        div.table-wrap {
                            table {
                                thead { tr { th scope="col" { "Date" } th scope="col" { "Member" } th scope="col" { "Reward" } th scope="col" { "Face value" } } }
                                tbody {
                                    @for l in lines.iter() {
                                        tr data-testid="statement-line" {
                                            td { (crate::api::rewards::local_date(l.created_at, &s.timezone)) }
                                            td dir="auto" { (l.member_name) }
                                            td dir="auto" { (l.reward_name) @if l.kind == "refund" { " (refund)" } }
                                            td { (l.currency.as_deref().map_or("0".to_string(), |c| format_money(l.face_value_minor, c))) }
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
    html_response(StatusCode::OK, page(Some(&caller), Nav::RewardsAdmin, "Billing statements", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_read_in_major_units() {
        assert_eq!(parse_money("25.00").unwrap(), Some(2500));
        assert_eq!(parse_money("25").unwrap(), Some(2500));
        assert_eq!(parse_money("0.3").unwrap(), Some(30));
        assert_eq!(parse_money("").unwrap(), None);
        assert!(parse_money("2.345").is_err());
        assert!(parse_money("abc").is_err());
    }
}
