//! The demo organisation of `plaudit serve --demo`: a paid organisation
//! with a realistic directory of 1,470 people (bundled), company values and
//! three months of recognition history, created once.

use crate::orgs::NewOrg;
use crate::recognition::{AwardRequest, GiveRequest};
use crate::values::NewValue;
use crate::{App, CsvBytes};
use plaudit_domain::member::Status;
use plaudit_domain::org::Plan;
use plaudit_domain::Result;
use plaudit_store::MemberFilter;

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_PASSWORD: &str = "plaudit-demo";
/// An active HR manager of the bundled directory: the demo's owner.
pub const DEMO_OWNER_EMAIL: &str = "laurie.weir@example.com";
/// An ordinary member, to see the app without admin rights.
pub const DEMO_MEMBER_EMAIL: &str = "stephane.bertrand@example.com";

const DIRECTORY_CSV: &[u8] = include_bytes!("../demo/directory.csv");

/// What `--demo` tells the person who started it.
pub struct DemoLogin {
    pub created: bool,
    pub org_slug: &'static str,
    pub owner_email: &'static str,
    pub member_email: &'static str,
    pub password: &'static str,
}

impl App {
    /// Creates the demo organisation unless it exists already.
    pub fn ensure_demo(&self) -> Result<DemoLogin> {
        let login = |created| DemoLogin {
            created,
            org_slug: DEMO_SLUG,
            owner_email: DEMO_OWNER_EMAIL,
            member_email: DEMO_MEMBER_EMAIL,
            password: DEMO_PASSWORD,
        };
        if self.store.read(|tx| tx.org_by_slug(DEMO_SLUG))?.is_some() {
            return Ok(login(false));
        }
        self.create_org(NewOrg {
            name: "Plaudit Demo Company".into(),
            slug: DEMO_SLUG.into(),
            timezone: "Europe/Oslo".into(),
            plan: Plan::Paid,
            owner_email: DEMO_OWNER_EMAIL.into(),
            owner_name: "Laurie Weir".into(),
            owner_password: Some(DEMO_PASSWORD.into()),
        })?;
        self.import_members(DEMO_SLUG, None, &CsvBytes(DIRECTORY_CSV), false, &|_, _| {})?;
        self.set_password(DEMO_SLUG, DEMO_MEMBER_EMAIL, DEMO_PASSWORD)?;
        self.demo_recognition_history()?;
        self.demo_rewards()?;
        let org = self.org_by_slug(DEMO_SLUG)?;
        if let Some(owner) = self.store.read(|tx| tx.member_by_email(&org.id, DEMO_OWNER_EMAIL))? {
            self.demo_okrs(&self.caller_for(&org.id, &owner.id)?)?;
        }
        // The made-up history is not news: nobody is e-mailed or notified of it.
        self.store.write(|tx| tx.delete_org_jobs(&org.id))?;
        Ok(login(true))
    }

    /// Company values and about three months of recognition, so the feed
    /// and profiles look alive. Deterministic: the same demo every time.
    fn demo_recognition_history(&self) -> Result<()> {
        let org = self.org_by_slug(DEMO_SLUG)?;
        let owner = self.store.read(|tx| tx.member_by_email(&org.id, DEMO_OWNER_EMAIL))?;
        let Some(owner) = owner else { return Ok(()) };
        let admin = self.caller_for(&org.id, &owner.id)?;
        let mut values = Vec::new();
        for (name, emoji, description) in DEMO_VALUES {
            let v = self.create_value(
                &admin,
                NewValue {
                    name: name.to_string(),
                    emoji: emoji.to_string(),
                    description: description.to_string(),
                    position: None,
                },
            )?;
            values.push(v.name);
        }
        let mut members = Vec::new();
        let mut cursor: Option<String> = None;
        let active = MemberFilter { status: Some(Status::Active), ..Default::default() };
        loop {
            let page = self.list_members(&admin, &active, cursor.as_deref(), 100)?;
            members.extend(page.members.into_iter().map(|m| m.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if members.len() < 3 {
            return Ok(());
        }
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let now = crate::now_ms();
        let day = 24 * 3600 * 1000;
        let posts = 600;
        for i in 0..posts {
            // Spread over the last 90 days, oldest first, ending an hour ago.
            let at = now - 90 * day + (i as i64) * (90 * day - 3600 * 1000) / posts as i64;
            let giver = &members[rng.below(members.len())];
            let caller = self.caller_for(&org.id, giver)?;
            let mut recipients = vec![members[rng.below(members.len())].clone()];
            if rng.below(4) == 0 {
                recipients.push(members[rng.below(members.len())].clone());
            }
            recipients.retain(|r| r != giver);
            recipients.dedup();
            if recipients.is_empty() {
                continue;
            }
            let req = GiveRequest {
                recipients,
                points: [5, 10, 10, 15, 20, 25][rng.below(6)],
                split_total: None,
                message: DEMO_MESSAGES[rng.below(DEMO_MESSAGES.len())].to_string(),
                values: vec![values[rng.below(values.len())].clone()],
                key_result_id: None,
            };
            // A giver who has spent this month's allowance is simply skipped.
            let Ok(posted) = self.give_at(&caller, &req, None, at) else { continue };
            if rng.below(3) == 0 {
                let fan = self.caller_for(&org.id, &members[rng.below(members.len())])?;
                let _ = self.react(&fan, &posted.recognition.id, ["🎉", "👏", "❤️", "🙌"][rng.below(4)]);
            }
            if rng.below(8) == 0 {
                let fan = self.caller_for(&org.id, &members[rng.below(members.len())])?;
                let _ = self.comment(&fan, &posted.recognition.id, "Well deserved!");
            }
        }
        for i in 0..6 {
            let award = AwardRequest {
                recipients: vec![members[rng.below(members.len())].clone()],
                points: 50,
                message: "Spot bonus for going above and beyond this quarter.".into(),
                values: vec![values[i % values.len()].clone()],
            };
            self.award_at(&admin, &award, None, now - (80 - i as i64 * 14) * day)?;
        }
        Ok(())
    }
}

impl App {
    /// A catalog (culture rewards, gift cards, a donation, swag) and some
    /// redemption history: last month's statement is not empty, and a few
    /// redemptions wait in the fulfilment queue.
    fn demo_rewards(&self) -> Result<()> {
        use crate::rewards::NewReward;
        let org = self.org_by_slug(DEMO_SLUG)?;
        let Some(owner) = self.store.read(|tx| tx.member_by_email(&org.id, DEMO_OWNER_EMAIL))? else { return Ok(()) };
        let admin = self.caller_for(&org.id, &owner.id)?;
        let patch = plaudit_domain::org::OrgPatch {
            point_value_minor: Some(Some(10)),
            money_currency: Some(Some("EUR".into())),
            ..Default::default()
        };
        self.update_org(&admin, patch)?;
        let admin = self.caller_for(&org.id, &owner.id)?;
        let now = crate::now_ms();
        let day = 24 * 3600 * 1000;
        let last_month_start = plaudit_domain::period::month_of(now, &org.timezone)?.start_ms - 20 * day;
        let mut ids = Vec::new();
        for (kind, name, description, cost, face, stock, limit, approval) in DEMO_REWARDS {
            let r = self.create_reward_at(
                &admin,
                NewReward {
                    kind: *kind,
                    name: name.to_string(),
                    description: description.to_string(),
                    cost_points: *cost,
                    face_value_minor: *face,
                    currency: None,
                    stock: *stock,
                    per_member_monthly_limit: *limit,
                    requires_approval: Some(*approval),
                },
                last_month_start - 10 * day,
            )?;
            ids.push((r.id, r.kind));
        }
        // The demo member can redeem right away.
        if let Some(member) = self.store.read(|tx| tx.member_by_email(&org.id, DEMO_MEMBER_EMAIL))? {
            let award = crate::recognition::AwardRequest {
                recipients: vec![member.id.clone()],
                points: 500,
                message: "Welcome to the rewards catalog — treat yourself!".into(),
                values: vec![],
            };
            self.award_at(&admin, &award, None, now - 2 * day)?;
        }
        // Members with points redeem: most of it last month and fulfilled then.
        let members = self.store.read(|tx| {
            tx.list_members(&org.id, &MemberFilter { status: Some(Status::Active), ..Default::default() }, None, 2000)
        })?;
        let mut rng = Rng(0x0dd_ba11_cafe_f00d);
        let mut made = 0;
        let spenders: Vec<&plaudit_domain::member::Member> = members
            .iter()
            .filter(|m| m.id != owner.id && m.profile.email != DEMO_MEMBER_EMAIL && m.may_receive)
            .take(24)
            .collect();
        // Last quarter's spot awards, which they spend.
        let award = crate::recognition::AwardRequest {
            recipients: spenders.iter().map(|m| m.id.clone()).collect(),
            points: 300,
            message: "Quarterly spot award: thank you for an outstanding quarter!".into(),
            values: vec![],
        };
        self.award_at(&admin, &award, None, last_month_start - 5 * day)?;
        for m in spenders {
            let caller = self.caller_for(&org.id, &m.id)?;
            let recent = made >= 20;
            // The recent ones wait for approval (team breakfast, a book).
            let (reward_id, _) = if recent { &ids[1 + made % 2] } else { &ids[rng.below(ids.len())] };
            let at =
                if recent { now - (made as i64 - 19) * 3600 * 1000 } else { last_month_start + (made as i64) * day };
            let done = match self.redeem_at(&caller, reward_id, None, at) {
                Ok(done) => done,
                Err(e) => {
                    tracing::debug!(error = %e, "demo redemption skipped");
                    continue;
                }
            };
            made += 1;
            let r = done.redemption;
            if r.status == plaudit_domain::rewards::RedemptionStatus::Pending && !recent {
                let code =
                    (r.currency.is_some()).then(|| format!("DEMO-{:04}-{:04}", rng.below(10_000), rng.below(10_000)));
                self.fulfil_at(&admin, &r.id, code.as_deref(), Some("Enjoy!"), at + 3600 * 1000)?;
            }
        }
        Ok(())
    }
}

type DemoReward = (
    plaudit_domain::rewards::RewardKind,
    &'static str,
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
);

const DEMO_REWARDS: &[DemoReward] = {
    use plaudit_domain::rewards::RewardKind::*;
    &[
        (
            Culture,
            "Lunch with the CEO",
            "An hour over lunch with our CEO, on anything you like.",
            Some(200),
            None,
            Some(4),
            Some(1),
            true,
        ),
        (Culture, "Buy a book on us", "Any book you want, paper or e-book.", Some(150), None, None, Some(2), true),
        (
            Culture,
            "Team breakfast",
            "Breakfast for your team, delivered to the office.",
            Some(100),
            None,
            None,
            None,
            true,
        ),
        (Culture, "An extra day off", "One more day of holiday this year.", Some(800), None, None, Some(1), true),
        (
            GiftCard,
            "Bookshop gift card €25",
            "A digital gift card for the city bookshop.",
            None,
            Some(2500),
            None,
            None,
            true,
        ),
        (
            GiftCard,
            "Cinema gift card €15",
            "Two tickets, popcorn not included.",
            None,
            Some(1500),
            Some(30),
            None,
            true,
        ),
        (
            GiftCard,
            "Coffee voucher €5",
            "Coffee at the corner café, delivered at once.",
            None,
            Some(500),
            None,
            Some(4),
            false,
        ),
        (Donation, "Red Cross donation €10", "We donate €10 in your name.", None, Some(1000), None, None, false),
        (Swag, "Plaudit hoodie", "Soft, warm and very orange.", Some(300), None, Some(20), Some(1), true),
    ]
};

const DEMO_VALUES: &[(&str, &str, &str)] = &[
    ("Teamwork", "🤝", "We win together and share the credit."),
    ("Customer first", "💙", "We start from what our customers need."),
    ("Ownership", "🦉", "We take responsibility and see things through."),
    ("Curiosity", "🔭", "We ask why, learn fast and share what we learn."),
    ("Kindness", "🌱", "We look out for each other."),
];

const DEMO_MESSAGES: &[&str] = &[
    "Thank you for jumping in on the release night — we would not have shipped without you!",
    "Your onboarding notes saved the new team a week. Thanks for writing them down.",
    "Great customer call today: calm, clear and kind. 👏",
    "Thanks for reviewing my changes so quickly and so carefully.",
    "You untangled the quarterly numbers in an afternoon. Impressive!",
    "Merci pour ton aide avec la présentation — c'était parfait.",
    "ありがとうございます！ The workshop was a big success.",
    "धन्यवाद — your help with the migration was invaluable.",
    "Thanks for covering my shift at short notice. 🙏",
    "The new dashboard is beautiful and everyone is using it already.",
];

/// A small deterministic generator (xorshift64*) for the demo's history.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}
