//! Reward storage on SQLite and PostgreSQL: conditional stock, re-pricing,
//! the redemption transition guard, the per-member count, statement lines
//! and tenant scoping.

use plaudit_domain::org::{Org, Plan};
use plaudit_domain::rewards::{Redemption, RedemptionStatus, Reward, RewardKind, StatementLine};
use plaudit_store::testing::TestDb;
use plaudit_store::{backend_tests, new_id, RedemptionFilter};

fn setup(db: &TestDb, slug: &str) -> Org {
    let o = Org {
        point_value_minor: Some(10),
        money_currency: Some("EUR".into()),
        ..Org::with_defaults(
            new_id(),
            slug.to_string(),
            format!("Org {slug}"),
            "Europe/Oslo".to_string(),
            Plan::Paid,
            1,
        )
    };
    db.write(|tx| tx.insert_org(&o)).unwrap();
    o
}

fn reward(org: &Org, name: &str, stock: Option<i64>, face: Option<i64>) -> Reward {
    Reward {
        id: new_id(),
        org_id: org.id.clone(),
        kind: if face.is_some() { RewardKind::GiftCard } else { RewardKind::Culture },
        name: name.into(),
        description: String::new(),
        cost_points: face.map_or(10, |f| (f + 9) / 10),
        face_value_minor: face,
        currency: face.map(|_| "EUR".to_string()),
        stock,
        per_member_monthly_limit: None,
        requires_approval: true,
        archived: false,
        image_type: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn redemption(org: &Org, reward: &Reward, member: &str, status: RedemptionStatus) -> Redemption {
    Redemption {
        id: new_id(),
        org_id: org.id.clone(),
        reward_id: reward.id.clone(),
        member_id: member.into(),
        points: reward.cost_points,
        status,
        face_value_minor: reward.face_value_minor,
        currency: reward.currency.clone(),
        code: None,
        note: None,
        reason: None,
        created_at: 1,
        updated_at: 1,
        fulfilled_at: None,
        fulfilled_month: None,
        member_seen: true,
    }
}

fn stock_moves_only_while_there_is_some(db: &TestDb) {
    let o = setup(db, "acme");
    let one = reward(&o, "Last one", Some(1), None);
    let unlimited = reward(&o, "Plenty", None, None);
    db.write(|tx| {
        tx.insert_reward(&one)?;
        tx.insert_reward(&unlimited)
    })
    .unwrap();
    assert!(db.write(|tx| tx.take_stock(&o.id, &one.id)).unwrap());
    assert!(!db.write(|tx| tx.take_stock(&o.id, &one.id)).unwrap(), "no second item");
    assert_eq!(db.read(|tx| tx.reward_by_id(&o.id, &one.id)).unwrap().unwrap().stock, Some(0));
    db.write(|tx| tx.release_stock(&o.id, &one.id)).unwrap();
    assert_eq!(db.read(|tx| tx.reward_by_id(&o.id, &one.id)).unwrap().unwrap().stock, Some(1));
    for _ in 0..3 {
        assert!(db.write(|tx| tx.take_stock(&o.id, &unlimited.id)).unwrap());
    }
    db.write(|tx| tx.release_stock(&o.id, &unlimited.id)).unwrap();
    assert_eq!(db.read(|tx| tx.reward_by_id(&o.id, &unlimited.id)).unwrap().unwrap().stock, None);
    // Another organisation cannot take it.
    let other = setup(db, "other");
    assert!(!db.write(|tx| tx.take_stock(&other.id, &one.id)).unwrap());
    assert!(db.read(|tx| tx.reward_by_id(&other.id, &one.id)).unwrap().is_none());
}

fn repricing_rounds_up_and_leaves_culture_rewards_alone(db: &TestDb) {
    let o = setup(db, "acme");
    let card = reward(&o, "Card", None, Some(2500));
    let lunch = reward(&o, "Lunch", None, None);
    db.write(|tx| {
        tx.insert_reward(&card)?;
        tx.insert_reward(&lunch)
    })
    .unwrap();
    assert_eq!(db.write(|tx| tx.reprice_rewards(&o.id, "EUR", 7, 5)).unwrap(), 1);
    let got = db.read(|tx| tx.reward_by_id(&o.id, &card.id)).unwrap().unwrap();
    assert_eq!((got.cost_points, got.updated_at), (358, 5));
    assert_eq!(db.read(|tx| tx.reward_by_id(&o.id, &lunch.id)).unwrap().unwrap().cost_points, 10);
    assert_eq!(db.write(|tx| tx.reprice_rewards(&o.id, "USD", 1, 6)).unwrap(), 0, "other currencies stay");
}

fn transitions_are_guarded_and_counted(db: &TestDb) {
    let o = setup(db, "acme");
    let w = reward(&o, "Book", None, None);
    db.write(|tx| tx.insert_reward(&w)).unwrap();
    let mut r = redemption(&o, &w, "m1", RedemptionStatus::Pending);
    let declined = redemption(&o, &w, "m1", RedemptionStatus::Declined);
    db.write(|tx| {
        tx.insert_redemption(&r, "2026-11")?;
        tx.insert_redemption(&declined, "2026-11")?;
        tx.insert_redemption(&redemption(&o, &w, "m1", RedemptionStatus::Fulfilled), "2026-10")
    })
    .unwrap();
    assert_eq!(
        db.read(|tx| tx.count_redemptions(&o.id, "m1", &w.id, "2026-11")).unwrap(),
        1,
        "declined ones do not count"
    );
    r.status = RedemptionStatus::Fulfilled;
    r.code = Some("v1:sealed".into());
    r.member_seen = false;
    assert!(db.write(|tx| tx.transition_redemption(&r, RedemptionStatus::Pending)).unwrap());
    assert!(!db.write(|tx| tx.transition_redemption(&r, RedemptionStatus::Pending)).unwrap(), "no longer pending");
    let got = db.read(|tx| tx.redemption_by_id(&o.id, &r.id)).unwrap().unwrap();
    assert_eq!((got.status, got.code.as_deref()), (RedemptionStatus::Fulfilled, Some("v1:sealed")));
    assert_eq!(db.read(|tx| tx.unseen_redemptions(&o.id, "m1")).unwrap(), 1);
    assert_eq!(db.write(|tx| tx.mark_redemptions_seen(&o.id, "m1")).unwrap(), 1);
    let f = RedemptionFilter { member_id: Some("m1".into()), status: Some(RedemptionStatus::Fulfilled) };
    assert_eq!(db.read(|tx| tx.list_redemptions(&o.id, &f, None, 10)).unwrap().len(), 2);
    let page1 = db.read(|tx| tx.list_redemptions(&o.id, &RedemptionFilter::default(), None, 2)).unwrap();
    let page2 = db.read(|tx| tx.list_redemptions(&o.id, &RedemptionFilter::default(), Some(&page1[1].id), 2)).unwrap();
    assert_eq!((page1.len(), page2.len()), (2, 1));
    assert!(page1[0].id > page1[1].id && page1[1].id > page2[0].id, "newest first");
}

fn statement_lines_are_kept_by_month(db: &TestDb) {
    let o = setup(db, "acme");
    let line = |month: &str, v: i64, at: i64| StatementLine {
        id: new_id(),
        org_id: o.id.clone(),
        month: month.into(),
        redemption_id: "r".into(),
        kind: if v < 0 { "refund".into() } else { "charge".into() },
        member_id: "m".into(),
        member_name: "Ana".into(),
        reward_id: "w".into(),
        reward_name: "Card".into(),
        reward_kind: RewardKind::GiftCard,
        face_value_minor: v,
        currency: Some("EUR".into()),
        created_at: at,
    };
    db.write(|tx| {
        tx.insert_statement_line(&line("2026-11", 2500, 2))?;
        tx.insert_statement_line(&line("2026-10", 1000, 1))?;
        tx.insert_statement_line(&line("2026-11", -2500, 3))
    })
    .unwrap();
    let nov = db.read(|tx| tx.statement_lines(&o.id, "2026-11")).unwrap();
    assert_eq!(nov.iter().map(|l| l.face_value_minor).collect::<Vec<_>>(), vec![2500, -2500]);
    assert_eq!(db.read(|tx| tx.statement_lines(&o.id, "2026-10")).unwrap().len(), 1);
    let other = setup(db, "other");
    assert!(db.read(|tx| tx.statement_lines(&other.id, "2026-11")).unwrap().is_empty());
}

backend_tests!(
    stock_moves_only_while_there_is_some,
    repricing_rounds_up_and_leaves_culture_rewards_alone,
    transitions_are_guarded_and_counted,
    statement_lines_are_kept_by_month,
);
