//! Fixtures for the recognition suites: a small team with bearer tokens
//! (no passwords, so no slow hashing), balance look-ups through the API,
//! and a snapshot of every points-related row to prove a refusal changed
//! nothing.

use super::{Auth, OrgOwner, Resp, TestApp};
use plaudit_store::testing::TestDb;
use plaudit_store::{AccountCheck, FeedFilter, LedgerEntry};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub auth: Auth,
}

/// An organisation (owner signed in by session) with three plain members.
pub struct Team {
    pub t: TestApp,
    pub org: OrgOwner,
    pub owner: Person,
    pub ana: Person,
    pub bob: Person,
    pub cy: Person,
}

impl Team {
    pub fn new(db: &TestDb, slug: &str) -> Team {
        let t = TestApp::new(db);
        Team::in_app(t, slug)
    }

    pub fn in_app(t: TestApp, slug: &str) -> Team {
        let org = t.signup(slug);
        let owner = Person { id: org.owner_id.clone(), email: org.owner_email.clone(), auth: org.auth.clone() };
        let mut team = Team { ana: owner.clone(), bob: owner.clone(), cy: owner.clone(), owner, org, t };
        team.ana = team.person(&format!("ana@{slug}.example"), json!({"display_name": "Ana", "department": "Sales"}));
        team.bob = team.person(&format!("bob@{slug}.example"), json!({"display_name": "Bob", "department": "R&D"}));
        team.cy = team.person(&format!("cy@{slug}.example"), json!({"display_name": "Cy", "department": "R&D"}));
        team
    }

    /// Adds a member (as the owner) and gives them a bearer token.
    #[track_caller]
    pub fn person(&self, email: &str, extra: Value) -> Person {
        let m = self.t.add_member(&self.org.auth, email, extra);
        let id = m["id"].as_str().unwrap().to_string();
        let auth = self.t.token_for(&self.org.org_id, &id);
        Person { id, email: email.to_string(), auth }
    }

    /// PATCHes the organisation's settings as the owner.
    #[track_caller]
    pub fn settings(&self, patch: Value) -> Value {
        self.t.patch(&self.org.auth, "/api/v1/org", &patch).ok(200)
    }

    /// PATCHes a member as the owner.
    #[track_caller]
    pub fn patch_member(&self, id: &str, patch: Value) -> Value {
        self.t.patch(&self.org.auth, &format!("/api/v1/members/{id}"), &patch).ok(200)
    }

    pub fn give(&self, who: &Person, body: Value) -> Resp {
        self.t.post(&who.auth, "/api/v1/recognitions", &body)
    }

    /// A gift that must succeed; returns the post.
    #[track_caller]
    pub fn gift(&self, who: &Person, to: &[&Person], points: i64) -> Value {
        let ids: Vec<&str> = to.iter().map(|p| p.id.as_str()).collect();
        self.give(who, json!({"recipients": ids, "points": points, "message": "thanks!"})).ok(201)
    }

    /// `GET /api/v1/me/balance` of this person.
    #[track_caller]
    pub fn balance(&self, who: &Person) -> Value {
        self.t.get(&who.auth, "/api/v1/me/balance").ok(200)
    }

    #[track_caller]
    pub fn remaining(&self, who: &Person) -> i64 {
        self.balance(who)["allowance"]["remaining"].as_i64().expect("remaining")
    }

    #[track_caller]
    pub fn earned(&self, who: &Person) -> i64 {
        self.balance(who)["earned"]["balance"].as_i64().expect("earned")
    }

    /// Every ledger entry of a member through `GET /api/v1/ledger` (paged), as `auth` sees it.
    #[track_caller]
    pub fn ledger(&self, auth: &Auth, member_id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self.t.get(auth, &format!("/api/v1/ledger?member={member_id}&limit=7&cursor={cursor}")).ok(200);
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => return out,
            }
        }
    }

    /// The visible feed as this person sees it.
    #[track_caller]
    pub fn feed(&self, who: &Auth) -> Vec<Value> {
        self.t.get(who, "/api/v1/recognitions?limit=100").ok(200)["items"].as_array().unwrap().clone()
    }

    pub fn snapshot(&self) -> Snapshot {
        snapshot(&self.t, &self.org.org_id)
    }
}

/// The sum of ledger entries (as the API lists them) on accounts named `account` or starting with it.
pub fn sum_of(entries: &[Value], account: &str) -> i64 {
    entries
        .iter()
        .filter(|e| e["account"].as_str().is_some_and(|a| a == account || a.starts_with(account)))
        .map(|e| e["amount"].as_i64().unwrap())
        .sum()
}

/// Every points-related row of one organisation.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub accounts: Vec<AccountCheck>,
    pub posts: Vec<String>,
    pub entries: Vec<LedgerEntry>,
}

pub fn snapshot(t: &TestApp, org_id: &str) -> Snapshot {
    let mut accounts: Vec<AccountCheck> =
        t.app.store.read(|tx| tx.account_checks()).unwrap().into_iter().filter(|c| c.org_id == org_id).collect();
    accounts.sort_by(|a, b| (&a.member_id, &a.account).cmp(&(&b.member_id, &b.account)));
    let posts = t
        .app
        .store
        .read(|tx| tx.feed(org_id, &FeedFilter::default(), None, 100_000))
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {:?} {} {:?}", r.id, r.recipients, r.addon_points, r.reactions))
        .collect();
    let mut entries = Vec::new();
    for m in t.stored_members(org_id) {
        entries.extend(t.app.store.read(|tx| tx.list_entries(org_id, &m.id, None, 1_000_000)).unwrap());
    }
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    Snapshot { accounts, posts, entries }
}

/// The member's earned balance straight from the store.
pub fn stored_earned(t: &TestApp, org_id: &str, member_id: &str) -> i64 {
    t.app.store.read(|tx| tx.balance(org_id, member_id)).unwrap()
}

/// Simulates a member spending points (as a redemption will): the cached
/// balance and a matching ledger entry, in one transaction.
pub fn spend(t: &TestApp, org_id: &str, member_id: &str, amount: i64) {
    t.app
        .store
        .write(|tx| {
            assert!(tx.debit(org_id, member_id, amount)?, "there are {amount} points to spend");
            tx.insert_entry(&LedgerEntry {
                id: plaudit_store::new_id(),
                org_id: org_id.to_string(),
                member_id: Some(member_id.to_string()),
                account: "earned".into(),
                kind: "redemption".into(),
                amount: -amount,
                reference: "test-spend".into(),
                created_at: plaudit_app::now_ms(),
            })
        })
        .unwrap();
}

/// `YYYY-MM-01` of the month after `period` (`YYYY-MM`).
pub fn first_of_next(period: &str) -> String {
    let (y, m) = period.split_once('-').unwrap();
    let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    format!("{y:04}-{m:02}-01")
}

/// UTC milliseconds of a local time such as `2026-11-30T23:59:59.999[Asia/Tokyo]`.
pub fn local_ms(zoned: &str) -> i64 {
    zoned.parse::<jiff::ZonedDateTime>().unwrap_or_else(|e| panic!("{zoned}: {e}")).timestamp().as_millisecond()
}
