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
