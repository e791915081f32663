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
        "created_at": time(o.created_at),
    })
}

pub fn page(items: Vec<Value>, next_cursor: Option<String>) -> Value {
    json!({ "items": items, "next_cursor": next_cursor })
}
