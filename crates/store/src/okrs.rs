//! OKRs and KPIs: settings, cycles, objectives and their contributors, key
//! results, check-ins, grades and KPI values. Every query is scoped by org.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::okr::{
    Cadence, CheckIn, Cycle, CycleKind, CycleState, Grade, KeyResult, Kpi, KpiDirection, KpiValue, KrKind, Level,
    Objective, ObjectiveStatus, OkrSettings, Visibility,
};
use plaudit_domain::Result;
use std::collections::HashMap;

const CYCLE_COLUMNS: &str = "id, org_id, name, kind, start_date, end_date, state, closed_at, created_at, updated_at";
const OBJECTIVE_COLUMNS: &str =
    "id, org_id, cycle_id, title, description, level, team, owner_id, parent_id, visibility, status, created_at, updated_at";
const KR_COLUMNS: &str = "id, org_id, objective_id, title, kind, start_value, target_value, current_value, unit, \
     weight, owner_id, kpi_id, archived, current_at, created_at, updated_at";
const CHECK_IN_COLUMNS: &str = "id, org_id, key_result_id, member_id, value, confidence, note, late, created_at";
const KPI_COLUMNS: &str =
    "id, org_id, name, unit, direction, target, warning, critical, cadence, owner_id, created_at, updated_at";

fn opt_real(r: &Row, i: usize) -> Option<f64> {
    match &r.0[i] {
        crate::sql::Value::Null => None,
        _ => Some(r.real(i)),
    }
}

fn cycle_from(r: &Row) -> Cycle {
    Cycle {
        id: r.text(0),
        org_id: r.text(1),
        name: r.text(2),
        kind: CycleKind::parse(&r.text(3)).unwrap_or(CycleKind::Custom),
        start_date: r.text(4),
        end_date: r.text(5),
        state: CycleState::parse(&r.text(6)).unwrap_or(CycleState::Planning),
        closed_at: r.opt_int(7),
        created_at: r.int(8),
        updated_at: r.int(9),
    }
}

fn objective_from(r: &Row) -> Objective {
    Objective {
        id: r.text(0),
        org_id: r.text(1),
        cycle_id: r.text(2),
        title: r.text(3),
        description: r.text(4),
        level: Level::parse(&r.text(5)).unwrap_or(Level::Company),
        team: r.opt_text(6),
        owner_id: r.text(7),
        contributor_ids: Vec::new(),
        parent_id: r.opt_text(8),
        visibility: Visibility::parse(&r.text(9)).unwrap_or(Visibility::Public),
        status: ObjectiveStatus::parse(&r.text(10)).unwrap_or(ObjectiveStatus::Draft),
        created_at: r.int(11),
        updated_at: r.int(12),
    }
}

fn kr_from(r: &Row) -> KeyResult {
    KeyResult {
        id: r.text(0),
        org_id: r.text(1),
        objective_id: r.text(2),
        title: r.text(3),
        kind: KrKind::parse(&r.text(4)).unwrap_or(KrKind::Number),
        start: r.real(5),
        target: r.real(6),
        current: r.real(7),
        unit: r.text(8),
        weight: r.int(9),
        owner_id: r.text(10),
        kpi_id: r.opt_text(11),
        archived: r.bool(12),
        current_at: r.int(13),
        created_at: r.int(14),
        updated_at: r.int(15),
    }
}

fn check_in_from(r: &Row) -> CheckIn {
    CheckIn {
        id: r.text(0),
        org_id: r.text(1),
        key_result_id: r.text(2),
        member_id: r.text(3),
        value: r.real(4),
        confidence: r.text(5),
        note: r.text(6),
        late: r.bool(7),
        created_at: r.int(8),
    }
}

fn kpi_from(r: &Row) -> Kpi {
    Kpi {
        id: r.text(0),
        org_id: r.text(1),
        name: r.text(2),
        unit: r.text(3),
        direction: KpiDirection::parse(&r.text(4)).unwrap_or(KpiDirection::Higher),
        target: opt_real(r, 5),
        warning: opt_real(r, 6),
        critical: opt_real(r, 7),
        cadence: Cadence::parse(&r.text(8)).unwrap_or(Cadence::Monthly),
        owner_id: r.text(9),
        created_at: r.int(10),
        updated_at: r.int(11),
    }
}

impl Tx<'_> {
    // ------------------------------------------------------------ settings

    pub fn okr_settings(&mut self, org_id: &str) -> Result<OkrSettings> {
        let rows = self
            .conn
            .query(
                "SELECT allow_over_achievement, allow_late_check_ins FROM okr_settings WHERE org_id = ?1",
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows
            .first()
            .map(|r| OkrSettings { allow_over_achievement: r.bool(0), allow_late_check_ins: r.bool(1) })
            .unwrap_or_default())
    }

    pub fn put_okr_settings(&mut self, org_id: &str, s: &OkrSettings, now: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO okr_settings (org_id, allow_over_achievement, allow_late_check_ins, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id) DO UPDATE SET \
                 allow_over_achievement = excluded.allow_over_achievement, \
                 allow_late_check_ins = excluded.allow_late_check_ins, updated_at = excluded.updated_at",
                params![org_id, s.allow_over_achievement, s.allow_late_check_ins, now],
            )
            .map_err(db)?;
        Ok(())
    }

    // ------------------------------------------------------------ cycles

    pub fn insert_cycle(&mut self, c: &Cycle) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO cycles ({CYCLE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    &c.id,
                    &c.org_id,
                    &c.name,
                    c.kind.as_str(),
                    &c.start_date,
                    &c.end_date,
                    c.state.as_str(),
                    c.closed_at,
                    c.created_at,
                    c.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn update_cycle(&mut self, c: &Cycle) -> Result<()> {
        self.conn
            .execute(
                "UPDATE cycles SET name = ?3, state = ?4, closed_at = ?5, updated_at = ?6 WHERE org_id = ?1 AND id = ?2",
                params![&c.org_id, &c.id, &c.name, c.state.as_str(), c.closed_at, c.updated_at],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn cycle(&mut self, org_id: &str, id: &str) -> Result<Option<Cycle>> {
        let rows = self
            .conn
            .query(&format!("SELECT {CYCLE_COLUMNS} FROM cycles WHERE org_id = ?1 AND id = ?2"), params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().map(cycle_from))
    }

    /// Newest first (by start date).
    pub fn list_cycles(&mut self, org_id: &str) -> Result<Vec<Cycle>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {CYCLE_COLUMNS} FROM cycles WHERE org_id = ?1 ORDER BY start_date DESC, end_date, id"),
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(cycle_from).collect())
    }

    // ------------------------------------------------------------ objectives

    fn put_contributors(&mut self, o: &Objective) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM objective_contributors WHERE org_id = ?1 AND objective_id = ?2",
                params![&o.org_id, &o.id],
            )
            .map_err(db)?;
        for m in &o.contributor_ids {
            self.conn
                .execute(
                    "INSERT INTO objective_contributors (org_id, objective_id, member_id) VALUES (?1, ?2, ?3)",
                    params![&o.org_id, &o.id, m],
                )
                .map_err(db)?;
        }
        Ok(())
    }

    pub fn insert_objective(&mut self, o: &Objective) -> Result<()> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO objectives ({OBJECTIVE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                params![
                    &o.id,
                    &o.org_id,
                    &o.cycle_id,
                    &o.title,
                    &o.description,
                    o.level.as_str(),
                    o.team.clone(),
                    &o.owner_id,
                    o.parent_id.clone(),
                    o.visibility.as_str(),
                    o.status.as_str(),
                    o.created_at,
                    o.updated_at
                ],
            )
            .map_err(db)?;
        self.put_contributors(o)
    }

    pub fn update_objective(&mut self, o: &Objective) -> Result<()> {
        self.conn
            .execute(
                "UPDATE objectives SET cycle_id = ?3, title = ?4, description = ?5, level = ?6, team = ?7, owner_id = ?8, \
                 parent_id = ?9, visibility = ?10, status = ?11, updated_at = ?12 WHERE org_id = ?1 AND id = ?2",
                params![
                    &o.org_id,
                    &o.id,
                    &o.cycle_id,
                    &o.title,
                    &o.description,
                    o.level.as_str(),
                    o.team.clone(),
                    &o.owner_id,
                    o.parent_id.clone(),
                    o.visibility.as_str(),
                    o.status.as_str(),
                    o.updated_at
                ],
            )
            .map_err(db)?;
        self.put_contributors(o)
    }

    fn with_contributors(&mut self, org_id: &str, mut list: Vec<Objective>) -> Result<Vec<Objective>> {
        if list.is_empty() {
            return Ok(list);
        }
        let rows = self
            .conn
            .query(
                "SELECT objective_id, member_id FROM objective_contributors WHERE org_id = ?1 ORDER BY member_id",
                params![org_id],
            )
            .map_err(db)?;
        let mut by: HashMap<String, Vec<String>> = HashMap::new();
        for r in &rows {
            by.entry(r.text(0)).or_default().push(r.text(1));
        }
        for o in &mut list {
            o.contributor_ids = by.remove(&o.id).unwrap_or_default();
        }
        Ok(list)
    }

    pub fn objective(&mut self, org_id: &str, id: &str) -> Result<Option<Objective>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {OBJECTIVE_COLUMNS} FROM objectives WHERE org_id = ?1 AND id = ?2"),
                params![org_id, id],
            )
            .map_err(db)?;
        let Some(mut o) = rows.first().map(objective_from) else { return Ok(None) };
        o.contributor_ids = self
            .conn
            .query(
                "SELECT member_id FROM objective_contributors WHERE org_id = ?1 AND objective_id = ?2 ORDER BY member_id",
                params![org_id, id],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.text(0))
            .collect();
        Ok(Some(o))
    }

    /// Every objective of the organisation (or of one cycle), oldest first.
    pub fn list_objectives(&mut self, org_id: &str, cycle_id: Option<&str>) -> Result<Vec<Objective>> {
        let rows = match cycle_id {
            Some(c) => self.conn.query(
                &format!(
                    "SELECT {OBJECTIVE_COLUMNS} FROM objectives WHERE org_id = ?1 AND cycle_id = ?2 ORDER BY created_at, id"
                ),
                params![org_id, c],
            ),
            None => self.conn.query(
                &format!("SELECT {OBJECTIVE_COLUMNS} FROM objectives WHERE org_id = ?1 ORDER BY created_at, id"),
                params![org_id],
            ),
        }
        .map_err(db)?;
        let list = rows.iter().map(objective_from).collect();
        self.with_contributors(org_id, list)
    }

    /// Each objective's parent, for the alignment check.
    pub fn objective_parents(&mut self, org_id: &str) -> Result<HashMap<String, Option<String>>> {
        let rows =
            self.conn.query("SELECT id, parent_id FROM objectives WHERE org_id = ?1", params![org_id]).map_err(db)?;
        Ok(rows.iter().map(|r| (r.text(0), r.opt_text(1))).collect())
    }

    // ------------------------------------------------------------ key results

    pub fn insert_key_result(&mut self, k: &KeyResult) -> Result<()> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO key_results ({KR_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                ),
                params![
                    &k.id,
                    &k.org_id,
                    &k.objective_id,
                    &k.title,
                    k.kind.as_str(),
                    k.start,
                    k.target,
                    k.current,
                    &k.unit,
                    k.weight,
                    &k.owner_id,
                    k.kpi_id.clone(),
                    k.archived,
                    k.current_at,
                    k.created_at,
                    k.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn update_key_result(&mut self, k: &KeyResult) -> Result<()> {
        self.conn
            .execute(
                "UPDATE key_results SET title = ?3, kind = ?4, start_value = ?5, target_value = ?6, current_value = ?7, \
                 unit = ?8, weight = ?9, owner_id = ?10, kpi_id = ?11, archived = ?12, current_at = ?13, updated_at = ?14 \
                 WHERE org_id = ?1 AND id = ?2",
                params![
                    &k.org_id,
                    &k.id,
                    &k.title,
                    k.kind.as_str(),
                    k.start,
                    k.target,
                    k.current,
                    &k.unit,
                    k.weight,
                    &k.owner_id,
                    k.kpi_id.clone(),
                    k.archived,
                    k.current_at,
                    k.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn key_result(&mut self, org_id: &str, id: &str) -> Result<Option<KeyResult>> {
        let rows = self
            .conn
            .query(&format!("SELECT {KR_COLUMNS} FROM key_results WHERE org_id = ?1 AND id = ?2"), params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().map(kr_from))
    }

    /// Oldest first.
    pub fn key_results_of(&mut self, org_id: &str, objective_id: &str) -> Result<Vec<KeyResult>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {KR_COLUMNS} FROM key_results WHERE org_id = ?1 AND objective_id = ?2 ORDER BY created_at, id"
                ),
                params![org_id, objective_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(kr_from).collect())
    }

    /// Every key result of the organisation (or of one cycle's objectives).
    pub fn list_key_results(&mut self, org_id: &str, cycle_id: Option<&str>) -> Result<Vec<KeyResult>> {
        let cols = KR_COLUMNS.split(", ").map(|c| format!("k.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let rows = match cycle_id {
            Some(c) => self.conn.query(
                &format!(
                    "SELECT {cols} FROM key_results k JOIN objectives o ON o.id = k.objective_id AND o.org_id = k.org_id \
                     WHERE k.org_id = ?1 AND o.cycle_id = ?2 ORDER BY k.created_at, k.id"
                ),
                params![org_id, c],
            ),
            None => self.conn.query(
                &format!("SELECT {KR_COLUMNS} FROM key_results WHERE org_id = ?1 ORDER BY created_at, id"),
                params![org_id],
            ),
        }
        .map_err(db)?;
        Ok(rows.iter().map(kr_from).collect())
    }

    pub fn key_results_of_kpi(&mut self, org_id: &str, kpi_id: &str) -> Result<Vec<KeyResult>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {KR_COLUMNS} FROM key_results WHERE org_id = ?1 AND kpi_id = ?2 ORDER BY created_at, id"
                ),
                params![org_id, kpi_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(kr_from).collect())
    }

    // ------------------------------------------------------------ check-ins

    pub fn insert_check_in(&mut self, c: &CheckIn) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO check_ins ({CHECK_IN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    &c.id,
                    &c.org_id,
                    &c.key_result_id,
                    &c.member_id,
                    c.value,
                    &c.confidence,
                    &c.note,
                    c.late,
                    c.created_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Oldest first.
    pub fn check_ins(&mut self, org_id: &str, key_result_id: &str) -> Result<Vec<CheckIn>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {CHECK_IN_COLUMNS} FROM check_ins WHERE org_id = ?1 AND key_result_id = ?2 ORDER BY created_at, id"
                ),
                params![org_id, key_result_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(check_in_from).collect())
    }

    // ------------------------------------------------------------ grades

    /// Records a grade once: a second close of the same cycle changes nothing.
    pub fn insert_grade(&mut self, org_id: &str, g: &Grade) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT INTO grades (org_id, cycle_id, subject, subject_id, progress, grade, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (org_id, subject, subject_id) DO NOTHING",
                params![org_id, &g.cycle_id, &g.subject, &g.subject_id, g.progress, g.grade, g.created_at],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    pub fn grades_of_cycle(&mut self, org_id: &str, cycle_id: &str) -> Result<Vec<Grade>> {
        let rows = self
            .conn
            .query(
                "SELECT cycle_id, subject, subject_id, progress, grade, created_at FROM grades \
                 WHERE org_id = ?1 AND cycle_id = ?2 ORDER BY subject, subject_id",
                params![org_id, cycle_id],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| Grade {
                cycle_id: r.text(0),
                subject: r.text(1),
                subject_id: r.text(2),
                progress: r.real(3),
                grade: r.real(4),
                created_at: r.int(5),
            })
            .collect())
    }

    // ------------------------------------------------------------ KPIs

    pub fn insert_kpi(&mut self, k: &Kpi) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO kpis ({KPI_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                params![
                    &k.id,
                    &k.org_id,
                    &k.name,
                    &k.unit,
                    k.direction.as_str(),
                    k.target,
                    k.warning,
                    k.critical,
                    k.cadence.as_str(),
                    &k.owner_id,
                    k.created_at,
                    k.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn kpi(&mut self, org_id: &str, id: &str) -> Result<Option<Kpi>> {
        let rows = self
            .conn
            .query(&format!("SELECT {KPI_COLUMNS} FROM kpis WHERE org_id = ?1 AND id = ?2"), params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().map(kpi_from))
    }

    /// By name.
    pub fn list_kpis(&mut self, org_id: &str) -> Result<Vec<Kpi>> {
        let rows = self
            .conn
            .query(&format!("SELECT {KPI_COLUMNS} FROM kpis WHERE org_id = ?1 ORDER BY name, id"), params![org_id])
            .map_err(db)?;
        Ok(rows.iter().map(kpi_from).collect())
    }

    /// One value per local date: a later value for a date replaces the earlier one.
    pub fn put_kpi_value(&mut self, org_id: &str, kpi_id: &str, date: &str, value: f64, now: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO kpi_values (org_id, kpi_id, value_date, value, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (org_id, kpi_id, value_date) DO UPDATE SET \
                 value = excluded.value, updated_at = excluded.updated_at",
                params![org_id, kpi_id, date, value, now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Oldest date first.
    pub fn kpi_values(&mut self, org_id: &str, kpi_id: &str) -> Result<Vec<KpiValue>> {
        let rows = self
            .conn
            .query(
                "SELECT kpi_id, value_date, value, updated_at FROM kpi_values WHERE org_id = ?1 AND kpi_id = ?2 \
                 ORDER BY value_date",
                params![org_id, kpi_id],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| KpiValue { kpi_id: r.text(0), date: r.text(1), value: r.real(2), updated_at: r.int(3) })
            .collect())
    }

    /// Visible recognitions that name this key result, newest first.
    pub fn recognitions_for_key_result(&mut self, org_id: &str, key_result_id: &str) -> Result<Vec<String>> {
        let rows = self
            .conn
            .query(
                "SELECT id FROM recognitions WHERE org_id = ?1 AND key_result_id = ?2 AND hidden = ?3 AND undone = ?3 \
                 ORDER BY created_at DESC, id DESC",
                params![org_id, key_result_id, false],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }
}
