//! OKR and KPI pages: the cycle overview (the alignment tree with progress
//! bars, filtered by level, team and owner), an objective's page (its key
//! results with progress, check-in history as a small SVG chart, the
//! forecast, and the check-in form), the KPI dashboard (sparklines, status
//! colours) and a KPI's page with CSV upload and "Improve this KPI".
//!
//! Progress bars are `<progress>` elements and charts inline SVG, so the
//! pages need no inline styles (the CSP forbids them) and no script.

use super::layout::{csrf_input, error_page, error_summary, html_response, page, select_field, Field, FormError, Nav};
use super::{button_post, check_csrf, query_string, run, CsrfForm, PageCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::okrs::{
    CsvReport, CycleChanges, ImproveKpi, KpiView, KrView, NewCheckIn, NewCycle, NewKeyResult, NewKpi, NewObjective,
    ObjectiveDetail, TreeItem,
};
use plaudit_app::Caller;
use plaudit_domain::member::Member;
use plaudit_domain::okr::{Cycle, CycleState, KpiStatus, KpiValue, KrKind, Level, Objective};
use plaudit_domain::{Error, Result};
use serde::Deserialize;
use std::collections::HashMap;

// ---------------------------------------------------------------- formatting

/// A number as people read it: whole numbers without decimals, else up to two.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn fmt_value(kind: KrKind, v: f64, unit: &str) -> String {
    match kind {
        KrKind::Milestone => if v >= 1.0 { "done" } else { "not done" }.to_string(),
        KrKind::Percent => format!("{} %", fmt_num(v)),
        KrKind::Currency => format!("{:.2} {unit}", v / 100.0).trim().to_string(),
        KrKind::Number => format!("{} {unit}", fmt_num(v)).trim().to_string(),
    }
}

fn percent(p: f64) -> i64 {
    (p * 100.0).round() as i64
}

fn progress_bar(p: f64, label: &str, testid: &str) -> Markup {
    let pc = percent(p);
    html! {
        span.progress-line {
            progress.okr-progress max="100" value=(pc.min(100)) aria-label=(label) data-testid=(testid) data-percent=(pc) {
                (pc) " %"
            }
            span.progress-text data-testid={ (testid) "-text" } { (pc) " %" }
        }
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Company => "Company",
        Level::Team => "Team",
        Level::Individual => "Individual",
    }
}

fn status_name(s: &str) -> String {
    s.replace('_', " ")
}

/// A small line chart as inline SVG: `points` are (x, y), any scale.
/// `mark_x` draws a vertical line (e.g. the cycle's start), `target` a
/// dashed horizontal one.
pub fn chart(
    points: &[(f64, f64)],
    width: f64,
    height: f64,
    target: Option<f64>,
    mark_x: Option<f64>,
    label: &str,
) -> Markup {
    if points.is_empty() {
        return html! { p.muted.chart-empty { "No values yet." } };
    }
    let pad = 4.0;
    let (mut x0, mut x1) = (f64::MAX, f64::MIN);
    let (mut y0, mut y1) = (f64::MAX, f64::MIN);
    for (x, y) in points {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if let Some(t) = target {
        y0 = y0.min(t);
        y1 = y1.max(t);
    }
    if let Some(m) = mark_x {
        x0 = x0.min(m);
        x1 = x1.max(m);
    }
    let sx = |x: f64| if x1 > x0 { pad + (x - x0) / (x1 - x0) * (width - 2.0 * pad) } else { width / 2.0 };
    let sy = |y: f64| if y1 > y0 { height - pad - (y - y0) / (y1 - y0) * (height - 2.0 * pad) } else { height / 2.0 };
    let line: String = points.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect::<Vec<_>>().join(" ");
    let last = points.last().copied().unwrap_or((0.0, 0.0));
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height)
            role="img" aria-label=(label) {
            title { (label) }
            @if let Some(t) = target {
                line x1=(pad) x2=(width - pad) y1=(format!("{:.1}", sy(t))) y2=(format!("{:.1}", sy(t)))
                    stroke="#17643a" stroke-width="1" stroke-dasharray="3 3" {}
            }
            @if let Some(m) = mark_x {
                line x1=(format!("{:.1}", sx(m))) x2=(format!("{:.1}", sx(m))) y1="0" y2=(height)
                    stroke="#5a6373" stroke-width="1" stroke-dasharray="2 2" {}
            }
            polyline points=(line) fill="none" stroke="#3a3fb8" stroke-width="2" stroke-linejoin="round" {}
            circle cx=(format!("{:.1}", sx(last.0))) cy=(format!("{:.1}", sy(last.1))) r="3" fill="#3a3fb8" {}
        }
    }
}

fn date_x(date: &str) -> f64 {
    plaudit_domain::okr::parse_date("date", date)
        .map(|d| plaudit_domain::okr::days_between(jiff::civil::Date::constant(2000, 1, 1), d) as f64)
        .unwrap_or(0.0)
}

fn people(state_caller: &Caller, app: &plaudit_app::App, ids: &[String]) -> Result<HashMap<String, Member>> {
    let org_id = state_caller.org.id.clone();
    app.store.read(|tx| {
        let mut out = HashMap::new();
        for id in ids {
            if !out.contains_key(id) {
                if let Some(m) = tx.member_by_id(&org_id, id)? {
                    out.insert(id.clone(), m);
                }
            }
        }
        Ok(out)
    })
}

fn name_of(people: &HashMap<String, Member>, id: &str) -> String {
    people.get(id).map(|m| m.profile.display_name.clone()).unwrap_or_else(|| "someone".into())
}

fn csrf(caller: &Caller) -> Markup {
    csrf_input(caller.csrf_token.as_deref().unwrap_or(""))
}

// ---------------------------------------------------------------- the cycle overview

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OverviewQuery {
    pub cycle: String,
    pub level: String,
    pub team: String,
    pub owner: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CycleForm {
    pub csrf: String,
    pub cycle_name: String,
    pub cycle_kind: String,
    pub cycle_year: String,
    pub cycle_quarter: String,
    pub cycle_start: String,
    pub cycle_end: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ObjectiveForm {
    pub csrf: String,
    pub cycle_id: String,
    pub title: String,
    pub level: String,
    pub team: String,
    pub parent_id: String,
    pub visibility: String,
}

#[derive(Default)]
struct OverviewForms {
    cycle: CycleForm,
    objective: ObjectiveForm,
    error: Option<FormError>,
}

struct Overview {
    cycles: Vec<Cycle>,
    current: Option<Cycle>,
    tree: Vec<TreeItem>,
    people: HashMap<String, Member>,
    departments: Vec<String>,
    settings: plaudit_domain::okr::OkrSettings,
}

fn load_overview(app: &plaudit_app::App, caller: &Caller, wanted: &str) -> Result<Overview> {
    let cycles = app.cycles(caller)?;
    let current = cycles
        .iter()
        .find(|c| c.id == wanted)
        .or_else(|| cycles.iter().find(|c| c.state == CycleState::Active))
        .or(cycles.first())
        .cloned();
    let tree = match &current {
        Some(c) => app.objective_tree(caller, &c.id)?,
        None => Vec::new(),
    };
    let ids: Vec<String> = tree.iter().map(|t| t.view.objective.owner_id.clone()).collect();
    let people = people(caller, app, &ids)?;
    let org_id = caller.org.id.clone();
    let departments = app.store.read(|tx| tx.member_facets(&org_id))?.0;
    let settings = app.okr_settings(caller)?;
    Ok(Overview { cycles, current, tree, people, departments, settings })
}

fn overview_page(caller: &Caller, ov: &Overview, q: &OverviewQuery, forms: &OverviewForms) -> Markup {
    let is_admin = caller.member.role.is_admin();
    let error = forms.error.as_ref();
    let shown: Vec<&TreeItem> = ov
        .tree
        .iter()
        .filter(|t| {
            let o = &t.view.objective;
            (q.level.is_empty() || o.level.as_str() == q.level)
                && (q.team.is_empty() || o.team.as_deref() == Some(q.team.as_str()))
                && (q.owner.is_empty() || o.owner_id == q.owner)
        })
        .collect();
    let filtered = shown.len() != ov.tree.len();
    let mut owners: Vec<(String, String)> = ov
        .tree
        .iter()
        .map(|t| (t.view.objective.owner_id.clone(), name_of(&ov.people, &t.view.objective.owner_id)))
        .collect();
    owners.sort_by(|a, b| a.1.cmp(&b.1));
    owners.dedup();
    let mut teams: Vec<String> = ov.tree.iter().filter_map(|t| t.view.objective.team.clone()).collect();
    teams.sort();
    teams.dedup();
    let labels = [
        ("cycle_name", "Name"),
        ("cycle_year", "Year"),
        ("cycle_quarter", "Quarter"),
        ("cycle_start", "Start date"),
        ("cycle_end", "End date"),
        ("title", "Objective"),
        ("team", "Team"),
        ("parent_id", "Aligned under"),
    ];
    let body = html! {
        h1 { "OKRs" }
        (error_summary(error, &labels))
        @if ov.cycles.is_empty() {
            p.empty role="status" { "No cycles yet." @if is_admin { " Create the first one below." } }
        } @else {
            nav.tabs aria-label="Cycles" {
                @for c in &ov.cycles {
                    @let here = ov.current.as_ref().is_some_and(|x| x.id == c.id);
                    a.tab href={ "/okrs?" (query_string(&[("cycle", &c.id)])) } aria-current=[here.then_some("page")] {
                        (c.name) " " span.badge { (c.state.as_str()) }
                    }
                }
            }
        }
        @if let Some(c) = &ov.current {
            section.card aria-labelledby="cycle-title" {
                h2 #cycle-title { (c.name) }
                p.muted { (c.start_date) " to " (c.end_date) " (end not included) · " (c.state.as_str()) }
                @if is_admin && c.state != CycleState::Closed {
                    div.actions {
                        @if c.state == CycleState::Planning {
                            form method="post" action={ "/okrs/cycles/" (c.id) "/activate" } {
                                (csrf(caller))
                                button.button.button-small type="submit" { "Start this cycle" }
                            }
                        }
                        form method="post" action={ "/okrs/cycles/" (c.id) "/close" } {
                            (csrf(caller))
                            button.button.button-small.button-danger type="submit" { "Close and grade" }
                        }
                    }
                }
                form.filters method="get" action="/okrs" {
                    input type="hidden" name="cycle" value=(c.id);
                    (select_field("level", "Level", &[("", "All levels"), ("company", "Company"), ("team", "Team"), ("individual", "Individual")], &q.level, None, None))
                    div.field {
                        label for="team-filter" { "Team" }
                        select.input #team-filter name="team" {
                            option value="" { "All teams" }
                            @for t in &teams { option value=(t) selected[*t == q.team] { (t) } }
                        }
                    }
                    div.field {
                        label for="owner-filter" { "Owner" }
                        select.input #owner-filter name="owner" {
                            option value="" { "Anyone" }
                            @for (id, name) in &owners { option value=(id) selected[*id == q.owner] { (name) } }
                        }
                    }
                    div.actions { button.button.button-quiet type="submit" { "Filter" } }
                }
                @if shown.is_empty() {
                    p.empty role="status" { @if filtered { "No objective matches these filters." } @else { "No objectives in this cycle yet." } }
                } @else {
                    ol.okr-tree data-testid="okr-tree" {
                        @for t in &shown {
                            @let o = &t.view.objective;
                            li class={ "okr-node depth-" (t.depth.min(6)) } data-objective=(o.id) {
                                a.okr-title href={ "/okrs/objectives/" (o.id) } dir="auto" { (o.title) }
                                " "
                                span.badge { (level_name(o.level)) }
                                @if let Some(team) = &o.team { " " span.muted { (team) } }
                                @if o.cycle_id != c.id { " " span.badge { "other cycle" } }
                                " "
                                span.okr-status { (status_name(o.status.as_str())) }
                                div.okr-meta {
                                    (progress_bar(t.view.score.progress, &format!("Progress of {}", o.title), "tree-progress"))
                                    span.muted {
                                        " " (name_of(&ov.people, &o.owner_id))
                                        @if t.view.score.total > 0 { " · " (t.view.score.done) " of " (t.view.score.total) " key results done" }
                                        @if let Some(g) = t.view.score.grade { " · grade " (format!("{g:.2}")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if c.state != CycleState::Closed {
                section.card aria-labelledby="new-objective-title" {
                    h2 #new-objective-title { "New objective" }
                    @let f = &forms.objective;
                    form.form method="post" action="/okrs/objectives" novalidate {
                        (csrf(caller))
                        input type="hidden" name="cycle_id" value=(c.id);
                        (Field::new("title", "Objective", &f.title).required().render(error))
                        (select_field("level", "Level", &[("individual", "Individual"), ("team", "Team (a department)"), ("company", "Company")], if f.level.is_empty() { "individual" } else { &f.level }, None, error))
                        (Field::new("team", "Team", &f.team).list("departments").hint("The department, for a team objective.").render(error))
                        datalist #departments { @for d in &ov.departments { option value=(d) {} } }
                        div.field {
                            label for="parent_id" { "Aligned under" span.optional { " (optional)" } }
                            select.input #parent_id name="parent_id" {
                                option value="" { "Nothing (a top-level objective)" }
                                @for t in &ov.tree { option value=(t.view.objective.id) selected[t.view.objective.id == f.parent_id] { (t.view.objective.title) } }
                            }
                        }
                        (select_field("visibility", "Visibility", &[("public", "Everyone"), ("private", "Only its people and admins")], if f.visibility.is_empty() { "public" } else { &f.visibility }, None, error))
                        div.actions { button.button type="submit" { "Create objective" } }
                    }
                }
            }
        }
        @if is_admin {
            section.card aria-labelledby="okr-settings-title" {
                h2 #okr-settings-title { "OKR settings" }
                form.form method="post" action="/okrs/settings" {
                    (csrf(caller))
                    (super::layout::checkbox_field("allow_over_achievement", "Progress may pass 100 %", ov.settings.allow_over_achievement, None, None))
                    (super::layout::checkbox_field("allow_late_check_ins", "Take check-ins after a cycle closed", ov.settings.allow_late_check_ins, Some("They are kept and marked late; grades never change."), None))
                    div.actions { button.button.button-quiet type="submit" { "Save settings" } }
                }
            }
            section.card aria-labelledby="new-cycle-title" {
                h2 #new-cycle-title { "New cycle" }
                @let f = &forms.cycle;
                form.form method="post" action="/okrs/cycles" novalidate {
                    (csrf(caller))
                    (select_field("cycle_kind", "Kind", &[("quarter", "Quarter"), ("year", "Year"), ("custom", "Custom dates")], if f.cycle_kind.is_empty() { "quarter" } else { &f.cycle_kind }, None, error))
                    (Field::new("cycle_name", "Name", &f.cycle_name).hint("Leave empty for e.g. “Q1 2027”.").render(error))
                    div.field-row {
                        (Field::new("cycle_year", "Year", &f.cycle_year).kind("number").render(error))
                        (Field::new("cycle_quarter", "Quarter", &f.cycle_quarter).kind("number").hint("1 to 4").render(error))
                    }
                    div.field-row {
                        (Field::new("cycle_start", "Start date", &f.cycle_start).kind("date").hint("Custom cycles.").render(error))
                        (Field::new("cycle_end", "End date", &f.cycle_end).kind("date").hint("The first day after the cycle.").render(error))
                    }
                    div.actions { button.button type="submit" { "Create cycle" } }
                }
            }
        }
    };
    page(Some(caller), Nav::Okrs, "OKRs", body)
}

pub async fn overview(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<OverviewQuery>,
) -> Response {
    show_overview(&state, &caller, q, OverviewForms::default(), StatusCode::OK).await
}

async fn show_overview(
    state: &AppState,
    caller: &Caller,
    q: OverviewQuery,
    forms: OverviewForms,
    status: StatusCode,
) -> Response {
    let c = caller.clone();
    let wanted = q.cycle.clone();
    match run(state, move |app| load_overview(app, &c, &wanted)).await {
        Ok(ov) => html_response(status, overview_page(caller, &ov, &q, &forms)),
        Err(e) => error_page(Some(caller), &e),
    }
}

fn parse_opt<T: std::str::FromStr>(field: &str, s: &str) -> Result<Option<T>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| Error::invalid(field, "enter a number"))
}

pub async fn create_cycle(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(f): PageForm<CycleForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let form = f.clone();
    let c = caller.clone();
    let result = run(&state, move |app| {
        let new = NewCycle {
            name: form.cycle_name.clone(),
            kind: Some(if form.cycle_kind.is_empty() { "quarter".into() } else { form.cycle_kind.clone() }),
            year: parse_opt("year", &form.cycle_year)?,
            quarter: parse_opt("quarter", &form.cycle_quarter)?,
            start_date: Some(form.cycle_start.clone()).filter(|s| !s.is_empty()),
            end_date: Some(form.cycle_end.clone()).filter(|s| !s.is_empty()),
            state: None,
        };
        app.create_cycle(&c, new)
    })
    .await;
    match result {
        Ok(cy) => Redirect::to(&format!("/okrs?{}", query_string(&[("cycle", &cy.id)]))).into_response(),
        Err(e) => {
            let fields = [
                ("name", "cycle_name"),
                ("kind", "cycle_kind"),
                ("year", "cycle_year"),
                ("quarter", "cycle_quarter"),
                ("start_date", "cycle_start"),
                ("end_date", "cycle_end"),
            ];
            let forms =
                OverviewForms { cycle: f, error: Some(FormError::from_error(&e, &fields)), ..Default::default() };
            show_overview(&state, &caller, OverviewQuery::default(), forms, crate::http::status_of(e.kind)).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    pub csrf: String,
    pub allow_over_achievement: Option<String>,
    pub allow_late_check_ins: Option<String>,
}

pub async fn save_settings(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(f): PageForm<SettingsForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let c = caller.clone();
    let ch = plaudit_app::okrs::SettingsChanges {
        allow_over_achievement: Some(f.allow_over_achievement.is_some()),
        allow_late_check_ins: Some(f.allow_late_check_ins.is_some()),
    };
    match run(&state, move |app| app.update_okr_settings(&c, ch)).await {
        Ok(_) => Redirect::to("/okrs").into_response(),
        Err(e) => error_page(Some(&caller), &e),
    }
}

pub async fn close_cycle(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    button_post(
        &state,
        &caller,
        &f.csrf,
        move |app, c| app.close_cycle(c, &id),
        |cy| format!("/okrs?{}", query_string(&[("cycle", &cy.id)])),
    )
    .await
}

pub async fn activate_cycle(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let c = caller.clone();
    let ch = CycleChanges { name: None, state: Some("active".into()) };
    match run(&state, move |app| app.update_cycle(&c, &id, ch)).await {
        Ok(cy) => Redirect::to(&format!("/okrs?{}", query_string(&[("cycle", &cy.id)]))).into_response(),
        Err(e) => error_page(Some(&caller), &e),
    }
}

pub async fn create_objective(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(f): PageForm<ObjectiveForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let new = NewObjective {
        cycle_id: f.cycle_id.clone(),
        title: f.title.clone(),
        description: String::new(),
        level: Some(if f.level.is_empty() { "individual".into() } else { f.level.clone() }),
        team: Some(f.team.clone()).filter(|t| !t.trim().is_empty()),
        owner_id: None,
        contributor_ids: Vec::new(),
        parent_id: Some(f.parent_id.clone()).filter(|t| !t.is_empty()),
        visibility: Some(if f.visibility.is_empty() { "public".into() } else { f.visibility.clone() }),
        status: None,
    };
    let c = caller.clone();
    match run(&state, move |app| app.create_objective(&c, new)).await {
        Ok(v) => Redirect::to(&format!("/okrs/objectives/{}", v.objective.id)).into_response(),
        Err(e) => {
            let fields = [
                ("title", "title"),
                ("level", "level"),
                ("team", "team"),
                ("parent_id", "parent_id"),
                ("visibility", "visibility"),
            ];
            let q = OverviewQuery { cycle: f.cycle_id.clone(), ..Default::default() };
            let forms =
                OverviewForms { objective: f, error: Some(FormError::from_error(&e, &fields)), ..Default::default() };
            show_overview(&state, &caller, q, forms, crate::http::status_of(e.kind)).await
        }
    }
}

// ---------------------------------------------------------------- an objective

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct KrForm {
    pub csrf: String,
    pub kr_title: String,
    pub kr_kind: String,
    pub kr_start: String,
    pub kr_target: String,
    pub kr_unit: String,
    pub kr_weight: String,
    pub kr_kpi: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CheckInForm {
    pub csrf: String,
    pub value: String,
    pub confidence: String,
    pub note: String,
}

#[derive(Default)]
struct ObjectiveForms {
    kr: KrForm,
    check_in: Option<(String, CheckInForm)>,
    error: Option<FormError>,
}

struct ObjectivePage {
    detail: ObjectiveDetail,
    people: HashMap<String, Member>,
    kpi_history: HashMap<String, Vec<KpiValue>>,
    kpis: Vec<KpiView>,
}

fn load_objective(app: &plaudit_app::App, caller: &Caller, id: &str) -> Result<ObjectivePage> {
    let detail = app.objective(caller, id)?;
    let mut ids = vec![detail.view.objective.owner_id.clone()];
    ids.extend(detail.view.objective.contributor_ids.iter().cloned());
    for k in &detail.key_results {
        ids.push(k.key_result.owner_id.clone());
        ids.extend(k.check_ins.iter().map(|c| c.member_id.clone()));
    }
    for list in detail.recognitions.values() {
        for r in list {
            ids.extend(r.giver_id.iter().cloned());
            ids.extend(r.recipients.iter().map(|x| x.member_id.clone()));
        }
    }
    let people = people(caller, app, &ids)?;
    let mut kpi_history = HashMap::new();
    for k in &detail.key_results {
        if let Some(kid) = &k.key_result.kpi_id {
            if let Ok((_, values)) = app.kpi(caller, kid) {
                kpi_history.insert(kid.clone(), values);
            }
        }
    }
    let kpis = app.kpis(caller)?;
    Ok(ObjectivePage { detail, people, kpi_history, kpis })
}

fn may_edit(caller: &Caller, o: &Objective) -> bool {
    caller.member.role.is_admin() || o.owner_id == caller.member.id
}

fn may_check_in(caller: &Caller, o: &Objective, owner_id: &str) -> bool {
    may_edit(caller, o) || owner_id == caller.member.id || o.contributor_ids.contains(&caller.member.id)
}

fn kr_card(caller: &Caller, p: &ObjectivePage, k: &KrView, forms: &ObjectiveForms) -> Markup {
    let o = &p.detail.view.objective;
    let kr = &k.key_result;
    let closed = p.detail.cycle.state == CycleState::Closed;
    let tz = &caller.org.timezone;
    let cycle_start = p.detail.cycle.dates().ok().and_then(|d| d.bounds_ms(tz).ok()).map(|b| b.0);
    // A KPI-driven KR's chart carries the KPI's history from before the cycle.
    let (points, mark): (Vec<(f64, f64)>, Option<f64>) = match kr.kpi_id.as_ref().and_then(|id| p.kpi_history.get(id)) {
        Some(values) => {
            (values.iter().map(|v| (date_x(&v.date), v.value)).collect(), Some(date_x(&p.detail.cycle.start_date)))
        }
        None => {
            let mut pts: Vec<(f64, f64)> = Vec::new();
            if let Some(s) = cycle_start {
                if k.check_ins.first().is_none_or(|c| c.created_at > s) {
                    pts.push((s as f64 / 86_400_000.0, kr.start));
                }
            }
            pts.extend(k.check_ins.iter().map(|c| (c.created_at as f64 / 86_400_000.0, c.value)));
            (pts, None)
        }
    };
    let my_form = forms.check_in.as_ref().filter(|(id, _)| *id == kr.id).map(|(_, f)| f.clone()).unwrap_or_default();
    let err = forms.check_in.as_ref().filter(|(id, _)| *id == kr.id).and(forms.error.as_ref());
    let value_id = format!("value-{}", kr.id);
    let recognitions = p.detail.recognitions.get(&kr.id).map(Vec::as_slice).unwrap_or(&[]);
    html! {
        li.card.kr.kr-archived[kr.archived] id={ "kr-" (kr.id) } data-kr=(kr.id) {
            h3.kr-title dir="auto" { (kr.title) @if kr.archived { " " span.badge { "archived" } } }
            p.muted {
                (fmt_value(kr.kind, kr.start, &kr.unit)) " → " (fmt_value(kr.kind, kr.target, &kr.unit))
                " · now " strong data-testid="kr-current" { (fmt_value(kr.kind, kr.current, &kr.unit)) }
                " · weight " (kr.weight) " · " (name_of(&p.people, &kr.owner_id))
                @if kr.kpi_id.is_some() { " · " span.badge { "follows a KPI" } " last changed " (super::recognition::local(&caller.org, kr.current_at, "%-d %b %Y")) }
            }
            (progress_bar(k.score.progress, &format!("Progress of {}", kr.title), "kr-progress"))
            @if k.score.beyond_start {
                p.notice.notice-warning role="status" { "The current value is worse than the start, so this reads 0 %." }
            }
            @if let Some(f) = k.forecast {
                p.forecast data-testid="forecast" {
                    "Forecast at the cycle's end: " strong { (fmt_value(kr.kind, (f.value * 100.0).round() / 100.0, &kr.unit)) }
                    @if f.reaches_target { " — on course to reach the target." } @else { " — short of the target at this pace." }
                }
            }
            @if let Some(g) = k.score.grade { p { "Grade: " strong { (format!("{g:.2}")) } } }
            (chart(&points, 240.0, 60.0, (kr.kind != KrKind::Milestone).then_some(kr.target), mark, &format!("History of {}", kr.title)))
            @if !k.check_ins.is_empty() {
                details.check-ins {
                    summary { (k.check_ins.len()) " check-ins" }
                    ol.check-in-list {
                        @for c in k.check_ins.iter().rev() {
                            li {
                                strong { (fmt_value(kr.kind, c.value, &kr.unit)) } " · " (status_name(&c.confidence))
                                " · " (name_of(&p.people, &c.member_id)) " · " (super::recognition::local(&caller.org, c.created_at, "%-d %b %Y, %H:%M"))
                                @if c.late { " " span.badge { "late" } }
                                @if !c.note.is_empty() { p.comment-body dir="auto" { (c.note) } }
                            }
                        }
                    }
                }
            }
            @if !recognitions.is_empty() {
                p { "Recognition for this key result: "
                    @for (i, r) in recognitions.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/feed#post-" (r.id) } { (r.giver_id.as_deref().map(|g| name_of(&p.people, g)).unwrap_or_else(|| caller.org.name.clone())) }
                    }
                }
            }
            @if !kr.archived && (!closed) && may_check_in(caller, o, &kr.owner_id) {
                form.form.check-in-form method="post" action={ "/okrs/key_results/" (kr.id) "/check_ins" } novalidate data-testid="check-in-form" {
                    (csrf(caller))
                    @if let Some(e) = err { (error_summary(Some(e), &[("value", "New value")])) }
                    div.field-row {
                        @if kr.kind == KrKind::Milestone {
                            div.field {
                                label for=(value_id) { "New value" }
                                select.input id=(value_id) name="value" {
                                    option value="0" selected[kr.current < 1.0] { "Not done" }
                                    option value="1" selected[kr.current >= 1.0] { "Done" }
                                }
                            }
                        } @else {
                            div.field.field-invalid[err.is_some_and(|e| e.field.as_deref() == Some("value"))] {
                                label for=(value_id) { "New value" }
                                @if let Some(e) = err.filter(|e| e.field.as_deref() == Some("value")) {
                                    p.field-error { span.visually-hidden { "Error: " } (e.message) }
                                }
                                input.input.input-short id=(value_id) name="value" type="text" inputmode="decimal"
                                    value=(if my_form.value.is_empty() { fmt_num(kr.current) } else { my_form.value.clone() });
                            }
                        }
                        div.field {
                            label for={ "confidence-" (kr.id) } { "Confidence" }
                            select.input id={ "confidence-" (kr.id) } name="confidence" {
                                @for (v, t) in [("on_track", "On track"), ("at_risk", "At risk"), ("off_track", "Off track")] {
                                    option value=(v) selected[my_form.confidence == v] { (t) }
                                }
                            }
                        }
                    }
                    div.field {
                        label for={ "note-" (kr.id) } { "Note" span.optional { " (optional)" } }
                        input.input id={ "note-" (kr.id) } name="note" type="text" value=(my_form.note);
                    }
                    div.actions { button.button.button-small type="submit" { "Check in" } }
                }
            }
        }
    }
}

fn objective_page(caller: &Caller, p: &ObjectivePage, forms: &ObjectiveForms) -> Markup {
    let d = &p.detail;
    let o = &d.view.objective;
    let closed = d.cycle.state == CycleState::Closed;
    let f = &forms.kr;
    let kr_error = if forms.check_in.is_none() { forms.error.as_ref() } else { None };
    let kpi_options: Vec<(String, String)> = std::iter::once((String::new(), "None".to_string()))
        .chain(p.kpis.iter().map(|k| (k.kpi.id.clone(), k.kpi.name.clone())))
        .collect();
    let kpi_refs: Vec<(&str, &str)> = kpi_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let body = html! {
        p.breadcrumb { a href={ "/okrs?" (query_string(&[("cycle", &d.cycle.id)])) } { "OKRs · " (d.cycle.name) } }
        h1 dir="auto" data-testid="objective-title" { (o.title) }
        p.muted {
            span.badge { (level_name(o.level)) } " "
            @if let Some(t) = &o.team { (t) " · " }
            "Owner " (name_of(&p.people, &o.owner_id))
            @if !o.contributor_ids.is_empty() {
                " · with " (o.contributor_ids.iter().map(|c| name_of(&p.people, c)).collect::<Vec<_>>().join(", "))
            }
            " · " span.okr-status data-testid="objective-status" { (status_name(o.status.as_str())) }
        }
        @if let Some(parent) = &d.parent { p { "Aligned under " a href={ "/okrs/objectives/" (parent.id) } { (parent.title) } } }
        @if !o.description.is_empty() { p.lead dir="auto" { (o.description) } }
        section.card aria-labelledby="rollup-title" {
            h2 #rollup-title { "Progress" }
            (progress_bar(d.view.score.progress, "Objective progress", "objective-progress"))
            p.muted {
                @if d.view.score.total > 0 { (d.view.score.done) " of " (d.view.score.total) " key results done" }
                @else { "No key results: the mean of the aligned objectives." }
                @if let Some(g) = d.view.score.grade { " · grade " (format!("{g:.2}")) }
            }
        }
        section aria-labelledby="krs-title" {
            h2 #krs-title { "Key results" }
            @if d.key_results.is_empty() { p.empty { "No key results yet." } }
            ol.kr-list { @for k in &d.key_results { (kr_card(caller, p, k, forms)) } }
        }
        @if !d.children.is_empty() {
            section.card aria-labelledby="children-title" {
                h2 #children-title { "Aligned objectives" }
                ul.okr-tree {
                    @for c in &d.children {
                        li.okr-node {
                            a href={ "/okrs/objectives/" (c.objective.id) } { (c.objective.title) }
                            (progress_bar(c.score.progress, &format!("Progress of {}", c.objective.title), "child-progress"))
                        }
                    }
                }
            }
        }
        @if may_edit(caller, o) && !closed {
            section.card aria-labelledby="new-kr-title" {
                h2 #new-kr-title { "Add a key result" }
                (error_summary(kr_error, &[("kr_title", "Key result"), ("kr_start", "Start"), ("kr_target", "Target"), ("kr_weight", "Weight")]))
                form.form method="post" action={ "/okrs/objectives/" (o.id) "/key_results" } novalidate data-testid="new-kr-form" {
                    (csrf(caller))
                    (Field::new("kr_title", "Key result", &f.kr_title).required().render(kr_error))
                    (select_field("kr_kind", "Kind", &[("number", "Number"), ("percent", "Percent"), ("currency", "Money (in cents)"), ("milestone", "Milestone (done or not)")], if f.kr_kind.is_empty() { "number" } else { &f.kr_kind }, None, kr_error))
                    div.field-row {
                        (Field::new("kr_start", "Start", &f.kr_start).hint("Where it is now.").render(kr_error))
                        (Field::new("kr_target", "Target", &f.kr_target).hint("Lower than the start for “reduce”.").render(kr_error))
                        (Field::new("kr_unit", "Unit", &f.kr_unit).render(kr_error))
                        (Field::new("kr_weight", "Weight", if f.kr_weight.is_empty() { "1" } else { &f.kr_weight }).kind("number").render(kr_error))
                    }
                    (select_field("kr_kpi", "Follows a KPI", &kpi_refs, &f.kr_kpi, Some("Its current value then comes from the KPI."), kr_error))
                    div.actions { button.button type="submit" { "Add key result" } }
                }
            }
        }
    };
    page(Some(caller), Nav::Okrs, &o.title, body)
}

async fn show_objective(
    state: &AppState,
    caller: &Caller,
    id: String,
    forms: ObjectiveForms,
    status: StatusCode,
) -> Response {
    let c = caller.clone();
    match run(state, move |app| load_objective(app, &c, &id)).await {
        Ok(p) => html_response(status, objective_page(caller, &p, &forms)),
        Err(e) => error_page(Some(caller), &e),
    }
}

pub async fn objective(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    show_objective(&state, &caller, id, ObjectiveForms::default(), StatusCode::OK).await
}

fn parse_num(field: &str, s: &str) -> Result<Option<f64>> {
    let s = s.trim().replace([',', ' '], "");
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(Error::invalid(field, "enter a number")),
    }
}

pub async fn create_key_result(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<KrForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let (c, form, oid) = (caller.clone(), f.clone(), id.clone());
    let result = run(&state, move |app| {
        let new = NewKeyResult {
            title: form.kr_title.clone(),
            kind: Some(if form.kr_kind.is_empty() { "number".into() } else { form.kr_kind.clone() }),
            start: parse_num("start", &form.kr_start)?,
            target: parse_num("target", &form.kr_target)?,
            current: None,
            unit: form.kr_unit.clone(),
            weight: parse_opt("weight", &form.kr_weight)?,
            owner_id: None,
            kpi_id: Some(form.kr_kpi.clone()).filter(|k| !k.is_empty()),
        };
        app.create_key_result(&c, &oid, new)
    })
    .await;
    match result {
        Ok(k) => Redirect::to(&format!("/okrs/objectives/{id}#kr-{}", k.key_result.id)).into_response(),
        Err(e) => {
            let fields = [
                ("title", "kr_title"),
                ("kind", "kr_kind"),
                ("start", "kr_start"),
                ("target", "kr_target"),
                ("unit", "kr_unit"),
                ("weight", "kr_weight"),
                ("kpi_id", "kr_kpi"),
            ];
            let forms = ObjectiveForms { kr: f, check_in: None, error: Some(FormError::from_error(&e, &fields)) };
            show_objective(&state, &caller, id, forms, crate::http::status_of(e.kind)).await
        }
    }
}

pub async fn check_in(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<CheckInForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let (c, form, kid) = (caller.clone(), f.clone(), id.clone());
    let result = run(&state, move |app| {
        let kr = app.key_result(&c, &kid)?;
        let value = parse_num("value", &form.value)?.ok_or_else(|| Error::invalid("value", "enter the new value"))?;
        let confidence = Some(serde_json::Value::String(if form.confidence.is_empty() {
            "on_track".into()
        } else {
            form.confidence.clone()
        }));
        app.check_in(&c, &kid, NewCheckIn { value, confidence, note: form.note.clone() })?;
        Ok(kr.key_result.objective_id)
    })
    .await;
    match result {
        Ok(oid) => Redirect::to(&format!("/okrs/objectives/{oid}#kr-{id}")).into_response(),
        Err(e) => {
            let c = caller.clone();
            let kid = id.clone();
            let Ok(kr) = run(&state, move |app| app.key_result(&c, &kid)).await else {
                return error_page(Some(&caller), &e);
            };
            let fields = [("value", "value"), ("confidence", "confidence"), ("note", "note")];
            let mut fe = FormError::from_error(&e, &fields);
            if fe.field.is_none() && e.field.is_none() && e.kind != plaudit_domain::ErrorKind::Validation {
                fe = FormError::general(fe.message);
            }
            let forms = ObjectiveForms { kr: KrForm::default(), check_in: Some((id, f)), error: Some(fe) };
            show_objective(&state, &caller, kr.key_result.objective_id, forms, crate::http::status_of(e.kind)).await
        }
    }
}

// ---------------------------------------------------------------- KPIs

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct KpiForm {
    pub csrf: String,
    pub kpi_name: String,
    pub kpi_unit: String,
    pub kpi_direction: String,
    pub kpi_target: String,
    pub kpi_warning: String,
    pub kpi_critical: String,
    pub kpi_cadence: String,
}

fn status_class(s: KpiStatus) -> &'static str {
    match s {
        KpiStatus::Healthy => "kpi-status kpi-healthy",
        KpiStatus::Warning => "kpi-status kpi-warning",
        KpiStatus::Critical => "kpi-status kpi-critical",
        KpiStatus::Stale => "kpi-status kpi-stale",
    }
}

fn kpis_page(caller: &Caller, list: &[(KpiView, Vec<KpiValue>)], f: &KpiForm, error: Option<&FormError>) -> Markup {
    let body = html! {
        h1 { "KPIs" }
        (error_summary(error, &[("kpi_name", "Name"), ("kpi_target", "Target"), ("kpi_warning", "Warning at"), ("kpi_critical", "Critical at")]))
        @if list.is_empty() { p.empty role="status" { "No KPIs yet." } }
        @else {
            div.table-wrap {
                table.kpi-table data-testid="kpi-table" {
                    thead { tr { th scope="col" { "KPI" } th scope="col" { "Status" } th scope="col" { "Latest" } th scope="col" { "Target" } th scope="col" { "Trend" } } }
                    tbody {
                        @for (k, values) in list {
                            tr data-kpi=(k.kpi.id) {
                                th scope="row" { a href={ "/kpis/" (k.kpi.id) } dir="auto" { (k.kpi.name) } }
                                td { span class=(status_class(k.status)) { (k.status.as_str()) } }
                                td { @if let Some(v) = &k.latest { (fmt_num(v.value)) " " (k.kpi.unit) " " span.muted { (v.date) } } @else { "—" } }
                                td { @if let Some(t) = k.kpi.target { (fmt_num(t)) " " (k.kpi.unit) } @else { "—" } }
                                td { (chart(&values.iter().rev().take(90).rev().map(|v| (date_x(&v.date), v.value)).collect::<Vec<_>>(), 120.0, 28.0, None, None, &format!("Trend of {}", k.kpi.name))) }
                            }
                        }
                    }
                }
            }
        }
        @if caller.member.role.is_admin() {
            section.card aria-labelledby="new-kpi-title" {
                h2 #new-kpi-title { "New KPI" }
                form.form method="post" action="/kpis" novalidate {
                    (csrf(caller))
                    (Field::new("kpi_name", "Name", &f.kpi_name).required().render(error))
                    div.field-row {
                        (Field::new("kpi_unit", "Unit", &f.kpi_unit).render(error))
                        (select_field("kpi_direction", "Better when", &[("higher", "Higher"), ("lower", "Lower")], if f.kpi_direction.is_empty() { "higher" } else { &f.kpi_direction }, None, error))
                        (select_field("kpi_cadence", "Updated", &[("daily", "Daily"), ("weekly", "Weekly"), ("monthly", "Monthly")], if f.kpi_cadence.is_empty() { "monthly" } else { &f.kpi_cadence }, None, error))
                    }
                    div.field-row {
                        (Field::new("kpi_target", "Target", &f.kpi_target).render(error))
                        (Field::new("kpi_warning", "Warning at", &f.kpi_warning).render(error))
                        (Field::new("kpi_critical", "Critical at", &f.kpi_critical).render(error))
                    }
                    div.actions { button.button type="submit" { "Create KPI" } }
                }
            }
        }
    };
    page(Some(caller), Nav::Kpis, "KPIs", body)
}

async fn show_kpis(
    state: &AppState,
    caller: &Caller,
    f: KpiForm,
    error: Option<FormError>,
    status: StatusCode,
) -> Response {
    let c = caller.clone();
    let r = run(state, move |app| {
        let mut out = Vec::new();
        for k in app.kpis(&c)? {
            let values = app.kpi(&c, &k.kpi.id)?.1;
            out.push((k, values));
        }
        Ok(out)
    })
    .await;
    match r {
        Ok(list) => html_response(status, kpis_page(caller, &list, &f, error.as_ref())),
        Err(e) => error_page(Some(caller), &e),
    }
}

pub async fn kpis(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    show_kpis(&state, &caller, KpiForm::default(), None, StatusCode::OK).await
}

pub async fn create_kpi(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(f): PageForm<KpiForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let (c, form) = (caller.clone(), f.clone());
    let r = run(&state, move |app| {
        let new = NewKpi {
            name: form.kpi_name.clone(),
            unit: form.kpi_unit.clone(),
            direction: Some(form.kpi_direction.clone()).filter(|s| !s.is_empty()),
            target: parse_num("target", &form.kpi_target)?,
            warning: parse_num("warning", &form.kpi_warning)?,
            critical: parse_num("critical", &form.kpi_critical)?,
            cadence: Some(form.kpi_cadence.clone()).filter(|s| !s.is_empty()),
            owner_id: None,
        };
        app.create_kpi(&c, new)
    })
    .await;
    match r {
        Ok(k) => Redirect::to(&format!("/kpis/{}", k.kpi.id)).into_response(),
        Err(e) => {
            let fields = [
                ("name", "kpi_name"),
                ("unit", "kpi_unit"),
                ("direction", "kpi_direction"),
                ("target", "kpi_target"),
                ("warning", "kpi_warning"),
                ("critical", "kpi_critical"),
                ("cadence", "kpi_cadence"),
            ];
            let fe = FormError::from_error(&e, &fields);
            show_kpis(&state, &caller, f, Some(fe), crate::http::status_of(e.kind)).await
        }
    }
}

struct KpiPage {
    view: KpiView,
    values: Vec<KpiValue>,
    objectives: Vec<Objective>,
}

fn load_kpi(app: &plaudit_app::App, caller: &Caller, id: &str) -> Result<KpiPage> {
    let (view, values) = app.kpi(caller, id)?;
    let open: Vec<String> =
        app.cycles(caller)?.into_iter().filter(|c| c.state != CycleState::Closed).map(|c| c.id).collect();
    let objectives = app
        .objectives(caller, None)?
        .into_iter()
        .map(|v| v.objective)
        .filter(|o| open.contains(&o.cycle_id) && may_edit(caller, o))
        .collect();
    Ok(KpiPage { view, values, objectives })
}

fn kpi_page(caller: &Caller, p: &KpiPage, report: Option<&CsvReport>, error: Option<&FormError>) -> Markup {
    let k = &p.view.kpi;
    let points: Vec<(f64, f64)> = p.values.iter().map(|v| (date_x(&v.date), v.value)).collect();
    let may_post = caller.member.role.is_admin() || k.owner_id == caller.member.id;
    let body = html! {
        p.breadcrumb { a href="/kpis" { "KPIs" } }
        h1 dir="auto" { (k.name) }
        p {
            span class=(status_class(p.view.status)) data-testid="kpi-status" { (p.view.status.as_str()) }
            " " span.muted { (if k.direction.as_str() == "higher" { "higher is better" } else { "lower is better" }) " · " (k.cadence.as_str())
                @if let Some(t) = k.target { " · target " (fmt_num(t)) " " (k.unit) }
                @if let Some(w) = k.warning { " · warning at " (fmt_num(w)) }
                @if let Some(c) = k.critical { " · critical at " (fmt_num(c)) } }
        }
        (chart(&points, 480.0, 120.0, k.target, None, &format!("History of {}", k.name)))
        @if let Some(r) = report {
            div.notice role="status" data-testid="csv-report" {
                p { (r.accepted) " rows taken" @if r.key_results_updated > 0 { "; " (r.key_results_updated) " key results followed" } "." }
                @if !r.errors.is_empty() {
                    p { (r.errors.len()) " rows were not taken:" }
                    ul { @for e in &r.errors { li { "Line " (e.line) ": " (e.message) } } }
                }
            }
        }
        (error_summary(error, &[("file", "CSV file"), ("target", "Target"), ("objective_id", "Objective")]))
        @if may_post {
            section.card aria-labelledby="upload-title" {
                h2 #upload-title { "Upload values (CSV)" }
                p.hint { "A header line with " code { "date,value" } " (dates like 2026-03-29) or " code { "time,value" } " (RFC 3339 times, placed on their local date in " (caller.org.timezone) "). A later value for a date replaces the earlier one." }
                form.form method="post" action={ "/kpis/" (k.id) "/upload" } enctype="multipart/form-data" {
                    (csrf(caller))
                    div.field { label for="file" { "CSV file" } input.input #file name="file" type="file" accept=".csv,text/csv"; }
                    div.actions { button.button type="submit" { "Upload" } }
                }
            }
        }
        @if !p.objectives.is_empty() {
            section.card aria-labelledby="improve-title" {
                h2 #improve-title { "Improve this KPI" }
                p.hint { "Adds a key result that starts at the KPI's current value and follows it." }
                form.form method="post" action={ "/kpis/" (k.id) "/improve" } novalidate {
                    (csrf(caller))
                    div.field {
                        label for="objective_id" { "Objective" }
                        select.input #objective_id name="objective_id" { @for o in &p.objectives { option value=(o.id) { (o.title) } } }
                    }
                    (Field::new("target", "Target", "").required().render(error))
                    div.actions { button.button type="submit" { "Create key result" } }
                }
            }
        }
        @if !p.values.is_empty() {
            section aria-labelledby="values-title" {
                h2 #values-title { "Values" }
                div.table-wrap { table { thead { tr { th scope="col" { "Date" } th scope="col" { "Value" } } }
                    tbody { @for v in p.values.iter().rev().take(60) { tr { td { (v.date) } td { (fmt_num(v.value)) " " (k.unit) } } } } } }
            }
        }
    };
    page(Some(caller), Nav::Kpis, &k.name, body)
}

async fn show_kpi(
    state: &AppState,
    caller: &Caller,
    id: String,
    report: Option<CsvReport>,
    error: Option<FormError>,
    status: StatusCode,
) -> Response {
    let c = caller.clone();
    match run(state, move |app| load_kpi(app, &c, &id)).await {
        Ok(p) => html_response(status, kpi_page(caller, &p, report.as_ref(), error.as_ref())),
        Err(e) => error_page(Some(caller), &e),
    }
}

pub async fn kpi(State(state): State<AppState>, PageCaller(caller): PageCaller, Path(id): Path<String>) -> Response {
    show_kpi(&state, &caller, id, None, None, StatusCode::OK).await
}

pub async fn upload(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let mut csrf_sent = String::new();
    let mut file: Vec<u8> = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(b) if name == "csrf" => csrf_sent = String::from_utf8_lossy(&b).into_owned(),
                    Ok(b) if name == "file" => file = b.to_vec(),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            Ok(None) => break,
            Err(_) => break,
        }
    }
    if let Err(r) = check_csrf(&caller, &csrf_sent) {
        return r;
    }
    let (c, kid) = (caller.clone(), id.clone());
    match run(&state, move |app| app.import_kpi_csv(&c, &kid, &file)).await {
        Ok(report) => show_kpi(&state, &caller, id, Some(report), None, StatusCode::OK).await,
        Err(e) => {
            let fe = FormError::from_error(&e, &[("file", "file")]);
            show_kpi(&state, &caller, id, None, Some(fe), crate::http::status_of(e.kind)).await
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ImproveForm {
    pub csrf: String,
    pub objective_id: String,
    pub target: String,
}

pub async fn improve(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ImproveForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, &f.csrf) {
        return r;
    }
    let (c, kid) = (caller.clone(), id.clone());
    let r = run(&state, move |app| {
        let target = parse_num("target", &f.target)?.ok_or_else(|| Error::invalid("target", "enter the target"))?;
        app.improve_kpi(
            &c,
            &kid,
            ImproveKpi { objective_id: f.objective_id.clone(), target, title: None, weight: None },
        )
    })
    .await;
    match r {
        Ok(k) => Redirect::to(&format!("/okrs/objectives/{}#kr-{}", k.key_result.objective_id, k.key_result.id))
            .into_response(),
        Err(e) => {
            let fe = FormError::from_error(&e, &[("target", "target"), ("objective_id", "objective_id")]);
            show_kpi(&state, &caller, id, None, Some(fe), crate::http::status_of(e.kind)).await
        }
    }
}
