//! OKRs and KPIs: cycles, objectives and their alignment, key results,
//! check-ins, closing a cycle (grades), KPIs and their values, and
//! KPI-driven key results.
//!
//! Who may do what: admins everything; any member may create objectives
//! they own below company level; an objective's owner edits it and adds its
//! key results; a key result's owner, its objective's owner, the
//! objective's contributors and admins check in. Private objectives are
//! seen only by their owner, contributors and admins (others get 404).

use crate::auth::Caller;
use crate::events::{check_in_data, publish};
use crate::{audit_details, now_ms, App};
use plaudit_domain::events::EventKind;
use plaudit_domain::okr::*;
use plaudit_domain::recognition::Recognition;
use plaudit_domain::{Error, Result};
use plaudit_store::{new_id, Tx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

// ---------------------------------------------------------------- requests

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCycle {
    #[serde(default)]
    pub name: String,
    /// quarter | year | custom (default custom)
    #[serde(default)]
    pub kind: Option<String>,
    pub year: Option<i16>,
    pub quarter: Option<i8>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// planning (default) or active
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleChanges {
    pub name: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewObjective {
    pub cycle_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// company | team | individual (default individual)
    pub level: Option<String>,
    /// The department of a team objective.
    pub team: Option<String>,
    /// Default: the caller.
    pub owner_id: Option<String>,
    #[serde(default)]
    pub contributor_ids: Vec<String>,
    pub parent_id: Option<String>,
    pub visibility: Option<String>,
    pub status: Option<String>,
}

/// Every field optional; `parent_id: ""` removes the alignment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub level: Option<String>,
    pub team: Option<String>,
    pub owner_id: Option<String>,
    pub contributor_ids: Option<Vec<String>>,
    pub parent_id: Option<String>,
    pub visibility: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyResult {
    pub title: String,
    /// number (default) | percent | currency | milestone
    pub kind: Option<String>,
    #[serde(default)]
    pub start: Option<f64>,
    #[serde(default)]
    pub target: Option<f64>,
    /// Default: the start.
    pub current: Option<f64>,
    #[serde(default)]
    pub unit: String,
    pub weight: Option<i64>,
    /// Default: the objective's owner.
    pub owner_id: Option<String>,
    /// A KPI that drives the current value.
    pub kpi_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyResultChanges {
    pub title: Option<String>,
    pub start: Option<f64>,
    pub target: Option<f64>,
    pub unit: Option<String>,
    pub weight: Option<i64>,
    pub owner_id: Option<String>,
    pub archived: Option<bool>,
    /// `""` unlinks the KPI.
    pub kpi_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCheckIn {
    pub value: f64,
    /// on_track | at_risk | off_track | 1–10 (default on_track)
    pub confidence: Option<serde_json::Value>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKpi {
    pub name: String,
    #[serde(default)]
    pub unit: String,
    /// higher (default) | lower
    pub direction: Option<String>,
    pub target: Option<f64>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    /// daily | weekly | monthly (default monthly)
    pub cadence: Option<String>,
    pub owner_id: Option<String>,
}

/// One value of a batch: a local `date`, or a `time` placed on its local date.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKpiValue {
    pub date: Option<String>,
    pub time: Option<String>,
    pub value: f64,
}

/// "Improve this KPI": a key result whose start is the KPI's current value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImproveKpi {
    pub objective_id: String,
    pub target: f64,
    pub title: Option<String>,
    pub weight: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChanges {
    pub allow_over_achievement: Option<bool>,
    pub allow_late_check_ins: Option<bool>,
}

// ---------------------------------------------------------------- views

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KrScore {
    pub progress: f64,
    pub beyond_start: bool,
    pub grade: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ObjScore {
    pub progress: f64,
    pub done: usize,
    pub total: usize,
    pub grade: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveView {
    pub objective: Objective,
    pub score: ObjScore,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KrView {
    pub key_result: KeyResult,
    pub score: KrScore,
    pub forecast: Option<Forecast>,
    pub check_ins: Vec<CheckIn>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveDetail {
    pub view: ObjectiveView,
    pub cycle: Cycle,
    pub key_results: Vec<KrView>,
    pub children: Vec<ObjectiveView>,
    pub parent: Option<Objective>,
    /// Recognitions that name one of its key results, by key result id.
    pub recognitions: HashMap<String, Vec<Recognition>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeItem {
    pub view: ObjectiveView,
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiView {
    pub kpi: Kpi,
    pub status: KpiStatus,
    pub latest: Option<KpiValue>,
}

/// What a batch of KPI values did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValuesReport {
    pub accepted: usize,
    pub dates: Vec<String>,
    /// Key results whose current value followed.
    pub key_results_updated: usize,
}

/// One CSV row that was not taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CsvRowError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CsvReport {
    pub accepted: usize,
    pub errors: Vec<CsvRowError>,
    pub key_results_updated: usize,
}

// ---------------------------------------------------------------- helpers

fn opt_id(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn is_admin(caller: &Caller) -> bool {
    caller.member.role.is_admin()
}

fn can_see(caller: &Caller, o: &Objective) -> bool {
    o.visibility == Visibility::Public
        || is_admin(caller)
        || o.owner_id == caller.member.id
        || o.contributor_ids.contains(&caller.member.id)
}

fn can_edit(caller: &Caller, o: &Objective) -> bool {
    is_admin(caller) || o.owner_id == caller.member.id
}

fn can_check_in(caller: &Caller, o: &Objective, k: &KeyResult) -> bool {
    can_edit(caller, o) || k.owner_id == caller.member.id || o.contributor_ids.contains(&caller.member.id)
}

fn active_member(tx: &mut Tx, org_id: &str, field: &str, id: &str) -> Result<String> {
    match tx.member_by_id(org_id, id)? {
        Some(m) if m.status == plaudit_domain::member::Status::Active => Ok(m.id),
        _ => Err(Error::invalid(field, "no active member with that id").with_code("unknown_member")),
    }
}

fn visible_objective(tx: &mut Tx, caller: &Caller, id: &str) -> Result<Objective> {
    match tx.objective(&caller.org.id, id)? {
        Some(o) if can_see(caller, &o) => Ok(o),
        _ => Err(Error::not_found("objective")),
    }
}

fn load_cycle(tx: &mut Tx, org_id: &str, id: &str) -> Result<Cycle> {
    tx.cycle(org_id, id)?.ok_or_else(|| Error::not_found("cycle"))
}

fn kr_for(tx: &mut Tx, caller: &Caller, id: &str) -> Result<(KeyResult, Objective)> {
    let k = tx.key_result(&caller.org.id, id)?.ok_or_else(|| Error::not_found("key result"))?;
    let o = visible_objective(tx, caller, &k.objective_id).map_err(|_| Error::not_found("key result"))?;
    Ok((k, o))
}

fn refuse_closed(c: &Cycle) -> Result<()> {
    if c.state == CycleState::Closed {
        return Err(Error::conflict("cycle_closed", format!("the cycle '{}' is closed", c.name)));
    }
    Ok(())
}

/// Live or frozen progress of every key result and objective of the organisation.
pub struct Scores {
    pub krs: HashMap<String, KrScore>,
    pub objectives: HashMap<String, ObjScore>,
}

pub fn scores(tx: &mut Tx, org_id: &str) -> Result<Scores> {
    let settings = tx.okr_settings(org_id)?;
    let cycles = tx.list_cycles(org_id)?;
    let objectives = tx.list_objectives(org_id, None)?;
    let krs = tx.list_key_results(org_id, None)?;
    let mut grades: HashMap<(String, String), Grade> = HashMap::new();
    for c in cycles.iter().filter(|c| c.state == CycleState::Closed) {
        for g in tx.grades_of_cycle(org_id, &c.id)? {
            grades.insert((g.subject.clone(), g.subject_id.clone()), g);
        }
    }
    Ok(compute_scores(&objectives, &krs, &grades, settings.allow_over_achievement))
}

fn compute_scores(
    objectives: &[Objective],
    krs: &[KeyResult],
    grades: &HashMap<(String, String), Grade>,
    allow_over: bool,
) -> Scores {
    let mut kr_scores = HashMap::new();
    let mut by_objective: HashMap<&str, Vec<KrShare>> = HashMap::new();
    for k in krs {
        let s = match grades.get(&("key_result".to_string(), k.id.clone())) {
            Some(g) => KrScore { progress: g.progress, beyond_start: false, grade: Some(g.grade) },
            None => {
                let p = progress(k.start, k.target, k.current, allow_over);
                KrScore { progress: p.value, beyond_start: p.beyond_start, grade: None }
            }
        };
        by_objective.entry(&k.objective_id).or_default().push(KrShare {
            progress: s.progress,
            weight: k.weight,
            archived: k.archived,
        });
        kr_scores.insert(k.id.clone(), s);
    }
    let own: HashMap<&str, Option<Rollup>> = objectives
        .iter()
        .map(|o| (o.id.as_str(), rollup(by_objective.get(o.id.as_str()).map_or(&[], |v| v))))
        .collect();
    let frozen = |id: &str| grades.get(&("objective".to_string(), id.to_string()));
    let nodes: Vec<TreeNode> = objectives
        .iter()
        .map(|o| TreeNode {
            id: o.id.clone(),
            parent_id: o.parent_id.clone(),
            own: frozen(&o.id).map(|g| g.progress).or(own[o.id.as_str()].map(|r| r.progress)),
        })
        .collect();
    let rolled = rollup_tree(&nodes);
    let obj_scores = objectives
        .iter()
        .map(|o| {
            let r = own[o.id.as_str()];
            let s = ObjScore {
                progress: rolled.get(&o.id).copied().unwrap_or(0.0),
                done: r.map_or(0, |r| r.done),
                total: r.map_or(0, |r| r.total),
                grade: frozen(&o.id).map(|g| g.grade),
            };
            (o.id.clone(), s)
        })
        .collect();
    Scores { krs: kr_scores, objectives: obj_scores }
}

fn kr_view(tx: &mut Tx, org_id: &str, tz: &str, k: KeyResult, score: KrScore, cycle: &Cycle) -> Result<KrView> {
    let check_ins = tx.check_ins(org_id, &k.id)?;
    let forecast = if k.kind == KrKind::Milestone {
        None
    } else {
        let end = cycle.dates()?.bounds_ms(tz)?.1;
        let points: Vec<(i64, f64)> = check_ins.iter().map(|c| (c.created_at, c.value)).collect();
        forecast(&points, end, k.start, k.target)
    };
    Ok(KrView { key_result: k, score, forecast, check_ins })
}

/// The newest KPI value within the cycle, if any.
fn kpi_value_in(tx: &mut Tx, org_id: &str, kpi_id: &str, cycle: &Cycle) -> Result<Option<(String, f64)>> {
    let values: Vec<(String, f64)> = tx.kpi_values(org_id, kpi_id)?.into_iter().map(|v| (v.date, v.value)).collect();
    Ok(latest_within(&values, &cycle.dates()?).cloned())
}

/// Brings every key result driven by `kpi_id` (in cycles not closed) to the
/// KPI's latest value within its cycle; answers how many changed.
fn follow_kpi(tx: &mut Tx, org_id: &str, kpi_id: &str, now: i64) -> Result<usize> {
    let mut changed = 0;
    for mut k in tx.key_results_of_kpi(org_id, kpi_id)? {
        let Some(o) = tx.objective(org_id, &k.objective_id)? else { continue };
        let cycle = load_cycle(tx, org_id, &o.cycle_id)?;
        if cycle.state == CycleState::Closed || k.archived {
            continue;
        }
        if let Some((_, v)) = kpi_value_in(tx, org_id, kpi_id, &cycle)? {
            let v = if k.kind == KrKind::Currency { v.round() } else { v };
            if v != k.current && check_value(k.kind, "current", v).is_ok() {
                k.current = v;
                k.current_at = now;
                k.updated_at = now;
                tx.update_key_result(&k)?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

fn kpi_status_of(k: &Kpi, latest: Option<&KpiValue>, today: jiff::civil::Date) -> KpiStatus {
    let latest = latest.and_then(|v| parse_date("date", &v.date).ok().map(|d| (d, v.value)));
    kpi_status(k.direction, k.warning, k.critical, k.cadence, latest, today)
}

fn audit(tx: &mut Tx, caller: &Caller, action: &str, target: &str, details: serde_json::Value, now: i64) -> Result<()> {
    tx.insert_audit(&caller.org.id, Some(&caller.member.id), action, target, &audit_details(details), now)
}

// ---------------------------------------------------------------- use cases

impl App {
    pub fn okr_settings(&self, caller: &Caller) -> Result<OkrSettings> {
        self.store.read(|tx| tx.okr_settings(&caller.org.id))
    }

    pub fn update_okr_settings(&self, caller: &Caller, ch: SettingsChanges) -> Result<OkrSettings> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            let mut s = tx.okr_settings(&caller.org.id)?;
            if let Some(v) = ch.allow_over_achievement {
                s.allow_over_achievement = v;
            }
            if let Some(v) = ch.allow_late_check_ins {
                s.allow_late_check_ins = v;
            }
            tx.put_okr_settings(&caller.org.id, &s, now)?;
            audit(
                tx,
                caller,
                "okr_settings.updated",
                &caller.org.id,
                serde_json::to_value(s).unwrap_or_default(),
                now,
            )?;
            Ok(s)
        })
    }

    // ------------------------------------------------------------ cycles

    pub fn cycles(&self, caller: &Caller) -> Result<Vec<Cycle>> {
        self.store.read(|tx| tx.list_cycles(&caller.org.id))
    }

    pub fn cycle(&self, caller: &Caller, id: &str) -> Result<Cycle> {
        self.store.read(|tx| load_cycle(tx, &caller.org.id, id))
    }

    pub fn create_cycle(&self, caller: &Caller, new: NewCycle) -> Result<Cycle> {
        caller.require_admin()?;
        let kind = CycleKind::parse(new.kind.as_deref().unwrap_or("custom"))?;
        let dates = match kind {
            CycleKind::Quarter => CycleDates::quarter(
                new.year.ok_or_else(|| Error::invalid("year", "give the year"))?,
                new.quarter.ok_or_else(|| Error::invalid("quarter", "give the quarter (1–4)"))?,
            )?,
            CycleKind::Year => CycleDates::year(new.year.ok_or_else(|| Error::invalid("year", "give the year"))?)?,
            CycleKind::Custom => CycleDates::custom(
                new.start_date.as_deref().ok_or_else(|| Error::invalid("start_date", "give the start date"))?,
                new.end_date.as_deref().ok_or_else(|| Error::invalid("end_date", "give the end date"))?,
            )?,
        };
        let state = CycleState::parse(new.state.as_deref().unwrap_or("planning"))?;
        if state == CycleState::Closed {
            return Err(Error::invalid("state", "a new cycle is planning or active"));
        }
        let name = if new.name.trim().is_empty() {
            match kind {
                CycleKind::Quarter => format!("Q{} {}", new.quarter.unwrap_or(1), new.year.unwrap_or(0)),
                CycleKind::Year => format!("{}", new.year.unwrap_or(0)),
                CycleKind::Custom => format!("{} – {}", dates.start_string(), dates.end_string()),
            }
        } else {
            validate_title("name", &new.name)?
        };
        let now = now_ms();
        let c = Cycle {
            id: new_id(),
            org_id: caller.org.id.clone(),
            name,
            kind,
            start_date: dates.start_string(),
            end_date: dates.end_string(),
            state,
            closed_at: None,
            created_at: now,
            updated_at: now,
        };
        self.store.write(|tx| {
            tx.insert_cycle(&c)?;
            audit(tx, caller, "cycle.created", &c.id, serde_json::json!({"name": c.name}), now)?;
            Ok(c.clone())
        })
    }

    /// Renames a cycle or moves its state forward (closing it as [`App::close_cycle`] does).
    pub fn update_cycle(&self, caller: &Caller, id: &str, ch: CycleChanges) -> Result<Cycle> {
        caller.require_admin()?;
        if ch.state.as_deref() == Some("closed") {
            if let Some(name) = &ch.name {
                self.update_cycle(caller, id, CycleChanges { name: Some(name.clone()), state: None })?;
            }
            return self.close_cycle(caller, id);
        }
        let now = now_ms();
        self.store.write(|tx| {
            let mut c = load_cycle(tx, &caller.org.id, id)?;
            if let Some(name) = &ch.name {
                c.name = validate_title("name", name)?;
            }
            if let Some(s) = &ch.state {
                let to = CycleState::parse(s)?;
                c.state.check_move(to)?;
                c.state = to;
            }
            c.updated_at = now;
            tx.update_cycle(&c)?;
            audit(tx, caller, "cycle.updated", &c.id, serde_json::json!({"state": c.state.as_str()}), now)?;
            Ok(c)
        })
    }

    /// Closes a cycle: records each key result's and objective's progress
    /// and grade, and freezes them. Closing a closed cycle changes nothing.
    pub fn close_cycle(&self, caller: &Caller, id: &str) -> Result<Cycle> {
        self.close_cycle_at(caller, id, now_ms())
    }

    pub fn close_cycle_at(&self, caller: &Caller, id: &str, now: i64) -> Result<Cycle> {
        caller.require_admin()?;
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let mut c = load_cycle(tx, &org_id, id)?;
            if c.state == CycleState::Closed {
                return Ok(c);
            }
            let s = scores(tx, &org_id)?;
            for o in tx.list_objectives(&org_id, Some(&c.id))? {
                let os = s.objectives[&o.id];
                let g = Grade {
                    cycle_id: c.id.clone(),
                    subject: "objective".into(),
                    subject_id: o.id.clone(),
                    progress: os.progress,
                    grade: grade(os.progress),
                    created_at: now,
                };
                tx.insert_grade(&org_id, &g)?;
            }
            for k in tx.list_key_results(&org_id, Some(&c.id))? {
                let ks = s.krs[&k.id];
                let g = Grade {
                    cycle_id: c.id.clone(),
                    subject: "key_result".into(),
                    subject_id: k.id.clone(),
                    progress: ks.progress,
                    grade: grade(ks.progress),
                    created_at: now,
                };
                tx.insert_grade(&org_id, &g)?;
            }
            c.state = CycleState::Closed;
            c.closed_at = Some(now);
            c.updated_at = now;
            tx.update_cycle(&c)?;
            audit(tx, caller, "cycle.closed", &c.id, serde_json::json!({"name": c.name}), now)?;
            Ok(c)
        })
    }

    // ------------------------------------------------------------ objectives

    pub fn create_objective(&self, caller: &Caller, new: NewObjective) -> Result<ObjectiveView> {
        let now = now_ms();
        let title = validate_title("title", &new.title)?;
        let level = Level::parse(new.level.as_deref().unwrap_or("individual"))?;
        let visibility = Visibility::parse(new.visibility.as_deref().unwrap_or("public"))?;
        let status = ObjectiveStatus::parse(new.status.as_deref().unwrap_or("draft"))?;
        if new.description.chars().count() > 5000 {
            return Err(Error::invalid("description", "a description is at most 5,000 characters"));
        }
        if level == Level::Company && !is_admin(caller) {
            return Err(Error::forbidden("only admins may set company objectives"));
        }
        let owner = opt_id(new.owner_id.clone()).unwrap_or_else(|| caller.member.id.clone());
        if owner != caller.member.id && !is_admin(caller) {
            return Err(Error::forbidden("only admins may set objectives for someone else").on_field("owner_id"));
        }
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let cycle = tx
                .cycle(&org_id, new.cycle_id.trim())?
                .ok_or_else(|| Error::invalid("cycle_id", "no such cycle").with_code("unknown_cycle"))?;
            refuse_closed(&cycle)?;
            let owner_id = active_member(tx, &org_id, "owner_id", &owner)?;
            let mut contributors = Vec::new();
            for c in &new.contributor_ids {
                let id = active_member(tx, &org_id, "contributor_ids", c.trim())?;
                if !contributors.contains(&id) && id != owner_id {
                    contributors.push(id);
                }
            }
            let team = team_for(level, opt_id(new.team.clone()))?;
            check_team(tx, &org_id, level, team.as_deref())?;
            let parent_id = opt_id(new.parent_id.clone());
            if let Some(p) = &parent_id {
                check_parent(tx, caller, &cycle, p)?;
            }
            let o = Objective {
                id: new_id(),
                org_id: org_id.clone(),
                cycle_id: cycle.id.clone(),
                title: title.clone(),
                description: new.description.trim().to_string(),
                level,
                team,
                owner_id,
                contributor_ids: contributors,
                parent_id,
                visibility,
                status,
                created_at: now,
                updated_at: now,
            };
            tx.insert_objective(&o)?;
            audit(tx, caller, "objective.created", &o.id, serde_json::json!({"title": o.title}), now)?;
            let s = scores(tx, &org_id)?;
            Ok(ObjectiveView { score: s.objectives[&o.id], objective: o })
        })
    }

    pub fn update_objective(&self, caller: &Caller, id: &str, ch: ObjectiveChanges) -> Result<ObjectiveView> {
        let now = now_ms();
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let mut o = visible_objective(tx, caller, id)?;
            if !can_edit(caller, &o) {
                return Err(Error::forbidden("only the objective's owner or an admin may change it"));
            }
            let cycle = load_cycle(tx, &org_id, &o.cycle_id)?;
            refuse_closed(&cycle)?;
            if let Some(t) = &ch.title {
                o.title = validate_title("title", t)?;
            }
            if let Some(d) = &ch.description {
                if d.chars().count() > 5000 {
                    return Err(Error::invalid("description", "a description is at most 5,000 characters"));
                }
                o.description = d.trim().to_string();
            }
            if let Some(l) = &ch.level {
                o.level = Level::parse(l)?;
                if o.level == Level::Company && !is_admin(caller) {
                    return Err(Error::forbidden("only admins may set company objectives"));
                }
            }
            if ch.level.is_some() || ch.team.is_some() {
                let team = if ch.team.is_some() { opt_id(ch.team.clone()) } else { o.team.clone() };
                o.team = team_for(o.level, team)?;
                check_team(tx, &org_id, o.level, o.team.as_deref())?;
            }
            if let Some(owner) = &ch.owner_id {
                if !is_admin(caller) && owner != &caller.member.id {
                    return Err(Error::forbidden("only admins may hand an objective to someone else"));
                }
                o.owner_id = active_member(tx, &org_id, "owner_id", owner)?;
            }
            if let Some(list) = &ch.contributor_ids {
                let mut contributors = Vec::new();
                for c in list {
                    let id = active_member(tx, &org_id, "contributor_ids", c.trim())?;
                    if !contributors.contains(&id) && id != o.owner_id {
                        contributors.push(id);
                    }
                }
                o.contributor_ids = contributors;
            }
            if let Some(p) = &ch.parent_id {
                o.parent_id = opt_id(Some(p.clone()));
                if let Some(p) = &o.parent_id {
                    check_parent(tx, caller, &cycle, p)?;
                    check_alignment(&o.id, p, &tx.objective_parents(&org_id)?)?;
                }
            }
            if let Some(v) = &ch.visibility {
                o.visibility = Visibility::parse(v)?;
            }
            if let Some(s) = &ch.status {
                o.status = ObjectiveStatus::parse(s)?;
            }
            o.updated_at = now;
            tx.update_objective(&o)?;
            audit(tx, caller, "objective.updated", &o.id, serde_json::json!({"title": o.title}), now)?;
            let s = scores(tx, &org_id)?;
            Ok(ObjectiveView { score: s.objectives[&o.id], objective: o })
        })
    }

    /// Objectives the caller may see, in one cycle or all.
    pub fn objectives(&self, caller: &Caller, cycle_id: Option<&str>) -> Result<Vec<ObjectiveView>> {
        self.store.read(|tx| {
            let s = scores(tx, &caller.org.id)?;
            Ok(tx
                .list_objectives(&caller.org.id, cycle_id)?
                .into_iter()
                .filter(|o| can_see(caller, o))
                .map(|o| ObjectiveView { score: s.objectives[&o.id], objective: o })
                .collect())
        })
    }

    pub fn objective(&self, caller: &Caller, id: &str) -> Result<ObjectiveDetail> {
        self.store.read(|tx| {
            let org_id = caller.org.id.clone();
            let o = visible_objective(tx, caller, id)?;
            let cycle = load_cycle(tx, &org_id, &o.cycle_id)?;
            let s = scores(tx, &org_id)?;
            let mut key_results = Vec::new();
            let mut recognitions = HashMap::new();
            for k in tx.key_results_of(&org_id, &o.id)? {
                let score = s.krs[&k.id];
                let ids = tx.recognitions_for_key_result(&org_id, &k.id)?;
                let mut list = Vec::new();
                for rid in ids {
                    if let Some(r) = tx.recognition(&org_id, &rid)? {
                        list.push(r);
                    }
                }
                recognitions.insert(k.id.clone(), list);
                key_results.push(kr_view(tx, &org_id, &caller.org.timezone, k, score, &cycle)?);
            }
            let children = tx
                .list_objectives(&org_id, None)?
                .into_iter()
                .filter(|c| c.parent_id.as_deref() == Some(o.id.as_str()) && can_see(caller, c))
                .map(|c| ObjectiveView { score: s.objectives[&c.id], objective: c })
                .collect();
            let parent = match &o.parent_id {
                Some(p) => tx.objective(&org_id, p)?.filter(|p| can_see(caller, p)),
                None => None,
            };
            Ok(ObjectiveDetail {
                view: ObjectiveView { score: s.objectives[&o.id], objective: o },
                cycle,
                key_results,
                children,
                parent,
                recognitions,
            })
        })
    }

    /// The alignment tree of a cycle: its objectives with their ancestors
    /// (a parent may sit in a longer cycle) and descendants, depth first,
    /// each with its rolled-up progress.
    pub fn objective_tree(&self, caller: &Caller, cycle_id: &str) -> Result<Vec<TreeItem>> {
        self.store.read(|tx| {
            let org_id = caller.org.id.clone();
            load_cycle(tx, &org_id, cycle_id)?;
            let s = scores(tx, &org_id)?;
            let all = tx.list_objectives(&org_id, None)?;
            let by_id: HashMap<&str, &Objective> = all.iter().map(|o| (o.id.as_str(), o)).collect();
            let mut include: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for o in all.iter().filter(|o| o.cycle_id == cycle_id) {
                include.insert(&o.id);
                let mut at = o.parent_id.as_deref();
                let mut guard = 0;
                while let Some(p) = at.and_then(|p| by_id.get(p)) {
                    if !include.insert(&p.id) || guard > 1000 {
                        break;
                    }
                    guard += 1;
                    at = p.parent_id.as_deref();
                }
            }
            let mut children: HashMap<&str, Vec<&Objective>> = HashMap::new();
            for o in &all {
                if let Some(p) = o.parent_id.as_deref().filter(|p| by_id.contains_key(p)) {
                    children.entry(p).or_default().push(o);
                }
            }
            // Descendants of included objectives in this cycle come along too.
            let mut stack: Vec<&str> = all.iter().filter(|o| o.cycle_id == cycle_id).map(|o| o.id.as_str()).collect();
            while let Some(id) = stack.pop() {
                for c in children.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                    if include.insert(&c.id) {
                        stack.push(&c.id);
                    }
                }
            }
            let roots: Vec<&Objective> = all
                .iter()
                .filter(|o| include.contains(o.id.as_str()))
                .filter(|o| o.parent_id.as_deref().is_none_or(|p| !include.contains(p)))
                .collect();
            let mut out = Vec::new();
            fn walk<'a>(
                o: &'a Objective,
                depth: usize,
                caller: &Caller,
                include: &std::collections::HashSet<&str>,
                children: &HashMap<&str, Vec<&'a Objective>>,
                s: &Scores,
                out: &mut Vec<TreeItem>,
            ) {
                if !can_see(caller, o) || depth > 100 {
                    return;
                }
                out.push(TreeItem { view: ObjectiveView { objective: o.clone(), score: s.objectives[&o.id] }, depth });
                for c in children.get(o.id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                    if include.contains(c.id.as_str()) {
                        walk(c, depth + 1, caller, include, children, s, out);
                    }
                }
            }
            for r in roots {
                walk(r, 0, caller, &include, &children, &s, &mut out);
            }
            Ok(out)
        })
    }

    // ------------------------------------------------------------ key results

    pub fn create_key_result(&self, caller: &Caller, objective_id: &str, new: NewKeyResult) -> Result<KrView> {
        let now = now_ms();
        let title = validate_title("title", &new.title)?;
        let kind = KrKind::parse(new.kind.as_deref().unwrap_or("number"))?;
        let weight = check_weight(new.weight.unwrap_or(1))?;
        if new.unit.chars().count() > 30 {
            return Err(Error::invalid("unit", "a unit is at most 30 characters"));
        }
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let o = visible_objective(tx, caller, objective_id)?;
            if !can_edit(caller, &o) {
                return Err(Error::forbidden("only the objective's owner or an admin may add key results"));
            }
            let cycle = load_cycle(tx, &org_id, &o.cycle_id)?;
            refuse_closed(&cycle)?;
            let kpi_id = opt_id(new.kpi_id.clone());
            let mut start = new.start;
            let mut current = new.current;
            if let Some(kid) = &kpi_id {
                tx.kpi(&org_id, kid)?
                    .ok_or_else(|| Error::invalid("kpi_id", "no such KPI").with_code("unknown_kpi"))?;
                let latest = tx.kpi_values(&org_id, kid)?.last().map(|v| v.value);
                if start.is_none() {
                    start = latest;
                }
                if let Some((_, v)) = kpi_value_in(tx, &org_id, kid, &cycle)? {
                    current = Some(v);
                }
            }
            let (start, target) = match kind {
                KrKind::Milestone => (0.0, 1.0),
                _ => check_range(
                    kind,
                    start.ok_or_else(|| Error::invalid("start", "give the start value"))?,
                    new.target.ok_or_else(|| Error::invalid("target", "give the target value"))?,
                )?,
            };
            let current = check_value(kind, "current", current.unwrap_or(start))?;
            let owner_id = match opt_id(new.owner_id.clone()) {
                Some(id) => active_member(tx, &org_id, "owner_id", &id)?,
                None => o.owner_id.clone(),
            };
            let k = KeyResult {
                id: new_id(),
                org_id: org_id.clone(),
                objective_id: o.id.clone(),
                title: title.clone(),
                kind,
                start,
                target,
                current,
                unit: new.unit.trim().to_string(),
                weight,
                owner_id,
                kpi_id,
                archived: false,
                current_at: now,
                created_at: now,
                updated_at: now,
            };
            tx.insert_key_result(&k)?;
            audit(tx, caller, "key_result.created", &k.id, serde_json::json!({"title": k.title}), now)?;
            let s = scores(tx, &org_id)?;
            let score = s.krs[&k.id];
            kr_view(tx, &org_id, &caller.org.timezone, k, score, &cycle)
        })
    }

    pub fn key_result(&self, caller: &Caller, id: &str) -> Result<KrView> {
        self.store.read(|tx| {
            let org_id = caller.org.id.clone();
            let (k, o) = kr_for(tx, caller, id)?;
            let cycle = load_cycle(tx, &org_id, &o.cycle_id)?;
            let s = scores(tx, &org_id)?;
            let score = s.krs[&k.id];
            kr_view(tx, &org_id, &caller.org.timezone, k, score, &cycle)
        })
    }

    pub fn update_key_result(&self, caller: &Caller, id: &str, ch: KeyResultChanges) -> Result<KrView> {
        let now = now_ms();
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let (mut k, o) = kr_for(tx, caller, id)?;
            if !(can_edit(caller, &o) || k.owner_id == caller.member.id) {
                return Err(Error::forbidden(
                    "only the key result's owner, its objective's owner or an admin may change it",
                ));
            }
            let cycle = load_cycle(tx, &org_id, &o.cycle_id)?;
            refuse_closed(&cycle)?;
            if let Some(t) = &ch.title {
                k.title = validate_title("title", t)?;
            }
            if ch.start.is_some() || ch.target.is_some() {
                let (s, t) = check_range(k.kind, ch.start.unwrap_or(k.start), ch.target.unwrap_or(k.target))?;
                k.start = s;
                k.target = t;
            }
            if let Some(u) = &ch.unit {
                if u.chars().count() > 30 {
                    return Err(Error::invalid("unit", "a unit is at most 30 characters"));
                }
                k.unit = u.trim().to_string();
            }
            if let Some(w) = ch.weight {
                k.weight = check_weight(w)?;
            }
            if let Some(owner) = &ch.owner_id {
                k.owner_id = active_member(tx, &org_id, "owner_id", owner)?;
            }
            if let Some(a) = ch.archived {
                k.archived = a;
            }
            if let Some(kid) = &ch.kpi_id {
                k.kpi_id = opt_id(Some(kid.clone()));
                if let Some(kid) = &k.kpi_id {
                    tx.kpi(&org_id, kid)?
                        .ok_or_else(|| Error::invalid("kpi_id", "no such KPI").with_code("unknown_kpi"))?;
                    if let Some((_, v)) = kpi_value_in(tx, &org_id, kid, &cycle)? {
                        if v != k.current {
                            k.current = check_value(k.kind, "current", v)?;
                            k.current_at = now;
                        }
                    }
                }
            }
            k.updated_at = now;
            tx.update_key_result(&k)?;
            let action = if ch.archived == Some(true) { "key_result.archived" } else { "key_result.updated" };
            audit(tx, caller, action, &k.id, serde_json::json!({"title": k.title}), now)?;
            let s = scores(tx, &org_id)?;
            let score = s.krs[&k.id];
            kr_view(tx, &org_id, &caller.org.timezone, k, score, &cycle)
        })
    }

    pub fn check_in(&self, caller: &Caller, key_result_id: &str, new: NewCheckIn) -> Result<(CheckIn, KrView)> {
        self.check_in_at(caller, key_result_id, new, now_ms())
    }

    /// A check-in: the key result's current value and its objective's
    /// status follow it. After the cycle closed it is refused
    /// (`cycle_closed`) unless the organisation allows late check-ins,
    /// which are kept but never change the recorded grades.
    pub fn check_in_at(
        &self,
        caller: &Caller,
        key_result_id: &str,
        new: NewCheckIn,
        now: i64,
    ) -> Result<(CheckIn, KrView)> {
        let confidence = match &new.confidence {
            None | Some(serde_json::Value::Null) => "on_track".to_string(),
            Some(serde_json::Value::String(s)) => check_confidence(s)?,
            Some(serde_json::Value::Number(n)) => check_confidence(&n.to_string())?,
            Some(_) => return Err(Error::invalid("confidence", "confidence is on_track, at_risk, off_track or 1–10")),
        };
        if new.note.chars().count() > MAX_NOTE_CHARS {
            return Err(Error::invalid("note", format!("a note is at most {MAX_NOTE_CHARS} characters")));
        }
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let (mut k, mut o) = kr_for(tx, caller, key_result_id)?;
            if !can_check_in(caller, &o, &k) {
                return Err(Error::forbidden(
                    "only the key result's owner, the objective's owner, its contributors or an admin may check in",
                ));
            }
            if k.archived {
                return Err(Error::conflict("key_result_archived", "this key result is archived"));
            }
            let value = check_value(k.kind, "value", new.value)?;
            let cycle = load_cycle(tx, &org_id, &o.cycle_id)?;
            let late = cycle.state == CycleState::Closed;
            if late && !tx.okr_settings(&org_id)?.allow_late_check_ins {
                return Err(Error::conflict(
                    "cycle_closed",
                    format!("the cycle '{}' is closed; this organisation does not take late check-ins", cycle.name),
                ));
            }
            let ci = CheckIn {
                id: new_id(),
                org_id: org_id.clone(),
                key_result_id: k.id.clone(),
                member_id: caller.member.id.clone(),
                value,
                confidence: confidence.clone(),
                note: new.note.trim().to_string(),
                late,
                created_at: now,
            };
            tx.insert_check_in(&ci)?;
            publish(tx, &org_id, EventKind::CheckInCreated, check_in_data(&ci), now)?;
            if k.current != value {
                k.current = value;
                k.current_at = now;
            }
            k.updated_at = now;
            tx.update_key_result(&k)?;
            if let Some(st) = status_from_confidence(&confidence) {
                if !late && !matches!(o.status, ObjectiveStatus::Done | ObjectiveStatus::Archived) && o.status != st {
                    o.status = st;
                    o.updated_at = now;
                    tx.update_objective(&o)?;
                }
            }
            let s = scores(tx, &org_id)?;
            let score = s.krs[&k.id];
            let view = kr_view(tx, &org_id, &caller.org.timezone, k, score, &cycle)?;
            Ok((ci, view))
        })
    }

    // ------------------------------------------------------------ KPIs

    pub fn create_kpi(&self, caller: &Caller, new: NewKpi) -> Result<KpiView> {
        caller.require_admin()?;
        let now = now_ms();
        let name = validate_title("name", &new.name)?;
        let direction = KpiDirection::parse(new.direction.as_deref().unwrap_or("higher"))?;
        let cadence = Cadence::parse(new.cadence.as_deref().unwrap_or("monthly"))?;
        check_thresholds(direction, new.target, new.warning, new.critical)?;
        if new.unit.chars().count() > 30 {
            return Err(Error::invalid("unit", "a unit is at most 30 characters"));
        }
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let owner_id = match opt_id(new.owner_id.clone()) {
                Some(id) => active_member(tx, &org_id, "owner_id", &id)?,
                None => caller.member.id.clone(),
            };
            let k = Kpi {
                id: new_id(),
                org_id: org_id.clone(),
                name: name.clone(),
                unit: new.unit.trim().to_string(),
                direction,
                target: new.target,
                warning: new.warning,
                critical: new.critical,
                cadence,
                owner_id,
                created_at: now,
                updated_at: now,
            };
            tx.insert_kpi(&k)?;
            audit(tx, caller, "kpi.created", &k.id, serde_json::json!({"name": k.name}), now)?;
            Ok(KpiView { kpi: k, status: KpiStatus::Stale, latest: None })
        })
    }

    pub fn kpis(&self, caller: &Caller) -> Result<Vec<KpiView>> {
        let today = local_date(now_ms(), &caller.org.timezone)?;
        self.store.read(|tx| {
            let mut out = Vec::new();
            for k in tx.list_kpis(&caller.org.id)? {
                let latest = tx.kpi_values(&caller.org.id, &k.id)?.pop();
                let status = kpi_status_of(&k, latest.as_ref(), today);
                out.push(KpiView { kpi: k, status, latest });
            }
            Ok(out)
        })
    }

    pub fn kpi(&self, caller: &Caller, id: &str) -> Result<(KpiView, Vec<KpiValue>)> {
        let today = local_date(now_ms(), &caller.org.timezone)?;
        self.store.read(|tx| {
            let k = tx.kpi(&caller.org.id, id)?.ok_or_else(|| Error::not_found("KPI"))?;
            let values = tx.kpi_values(&caller.org.id, id)?;
            let latest = values.last().cloned();
            let status = kpi_status_of(&k, latest.as_ref(), today);
            Ok((KpiView { kpi: k, status, latest }, values))
        })
    }

    /// Key results a KPI drives.
    pub fn kpi_key_results(&self, caller: &Caller, id: &str) -> Result<Vec<KeyResult>> {
        self.store.read(|tx| tx.key_results_of_kpi(&caller.org.id, id))
    }

    /// A batch of values: each on its local date, a later one for a date
    /// replacing the earlier; all or nothing. Linked key results follow.
    pub fn post_kpi_values(&self, caller: &Caller, id: &str, batch: &[NewKpiValue]) -> Result<ValuesReport> {
        if batch.is_empty() || batch.len() > 10_000 {
            return Err(Error::invalid("values", "send 1 to 10,000 values"));
        }
        let mut placed = Vec::new();
        for (i, v) in batch.iter().enumerate() {
            let at = match (&v.date, &v.time) {
                (Some(d), None) => ValueAt::Date(d.clone()),
                (None, Some(t)) => ValueAt::Time(t.clone()),
                _ => {
                    return Err(Error::invalid("values", format!("value {}: give either a date or a time", i + 1))
                        .on_field(&format!("values[{i}]")))
                }
            };
            placed.push((at, v.value));
        }
        let dated = assign_dates(&placed, &caller.org.timezone)
            .map_err(|(i, e)| Error::invalid(&format!("values[{i}]"), format!("value {}: {}", i + 1, e.message)))?;
        self.write_kpi_values(caller, id, &dated)
    }

    fn write_kpi_values(&self, caller: &Caller, id: &str, dated: &[(String, f64)]) -> Result<ValuesReport> {
        let now = now_ms();
        self.store.write(|tx| {
            let org_id = caller.org.id.clone();
            let k = tx.kpi(&org_id, id)?.ok_or_else(|| Error::not_found("KPI"))?;
            if !is_admin(caller) && k.owner_id != caller.member.id {
                return Err(Error::forbidden("only the KPI's owner or an admin may add values"));
            }
            for (d, v) in dated {
                tx.put_kpi_value(&org_id, &k.id, d, *v, now)?;
            }
            let updated = follow_kpi(tx, &org_id, &k.id, now)?;
            Ok(ValuesReport {
                accepted: dated.len(),
                dates: dated.iter().map(|(d, _)| d.clone()).collect(),
                key_results_updated: updated,
            })
        })
    }

    /// A CSV of `date,value` (or `time,value`) rows with a header; good rows
    /// are taken, each bad row is reported with its line number.
    pub fn import_kpi_csv(&self, caller: &Caller, id: &str, csv_bytes: &[u8]) -> Result<CsvReport> {
        let text = std::str::from_utf8(csv_bytes).map_err(|_| Error::invalid("file", "the file is not UTF-8 text"))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::invalid("file", format!("the header line cannot be read: {e}")))?
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n);
        let (date_col, time_col, value_col) = (col("date"), col("time"), col("value"));
        let Some(value_col) = value_col else {
            return Err(Error::invalid("file", "the header needs a value column and a date or time column"));
        };
        if date_col.is_none() && time_col.is_none() {
            return Err(Error::invalid("file", "the header needs a date or a time column"));
        }
        let mut errors = Vec::new();
        let mut good: Vec<(ValueAt, f64)> = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(CsvRowError { line, message: format!("unreadable row: {e}") });
                    continue;
                }
            };
            if rec.iter().all(|f| f.is_empty()) {
                continue;
            }
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim).filter(|s| !s.is_empty());
            let at = match (get(date_col), get(time_col)) {
                (Some(d), _) => ValueAt::Date(d.to_string()),
                (None, Some(t)) => ValueAt::Time(t.to_string()),
                (None, None) => {
                    errors.push(CsvRowError { line, message: "no date or time".into() });
                    continue;
                }
            };
            let value = match get(Some(value_col)).map(|v| v.replace(',', "").parse::<f64>()) {
                Some(Ok(v)) if v.is_finite() => v,
                Some(_) => {
                    errors.push(CsvRowError { line, message: "the value is not a number".into() });
                    continue;
                }
                None => {
                    errors.push(CsvRowError { line, message: "no value".into() });
                    continue;
                }
            };
            if let Err(e) = value_date(&at, &caller.org.timezone) {
                errors.push(CsvRowError { line, message: e.message });
                continue;
            }
            good.push((at, value));
        }
        let dated = assign_dates(&good, &caller.org.timezone).map_err(|(_, e)| e)?;
        let report = if dated.is_empty() {
            // Still check the KPI and the caller's right to it.
            self.kpi(caller, id)?;
            ValuesReport { accepted: 0, dates: Vec::new(), key_results_updated: 0 }
        } else {
            self.write_kpi_values(caller, id, &dated)?
        };
        Ok(CsvReport { accepted: good.len(), errors, key_results_updated: report.key_results_updated })
    }

    /// "Improve this KPI": a key result under `objective_id` driven by the
    /// KPI, starting from its current value.
    pub fn improve_kpi(&self, caller: &Caller, kpi_id: &str, req: ImproveKpi) -> Result<KrView> {
        let (kpi, values) = self.kpi(caller, kpi_id)?;
        let Some(latest) = values.last() else {
            return Err(Error::conflict("kpi_has_no_value", "this KPI has no value yet to start from"));
        };
        let unit = kpi.kpi.unit.clone();
        self.create_key_result(
            caller,
            &req.objective_id,
            NewKeyResult {
                title: req.title.clone().unwrap_or_else(|| format!("Improve {}", kpi.kpi.name)),
                kind: Some("number".into()),
                start: Some(latest.value),
                target: Some(req.target),
                current: Some(latest.value),
                unit,
                weight: req.weight,
                owner_id: None,
                kpi_id: Some(kpi_id.to_string()),
            },
        )
    }
}

fn team_for(level: Level, team: Option<String>) -> Result<Option<String>> {
    match level {
        Level::Team => match team {
            Some(t) if t.chars().count() <= 200 => Ok(Some(t)),
            Some(_) => Err(Error::invalid("team", "a team name is at most 200 characters")),
            None => Err(Error::invalid("team", "a team objective names its team (a department)")),
        },
        _ => Ok(team),
    }
}

/// A team objective's team is one of the directory's departments (when the
/// directory has any).
fn check_team(tx: &mut Tx, org_id: &str, level: Level, team: Option<&str>) -> Result<()> {
    let Some(team) = team.filter(|_| level == Level::Team) else { return Ok(()) };
    let departments = tx.member_facets(org_id)?.0;
    if !departments.is_empty() && !departments.iter().any(|d| d == team) {
        return Err(Error::invalid("team", format!("no department is called '{team}'")).with_code("unknown_team"));
    }
    Ok(())
}

/// A parent must exist in the organisation, be visible, and its cycle must
/// cover the child's (a yearly objective may hold quarterly ones).
fn check_parent(tx: &mut Tx, caller: &Caller, cycle: &Cycle, parent_id: &str) -> Result<()> {
    let p = match tx.objective(&caller.org.id, parent_id)? {
        Some(p) if can_see(caller, &p) => p,
        _ => return Err(Error::invalid("parent_id", "no such objective").with_code("unknown_objective")),
    };
    let pc = load_cycle(tx, &caller.org.id, &p.cycle_id)?;
    if !pc.dates()?.covers(&cycle.dates()?) {
        return Err(Error::invalid("parent_id", "the parent's cycle must cover this objective's cycle")
            .with_code("parent_cycle_too_short"));
    }
    Ok(())
}

// ---------------------------------------------------------------- the demo

impl App {
    /// The demo's OKRs: a yearly company objective with quarterly team
    /// objectives aligned under it, key results of every kind with
    /// check-in history, last quarter closed and graded, and KPIs with a
    /// few months of values, one of them driving a key result.
    pub(crate) fn demo_okrs(&self, admin: &Caller) -> Result<()> {
        let now = now_ms();
        let day = 24 * 3600 * 1000;
        let tz = admin.org.timezone.clone();
        let today = local_date(now, &tz)?;
        let year = today.year();
        let quarter = (today.month() - 1) / 3 + 1;
        let org_id = admin.org.id.clone();
        let dept_member = |dept: &str, skip: usize| -> Result<Option<String>> {
            let filter = plaudit_store::MemberFilter {
                status: Some(plaudit_domain::member::Status::Active),
                department: dept.to_string(),
                ..Default::default()
            };
            let list = self.store.read(|tx| tx.list_members(&org_id, &filter, None, 50))?;
            Ok(list.get(skip).or(list.first()).map(|m| m.id.clone()))
        };
        let sales_lead = dept_member("Sales", 3)?.unwrap_or_else(|| admin.member.id.clone());
        let rnd_lead = dept_member("Research & Development", 5)?.unwrap_or_else(|| admin.member.id.clone());
        let rnd_dev = dept_member("Research & Development", 9)?.unwrap_or_else(|| admin.member.id.clone());
        let as_member = |id: &str| self.caller_for(&org_id, id);

        // KPIs with about four months of values.
        let latency = self.create_kpi(
            admin,
            NewKpi {
                name: "API p95 latency".into(),
                unit: "ms".into(),
                direction: Some("lower".into()),
                target: Some(200.0),
                warning: Some(400.0),
                critical: Some(600.0),
                cadence: Some("weekly".into()),
                owner_id: Some(rnd_lead.clone()),
            },
        )?;
        let users = self.create_kpi(
            admin,
            NewKpi {
                name: "Monthly active users".into(),
                unit: "users".into(),
                direction: Some("higher".into()),
                target: Some(12_000.0),
                warning: Some(9_000.0),
                critical: Some(7_000.0),
                cadence: Some("monthly".into()),
                owner_id: None,
            },
        )?;
        let backlog = self.create_kpi(
            admin,
            NewKpi {
                name: "Support backlog".into(),
                unit: "tickets".into(),
                direction: Some("lower".into()),
                target: Some(40.0),
                warning: Some(80.0),
                critical: Some(120.0),
                cadence: Some("weekly".into()),
                owner_id: None,
            },
        )?;
        let date_of = |ms: i64| -> Result<String> {
            let d = local_date(ms, &tz)?;
            Ok(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        };
        let mut lat = Vec::new();
        let mut back = Vec::new();
        for w in (0..18).rev() {
            let at = now - w * 7 * day - day;
            let x = (17 - w) as f64;
            lat.push(NewKpiValue {
                date: Some(date_of(at)?),
                time: None,
                value: (820.0 - x * 22.0 + (x * 1.7).sin() * 25.0).round(),
            });
            back.push(NewKpiValue {
                date: Some(date_of(at)?),
                time: None,
                value: (95.0 - x * 2.0 + (x * 2.3).cos() * 8.0).round(),
            });
        }
        let mut mau = Vec::new();
        for m in (0..5).rev() {
            mau.push(NewKpiValue {
                date: Some(date_of(now - m * 30 * day - 2 * day)?),
                time: None,
                value: 8_200.0 + (4 - m) as f64 * 650.0,
            });
        }
        // The history goes in before the key result exists, so the KR starts where the KPI stood.
        let before_quarter = |v: &NewKpiValue| -> bool {
            v.date.as_deref().is_some_and(|d| {
                d < CycleDates::quarter(year, quarter).map(|c| c.start_string()).unwrap_or_default().as_str()
            })
        };
        let (lat_before, lat_during): (Vec<NewKpiValue>, Vec<NewKpiValue>) = lat.into_iter().partition(before_quarter);
        if !lat_before.is_empty() {
            self.post_kpi_values(admin, &latency.kpi.id, &lat_before)?;
        }
        self.post_kpi_values(admin, &users.kpi.id, &mau)?;
        self.post_kpi_values(admin, &backlog.kpi.id, &back)?;

        // Cycles: the year, last quarter (closed below) and this quarter.
        let year_cycle = self.create_cycle(
            admin,
            NewCycle {
                kind: Some("year".into()),
                year: Some(year),
                state: Some("active".into()),
                ..Default::default()
            },
        )?;
        let prev = if quarter > 1 {
            Some(self.create_cycle(
                admin,
                NewCycle {
                    kind: Some("quarter".into()),
                    year: Some(year),
                    quarter: Some(quarter - 1),
                    state: Some("active".into()),
                    ..Default::default()
                },
            )?)
        } else {
            None
        };
        let this_q = self.create_cycle(
            admin,
            NewCycle {
                kind: Some("quarter".into()),
                year: Some(year),
                quarter: Some(quarter),
                state: Some("active".into()),
                ..Default::default()
            },
        )?;
        let company = self.create_objective(
            admin,
            NewObjective {
                cycle_id: year_cycle.id.clone(),
                title: "Become the product our customers recommend".into(),
                description: "This year's company objective: every team's quarter rolls up here.".into(),
                level: Some("company".into()),
                status: Some("on_track".into()),
                ..Default::default()
            },
        )?;
        let team_objective = |cycle: &Cycle, title: &str, team: &str, owner: &str, contributors: Vec<String>| {
            self.create_objective(
                admin,
                NewObjective {
                    cycle_id: cycle.id.clone(),
                    title: title.into(),
                    level: Some("team".into()),
                    team: Some(team.into()),
                    owner_id: Some(owner.into()),
                    contributor_ids: contributors,
                    parent_id: Some(company.objective.id.clone()),
                    status: Some("on_track".into()),
                    ..Default::default()
                },
            )
        };
        let kr = |o: &ObjectiveView,
                  title: &str,
                  kind: &str,
                  start: f64,
                  target: f64,
                  unit: &str,
                  weight: i64,
                  kpi: Option<&str>| {
            self.create_key_result(
                admin,
                &o.objective.id,
                NewKeyResult {
                    title: title.into(),
                    kind: Some(kind.into()),
                    start: Some(start),
                    target: Some(target),
                    current: None,
                    unit: unit.into(),
                    weight: Some(weight),
                    owner_id: None,
                    kpi_id: kpi.map(str::to_string),
                },
            )
        };
        let (q_start, _) = CycleDates::quarter(year, quarter)?.bounds_ms(&tz)?;
        let elapsed = (now - q_start).max(day);
        // Check-ins spread over the quarter so far, following a trend.
        let history = |who: &Caller, k: &KrView, values: &[f64], confidence: &[&str]| -> Result<()> {
            for (i, v) in values.iter().enumerate() {
                let at = q_start + elapsed * (i as i64 + 1) / (values.len() as i64 + 1);
                let c = confidence.get(i).copied().unwrap_or("on_track");
                self.check_in_at(
                    who,
                    &k.key_result.id,
                    NewCheckIn {
                        value: *v,
                        confidence: Some(serde_json::Value::String(c.into())),
                        note: String::new(),
                    },
                    at,
                )?;
            }
            Ok(())
        };

        // Last quarter: one objective per team, checked in, then closed and graded.
        if let Some(prev) = &prev {
            let (p_start, p_end) = prev.dates()?.bounds_ms(&tz)?;
            let o = team_objective(prev, "Open the Nordic market", "Sales", &sales_lead, vec![])?;
            let k1 = kr(&o, "Sign 20 Nordic customers", "number", 0.0, 20.0, "customers", 2, None)?;
            let k2 = kr(&o, "Hire a country manager", "milestone", 0.0, 1.0, "", 1, None)?;
            let seller = as_member(&sales_lead)?;
            for (i, v) in [4.0, 9.0, 13.0, 17.0].iter().enumerate() {
                let at = p_start + (p_end - p_start) * (i as i64 + 1) / 5;
                self.check_in_at(
                    &seller,
                    &k1.key_result.id,
                    NewCheckIn { value: *v, confidence: Some("7".into()), note: String::new() },
                    at,
                )?;
            }
            self.check_in_at(
                &seller,
                &k2.key_result.id,
                NewCheckIn { value: 1.0, confidence: Some("on_track".into()), note: "Welcome, Ingrid!".into() },
                p_end - 10 * day,
            )?;
            self.close_cycle_at(admin, &prev.id, p_end)?;
        }

        // This quarter.
        let sales = team_objective(
            &this_q,
            "Grow revenue from existing customers",
            "Sales",
            &sales_lead,
            vec![admin.member.id.clone()],
        )?;
        let rnd = team_objective(
            &this_q,
            "Make the product fast and reliable",
            "Research & Development",
            &rnd_lead,
            vec![rnd_dev.clone()],
        )?;
        let seller = as_member(&sales_lead)?;
        let engineer = as_member(&rnd_lead)?;
        let dev = as_member(&rnd_dev)?;
        let arr = kr(&sales, "Expansion revenue", "currency", 0.0, 25_000_000.0, "EUR", 2, None)?;
        history(&seller, &arr, &[3_500_000.0, 7_800_000.0, 11_200_000.0], &["on_track", "on_track", "at_risk"])?;
        let upsell = kr(&sales, "Accounts on the annual plan", "number", 120.0, 180.0, "accounts", 1, None)?;
        history(&seller, &upsell, &[128.0, 139.0, 151.0, 157.0], &["8", "7", "7", "6"])?;
        let csat = kr(&sales, "Customer satisfaction", "percent", 78.0, 90.0, "", 1, None)?;
        history(&seller, &csat, &[80.0, 83.0, 84.5], &[])?;
        // "Improve this KPI": the KR starts where the KPI stood before the quarter; this quarter's values drive it.
        self.improve_kpi(
            admin,
            &latency.kpi.id,
            ImproveKpi {
                objective_id: rnd.objective.id.clone(),
                target: 200.0,
                title: Some("Reduce API p95 latency".into()),
                weight: Some(2),
            },
        )?;
        if !lat_during.is_empty() {
            self.post_kpi_values(admin, &latency.kpi.id, &lat_during)?;
        }
        let portal = kr(&rnd, "Launch the status page", "milestone", 0.0, 1.0, "", 1, None)?;
        history(&dev, &portal, &[0.0], &["at_risk"])?;
        let incidents = kr(&rnd, "Cut severity-1 incidents per month", "number", 6.0, 1.0, "incidents", 1, None)?;
        history(&engineer, &incidents, &[5.0, 4.0, 3.0], &["on_track", "on_track", "7"])?;
        let _ = backlog;

        // A recognition for a key result.
        let thanks = crate::recognition::GiveRequest {
            recipients: vec![rnd_lead.clone()],
            points: 20,
            message: "Those latency wins are showing up in every customer call. Thank you!".into(),
            key_result_id: Some(incidents.key_result.id.clone()),
            ..Default::default()
        };
        let _ = self.give_at(&seller, &thanks, None, now - 2 * 3600 * 1000);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(id: &str, parent: Option<&str>) -> Objective {
        Objective {
            id: id.into(),
            org_id: "o".into(),
            cycle_id: "c".into(),
            title: id.into(),
            description: String::new(),
            level: Level::Team,
            team: None,
            owner_id: "m".into(),
            contributor_ids: vec![],
            parent_id: parent.map(Into::into),
            visibility: Visibility::Public,
            status: ObjectiveStatus::Draft,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn kr(id: &str, obj: &str, start: f64, target: f64, current: f64, weight: i64, archived: bool) -> KeyResult {
        KeyResult {
            id: id.into(),
            org_id: "o".into(),
            objective_id: obj.into(),
            title: id.into(),
            kind: KrKind::Number,
            start,
            target,
            current,
            unit: String::new(),
            weight,
            owner_id: "m".into(),
            kpi_id: None,
            archived,
            current_at: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn scores_roll_up_through_the_tree_and_respect_frozen_grades() {
        let objectives = vec![obj("company", None), obj("team", Some("company")), obj("other", Some("company"))];
        let krs = vec![
            kr("a", "team", 0.0, 10.0, 10.0, 2, false),
            kr("b", "team", 0.0, 10.0, 4.0, 1, false),
            kr("c", "team", 0.0, 10.0, 0.0, 3, true),
            kr("d", "other", 800.0, 200.0, 500.0, 1, false),
        ];
        let s = compute_scores(&objectives, &krs, &HashMap::new(), false);
        let team = s.objectives["team"];
        assert!((team.progress - 0.8).abs() < 1e-9 && (team.done, team.total) == (1, 2));
        assert!((s.objectives["company"].progress - 0.65).abs() < 1e-9);
        let mut grades = HashMap::new();
        grades.insert(
            ("objective".to_string(), "other".to_string()),
            Grade {
                cycle_id: "c".into(),
                subject: "objective".into(),
                subject_id: "other".into(),
                progress: 1.0,
                grade: 1.0,
                created_at: 0,
            },
        );
        let s = compute_scores(&objectives, &krs, &grades, false);
        assert_eq!(s.objectives["other"].progress, 1.0, "frozen at close");
        assert!((s.objectives["company"].progress - 0.9).abs() < 1e-9);
    }
}
