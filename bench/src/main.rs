//! `plaudit-bench feed [N]`: fills a fresh SQLite store with the demo
//! directory and N recognitions (default 1,000,000; each with recipients,
//! a value and reactions), then times feed pages of 50 posts in-process
//! and prints p50/p99 per kind of page.
//!
//! The posts are written straight into the store (no ledger entries): this
//! measures reading the feed, not giving.

use plaudit_app::orgs::NewOrg;
use plaudit_app::values::NewValue;
use plaudit_app::{App, Config, CsvBytes};
use plaudit_domain::member::Status;
use plaudit_domain::org::Plan;
use plaudit_domain::recognition::{Kind, Recipient, Recognition};
use plaudit_store::{new_id, FeedFilter, MemberFilter, Store};
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("feed") {
        eprintln!("usage: plaudit-bench feed [RECOGNITIONS] [DATA_DIR]");
        std::process::exit(2);
    }
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = args.get(3).cloned().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("plaudit-bench-{}", std::process::id())).display().to_string()
    });
    let store = Store::open(&format!("sqlite://{dir}/plaudit.db")).expect("open");
    store.migrate().expect("migrate");
    let app = App::new(store, Config::default());

    let (org, owner) = app
        .create_org(NewOrg {
            name: "Bench".into(),
            slug: "bench".into(),
            timezone: "Europe/Oslo".into(),
            plan: Plan::Paid,
            owner_email: "owner@bench.test".into(),
            owner_name: "Owner".into(),
            owner_password: None,
        })
        .expect("org");
    let csv =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/app/demo/directory.csv")).expect("directory.csv");
    app.import_members("bench", None, &CsvBytes(&csv), false, &|_, _| {}).expect("import");
    let admin = app.caller_for(&org.id, &owner.id).expect("caller");
    let values: Vec<String> = ["Teamwork", "Ownership", "Curiosity", "Kindness", "Customer first"]
        .iter()
        .map(|name| {
            app.create_value(
                &admin,
                NewValue { name: name.to_string(), emoji: "⭐".into(), description: String::new(), position: None },
            )
            .expect("value")
            .id
        })
        .collect();
    let active = MemberFilter { status: Some(Status::Active), ..Default::default() };
    let mut members = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.list_members(&admin, &active, cursor.as_deref(), 100).expect("members");
        members.extend(page.members.into_iter().map(|m| (m.id, m.profile.department)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    let year_ms = 365 * 24 * 3600 * 1000_i64;
    let t0 = plaudit_app::now_ms() - year_ms;
    let batch = 10_000;
    for first in (0..n).step_by(batch) {
        app.store
            .write(|tx| {
                for i in first..(first + batch).min(n) {
                    let giver = &members[rng.below(members.len())].0;
                    let mut recipients =
                        vec![Recipient { member_id: members[rng.below(members.len())].0.clone(), points: 10 }];
                    if rng.below(3) == 0 {
                        let other = members[rng.below(members.len())].0.clone();
                        if other != recipients[0].member_id {
                            recipients.push(Recipient { member_id: other, points: 10 });
                        }
                    }
                    let id = new_id();
                    let at = t0 + (i as i64) * year_ms / n as i64;
                    tx.insert_recognition(&Recognition {
                        id: id.clone(),
                        org_id: org.id.clone(),
                        kind: Kind::Peer,
                        giver_id: Some(giver.clone()),
                        points: 10,
                        message: "Thanks for the great work on the launch — it made a real difference! 🎉".into(),
                        key_result_id: None,
                        hidden: false,
                        undone: false,
                        created_at: at,
                        recipients,
                        value_ids: vec![values[rng.below(values.len())].clone()],
                        reactions: vec![],
                        comment_count: 0,
                        addon_points: 0,
                    })?;
                    for _ in 0..rng.below(3) {
                        let fan = &members[rng.below(members.len())].0;
                        tx.toggle_reaction(&org.id, &id, fan, ["🎉", "👏", "❤️"][rng.below(3)], at)?;
                    }
                }
                Ok(())
            })
            .expect("insert batch");
        if first % 100_000 == 0 {
            eprintln!("  {first} recognitions written ({:.0} s)", start.elapsed().as_secs_f64());
        }
    }
    println!("wrote {n} recognitions in {:.1} s", start.elapsed().as_secs_f64());

    let department = members.iter().find(|(_, d)| d == "Sales").map(|(_, d)| d.clone());
    let cases: Vec<(&str, FeedFilter)> = vec![
        ("first page", FeedFilter::default()),
        ("member filter", FeedFilter { member_id: Some(members[7].0.clone()), ..Default::default() }),
        ("value filter", FeedFilter { value_id: Some(values[2].clone()), ..Default::default() }),
        ("department filter", FeedFilter { department, ..Default::default() }),
    ];
    for (name, filter) in cases {
        let mut times = Vec::new();
        let mut cursor: Option<String> = None;
        for i in 0..400 {
            // Every tenth request starts again from the top; the others page deeper.
            if i % 10 == 0 {
                cursor = None;
            }
            let t = Instant::now();
            let page = app.feed(&admin, &filter, cursor.as_deref(), 50).expect("feed");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!page.items.is_empty() || cursor.is_some() || i % 10 != 0, "empty feed");
            cursor = page.next_cursor;
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "feed page of 50, {name:<18} p50 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
}
