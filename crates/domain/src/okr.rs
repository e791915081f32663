//! OKRs and KPIs: cycles, key-result progress, objective roll-up, the
//! alignment tree, forecasts, grades, KPI status and KPI value dates.
//!
//! Numbers: a key result's start, target and current value are `f64`
//! (numbers and percents may be fractional; currency is integer minor units
//! carried exactly in an `f64` up to 2^53; a milestone is 0 or 1). Every
//! input is checked to be finite, and start == target is refused, so no
//! division here can produce NaN or infinity. Progress is 0.0–1.0 (above
//! 1.0 only when the organisation allows over-achievement).

use crate::{Error, Result};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

const DAY_MS: i64 = 86_400_000;

fn zone(tz: &str) -> Result<TimeZone> {
    TimeZone::get(tz).map_err(|_| Error::invalid("timezone", format!("unknown time zone '{tz}'")))
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(field: &str, s: &str) -> Result<Date> {
    let s = s.trim();
    if s.len() != 10 {
        return Err(Error::invalid(field, format!("'{s}' is not a date like 2026-01-31")));
    }
    s.parse::<Date>().map_err(|_| Error::invalid(field, format!("'{s}' is not a date like 2026-01-31")))
}

fn date_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: Date, b: Date) -> i64 {
    let ms = |d: Date| d.to_zoned_datetime(TimeZone::UTC).map(|z| z.timestamp().as_millisecond()).unwrap_or(0);
    (ms(b) - ms(a)) / DAY_MS
}

/// Local midnight starting `date` in `tz`, UTC milliseconds.
pub fn local_midnight_ms(date: Date, tz: &str) -> Result<i64> {
    date.to_zoned_datetime(zone(tz)?)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| Error::internal(format!("cannot place {date} in a time zone: {e}")))
}

/// The local date of an instant in `tz`.
pub fn local_date(at_ms: i64, tz: &str) -> Result<Date> {
    let at = Timestamp::from_millisecond(at_ms).map_err(|_| Error::invalid("time", "time out of range"))?;
    Ok(at.to_zoned_datetime(zone(tz)?).date())
}

// ---------------------------------------------------------------- cycles

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleKind {
    Quarter,
    Year,
    Custom,
}

impl CycleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CycleKind::Quarter => "quarter",
            CycleKind::Year => "year",
            CycleKind::Custom => "custom",
        }
    }
    pub fn parse(s: &str) -> Result<CycleKind> {
        match s {
            "quarter" => Ok(CycleKind::Quarter),
            "year" => Ok(CycleKind::Year),
            "custom" => Ok(CycleKind::Custom),
            _ => Err(Error::invalid("kind", "a cycle is a quarter, year or custom")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleState {
    Planning,
    Active,
    Closed,
}

impl CycleState {
    pub fn as_str(self) -> &'static str {
        match self {
            CycleState::Planning => "planning",
            CycleState::Active => "active",
            CycleState::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Result<CycleState> {
        match s {
            "planning" => Ok(CycleState::Planning),
            "active" => Ok(CycleState::Active),
            "closed" => Ok(CycleState::Closed),
            _ => Err(Error::invalid("state", "a cycle's state is planning, active or closed")),
        }
    }
    /// States only move forward (planning → active → closed); staying put is fine.
    pub fn check_move(self, to: CycleState) -> Result<()> {
        if to < self {
            return Err(Error::invalid(
                "state",
                format!("a {} cycle cannot go back to {}", self.as_str(), to.as_str()),
            )
            .with_code("invalid_transition"));
        }
        Ok(())
    }
}

/// A cycle's dates: `start` inclusive, `end` exclusive, local dates in the
/// organisation's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleDates {
    pub start: Date,
    pub end: Date,
}

impl CycleDates {
    /// Quarter `q` (1–4) of `year`.
    pub fn quarter(year: i16, q: i8) -> Result<CycleDates> {
        if !(1..=4).contains(&q) {
            return Err(Error::invalid("quarter", "a quarter is 1 to 4"));
        }
        let bad = || Error::invalid("year", "year out of range");
        let start = Date::new(year, (q - 1) * 3 + 1, 1).map_err(|_| bad())?;
        let end = if q == 4 { Date::new(year + 1, 1, 1) } else { Date::new(year, q * 3 + 1, 1) }.map_err(|_| bad())?;
        Ok(CycleDates { start, end })
    }

    pub fn year(year: i16) -> Result<CycleDates> {
        let bad = || Error::invalid("year", "year out of range");
        Ok(CycleDates {
            start: Date::new(year, 1, 1).map_err(|_| bad())?,
            end: Date::new(year + 1, 1, 1).map_err(|_| bad())?,
        })
    }

    pub fn custom(start: &str, end: &str) -> Result<CycleDates> {
        let (start, end) = (parse_date("start_date", start)?, parse_date("end_date", end)?);
        if end <= start {
            return Err(Error::invalid("end_date", "the end date must be after the start date"));
        }
        Ok(CycleDates { start, end })
    }

    pub fn start_string(&self) -> String {
        date_string(self.start)
    }
    pub fn end_string(&self) -> String {
        date_string(self.end)
    }

    /// Whether a local date falls in the cycle (half-open).
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d < self.end
    }

    /// The cycle as UTC milliseconds: local midnight at the start, local midnight at the end.
    pub fn bounds_ms(&self, tz: &str) -> Result<(i64, i64)> {
        Ok((local_midnight_ms(self.start, tz)?, local_midnight_ms(self.end, tz)?))
    }

    /// Whether `inner` lies within these dates (a parent's cycle may be longer).
    pub fn covers(&self, inner: &CycleDates) -> bool {
        self.start <= inner.start && inner.end <= self.end
    }
}

// ---------------------------------------------------------------- objectives

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Company,
    Team,
    Individual,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Company => "company",
            Level::Team => "team",
            Level::Individual => "individual",
        }
    }
    pub fn parse(s: &str) -> Result<Level> {
        match s {
            "company" => Ok(Level::Company),
            "team" => Ok(Level::Team),
            "individual" => Ok(Level::Individual),
            _ => Err(Error::invalid("level", "an objective's level is company, team or individual")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    Draft,
    OnTrack,
    AtRisk,
    OffTrack,
    Done,
    Archived,
}

impl ObjectiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveStatus::Draft => "draft",
            ObjectiveStatus::OnTrack => "on_track",
            ObjectiveStatus::AtRisk => "at_risk",
            ObjectiveStatus::OffTrack => "off_track",
            ObjectiveStatus::Done => "done",
            ObjectiveStatus::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> Result<ObjectiveStatus> {
        match s {
            "draft" => Ok(ObjectiveStatus::Draft),
            "on_track" => Ok(ObjectiveStatus::OnTrack),
            "at_risk" => Ok(ObjectiveStatus::AtRisk),
            "off_track" => Ok(ObjectiveStatus::OffTrack),
            "done" => Ok(ObjectiveStatus::Done),
            "archived" => Ok(ObjectiveStatus::Archived),
            _ => Err(Error::invalid(
                "status",
                "an objective's status is draft, on_track, at_risk, off_track, done or archived",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone in the organisation.
    Public,
    /// The owner, the contributors and admins.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
    pub fn parse(s: &str) -> Result<Visibility> {
        match s {
            "public" => Ok(Visibility::Public),
            "private" => Ok(Visibility::Private),
            _ => Err(Error::invalid("visibility", "visibility is public or private")),
        }
    }
}

pub fn validate_title(field: &str, title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(Error::invalid(field, "a title must be 1–200 characters"));
    }
    Ok(t.to_string())
}

/// Refuses making `parent` the parent of `id` when `id` is already an
/// ancestor of `parent` (or is `parent`): alignment is a tree, never a loop.
/// `parents` maps each objective to its current parent.
pub fn check_alignment(id: &str, parent: &str, parents: &HashMap<String, Option<String>>) -> Result<()> {
    let refused = || {
        Error::invalid("parent_id", "that alignment would make a loop: an objective cannot sit under its own child")
            .with_code("alignment_cycle")
    };
    let mut at = Some(parent.to_string());
    let mut seen = HashSet::new();
    while let Some(cur) = at {
        if cur == id || !seen.insert(cur.clone()) {
            return Err(refused());
        }
        at = parents.get(&cur).cloned().flatten();
    }
    Ok(())
}

// ---------------------------------------------------------------- key results

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KrKind {
    Number,
    Percent,
    /// Integer minor units (cents).
    Currency,
    /// Done (1) or not done (0).
    Milestone,
}

impl KrKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KrKind::Number => "number",
            KrKind::Percent => "percent",
            KrKind::Currency => "currency",
            KrKind::Milestone => "milestone",
        }
    }
    pub fn parse(s: &str) -> Result<KrKind> {
        match s {
            "number" => Ok(KrKind::Number),
            "percent" => Ok(KrKind::Percent),
            "currency" => Ok(KrKind::Currency),
            "milestone" => Ok(KrKind::Milestone),
            _ => Err(Error::invalid("kind", "a key result is a number, percent, currency or milestone")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Increasing,
    Decreasing,
}

/// Beyond this, f64 no longer holds every integer.
const MAX_ABS: f64 = 9_007_199_254_740_992.0;

/// A value of a key result of `kind`: finite, in range, whole for currency,
/// 0 or 1 for milestones.
pub fn check_value(kind: KrKind, field: &str, v: f64) -> Result<f64> {
    if !v.is_finite() || v.abs() > MAX_ABS {
        return Err(Error::invalid(field, "the value must be a finite number"));
    }
    match kind {
        KrKind::Currency if v.fract() != 0.0 => {
            Err(Error::invalid(field, "currency values are whole minor units (cents)"))
        }
        KrKind::Milestone if v != 0.0 && v != 1.0 => {
            Err(Error::invalid(field, "a milestone is 0 (not done) or 1 (done)"))
        }
        _ => Ok(v),
    }
}

/// Checks start and target (a milestone is always 0 → 1); refuses start == target.
pub fn check_range(kind: KrKind, start: f64, target: f64) -> Result<(f64, f64)> {
    if kind == KrKind::Milestone {
        return Ok((0.0, 1.0));
    }
    let start = check_value(kind, "start", start)?;
    let target = check_value(kind, "target", target)?;
    if start == target {
        return Err(Error::invalid("target", "the target must differ from the start").with_code("start_equals_target"));
    }
    Ok((start, target))
}

pub fn direction(start: f64, target: f64) -> Direction {
    if target >= start {
        Direction::Increasing
    } else {
        Direction::Decreasing
    }
}

/// A key result's progress.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// 0.0–1.0, or above 1.0 when over-achievement is allowed.
    pub value: f64,
    /// The current value is on the wrong side of the start.
    pub beyond_start: bool,
}

/// (current − start) / (target − start), clamped to 0–1 (0–∞ with
/// `allow_over`). Values beyond the start read 0 and are flagged.
pub fn progress(start: f64, target: f64, current: f64, allow_over: bool) -> Progress {
    let span = target - start;
    if span == 0.0 || !span.is_finite() || !current.is_finite() {
        return Progress { value: 0.0, beyond_start: false };
    }
    let raw = (current - start) / span;
    if !raw.is_finite() {
        return Progress { value: 0.0, beyond_start: false };
    }
    let beyond_start = raw < 0.0;
    let value = if beyond_start {
        0.0
    } else if allow_over {
        raw
    } else {
        raw.min(1.0)
    };
    Progress { value, beyond_start }
}

/// One key result as the roll-up sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KrShare {
    pub progress: f64,
    pub weight: i64,
    pub archived: bool,
}

/// An objective's own progress from its key results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rollup {
    pub progress: f64,
    /// Active key results at 100 % or more.
    pub done: usize,
    /// Active key results.
    pub total: usize,
}

pub const MAX_WEIGHT: i64 = 100;

pub fn check_weight(w: i64) -> Result<i64> {
    if !(1..=MAX_WEIGHT).contains(&w) {
        return Err(Error::invalid("weight", format!("a weight is 1 to {MAX_WEIGHT}")));
    }
    Ok(w)
}

/// The weighted mean of the active key results; None when there are none
/// (the objective then takes its children's mean). Archived key results
/// count in neither the numerator, the denominator nor "n of m done".
pub fn rollup(krs: &[KrShare]) -> Option<Rollup> {
    let active: Vec<&KrShare> = krs.iter().filter(|k| !k.archived && k.weight > 0).collect();
    if active.is_empty() {
        return None;
    }
    let weights: i64 = active.iter().map(|k| k.weight).sum();
    let sum: f64 = active.iter().map(|k| k.progress * k.weight as f64).sum();
    let done = active.iter().filter(|k| k.progress >= 1.0).count();
    Some(Rollup { progress: sum / weights as f64, done, total: active.len() })
}

/// One objective of the alignment tree: its parent and its own roll-up.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub id: String,
    pub parent_id: Option<String>,
    /// From its key results; None when it has no active key result.
    pub own: Option<f64>,
}

/// Every node's rolled-up progress: its own when it has key results, else
/// the mean of its aligned children (0 when it has neither). Parents outside
/// `nodes` are ignored; a loop (which alignment refuses) reads 0.
pub fn rollup_tree(nodes: &[TreeNode]) -> HashMap<String, f64> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    let known: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    for n in nodes {
        if let Some(p) = n.parent_id.as_deref().filter(|p| known.contains(p)) {
            children.entry(p).or_default().push(&n.id);
        }
    }
    let own: HashMap<&str, Option<f64>> = nodes.iter().map(|n| (n.id.as_str(), n.own)).collect();
    let mut out: HashMap<String, f64> = HashMap::new();
    fn visit<'a>(
        id: &'a str,
        own: &HashMap<&'a str, Option<f64>>,
        children: &HashMap<&'a str, Vec<&'a str>>,
        out: &mut HashMap<String, f64>,
        path: &mut HashSet<&'a str>,
    ) -> f64 {
        if let Some(v) = out.get(id) {
            return *v;
        }
        if !path.insert(id) {
            return 0.0;
        }
        let v = match own.get(id).copied().flatten() {
            Some(v) => v,
            None => {
                let kids = children.get(id).map(Vec::as_slice).unwrap_or(&[]);
                if kids.is_empty() {
                    0.0
                } else {
                    kids.iter().map(|k| visit(k, own, children, out, path)).sum::<f64>() / kids.len() as f64
                }
            }
        };
        path.remove(id);
        out.insert(id.to_string(), v);
        v
    }
    for n in nodes {
        let mut path = HashSet::new();
        visit(&n.id, &own, &children, &mut out, &mut path);
    }
    out
}

// ---------------------------------------------------------------- check-ins

/// A check-in's confidence: a word or a score from 1 to 10.
pub fn check_confidence(s: &str) -> Result<String> {
    let s = s.trim();
    match s {
        "on_track" | "at_risk" | "off_track" => Ok(s.to_string()),
        _ => match s.parse::<i64>() {
            Ok(n) if (1..=10).contains(&n) => Ok(n.to_string()),
            _ => Err(Error::invalid("confidence", "confidence is on_track, at_risk, off_track or 1–10")),
        },
    }
}

/// The objective status a confidence implies (7–10 on track, 4–6 at risk, 1–3 off track).
pub fn status_from_confidence(c: &str) -> Option<ObjectiveStatus> {
    match c {
        "on_track" => Some(ObjectiveStatus::OnTrack),
        "at_risk" => Some(ObjectiveStatus::AtRisk),
        "off_track" => Some(ObjectiveStatus::OffTrack),
        _ => match c.parse::<i64>().ok()? {
            7..=10 => Some(ObjectiveStatus::OnTrack),
            4..=6 => Some(ObjectiveStatus::AtRisk),
            1..=3 => Some(ObjectiveStatus::OffTrack),
            _ => None,
        },
    }
}

pub const MAX_NOTE_CHARS: usize = 2000;

/// Where a key result lands at the cycle's end if its trend holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Forecast {
    /// The value the least-squares line reaches at `end_ms`.
    pub value: f64,
    /// Whether that value reaches the target (in the key result's direction).
    pub reaches_target: bool,
}

/// Least squares over `(time_ms, value)` points, projected to `end_ms`.
/// None with fewer than two points at distinct times.
pub fn forecast(points: &[(i64, f64)], end_ms: i64, start: f64, target: f64) -> Option<Forecast> {
    let pts: Vec<(f64, f64)> = points.iter().filter(|(_, v)| v.is_finite()).map(|(t, v)| (*t as f64, *v)).collect();
    if pts.len() < 2 {
        return None;
    }
    // Centre the times on the first point (days) to keep the sums well conditioned.
    let t0 = pts[0].0;
    let xs: Vec<f64> = pts.iter().map(|(t, _)| (t - t0) / DAY_MS as f64).collect();
    let n = pts.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = pts.iter().map(|(_, v)| v).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let sxy: f64 = xs.iter().zip(&pts).map(|(x, (_, y))| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let x_end = (end_ms as f64 - t0) / DAY_MS as f64;
    let value = my + slope * (x_end - mx);
    if !value.is_finite() {
        return None;
    }
    let reaches_target = match direction(start, target) {
        Direction::Increasing => value >= target,
        Direction::Decreasing => value <= target,
    };
    Some(Forecast { value, reaches_target })
}

/// The grade recorded when a cycle closes: progress capped at 1.0, to two decimals.
pub fn grade(progress: f64) -> f64 {
    if !progress.is_finite() {
        return 0.0;
    }
    (progress.clamp(0.0, 1.0) * 100.0).round() / 100.0
}

// ---------------------------------------------------------------- KPIs

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KpiDirection {
    Higher,
    Lower,
}

impl KpiDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            KpiDirection::Higher => "higher",
            KpiDirection::Lower => "lower",
        }
    }
    pub fn parse(s: &str) -> Result<KpiDirection> {
        match s {
            "higher" => Ok(KpiDirection::Higher),
            "lower" => Ok(KpiDirection::Lower),
            _ => Err(Error::invalid("direction", "direction is higher or lower (is better)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }
    pub fn parse(s: &str) -> Result<Cadence> {
        match s {
            "daily" => Ok(Cadence::Daily),
            "weekly" => Ok(Cadence::Weekly),
            "monthly" => Ok(Cadence::Monthly),
            _ => Err(Error::invalid("cadence", "cadence is daily, weekly or monthly")),
        }
    }
    /// Days a value may be old before the KPI is stale: one period and a day of grace.
    pub fn stale_after_days(self) -> i64 {
        match self {
            Cadence::Daily => 2,
            Cadence::Weekly => 8,
            Cadence::Monthly => 32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KpiStatus {
    Healthy,
    Warning,
    Critical,
    Stale,
}

impl KpiStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KpiStatus::Healthy => "healthy",
            KpiStatus::Warning => "warning",
            KpiStatus::Critical => "critical",
            KpiStatus::Stale => "stale",
        }
    }
}

/// A KPI's thresholds must be finite and in order for its direction: when
/// higher is better, critical ≤ warning; when lower is better, critical ≥ warning.
pub fn check_thresholds(
    dir: KpiDirection,
    target: Option<f64>,
    warning: Option<f64>,
    critical: Option<f64>,
) -> Result<()> {
    for (field, v) in [("target", target), ("warning", warning), ("critical", critical)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(Error::invalid(field, "the value must be a finite number"));
        }
    }
    if let (Some(w), Some(c)) = (warning, critical) {
        let ordered = match dir {
            KpiDirection::Higher => c <= w,
            KpiDirection::Lower => c >= w,
        };
        if !ordered {
            let msg = match dir {
                KpiDirection::Higher => {
                    "when higher is better the critical threshold must be at or below the warning one"
                }
                KpiDirection::Lower => {
                    "when lower is better the critical threshold must be at or above the warning one"
                }
            };
            return Err(Error::invalid("critical", msg));
        }
    }
    Ok(())
}

/// A KPI's status from its newest value (`(date, value)`) on local date `today`.
pub fn kpi_status(
    dir: KpiDirection,
    warning: Option<f64>,
    critical: Option<f64>,
    cadence: Cadence,
    latest: Option<(Date, f64)>,
    today: Date,
) -> KpiStatus {
    let Some((date, v)) = latest else { return KpiStatus::Stale };
    if days_between(date, today) > cadence.stale_after_days() {
        return KpiStatus::Stale;
    }
    let worse_or_equal = |threshold: f64| match dir {
        KpiDirection::Higher => v <= threshold,
        KpiDirection::Lower => v >= threshold,
    };
    if critical.is_some_and(worse_or_equal) {
        KpiStatus::Critical
    } else if warning.is_some_and(worse_or_equal) {
        KpiStatus::Warning
    } else {
        KpiStatus::Healthy
    }
}

/// A KPI value as sent: a local date, or an instant placed on the local
/// date it falls on in the organisation's time zone.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueAt {
    Date(String),
    /// RFC 3339 with an offset or `Z`.
    Time(String),
}

/// The local date (in `tz`) a value belongs to.
pub fn value_date(at: &ValueAt, tz: &str) -> Result<String> {
    match at {
        ValueAt::Date(d) => Ok(date_string(parse_date("date", d)?)),
        ValueAt::Time(t) => {
            let ts = t
                .trim()
                .parse::<Timestamp>()
                .map_err(|_| Error::invalid("time", format!("'{t}' is not a time like 2026-03-29T01:30:00Z")))?;
            Ok(date_string(local_date(ts.as_millisecond(), tz)?))
        }
    }
}

/// Places a batch on local dates, one value per date: a later entry for a
/// date replaces an earlier one. Answers `(date, value)` sorted by date, or
/// the first bad entry's index and error.
pub fn assign_dates(batch: &[(ValueAt, f64)], tz: &str) -> std::result::Result<Vec<(String, f64)>, (usize, Error)> {
    let mut by_date: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for (i, (at, v)) in batch.iter().enumerate() {
        if !v.is_finite() {
            return Err((i, Error::invalid("value", "the value must be a finite number")));
        }
        let d = value_date(at, tz).map_err(|e| (i, e))?;
        by_date.insert(d, *v);
    }
    Ok(by_date.into_iter().collect())
}

/// The newest value dated within `[start, end)` (local dates, `YYYY-MM-DD`
/// strings compare as dates): what a KPI-driven key result reads.
pub fn latest_within<'a>(values: &'a [(String, f64)], dates: &CycleDates) -> Option<&'a (String, f64)> {
    let (s, e) = (dates.start_string(), dates.end_string());
    values.iter().filter(|(d, _)| *d >= s && *d < e).max_by(|a, b| a.0.cmp(&b.0))
}

// ---------------------------------------------------------------- records

/// Per-organisation OKR settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OkrSettings {
    /// Progress may read above 100 %.
    pub allow_over_achievement: bool,
    /// Check-ins are still taken after a cycle closed (they never change its grades).
    pub allow_late_check_ins: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cycle {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub kind: CycleKind,
    /// `YYYY-MM-DD`, inclusive.
    pub start_date: String,
    /// `YYYY-MM-DD`, exclusive.
    pub end_date: String,
    pub state: CycleState,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Cycle {
    pub fn dates(&self) -> Result<CycleDates> {
        CycleDates::custom(&self.start_date, &self.end_date)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    pub id: String,
    pub org_id: String,
    pub cycle_id: String,
    pub title: String,
    pub description: String,
    pub level: Level,
    /// The department of a team objective.
    pub team: Option<String>,
    pub owner_id: String,
    pub contributor_ids: Vec<String>,
    pub parent_id: Option<String>,
    pub visibility: Visibility,
    pub status: ObjectiveStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyResult {
    pub id: String,
    pub org_id: String,
    pub objective_id: String,
    pub title: String,
    pub kind: KrKind,
    pub start: f64,
    pub target: f64,
    pub current: f64,
    pub unit: String,
    pub weight: i64,
    pub owner_id: String,
    pub kpi_id: Option<String>,
    pub archived: bool,
    /// When the current value last changed.
    pub current_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckIn {
    pub id: String,
    pub org_id: String,
    pub key_result_id: String,
    pub member_id: String,
    pub value: f64,
    pub confidence: String,
    pub note: String,
    /// Taken after the cycle closed (allowed by the organisation; grades stay).
    pub late: bool,
    pub created_at: i64,
}

/// What a closed cycle recorded for an objective or a key result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    pub cycle_id: String,
    /// `objective` or `key_result`.
    pub subject: String,
    pub subject_id: String,
    pub progress: f64,
    pub grade: f64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpi {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub unit: String,
    pub direction: KpiDirection,
    pub target: Option<f64>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub cadence: Cadence,
    pub owner_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiValue {
    pub kpi_id: String,
    /// Local date in the organisation's time zone, `YYYY-MM-DD`.
    pub date: String,
    pub value: f64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(p: Progress) -> f64 {
        (p.value * 10_000.0).round() / 100.0
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn increasing_key_results() {
        assert_eq!(progress(0.0, 200.0, 50.0, false), Progress { value: 0.25, beyond_start: false });
        assert_eq!(progress(10.0, 20.0, 10.0, false).value, 0.0);
        assert_eq!(progress(10.0, 20.0, 20.0, false).value, 1.0);
        assert_eq!(progress(10.0, 20.0, 30.0, false).value, 1.0, "clamped above the target");
        assert_eq!(progress(10.0, 20.0, 30.0, true).value, 2.0, "over-achievement allowed");
        let below = progress(10.0, 20.0, 5.0, false);
        assert_eq!(below, Progress { value: 0.0, beyond_start: true }, "below the start reads 0 and is flagged");
        assert_eq!(progress(10.0, 20.0, 5.0, true).value, 0.0, "never negative, even with over-achievement");
    }

    #[test]
    fn a_decreasing_key_result_from_800_to_200() {
        assert_eq!(direction(800.0, 200.0), Direction::Decreasing);
        assert_eq!(pct(progress(800.0, 200.0, 500.0, false)), 50.0);
        let worse = progress(800.0, 200.0, 900.0, false);
        assert_eq!((pct(worse), worse.beyond_start), (0.0, true), "900 is beyond the start: 0 %, flagged");
        let better = progress(800.0, 200.0, 150.0, false);
        assert_eq!((pct(better), better.beyond_start), (100.0, false));
        let over = progress(800.0, 200.0, 150.0, true);
        assert_eq!(pct(over), 108.33, "(800 − 150) / (800 − 200) = 1.0833");
        assert_eq!(progress(800.0, 200.0, 200.0, false).value, 1.0);
        assert_eq!(progress(800.0, 200.0, 800.0, false), Progress { value: 0.0, beyond_start: false });
    }

    #[test]
    fn milestones_are_done_or_not() {
        assert_eq!(check_range(KrKind::Milestone, 5.0, 5.0).unwrap(), (0.0, 1.0));
        assert_eq!(progress(0.0, 1.0, 0.0, false).value, 0.0);
        assert_eq!(progress(0.0, 1.0, 1.0, false).value, 1.0);
        assert!(check_value(KrKind::Milestone, "current", 0.5).is_err());
        assert!(check_value(KrKind::Milestone, "current", 1.0).is_ok());
    }

    #[test]
    fn start_equal_to_target_and_non_numbers_are_refused() {
        let e = check_range(KrKind::Number, 5.0, 5.0).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("start_equals_target", Some("target")));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
            assert!(check_range(KrKind::Number, bad, 5.0).is_err());
            assert!(check_range(KrKind::Number, 0.0, bad).is_err());
            assert!(check_value(KrKind::Percent, "current", bad).is_err());
        }
        assert!(check_value(KrKind::Currency, "start", 10.5).is_err(), "currency is whole minor units");
        assert_eq!(check_value(KrKind::Currency, "start", 1050.0).unwrap(), 1050.0);
        // Even if a bad range slipped through, progress is never NaN.
        for (s, t, c) in
            [(5.0, 5.0, 5.0), (0.0, 1.0, f64::NAN), (f64::MAX, -f64::MAX, 0.0), (0.0, f64::MIN_POSITIVE, 1e308)]
        {
            let p = progress(s, t, c, true);
            assert!(p.value.is_finite(), "{s} {t} {c}: {p:?}");
        }
    }

    #[test]
    fn rollup_is_the_weighted_mean_of_active_key_results() {
        let r = rollup(&[
            KrShare { progress: 1.0, weight: 2, archived: false },
            KrShare { progress: 0.4, weight: 1, archived: false },
            KrShare { progress: 0.0, weight: 5, archived: true },
        ])
        .unwrap();
        assert!(close(r.progress, 0.8), "{r:?}");
        assert_eq!((r.done, r.total), (1, 2), "the archived one is not in n of m");
        assert_eq!(rollup(&[KrShare { progress: 1.0, weight: 1, archived: true }]), None);
        assert_eq!(rollup(&[]), None);
    }

    #[test]
    fn an_increasing_and_a_decreasing_key_result_at_half_make_half() {
        let up = progress(0.0, 100.0, 50.0, false);
        let down = progress(800.0, 200.0, 500.0, false);
        let r = rollup(&[
            KrShare { progress: up.value, weight: 1, archived: false },
            KrShare { progress: down.value, weight: 1, archived: false },
        ])
        .unwrap();
        assert!(close(r.progress, 0.5));
    }

    fn node(id: &str, parent: Option<&str>, own: Option<f64>) -> TreeNode {
        TreeNode { id: id.into(), parent_id: parent.map(Into::into), own }
    }

    #[test]
    fn objectives_without_key_results_take_their_childrens_mean() {
        let p = rollup_tree(&[
            node("company", None, None),
            node("sales", Some("company"), Some(0.6)),
            node("eng", Some("company"), None),
            node("eng-a", Some("eng"), Some(0.2)),
            node("eng-b", Some("eng"), Some(0.4)),
            node("lonely", None, None),
            node("own-wins", None, Some(0.1)),
            node("child-of-own", Some("own-wins"), Some(1.0)),
            node("orphan", Some("not-in-this-tree"), Some(0.9)),
        ]);
        assert!(close(p["eng"], 0.3));
        assert!(close(p["company"], 0.45));
        assert_eq!(p["lonely"], 0.0);
        assert_eq!(p["own-wins"], 0.1, "key results win over children");
        assert_eq!(p["orphan"], 0.9);
        // A loop (refused on input) still terminates.
        let looped = rollup_tree(&[node("a", Some("b"), None), node("b", Some("a"), None)]);
        assert!(looped.values().all(|v| v.is_finite()));
    }

    #[test]
    fn alignment_loops_are_refused() {
        let parents: HashMap<String, Option<String>> = [
            ("c".to_string(), None),
            ("t".to_string(), Some("c".to_string())),
            ("i".to_string(), Some("t".to_string())),
        ]
        .into();
        assert!(check_alignment("i", "t", &parents).is_ok());
        assert!(check_alignment("x", "i", &parents).is_ok());
        assert_eq!(check_alignment("c", "i", &parents).unwrap_err().code, "alignment_cycle");
        assert_eq!(check_alignment("t", "t", &parents).unwrap_err().code, "alignment_cycle");
    }

    #[test]
    fn cycles_are_half_open_local_dates() {
        let q1 = CycleDates::quarter(2026, 1).unwrap();
        assert_eq!((q1.start_string(), q1.end_string()), ("2026-01-01".into(), "2026-04-01".into()));
        let q4 = CycleDates::quarter(2026, 4).unwrap();
        assert_eq!(q4.end_string(), "2027-01-01");
        assert!(CycleDates::quarter(2026, 5).is_err());
        let y = CycleDates::year(2026).unwrap();
        assert!(y.covers(&q1) && y.covers(&q4) && !q1.covers(&y));
        assert!(q1.contains(parse_date("d", "2026-03-31").unwrap()));
        assert!(!q1.contains(parse_date("d", "2026-04-01").unwrap()), "the end is exclusive");
        assert!(q1.contains(q1.start), "the start is inclusive");
        assert_eq!(CycleDates::custom("2026-05-01", "2026-05-01").unwrap_err().field.as_deref(), Some("end_date"));
        assert!(CycleDates::custom("2026-05-01", "2026-5-1").is_err());
        // Q1 2026 in Oslo: local midnight is 23:00 UTC the day before; the
        // end falls after DST began (22:00 UTC).
        let (s, e) = q1.bounds_ms("Europe/Oslo").unwrap();
        assert_eq!(s, "2025-12-31T23:00:00Z".parse::<Timestamp>().unwrap().as_millisecond());
        assert_eq!(e, "2026-03-31T22:00:00Z".parse::<Timestamp>().unwrap().as_millisecond());
    }

    #[test]
    fn cycle_states_only_move_forward() {
        use CycleState::*;
        assert!(Planning.check_move(Active).is_ok());
        assert!(Active.check_move(Closed).is_ok());
        assert!(Closed.check_move(Closed).is_ok(), "closing twice is fine");
        assert_eq!(Closed.check_move(Active).unwrap_err().code, "invalid_transition");
        assert!(Active.check_move(Planning).is_err());
    }

    #[test]
    fn forecasts_follow_the_least_squares_line() {
        let day = DAY_MS;
        // 10 a day from 0: at day 30 it reads 300.
        let pts = [(0, 0.0), (10 * day, 100.0), (20 * day, 200.0)];
        let f = forecast(&pts, 30 * day, 0.0, 300.0).unwrap();
        assert!(close(f.value, 300.0) && f.reaches_target, "{f:?}");
        assert!(!forecast(&pts, 30 * day, 0.0, 301.0).unwrap().reaches_target);
        // Noisy points: slope of the best fit, not of the last two points.
        let noisy = [(0, 0.0), (day, 2.0), (2 * day, 1.0), (3 * day, 3.0)];
        let f = forecast(&noisy, 4 * day, 0.0, 10.0).unwrap();
        // y = 0.3 + 0.8x → 3.5 at x = 4
        assert!(close(f.value, 3.5), "{f:?}");
        // Decreasing KR: falling values reach a lower target.
        let down = [(0, 800.0), (10 * day, 700.0)];
        let f = forecast(&down, 60 * day, 800.0, 200.0).unwrap();
        assert!(close(f.value, 200.0) && f.reaches_target);
        assert_eq!(forecast(&[(0, 1.0)], day, 0.0, 2.0), None);
        assert_eq!(forecast(&[(0, 1.0), (0, 2.0)], day, 0.0, 2.0), None, "same instant: no trend");
    }

    #[test]
    fn grades_are_capped_and_rounded() {
        assert_eq!(grade(0.8333), 0.83);
        assert_eq!(grade(1.0833), 1.0);
        assert_eq!(grade(-0.1), 0.0);
        assert_eq!(grade(f64::NAN), 0.0);
    }

    #[test]
    fn confidence_words_and_scores() {
        assert_eq!(check_confidence("at_risk").unwrap(), "at_risk");
        assert_eq!(check_confidence(" 7 ").unwrap(), "7");
        for bad in ["0", "11", "maybe", ""] {
            assert_eq!(check_confidence(bad).unwrap_err().field.as_deref(), Some("confidence"));
        }
        assert_eq!(status_from_confidence("8"), Some(ObjectiveStatus::OnTrack));
        assert_eq!(status_from_confidence("5"), Some(ObjectiveStatus::AtRisk));
        assert_eq!(status_from_confidence("2"), Some(ObjectiveStatus::OffTrack));
        assert_eq!(status_from_confidence("off_track"), Some(ObjectiveStatus::OffTrack));
    }

    fn d(s: &str) -> Date {
        parse_date("date", s).unwrap()
    }

    #[test]
    fn kpi_status_by_direction_thresholds_and_cadence() {
        use KpiStatus::*;
        let today = d("2026-12-03");
        let st = |dir, v| kpi_status(dir, Some(90.0), Some(80.0), Cadence::Daily, Some((today, v)), today);
        assert_eq!(st(KpiDirection::Higher, 95.0), Healthy);
        assert_eq!(st(KpiDirection::Higher, 90.0), Warning);
        assert_eq!(st(KpiDirection::Higher, 79.0), Critical);
        let lo =
            |v| kpi_status(KpiDirection::Lower, Some(300.0), Some(500.0), Cadence::Weekly, Some((today, v)), today);
        assert_eq!((lo(200.0), lo(350.0), lo(600.0)), (Healthy, Warning, Critical));
        assert_eq!(kpi_status(KpiDirection::Higher, None, None, Cadence::Daily, None, today), Stale);
        let old = |cadence, date| kpi_status(KpiDirection::Higher, None, None, cadence, Some((d(date), 1.0)), today);
        assert_eq!(old(Cadence::Daily, "2026-12-01"), Healthy, "two days is within a day's grace");
        assert_eq!(old(Cadence::Daily, "2026-11-30"), Stale);
        assert_eq!(old(Cadence::Weekly, "2026-11-25"), Healthy);
        assert_eq!(old(Cadence::Weekly, "2026-11-24"), Stale);
        assert_eq!(old(Cadence::Monthly, "2026-11-01"), Healthy);
        assert_eq!(old(Cadence::Monthly, "2026-10-31"), Stale);
        assert!(check_thresholds(KpiDirection::Higher, None, Some(90.0), Some(80.0)).is_ok());
        assert_eq!(
            check_thresholds(KpiDirection::Higher, None, Some(80.0), Some(90.0)).unwrap_err().field.as_deref(),
            Some("critical")
        );
        assert!(check_thresholds(KpiDirection::Lower, None, Some(300.0), Some(500.0)).is_ok());
        assert!(check_thresholds(KpiDirection::Lower, Some(f64::NAN), None, None).is_err());
    }

    #[test]
    fn kpi_values_land_on_local_dates_across_the_oslo_dst_change() {
        // DST begins in Oslo on Sunday 29 March 2026 at 02:00 local (01:00 UTC).
        let tz = "Europe/Oslo";
        let t = |s: &str| value_date(&ValueAt::Time(s.into()), tz).unwrap();
        assert_eq!(t("2026-03-28T22:59:59Z"), "2026-03-28", "23:59:59 CET on Saturday");
        assert_eq!(t("2026-03-28T23:00:00Z"), "2026-03-29", "midnight CET starts Sunday");
        assert_eq!(t("2026-03-29T00:59:59Z"), "2026-03-29", "01:59:59 CET, just before the jump");
        assert_eq!(t("2026-03-29T01:00:00Z"), "2026-03-29", "03:00 CEST, just after");
        assert_eq!(t("2026-03-29T21:59:59Z"), "2026-03-29", "23:59:59 CEST: Sunday had 23 hours");
        assert_eq!(t("2026-03-29T22:00:00Z"), "2026-03-30", "midnight CEST starts Monday");
        assert_eq!(t("2026-03-29T23:30:00+02:00"), "2026-03-29", "an offset in the input is honoured");
        // The same instant is a different date in UTC.
        assert_eq!(value_date(&ValueAt::Time("2026-03-29T22:30:00Z".into()), "UTC").unwrap(), "2026-03-29");
        assert_eq!(value_date(&ValueAt::Date("2026-03-29".into()), tz).unwrap(), "2026-03-29");
        assert!(value_date(&ValueAt::Date("29/03/2026".into()), tz).is_err());
        assert!(value_date(&ValueAt::Time("yesterday".into()), tz).is_err());
        // The Sunday's local day is 23 hours long.
        let sun = local_midnight_ms(d("2026-03-29"), tz).unwrap();
        let mon = local_midnight_ms(d("2026-03-30"), tz).unwrap();
        assert_eq!(mon - sun, 23 * 3_600_000);
    }

    #[test]
    fn a_later_value_for_the_same_date_replaces_the_earlier_one() {
        let tz = "Europe/Oslo";
        let batch = vec![
            (ValueAt::Date("2026-03-29".into()), 1.0),
            (ValueAt::Time("2026-03-28T23:30:00Z".into()), 2.0), // also Sunday in Oslo
            (ValueAt::Date("2026-03-28".into()), 3.0),
        ];
        assert_eq!(assign_dates(&batch, tz).unwrap(), vec![("2026-03-28".into(), 3.0), ("2026-03-29".into(), 2.0)]);
        let bad = vec![(ValueAt::Date("2026-03-28".into()), 1.0), (ValueAt::Date("2026-03-28".into()), f64::NAN)];
        assert_eq!(assign_dates(&bad, tz).unwrap_err().0, 1);
    }

    #[test]
    fn the_latest_value_within_a_cycle() {
        let q1 = CycleDates::quarter(2026, 1).unwrap();
        let values = vec![
            ("2025-12-31".to_string(), 1.0),
            ("2026-02-01".to_string(), 2.0),
            ("2026-03-31".to_string(), 3.0),
            ("2026-04-01".to_string(), 4.0),
        ];
        assert_eq!(latest_within(&values, &q1), Some(&("2026-03-31".to_string(), 3.0)));
        assert_eq!(latest_within(&values[..1], &q1), None);
    }
}
