//! The recognition feed, the give-recognition form and what can be done to
//! a post: react, comment, add points ("+N from me too"), undo (the giver,
//! for five minutes) and hide (admins).
//!
//! Everything works as plain form posts that come back to the page they
//! were sent from; `plaudit.js` does the same through the JSON API without
//! reloading the page.

use super::layout::{csrf_input, error_page, error_summary, html_response, page, select_field, FormError, Nav};
use super::{check_csrf, query_string, run, safe_next, PageCaller, PageForm, PageQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use plaudit_app::recognition::{Balance, GiveRequest};
use plaudit_app::{App, Caller};
use plaudit_domain::member::Member;
use plaudit_domain::org::Org;
use plaudit_domain::recognition::{Comment, CompanyValue, Kind, Recognition, MAX_MESSAGE_CHARS, UNDO_WINDOW_MS};
use plaudit_domain::{Error, Result};
use plaudit_store::FeedFilter;
use serde::Deserialize;
use std::collections::HashMap;

const PAGE_SIZE: i64 = 20;

/// The reactions every post offers.
pub const REACTIONS: &[&str] = &["👏", "🎉", "❤️", "🙌", "💯"];

// ---------------------------------------------------------------- formatting

/// `🏆 20 points` in the organisation's currency.
pub fn amount(org: &Org, n: i64) -> String {
    let unit = if n == 1 { &org.currency.name_singular } else { &org.currency.name_plural };
    format!("{} {} {}", org.currency.emoji, n, unit)
}

fn tz(org: &Org) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&org.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A time in the organisation's time zone, e.g. `1 December 2026`.
pub fn local(org: &Org, ms: i64, format: &str) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned_datetime(tz(org)).strftime(format).to_string(),
        Err(_) => String::new(),
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

/// "just now", "12 minutes ago", "3 hours ago", else the date.
fn when(org: &Org, ms: i64, now: i64) -> String {
    let ago = (now - ms).max(0) / 1000;
    match ago {
        0..=59 => "just now".to_string(),
        60..=119 => "1 minute ago".to_string(),
        120..=3599 => format!("{} minutes ago", ago / 60),
        3600..=7199 => "1 hour ago".to_string(),
        7200..=86_399 => format!("{} hours ago", ago / 3600),
        _ => {
            let same_year = local(org, ms, "%Y") == local(org, now, "%Y");
            local(org, ms, if same_year { "%-d %b, %H:%M" } else { "%-d %b %Y" })
        }
    }
}

pub(crate) fn time_el(org: &Org, ms: i64, now: i64) -> Markup {
    html! {
        time datetime=(rfc3339(ms)) title=(local(org, ms, "%-d %B %Y, %H:%M %Z")) { (when(org, ms, now)) }
    }
}

fn nonempty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

// ---------------------------------------------------------------- posts

/// Posts with everything shown around them: people, values, comments and
/// the caller's own reactions.
pub struct Posts {
    pub items: Vec<Recognition>,
    pub people: HashMap<String, Member>,
    pub values: HashMap<String, CompanyValue>,
    pub comments: HashMap<String, Vec<Comment>>,
    pub mine: HashMap<String, Vec<String>>,
}

/// Looks up what the posts show, in one read.
pub fn load_posts(app: &App, caller: &Caller, items: Vec<Recognition>) -> Result<Posts> {
    let org_id = caller.org.id.clone();
    let me = caller.member.id.clone();
    app.store.read(move |tx| {
        let values = tx.list_values(&org_id)?.into_iter().map(|v| (v.id.clone(), v)).collect();
        let mut people: HashMap<String, Member> = HashMap::new();
        let mut comments = HashMap::new();
        let mut mine = HashMap::new();
        for r in &items {
            let list = if r.comment_count > 0 { tx.comments(&org_id, &r.id)? } else { Vec::new() };
            let ids = r
                .giver_id
                .iter()
                .chain(r.recipients.iter().map(|x| &x.member_id))
                .chain(list.iter().map(|c| &c.member_id));
            for id in ids {
                if !people.contains_key(id) {
                    if let Some(m) = tx.member_by_id(&org_id, id)? {
                        people.insert(id.clone(), m);
                    }
                }
            }
            comments.insert(r.id.clone(), list);
            if !r.reactions.is_empty() {
                mine.insert(r.id.clone(), tx.my_reactions(&org_id, &r.id, &me)?);
            }
        }
        Ok(Posts { items, people, values, comments, mine })
    })
}

impl Posts {
    fn person(&self, id: &str) -> Markup {
        match self.people.get(id) {
            Some(m) => html! { a.person href={ "/members/" (m.id) } dir="auto" { (m.profile.display_name) } },
            None => html! { span.person.muted { "someone" } },
        }
    }
}

/// The list of posts; `back` is where the post's forms come back to.
pub fn post_list(caller: &Caller, posts: &Posts, back: &str, empty: &str) -> Markup {
    let now = plaudit_app::now_ms();
    html! {
        @if posts.items.is_empty() {
            p.empty role="status" { (empty) }
        } @else {
            ol.posts {
                @for r in &posts.items { li { (post(caller, posts, r, back, now)) } }
            }
        }
    }
}

fn post(caller: &Caller, posts: &Posts, r: &Recognition, back: &str, now: i64) -> Markup {
    let org = &caller.org;
    let me = caller.member.id.as_str();
    let id = &r.id;
    let from_company = r.kind != Kind::Peer;
    let giver_id = r.giver_id.as_deref();
    let all_equal = r.recipients.iter().all(|x| x.points == r.points);
    let i_received = r.recipients.iter().any(|x| x.member_id == me);
    let can_add = r.kind == Kind::Peer && giver_id != Some(me) && !i_received && caller.member.may_give;
    let undo_left = UNDO_WINDOW_MS - (now - r.created_at);
    let can_undo = r.kind == Kind::Peer && giver_id == Some(me) && undo_left > 0;
    let is_admin = caller.member.role.is_admin();
    let title_id = format!("post-{id}-title");
    let comments = posts.comments.get(id).map(Vec::as_slice).unwrap_or(&[]);
    let mine = posts.mine.get(id).map(Vec::as_slice).unwrap_or(&[]);
    let mut reactions: Vec<(String, i64)> = REACTIONS.iter().map(|e| (e.to_string(), 0)).collect();
    for x in &r.reactions {
        match reactions.iter_mut().find(|(e, _)| *e == x.emoji) {
            Some(slot) => slot.1 = x.count,
            None => reactions.push((x.emoji.clone(), x.count)),
        }
    }
    let back_field = html! { input type="hidden" name="back" value=(back); };
    let csrf = csrf_input(caller.csrf_token.as_deref().unwrap_or(""));
    html! {
        article.post.post-company[from_company] id={ "post-" (id) } aria-labelledby=(title_id) data-post=(id)
            data-points=(r.points) data-recipients=(r.recipients.len()) {
            header.post-head {
                h3.post-title id=(title_id) {
                    @if from_company {
                        span.company dir="auto" { (org.name) }
                    } @else if let Some(g) = giver_id {
                        (posts.person(g))
                    }
                    span.arrow aria-hidden="true" { " → " }
                    span.visually-hidden { " recognised " }
                    @for (i, x) in r.recipients.iter().enumerate() {
                        @if i > 0 {
                            @if i + 1 == r.recipients.len() { " and " } @else { ", " }
                        }
                        (posts.person(&x.member_id))
                        @if !all_equal { span.muted { " (" (amount(org, x.points)) ")" } }
                    }
                }
                p.post-meta {
                    @match r.kind {
                        Kind::Award => { span.badge.badge-award { "Company award" } " " }
                        Kind::Celebration => { span.badge.badge-celebration { "Celebration" } " " }
                        Kind::Peer => {}
                    }
                    (time_el(org, r.created_at, now))
                }
            }
            @if r.points > 0 || r.addon_points > 0 {
                p.post-points data-testid="post-points" {
                    @if all_equal && r.points > 0 {
                        strong { (amount(org, r.points)) }
                        @if r.recipients.len() > 1 { " each" }
                    }
                    span.addon-note {
                        @if r.addon_points > 0 {
                            " + " (amount(org, r.addon_points)) @if r.recipients.len() > 1 { " each" } " from others"
                        }
                    }
                }
            }
            @if !r.value_ids.is_empty() {
                ul.chips.post-values aria-label="Company values" {
                    @for v in &r.value_ids {
                        @if let Some(v) = posts.values.get(v) {
                            li.chip { span aria-hidden="true" { (v.emoji) } " " span dir="auto" { (v.name) } }
                        }
                    }
                }
            }
            p.post-message dir="auto" { (r.message) }
            div.post-actions {
                form.reactions method="post" action={ "/recognitions/" (id) "/reactions" } data-api="reaction" aria-label="Reactions" {
                    (csrf) (back_field)
                    @for (emoji, count) in &reactions {
                        @let pressed = mine.iter().any(|m| m == emoji);
                        button.reaction type="submit" name="emoji" value=(emoji) data-emoji=(emoji)
                            aria-pressed=(if pressed { "true" } else { "false" }) {
                            span.reaction-emoji { (emoji) }
                            " "
                            span.reaction-count { @if *count > 0 { (count) } }
                            span.visually-hidden { " reactions" }
                        }
                    }
                }
                @if can_add {
                    @let max = org.max_points_per_recognition;
                    @let dflt = 5.min(max).max(1);
                    form.addon method="post" action={ "/recognitions/" (id) "/addons" } data-api="addon" {
                        (csrf) (back_field)
                        label.visually-hidden for={ "addon-" (id) } { "Points from you to each recipient" }
                        input.input.input-small id={ "addon-" (id) } type="number" name="points" value=(dflt)
                            min="1" max=(max) step="1" inputmode="numeric" aria-describedby={ "addon-" (id) "-error" };
                        button.button.button-quiet.button-small type="submit" {
                            span { "+" span.addon-n { (dflt) } " from me too" }
                        }
                        p.field-error.inline-error id={ "addon-" (id) "-error" } role="alert" {}
                    }
                }
                @if can_undo {
                    form.inline method="post" action={ "/recognitions/" (id) "/undo" } data-undo-ms=(undo_left) {
                        (csrf) (back_field)
                        button.button.button-quiet.button-small type="submit" { "Undo" }
                    }
                }
                @if is_admin {
                    form.inline method="post" action={ "/recognitions/" (id) "/hide" }
                        data-confirm="Hide this post from the feed? Its points are taken back where they have not been spent." {
                        (csrf) (back_field)
                        button.button.button-quiet.button-small.button-danger type="submit" { "Hide" }
                    }
                }
            }
            details.comments open[!comments.is_empty() && comments.len() <= 3] {
                summary {
                    "💬 " span.comment-count { (r.comment_count) } " "
                    span.comment-word { @if r.comment_count == 1 { "comment" } @else { "comments" } }
                }
                ol.comment-list {
                    @for c in comments {
                        li.comment {
                            p.comment-head { (posts.person(&c.member_id)) " · " (time_el(org, c.created_at, now)) }
                            p.comment-body dir="auto" { (c.body) }
                        }
                    }
                }
                form.comment-form method="post" action={ "/recognitions/" (id) "/comments" } data-api="comment" {
                    (csrf) (back_field)
                    label for={ "comment-" (id) } { "Add a comment" }
                    textarea.input id={ "comment-" (id) } name="body" rows="2" dir="auto"
                        aria-describedby={ "comment-" (id) "-error" } {}
                    p.field-error.inline-error id={ "comment-" (id) "-error" } role="alert" {}
                    button.button.button-small type="submit" { "Comment" }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- the give form

/// What the give form holds (as typed, so a failed post can be corrected).
#[derive(Debug, Clone, Default)]
pub struct GiveForm {
    pub csrf: String,
    pub recipients: String,
    pub points: String,
    pub split: bool,
    pub values: Vec<String>,
    pub message: String,
    pub idempotency_key: String,
    /// `feed` when sent from the feed, so a failure is shown there.
    pub return_to: String,
}

impl GiveForm {
    fn from_pairs(pairs: &[(String, String)]) -> GiveForm {
        let mut f = GiveForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v.clone(),
                "recipients" => f.recipients = v.clone(),
                "points" => f.points = v.clone(),
                "split" => f.split = !v.is_empty(),
                "values" => f.values.push(v.clone()),
                "message" => f.message = v.clone(),
                "idempotency_key" => f.idempotency_key = v.clone(),
                "return_to" => f.return_to = v.clone(),
                _ => {}
            }
        }
        f
    }

    fn request(&self) -> std::result::Result<GiveRequest, Error> {
        let recipients: Vec<String> = self
            .recipients
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let points = match self.points.trim() {
            "" => 0,
            p => {
                p.parse::<i64>().map_err(|_| Error::invalid("points", "enter a whole number of points, such as 10"))?
            }
        };
        Ok(GiveRequest {
            recipients,
            points: if self.split { 0 } else { points },
            split_total: self.split.then_some(points),
            message: self.message.clone(),
            values: self.values.clone(),
            key_result_id: None,
        })
    }
}

/// The app's field names and the give form's inputs.
const GIVE_FIELDS: &[(&str, &str)] = &[
    ("recipients", "recipients"),
    ("points", "points"),
    ("split_total", "points"),
    ("values", "values"),
    ("message", "message"),
];

const GIVE_LABELS: &[(&str, &str)] =
    &[("recipients", "Recipients"), ("points", "Points"), ("values", "Company values"), ("message", "Message")];

/// What the give form shows around the inputs.
pub struct GiveContext {
    pub balance: Balance,
    pub values: Vec<CompanyValue>,
}

fn field_error(error: Option<&FormError>, field: &str) -> Option<String> {
    error.filter(|e| e.field.as_deref() == Some(field)).map(|e| e.message.clone())
}

fn error_line(field: &str, message: &Option<String>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.field-error id={ (field) "-error" } { span.visually-hidden { "Error: " } (m) }
        }
    }
}

fn described(hint: Option<&str>, field: &str, message: &Option<String>) -> Option<String> {
    let mut ids: Vec<String> = hint.map(str::to_string).into_iter().collect();
    if message.is_some() {
        ids.push(format!("{field}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

pub fn give_form_html(
    caller: &Caller,
    cx: &GiveContext,
    f: &GiveForm,
    error: Option<&FormError>,
    return_to: &str,
) -> Markup {
    let org = &caller.org;
    let b = &cx.balance;
    let key = if f.idempotency_key.is_empty() { plaudit_app::auth::random_token() } else { f.idempotency_key.clone() };
    let (recipients_error, points_error, values_error, message_error) = (
        field_error(error, "recipients"),
        field_error(error, "points"),
        field_error(error, "values"),
        field_error(error, "message"),
    );
    let unit = if b.total == 1 { &org.currency.name_singular } else { &org.currency.name_plural };
    let chars = f.message.chars().count();
    let values: Vec<&CompanyValue> = cx.values.iter().filter(|v| !v.archived).collect();
    html! {
        form.form.give-form #give-form method="post" action="/give" novalidate data-give-form
            data-max-points=(org.max_points_per_recognition) {
            (csrf_input(caller.csrf_token.as_deref().unwrap_or("")))
            input type="hidden" name="return_to" value=(return_to);
            input type="hidden" name="idempotency_key" value=(key);
            div.give-summary { (error_summary(error, GIVE_LABELS)) }
            div.field.field-invalid[recipients_error.is_some()] #recipients-field data-recipient-picker {
                label for="recipients" { "Recipients" }
                p.hint #recipients-hint { "E-mail addresses of the people to recognise, separated by commas." }
                (error_line("recipients", &recipients_error))
                input.input #recipients name="recipients" type="text" value=(f.recipients) autocomplete="off"
                    spellcheck="false" autocapitalize="none"
                    aria-describedby=[described(Some("recipients-hint"), "recipients", &recipients_error)]
                    aria-invalid=[recipients_error.as_ref().map(|_| "true")];
            }
            div.field.field-invalid[points_error.is_some()] #points-field {
                label for="points" { "Points " span.points-mode { @if f.split { "in all, split among the recipients" } @else { "for each recipient" } } }
                p.hint #points-hint data-testid="allowance" {
                    @if b.total > 0 {
                        "Left to give this month: " (org.currency.emoji) " "
                        strong data-testid="allowance-remaining" { (b.remaining) } " of " (b.total) " " (unit) ". "
                        "Resets on " (local(org, b.resets_at, "%-d %B %Y")) ". "
                    } @else {
                        "You have no points to give this month"
                        @if org.allow_zero_point_posts { ", but you can still post recognition with 0 points" } ". "
                        span hidden data-testid="allowance-remaining" { "0" }
                    }
                    "At most " (org.max_points_per_recognition) " per recipient."
                }
                (error_line("points", &points_error))
                input.input.input-short #points name="points" type="number" value=(f.points) min="0"
                    max=(if f.split { b.remaining.max(0) } else { org.max_points_per_recognition }) step="1" inputmode="numeric"
                    aria-describedby=[described(Some("points-hint"), "points", &points_error)]
                    aria-invalid=[points_error.as_ref().map(|_| "true")];
                p.muted.points-total #points-total aria-live="polite" {}
            }
            div.field.field-checkbox {
                input #split name="split" type="checkbox" value="on" checked[f.split] aria-describedby="split-hint";
                label for="split" { "Split a pot" }
                p.hint #split-hint { "The points above are a total, shared as evenly as possible among the recipients." }
            }
            @if !values.is_empty() || org.require_value {
                fieldset.field.values-field.field-invalid[values_error.is_some()] #values
                    aria-describedby=[values_error.as_ref().map(|_| "values-error")] {
                    legend { "Company values" @if !org.require_value { span.optional { " (optional)" } } }
                    (error_line("values", &values_error))
                    div.chips.chip-choices {
                        @for v in &values {
                            @let checked = f.values.iter().any(|x| x == &v.id || x == &v.name);
                            label.chip-choice {
                                input type="checkbox" name="values" value=(v.id) checked[checked];
                                span.chip { span aria-hidden="true" { (v.emoji) } " " span dir="auto" { (v.name) } }
                            }
                        }
                    }
                    @if values.is_empty() { p.muted { "An admin has not set up company values yet." } }
                }
            }
            div.field.field-invalid[message_error.is_some()] #message-field {
                label for="message" { "Message" }
                p.hint #message-hint { "Say what they did and why it mattered. Up to " (MAX_MESSAGE_CHARS) " characters." }
                (error_line("message", &message_error))
                textarea.input #message name="message" rows="4" dir="auto"
                    aria-describedby=[described(Some("message-hint message-count"), "message", &message_error)]
                    aria-invalid=[message_error.as_ref().map(|_| "true")] data-max-chars=(MAX_MESSAGE_CHARS) { (f.message) }
                p.char-count #message-count { (chars) " / " (MAX_MESSAGE_CHARS) " characters" }
            }
            div.actions { button.button type="submit" { "Send recognition" } }
        }
    }
}

async fn give_context(state: &AppState, caller: &Caller) -> std::result::Result<GiveContext, Error> {
    let c = caller.clone();
    run(state, move |app| Ok(GiveContext { balance: app.balance(&c, &c.member.id)?, values: app.values(&c)? })).await
}

fn give_page(caller: &Caller, cx: &GiveContext, f: &GiveForm, error: Option<&FormError>) -> Markup {
    let body = html! {
        div.narrow.give-page {
            h1 { "Give recognition" }
            p.lead { "Thank someone for their work, in front of everyone." }
            (give_form_html(caller, cx, f, error, "give"))
        }
    };
    page(Some(caller), Nav::Give, "Give recognition", body)
}

pub async fn give_form_page(state: &AppState, caller: &Caller) -> Response {
    match give_context(state, caller).await {
        Ok(cx) => html_response(StatusCode::OK, give_page(caller, &cx, &GiveForm::default(), None)),
        Err(e) => error_page(Some(caller), &e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GiveQuery {
    /// A member id or e-mail to put in the recipients field.
    pub to: String,
}

/// `GET /give`.
pub async fn give_form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<GiveQuery>,
) -> Response {
    if q.to.trim().is_empty() {
        return give_form_page(&state, &caller).await;
    }
    let cx = match give_context(&state, &caller).await {
        Ok(cx) => cx,
        Err(e) => return error_page(Some(&caller), &e),
    };
    let f = GiveForm { recipients: q.to.trim().to_string(), ..Default::default() };
    html_response(StatusCode::OK, give_page(&caller, &cx, &f, None))
}

/// `POST /give`: on success to the feed with the new post on top; else the
/// form again (on the feed or on its own page) with the error by its field.
pub async fn give(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let f = GiveForm::from_pairs(&pairs);
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let result = match f.request() {
        Ok(req) => {
            let (c, key) = (caller.clone(), nonempty(&f.idempotency_key));
            run(&state, move |app| app.give(&c, &req, key.as_deref())).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Redirect::to(&format!("/feed?given=1#post-{}", p.recognition.id)).into_response(),
        Err(e) => {
            let status = crate::http::status_of(e.kind);
            let fe = FormError::from_error(&e, GIVE_FIELDS);
            if f.return_to == "feed" {
                return render_feed(&state, caller, FeedQuery::default(), Some((f, fe)), status).await;
            }
            match give_context(&state, &caller).await {
                Ok(cx) => html_response(status, give_page(&caller, &cx, &f, Some(&fe))),
                Err(e) => error_page(Some(&caller), &e),
            }
        }
    }
}

// ---------------------------------------------------------------- the feed

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct FeedQuery {
    pub value: String,
    pub department: String,
    /// A member id or e-mail: posts they gave or received.
    pub member: String,
    pub cursor: String,
    pub given: String,
    pub done: String,
}

impl FeedQuery {
    fn url(&self, cursor: &str) -> String {
        let qs = query_string(&[
            ("value", self.value.trim()),
            ("department", self.department.trim()),
            ("member", self.member.trim()),
            ("cursor", cursor),
        ]);
        if qs.is_empty() {
            "/feed".to_string()
        } else {
            format!("/feed?{qs}")
        }
    }

    fn filtered(&self) -> bool {
        !self.value.trim().is_empty() || !self.department.trim().is_empty() || !self.member.trim().is_empty()
    }
}

pub async fn feed(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    PageQuery(q): PageQuery<FeedQuery>,
) -> Response {
    render_feed(&state, caller, q, None, StatusCode::OK).await
}

struct FeedData {
    give: GiveContext,
    departments: Vec<String>,
    member: Option<Member>,
    member_missing: bool,
    posts: Posts,
    next_cursor: Option<String>,
}

async fn render_feed(
    state: &AppState,
    caller: Caller,
    q: FeedQuery,
    give: Option<(GiveForm, FormError)>,
    status: StatusCode,
) -> Response {
    let (c, q2) = (caller.clone(), q.clone());
    let loaded = run(state, move |app| {
        let values = app.values(&c)?;
        let balance = app.balance(&c, &c.member.id)?;
        let (departments, _) = app.member_facets(&c)?;
        let member = match nonempty(&q2.member) {
            Some(m) => app.find_member(&c, &m)?,
            None => None,
        };
        let member_missing = member.is_none() && nonempty(&q2.member).is_some();
        let filter = FeedFilter {
            member_id: member.as_ref().map(|m| m.id.clone()),
            value_id: nonempty(&q2.value),
            department: nonempty(&q2.department),
            ..Default::default()
        };
        let (items, next_cursor) = if member_missing {
            (Vec::new(), None)
        } else {
            let page = app.feed(&c, &filter, Some(q2.cursor.as_str()), PAGE_SIZE)?;
            (page.items, page.next_cursor)
        };
        let posts = load_posts(app, &c, items)?;
        Ok(FeedData { give: GiveContext { balance, values }, departments, member, member_missing, posts, next_cursor })
    })
    .await;
    let d = match loaded {
        Ok(d) => d,
        Err(e) if e.field.as_deref() == Some("cursor") => return Redirect::to(&q.url("")).into_response(),
        Err(e) => return error_page(Some(&caller), &e),
    };
    let value_options: Vec<(String, String)> = std::iter::once((String::new(), "All values".to_string()))
        .chain(d.give.values.iter().map(|v| {
            let label = if v.archived {
                format!("{} {} (archived)", v.emoji, v.name)
            } else {
                format!("{} {}", v.emoji, v.name)
            };
            (v.id.clone(), label)
        }))
        .collect();
    let value_options: Vec<(&str, &str)> = value_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let department_options: Vec<(&str, &str)> = std::iter::once(("", "All departments"))
        .chain(d.departments.iter().map(|x| (x.as_str(), x.as_str())))
        .collect();
    let member_error =
        d.member_missing.then(|| FormError::on("member", "No member has that e-mail. Check it, or clear the filter."));
    let back = q.url(&q.cursor);
    let (give_f, give_error) = match &give {
        Some((f, e)) => (f.clone(), Some(e)),
        None => (GiveForm::default(), None),
    };
    let body = html! {
        h1.visually-hidden { "Recognition feed" }
        @if !q.given.is_empty() { div.notice role="status" { p { "Recognition sent. Thank you!" } } }
        @match q.done.as_str() {
            "undone" => { div.notice role="status" { p { "The recognition was undone and its points returned." } } }
            "hidden" => { div.notice role="status" { p { "The post is hidden and its points were taken back." } } }
            _ => {}
        }
        div.feed-layout {
            section.give-panel.card aria-labelledby="give-title" {
                h2 #give-title { "Give recognition" }
                (give_form_html(&caller, &d.give, &give_f, give_error, "feed"))
            }
            section.feed-panel aria-labelledby="feed-title" {
                h2 #feed-title { "Feed" }
                form.filters.feed-filters role="search" method="get" action="/feed" aria-label="Filter the feed" {
                    (select_field("value", "Value", &value_options, q.value.trim(), None, None))
                    (select_field("department", "Department", &department_options, q.department.trim(), None, None))
                    @let member_msg = member_error.as_ref().map(|e| e.message.as_str());
                    div.field.field-invalid[member_msg.is_some()] {
                        label for="member" { "Member's e-mail" }
                        @if let Some(m) = member_msg { p.field-error #member-error { span.visually-hidden { "Error: " } (m) } }
                        input.input #member name="member" type="search" value=(q.member.trim()) autocomplete="off"
                            spellcheck="false" autocapitalize="none" aria-describedby=[member_msg.map(|_| "member-error")]
                            aria-invalid=[member_msg.map(|_| "true")];
                    }
                    div.actions {
                        button.button type="submit" { "Filter" }
                        @if q.filtered() { a.button.button-quiet href="/feed" { "Clear" } }
                    }
                }
                @if let Some(m) = &d.member {
                    p.muted { "Recognition given or received by " a href={ "/members/" (m.id) } dir="auto" { (m.profile.display_name) } "." }
                }
                (post_list(&caller, &d.posts, &back, if q.filtered() { "No recognition matches these filters." } else { "No recognition yet. Be the first to thank someone!" }))
                nav.pager aria-label="Pages" {
                    @if !q.cursor.is_empty() { a.button.button-quiet href=(q.url("")) { "Newest" } }
                    @if let Some(next) = &d.next_cursor {
                        a.button.button-quiet rel="next" href=(q.url(next)) { "Older posts" }
                    }
                }
            }
        }
    };
    html_response(status, page(Some(&caller), Nav::Feed, "Feed", body))
}

// ---------------------------------------------------------------- post actions

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    pub csrf: String,
    pub back: String,
    pub emoji: String,
    pub body: String,
    pub points: String,
}

fn back_to(f: &ActionForm) -> String {
    if f.back.trim().is_empty() {
        "/feed".to_string()
    } else {
        safe_next(f.back.trim()).to_string()
    }
}

/// The page a failed post action shows: what went wrong and the way back.
fn action_failed(caller: &Caller, e: &Error, back: &str, post_id: &str) -> Response {
    let fe = FormError::from_error(e, &[]);
    if matches!(e.kind, plaudit_domain::ErrorKind::Internal | plaudit_domain::ErrorKind::Unavailable) {
        return error_page(Some(caller), e);
    }
    let body = html! {
        div.narrow {
            h1 { "That did not work" }
            div.error-summary role="alert" {
                h2 { "There is a problem" }
                p data-testid="form-error" { (fe.message) }
            }
            p { a href={ (back) "#post-" (post_id) } { "Back to the post" } }
        }
    };
    html_response(crate::http::status_of(e.kind), page(Some(caller), Nav::Feed, "That did not work", body))
}

async fn act(
    state: &AppState,
    caller: Caller,
    id: String,
    f: ActionForm,
    anchor: bool,
    work: impl FnOnce(&App, &Caller, &str, &ActionForm) -> Result<()> + Send + 'static,
) -> Response {
    if let Err(refused) = check_csrf(&caller, &f.csrf) {
        return refused;
    }
    let back = back_to(&f);
    let (c, pid) = (caller.clone(), id.clone());
    match run(state, move |app| work(app, &c, &pid, &f)).await {
        Ok(()) if anchor => Redirect::to(&format!("{back}#post-{id}")).into_response(),
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => action_failed(&caller, &e, &back, &id),
    }
}

pub async fn react(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    act(&state, caller, id, f, true, |app, c, id, f| app.react(c, id, &f.emoji).map(|_| ())).await
}

pub async fn comment(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    act(&state, caller, id, f, true, |app, c, id, f| app.comment(c, id, &f.body).map(|_| ())).await
}

pub async fn add_on(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    act(&state, caller, id, f, true, |app, c, id, f| {
        let points = f
            .points
            .trim()
            .parse::<i64>()
            .map_err(|_| Error::invalid("points", "enter a whole number of points, such as 5"))?;
        app.add_on(c, id, points, None).map(|_| ())
    })
    .await
}

fn with_done(back: &str, done: &str) -> String {
    // Only the feed shows these notices; elsewhere the post is simply gone.
    if back == "/feed" || back.starts_with("/feed?") {
        let sep = if back.contains('?') { '&' } else { '?' };
        format!("{back}{sep}done={done}")
    } else {
        back.to_string()
    }
}

pub async fn undo(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(mut f): PageForm<ActionForm>,
) -> Response {
    f.back = with_done(&back_to(&f), "undone");
    act(&state, caller, id, f, false, |app, c, id, _| app.undo(c, id)).await
}

pub async fn hide(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    PageForm(mut f): PageForm<ActionForm>,
) -> Response {
    f.back = with_done(&back_to(&f), "hidden");
    act(&state, caller, id, f, false, |app, c, id, _| app.hide(c, id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_give_form_reads_repeated_values_and_a_pot() {
        let pairs: Vec<(String, String)> = [
            ("recipients", "a@example.com, b@example.com;c@example.com"),
            ("points", "30"),
            ("split", "on"),
            ("values", "v1"),
            ("values", "v2"),
            ("message", "Thanks\nfor everything"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let req = GiveForm::from_pairs(&pairs).request().unwrap();
        assert_eq!(req.recipients, ["a@example.com", "b@example.com", "c@example.com"]);
        assert_eq!((req.points, req.split_total), (0, Some(30)));
        assert_eq!(req.values, ["v1", "v2"]);
        assert_eq!(req.message, "Thanks\nfor everything");
        let bad = GiveForm { points: "ten".into(), ..Default::default() }.request().unwrap_err();
        assert_eq!(bad.field.as_deref(), Some("points"));
    }

    #[test]
    fn going_back_adds_a_notice_only_on_the_feed() {
        assert_eq!(with_done("/feed", "undone"), "/feed?done=undone");
        assert_eq!(with_done("/feed?value=x", "hidden"), "/feed?value=x&done=hidden");
        assert_eq!(with_done("/members/abc", "hidden"), "/members/abc");
    }
}
