//! The demo organisation of `plaudit serve --demo`: a paid organisation
//! with a realistic directory of 1,470 people (bundled), created once.

use crate::orgs::NewOrg;
use crate::{App, CsvBytes};
use plaudit_domain::org::Plan;
use plaudit_domain::Result;

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
        Ok(login(true))
    }
}
