//! Importing the directory from an HR export (CSV).
//!
//! The file is read twice and never held whole: the first pass checks every
//! row and collects only e-mail → manager links, so managers resolve
//! whatever the row order; the second pass writes the good rows. Everything
//! happens in one transaction, so a dry run is the same work rolled back.

use crate::events::{member_data, publish};
use crate::{audit_details, now_ms, App};
use plaudit_domain::directory::{resolve_managers, Columns, ImportRow, Link, Skip};
use plaudit_domain::events::EventKind;
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

/// The file as the CSV reader is fed it: every line break outside quoted
/// fields becomes one `\n`, and every blank line after the first content a
/// line holding one space (which the import skips like any blank row).
///
/// The csv crate numbers a record by the line where it started looking for
/// it, so after a `\r\n` (every Excel or Windows export) or a blank line it
/// reports one line too early. With only `\n` and no empty lines, its
/// numbers are the file's own line numbers.
struct LineBreaks<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    in_quotes: bool,
    /// A quote just closed a quoted field: a second one is an escaped quote.
    just_closed: bool,
    field_start: bool,
    after_cr: bool,
    line_start: bool,
    seen_content: bool,
}

impl<R: Read> LineBreaks<R> {
    fn new(inner: R) -> Self {
        LineBreaks {
            inner,
            buf: Vec::new(),
            pos: 0,
            in_quotes: false,
            just_closed: false,
            field_start: true,
            after_cr: false,
            line_start: true,
            seen_content: false,
        }
    }

    fn push(&mut self, b: u8) {
        let after_cr = std::mem::take(&mut self.after_cr);
        if self.in_quotes {
            if b == b'"' {
                self.in_quotes = false;
                self.just_closed = true;
            }
            self.buf.push(b);
            return;
        }
        let reopens = std::mem::take(&mut self.just_closed) && b == b'"';
        match b {
            b'\n' if after_cr => {} // the second half of \r\n
            b'\n' | b'\r' => {
                if self.line_start && self.seen_content {
                    self.buf.push(b' ');
                }
                self.buf.push(b'\n');
                self.after_cr = b == b'\r';
                self.line_start = true;
                self.field_start = true;
            }
            _ => {
                if b == b'"' && (self.field_start || reopens) {
                    self.in_quotes = true;
                }
                self.field_start = b == b',';
                self.line_start = false;
                self.seen_content = true;
                self.buf.push(b);
            }
        }
    }
}

impl<R: Read> Read for LineBreaks<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            let mut raw = [0u8; 16 * 1024];
            let n = self.inner.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            for &b in &raw[..n] {
                self.push(b);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One pass over the file: each data row as a parsed row or a skip.
fn for_each_row(
    source: &dyn ImportSource,
    mut f: impl FnMut(std::result::Result<ImportRow, Skip>) -> Result<()>,
) -> Result<()> {
    let mut reader = csv_reader(LineBreaks::new(source.open()?));
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

/// Indices of `links` ordered so that each row comes after the row of its
/// manager (rows at the same depth keep their file order). Rows in a loop of
/// managers (refused anyway) count as the top of their chain.
fn managers_first(links: &[Link], row_of: &HashMap<&str, usize>) -> Vec<usize> {
    let manager_row = |i: usize| links[i].manager.as_deref().and_then(|m| row_of.get(m).copied());
    let mut depth: Vec<Option<usize>> = vec![None; links.len()];
    let mut on_path = vec![false; links.len()];
    for start in 0..links.len() {
        let mut path = Vec::new();
        let mut current = Some(start);
        let mut above = None; // depth of the first row above the path whose depth is known
        while let Some(i) = current {
            if let Some(d) = depth[i] {
                above = Some(d);
                break;
            }
            if on_path[i] {
                break;
            }
            on_path[i] = true;
            path.push(i);
            current = manager_row(i);
        }
        for (d, &i) in (above.map_or(0, |d| d + 1)..).zip(path.iter().rev()) {
            depth[i] = Some(d);
            on_path[i] = false;
        }
    }
    let mut order: Vec<usize> = (0..links.len()).collect();
    order.sort_by_key(|&i| depth[i]);
    order
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

    // As by hand, the file may not deactivate the organisation's last active owner.
    let mut owners_left = tx.count_active_owners(org_id)?;
    let mut owner_refused = HashMap::new();
    for (i, link) in links.iter().enumerate() {
        let Some((id, Status::Active)) = existing.get(&link.email) else { continue };
        if statuses[i] != Status::Inactive || tx.member_by_id(org_id, id)?.is_none_or(|m| m.role != Role::Owner) {
            continue;
        }
        if owners_left > 1 {
            owners_left -= 1;
        } else {
            let reason = "an organisation needs at least one active owner; make someone else owner first".into();
            owner_refused.insert(i, Skip { line: link.line, email: link.email.clone(), code: "last_owner", reason });
        }
    }

    let mut refused = resolve_managers(&links, &existing_managers, owner_refused);

    // The free plan's limit: deactivations in the file free places first,
    // then activations are taken in file order until the plan is full, each
    // manager before their reports, and never for a row that will be
    // skipped anyway because its (new) manager did not get a place.
    let mut active = tx.count_active_members(org_id)?;
    let deactivates = |i: usize, link: &Link| {
        statuses[i] == Status::Inactive && existing.get(&link.email).is_some_and(|(_, s)| *s == Status::Active)
    };
    for (i, link) in links.iter().enumerate() {
        if !refused.contains_key(&i) && deactivates(i, link) {
            active -= 1;
        }
    }
    let row_of: HashMap<&str, usize> = links.iter().enumerate().map(|(i, l)| (l.email.as_str(), i)).collect();
    let mut blocked: HashSet<usize> = HashSet::new();
    let mut plan_refused = HashMap::new();
    for i in managers_first(&links, &row_of) {
        let link = &links[i];
        if refused.contains_key(&i) {
            continue;
        }
        let manager_blocked = link
            .manager
            .as_deref()
            .is_some_and(|m| row_of.get(m).is_some_and(|mi| blocked.contains(mi)) && !existing.contains_key(m));
        if manager_blocked {
            blocked.insert(i);
            if deactivates(i, link) {
                active += 1; // not imported, so not deactivated either
            }
            continue;
        }
        let activates =
            statuses[i] == Status::Active && existing.get(&link.email).is_none_or(|(_, s)| *s == Status::Inactive);
        if !activates {
            continue;
        }
        match check_activation_allowed(org.plan, active) {
            Ok(()) => active += 1,
            Err(e) => {
                blocked.insert(i);
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
                let member = Member {
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
                };
                tx.insert_member(&member)?;
                publish(tx, org_id, EventKind::MemberCreated, member_data(&member), now)?;
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
                            publish(tx, org_id, EventKind::MemberDeactivated, member_data(&after), now)?;
                            report.deactivated += 1;
                        }
                        (Status::Inactive, Status::Active) => report.reactivated += 1,
                        _ => {}
                    }
                }
            }
        }
        written += 1;
        if written.is_multiple_of(256) || written == total {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out one byte per read, so state must carry across reads.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), out.is_empty()) {
                (Some((b, rest)), false) => {
                    out[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn lines_of(data: &str) -> Vec<(u64, Vec<String>)> {
        let mut out = Vec::new();
        for trickle in [false, true] {
            let input: Box<dyn Read> =
                if trickle { Box::new(Trickle(data.as_bytes())) } else { Box::new(data.as_bytes()) };
            let mut reader = csv_reader(LineBreaks::new(input));
            let mut rows = Vec::new();
            for record in reader.records() {
                let record = record.unwrap();
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                rows.push((record.position().unwrap().line(), record.iter().map(str::to_string).collect()));
            }
            if trickle {
                assert_eq!(rows, out, "the same whatever the read sizes");
            } else {
                out = rows;
            }
        }
        out
    }

    fn row(line: u64, fields: &[&str]) -> (u64, Vec<String>) {
        (line, fields.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn line_numbers_are_the_files_whatever_the_line_breaks() {
        let want = vec![row(2, &["1", "2"]), row(3, &["3", "4"])];
        for data in ["a,b\n1,2\n3,4\n", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4", "\u{feff}a,b\r\n1,2\r\n3,4"] {
            assert_eq!(lines_of(data), want, "{data:?}");
        }
        let blank = vec![row(4, &["1", "2"]), row(7, &["3", "4"])];
        assert_eq!(lines_of("\na,b\n\n1,2\n\n\n3,4\n\n"), blank);
        assert_eq!(lines_of("\r\na,b\r\n\r\n1,2\r\n\r\n\r\n3,4\r\n\r\n"), blank);
    }

    #[test]
    fn quoted_fields_keep_their_line_breaks_and_quotes() {
        let data = "a,b\r\n\"x\r\n\r\ny\",\"say \"\"hi\"\"\r\n\"\r\n5\" screen,\"z\"\r\nlast,\"\"\r\n";
        assert_eq!(
            lines_of(data),
            vec![row(2, &["x\r\n\r\ny", "say \"hi\"\r\n"]), row(6, &["5\" screen", "z"]), row(7, &["last", ""])]
        );
    }
}
