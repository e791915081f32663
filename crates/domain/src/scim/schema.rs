//! What `/Schemas` and `/ResourceTypes` publish: only the attributes
//! Plaudit keeps, so a client never writes something that is dropped.
//!
//! `userName`, `displayName`, `emails` and `active` are marked required:
//! every member has an e-mail, a display name and a status, so these are
//! never unassigned (a create without them still works when `userName` is
//! an e-mail).

use super::{ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{json, Value};

struct A {
    name: &'static str,
    kind: &'static str,
    multi: bool,
    required: bool,
    mutability: &'static str,
    description: &'static str,
    sub: Vec<Value>,
    reference_types: &'static [&'static str],
    uniqueness: &'static str,
    case_exact: bool,
}

fn a(name: &'static str, kind: &'static str, description: &'static str) -> A {
    A {
        name,
        kind,
        multi: false,
        required: false,
        mutability: "readWrite",
        description,
        sub: Vec::new(),
        reference_types: &[],
        uniqueness: "none",
        case_exact: false,
    }
}

impl A {
    fn multi(mut self) -> A {
        self.multi = true;
        self
    }
    fn required(mut self) -> A {
        self.required = true;
        self
    }
    fn mutability(mut self, m: &'static str) -> A {
        self.mutability = m;
        self
    }
    fn sub(mut self, sub: Vec<Value>) -> A {
        self.sub = sub;
        self
    }
    fn refs(mut self, types: &'static [&'static str]) -> A {
        self.reference_types = types;
        self.case_exact = true;
        self
    }
    fn unique(mut self) -> A {
        self.uniqueness = "server";
        self
    }
    fn exact(mut self) -> A {
        self.case_exact = true;
        self
    }
    fn json(self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.kind,
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": "default",
            "uniqueness": self.uniqueness,
        });
        if !self.sub.is_empty() {
            v["subAttributes"] = Value::Array(self.sub);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        v
    }
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<Value>, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// The User, enterprise User and Group schemas.
pub fn schemas(base: &str) -> Vec<Value> {
    let user = vec![
        a("userName", "string", "The member's sign-in name; their e-mail address when it is one.")
            .required()
            .unique()
            .json(),
        a("name", "complex", "The member's name.")
            .sub(vec![a("givenName", "string", "First name.").json(), a("familyName", "string", "Last name.").json()])
            .json(),
        a("displayName", "string", "The name shown in Plaudit.").required().json(),
        a("title", "string", "Job title.").json(),
        a("emails", "complex", "E-mail addresses; the primary one is the member's e-mail unless userName is one.")
            .multi()
            .required()
            .sub(vec![
                a("value", "string", "An e-mail address.").required().json(),
                a("type", "string", "work, home or other.").json(),
                a("primary", "boolean", "The member's main address.").json(),
            ])
            .json(),
        a("active", "boolean", "Whether the member may sign in, give and receive recognition.").required().json(),
        a("groups", "complex", "The groups the member is in.")
            .multi()
            .mutability("readOnly")
            .sub(vec![
                a("value", "string", "The group's id.").mutability("readOnly").exact().json(),
                a("$ref", "reference", "The group's URI.").mutability("readOnly").refs(&["Group"]).json(),
                a("display", "string", "The group's name.").mutability("readOnly").json(),
            ])
            .json(),
    ];
    let enterprise = vec![
        a("employeeNumber", "string", "The member's employee id.").json(),
        a("department", "string", "The member's department.").json(),
        a("manager", "complex", "The member's manager.")
            .sub(vec![
                a("value", "string", "The manager's User id.").exact().json(),
                a("$ref", "reference", "The manager's User URI.").refs(&["User"]).json(),
            ])
            .json(),
    ];
    let group = vec![
        a("displayName", "string", "The group's name, unique in the organisation.").required().unique().json(),
        a("members", "complex", "The Users in the group.")
            .multi()
            .sub(vec![
                a("value", "string", "A member's User id.").mutability("immutable").exact().json(),
                a("$ref", "reference", "The User's URI.").mutability("immutable").refs(&["User"]).json(),
            ])
            .json(),
    ];
    vec![
        schema(USER_SCHEMA, "User", "A member of the organisation", user, base),
        schema(ENTERPRISE_USER, "EnterpriseUser", "Employee number, department and manager", enterprise, base),
        schema(GROUP_SCHEMA, "Group", "A team of members (for analytics; not the department)", group, base),
    ]
}

/// The User and Group resource types.
pub fn resource_types(base: &str) -> Vec<Value> {
    let rt = |id: &str, endpoint: &str, schema: &str, description: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": id,
            "name": id,
            "endpoint": endpoint,
            "description": description,
            "schema": schema,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{id}")},
        })
    };
    let mut user = rt("User", "/Users", USER_SCHEMA, "Members");
    user["schemaExtensions"] = json!([{"schema": ENTERPRISE_USER, "required": false}]);
    vec![user, rt("Group", "/Groups", GROUP_SCHEMA, "Teams")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_name_every_published_attribute_once() {
        let s = schemas("b");
        assert_eq!(s.len(), 3);
        let user_attrs: Vec<&str> =
            s[0]["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(user_attrs, ["userName", "name", "displayName", "title", "emails", "active", "groups"]);
        assert_eq!(resource_types("b")[0]["schemaExtensions"][0]["schema"], ENTERPRISE_USER);
    }
}
