//! Rules of the directory import: reading one HR-export row, and resolving
//! manager links across the whole file, whatever the row order.

use crate::email;
use crate::member::{Profile, Status};
use crate::Error;
use serde::Serialize;
use std::collections::HashMap;

/// A row that was not imported, and why. `line` is the file's line number
/// (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub line: u64,
    pub email: String,
    pub code: &'static str,
    pub reason: String,
}

/// One valid row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: u64,
    pub profile: Profile,
    /// Normalised e-mail of the manager, or empty for none.
    pub manager_email: String,
    pub status: Status,
}

impl ImportRow {
    pub fn email_key(&self) -> String {
        email::normalize(&self.profile.email)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    EmployeeId,
    Email,
    FirstName,
    LastName,
    DisplayName,
    Title,
    Department,
    Location,
    ManagerEmail,
    StartDate,
    Birthday,
    Gender,
    Status,
}

/// Which position each known column has in this file. Header names are
/// matched case-insensitively, ignoring spaces, hyphens and underscores, so
/// `Employee ID`, `employee_id` and `EmployeeId` all work.
#[derive(Debug, Clone)]
pub struct Columns {
    positions: Vec<(Column, usize)>,
}

impl Columns {
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Columns, Error> {
        let mut positions = Vec::new();
        for (i, header) in headers.into_iter().enumerate() {
            let key: String = header
                .trim_start_matches('\u{feff}')
                .chars()
                .filter(|c| !matches!(c, ' ' | '_' | '-'))
                .collect::<String>()
                .to_lowercase();
            let column = match key.as_str() {
                "employeeid" | "employeenumber" => Column::EmployeeId,
                "email" | "emailaddress" | "workemail" => Column::Email,
                "firstname" | "givenname" => Column::FirstName,
                "lastname" | "familyname" | "surname" => Column::LastName,
                "displayname" | "name" | "fullname" => Column::DisplayName,
                "title" | "jobtitle" | "jobrole" => Column::Title,
                "department" => Column::Department,
                "location" | "office" => Column::Location,
                "manageremail" | "manager" => Column::ManagerEmail,
                "startdate" | "hiredate" => Column::StartDate,
                "birthday" | "birthdate" | "dateofbirth" => Column::Birthday,
                "gender" => Column::Gender,
                "status" | "employmentstatus" => Column::Status,
                _ => continue,
            };
            if !positions.iter().any(|(c, _)| *c == column) {
                positions.push((column, i));
            }
        }
        if !positions.iter().any(|(c, _)| *c == Column::Email) {
            return Err(Error::invalid("file", "the file has no email column; the header must name one"));
        }
        Ok(Columns { positions })
    }

    fn get<'r>(&self, column: Column, fields: &[&'r str]) -> &'r str {
        self.positions.iter().find(|(c, _)| *c == column).and_then(|(_, i)| fields.get(*i).copied()).unwrap_or("")
    }

    /// Reads one data row.
    pub fn row(&self, line: u64, fields: &[&str]) -> Result<ImportRow, Skip> {
        let raw_email = self.get(Column::Email, fields).trim().to_string();
        let skip = |err: Error| Skip {
            line,
            email: raw_email.clone(),
            code: match err.field.as_deref() {
                Some("email") => "invalid_email",
                Some("status") => "unknown_status",
                Some("manager_email") => "invalid_manager",
                _ => "invalid_field",
            },
            reason: err.message,
        };
        let profile = Profile {
            email: raw_email.clone(),
            employee_id: self.get(Column::EmployeeId, fields).into(),
            first_name: self.get(Column::FirstName, fields).into(),
            last_name: self.get(Column::LastName, fields).into(),
            display_name: self.get(Column::DisplayName, fields).into(),
            title: self.get(Column::Title, fields).into(),
            department: self.get(Column::Department, fields).into(),
            location: self.get(Column::Location, fields).into(),
            start_date: self.get(Column::StartDate, fields).into(),
            birthday: self.get(Column::Birthday, fields).into(),
            gender: self.get(Column::Gender, fields).into(),
        }
        .validated()
        .map_err(skip)?;
        let status = Status::parse("status", self.get(Column::Status, fields)).map_err(skip)?;
        let manager = self.get(Column::ManagerEmail, fields).trim();
        let manager_email = if manager.is_empty() {
            String::new()
        } else {
            email::validate("manager_email", manager).map_err(skip)?;
            email::normalize(manager)
        };
        Ok(ImportRow { line, profile, manager_email, status })
    }
}

/// A file row's manager link, for resolving the whole file at once.
#[derive(Debug, Clone)]
pub struct Link {
    pub line: u64,
    pub email: String,
    pub manager: Option<String>,
}

/// Decides which rows must be skipped because of their manager: unknown
/// managers, loops in the final chain (including members already in the
/// directory who are not in the file), and rows whose manager is itself a
/// skipped new row. `existing` maps each current member's e-mail to their
/// current manager's e-mail; `skips` holds rows already refused for other
/// reasons (their dependants cascade too). Returns the skips by index into
/// `links`.
pub fn resolve_managers(
    links: &[Link],
    existing: &HashMap<String, Option<String>>,
    mut skips: HashMap<usize, Skip>,
) -> HashMap<usize, Skip> {
    let by_email: HashMap<&str, usize> = links.iter().enumerate().map(|(i, l)| (l.email.as_str(), i)).collect();
    let skip = |skips: &mut HashMap<usize, Skip>, i: usize, code: &'static str, reason: String| {
        skips.entry(i).or_insert_with(|| Skip { line: links[i].line, email: links[i].email.clone(), code, reason });
    };

    for (i, link) in links.iter().enumerate() {
        if let Some(m) = &link.manager {
            if !by_email.contains_key(m.as_str()) && !existing.contains_key(m) {
                skip(
                    &mut skips,
                    i,
                    "unknown_manager",
                    format!("manager {m} is neither in the file nor in the directory"),
                );
            }
        }
    }

    loop {
        let before = skips.len();
        // The chain as it would be after the import: a kept row's link, else the directory's.
        let manager_of = |email: &str, skips: &HashMap<usize, Skip>| -> Option<String> {
            match by_email.get(email) {
                Some(&i) if !skips.contains_key(&i) => links[i].manager.clone(),
                _ => existing.get(email).cloned().flatten(),
            }
        };

        // Cycle search: each walk stops at a node already finished.
        let mut finished: HashMap<String, ()> = HashMap::new();
        let mut on_cycle: Vec<String> = Vec::new();
        for (i, link) in links.iter().enumerate() {
            if skips.contains_key(&i) || finished.contains_key(&link.email) {
                continue;
            }
            let mut path: Vec<String> = Vec::new();
            let mut position: HashMap<String, usize> = HashMap::new();
            let mut current = Some(link.email.clone());
            while let Some(email) = current {
                if finished.contains_key(&email) {
                    break;
                }
                if let Some(&start) = position.get(&email) {
                    on_cycle.extend(path[start..].iter().cloned());
                    break;
                }
                position.insert(email.clone(), path.len());
                path.push(email.clone());
                current = manager_of(&email, &skips);
            }
            for email in path {
                finished.insert(email, ());
            }
        }
        for email in &on_cycle {
            if let Some(&i) = by_email.get(email.as_str()) {
                if !skips.contains_key(&i) {
                    let chain = links[i].manager.clone().unwrap_or_default();
                    skip(
                        &mut skips,
                        i,
                        "manager_cycle",
                        format!("making {chain} the manager would close a loop of managers"),
                    );
                }
            }
        }

        // A row whose manager is a skipped row that does not exist yet has no manager to point to.
        for (i, link) in links.iter().enumerate() {
            if skips.contains_key(&i) {
                continue;
            }
            if let Some(m) = &link.manager {
                if let Some(&mi) = by_email.get(m.as_str()) {
                    if skips.contains_key(&mi) && !existing.contains_key(m) {
                        let line = links[mi].line;
                        skip(
                            &mut skips,
                            i,
                            "manager_not_imported",
                            format!("manager {m} (line {line}) was not imported"),
                        );
                    }
                }
            }
        }
        if skips.len() == before {
            return skips;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(line: u64, email: &str, manager: &str) -> Link {
        Link { line, email: email.into(), manager: (!manager.is_empty()).then(|| manager.to_string()) }
    }

    #[test]
    fn headers_match_loosely_and_need_an_email() {
        let cols = Columns::from_headers(["\u{feff}Employee ID", "E-Mail", "Manager_Email", "Status"]).unwrap();
        let row = cols.row(2, &["E1", "Ana@Example.com", "Boss@Example.com", "Active"]).unwrap();
        assert_eq!(row.profile.employee_id, "E1");
        assert_eq!(row.manager_email, "boss@example.com");
        assert_eq!(row.email_key(), "ana@example.com");
        assert!(Columns::from_headers(["name", "title"]).is_err());
    }

    #[test]
    fn bad_rows_get_codes() {
        let cols = Columns::from_headers(["email", "status", "manager_email"]).unwrap();
        assert_eq!(cols.row(2, &["nope", "active", ""]).unwrap_err().code, "invalid_email");
        assert_eq!(cols.row(3, &["", "active", ""]).unwrap_err().code, "invalid_email");
        let s = cols.row(4, &["a@b.co", "retired", ""]).unwrap_err();
        assert_eq!((s.code, s.line), ("unknown_status", 4));
    }

    #[test]
    fn managers_resolve_in_any_order() {
        let links = [link(2, "c@x.io", "b@x.io"), link(3, "b@x.io", "a@x.io"), link(4, "a@x.io", "")];
        assert!(resolve_managers(&links, &HashMap::new(), HashMap::new()).is_empty());
    }

    #[test]
    fn unknown_manager_cycle_and_cascade() {
        let links = [
            link(2, "a@x.io", "b@x.io"),
            link(3, "b@x.io", "a@x.io"),
            link(4, "c@x.io", "a@x.io"),
            link(5, "d@x.io", "ghost@x.io"),
            link(6, "e@x.io", "e@x.io"),
            link(7, "f@x.io", "old@x.io"),
        ];
        let existing: HashMap<String, Option<String>> = [("old@x.io".to_string(), None)].into();
        let skips = resolve_managers(&links, &existing, HashMap::new());
        assert_eq!(skips[&0].code, "manager_cycle");
        assert_eq!(skips[&1].code, "manager_cycle");
        assert_eq!(skips[&2].code, "manager_not_imported");
        assert_eq!(skips[&3].code, "unknown_manager");
        assert_eq!(skips[&4].code, "manager_cycle");
        assert!(!skips.contains_key(&5));
    }

    #[test]
    fn cycles_through_existing_members_are_found() {
        // In the directory b reports to a; the file makes a report to b.
        let existing: HashMap<String, Option<String>> =
            [("a@x.io".to_string(), None), ("b@x.io".to_string(), Some("a@x.io".to_string()))].into();
        let skips = resolve_managers(&[link(2, "a@x.io", "b@x.io")], &existing, HashMap::new());
        assert_eq!(skips[&0].code, "manager_cycle");
    }
}
