//! A property test of the points ledger, on SQLite and PostgreSQL: a seeded
//! pseudo-random run of gifts (some refused), split pots, add-ons, company
//! awards, undos, hides, spending and allowance changes across several
//! members. A plain model predicts every outcome; after each step the
//! store must agree with it and no balance may be negative; at the end
//! `verify_ledger()` is empty and every earned balance is the sum of its
//! 'earned' entries.
//!
//! `PLAUDIT_LEDGER_SEED` and `PLAUDIT_LEDGER_STEPS` replay or lengthen a run.

mod common;

use common::points::*;
use plaudit_app::recognition::{AwardRequest, GiveRequest};
use plaudit_app::Caller;
use plaudit_domain::points::split_pot;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::json;

/// xorshift64*: tiny, seeded, good enough to pick test steps.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const MAX_PER_RECOGNITION: i64 = 50;

#[derive(Debug, Clone)]
struct Who {
    id: String,
    email: String,
    caller: Caller,
    allowance_override: Option<i64>,
    /// This month's allowance row: (total, spent), once opened.
    allowance: Option<(i64, i64)>,
    earned: i64,
}

#[derive(Debug, Clone)]
struct Post {
    id: String,
    peer: bool,
    giver: Option<usize>,
    /// (member, points received from this post so far, add-ons included)
    received: Vec<(usize, i64)>,
    /// (member, allowance charged for this post)
    charged: Vec<(usize, i64)>,
    visible: bool,
}

struct Model {
    default_allowance: i64,
    people: Vec<Who>,
    posts: Vec<Post>,
}

impl Model {
    /// Opens the allowance row as the App does on first use.
    fn open(&mut self, i: usize) -> (i64, i64) {
        let default = self.default_allowance;
        let p = &mut self.people[i];
        *p.allowance.get_or_insert((p.allowance_override.unwrap_or(default), 0))
    }

    fn charge(&mut self, i: usize, amount: i64) -> bool {
        if amount == 0 {
            return true;
        }
        let before = self.people[i].allowance;
        let (total, spent) = self.open(i);
        if spent + amount > total {
            // The refused transaction is rolled back, the opening of the month included.
            self.people[i].allowance = before;
            return false;
        }
        self.people[i].allowance = Some((total, spent + amount));
        true
    }

    fn give_back(&mut self, post: usize) {
        for (m, amount) in self.posts[post].charged.clone() {
            let (total, spent) = self.people[m].allowance.expect("charged, so opened");
            assert!(spent >= amount);
            self.people[m].allowance = Some((total, spent - amount));
        }
    }
}

/// What the App answered, reduced to what the model predicts.
fn outcome<T>(r: plaudit_domain::Result<T>) -> Result<T, &'static str> {
    r.map_err(|e| e.code)
}

fn the_ledger_stays_sound_under_random_operations(db: &TestDb) {
    let seed: u64 =
        std::env::var("PLAUDIT_LEDGER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x9E37_79B9_7F4A_7C15);
    let steps: usize = std::env::var("PLAUDIT_LEDGER_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let team = Team::new(db, "prop");
    let org = team.org.org_id.clone();
    let extra = [team.person("dee@prop.example", json!({})), team.person("eli@prop.example", json!({}))];
    let app = team.t.app.clone();
    let everyone = [&team.owner, &team.ana, &team.bob, &team.cy, &extra[0], &extra[1]];
    let mut model = Model {
        default_allowance: 100,
        people: everyone
            .iter()
            .map(|p| Who {
                id: p.id.clone(),
                email: p.email.clone(),
                caller: app.caller_for(&org, &p.id).unwrap(),
                allowance_override: None,
                allowance: None,
                earned: 0,
            })
            .collect(),
        posts: Vec::new(),
    };
    let owner = model.people[0].caller.clone();
    let n = model.people.len();
    let mut rng = Rng(seed | 1);
    let mut tally = std::collections::BTreeMap::<&str, usize>::new();

    for step in 0..steps {
        let roll = rng.range(0, 99);
        let what: String;
        let mut kind = "allowance";
        let ctx = |what: &str| format!("seed {seed} step {step}: {what}");
        match roll {
            // A gift, perhaps split, perhaps refused.
            0..=39 => {
                let g = rng.pick(n);
                let mut to: Vec<usize> = Vec::new();
                for _ in 0..rng.range(1, 3) {
                    let r = rng.pick(n);
                    if !to.contains(&r) && (r != g || rng.chance(10)) {
                        to.push(r);
                    }
                }
                if to.is_empty() {
                    to.push((g + 1) % n);
                }
                let mut names: Vec<String> = to.iter().map(|&r| model.people[r].id.clone()).collect();
                if rng.chance(15) {
                    // The same person again, by e-mail in capitals: counted once.
                    names.push(model.people[to[0]].email.to_uppercase());
                }
                let split = rng.chance(25).then(|| rng.range(0, 130));
                let points = if rng.chance(10) { 0 } else { rng.range(1, 60) };
                kind = "give";
                let req = GiveRequest {
                    recipients: names,
                    points,
                    split_total: split,
                    message: format!("step {step}"),
                    ..Default::default()
                };
                what = format!("{} gives {:?} {points} (split {split:?})", model.people[g].email, to);
                let shares = match split {
                    Some(t) => split_pot(t, to.len()).unwrap(),
                    None => vec![points; to.len()],
                };
                let total: i64 = shares.iter().sum();
                let expected = if split.is_some() && points != 0 {
                    // Points per recipient and a pot at once are refused before anything else.
                    Err("validation_failed")
                } else if to.contains(&g) {
                    Err("self_recognition")
                } else if shares.iter().copied().max().unwrap() > MAX_PER_RECOGNITION {
                    Err("points_over_maximum")
                } else if !model.charge(g, total) {
                    Err("insufficient_allowance")
                } else {
                    Ok(())
                };
                let got = outcome(app.give(&model.people[g].caller, &req, None));
                match (&expected, got) {
                    (Ok(()), Ok(p)) => {
                        assert_eq!(p.recognition.recipients.len(), to.len(), "{}", ctx(&what));
                        for (&r, &s) in to.iter().zip(&shares) {
                            model.people[r].earned += s;
                        }
                        model.posts.push(Post {
                            id: p.recognition.id,
                            peer: true,
                            giver: Some(g),
                            received: to.iter().copied().zip(shares.iter().copied()).collect(),
                            charged: if total > 0 { vec![(g, total)] } else { vec![] },
                            visible: true,
                        });
                    }
                    (Err(code), Err(got)) => assert_eq!(*code, got, "{}", ctx(&what)),
                    (e, g) => panic!("{}: expected {e:?}, got {:?}", ctx(&what), g.map(|p| p.recognition.id)),
                }
            }
            // An add-on.
            40..=54 if !model.posts.is_empty() => {
                let pi = rng.pick(model.posts.len());
                let a = rng.pick(n);
                let points = rng.range(1, 55);
                what = format!("{} adds {points} to post {pi}", model.people[a].email);
                kind = "add-on";
                let post = model.posts[pi].clone();
                let expected = if !post.visible {
                    Err("not_found")
                } else if !post.peer {
                    Err("not_addable")
                } else if post.giver == Some(a) {
                    Err("own_recognition")
                } else if post.received.iter().any(|(r, _)| *r == a) {
                    Err("self_recognition")
                } else if points > MAX_PER_RECOGNITION {
                    Err("points_over_maximum")
                } else if !model.charge(a, points * post.received.len() as i64) {
                    Err("insufficient_allowance")
                } else {
                    Ok(())
                };
                let got = outcome(app.add_on(&model.people[a].caller, &post.id, points, None));
                match (&expected, got) {
                    (Ok(()), Ok(_)) => {
                        let p = &mut model.posts[pi];
                        for (r, got) in p.received.iter_mut() {
                            *got += points;
                            model.people[*r].earned += points;
                        }
                        p.charged.push((a, points * p.received.len() as i64));
                    }
                    (Err(code), Err(got)) => assert_eq!(*code, got, "{}", ctx(&what)),
                    (e, g) => panic!("{}: expected {e:?}, got {:?}", ctx(&what), g.map(|_| ())),
                }
            }
            // A company award.
            55..=62 => {
                // The awarding admin (person 0) cannot award themself.
                let mut to = vec![1 + rng.pick(n - 1)];
                let second = 1 + rng.pick(n - 1);
                if rng.chance(40) && !to.contains(&second) {
                    to.push(second);
                }
                let points = rng.range(1, 80);
                what = format!("award {points} to {to:?}");
                kind = "award";
                let req = AwardRequest {
                    recipients: to.iter().map(|&r| model.people[r].id.clone()).collect(),
                    points,
                    message: "award".into(),
                    values: vec![],
                };
                let p = app.award(&owner, &req, None).unwrap_or_else(|e| panic!("{}: {e}", ctx(&what)));
                for &r in &to {
                    model.people[r].earned += points;
                }
                model.posts.push(Post {
                    id: p.recognition.id,
                    peer: false,
                    giver: Some(0),
                    received: to.iter().map(|&r| (r, points)).collect(),
                    charged: vec![],
                    visible: true,
                });
            }
            // An undo, usually by the giver.
            63..=72 if !model.posts.is_empty() => {
                let pi = rng.pick(model.posts.len());
                let post = model.posts[pi].clone();
                let by = if rng.chance(80) { post.giver.unwrap_or(0) } else { rng.pick(n) };
                what = format!("{} undoes post {pi}", model.people[by].email);
                kind = "undo";
                let expected = if !post.visible {
                    Err("not_found")
                } else if !post.peer || post.giver != Some(by) {
                    Err("not_permitted")
                } else if post.received.iter().any(|(r, got)| model.people[*r].earned < *got) {
                    Err("points_already_spent")
                } else {
                    Ok(())
                };
                match (&expected, outcome(app.undo(&model.people[by].caller, &post.id))) {
                    (Ok(()), Ok(())) => {
                        model.give_back(pi);
                        for (r, got) in &post.received {
                            model.people[*r].earned -= got;
                        }
                        model.posts[pi].visible = false;
                    }
                    (Err(code), Err(got)) => assert_eq!(*code, got, "{}", ctx(&what)),
                    (e, g) => panic!("{}: expected {e:?}, got {g:?}", ctx(&what)),
                }
            }
            // An admin hides a post: points back, but never below zero.
            73..=80 if !model.posts.is_empty() => {
                let pi = rng.pick(model.posts.len());
                let post = model.posts[pi].clone();
                what = format!("hide post {pi}");
                kind = "hide";
                let expected = if post.visible { Ok(()) } else { Err("not_found") };
                match (&expected, outcome(app.hide(&owner, &post.id))) {
                    (Ok(()), Ok(())) => {
                        model.give_back(pi);
                        for (r, got) in &post.received {
                            let p = &mut model.people[*r];
                            p.earned -= (*got).min(p.earned);
                        }
                        model.posts[pi].visible = false;
                    }
                    (Err(code), Err(got)) => assert_eq!(*code, got, "{}", ctx(&what)),
                    (e, g) => panic!("{}: expected {e:?}, got {g:?}", ctx(&what)),
                }
            }
            // Someone spends points (as a redemption will).
            81..=88 => {
                let m = rng.pick(n);
                let have = model.people[m].earned;
                what = format!("{} spends", model.people[m].email);
                kind = "spend";
                if have > 0 {
                    let amount = rng.range(1, have);
                    spend(&team.t, &org, &model.people[m].id, amount);
                    model.people[m].earned -= amount;
                }
            }
            // An admin changes allowances: some members', or everyone's.
            _ => {
                let amount = rng.range(0, 150);
                if rng.chance(20) {
                    what = format!("everyone's allowance to {amount}");
                    app.set_allowance(&owner, None, amount).unwrap_or_else(|e| panic!("{}: {e}", ctx(&what)));
                    model.default_allowance = amount;
                    for i in 0..n {
                        model.people[i].allowance_override = None;
                        let (_, spent) = model.open(i);
                        model.people[i].allowance = Some((amount.max(spent), spent));
                    }
                } else {
                    let mut ids = vec![rng.pick(n)];
                    let second = rng.pick(n);
                    if rng.chance(30) && !ids.contains(&second) {
                        ids.push(second);
                    }
                    what = format!("allowance of {ids:?} to {amount}");
                    let names: Vec<String> = ids.iter().map(|&i| model.people[i].id.clone()).collect();
                    app.set_allowance(&owner, Some(&names), amount).unwrap_or_else(|e| panic!("{}: {e}", ctx(&what)));
                    for i in ids {
                        model.people[i].allowance_override = Some(amount);
                        let (_, spent) = model.open(i);
                        model.people[i].allowance = Some((amount.max(spent), spent));
                    }
                }
            }
        }
        *tally.entry(kind).or_default() += 1;

        // After every step: nothing negative, and the store agrees with the model.
        let checks = app.store.read(|tx| tx.account_checks()).unwrap();
        for c in checks.iter().filter(|c| c.org_id == org) {
            assert!(c.cached.unwrap_or(0) >= 0, "{}: negative {c:?}", ctx(&what));
            if let Some(a) = c.allowance {
                assert!(0 <= a.spent && a.spent <= a.total, "{}: overspent {c:?}", ctx(&what));
            }
        }
        let period = app.balance(&owner, &owner.member.id).unwrap().period;
        for p in &model.people {
            let earned = stored_earned(&team.t, &org, &p.id);
            assert_eq!(earned, p.earned, "{}: earned of {}", ctx(&what), p.email);
            let row = app.store.read(|tx| tx.allowance(&org, &p.id, &period)).unwrap().map(|a| (a.total, a.spent));
            assert_eq!(row, p.allowance, "{}: allowance of {}", ctx(&what), p.email);
        }
    }

    let problems = app.verify_ledger().unwrap();
    assert!(problems.is_empty(), "seed {seed}: {problems:#?}");
    for p in &model.people {
        let entries = app.store.read(|tx| tx.list_entries(&org, &p.id, None, 1_000_000)).unwrap();
        let sum: i64 = entries.iter().filter(|e| e.account == "earned").map(|e| e.amount).sum();
        assert_eq!(stored_earned(&team.t, &org, &p.id), sum, "seed {seed}: {}", p.email);
        let via_api = team.t.get(&team.org.auth, &format!("/api/v1/members/{}/balance", p.id)).ok(200);
        assert_eq!(via_api["earned"]["balance"].as_i64(), Some(sum));
    }
    let visible = model.posts.iter().filter(|p| p.visible).count();
    let feed = app.store.read(|tx| tx.feed(&org, &Default::default(), None, 100_000)).unwrap();
    assert_eq!(feed.len(), visible, "seed {seed}: the feed holds the visible posts");
    // The run exercised every kind of step, successful and refused.
    assert!(model.posts.iter().any(|p| !p.visible) && model.posts.iter().filter(|p| p.peer).count() > 20, "{tally:?}");
    eprintln!("{}: {steps} steps, {} posts ({visible} visible): {tally:?}", db.name, model.posts.len());
}

backend_tests!(the_ledger_stays_sound_under_random_operations);
