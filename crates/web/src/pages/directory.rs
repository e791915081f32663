//! The directory, member profiles and the admin's member editor.

use super::layout::{
    checkbox_field, csrf_input, error_page, error_summary, html_response, page, select_field, Field, FormError, Nav,
};
use super::recognition::{amount, load_posts, local, post_list, Posts};
use super::{check_csrf, query_string, run, AdminCaller, PageCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::members::MemberChanges;
use plaudit_app::recognition::Balance;
use plaudit_app::Caller;
use plaudit_domain::member::{Member, Role, Status};
use plaudit_domain::Error;
use plaudit_store::{FeedFilter, MemberFilter};
use serde::Deserialize;

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DirectoryQuery {
    pub q: String,
    pub department: String,
    pub location: String,
    /// `active` (the default), `inactive` or `all`.
    pub status: String,
    pub cursor: String,
}

impl DirectoryQuery {
    fn status(&self) -> &str {
        match self.status.as_str() {
            "inactive" => "inactive",
            "all" => "all",
            _ => "active",
        }
    }

    fn filter(&self) -> MemberFilter {
        MemberFilter {
            query: self.q.trim().to_string(),
            department: self.department.clone(),
            location: self.location.clone(),
            status: match self.status() {
                "inactive" => Some(Status::Inactive),
                "all" => None,
                _ => Some(Status::Active),
            },
        }
    }

    /// The directory URL with these filters and `cursor`.
    fn url(&self, cursor: &str) -> String {
        let status = if self.status() == "active" { "" } else { self.status() };
        let qs = query_string(&[
            ("q", self.q.trim()),
            ("department", &self.department),
            ("location", &self.location),
            ("status", status),
            ("cursor", cursor),
        ]);
        if qs.is_empty() {
            "/directory".to_string()
        } else {
            format!("/directory?{qs}")
        }
    }
}

fn options<'a>(all: &'a str, values: &'a [String]) -> Vec<(&'a str, &'a str)> {
    std::iter::once(("", all)).chain(values.iter().map(|v| (v.as_str(), v.as_str()))).collect()
}

fn status_badge(m: &Member) -> Markup {
    html! {
        @if m.status == Status::Inactive { span.badge.badge-inactive { "Deactivated" } }
    }
}

pub async fn directory(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<DirectoryQuery>,
) -> Response {
    let (c, filter, cursor) = (caller.clone(), q.filter(), q.cursor.clone());
    let found = run(&state, move |app| {
        let facets = app.member_facets(&c)?;
        let page = app.list_members(&c, &filter, Some(cursor.as_str()), PAGE_SIZE)?;
        Ok((facets, page))
    })
    .await;
    let ((departments, locations), members) = match found {
        Ok(v) => v,
        Err(e) if e.field.as_deref() == Some("cursor") => {
            return Redirect::to(&q.url("")).into_response();
        }
        Err(e) => return error_page(Some(&caller), &e),
    };
    let filtered =
        !q.q.trim().is_empty() || !q.department.is_empty() || !q.location.is_empty() || q.status() != "active";
    let body = html! {
        h1 { "Directory" }
        form.filters role="search" method="get" action="/directory" aria-label="Search the directory" {
            div.field.field-search {
                label for="q" { "Search by name or e-mail" }
                input.input #q type="search" name="q" value=(q.q) dir="auto" autocomplete="off" spellcheck="false";
            }
            (select_field("department", "Department", &options("All departments", &departments), &q.department, None, None))
            (select_field("location", "Location", &options("All locations", &locations), &q.location, None, None))
            (select_field("status", "Status", &[("active", "Active"), ("inactive", "Deactivated"), ("all", "All")], q.status(), None, None))
            div.actions {
                button.button type="submit" { "Search" }
                @if filtered { a.button.button-quiet href="/directory" { "Clear" } }
            }
        }
        @if members.members.is_empty() {
            p.empty role="status" { "No members match." }
        } @else {
            p.visually-hidden role="status" {
                (members.members.len()) " members on this page"
                @if members.next_cursor.is_some() { ", more on the next page" }
            }
            div.table-wrap {
                table.directory {
                    caption.visually-hidden { "Members" }
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Title" }
                            th scope="col" { "Department" }
                            th scope="col" { "Location" }
                            th scope="col" { "E-mail" }
                        }
                    }
                    tbody {
                        @for m in &members.members {
                            tr.inactive[m.status == Status::Inactive] {
                                th scope="row" {
                                    a.member-link href={ "/members/" (m.id) } dir="auto" { (m.profile.display_name) }
                                    " " (status_badge(m))
                                }
                                td dir="auto" { (m.profile.title) }
                                td dir="auto" { (m.profile.department) }
                                td dir="auto" { (m.profile.location) }
                                td.email { (m.profile.email) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if !q.cursor.is_empty() { a.button.button-quiet href=(q.url("")) { "First page" } }
            @if let Some(next) = &members.next_cursor {
                a.button.button-quiet rel="next" href=(q.url(next)) { "Next page" }
            }
        }
    };
    html_response(StatusCode::OK, page(Some(&caller), Nav::Directory, "Directory", body))
}

fn member_list(members: &[Member]) -> Markup {
    html! {
        ul.people {
            @for m in members {
                li {
                    a href={ "/members/" (m.id) } dir="auto" { (m.profile.display_name) }
                    @if !m.profile.title.is_empty() { span.muted { " — " span dir="auto" { (m.profile.title) } } }
                    " " (status_badge(m))
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileQuery {
    pub saved: String,
    /// `received` (the default) or `given`.
    pub tab: String,
    pub cursor: String,
}

impl ProfileQuery {
    fn given(&self) -> bool {
        self.tab == "given"
    }

    fn url(&self, id: &str, cursor: &str) -> String {
        let qs = query_string(&[("tab", if self.given() { "given" } else { "" }), ("cursor", cursor)]);
        if qs.is_empty() {
            format!("/members/{}", super::encode_component(id))
        } else {
            format!("/members/{}?{qs}", super::encode_component(id))
        }
    }
}

struct ProfileRecognition {
    balance: Option<Balance>,
    posts: Posts,
    next_cursor: Option<String>,
}

const RECOGNITION_PAGE_SIZE: i64 = 10;

fn q_tab(id: &str, given: bool) -> String {
    let q = ProfileQuery { tab: if given { "given".into() } else { String::new() }, ..Default::default() };
    q.url(id, "")
}

fn or_dash(s: &str) -> &str {
    if s.trim().is_empty() {
        "—"
    } else {
        s
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Manager => "Manager",
        Role::Member => "Member",
    }
}

pub async fn profile(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ProfileQuery>,
) -> Response {
    let c = caller.clone();
    let (given, cursor, asked) = (q.given(), q.cursor.clone(), id.clone());
    let found = run(&state, move |app| {
        let m = app.member(&c, &id)?;
        let chain = app.manager_chain(&c, &m)?;
        let reports = app.direct_reports(&c, &m.id)?;
        let balance =
            if c.member.id == m.id || c.member.role.is_admin() { Some(app.balance(&c, &m.id)?) } else { None };
        let filter = if given {
            FeedFilter { giver_id: Some(m.id.clone()), ..Default::default() }
        } else {
            FeedFilter { recipient_id: Some(m.id.clone()), ..Default::default() }
        };
        let feed = app.feed(&c, &filter, Some(cursor.as_str()), RECOGNITION_PAGE_SIZE)?;
        let posts = load_posts(app, &c, feed.items)?;
        Ok((m, chain, reports, ProfileRecognition { balance, posts, next_cursor: feed.next_cursor }))
    })
    .await;
    let (m, chain, reports, rec) = match found {
        Ok(v) => v,
        Err(e) if e.field.as_deref() == Some("cursor") => {
            return Redirect::to(&q.url(&asked, "")).into_response();
        }
        Err(e) => return error_page(Some(&caller), &e),
    };
    let org = &caller.org;
    let is_me = caller.member.id == m.id;
    let here = q.url(&m.id, &q.cursor);
    let p = &m.profile;
    let body = html! {
        @if !q.saved.is_empty() { div.notice role="status" { p { "Changes saved." } } }
        div.profile-head {
            div {
                h1 dir="auto" { (p.display_name) " " (status_badge(&m)) }
                @if !p.title.is_empty() { p.lead dir="auto" { (p.title) } }
            }
            div.actions {
                @if !is_me && m.is_active() && m.may_receive {
                    a.button href={ "/give?" (query_string(&[("to", &p.email)])) } { "Recognise" span.visually-hidden { " " (p.display_name) } }
                }
                @if caller.member.role.is_admin() {
                    a.button.button-quiet href={ "/members/" (m.id) "/edit" } { "Edit" span.visually-hidden { " " (p.display_name) } }
                }
            }
        }
        @if let Some(b) = &rec.balance {
            section.balances aria-labelledby="balances-title" {
                h2 #balances-title { @if is_me { "Your balances" } @else { "Balances" } }
                dl.facts {
                    div {
                        dt { "Allowance left to give this month" }
                        dd data-testid="allowance-balance" {
                            (amount(org, b.remaining)) " of " (b.total)
                            span.muted { " · resets on " (local(org, b.resets_at, "%-d %B %Y")) }
                        }
                    }
                    div {
                        dt { "Earned balance" }
                        dd data-testid="earned-balance" { (amount(org, b.earned)) }
                    }
                }
            }
        }
        dl.facts {
            div { dt { "E-mail" } dd { a href={ "mailto:" (p.email) } { (p.email) } } }
            div { dt { "Department" } dd dir="auto" {
                @if p.department.is_empty() { "—" } @else {
                    a href={ "/directory?" (query_string(&[("department", &p.department)])) } { (p.department) }
                }
            } }
            div { dt { "Location" } dd dir="auto" {
                @if p.location.is_empty() { "—" } @else {
                    a href={ "/directory?" (query_string(&[("location", &p.location)])) } { (p.location) }
                }
            } }
            div { dt { "Start date" } dd { (or_dash(&p.start_date)) } }
            div { dt { "Status" } dd data-testid="member-status" { @if m.is_active() { "Active" } @else { "Deactivated" } } }
            div { dt { "Role" } dd { (role_name(m.role)) } }
            @if caller.member.role.is_admin() || caller.member.id == m.id {
                div { dt { "May give recognition" } dd { @if m.may_give { "Yes" } @else { "No" } } }
                div { dt { "May receive recognition" } dd { @if m.may_receive { "Yes" } @else { "No" } } }
            }
        }
        div.columns {
            section aria-labelledby="chain-title" {
                h2 #chain-title { "Reports to" }
                @if chain.is_empty() {
                    p.muted { "No manager." }
                } @else {
                    ol.people.chain {
                        @for boss in &chain {
                            li {
                                a href={ "/members/" (boss.id) } dir="auto" { (boss.profile.display_name) }
                                @if !boss.profile.title.is_empty() { span.muted { " — " span dir="auto" { (boss.profile.title) } } }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="reports-title" {
                h2 #reports-title { "Direct reports" @if !reports.is_empty() { " (" (reports.len()) ")" } }
                @if reports.is_empty() { p.muted { "No direct reports." } } @else { (member_list(&reports)) }
            }
        }
        section.profile-recognition #recognition aria-labelledby="recognition-title" {
            h2 #recognition-title { "Recognition" }
            nav.tabs aria-label="Recognition" {
                a.tab href={ (q_tab(&m.id, false)) "#recognition" } aria-current=[(!q.given()).then_some("page")] { "Received" }
                a.tab href={ (q_tab(&m.id, true)) "#recognition" } aria-current=[q.given().then_some("page")] { "Given" }
            }
            @let empty = if q.given() {
                format!("{} has not given recognition yet.", p.display_name)
            } else {
                format!("{} has not received recognition yet.", p.display_name)
            };
            (post_list(&caller, &rec.posts, &here, &empty))
            nav.pager aria-label="Pages of recognition" {
                @if !q.cursor.is_empty() { a.button.button-quiet href={ (q.url(&m.id, "")) "#recognition" } { "Newest" } }
                @if let Some(next) = &rec.next_cursor {
                    a.button.button-quiet rel="next" href={ (q.url(&m.id, next)) "#recognition" } { "Older" }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(Some(&caller), Nav::Directory, &m.profile.display_name, body))
}

// ---------------------------------------------------------------- editing

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct EditForm {
    pub csrf: String,
    pub display_name: String,
    pub title: String,
    pub department: String,
    pub location: String,
    pub manager: String,
    pub role: String,
    pub status: String,
    pub may_give: Option<String>,
    pub may_receive: Option<String>,
}

impl EditForm {
    fn of(m: &Member, manager_email: &str) -> EditForm {
        EditForm {
            csrf: String::new(),
            display_name: m.profile.display_name.clone(),
            title: m.profile.title.clone(),
            department: m.profile.department.clone(),
            location: m.profile.location.clone(),
            manager: manager_email.to_string(),
            role: m.role.as_str().to_string(),
            status: m.status.as_str().to_string(),
            may_give: m.may_give.then(|| "on".to_string()),
            may_receive: m.may_receive.then(|| "on".to_string()),
        }
    }
}

const EDIT_FIELDS: &[(&str, &str)] = &[
    ("display_name", "display_name"),
    ("title", "title"),
    ("department", "department"),
    ("location", "location"),
    ("manager_id", "manager"),
    ("role", "role"),
    ("status", "status"),
    ("may_give", "may_give"),
    ("may_receive", "may_receive"),
];

const EDIT_LABELS: &[(&str, &str)] = &[
    ("display_name", "Display name"),
    ("title", "Title"),
    ("department", "Department"),
    ("location", "Location"),
    ("manager", "Manager"),
    ("role", "Role"),
    ("status", "Status"),
    ("may_give", "May give recognition"),
    ("may_receive", "May receive recognition"),
];

struct EditContext {
    member: Member,
    departments: Vec<String>,
    locations: Vec<String>,
}

fn edit_page(caller: &Caller, cx: &EditContext, f: &EditForm, error: Option<&FormError>) -> Markup {
    let m = &cx.member;
    let mut roles = vec![("member", "Member"), ("manager", "Manager"), ("admin", "Admin")];
    if caller.member.role == Role::Owner || m.role == Role::Owner {
        roles.push(("owner", "Owner"));
    }
    let title = format!("Edit {}", m.profile.display_name);
    let body = html! {
        p.breadcrumb { a href={ "/members/" (m.id) } dir="auto" { "← " (m.profile.display_name) } }
        h1 { "Edit " span dir="auto" { (m.profile.display_name) } }
        p.muted { (m.profile.email) }
        (error_summary(error, EDIT_LABELS))
        form.form method="post" action={ "/members/" (m.id) "/edit" } novalidate {
            (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
            fieldset {
                legend { "Profile" }
                (Field::new("display_name", "Display name", &f.display_name)
                    .hint("Empty uses the first and last name.").render(error))
                (Field::new("title", "Title", &f.title).render(error))
                (Field::new("department", "Department", &f.department).list("departments").render(error))
                (Field::new("location", "Location", &f.location).list("locations").render(error))
                datalist #departments { @for d in &cx.departments { option value=(d) {} } }
                datalist #locations { @for l in &cx.locations { option value=(l) {} } }
            }
            fieldset {
                legend { "Manager" }
                (Field::new("manager", "Manager", &f.manager).no_spellcheck()
                    .hint("The manager's e-mail or member id. Leave empty for no manager.").render(error))
            }
            fieldset {
                legend { "Access" }
                (select_field("role", "Role", &roles, &f.role,
                    Some("Admins and owners manage the directory and settings."), error))
                (select_field("status", "Status", &[("active", "Active"), ("inactive", "Deactivated")], &f.status,
                    Some("Deactivated members cannot sign in; their history stays."), error))
                (checkbox_field("may_give", "May give recognition", f.may_give.is_some(), None, error))
                (checkbox_field("may_receive", "May receive recognition", f.may_receive.is_some(), None, error))
            }
            div.actions {
                button.button type="submit" { "Save changes" }
                a.button.button-quiet href={ "/members/" (m.id) } { "Cancel" }
            }
        }
    };
    page(Some(caller), Nav::Directory, &title, body)
}

async fn edit_context(state: &AppState, caller: &Caller, id: String) -> Result<(EditContext, String), Error> {
    let c = caller.clone();
    run(state, move |app| {
        let member = app.member(&c, &id)?;
        let manager_email = match &member.manager_id {
            Some(mid) => app.find_member(&c, mid)?.map(|b| b.profile.email).unwrap_or_else(|| mid.clone()),
            None => String::new(),
        };
        let (departments, locations) = app.member_facets(&c)?;
        Ok((EditContext { member, departments, locations }, manager_email))
    })
    .await
}

pub async fn edit_form(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
) -> Response {
    match edit_context(&state, &caller, id).await {
        Ok((cx, manager_email)) => {
            let f = EditForm::of(&cx.member, &manager_email);
            html_response(StatusCode::OK, edit_page(&caller, &cx, &f, None))
        }
        Err(e) => error_page(Some(&caller), &e),
    }
}

/// Which field an error without one belongs to on this form.
fn field_for(e: &Error, before: &Member, f: &EditForm) -> Option<&'static str> {
    match e.code {
        "plan_limit" => Some("status"),
        "last_owner" if before.status == Status::Active && f.status == "inactive" => Some("status"),
        "last_owner" => Some("role"),
        _ => None,
    }
}

pub async fn edit(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<EditForm>,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let (cx, _) = match edit_context(&state, &caller, id.clone()).await {
        Ok(v) => v,
        Err(e) => return error_page(Some(&caller), &e),
    };
    let fail = |e: &Error, status: StatusCode| {
        let mut fe = FormError::from_error(e, EDIT_FIELDS);
        if fe.field.is_none() {
            fe.field = field_for(e, &cx.member, &f).map(str::to_string);
        }
        html_response(status, edit_page(&caller, &cx, &f, Some(&fe)))
    };
    let role = match Role::parse(f.role.trim()) {
        Ok(r) => r,
        Err(e) => return fail(&e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let status = match f.status.trim() {
        "active" => Status::Active,
        "inactive" => Status::Inactive,
        _ => return fail(&Error::invalid("status", "choose Active or Deactivated"), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let (c, form, target) = (caller.clone(), f.clone(), id.clone());
    let saved = run(&state, move |app| {
        let manager = form.manager.trim();
        let manager_id = if manager.is_empty() {
            None
        } else {
            match app.find_member(&c, manager)? {
                Some(boss) => Some(boss.id),
                None => {
                    return Err(Error::invalid(
                        "manager_id",
                        format!("no member of this organisation has the e-mail or id '{manager}'"),
                    ))
                }
            }
        };
        let changes = MemberChanges {
            display_name: Some(form.display_name.clone()),
            title: Some(form.title.clone()),
            department: Some(form.department.clone()),
            location: Some(form.location.clone()),
            manager_id: Some(manager_id),
            role: Some(role),
            status: Some(status),
            may_give: Some(form.may_give.is_some()),
            may_receive: Some(form.may_receive.is_some()),
            ..Default::default()
        };
        app.update_member(&c, &target, changes)
    })
    .await;
    match saved {
        Ok(m) => Redirect::to(&format!("/members/{}?saved=1", super::encode_component(&m.id))).into_response(),
        Err(e) => fail(&e, crate::http::status_of(e.kind)),
    }
}
