//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON, in the RFC's form
//! and in the forms Microsoft Entra ID sends by default: capitalised `op`s,
//! path-less operations whose value object has dotted or URN-qualified keys,
//! `emails[type eq "work"].value` paths that create the item they name, and
//! member removal by a list of values.
//!
//! The result is the whole resource as the client wants it; the caller then
//! stores it as if it had been PUT.

use super::filter::{get_ci, parse_patch_path, AttrPath, PatchPath};
use super::{invalid_path, invalid_syntax, invalid_value, no_target, EXTENSION_URNS};
use crate::Result;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// Attributes that hold lists; a single value added to one is appended.
const MULTI_VALUED: &[&str] =
    &["emails", "members", "phoneNumbers", "addresses", "ims", "photos", "entitlements", "roles", "x509Certificates"];

fn is_multi(attr: &str) -> bool {
    MULTI_VALUED.iter().any(|m| m.eq_ignore_ascii_case(attr))
}

/// Reads a PatchOp request body.
pub fn parse_operations(body: &Value) -> Result<Vec<Operation>> {
    let ops = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_syntax("a PatchOp needs an Operations list"))?;
    if ops.is_empty() {
        return Err(invalid_syntax("the Operations list is empty"));
    }
    ops.iter()
        .map(|o| {
            let op = match get_ci(o, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => Op::Add,
                Some("remove") => Op::Remove,
                Some("replace") => Op::Replace,
                other => return Err(invalid_syntax(format!("unknown op {other:?}: use add, remove or replace"))),
            };
            let path = match get_ci(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => Some(s.trim().to_string()),
                Some(_) => return Err(invalid_path("path must be a string")),
            };
            let value = get_ci(o, "value").filter(|v| !v.is_null()).cloned();
            Ok(Operation { op, path, value })
        })
        .collect()
}

/// Applies every operation to `doc` in order; any failure leaves the caller's copy unchanged.
pub fn apply(doc: &Value, ops: &[Operation]) -> Result<Value> {
    let mut out = doc.clone();
    for op in ops {
        apply_one(&mut out, op)?;
    }
    Ok(out)
}

fn apply_one(doc: &mut Value, op: &Operation) -> Result<()> {
    match (&op.path, op.op) {
        (None, Op::Remove) => Err(no_target("remove needs a path")),
        (None, _) => {
            let Some(Value::Object(values)) = &op.value else {
                return Err(invalid_value("an operation without a path needs an object value"));
            };
            for (key, value) in values {
                if value.is_null() && op.op == Op::Replace {
                    remove_at(doc, &parse_patch_path(key)?, None)?;
                    continue;
                }
                if EXTENSION_URNS.iter().any(|u| u.eq_ignore_ascii_case(key)) {
                    merge_extension(doc, key, value, op.op)?;
                    continue;
                }
                set_at(doc, &parse_patch_path(key)?, value.clone(), op.op)?;
            }
            Ok(())
        }
        (Some(path), kind) => {
            if let Some(urn) = EXTENSION_URNS.iter().find(|u| u.eq_ignore_ascii_case(path)) {
                return match kind {
                    Op::Remove => {
                        remove_key(doc, urn);
                        Ok(())
                    }
                    _ => merge_extension(doc, urn, op.value.as_ref().unwrap_or(&Value::Null), kind),
                };
            }
            let path = parse_patch_path(path)?;
            match kind {
                Op::Remove => remove_at(doc, &path, op.value.as_ref()),
                _ => {
                    let value = op.value.clone().ok_or_else(|| invalid_value("add and replace need a value"))?;
                    set_at(doc, &path, value, kind)
                }
            }
        }
    }
}

/// `{"urn:…:User": {...}}` as a value, or as a path with an object value.
fn merge_extension(doc: &mut Value, urn: &str, value: &Value, op: Op) -> Result<()> {
    let Value::Object(fields) = value else {
        return Err(invalid_value(format!("{urn} takes an object")));
    };
    for (key, v) in fields {
        let path = PatchPath {
            attr: super::filter::parse_attr_path(key)
                .filter(|p| p.urn.is_none())
                .map(|p| AttrPath { urn: Some(urn.to_string()), ..p })
                .ok_or_else(|| invalid_path(format!("'{key}' is not an attribute of {urn}")))?,
            filter: None,
        };
        if v.is_null() {
            remove_at(doc, &path, None)?;
        } else {
            set_at(doc, &path, v.clone(), op)?;
        }
    }
    Ok(())
}

/// The object that holds `path`'s attribute (the resource or an extension), created if missing.
fn scope_mut<'a>(doc: &'a mut Value, path: &AttrPath) -> Result<&'a mut Map<String, Value>> {
    let root = doc.as_object_mut().ok_or_else(|| invalid_value("the resource is not an object"))?;
    match &path.urn {
        None => Ok(root),
        Some(urn) => {
            let key = existing_key(root, urn).unwrap_or_else(|| urn.clone());
            let scope = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !scope.is_object() {
                *scope = Value::Object(Map::new());
            }
            Ok(scope.as_object_mut().expect("an object"))
        }
    }
}

fn existing_key(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

fn remove_key(doc: &mut Value, key: &str) {
    if let Some(map) = doc.as_object_mut() {
        if let Some(k) = existing_key(map, key) {
            map.remove(&k);
        }
    }
}

fn set_at(doc: &mut Value, path: &PatchPath, value: Value, op: Op) -> Result<()> {
    let attr = &path.attr;
    let scope = scope_mut(doc, attr)?;
    let key = existing_key(scope, &attr.attr).unwrap_or_else(|| attr.attr.clone());
    if let Some(filter) = &path.filter {
        let list = scope.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(items) = list else {
            return Err(invalid_path(format!("{} is not multi-valued", attr.attr)));
        };
        let mut found = false;
        for item in items.iter_mut().filter(|i| filter.matches(i)) {
            found = true;
            match &attr.sub {
                Some(sub) => set_field(item, sub, value.clone()),
                None => merge_into(item, &value),
            }
        }
        if !found {
            // Entra adds `emails[type eq "work"].value` when there is no work address yet.
            let Some((field, expected)) = filter.simple_eq() else {
                return Err(no_target(format!("no value of {} matches the path's filter", attr.attr)));
            };
            let mut item = Value::Object(Map::new());
            set_field(&mut item, field, expected.clone());
            match &attr.sub {
                Some(sub) => set_field(&mut item, sub, value),
                None => merge_into(&mut item, &value),
            }
            items.push(item);
        }
        return Ok(());
    }
    if let Some(sub) = &attr.sub {
        let holder = scope.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !holder.is_object() {
            *holder = Value::Object(Map::new());
        }
        set_field(holder, sub, value);
        return Ok(());
    }
    let multi = is_multi(&attr.attr) || matches!(scope.get(&key), Some(Value::Array(_)));
    if multi {
        let new_items = match value {
            Value::Array(a) => a,
            other => vec![other],
        };
        match (op, scope.get_mut(&key)) {
            (Op::Add, Some(Value::Array(existing))) => {
                for item in new_items {
                    if !existing.contains(&item) {
                        existing.push(item);
                    }
                }
            }
            _ => {
                scope.insert(key, Value::Array(new_items));
            }
        }
        return Ok(());
    }
    match (scope.get_mut(&key), &value) {
        // A complex attribute (`name`): the given sub-attributes replace, others stay.
        (Some(existing @ Value::Object(_)), Value::Object(_)) => merge_into(existing, &value),
        _ => {
            scope.insert(key, value);
        }
    }
    Ok(())
}

fn set_field(item: &mut Value, field: &str, value: Value) {
    if let Some(map) = item.as_object_mut() {
        let key = existing_key(map, field).unwrap_or_else(|| field.to_string());
        map.insert(key, value);
    }
}

fn merge_into(item: &mut Value, value: &Value) {
    match (item.as_object_mut(), value) {
        (Some(map), Value::Object(fields)) => {
            for (k, v) in fields {
                let key = existing_key(map, k).unwrap_or_else(|| k.clone());
                map.insert(key, v.clone());
            }
        }
        _ => *item = value.clone(),
    }
}

fn remove_at(doc: &mut Value, path: &PatchPath, value: Option<&Value>) -> Result<()> {
    let attr = &path.attr;
    let scope = scope_mut(doc, attr)?;
    let Some(key) = existing_key(scope, &attr.attr) else { return Ok(()) };
    match (&path.filter, &attr.sub) {
        (Some(filter), sub) => {
            if let Some(Value::Array(items)) = scope.get_mut(&key) {
                match sub {
                    None => items.retain(|i| !filter.matches(i)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|i| filter.matches(i)) {
                            if let Some(map) = item.as_object_mut() {
                                if let Some(k) = existing_key(map, sub) {
                                    map.remove(&k);
                                }
                            }
                        }
                    }
                }
            }
        }
        (None, Some(sub)) => {
            if let Some(map) = scope.get_mut(&key).and_then(Value::as_object_mut) {
                if let Some(k) = existing_key(map, sub) {
                    map.remove(&k);
                }
            }
        }
        (None, None) => match (value, scope.get_mut(&key)) {
            // Entra removes group members by listing them: [{"value": "id"}, …].
            (Some(v), Some(Value::Array(items))) => {
                let gone: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                let ids: Vec<&Value> = gone.iter().map(|g| get_ci(g, "value").unwrap_or(g)).collect();
                items.retain(|i| !ids.contains(&get_ci(i, "value").unwrap_or(i)));
            }
            _ => {
                scope.remove(&key);
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn ops(body: Value) -> Vec<Operation> {
        parse_operations(&json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": body }))
            .unwrap()
    }

    fn user() -> Value {
        json!({"userName": "ana@example.com", "displayName": "Ana", "active": true,
               "name": {"givenName": "Ana", "familyName": "Lima"},
               "emails": [{"value": "ana@example.com", "type": "work", "primary": true}]})
    }

    #[test]
    fn rfc_form_add_replace_remove() {
        let out = apply(
            &user(),
            &ops(json!([
                {"op": "replace", "path": "displayName", "value": "Ana L."},
                {"op": "add", "path": "title", "value": "Engineer"},
                {"op": "replace", "path": "name", "value": {"familyName": "Lima-Souza"}},
                {"op": "remove", "path": "name.givenName"},
                {"op": "add", "path": "emails", "value": [{"value": "ana@home.example", "type": "home"}]},
            ])),
        )
        .unwrap();
        assert_eq!(out["displayName"], "Ana L.");
        assert_eq!(out["title"], "Engineer");
        assert_eq!(out["name"], json!({"familyName": "Lima-Souza"}));
        assert_eq!(out["emails"].as_array().unwrap().len(), 2);
        let out = apply(&out, &ops(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]))).unwrap();
        assert_eq!(out["emails"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn entra_forms() {
        let out = apply(
            &user(),
            &ops(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "value": {"name.givenName": "Anna", "displayName": "Anna Lima",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales"}},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "anna@example.com"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+47 1"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-1"},
                {"op": "Replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}}},
            ])),
        )
        .unwrap();
        assert_eq!(out["active"], "False");
        assert_eq!(out["name"]["givenName"], "Anna");
        assert_eq!(out["name"]["familyName"], "Lima");
        assert_eq!(out["displayName"], "Anna Lima");
        assert_eq!(out[ENT]["department"], "Sales");
        assert_eq!(out[ENT]["manager"], "m-1");
        assert_eq!(out[ENT]["employeeNumber"], "7");
        assert_eq!(out["emails"], json!([{"value": "anna@example.com", "type": "work", "primary": true}]));
        assert_eq!(out["phoneNumbers"], json!([{"type": "mobile", "value": "+47 1"}]));
    }

    #[test]
    fn member_removal_by_value_list_and_by_filter() {
        let group = json!({"displayName": "Team", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
        let out = apply(&group, &ops(json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}]}]))).unwrap();
        assert_eq!(out["members"], json!([{"value": "b"}, {"value": "c"}]));
        let out = apply(&out, &ops(json!([{"op": "remove", "path": "members[value eq \"c\"]"}]))).unwrap();
        assert_eq!(out["members"], json!([{"value": "b"}]));
        let out =
            apply(&out, &ops(json!([{"op": "add", "path": "members", "value": [{"value": "b"}, {"value": "d"}]}])))
                .unwrap();
        assert_eq!(out["members"], json!([{"value": "b"}, {"value": "d"}]));
        let out = apply(&out, &ops(json!([{"op": "remove", "path": "members"}]))).unwrap();
        assert!(out.get("members").is_none());
    }

    #[test]
    fn bad_operations() {
        let body = json!({"Operations": [{"op": "move", "path": "x"}]});
        assert_eq!(parse_operations(&body).unwrap_err().code, "invalid_syntax");
        assert_eq!(parse_operations(&json!({})).unwrap_err().code, "invalid_syntax");
        let e = apply(&user(), &ops(json!([{"op": "remove"}]))).unwrap_err();
        assert_eq!(e.code, "no_target");
        let e = apply(&user(), &ops(json!([{"op": "replace", "path": "emails[type eq", "value": 1}]))).unwrap_err();
        assert_eq!(e.code, "invalid_path");
        let e = apply(&user(), &ops(json!([{"op": "replace", "path": "emails[type co \"x\"].value", "value": "y"}])))
            .unwrap_err();
        assert_eq!(e.code, "no_target");
    }
}
