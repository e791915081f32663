//! The store suite: every test here runs on SQLite and on PostgreSQL.

use plaudit_domain::member::{Member, Profile, Role, Status};
use plaudit_domain::org::{Org, Plan};
use plaudit_domain::Error;
use plaudit_store::testing::TestDb;
use plaudit_store::{backend_tests, new_id, ApiToken, LoginAttempt, MemberFilter, SessionRecord};

fn org(slug: &str) -> Org {
    Org::with_defaults(new_id(), slug.to_string(), format!("Org {slug}"), "Europe/Oslo".to_string(), Plan::Free, 1)
}

fn member(org: &Org, email: &str, name: &str) -> Member {
    Member {
        id: new_id(),
        org_id: org.id.clone(),
        profile: Profile {
            email: email.into(),
            display_name: name.into(),
            department: "Sales".into(),
            ..Default::default()
        },
        manager_id: None,
        status: Status::Active,
        role: Role::Member,
        may_give: true,
        may_receive: true,
        allowance_override: None,
        password_hash: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn setup(db: &TestDb, slug: &str) -> Org {
    let o = org(slug);
    db.write(|tx| tx.insert_org(&o)).unwrap();
    o
}

fn migrations_are_idempotent(db: &TestDb) {
    assert!(db.migrate().unwrap().is_empty(), "a second migrate applies nothing");
    db.ping().unwrap();
}

fn orgs_round_trip_and_slugs_are_unique(db: &TestDb) {
    let o = setup(db, "acme");
    assert_eq!(db.read(|tx| tx.org_by_slug("acme")).unwrap().unwrap(), o);
    assert_eq!(db.read(|tx| tx.org_by_id(&o.id)).unwrap().unwrap().currency.emoji, "🏆");
    let err = db.write(|tx| tx.insert_org(&org("acme"))).unwrap_err();
    assert_eq!(err.code, "slug_taken");
    let mut changed = o.clone();
    changed.name = "Acme Ltd".into();
    changed.plan = Plan::Paid;
    db.write(|tx| tx.update_org(&changed, 2)).unwrap();
    assert_eq!(db.read(|tx| tx.org_by_id(&o.id)).unwrap().unwrap(), changed);
}

fn member_emails_are_unique_case_insensitively(db: &TestDb) {
    let o = setup(db, "acme");
    let ana = member(&o, "Ana@Example.com", "Ana");
    db.write(|tx| tx.insert_member(&ana)).unwrap();
    let err = db.write(|tx| tx.insert_member(&member(&o, "ana@EXAMPLE.com", "Other"))).unwrap_err();
    assert_eq!((err.code, err.field.as_deref()), ("email_taken", Some("email")));
    let found = db.read(|tx| tx.member_by_email(&o.id, "ANA@example.COM")).unwrap().unwrap();
    assert_eq!(found, ana);
    // The same address may exist in another organisation.
    let other = setup(db, "other");
    db.write(|tx| tx.insert_member(&member(&other, "ana@example.com", "Ana"))).unwrap();
}

fn queries_never_cross_tenants(db: &TestDb) {
    let a = setup(db, "org-a");
    let b = setup(db, "org-b");
    let ana = member(&a, "ana@example.com", "Ana");
    db.write(|tx| tx.insert_member(&ana)).unwrap();
    assert!(db.read(|tx| tx.member_by_id(&b.id, &ana.id)).unwrap().is_none());
    assert!(db.read(|tx| tx.member_by_email(&b.id, "ana@example.com")).unwrap().is_none());
    assert!(db.read(|tx| tx.list_members(&b.id, &MemberFilter::default(), None, 10)).unwrap().is_empty());
    let mut moved = ana.clone();
    moved.org_id = b.id.clone();
    assert_eq!(db.write(|tx| tx.update_member(&moved)).unwrap_err().code, "not_found");
    assert_eq!(db.read(|tx| tx.count_active_members(&b.id)).unwrap(), 0);
}

fn directory_search_filters_and_pages(db: &TestDb) {
    let o = setup(db, "acme");
    let names = ["Ana Lima", "राहुल शर्मा", "李娜", "佐藤 花子", "Émile Zola", "Bob 50%_off"];
    for (i, n) in names.iter().enumerate() {
        let mut m = member(&o, &format!("p{i}@example.com"), n);
        if i % 2 == 1 {
            m.status = Status::Inactive;
            m.profile.location = "Tokyo".into();
        }
        db.write(|tx| tx.insert_member(&m)).unwrap();
    }
    let search = |q: &str| {
        let f = MemberFilter { query: q.into(), ..Default::default() };
        db.read(|tx| tx.list_members(&o.id, &f, None, 50))
            .unwrap()
            .into_iter()
            .map(|m| m.profile.display_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(search("राहुल"), vec!["राहुल शर्मा"]);
    assert_eq!(search("李"), vec!["李娜"]);
    assert_eq!(search("花子"), vec!["佐藤 花子"]);
    assert_eq!(search("émile"), vec!["Émile Zola"]);
    assert_eq!(search("P3@EXAMPLE"), vec!["佐藤 花子"]);
    assert_eq!(search("50%"), vec!["Bob 50%_off"], "wildcards match literally");
    assert_eq!(search("_"), vec!["Bob 50%_off"]);
    assert!(search("x%y").is_empty());

    let inactive = MemberFilter { status: Some(Status::Inactive), location: "Tokyo".into(), ..Default::default() };
    assert_eq!(db.read(|tx| tx.list_members(&o.id, &inactive, None, 50)).unwrap().len(), 3);

    // Paging by (sort key, id) visits every member exactly once, in order.
    let mut seen = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = db
            .read(|tx| {
                tx.list_members(
                    &o.id,
                    &MemberFilter::default(),
                    after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
                    4,
                )
            })
            .unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        after = Some((plaudit_store::member_sort_key(last), last.id.clone()));
        seen.extend(page.into_iter().map(|m| m.profile.display_name));
    }
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort_by_key(|n| n.to_lowercase());
    assert_eq!(seen, expected);

    let (departments, locations) = db.read(|tx| tx.member_facets(&o.id)).unwrap();
    assert_eq!((departments, locations), (vec!["Sales".to_string()], vec!["Tokyo".to_string()]));
}

fn a_failed_transaction_writes_nothing(db: &TestDb) {
    let o = setup(db, "acme");
    let result: Result<(), Error> = db.write(|tx| {
        tx.insert_member(&member(&o, "ana@example.com", "Ana"))?;
        Err(Error::invalid("x", "stop"))
    });
    assert!(result.is_err());
    assert_eq!(db.read(|tx| tx.count_active_members(&o.id)).unwrap(), 0);
}

fn sessions_tokens_and_login_attempts(db: &TestDb) {
    let o = setup(db, "acme");
    let ana = member(&o, "ana@example.com", "Ana");
    db.write(|tx| tx.insert_member(&ana)).unwrap();
    let s = SessionRecord { org_id: o.id.clone(), member_id: ana.id.clone(), csrf_token: "c".into(), expires_at: 100 };
    db.write(|tx| tx.insert_session("h1", &s, 10)).unwrap();
    assert_eq!(db.read(|tx| tx.session("h1", 50)).unwrap(), Some(s.clone()));
    assert_eq!(db.read(|tx| tx.session("h1", 100)).unwrap(), None, "expired");
    assert_eq!(db.write(|tx| tx.delete_member_sessions(&o.id, &ana.id)).unwrap(), 1);
    assert_eq!(db.read(|tx| tx.session("h1", 50)).unwrap(), None);

    let t = ApiToken {
        id: new_id(),
        org_id: o.id.clone(),
        member_id: ana.id.clone(),
        name: "ci".into(),
        created_at: 1,
        last_used_at: None,
        revoked_at: None,
    };
    db.write(|tx| tx.insert_api_token(&t, "th")).unwrap();
    assert_eq!(db.read(|tx| tx.api_token_by_hash("th")).unwrap().unwrap().id, t.id);
    assert!(db.write(|tx| tx.revoke_api_token(&o.id, &ana.id, &t.id, 5)).unwrap());
    assert!(!db.write(|tx| tx.revoke_api_token(&o.id, &ana.id, &t.id, 6)).unwrap());
    assert!(db.read(|tx| tx.api_token_by_hash("th")).unwrap().is_none());

    let a = LoginAttempt { failures: 3, last_failure_at: 7, locked_until: 9 };
    db.write(|tx| tx.save_login_attempt("k", &a)).unwrap();
    db.write(|tx| tx.save_login_attempt("k", &LoginAttempt { failures: 4, ..a })).unwrap();
    assert_eq!(db.read(|tx| tx.login_attempt("k")).unwrap().failures, 4);
    db.write(|tx| tx.clear_login_attempts("k")).unwrap();
    assert_eq!(db.read(|tx| tx.login_attempt("k")).unwrap(), LoginAttempt::default());
}

fn audit_log_lists_newest_first(db: &TestDb) {
    let o = setup(db, "acme");
    for i in 0..3 {
        db.write(|tx| tx.insert_audit(&o.id, None, "member.updated", &format!("m{i}"), "{}", i)).unwrap();
    }
    let all = db.read(|tx| tx.list_audit(&o.id, None, 10)).unwrap();
    assert_eq!(all.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["m2", "m1", "m0"]);
    let next = db.read(|tx| tx.list_audit(&o.id, Some(&all[0].id), 10)).unwrap();
    assert_eq!(next.len(), 2);
}

/// Every feed filter, paged 7 at a time, returns exactly the posts a plain
/// scan would, newest first, each once.
fn feed_filters_and_paging_match_a_plain_scan(db: &TestDb) {
    use plaudit_domain::recognition::{CompanyValue, Kind, Recipient, Recognition};
    use plaudit_store::FeedFilter;
    let o = setup(db, "acme");
    let mut people = Vec::new();
    for (i, dept) in ["Sales", "Sales", "Support", "Research", "Support"].iter().enumerate() {
        let mut m = member(&o, &format!("p{i}@example.com"), &format!("Person {i}"));
        m.profile.department = dept.to_string();
        db.write(|tx| tx.insert_member(&m)).unwrap();
        people.push(m.id);
    }
    let values: Vec<String> = (0..3)
        .map(|i| {
            let v = CompanyValue {
                id: new_id(),
                org_id: o.id.clone(),
                name: format!("Value {i}"),
                emoji: "⭐".into(),
                description: String::new(),
                position: i,
                archived: false,
                created_at: 1,
                updated_at: 1,
            };
            db.write(|tx| tx.insert_value(&v)).unwrap();
            v.id
        })
        .collect();
    let mut posts = Vec::new();
    let mut seed = 7u64;
    let mut rnd = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) % n as u64) as usize
    };
    for i in 0..60 {
        let giver = rnd(5);
        let mut recipients = vec![(giver + 1 + rnd(4)) % 5];
        if rnd(3) == 0 {
            let other = (recipients[0] + 1) % 5;
            if other != giver {
                recipients.push(other);
            }
        }
        let value_ids: Vec<String> = if rnd(4) == 0 { vec![] } else { vec![values[rnd(3)].clone()] };
        // Several posts share a millisecond, so ties are broken by id.
        let r = Recognition {
            id: new_id(),
            org_id: o.id.clone(),
            kind: Kind::Peer,
            giver_id: Some(people[giver].clone()),
            points: 5,
            message: format!("post {i}"),
            key_result_id: None,
            hidden: i % 17 == 0,
            undone: false,
            created_at: 1000 + (i / 3) as i64,
            recipients: recipients.iter().map(|&r| Recipient { member_id: people[r].clone(), points: 5 }).collect(),
            value_ids,
            reactions: vec![],
            comment_count: 0,
            addon_points: 0,
        };
        db.write(|tx| tx.insert_recognition(&r)).unwrap();
        posts.push(r);
    }
    let department_of =
        |id: &str| ["Sales", "Sales", "Support", "Research", "Support"][people.iter().position(|p| p == id).unwrap()];
    let filters = vec![
        FeedFilter::default(),
        FeedFilter { member_id: Some(people[1].clone()), ..Default::default() },
        FeedFilter { recipient_id: Some(people[2].clone()), ..Default::default() },
        FeedFilter { giver_id: Some(people[3].clone()), ..Default::default() },
        FeedFilter { value_id: Some(values[1].clone()), ..Default::default() },
        FeedFilter { department: Some("Support".into()), ..Default::default() },
        FeedFilter { member_id: Some(people[0].clone()), value_id: Some(values[0].clone()), ..Default::default() },
        FeedFilter {
            recipient_id: Some(people[4].clone()),
            department: Some("Support".into()),
            value_id: Some(values[2].clone()),
            ..Default::default()
        },
    ];
    for f in filters {
        let mut expected: Vec<&Recognition> = posts
            .iter()
            .filter(|p| !p.hidden)
            .filter(|p| {
                f.member_id
                    .as_ref()
                    .is_none_or(|m| p.giver_id.as_ref() == Some(m) || p.recipients.iter().any(|r| &r.member_id == m))
            })
            .filter(|p| f.recipient_id.as_ref().is_none_or(|m| p.recipients.iter().any(|r| &r.member_id == m)))
            .filter(|p| f.giver_id.as_ref().is_none_or(|m| p.giver_id.as_ref() == Some(m)))
            .filter(|p| f.value_id.as_ref().is_none_or(|v| p.value_ids.contains(v)))
            .filter(|p| {
                f.department.as_ref().is_none_or(|d| p.recipients.iter().any(|r| department_of(&r.member_id) == d))
            })
            .collect();
        expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let expected: Vec<String> = expected.into_iter().map(|p| p.id.clone()).collect();
        let mut got = Vec::new();
        let mut before: Option<(i64, String)> = None;
        loop {
            let page = db.read(|tx| tx.feed(&o.id, &f, before.as_ref().map(|(a, i)| (*a, i.as_str())), 7)).unwrap();
            if page.is_empty() {
                break;
            }
            let last = page.last().unwrap();
            before = Some((last.created_at, last.id.clone()));
            got.extend(page.into_iter().map(|p| p.id));
        }
        assert_eq!(got, expected, "filter {f:?}");
        assert!(!expected.is_empty(), "the filter {f:?} should match something");
    }
}

backend_tests!(
    feed_filters_and_paging_match_a_plain_scan,
    migrations_are_idempotent,
    orgs_round_trip_and_slugs_are_unique,
    member_emails_are_unique_case_insensitively,
    queries_never_cross_tenants,
    directory_search_filters_and_pages,
    a_failed_transaction_writes_nothing,
    sessions_tokens_and_login_attempts,
    audit_log_lists_newest_first,
);

/// Both migration folders must describe the same tables and columns.
#[test]
fn sqlite_and_postgres_schemas_agree() {
    let Some(pg) = plaudit_store::testing::postgres() else {
        return;
    };
    let lite = plaudit_store::testing::sqlite();
    assert_eq!(lite.schema_outline().unwrap(), pg.schema_outline().unwrap());
}
