//! The JSON shapes of API.md. Times are RFC 3339; points and money integers.

use plaudit_domain::member::Member;
use plaudit_domain::org::Org;
use serde_json::{json, Value};

pub fn time(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms).map(|t| Value::String(t.to_string())).unwrap_or(Value::Null)
}

fn opt(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

pub fn member(m: &Member) -> Value {
    let p = &m.profile;
    json!({
        "id": m.id,
        "email": p.email,
        "employee_id": opt(&p.employee_id),
        "display_name": p.display_name,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "title": p.title,
        "department": p.department,
        "location": p.location,
        "manager_id": m.manager_id,
        "start_date": opt(&p.start_date),
        "birthday": opt(&p.birthday),
        "gender": opt(&p.gender),
        "status": m.status,
        "role": m.role,
        "may_give": m.may_give,
        "may_receive": m.may_receive,
        "allowance_override": m.allowance_override,
        "created_at": time(m.created_at),
        "updated_at": time(m.updated_at),
    })
}

pub fn org(o: &Org) -> Value {
    json!({
        "id": o.id,
        "slug": o.slug,
        "name": o.name,
        "timezone": o.timezone,
        "plan": o.plan,
        "currency": o.currency,
        "point_value_minor": o.point_value_minor,
        "money_currency": o.money_currency,
        "default_allowance": o.default_allowance,
        "max_points_per_recognition": o.max_points_per_recognition,
        "allow_zero_point_posts": o.allow_zero_point_posts,
        "require_value": o.require_value,
        "max_points_per_recipient_per_month": o.max_points_per_recipient_per_month,
        "celebrations_enabled": o.celebrations_enabled,
        "anniversary_award_points": o.anniversary_award_points,
        "birthday_award_points": o.birthday_award_points,
        "created_at": time(o.created_at),
    })
}

pub fn page(items: Vec<Value>, next_cursor: Option<String>) -> Value {
    json!({ "items": items, "next_cursor": next_cursor })
}

pub fn value(v: &plaudit_domain::recognition::CompanyValue) -> Value {
    json!({
        "id": v.id, "name": v.name, "emoji": v.emoji, "description": v.description,
        "position": v.position, "archived": v.archived,
    })
}

pub fn recognition(r: &plaudit_domain::recognition::Recognition) -> Value {
    let total: i64 = r.recipients.iter().map(|x| x.points + r.addon_points).sum();
    json!({
        "id": r.id,
        "kind": r.kind,
        "giver_id": r.giver_id,
        "recipient_ids": r.recipients.iter().map(|x| x.member_id.clone()).collect::<Vec<_>>(),
        "recipients": r.recipients.iter().map(|x| json!({"id": x.member_id, "points": x.points})).collect::<Vec<_>>(),
        "points": r.points,
        "addon_points": r.addon_points,
        "total_points": total,
        "message": r.message,
        "value_ids": r.value_ids,
        "key_result_id": r.key_result_id,
        "created_at": time(r.created_at),
        "reactions": r.reactions.iter().map(|x| json!({"emoji": x.emoji, "count": x.count})).collect::<Vec<_>>(),
        "comment_count": r.comment_count,
    })
}

pub fn comment(c: &plaudit_domain::recognition::Comment) -> Value {
    json!({"id": c.id, "recognition_id": c.recognition_id, "member_id": c.member_id, "body": c.body, "created_at": time(c.created_at)})
}

pub fn balance(b: &plaudit_app::recognition::Balance) -> Value {
    json!({
        "allowance": {"period": b.period, "total": b.total, "remaining": b.remaining, "resets_at": time(b.resets_at)},
        "earned": {"balance": b.earned},
    })
}

pub fn ledger_entry(e: &plaudit_store::LedgerEntry) -> Value {
    json!({
        "id": e.id, "member_id": e.member_id, "account": e.account, "kind": e.kind,
        "amount": e.amount, "reference": e.reference, "created_at": time(e.created_at),
    })
}
