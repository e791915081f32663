//! Publishing what happened. `publish` is called inside the transaction that
//! makes the change, and queues one `event` job (the outbox), so an event is
//! never lost and never told of a change that rolled back. The job fans the
//! event out to its subscribers (see `App::fan_out`).

use crate::jobs::EVENT_JOB;
use plaudit_domain::events::{Event, EventKind};
use plaudit_domain::member::Member;
use plaudit_domain::okr::CheckIn;
use plaudit_domain::recognition::Recognition;
use plaudit_domain::rewards::Redemption;
use plaudit_domain::Result;
use plaudit_store::{new_id, Tx};
use serde_json::{json, Value};

/// Queues `kind` with `data` for fan-out after the transaction commits.
pub(crate) fn publish(tx: &mut Tx, org_id: &str, kind: EventKind, data: Value, now: i64) -> Result<()> {
    let event = Event { id: new_id(), kind, org_id: org_id.to_string(), occurred_at: now, data };
    let payload = serde_json::to_string(&event).map_err(|e| plaudit_domain::Error::internal(e.to_string()))?;
    tx.enqueue_job(org_id, EVENT_JOB, &payload, None, now, now)?;
    Ok(())
}

/// RFC 3339 UTC, as the API writes times.
pub fn time(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms).map(|t| Value::String(t.to_string())).unwrap_or(Value::Null)
}

pub fn recognition_data(r: &Recognition) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind,
        "giver_id": r.giver_id,
        "recipient_ids": r.recipients.iter().map(|x| &x.member_id).collect::<Vec<_>>(),
        "points": r.points,
        "message": r.message,
        "value_ids": r.value_ids,
        "key_result_id": r.key_result_id,
        "created_at": time(r.created_at),
    })
}

/// A redemption without its code or note: those stay with the member and admins.
pub fn redemption_data(r: &Redemption) -> Value {
    json!({
        "id": r.id,
        "reward_id": r.reward_id,
        "member_id": r.member_id,
        "points": r.points,
        "status": r.status,
        "face_value_minor": r.face_value_minor,
        "currency": r.currency,
        "created_at": time(r.created_at),
        "updated_at": time(r.updated_at),
    })
}

pub fn member_data(m: &Member) -> Value {
    json!({
        "id": m.id,
        "email": m.profile.email,
        "employee_id": m.profile.employee_id,
        "display_name": m.profile.display_name,
        "department": m.profile.department,
        "title": m.profile.title,
        "manager_id": m.manager_id,
        "status": m.status,
        "role": m.role,
    })
}

pub fn check_in_data(c: &CheckIn) -> Value {
    json!({
        "id": c.id,
        "key_result_id": c.key_result_id,
        "member_id": c.member_id,
        "value": c.value,
        "confidence": c.confidence,
        "note": c.note,
        "created_at": time(c.created_at),
    })
}
