//! OKRs and KPIs through the API, on SQLite and PostgreSQL: cycles,
//! objectives and the alignment tree, key results and their progress,
//! check-ins and who may make them, closing a cycle (twice), late check-ins,
//! KPIs across a DST change, KPI-driven key results, CSV upload, and tenant
//! isolation. Every refusal is shown to change nothing.

mod common;

use common::points::*;
use common::*;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn pct(v: &Value) -> f64 {
    (v["progress"].as_f64().expect("progress") * 10_000.0).round() / 100.0
}

struct Okr {
    team: Team,
    cycle: String,
}

impl Okr {
    fn new(db: &TestDb, slug: &str) -> Okr {
        let team = Team::new(db, slug);
        let c = team
            .t
            .post(
                &team.org.auth,
                "/api/v1/cycles",
                &json!({"kind": "custom", "name": "Spring", "start_date": "2026-03-01", "end_date": "2026-05-01", "state": "active"}),
            )
            .ok(201);
        Okr { cycle: id(&c), team }
    }

    fn admin(&self) -> &Auth {
        &self.team.org.auth
    }

    #[track_caller]
    fn objective(&self, auth: &Auth, body: Value) -> Value {
        let mut b = json!({"cycle_id": self.cycle, "title": "Delight customers"});
        for (k, v) in body.as_object().unwrap() {
            b[k] = v.clone();
        }
        self.team.t.post(auth, "/api/v1/objectives", &b).ok(201)
    }

    #[track_caller]
    fn kr(&self, auth: &Auth, objective: &str, body: Value) -> Value {
        self.team.t.post(auth, &format!("/api/v1/objectives/{objective}/key_results"), &body).ok(201)
    }

    fn check_in(&self, auth: &Auth, kr: &str, body: Value) -> Resp {
        self.team.t.post(auth, &format!("/api/v1/key_results/{kr}/check_ins"), &body)
    }

    #[track_caller]
    fn get_objective(&self, auth: &Auth, id: &str) -> Value {
        self.team.t.get(auth, &format!("/api/v1/objectives/{id}")).ok(200)
    }

    #[track_caller]
    fn get_kr(&self, id: &str) -> Value {
        self.team.t.get(self.admin(), &format!("/api/v1/key_results/{id}")).ok(200)
    }
}

fn cycles_are_quarters_years_or_custom_and_move_forward(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let t = &o.team.t;
    let q = t.post(o.admin(), "/api/v1/cycles", &json!({"kind": "quarter", "year": 2027, "quarter": 4})).ok(201);
    assert_eq!(
        (q["name"].as_str(), q["start_date"].as_str(), q["end_date"].as_str()),
        (Some("Q4 2027"), Some("2027-10-01"), Some("2028-01-01"))
    );
    assert_eq!(q["state"], "planning");
    let y = t.post(o.admin(), "/api/v1/cycles", &json!({"kind": "year", "year": 2027})).ok(201);
    assert_eq!((y["start_date"].as_str(), y["end_date"].as_str()), (Some("2027-01-01"), Some("2028-01-01")));
    t.post(
        o.admin(),
        "/api/v1/cycles",
        &json!({"kind": "custom", "start_date": "2026-05-01", "end_date": "2026-05-01"}),
    )
    .problem(422, "validation_failed");
    t.post(&o.team.ana.auth, "/api/v1/cycles", &json!({"kind": "year", "year": 2028})).problem(403, "not_permitted");
    let qid = id(&q);
    t.patch(o.admin(), &format!("/api/v1/cycles/{qid}"), &json!({"state": "active"})).ok(200);
    t.patch(o.admin(), &format!("/api/v1/cycles/{qid}"), &json!({"state": "planning"}))
        .problem(422, "invalid_transition");
    assert_eq!(t.get(o.admin(), &format!("/api/v1/cycles/{qid}")).ok(200)["state"], "active");
    assert_eq!(t.get(&o.team.ana.auth, "/api/v1/cycles").ok(200)["items"].as_array().unwrap().len(), 3);
}

fn progress_of_increasing_and_decreasing_key_results(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let obj = o.objective(o.admin(), json!({"level": "company"}));
    let oid = id(&obj);
    assert_eq!(pct(&obj), 0.0);
    let latency = o.kr(o.admin(), &oid, json!({"title": "p95 latency", "start": 800, "target": 200, "unit": "ms"}));
    assert_eq!((latency["direction"].as_str(), latency["current"].as_i64()), (Some("decreasing"), Some(800)));
    let kid = id(&latency);
    for (value, expected, flagged) in [(500, 50.0, false), (900, 0.0, true), (150, 100.0, false)] {
        let ci = o.check_in(o.admin(), &kid, json!({"value": value, "confidence": 7})).ok(201);
        assert_eq!(ci["confidence"], 7);
        let kr = &ci["key_result"];
        assert_eq!((pct(kr), kr["beyond_start"].as_bool()), (expected, Some(flagged)), "at {value}");
        assert_eq!(kr["current"], value);
    }
    // With over-achievement on, 150 reads 108.33 %.
    o.team.t.patch(o.admin(), "/api/v1/okr_settings", &json!({"allow_over_achievement": true})).ok(200);
    assert_eq!(pct(&o.get_kr(&kid)), 108.33);
    o.team.t.patch(o.admin(), "/api/v1/okr_settings", &json!({"allow_over_achievement": false})).ok(200);

    // Half of an increasing KR and half of a decreasing one make half.
    let half = o.objective(o.admin(), json!({"title": "Balanced"}));
    let hid = id(&half);
    o.kr(o.admin(), &hid, json!({"title": "signups", "start": 0, "target": 100, "current": 50}));
    o.kr(o.admin(), &hid, json!({"title": "latency", "start": 800, "target": 200, "current": 500}));
    assert_eq!(pct(&o.get_objective(o.admin(), &hid)), 50.0);

    // Milestones, percents and currency.
    let m = o.kr(o.admin(), &hid, json!({"title": "launch", "kind": "milestone"}));
    assert_eq!((m["start"].as_i64(), m["target"].as_i64(), pct(&m)), (Some(0), Some(1), 0.0));
    let done = o.check_in(o.admin(), &id(&m), json!({"value": 1})).ok(201);
    assert_eq!(pct(&done["key_result"]), 100.0);
    o.check_in(o.admin(), &id(&m), json!({"value": 0.5})).problem(422, "validation_failed");
    let money = o.kr(
        o.admin(),
        &hid,
        json!({"title": "revenue", "kind": "currency", "start": 0, "target": 1000000, "unit": "USD"}),
    );
    assert_eq!(money["target"], 1000000);
    o.check_in(o.admin(), &id(&money), json!({"value": 10.5})).problem(422, "validation_failed");
}

fn refused_key_results_and_check_ins_change_nothing(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let (ana, bob, cy) = (&o.team.ana, &o.team.bob, &o.team.cy);
    let obj = o.objective(&ana.auth, json!({"contributor_ids": [bob.id]}));
    let oid = id(&obj);
    assert_eq!(obj["owner_id"], ana.id.as_str());
    let before = o.get_objective(o.admin(), &oid);
    let e = o.team.t.post(
        &ana.auth,
        &format!("/api/v1/objectives/{oid}/key_results"),
        &json!({"title": "x", "start": 5, "target": 5}),
    );
    assert_eq!(e.problem(422, "start_equals_target")["field"], "target");
    o.team
        .t
        .post(
            &ana.auth,
            &format!("/api/v1/objectives/{oid}/key_results"),
            &json!({"title": "x", "start": 0, "target": 10, "weight": 0}),
        )
        .problem(422, "validation_failed");
    o.team
        .t
        .post(
            &cy.auth,
            &format!("/api/v1/objectives/{oid}/key_results"),
            &json!({"title": "x", "start": 0, "target": 10}),
        )
        .problem(403, "not_permitted");
    assert_eq!(o.get_objective(o.admin(), &oid)["key_results"], before["key_results"], "nothing was added");

    let kr = o.kr(&ana.auth, &oid, json!({"title": "calls", "start": 0, "target": 10}));
    let kid = id(&kr);
    // Contributors, the owner and admins check in; anyone else is refused.
    o.check_in(&bob.auth, &kid, json!({"value": 2, "confidence": "at_risk", "note": "slow start"})).ok(201);
    let snapshot = o.get_objective(o.admin(), &oid);
    assert_eq!(snapshot["status"], "at_risk", "the objective's status follows the check-in");
    o.check_in(&cy.auth, &kid, json!({"value": 9})).problem(403, "not_permitted");
    o.check_in(&ana.auth, &kid, json!({"value": 9, "confidence": 11})).problem(422, "validation_failed");
    o.check_in(&ana.auth, &kid, json!({"value": 9, "confidence": "great"})).problem(422, "validation_failed");
    assert_eq!(o.get_objective(o.admin(), &oid), snapshot, "refused check-ins change nothing");
    o.check_in(&ana.auth, &kid, json!({"value": 6, "confidence": 8})).ok(201);
    o.check_in(o.admin(), &kid, json!({"value": 7})).ok(201);
    let history = o.team.t.get(&cy.auth, &format!("/api/v1/key_results/{kid}/check_ins")).ok(200);
    let values: Vec<i64> = history["items"].as_array().unwrap().iter().map(|c| c["value"].as_i64().unwrap()).collect();
    assert_eq!(values, [7, 6, 2], "history kept, newest first");
    let obj = o.get_objective(&cy.auth, &oid);
    assert_eq!((obj["status"].as_str(), pct(&obj)), (Some("on_track"), 70.0));
    let kr = &obj["key_results"][0];
    assert_eq!(kr["check_ins"].as_array().unwrap().len(), 3);
    assert!(kr["forecast"].is_object(), "three check-ins make a trend: {kr}");

    // Members may not set company objectives nor objectives for others.
    o.team
        .t
        .post(&cy.auth, "/api/v1/objectives", &json!({"cycle_id": o.cycle, "title": "x", "level": "company"}))
        .problem(403, "not_permitted");
    o.team
        .t
        .post(&cy.auth, "/api/v1/objectives", &json!({"cycle_id": o.cycle, "title": "x", "owner_id": ana.id}))
        .problem(403, "not_permitted");
    o.team
        .t
        .post(&cy.auth, "/api/v1/objectives", &json!({"cycle_id": o.cycle, "title": "x", "level": "team"}))
        .problem(422, "validation_failed");
    let unknown = json!({"cycle_id": o.cycle, "title": "x", "level": "team", "team": "Marketing"});
    o.team.t.post(&cy.auth, "/api/v1/objectives", &unknown).problem(422, "unknown_team");
}

fn rollup_weights_and_archived_key_results(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let oid = id(&o.objective(o.admin(), json!({})));
    o.kr(o.admin(), &oid, json!({"title": "a", "start": 0, "target": 10, "current": 10, "weight": 2}));
    o.kr(o.admin(), &oid, json!({"title": "b", "start": 0, "target": 10, "current": 4, "weight": 1}));
    let c = o.kr(o.admin(), &oid, json!({"title": "c", "start": 0, "target": 10, "current": 0, "weight": 5}));
    o.team.t.patch(o.admin(), &format!("/api/v1/key_results/{}", id(&c)), &json!({"archived": true})).ok(200);
    let obj = o.get_objective(o.admin(), &oid);
    assert_eq!(pct(&obj), 80.0);
    assert_eq!((obj["key_results_done"].as_i64(), obj["key_results_total"].as_i64()), (Some(1), Some(2)));
}

fn the_alignment_tree_rolls_up_across_cycles_and_refuses_loops(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let t = &o.team.t;
    let year =
        id(&t.post(o.admin(), "/api/v1/cycles", &json!({"kind": "year", "year": 2026, "state": "active"})).ok(201));
    let company = o.objective(o.admin(), json!({"cycle_id": year, "level": "company", "title": "Win the year"}));
    let cid = id(&company);
    let sales = o.objective(o.admin(), json!({"level": "team", "team": "Sales", "parent_id": cid, "title": "Sales"}));
    let rnd = o.objective(o.admin(), json!({"level": "team", "team": "R&D", "parent_id": cid, "title": "R&D"}));
    let mine = o.objective(&o.team.ana.auth, json!({"parent_id": id(&rnd), "title": "Mine"}));
    o.kr(o.admin(), &id(&sales), json!({"title": "deals", "start": 0, "target": 10, "current": 6}));
    o.kr(o.admin(), &id(&mine), json!({"title": "bugs", "start": 100, "target": 0, "current": 80}));
    let tree = t.get(o.admin(), &format!("/api/v1/objectives/tree?cycle={}", o.cycle)).ok(200);
    let items = tree["items"].as_array().unwrap();
    let titles: Vec<(&str, i64, f64)> =
        items.iter().map(|i| (i["title"].as_str().unwrap(), i["depth"].as_i64().unwrap(), pct(i))).collect();
    assert_eq!(titles, [("Win the year", 0, 40.0), ("Sales", 1, 60.0), ("R&D", 1, 20.0), ("Mine", 2, 20.0)]);
    assert_eq!(pct(&o.get_objective(o.admin(), &cid)), 40.0);
    // A quarter objective cannot hold the yearly one, and no loops.
    t.patch(o.admin(), &format!("/api/v1/objectives/{cid}"), &json!({"parent_id": id(&mine)}))
        .problem(422, "parent_cycle_too_short");
    t.patch(o.admin(), &format!("/api/v1/objectives/{}", id(&rnd)), &json!({"parent_id": id(&mine)}))
        .problem(422, "alignment_cycle");
    assert_eq!(o.get_objective(o.admin(), &id(&rnd))["parent_id"], cid.as_str(), "the refused move changed nothing");
    t.get(o.admin(), "/api/v1/objectives/tree").problem(422, "validation_failed");

    // Private objectives are hidden from others (404), shown to their people.
    let private = o.objective(&o.team.ana.auth, json!({"visibility": "private", "title": "Secret"}));
    t.get(&o.team.bob.auth, &format!("/api/v1/objectives/{}", id(&private))).problem(404, "not_found");
    t.get(o.admin(), &format!("/api/v1/objectives/{}", id(&private))).ok(200);
    let bobs = t.get(&o.team.bob.auth, &format!("/api/v1/objectives?cycle={}", o.cycle)).ok(200);
    assert!(bobs["items"].as_array().unwrap().iter().all(|i| i["title"] != "Secret"));
}

fn closing_a_cycle_freezes_grades_once_and_late_check_ins_follow_the_policy(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let t = &o.team.t;
    let oid = id(&o.objective(o.admin(), json!({})));
    let kid = id(&o.kr(o.admin(), &oid, json!({"title": "a", "start": 0, "target": 10, "current": 7})));
    t.post(&o.team.ana.auth, &format!("/api/v1/cycles/{}/close", o.cycle), &json!({})).problem(403, "not_permitted");
    let closed = t.post(o.admin(), &format!("/api/v1/cycles/{}/close", o.cycle), &json!({})).ok(200);
    assert_eq!(closed["state"], "closed");
    let obj = o.get_objective(o.admin(), &oid);
    assert_eq!((pct(&obj), obj["grade"].as_f64()), (70.0, Some(0.7)));
    assert_eq!(obj["key_results"][0]["grade"].as_f64(), Some(0.7));
    let again = t.post(o.admin(), &format!("/api/v1/cycles/{}/close", o.cycle), &json!({})).ok(200);
    assert_eq!(again, closed, "closing twice changes nothing");
    assert_eq!(o.get_objective(o.admin(), &oid), obj);

    // Late check-ins are refused by default and change nothing.
    o.check_in(o.admin(), &kid, json!({"value": 10})).problem(409, "cycle_closed");
    assert_eq!(o.get_objective(o.admin(), &oid), obj);
    t.post(
        o.admin(),
        &format!("/api/v1/objectives/{oid}/key_results"),
        &json!({"title": "b", "start": 0, "target": 1}),
    )
    .problem(409, "cycle_closed");
    t.patch(o.admin(), &format!("/api/v1/objectives/{oid}"), &json!({"title": "new"})).problem(409, "cycle_closed");
    // Allowed, they are kept but the grade and progress stay frozen.
    t.patch(o.admin(), "/api/v1/okr_settings", &json!({"allow_late_check_ins": true})).ok(200);
    let late = o.check_in(o.admin(), &kid, json!({"value": 10})).ok(201);
    assert_eq!(late["late"], true);
    let after = o.get_objective(o.admin(), &oid);
    assert_eq!((pct(&after), after["grade"].as_f64()), (70.0, Some(0.7)));
    assert_eq!(after["key_results"][0]["current"], 10);
    assert_eq!(after["key_results"][0]["check_ins"].as_array().unwrap().len(), 1);
}

fn kpis_across_dst_replace_same_date_and_drive_key_results(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let t = &o.team.t;
    let kpi = t
        .post(o.admin(), "/api/v1/kpis", &json!({"name": "p95 latency", "unit": "ms", "direction": "lower", "warning": 400, "critical": 600, "cadence": "daily"}))
        .ok(201);
    assert_eq!(kpi["status"], "stale", "no value yet");
    let kpi_id = id(&kpi);
    t.post(o.admin(), "/api/v1/kpis", &json!({"name": "x", "direction": "lower", "warning": 600, "critical": 400}))
        .problem(422, "validation_failed");
    t.post(&o.team.ana.auth, "/api/v1/kpis", &json!({"name": "x"})).problem(403, "not_permitted");

    // Oslo moves to summer time at 01:00 UTC on Sunday 29 March 2026.
    let r = t
        .post(
            o.admin(),
            &format!("/api/v1/kpis/{kpi_id}/values"),
            &json!({"values": [
                {"time": "2026-03-28T22:59:00Z", "value": 700},
                {"time": "2026-03-28T23:00:00Z", "value": 650},
                {"time": "2026-03-29T21:59:00Z", "value": 640},
                {"time": "2026-03-29T22:00:00Z", "value": 500},
            ]}),
        )
        .ok(200);
    assert_eq!(r["dates"], json!(["2026-03-28", "2026-03-29", "2026-03-30"]));
    let values = t.get(o.admin(), &format!("/api/v1/kpis/{kpi_id}/values")).ok(200);
    let got: Vec<(String, i64)> = values["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["date"].as_str().unwrap().to_string(), v["value"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, [("2026-03-30".into(), 500), ("2026-03-29".into(), 640), ("2026-03-28".into(), 700)]);
    // A later post for the same date replaces it; a bad batch writes nothing.
    t.post(o.admin(), &format!("/api/v1/kpis/{kpi_id}/values"), &json!([{"date": "2026-03-29", "value": 610}])).ok(200);
    t.post(
        o.admin(),
        &format!("/api/v1/kpis/{kpi_id}/values"),
        &json!([{"date": "2026-03-31", "value": 1}, {"date": "31/03", "value": 2}]),
    )
    .problem(422, "validation_failed");
    let values = t.get(o.admin(), &format!("/api/v1/kpis/{kpi_id}/values")).ok(200);
    assert_eq!(values["items"].as_array().unwrap().len(), 3);
    assert_eq!(values["items"][1]["value"], 610);
    let first = t.get(o.admin(), &format!("/api/v1/kpis/{kpi_id}/values?limit=2")).ok(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next_cursor"], "2026-03-29");
    let rest = t.get(o.admin(), &format!("/api/v1/kpis/{kpi_id}/values?limit=2&cursor=2026-03-29")).ok(200);
    assert_eq!((rest["items"][0]["date"].as_str(), rest["next_cursor"].is_null()), (Some("2026-03-28"), true));

    // "Improve this KPI": the KR starts at the KPI's current value (500) and follows it.
    let oid = id(&o.objective(o.admin(), json!({})));
    let kr = t
        .post(o.admin(), &format!("/api/v1/kpis/{kpi_id}/key_results"), &json!({"objective_id": oid, "target": 200}))
        .ok(201);
    assert_eq!(
        (kr["start"].as_i64(), kr["current"].as_i64(), kr["kpi_id"].as_str()),
        (Some(500), Some(500), Some(kpi_id.as_str()))
    );
    // Times are in milliseconds: let one pass, so the change's time differs.
    std::thread::sleep(std::time::Duration::from_millis(3));
    let r = t
        .post(
            o.admin(),
            &format!("/api/v1/kpis/{kpi_id}/values"),
            &json!({"values": [{"date": "2026-04-02", "value": 350}]}),
        )
        .ok(200);
    assert_eq!(r["key_results_updated"], 1);
    let followed = o.get_kr(&id(&kr));
    assert_eq!((followed["current"].as_i64(), pct(&followed)), (Some(350), 50.0));
    assert_ne!(followed["current_changed_at"], kr["current_changed_at"]);
    // Values outside the cycle do not move it.
    t.post(
        o.admin(),
        &format!("/api/v1/kpis/{kpi_id}/values"),
        &json!({"values": [{"date": "2026-06-01", "value": 100}]}),
    )
    .ok(200);
    assert_eq!(o.get_kr(&id(&kr))["current"], 350);
    // A linked KR (kpi_id on create) takes the latest value within the cycle.
    let linked = o.kr(o.admin(), &oid, json!({"title": "linked", "start": 800, "target": 200, "kpi_id": kpi_id}));
    assert_eq!(linked["current"], 350);

    // CSV: good rows are taken, bad rows reported by line.
    let csv = b"date,value\n2026-04-03,300\nnot-a-date,1\n2026-04-04,abc\n2026-04-05,\n2026-04-06,250\n";
    let r = t.post_csv(o.admin(), &format!("/api/v1/kpis/{kpi_id}/values"), csv).ok(200);
    assert_eq!(r["accepted"], 2);
    let lines: Vec<i64> = r["errors"].as_array().unwrap().iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(o.get_kr(&id(&kr))["current"], 250);
    // Status by thresholds: the newest value (June, 100 ms) is long past → stale now.
    assert_eq!(t.get(o.admin(), &format!("/api/v1/kpis/{kpi_id}")).ok(200)["status"], "stale");
}

fn recognitions_may_name_a_key_result_of_the_org(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let oid = id(&o.objective(o.admin(), json!({})));
    let kid = id(&o.kr(o.admin(), &oid, json!({"title": "a", "start": 0, "target": 10})));
    let other = Okr::new(db, "other");
    let foreign = id(&other.kr(
        other.admin(),
        &id(&other.objective(other.admin(), json!({}))),
        json!({"title": "f", "start": 0, "target": 1}),
    ));
    let (ana, bob) = (&o.team.ana, &o.team.bob);
    o.team
        .give(ana, json!({"recipients": [bob.id], "points": 5, "message": "thanks", "key_result_id": foreign}))
        .problem(422, "unknown_key_result");
    assert_eq!(o.team.remaining(ana), 100, "nothing was spent");
    let post = o
        .team
        .give(ana, json!({"recipients": [bob.id], "points": 5, "message": "thanks", "key_result_id": kid}))
        .ok(201);
    let obj = o.get_objective(o.admin(), &oid);
    assert_eq!(obj["key_results"][0]["recognition_ids"], json!([post["id"]]));
}

fn another_org_sees_nothing(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let t = &o.team.t;
    let oid = id(&o.objective(o.admin(), json!({})));
    let kid = id(&o.kr(o.admin(), &oid, json!({"title": "a", "start": 0, "target": 10})));
    let kpi = id(&t.post(o.admin(), "/api/v1/kpis", &json!({"name": "NPS"})).ok(201));
    let other = t.signup("other");
    let a = &other.auth;
    for path in [
        format!("/api/v1/cycles/{}", o.cycle),
        format!("/api/v1/objectives/{oid}"),
        format!("/api/v1/key_results/{kid}"),
        format!("/api/v1/key_results/{kid}/check_ins"),
        format!("/api/v1/kpis/{kpi}"),
        format!("/api/v1/kpis/{kpi}/values"),
        format!("/api/v1/objectives/tree?cycle={}", o.cycle),
    ] {
        t.get(a, &path).problem(404, "not_found");
    }
    t.post(a, &format!("/api/v1/key_results/{kid}/check_ins"), &json!({"value": 5})).problem(404, "not_found");
    t.patch(a, &format!("/api/v1/key_results/{kid}"), &json!({"title": "x"})).problem(404, "not_found");
    t.patch(a, &format!("/api/v1/objectives/{oid}"), &json!({"title": "x"})).problem(404, "not_found");
    t.post(a, &format!("/api/v1/objectives/{oid}/key_results"), &json!({"title": "x", "start": 0, "target": 1}))
        .problem(404, "not_found");
    t.post(a, &format!("/api/v1/cycles/{}/close", o.cycle), &json!({})).problem(404, "not_found");
    t.post(a, &format!("/api/v1/kpis/{kpi}/values"), &json!({"values": [{"date": "2026-01-01", "value": 1}]}))
        .problem(404, "not_found");
    t.post(a, "/api/v1/objectives", &json!({"cycle_id": o.cycle, "title": "x"})).problem(422, "unknown_cycle");
    for list in ["/api/v1/cycles", "/api/v1/objectives", "/api/v1/kpis"] {
        assert!(t.get(a, list).ok(200)["items"].as_array().unwrap().is_empty(), "{list}");
    }
    assert_eq!(o.get_kr(&kid)["title"], "a");
    assert_eq!(o.get_kr(&kid)["check_in_count"], 0);
}

// ------------------------------------------------------------------ pages

fn form(t: &TestApp, auth: &Auth, path: &str, body: &str) -> Resp {
    t.request(axum::http::Method::POST, path, auth, Some("application/x-www-form-urlencoded"), body.as_bytes().to_vec())
}

fn pages_check_in_with_csrf_and_hide_other_orgs(db: &TestDb) {
    let o = Okr::new(db, "acme");
    let t = &o.team.t;
    let admin = o.admin().clone();
    let oid = id(&o.objective(&admin, json!({"title": "Page objective"})));
    let kid = id(&o.kr(&admin, &oid, json!({"title": "Calls made", "start": 0, "target": 10})));
    let page = t.get(&admin, &format!("/okrs/objectives/{oid}"));
    assert_eq!(page.status.as_u16(), 200);
    let html = page.text();
    assert!(html.contains("Page objective") && html.contains("Calls made") && html.contains("data-percent=\"0\""));
    let overview = t.get(&admin, &format!("/okrs?cycle={}", o.cycle)).text();
    assert!(overview.contains("Page objective"), "the tree lists it");

    // Without the form's CSRF token nothing happens.
    let refused = form(t, &admin, &format!("/okrs/key_results/{kid}/check_ins"), "csrf=wrong&value=5");
    assert_eq!(refused.status.as_u16(), 403);
    assert_eq!(o.get_kr(&kid)["current"], 0);
    // A bad value shows the form again with the error; nothing changes.
    let bad =
        form(t, &admin, &format!("/okrs/key_results/{kid}/check_ins"), &format!("csrf={}&value=lots", csrf_of(&admin)));
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.text().contains("Enter a number"), "{}", bad.text());
    assert_eq!(o.get_kr(&kid)["check_in_count"], 0);
    let ok = form(
        t,
        &admin,
        &format!("/okrs/key_results/{kid}/check_ins"),
        &format!("csrf={}&value=5&confidence=at_risk&note=half", csrf_of(&admin)),
    );
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.text());
    assert_eq!(o.get_kr(&kid)["current"], 5);
    let html = t.get(&admin, &format!("/okrs/objectives/{oid}")).text();
    assert!(html.contains("data-percent=\"50\"") && html.contains("<svg"), "bar and chart");

    // Another organisation's admin gets a 404 page.
    let other = t.signup("other");
    assert_eq!(t.get(&other.auth, &format!("/okrs/objectives/{oid}")).status.as_u16(), 404);
    let foreign = form(
        t,
        &other.auth,
        &format!("/okrs/key_results/{kid}/check_ins"),
        &format!("csrf={}&value=9", csrf_of(&other.auth)),
    );
    assert_eq!(foreign.status.as_u16(), 404);
    assert_eq!(o.get_kr(&kid)["current"], 5);

    // The OKR settings form (admins only).
    let saved = form(t, &admin, "/okrs/settings", &format!("csrf={}&allow_over_achievement=on", csrf_of(&admin)));
    assert_eq!(saved.status.as_u16(), 303);
    let s = t.get(&admin, "/api/v1/okr_settings").ok(200);
    assert_eq!((s["allow_over_achievement"].as_bool(), s["allow_late_check_ins"].as_bool()), (Some(true), Some(false)));
    let (_, member) = t.member_session(&admin, "acme", "dee@acme.example", "member");
    let refused = form(t, &member, "/okrs/settings", &format!("csrf={}&allow_late_check_ins=on", csrf_of(&member)));
    assert_eq!(refused.status.as_u16(), 403);
    assert_eq!(t.get(&admin, "/api/v1/okr_settings").ok(200)["allow_late_check_ins"], false);
    let other_settings = form(t, &other.auth, "/okrs/settings", &format!("csrf={}", csrf_of(&other.auth)));
    assert_eq!(other_settings.status.as_u16(), 303, "their own org's settings");
    assert_eq!(t.get(&admin, "/api/v1/okr_settings").ok(200)["allow_over_achievement"], true, "ours are untouched");

    // KPI pages: the dashboard and a CSV upload's row report.
    let kpi = id(&t.post(&admin, "/api/v1/kpis", &json!({"name": "NPS", "warning": 20, "critical": 0})).ok(201));
    assert!(t.get(&admin, "/kpis").text().contains("NPS"));
    assert_eq!(t.get(&other.auth, &format!("/kpis/{kpi}")).status.as_u16(), 404);
}

backend_tests!(
    cycles_are_quarters_years_or_custom_and_move_forward,
    progress_of_increasing_and_decreasing_key_results,
    refused_key_results_and_check_ins_change_nothing,
    rollup_weights_and_archived_key_results,
    the_alignment_tree_rolls_up_across_cycles_and_refuses_loops,
    closing_a_cycle_freezes_grades_once_and_late_check_ins_follow_the_policy,
    kpis_across_dst_replace_same_date_and_drive_key_results,
    recognitions_may_name_a_key_result_of_the_org,
    another_org_sees_nothing,
    pages_check_in_with_csrf_and_hide_other_orgs,
);
