//! `Idempotency-Key` for POSTs that move points: the key is claimed inside
//! the same transaction as the work, so a repeat returns the first answer
//! and a concurrent repeat waits for it.

use crate::auth::Caller;
use crate::App;
use plaudit_domain::{Error, Result};
use plaudit_store::Tx;

/// Longest key accepted.
const MAX_KEY_LEN: usize = 200;

impl App {
    /// Runs `work` (which returns the id of what it created) once per key
    /// of this member. Returns the id and whether it is a replay; the same
    /// key with another `request_hash` is refused.
    pub(crate) fn write_once<F>(
        &self,
        caller: &Caller,
        key: Option<&str>,
        request_hash: &str,
        now: i64,
        mut work: F,
    ) -> Result<(String, bool)>
    where
        F: FnMut(&mut Tx, i64) -> Result<String>,
    {
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        if key.is_some_and(|k| k.len() > MAX_KEY_LEN) {
            return Err(Error::invalid(
                "Idempotency-Key",
                format!("the Idempotency-Key is longer than {MAX_KEY_LEN} characters"),
            ));
        }
        let (org_id, member_id) = (caller.org.id.as_str(), caller.member.id.as_str());
        self.store.write(|tx| {
            if let Some(key) = key {
                if let Some(stored) = tx.claim_idempotency_key(org_id, member_id, key, request_hash, now)? {
                    if stored.request_hash != request_hash {
                        return Err(Error::invalid(
                            "Idempotency-Key",
                            "this Idempotency-Key was used for a different request",
                        )
                        .with_code("idempotency_key_reused"));
                    }
                    return Ok((stored.response, true));
                }
            }
            let id = work(tx, now)?;
            if let Some(key) = key {
                tx.save_idempotent_answer(org_id, member_id, key, 201, &id)?;
            }
            Ok((id, false))
        })
    }
}
