//! OKRs and KPIs: cycles, objectives and the alignment tree, key results,
//! check-ins, KPIs and their values.

use crate::http::{blocking, ApiCaller, ApiError, ApiResult, JsonBody, QueryParams};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use plaudit_app::okrs::{
    CycleChanges, ImproveKpi, KeyResultChanges, KpiView, KrView, NewCheckIn, NewCycle, NewKeyResult, NewKpi,
    NewKpiValue, NewObjective, ObjectiveChanges, ObjectiveView, SettingsChanges, TreeItem,
};
use plaudit_domain::okr::{CheckIn, Cycle, KpiValue, OkrSettings};
use plaudit_domain::Error;
use serde::Deserialize;
use serde_json::{json, Value};

fn time(ms: i64) -> Value {
    crate::api::json::time(ms)
}

/// A whole number as an integer (currency minor units stay integers), else a float.
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn ratio(v: f64) -> Value {
    json!((v * 10_000.0).round() / 10_000.0)
}

pub fn cycle(c: &Cycle) -> Value {
    json!({
        "id": c.id, "name": c.name, "kind": c.kind, "start_date": c.start_date, "end_date": c.end_date,
        "state": c.state, "closed_at": c.closed_at.map(time), "created_at": time(c.created_at),
    })
}

pub fn objective(v: &ObjectiveView) -> Value {
    let o = &v.objective;
    json!({
        "id": o.id, "cycle_id": o.cycle_id, "title": o.title, "description": o.description,
        "level": o.level, "team": o.team, "owner_id": o.owner_id, "contributor_ids": o.contributor_ids,
        "parent_id": o.parent_id, "visibility": o.visibility, "status": o.status,
        "progress": ratio(v.score.progress), "key_results_done": v.score.done, "key_results_total": v.score.total,
        "grade": v.score.grade, "created_at": time(o.created_at), "updated_at": time(o.updated_at),
    })
}

pub fn check_in(c: &CheckIn) -> Value {
    let confidence = c.confidence.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(c.confidence.clone()));
    json!({
        "id": c.id, "key_result_id": c.key_result_id, "member_id": c.member_id, "value": number(c.value),
        "confidence": confidence, "note": c.note, "late": c.late, "created_at": time(c.created_at),
    })
}

pub fn key_result(v: &KrView) -> Value {
    let k = &v.key_result;
    json!({
        "id": k.id, "objective_id": k.objective_id, "title": k.title, "kind": k.kind,
        "start": number(k.start), "target": number(k.target), "current": number(k.current),
        "unit": k.unit, "weight": k.weight, "owner_id": k.owner_id, "kpi_id": k.kpi_id, "archived": k.archived,
        "direction": plaudit_domain::okr::direction(k.start, k.target),
        "progress": ratio(v.score.progress), "beyond_start": v.score.beyond_start, "grade": v.score.grade,
        "forecast": v.forecast.map(|f| json!({"value": number((f.value * 100.0).round() / 100.0), "reaches_target": f.reaches_target})),
        "current_changed_at": time(k.current_at),
        "check_in_count": v.check_ins.len(),
        "created_at": time(k.created_at), "updated_at": time(k.updated_at),
    })
}

pub fn kpi(v: &KpiView) -> Value {
    let k = &v.kpi;
    json!({
        "id": k.id, "name": k.name, "unit": k.unit, "direction": k.direction,
        "target": k.target.map(number), "warning": k.warning.map(number), "critical": k.critical.map(number),
        "cadence": k.cadence, "owner_id": k.owner_id, "status": v.status,
        "latest": v.latest.as_ref().map(kpi_value), "created_at": time(k.created_at),
    })
}

pub fn kpi_value(v: &KpiValue) -> Value {
    json!({"date": v.date, "value": number(v.value), "updated_at": time(v.updated_at)})
}

fn settings(s: &OkrSettings) -> Value {
    json!({"allow_over_achievement": s.allow_over_achievement, "allow_late_check_ins": s.allow_late_check_ins})
}

fn items(list: Vec<Value>) -> Json<Value> {
    Json(crate::api::json::page(list, None))
}

/// `?limit=` (default 50, at most 100) and `?cursor=`.
#[derive(Deserialize, Default)]
pub struct PageQ {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One page of `list` (already in its order): the cursor is the `key` of
/// the last item of the previous page.
fn paged(list: Vec<Value>, key: &str, limit: Option<i64>, cursor: Option<&str>) -> Json<Value> {
    let limit = limit.unwrap_or(50).clamp(1, 100) as usize;
    let start = match cursor.filter(|c| !c.is_empty()) {
        Some(c) => list.iter().position(|v| v[key].as_str() == Some(c)).map_or(list.len(), |i| i + 1),
        None => 0,
    };
    let rest: Vec<Value> = list.into_iter().skip(start).collect();
    let more = rest.len() > limit;
    let page: Vec<Value> = rest.into_iter().take(limit).collect();
    let next = if more { page.last().and_then(|v| v[key].as_str()).map(str::to_string) } else { None };
    Json(crate::api::json::page(page, next))
}

// ---------------------------------------------------------------- settings

pub async fn get_settings(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    let s = blocking(&state.app, move |app| app.okr_settings(&caller)).await?;
    Ok(Json(settings(&s)))
}

pub async fn patch_settings(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(ch): JsonBody<SettingsChanges>,
) -> ApiResult<Json<Value>> {
    let s = blocking(&state.app, move |app| app.update_okr_settings(&caller, ch)).await?;
    Ok(Json(settings(&s)))
}

// ---------------------------------------------------------------- cycles

pub async fn list_cycles(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<PageQ>,
) -> ApiResult<Json<Value>> {
    let list = blocking(&state.app, move |app| app.cycles(&caller)).await?;
    Ok(paged(list.iter().map(cycle).collect(), "id", q.limit, q.cursor.as_deref()))
}

pub async fn create_cycle(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewCycle>,
) -> ApiResult<impl IntoResponse> {
    let c = blocking(&state.app, move |app| app.create_cycle(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(cycle(&c))))
}

pub async fn get_cycle(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = blocking(&state.app, move |app| app.cycle(&caller, &id)).await?;
    Ok(Json(cycle(&c)))
}

pub async fn patch_cycle(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(ch): JsonBody<CycleChanges>,
) -> ApiResult<Json<Value>> {
    let c = blocking(&state.app, move |app| app.update_cycle(&caller, &id, ch)).await?;
    Ok(Json(cycle(&c)))
}

pub async fn close_cycle(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = blocking(&state.app, move |app| app.close_cycle(&caller, &id)).await?;
    Ok(Json(cycle(&c)))
}

// ---------------------------------------------------------------- objectives

#[derive(Deserialize, Default)]
pub struct CycleQuery {
    pub cycle: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn list_objectives(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<CycleQuery>,
) -> ApiResult<Json<Value>> {
    let cycle = q.cycle.filter(|c| !c.is_empty());
    let list = blocking(&state.app, move |app| app.objectives(&caller, cycle.as_deref())).await?;
    // Newest first.
    Ok(paged(list.iter().rev().map(objective).collect(), "id", q.limit, q.cursor.as_deref()))
}

pub async fn create_objective(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewObjective>,
) -> ApiResult<impl IntoResponse> {
    let v = blocking(&state.app, move |app| app.create_objective(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(objective(&v))))
}

pub async fn get_objective(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = blocking(&state.app, move |app| app.objective(&caller, &id)).await?;
    let mut body = objective(&d.view);
    body["key_results"] = d
        .key_results
        .iter()
        .map(|k| {
            let mut v = key_result(k);
            v["check_ins"] = k.check_ins.iter().map(check_in).collect::<Vec<_>>().into();
            v["recognition_ids"] = d
                .recognitions
                .get(&k.key_result.id)
                .map(|l| l.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
                .into();
            v
        })
        .collect::<Vec<_>>()
        .into();
    body["children"] = d.children.iter().map(objective).collect::<Vec<_>>().into();
    body["cycle"] = cycle(&d.cycle);
    Ok(Json(body))
}

pub async fn patch_objective(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(ch): JsonBody<ObjectiveChanges>,
) -> ApiResult<Json<Value>> {
    let v = blocking(&state.app, move |app| app.update_objective(&caller, &id, ch)).await?;
    Ok(Json(objective(&v)))
}

fn tree_item(t: &TreeItem) -> Value {
    let mut v = objective(&t.view);
    v["depth"] = t.depth.into();
    v
}

pub async fn tree(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<CycleQuery>,
) -> ApiResult<Json<Value>> {
    let cycle = q
        .cycle
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError(Error::invalid("cycle", "give the cycle: ?cycle=ID")))?;
    let list = blocking(&state.app, move |app| app.objective_tree(&caller, &cycle)).await?;
    Ok(items(list.iter().map(tree_item).collect()))
}

// ---------------------------------------------------------------- key results

pub async fn create_key_result(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(new): JsonBody<NewKeyResult>,
) -> ApiResult<impl IntoResponse> {
    let v = blocking(&state.app, move |app| app.create_key_result(&caller, &id, new)).await?;
    Ok((StatusCode::CREATED, Json(key_result(&v))))
}

pub async fn get_key_result(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = blocking(&state.app, move |app| app.key_result(&caller, &id)).await?;
    Ok(Json(key_result(&v)))
}

pub async fn patch_key_result(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(ch): JsonBody<KeyResultChanges>,
) -> ApiResult<Json<Value>> {
    let v = blocking(&state.app, move |app| app.update_key_result(&caller, &id, ch)).await?;
    Ok(Json(key_result(&v)))
}

pub async fn list_check_ins(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<PageQ>,
) -> ApiResult<Json<Value>> {
    let v = blocking(&state.app, move |app| app.key_result(&caller, &id)).await?;
    Ok(paged(v.check_ins.iter().rev().map(check_in).collect(), "id", q.limit, q.cursor.as_deref()))
}

pub async fn create_check_in(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(new): JsonBody<NewCheckIn>,
) -> ApiResult<impl IntoResponse> {
    let (c, kr) = blocking(&state.app, move |app| app.check_in(&caller, &id, new)).await?;
    let mut body = check_in(&c);
    body["key_result"] = key_result(&kr);
    Ok((StatusCode::CREATED, Json(body)))
}

// ---------------------------------------------------------------- KPIs

pub async fn list_kpis(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<PageQ>,
) -> ApiResult<Json<Value>> {
    let list = blocking(&state.app, move |app| app.kpis(&caller)).await?;
    Ok(paged(list.iter().map(kpi).collect(), "id", q.limit, q.cursor.as_deref()))
}

pub async fn create_kpi(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewKpi>,
) -> ApiResult<impl IntoResponse> {
    let v = blocking(&state.app, move |app| app.create_kpi(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(kpi(&v))))
}

pub async fn get_kpi(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (v, _) = blocking(&state.app, move |app| app.kpi(&caller, &id)).await?;
    Ok(Json(kpi(&v)))
}

pub async fn list_values(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<PageQ>,
) -> ApiResult<Json<Value>> {
    let (_, values) = blocking(&state.app, move |app| app.kpi(&caller, &id)).await?;
    // Newest date first; the cursor is a date.
    Ok(paged(values.iter().rev().map(kpi_value).collect(), "date", q.limit, q.cursor.as_deref()))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Batch {
    Wrapped { values: Vec<NewKpiValue> },
    Bare(Vec<NewKpiValue>),
}

/// `{"values": [{date or time, value}, …]}` (or the bare array) as JSON, or a
/// CSV with `date,value` / `time,value` columns (`Content-Type: text/csv`).
pub async fn post_values(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("text/csv") {
        let r = blocking(&state.app, move |app| app.import_kpi_csv(&caller, &id, &body)).await?;
        return Ok(Json(json!({
            "accepted": r.accepted, "key_results_updated": r.key_results_updated,
            "errors": r.errors.iter().map(|e| json!({"line": e.line, "message": e.message})).collect::<Vec<_>>(),
        })));
    }
    if !ct.starts_with("application/json") {
        return Err(ApiError(
            Error::new(
                plaudit_domain::ErrorKind::UnsupportedMediaType,
                "unsupported_media_type",
                "send JSON (application/json) or CSV (text/csv)",
            )
            .on_field("body"),
        ));
    }
    let batch: Batch = serde_json::from_slice(&body)
        .map_err(|e| ApiError(Error::invalid("body", format!("the request body is not valid: {e}"))))?;
    let values = match batch {
        Batch::Wrapped { values } | Batch::Bare(values) => values,
    };
    let r = blocking(&state.app, move |app| app.post_kpi_values(&caller, &id, &values)).await?;
    Ok(Json(json!({"accepted": r.accepted, "dates": r.dates, "key_results_updated": r.key_results_updated})))
}

pub async fn improve_kpi(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ImproveKpi>,
) -> ApiResult<impl IntoResponse> {
    let v = blocking(&state.app, move |app| app.improve_kpi(&caller, &id, req)).await?;
    Ok((StatusCode::CREATED, Json(key_result(&v))))
}

// ---------------------------------------------------------------- OpenAPI

fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "properties": props})
}

/// The OKR schemas of `openapi.json`.
pub fn schemas() -> serde_json::Map<String, Value> {
    let s = json!({"type": "string"});
    let ns = json!({"type": ["string", "null"]});
    let num = json!({"type": "number"});
    let nnum = json!({"type": ["number", "null"]});
    let int = json!({"type": "integer"});
    let bool_ = json!({"type": "boolean"});
    let ids = json!({"type": "array", "items": {"type": "string"}});
    let state = json!({"type": "string", "enum": ["planning", "active", "closed"]});
    let level = json!({"type": "string", "enum": ["company", "team", "individual"]});
    let status = json!({"type": "string", "enum": ["draft", "on_track", "at_risk", "off_track", "done", "archived"]});
    let vis = json!({"type": "string", "enum": ["public", "private"]});
    let kind = json!({"type": "string", "enum": ["number", "percent", "currency", "milestone"]});
    let conf = json!({"description": "on_track | at_risk | off_track, or 1–10", "type": ["string", "integer"]});
    let dir = json!({"type": "string", "enum": ["higher", "lower"]});
    let cadence = json!({"type": "string", "enum": ["daily", "weekly", "monthly"]});
    let list = [
        ("OkrSettings", obj(&[], json!({"allow_over_achievement": bool_, "allow_late_check_ins": bool_}))),
        (
            "Cycle",
            obj(
                &["id", "name", "start_date", "end_date", "state"],
                json!({"id": s, "name": s, "kind": {"type": "string", "enum": ["quarter", "year", "custom"]},
                    "start_date": {"type": "string", "format": "date", "description": "inclusive"},
                    "end_date": {"type": "string", "format": "date", "description": "exclusive"},
                    "state": state, "closed_at": ns}),
            ),
        ),
        (
            "NewCycle",
            obj(
                &[],
                json!({"name": s, "kind": {"type": "string", "enum": ["quarter", "year", "custom"]}, "year": int,
                    "quarter": {"type": "integer", "minimum": 1, "maximum": 4}, "start_date": s, "end_date": s,
                    "state": {"type": "string", "enum": ["planning", "active"]}}),
            ),
        ),
        ("CycleChanges", obj(&[], json!({"name": s, "state": state}))),
        (
            "Objective",
            obj(
                &["id", "cycle_id", "title", "level", "owner_id", "parent_id", "status", "progress"],
                json!({"id": s, "cycle_id": s, "title": s, "description": s, "level": level, "team": ns,
                    "owner_id": s, "contributor_ids": ids, "parent_id": ns, "visibility": vis, "status": status,
                    "progress": {"type": "number", "minimum": 0, "description": "rolled up, 0.0–1.0"},
                    "key_results_done": int, "key_results_total": int, "grade": nnum,
                    "key_results": {"type": "array", "items": {"$ref": "#/components/schemas/KeyResult"}}}),
            ),
        ),
        (
            "NewObjective",
            obj(
                &["cycle_id", "title"],
                json!({"cycle_id": s, "title": s, "description": s, "level": level, "team": s, "owner_id": s,
                    "contributor_ids": ids, "parent_id": s, "visibility": vis, "status": status}),
            ),
        ),
        (
            "ObjectiveChanges",
            obj(
                &[],
                json!({"title": s, "description": s, "level": level, "team": s, "owner_id": s,
                    "contributor_ids": ids, "parent_id": {"type": "string", "description": "\"\" removes it"},
                    "visibility": vis, "status": status}),
            ),
        ),
        (
            "KeyResult",
            obj(
                &["id", "objective_id", "title", "kind", "start", "target", "current", "weight", "progress"],
                json!({"id": s, "objective_id": s, "title": s, "kind": kind, "start": num, "target": num,
                    "current": num, "unit": s, "weight": int, "owner_id": s, "kpi_id": ns, "archived": bool_,
                    "progress": num, "beyond_start": bool_, "grade": nnum,
                    "forecast": {"type": ["object", "null"], "properties": {"value": num, "reaches_target": bool_}},
                    "current_changed_at": s}),
            ),
        ),
        (
            "NewKeyResult",
            obj(
                &["title"],
                json!({"title": s, "kind": kind, "start": num, "target": num, "current": num, "unit": s,
                    "weight": {"type": "integer", "minimum": 1, "maximum": 100}, "owner_id": s, "kpi_id": s}),
            ),
        ),
        (
            "KeyResultChanges",
            obj(
                &[],
                json!({"title": s, "start": num, "target": num, "unit": s, "weight": int, "owner_id": s,
                    "archived": bool_, "kpi_id": s}),
            ),
        ),
        (
            "CheckIn",
            obj(
                &["id", "key_result_id", "value", "confidence", "note", "created_at"],
                json!({"id": s, "key_result_id": s, "member_id": s, "value": num, "confidence": conf,
                    "note": s, "late": bool_, "created_at": s}),
            ),
        ),
        ("NewCheckIn", obj(&["value"], json!({"value": num, "confidence": conf, "note": s}))),
        (
            "Kpi",
            obj(
                &["id", "name", "unit", "direction", "cadence", "status"],
                json!({"id": s, "name": s, "unit": s, "direction": dir, "target": nnum, "warning": nnum,
                    "critical": nnum, "cadence": cadence, "owner_id": s,
                    "status": {"type": "string", "enum": ["healthy", "warning", "critical", "stale"]},
                    "latest": {"type": ["object", "null"], "properties": {"date": s, "value": num}}}),
            ),
        ),
        (
            "NewKpi",
            obj(
                &["name"],
                json!({"name": s, "unit": s, "direction": dir, "target": num, "warning": num, "critical": num,
                    "cadence": cadence, "owner_id": s}),
            ),
        ),
        (
            "KpiValues",
            obj(
                &["values"],
                json!({"values": {"type": "array", "items": {"type": "object", "required": ["value"], "properties": {
                    "date": {"type": "string", "format": "date"}, "time": {"type": "string", "format": "date-time"},
                    "value": num}}}}),
            ),
        ),
        (
            "KpiValuesReport",
            obj(
                &["accepted"],
                json!({"accepted": int, "dates": ids, "key_results_updated": int,
                    "errors": {"type": "array", "items": {"type": "object", "properties": {"line": int, "message": s}}}}),
            ),
        ),
        (
            "ImproveKpi",
            obj(&["objective_id", "target"], json!({"objective_id": s, "target": num, "title": s, "weight": int})),
        ),
    ];
    list.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
