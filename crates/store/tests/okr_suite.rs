//! OKR and KPI storage, on SQLite and on PostgreSQL.

use plaudit_domain::okr::*;
use plaudit_domain::org::{Org, Plan};
use plaudit_store::testing::TestDb;
use plaudit_store::{backend_tests, new_id};

fn org(db: &TestDb, slug: &str) -> Org {
    let o =
        Org::with_defaults(new_id(), slug.to_string(), format!("Org {slug}"), "Europe/Oslo".to_string(), Plan::Free, 1);
    db.write(|tx| tx.insert_org(&o)).unwrap();
    o
}

fn cycle(o: &Org) -> Cycle {
    Cycle {
        id: new_id(),
        org_id: o.id.clone(),
        name: "Q1 2026".into(),
        kind: CycleKind::Quarter,
        start_date: "2026-01-01".into(),
        end_date: "2026-04-01".into(),
        state: CycleState::Active,
        closed_at: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn objective(o: &Org, c: &Cycle, parent: Option<&str>) -> Objective {
    Objective {
        id: new_id(),
        org_id: o.id.clone(),
        cycle_id: c.id.clone(),
        title: "Delight customers".into(),
        description: "".into(),
        level: Level::Team,
        team: Some("Sales".into()),
        owner_id: "owner".into(),
        contributor_ids: vec!["a".into(), "b".into()],
        parent_id: parent.map(Into::into),
        visibility: Visibility::Public,
        status: ObjectiveStatus::Draft,
        created_at: 2,
        updated_at: 2,
    }
}

fn kr(o: &Org, obj: &Objective) -> KeyResult {
    KeyResult {
        id: new_id(),
        org_id: o.id.clone(),
        objective_id: obj.id.clone(),
        title: "Reduce p95 latency".into(),
        kind: KrKind::Number,
        start: 800.0,
        target: 200.0,
        current: 800.0,
        unit: "ms".into(),
        weight: 2,
        owner_id: "owner".into(),
        kpi_id: None,
        archived: false,
        current_at: 3,
        created_at: 3,
        updated_at: 3,
    }
}

fn okrs_round_trip(db: &TestDb) {
    let o = org(db, "acme");
    let mut c = cycle(&o);
    let parent = objective(&o, &c, None);
    let child = objective(&o, &c, Some(&parent.id));
    let mut k = kr(&o, &child);
    db.write(|tx| {
        tx.insert_cycle(&c)?;
        tx.insert_objective(&parent)?;
        tx.insert_objective(&child)?;
        tx.insert_key_result(&k)
    })
    .unwrap();
    assert_eq!(db.read(|tx| tx.cycle(&o.id, &c.id)).unwrap().unwrap(), c);
    assert_eq!(db.read(|tx| tx.objective(&o.id, &child.id)).unwrap().unwrap(), child);
    assert_eq!(db.read(|tx| tx.list_objectives(&o.id, Some(&c.id))).unwrap(), vec![parent.clone(), child.clone()]);
    assert_eq!(db.read(|tx| tx.key_result(&o.id, &k.id)).unwrap().unwrap(), k);
    assert_eq!(db.read(|tx| tx.list_key_results(&o.id, Some(&c.id))).unwrap(), vec![k.clone()]);
    let parents = db.read(|tx| tx.objective_parents(&o.id)).unwrap();
    assert_eq!(parents[&child.id], Some(parent.id.clone()));

    let mut changed = child.clone();
    changed.contributor_ids = vec!["c".into()];
    changed.status = ObjectiveStatus::AtRisk;
    changed.team = None;
    db.write(|tx| tx.update_objective(&changed)).unwrap();
    assert_eq!(db.read(|tx| tx.objective(&o.id, &child.id)).unwrap().unwrap(), changed);

    k.current = 500.5;
    k.archived = true;
    db.write(|tx| tx.update_key_result(&k)).unwrap();
    assert_eq!(db.read(|tx| tx.key_results_of(&o.id, &child.id)).unwrap(), vec![k.clone()]);

    let ci = CheckIn {
        id: new_id(),
        org_id: o.id.clone(),
        key_result_id: k.id.clone(),
        member_id: "owner".into(),
        value: 500.5,
        confidence: "7".into(),
        note: "halfway".into(),
        late: false,
        created_at: 10,
    };
    db.write(|tx| tx.insert_check_in(&ci)).unwrap();
    assert_eq!(db.read(|tx| tx.check_ins(&o.id, &k.id)).unwrap(), vec![ci]);

    c.state = CycleState::Closed;
    c.closed_at = Some(20);
    db.write(|tx| tx.update_cycle(&c)).unwrap();
    assert_eq!(db.read(|tx| tx.list_cycles(&o.id)).unwrap(), vec![c.clone()]);

    let g = Grade {
        cycle_id: c.id.clone(),
        subject: "key_result".into(),
        subject_id: k.id.clone(),
        progress: 0.5,
        grade: 0.5,
        created_at: 20,
    };
    assert!(db.write(|tx| tx.insert_grade(&o.id, &g)).unwrap());
    let again = Grade { progress: 0.9, grade: 0.9, ..g.clone() };
    assert!(!db.write(|tx| tx.insert_grade(&o.id, &again)).unwrap(), "a second grade is ignored");
    assert_eq!(db.read(|tx| tx.grades_of_cycle(&o.id, &c.id)).unwrap(), vec![g]);

    let s = OkrSettings { allow_over_achievement: true, allow_late_check_ins: false };
    assert_eq!(db.read(|tx| tx.okr_settings(&o.id)).unwrap(), OkrSettings::default());
    db.write(|tx| tx.put_okr_settings(&o.id, &s, 5)).unwrap();
    db.write(|tx| tx.put_okr_settings(&o.id, &s, 6)).unwrap();
    assert_eq!(db.read(|tx| tx.okr_settings(&o.id)).unwrap(), s);
}

fn kpi_values_are_one_per_date_and_later_replaces(db: &TestDb) {
    let o = org(db, "acme");
    let k = Kpi {
        id: new_id(),
        org_id: o.id.clone(),
        name: "NPS".into(),
        unit: "".into(),
        direction: KpiDirection::Higher,
        target: Some(50.0),
        warning: Some(30.0),
        critical: None,
        cadence: Cadence::Weekly,
        owner_id: "owner".into(),
        created_at: 1,
        updated_at: 1,
    };
    db.write(|tx| tx.insert_kpi(&k)).unwrap();
    assert_eq!(db.read(|tx| tx.kpi(&o.id, &k.id)).unwrap().unwrap(), k);
    db.write(|tx| {
        tx.put_kpi_value(&o.id, &k.id, "2026-03-29", 10.0, 1)?;
        tx.put_kpi_value(&o.id, &k.id, "2026-03-28", 9.0, 1)?;
        tx.put_kpi_value(&o.id, &k.id, "2026-03-29", 12.5, 2)
    })
    .unwrap();
    let values: Vec<(String, f64)> =
        db.read(|tx| tx.kpi_values(&o.id, &k.id)).unwrap().into_iter().map(|v| (v.date, v.value)).collect();
    assert_eq!(values, vec![("2026-03-28".into(), 9.0), ("2026-03-29".into(), 12.5)]);
    assert_eq!(db.read(|tx| tx.list_kpis(&o.id)).unwrap(), vec![k]);
}

fn okr_queries_never_cross_tenants(db: &TestDb) {
    let a = org(db, "a");
    let b = org(db, "b");
    let c = cycle(&a);
    let obj = objective(&a, &c, None);
    let k = kr(&a, &obj);
    db.write(|tx| {
        tx.insert_cycle(&c)?;
        tx.insert_objective(&obj)?;
        tx.insert_key_result(&k)
    })
    .unwrap();
    assert!(db.read(|tx| tx.cycle(&b.id, &c.id)).unwrap().is_none());
    assert!(db.read(|tx| tx.objective(&b.id, &obj.id)).unwrap().is_none());
    assert!(db.read(|tx| tx.key_result(&b.id, &k.id)).unwrap().is_none());
    assert!(db.read(|tx| tx.list_objectives(&b.id, None)).unwrap().is_empty());
    assert!(db.read(|tx| tx.list_key_results(&b.id, None)).unwrap().is_empty());
    assert!(db.read(|tx| tx.list_cycles(&b.id)).unwrap().is_empty());
}

backend_tests!(okrs_round_trip, kpi_values_are_one_per_date_and_later_replaces, okr_queries_never_cross_tenants);
