//! Importing the directory from an HR export (CSV).
//!
//! The file is read twice and never held whole: the first pass checks every
//! row and collects only e-mail → manager links, so managers resolve
//! whatever the row order; the second pass writes the good rows. Everything
//! happens in one transaction, so a dry run is the same work rolled back.

use crate::{audit_details, now_ms, App};
use plaudit_domain::directory::{resolve_managers, Columns, ImportRow, Link, Skip};
use plaudit_domain::member::{Member, Role, Status};
use plaudit_domain::org::check_activation_allowed;
use plaudit_domain::{email, Error, Result};
use plaudit_store::{new_id, Tx};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// Where the CSV comes from; `open` is called once per pass.
pub trait ImportSource {
    fn open(&self) -> Result<Box<dyn Read + '_>>;
}

/// A CSV already in memory (an API upload).
pub struct CsvBytes<'a>(pub &'a [u8]);

impl ImportSource for CsvBytes<'_> {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.0))
    }
}

impl ImportSource for std::path::PathBuf {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        let file = std::fs::File::open(self)
            .map_err(|e| Error::invalid("file", format!("cannot read {}: {e}", self.display())))?;
        Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, file)))
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Of the updated: active members the file marks inactive.
    pub deactivated: u64,
    /// Of the updated: inactive members the file marks active again.
    pub reactivated: u64,
    pub skipped: Vec<Skip>,
}

impl ImportReport {
    /// True when the import changed nothing.
    pub fn no_changes(&self) -> bool {
        self.created == 0 && self.updated == 0
    }
}

/// Progress callback: rows written so far, rows in the file.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

fn csv_reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(r)
}

/// One pass over the file: each data row as a parsed row or a skip.
fn for_each_row(
    source: &dyn ImportSource,
    mut f: impl FnMut(std::result::Result<ImportRow, Skip>) -> Result<()>,
) -> Result<()> {
    let mut reader = csv_reader(source.open()?);
    let headers =
        reader.headers().map_err(|e| Error::invalid("file", format!("cannot read the header line: {e}")))?.clone();
    let columns = Columns::from_headers(headers.iter())?;
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue; // blank line
                }
                let fields: Vec<&str> = record.iter().collect();
                f(columns.row(line, &fields))?;
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                let reason = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
                    _ => format!("the row cannot be read: {e}"),
                };
                f(Err(Skip { line, email: String::new(), code: "unreadable_row", reason }))?;
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }) {
                    return Ok(()); // an I/O error: nothing more can be read
                }
            }
        }
    }
}

impl App {
    /// Imports or updates the members of `org_slug` from a CSV. Bad rows
    /// are reported and never stop the good ones; a re-run is a no-op.
    pub fn import_members(
        &self,
        org_slug: &str,
        actor_id: Option<&str>,
        source: &dyn ImportSource,
        dry_run: bool,
        progress: Progress,
    ) -> Result<ImportReport> {
        let org = self.org_by_slug(org_slug)?;
        let work = |tx: &mut Tx| import_in(tx, &org.id, actor_id, source, dry_run, progress);
        if dry_run {
            self.store.rehearse(work)
        } else {
            self.store.write(work)
        }
    }
}

fn import_in(
    tx: &mut Tx,
    org_id: &str,
    actor_id: Option<&str>,
    source: &dyn ImportSource,
    dry_run: bool,
    progress: Progress,
) -> Result<ImportReport> {
    let now = now_ms();
    tx.lock_org(org_id)?;
    let org = tx.org_by_id(org_id)?.ok_or_else(|| Error::not_found("organisation"))?;
    let mut report = ImportReport { dry_run, ..Default::default() };

    // Pass 1: check rows, find duplicates, collect manager links.
    let mut links: Vec<Link> = Vec::new();
    let mut statuses: Vec<Status> = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut skips: Vec<Skip> = Vec::new();
    for_each_row(source, |row| {
        report.rows += 1;
        match row {
            Err(skip) => skips.push(skip),
            Ok(row) => {
                let key = row.email_key();
                if let Some(first) = first_line.get(&key) {
                    skips.push(Skip {
                        line: row.line,
                        email: row.profile.email,
                        code: "duplicate_email",
                        reason: format!("the same e-mail is already on line {first}"),
                    });
                } else {
                    first_line.insert(key.clone(), row.line);
                    statuses.push(row.status);
                    links.push(Link {
                        line: row.line,
                        email: key,
                        manager: (!row.manager_email.is_empty()).then_some(row.manager_email),
                    });
                }
            }
        }
        Ok(())
    })?;

    let existing_links = tx.existing_links(org_id)?;
    let existing_managers: HashMap<String, Option<String>> =
        existing_links.iter().map(|l| (l.email_norm.clone(), l.manager_email_norm.clone())).collect();
    let existing: HashMap<String, (String, Status)> =
        existing_links.into_iter().map(|l| (l.email_norm, (l.id, l.status))).collect();

    let mut refused = resolve_managers(&links, &existing_managers, HashMap::new());

    // The free plan's limit: deactivations in the file free places first,
    // then activations are taken in file order until the plan is full.
    let mut active = tx.count_active_members(org_id)?;
    for (i, link) in links.iter().enumerate() {
        if !refused.contains_key(&i)
            && statuses[i] == Status::Inactive
            && existing.get(&link.email).is_some_and(|(_, s)| *s == Status::Active)
        {
            active -= 1;
        }
    }
    let mut plan_refused = HashMap::new();
    for (i, link) in links.iter().enumerate() {
        let activates =
            statuses[i] == Status::Active && existing.get(&link.email).is_none_or(|(_, s)| *s == Status::Inactive);
        if refused.contains_key(&i) || !activates {
            continue;
        }
        match check_activation_allowed(org.plan, active) {
            Ok(()) => active += 1,
            Err(e) => {
                plan_refused.insert(
                    i,
                    Skip { line: link.line, email: link.email.clone(), code: "plan_limit", reason: e.message },
                );
            }
        }
    }
    if !plan_refused.is_empty() {
        plan_refused.extend(refused);
        refused = resolve_managers(&links, &existing_managers, plan_refused);
    }
    let refused_lines: HashSet<u64> = refused.values().map(|s| s.line).collect();
    skips.extend(refused.into_values());

    // Ids for every member the file will have, so manager links are set in one pass.
    let mut ids: HashMap<String, String> = existing.iter().map(|(e, (id, _))| (e.clone(), id.clone())).collect();
    for (i, link) in links.iter().enumerate() {
        if !refused_lines.contains(&link.line) && !ids.contains_key(&link.email) {
            ids.insert(link.email.clone(), new_id());
        }
        let _ = i;
    }

    // Pass 2: write the good rows.
    let total = links.len() as u64;
    let mut written = 0u64;
    let mut kept_lines: HashSet<u64> = links.iter().map(|l| l.line).collect();
    kept_lines.retain(|l| !refused_lines.contains(l));
    for_each_row(source, |row| {
        let Ok(row) = row else { return Ok(()) };
        if !kept_lines.remove(&row.line) {
            return Ok(()); // refused, or a later duplicate
        }
        let key = row.email_key();
        let manager_id = (!row.manager_email.is_empty()).then(|| ids.get(&row.manager_email).cloned()).flatten();
        let id = ids.get(&key).cloned().ok_or_else(|| Error::internal("import lost a member id"))?;
        match existing.get(&key) {
            None => {
                tx.insert_member(&Member {
                    id,
                    org_id: org_id.to_string(),
                    profile: row.profile,
                    manager_id,
                    status: row.status,
                    role: Role::Member,
                    may_give: true,
                    may_receive: true,
                    allowance_override: None,
                    password_hash: None,
                    created_at: now,
                    updated_at: now,
                })?;
                report.created += 1;
            }
            Some(_) => {
                let before =
                    tx.member_by_id(org_id, &id)?.ok_or_else(|| Error::internal("member vanished during import"))?;
                let mut after = before.clone();
                after.profile = row.profile;
                after.manager_id = manager_id;
                after.status = row.status;
                if after == before {
                    report.unchanged += 1;
                } else {
                    after.updated_at = now;
                    tx.update_member(&after)?;
                    report.updated += 1;
                    match (before.status, after.status) {
                        (Status::Active, Status::Inactive) => {
                            tx.delete_member_sessions(org_id, &after.id)?;
                            report.deactivated += 1;
                        }
                        (Status::Inactive, Status::Active) => report.reactivated += 1,
                        _ => {}
                    }
                }
            }
        }
        written += 1;
        if written % 256 == 0 || written == total {
            progress(written, total);
        }
        Ok(())
    })?;

    skips.sort_by_key(|s| s.line);
    report.skipped = skips;
    if !report.no_changes() {
        let summary = serde_json::json!({
            "created": report.created, "updated": report.updated, "deactivated": report.deactivated,
            "skipped": report.skipped.len(),
        });
        tx.insert_audit(org_id, actor_id, "members.imported", org_id, &audit_details(summary), now)?;
    }
    Ok(report)
}

/// E-mail normalisation used by callers that match import rows.
pub fn email_key(address: &str) -> String {
    email::normalize(address)
}
