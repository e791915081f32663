//! The daily celebrations: work anniversaries and birthdays posted to the
//! feed in each organisation's time zone, optionally with a company award.
//! Each is claimed in the same transaction as its post, so a job that runs
//! twice, or on several instances at once, posts it once.

use crate::recognition::post_award;
use crate::{now_ms, App};
use plaudit_domain::recognition::{Kind, Recipient};
use plaudit_domain::Result;
use plaudit_store::new_id;

/// English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st …
fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl App {
    /// Posts today's celebrations in every organisation; returns how many
    /// were posted now.
    pub fn run_celebrations(&self) -> Result<u64> {
        self.run_celebrations_at(now_ms())
    }

    pub fn run_celebrations_at(&self, now: i64) -> Result<u64> {
        let mut posted = 0;
        for org in self.list_orgs()?.into_iter().filter(|o| o.celebrations_enabled) {
            let Ok(tz) = jiff::tz::TimeZone::get(&org.timezone) else { continue };
            let Ok(at) = jiff::Timestamp::from_millisecond(now) else { continue };
            let today = at.to_zoned_datetime(tz).date();
            let mut days = vec![format!("{:02}-{:02}", today.month(), today.day())];
            // Those born on 29 February celebrate on the 28th in other years.
            if today.month() == 2 && today.day() == 28 && !today.in_leap_year() {
                days.push("02-29".into());
            }
            for day in days {
                let members = self.store.read(|tx| tx.members_celebrating(&org.id, &day))?;
                for m in members {
                    let name = &m.profile.display_name;
                    let mut occasions = Vec::new();
                    if m.profile.birthday == day {
                        occasions.push(("birthday", format!("Happy birthday, {name}! 🎂"), org.birthday_award_points));
                    }
                    if let Ok(start) = m.profile.start_date.parse::<jiff::civil::Date>() {
                        let years = i64::from(today.year() - start.year());
                        if years >= 1 && m.profile.start_date.ends_with(&day) {
                            occasions.push((
                                "work_anniversary",
                                format!("Happy {} work anniversary, {name}! 🎉", ordinal(years)),
                                org.anniversary_award_points,
                            ));
                        }
                    }
                    for (occasion, message, points) in occasions {
                        let created = self.store.write(|tx| {
                            let id = new_id();
                            if !tx.claim_celebration(&org.id, &m.id, occasion, i64::from(today.year()), &id)? {
                                return Ok(false);
                            }
                            let recipients = vec![Recipient {
                                member_id: m.id.clone(),
                                points: if m.may_receive { points.max(0) } else { 0 },
                            }];
                            post_award(tx, &org, &id, Kind::Celebration, None, &message, recipients, vec![], now)?;
                            Ok(true)
                        })?;
                        posted += u64::from(created);
                    }
                }
            }
        }
        Ok(posted)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].iter().map(|n| super::ordinal(*n)).collect();
        assert_eq!(got, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]);
    }
}
