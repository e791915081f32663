//! The OpenAPI 3 description of every `/api/v1` route, built from one table.

use axum::Json;
use serde_json::{json, Map, Value};

/// (method, path, summary, request body schema, success status, success schema)
pub type RouteDoc = (&'static str, &'static str, &'static str, Option<&'static str>, u16, Option<&'static str>);

pub const ROUTES: &[RouteDoc] = &[
    (
        "put",
        "/api/v1/integrations/teams",
        "Store the Teams outgoing webhook's security token and the channel's Workflows URL (admins)",
        Some("TeamsSetup"),
        200,
        Some("TeamsStatus"),
    ),
    ("get", "/api/v1/integrations/teams", "The Teams integration's status (admins)", None, 200, Some("TeamsStatus")),
    ("delete", "/api/v1/integrations/teams", "Disconnect Teams (admins)", None, 204, None),
    ("get", "/api/v1/openapi.json", "This document", None, 200, None),
    (
        "post",
        "/api/v1/signup",
        "Create an organisation (free plan) and its owner, and sign in",
        Some("Signup"),
        201,
        Some("SessionAnswer"),
    ),
    (
        "post",
        "/api/v1/session",
        "Sign in with a password; sets the session cookie",
        Some("SignIn"),
        200,
        Some("SessionAnswer"),
    ),
    ("delete", "/api/v1/session", "Sign out", None, 204, None),
    (
        "post",
        "/api/v1/tokens",
        "Create an API token (the token is shown only in this answer)",
        Some("TokenRequest"),
        201,
        Some("Token"),
    ),
    ("get", "/api/v1/tokens", "The caller's live API tokens", None, 200, Some("Page")),
    ("delete", "/api/v1/tokens/{id}", "Revoke an API token", None, 204, None),
    ("get", "/api/v1/me", "The caller", None, 200, Some("Member")),
    (
        "post",
        "/api/v1/scim_tokens",
        "Create a SCIM bearer token for the organisation's identity provider (admins; shown only in this answer)",
        Some("ScimTokenRequest"),
        201,
        Some("ScimToken"),
    ),
    (
        "get",
        "/api/v1/scim_tokens",
        "The organisation's live SCIM tokens with their last use (admins)",
        None,
        200,
        Some("Page"),
    ),
    ("delete", "/api/v1/scim_tokens/{id}", "Revoke a SCIM token (admins)", None, 204, None),
    ("get", "/api/v1/members/{id}/groups", "The SCIM groups (teams) a member is in", None, 200, Some("Page")),
    ("get", "/api/v1/me/notifications", "Which mails the caller gets, per kind", None, 200, Some("Notifications")),
    (
        "patch",
        "/api/v1/me/notifications",
        "Turn kinds of mail on or off (password resets are always sent)",
        Some("Notifications"),
        200,
        Some("Notifications"),
    ),
    (
        "post",
        "/api/v1/password_resets",
        "Mail a single-use link to set a new password; the same answer whether or not the account exists",
        Some("PasswordResetRequest"),
        202,
        None,
    ),
    (
        "post",
        "/api/v1/password_resets/confirm",
        "Set a new password with a reset link's token; ends every session of the member",
        Some("PasswordResetConfirm"),
        204,
        None,
    ),
    ("get", "/api/v1/org", "The caller's organisation and its settings", None, 200, Some("Org")),
    ("patch", "/api/v1/org", "Change the organisation's settings (admins)", Some("OrgPatch"), 200, Some("Org")),
    ("get", "/api/v1/audit_log", "Admin actions, newest first (admins)", None, 200, Some("Page")),
    (
        "get",
        "/api/v1/members",
        "The directory: search `q`, filters `department`, `location`, `status`",
        None,
        200,
        Some("Page"),
    ),
    ("post", "/api/v1/members", "Add a member by hand (admins)", Some("NewMember"), 201, Some("Member")),
    (
        "post",
        "/api/v1/members/import",
        "Import or update members from a CSV body (admins); `?dry_run=true` writes nothing",
        Some("Csv"),
        200,
        Some("ImportReport"),
    ),
    ("get", "/api/v1/members/{id}", "One member", None, 200, Some("Member")),
    (
        "patch",
        "/api/v1/members/{id}",
        "Change a member: profile, role, status, permissions, manager (admins)",
        Some("MemberChanges"),
        200,
        Some("Member"),
    ),
    ("get", "/api/v1/me/balance", "The caller's allowance this month and earned balance", None, 200, Some("Balance")),
    ("get", "/api/v1/members/{id}/balance", "A member's balances (the member or admins)", None, 200, Some("Balance")),
    ("get", "/api/v1/values", "Company values, archived last", None, 200, Some("Page")),
    ("post", "/api/v1/values", "Create a company value (admins)", Some("NewValue"), 201, Some("Value")),
    (
        "patch",
        "/api/v1/values/{id}",
        "Rename, re-emoji, reorder or archive a value (admins)",
        Some("ValueChanges"),
        200,
        Some("Value"),
    ),
    (
        "post",
        "/api/v1/recognitions",
        "Give recognition (accepts Idempotency-Key)",
        Some("GiveRequest"),
        201,
        Some("Recognition"),
    ),
    (
        "get",
        "/api/v1/recognitions",
        "The feed, newest first; filters `member`, `value`, `department`",
        None,
        200,
        Some("Page"),
    ),
    ("get", "/api/v1/recognitions/{id}", "One recognition with its comments", None, 200, Some("Recognition")),
    (
        "post",
        "/api/v1/recognitions/{id}/addons",
        "Add points from your allowance to every recipient (accepts Idempotency-Key)",
        Some("Addon"),
        201,
        Some("Recognition"),
    ),
    (
        "post",
        "/api/v1/recognitions/{id}/reactions",
        "Toggle an emoji reaction",
        Some("Reaction"),
        200,
        Some("Recognition"),
    ),
    ("get", "/api/v1/recognitions/{id}/comments", "Comments, oldest first", None, 200, Some("Page")),
    (
        "post",
        "/api/v1/recognitions/{id}/comments",
        "Comment on a recognition",
        Some("CommentRequest"),
        201,
        Some("Comment"),
    ),
    ("post", "/api/v1/recognitions/{id}/undo", "The giver takes a recognition back within 5 minutes", None, 204, None),
    ("post", "/api/v1/recognitions/{id}/hide", "Hide a recognition and reverse its points (admins)", None, 204, None),
    (
        "post",
        "/api/v1/awards",
        "Award points from the company budget (admins; accepts Idempotency-Key)",
        Some("AwardRequest"),
        201,
        Some("Recognition"),
    ),
    (
        "put",
        "/api/v1/allowances",
        "Change the monthly allowance of some members or everyone (admins)",
        Some("AllowanceChange"),
        200,
        None,
    ),
    ("get", "/api/v1/ledger", "Ledger entries of the caller, or of `member` for admins", None, 200, Some("Page")),
    ("get", "/api/v1/okr_settings", "The organisation's OKR settings", None, 200, Some("OkrSettings")),
    (
        "patch",
        "/api/v1/okr_settings",
        "Allow over-achievement or late check-ins (admins)",
        Some("OkrSettings"),
        200,
        Some("OkrSettings"),
    ),
    ("get", "/api/v1/cycles", "OKR cycles, newest first", None, 200, Some("Page")),
    ("post", "/api/v1/cycles", "Create a quarter, year or custom cycle (admins)", Some("NewCycle"), 201, Some("Cycle")),
    ("get", "/api/v1/cycles/{id}", "One cycle", None, 200, Some("Cycle")),
    (
        "patch",
        "/api/v1/cycles/{id}",
        "Rename a cycle or move its state forward (admins)",
        Some("CycleChanges"),
        200,
        Some("Cycle"),
    ),
    (
        "post",
        "/api/v1/cycles/{id}/close",
        "Close a cycle: freeze progress and record grades (admins; closing twice changes nothing)",
        None,
        200,
        Some("Cycle"),
    ),
    ("get", "/api/v1/objectives", "Objectives the caller may see; filter `cycle`", None, 200, Some("Page")),
    ("post", "/api/v1/objectives", "Create an objective", Some("NewObjective"), 201, Some("Objective")),
    (
        "get",
        "/api/v1/objectives/tree",
        "The alignment tree of `cycle`, depth first, with rolled-up progress",
        None,
        200,
        Some("Page"),
    ),
    (
        "get",
        "/api/v1/objectives/{id}",
        "One objective with its key results and check-ins",
        None,
        200,
        Some("Objective"),
    ),
    (
        "patch",
        "/api/v1/objectives/{id}",
        "Change an objective (its owner or admins)",
        Some("ObjectiveChanges"),
        200,
        Some("Objective"),
    ),
    (
        "post",
        "/api/v1/objectives/{id}/key_results",
        "Add a key result (the objective's owner or admins)",
        Some("NewKeyResult"),
        201,
        Some("KeyResult"),
    ),
    ("get", "/api/v1/key_results/{id}", "One key result with its progress and forecast", None, 200, Some("KeyResult")),
    (
        "patch",
        "/api/v1/key_results/{id}",
        "Change or archive a key result",
        Some("KeyResultChanges"),
        200,
        Some("KeyResult"),
    ),
    ("get", "/api/v1/key_results/{id}/check_ins", "Check-ins, newest first", None, 200, Some("Page")),
    (
        "post",
        "/api/v1/key_results/{id}/check_ins",
        "Check in a new value (owners, contributors, admins)",
        Some("NewCheckIn"),
        201,
        Some("CheckIn"),
    ),
    ("get", "/api/v1/kpis", "KPIs with their status", None, 200, Some("Page")),
    ("post", "/api/v1/kpis", "Create a KPI (admins)", Some("NewKpi"), 201, Some("Kpi")),
    ("get", "/api/v1/kpis/{id}", "One KPI with its status and latest value", None, 200, Some("Kpi")),
    ("get", "/api/v1/kpis/{id}/values", "A KPI's values, newest date first", None, 200, Some("Page")),
    (
        "post",
        "/api/v1/kpis/{id}/values",
        "Add values: JSON `{values: [{date or time, value}]}` or CSV; one per local date, later replaces",
        Some("KpiValues"),
        200,
        Some("KpiValuesReport"),
    ),
    (
        "post",
        "/api/v1/kpis/{id}/key_results",
        "Improve this KPI: a key result driven by it, starting from its current value",
        Some("ImproveKpi"),
        201,
        Some("KeyResult"),
    ),
    (
        "get",
        "/api/v1/rewards",
        "The reward catalog, cheapest first: filters `kind`, `affordable=true`, `archived=true` (admins)",
        None,
        200,
        Some("Page"),
    ),
    (
        "post",
        "/api/v1/rewards",
        "Add a reward (admins; gift cards and donations need the paid plan)",
        Some("NewReward"),
        201,
        Some("Reward"),
    ),
    ("get", "/api/v1/rewards/{id}", "One reward", None, 200, Some("Reward")),
    (
        "patch",
        "/api/v1/rewards/{id}",
        "Change, restock or archive a reward (admins)",
        Some("RewardChanges"),
        200,
        Some("Reward"),
    ),
    (
        "put",
        "/api/v1/rewards/{id}/image",
        "Set a reward's image: PNG, JPEG or WebP bytes, at most 512 KiB (admins)",
        Some("Image"),
        200,
        Some("Reward"),
    ),
    ("get", "/api/v1/rewards/{id}/image", "A reward's image", None, 200, None),
    (
        "post",
        "/api/v1/redemptions",
        "Redeem a reward with earned points (accepts Idempotency-Key)",
        Some("RedeemRequest"),
        201,
        Some("Redemption"),
    ),
    (
        "get",
        "/api/v1/redemptions",
        "The caller's redemptions; admins see everyone's (`member`, `status` filters)",
        None,
        200,
        Some("Page"),
    ),
    ("get", "/api/v1/redemptions/{id}", "One redemption (its member or admins)", None, 200, Some("Redemption")),
    (
        "post",
        "/api/v1/redemptions/{id}/fulfil",
        "Fulfil a pending redemption with a gift-card code or a note (admins)",
        Some("FulfilRequest"),
        200,
        Some("Redemption"),
    ),
    (
        "post",
        "/api/v1/redemptions/{id}/decline",
        "Decline a redemption with a reason; every point goes back (admins)",
        Some("DeclineRequest"),
        200,
        Some("Redemption"),
    ),
    (
        "post",
        "/api/v1/redemptions/{id}/cancel",
        "The member cancels a pending redemption; every point goes back",
        None,
        200,
        Some("Redemption"),
    ),
    (
        "get",
        "/api/v1/billing/statements/{month}",
        "Paid rewards fulfilled in month YYYY-MM (org time zone) at face value (admins); `Accept: text/csv` for CSV",
        None,
        200,
        Some("Statement"),
    ),
    (
        "get",
        "/api/v1/integrations/sso",
        "The organisation's single sign-on (OpenID Connect) settings and status; never the secret (admins)",
        None,
        200,
        Some("SsoSettings"),
    ),
    (
        "put",
        "/api/v1/integrations/sso",
        "Set the single sign-on provider, e-mail domains, just-in-time creation and require-SSO (admins)",
        Some("SsoSettingsInput"),
        200,
        Some("SsoSettings"),
    ),
    (
        "post",
        "/api/v1/integrations/sso/test",
        "Fetch the provider's discovery document and keys and report what they hold (admins)",
        None,
        200,
        Some("SsoTestReport"),
    ),
    ("get", "/api/v1/webhooks", "Webhook endpoints (admins; secrets never shown)", None, 200, Some("Page")),
    (
        "post",
        "/api/v1/webhooks",
        "Register a webhook endpoint (admins); the signing secret is shown only in this answer",
        Some("NewWebhook"),
        201,
        Some("WebhookWithSecret"),
    ),
    ("get", "/api/v1/webhooks/{id}", "One webhook endpoint (admins)", None, 200, Some("Webhook")),
    (
        "patch",
        "/api/v1/webhooks/{id}",
        "Change a webhook's URL, events, description or active flag; turning it off stops its pending deliveries",
        Some("WebhookChanges"),
        200,
        Some("Webhook"),
    ),
    (
        "delete",
        "/api/v1/webhooks/{id}",
        "Delete a webhook endpoint, its pending deliveries and its log",
        None,
        204,
        None,
    ),
    (
        "post",
        "/api/v1/webhooks/{id}/rotate_secret",
        "A new signing secret (shown only in this answer); the old one stops at once",
        None,
        200,
        Some("WebhookWithSecret"),
    ),
    (
        "post",
        "/api/v1/webhooks/{id}/test",
        "Send a `ping` delivery now; the answer is the logged delivery with its outcome",
        None,
        200,
        Some("WebhookDelivery"),
    ),
    (
        "get",
        "/api/v1/webhooks/{id}/deliveries",
        "A webhook's delivery log, newest first: status, attempts, last answer or error, next try",
        None,
        200,
        Some("Page"),
    ),
    (
        "post",
        "/api/v1/webhook_deliveries/{id}/redeliver",
        "Queue a fresh attempt of a delivery now: the same event id and body, a new entry in the log",
        None,
        202,
        Some("WebhookDelivery"),
    ),
];

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn object(required: &[&str], props: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = props.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    json!({"type": "object", "required": required, "properties": props})
}

fn schemas() -> Value {
    let mut all = base_schemas();
    if let Value::Object(m) = &mut all {
        m.extend(crate::api::okrs::schemas());
        m.extend(crate::integrations::sso::schemas());
        m.extend(crate::integrations::webhooks::schemas());
    }
    all
}

fn base_schemas() -> Value {
    let member_fields = [
        ("email", string()),
        ("employee_id", nullable("string")),
        ("first_name", string()),
        ("last_name", string()),
        ("display_name", string()),
        ("title", string()),
        ("department", string()),
        ("location", string()),
        ("start_date", nullable("string")),
        ("birthday", nullable("string")),
        ("gender", nullable("string")),
        ("manager_id", nullable("string")),
        ("status", json!({"type": "string", "enum": ["active", "inactive"]})),
        ("role", json!({"type": "string", "enum": ["owner", "admin", "manager", "member"]})),
        ("may_give", json!({"type": "boolean"})),
        ("may_receive", json!({"type": "boolean"})),
        ("allowance_override", nullable("integer")),
    ];
    let mut member = member_fields.to_vec();
    member.insert(0, ("id", string()));
    let currency = object(
        &["emoji", "name_singular", "name_plural"],
        &[("emoji", string()), ("name_singular", string()), ("name_plural", string())],
    );
    let reward_kind = json!({"type": "string", "enum": ["culture", "gift_card", "donation", "swag"]});
    let reward_fields = [
        ("kind", reward_kind.clone()),
        ("name", string()),
        ("description", string()),
        (
            "cost_points",
            json!({"type": ["integer", "null"], "minimum": 1, "description": "money rewards: face value / point value, rounded up"}),
        ),
        ("face_value_minor", nullable("integer")),
        ("currency", nullable("string")),
        ("stock", json!({"type": ["integer", "null"], "minimum": 0, "description": "null: unlimited"})),
        ("per_member_monthly_limit", nullable("integer")),
        ("requires_approval", json!({"type": "boolean"})),
    ];
    let mut reward_changes = reward_fields.to_vec();
    reward_changes.push(("archived", json!({"type": "boolean"})));
    let mut reward = reward_changes.clone();
    reward.insert(0, ("id", string()));
    reward.push(("image_url", nullable("string")));
    let statement_line = object(
        &["date", "member", "reward", "face_value_minor", "currency"],
        &[
            ("date", string()),
            ("kind", json!({"type": "string", "enum": ["charge", "refund"]})),
            ("member_id", string()),
            ("member", string()),
            ("reward_id", string()),
            ("reward", string()),
            ("reward_kind", reward_kind),
            ("face_value_minor", json!({"type": "integer"})),
            ("currency", nullable("string")),
        ],
    );
    json!({
        "Problem": object(&["type", "title", "status", "detail", "code"], &[
            ("type", string()), ("title", string()), ("status", json!({"type": "integer"})),
            ("detail", string()), ("code", string()), ("field", string()),
        ]),
        "Member": object(&["id", "email", "display_name", "status", "role"], &member),
        "NewMember": object(&["email"], &member_fields),
        "MemberChanges": object(&[], &member_fields),
        "Org": object(&["id", "slug", "name", "timezone", "plan"], &[
            ("id", string()), ("slug", string()), ("name", string()), ("timezone", string()),
            ("plan", json!({"type": "string", "enum": ["free", "paid"]})), ("currency", currency.clone()),
            ("point_value_minor", nullable("integer")), ("money_currency", nullable("string")),
            ("default_allowance", json!({"type": "integer"})), ("max_points_per_recognition", json!({"type": "integer"})),
            ("allow_zero_point_posts", json!({"type": "boolean"})), ("require_value", json!({"type": "boolean"})),
        ]),
        "OrgPatch": object(&[], &[
            ("name", string()), ("timezone", string()), ("currency", currency),
            ("point_value_minor", nullable("integer")), ("money_currency", nullable("string")),
            ("default_allowance", json!({"type": "integer", "minimum": 0})),
            ("max_points_per_recognition", json!({"type": "integer", "minimum": 1})),
            ("allow_zero_point_posts", json!({"type": "boolean"})), ("require_value", json!({"type": "boolean"})),
            ("max_points_per_recipient_per_month", nullable("integer")), ("celebrations_enabled", json!({"type": "boolean"})),
            ("anniversary_award_points", json!({"type": "integer", "minimum": 0})), ("birthday_award_points", json!({"type": "integer", "minimum": 0})),
        ]),
        "Signup": object(&["org_name", "org_slug", "name", "email", "password"], &[
            ("org_name", string()), ("org_slug", string()), ("timezone", string()),
            ("name", string()), ("email", string()), ("password", json!({"type": "string", "minLength": 10})),
        ]),
        "SignIn": object(&["org", "email", "password"], &[("org", string()), ("email", string()), ("password", string())]),
        "SessionAnswer": object(&["member", "csrf_token"], &[("member", schema_ref("Member")), ("org", schema_ref("Org")), ("csrf_token", string())]),
        "TokenRequest": object(&["name"], &[("name", string())]),
        "Notifications": object(&[], &[
            ("recognition", json!({"type": "boolean"})), ("redemption", json!({"type": "boolean"})),
            ("digest", json!({"type": "boolean"})), ("check_in_reminder", json!({"type": "boolean"})),
        ]),
        "PasswordResetRequest": object(&["org", "email"], &[("org", string()), ("email", string())]),
        "PasswordResetConfirm": object(&["token", "password"], &[("token", string()), ("password", json!({"type": "string", "minLength": 10}))]),
        "Token": object(&["id", "name"], &[("id", string()), ("name", string()), ("token", string()), ("created_at", string())]),
        "ScimTokenRequest": object(&[], &[("name", string())]),
        "ScimToken": object(&["id", "name", "created_at"], &[
            ("id", string()), ("name", string()), ("token", string()), ("created_at", string()),
            ("created_by", string()), ("last_used_at", nullable("string")), ("scim_base_url", string()),
            ("last_error", json!({"type": ["object", "null"], "description": "the token's last failed request: {message, at}"})),
        ]),
        "Page": object(&["items", "next_cursor"], &[("items", json!({"type": "array", "items": {}})), ("next_cursor", nullable("string"))]),
        "Balance": object(&["allowance", "earned"], &[
            ("allowance", object(&["period", "total", "remaining", "resets_at"], &[
                ("period", string()), ("total", json!({"type": "integer"})), ("remaining", json!({"type": "integer"})), ("resets_at", string()),
            ])),
            ("earned", object(&["balance"], &[("balance", json!({"type": "integer"}))])),
        ]),
        "Value": object(&["id", "name", "emoji", "archived"], &[
            ("id", string()), ("name", string()), ("emoji", string()), ("description", string()),
            ("position", json!({"type": "integer"})), ("archived", json!({"type": "boolean"})),
        ]),
        "NewValue": object(&["name", "emoji"], &[("name", string()), ("emoji", string()), ("description", string()), ("position", json!({"type": "integer"}))]),
        "ValueChanges": object(&[], &[
            ("name", string()), ("emoji", string()), ("description", string()),
            ("position", json!({"type": "integer"})), ("archived", json!({"type": "boolean"})),
        ]),
        "GiveRequest": object(&["recipients", "message"], &[
            ("recipients", json!({"type": "array", "items": {"type": "string"}, "description": "member ids or e-mails"})),
            ("points", json!({"type": "integer", "minimum": 0, "description": "per recipient"})),
            ("split_total", json!({"type": ["integer", "null"], "minimum": 0, "description": "a pot divided among the recipients"})),
            ("message", json!({"type": "string", "minLength": 1, "maxLength": 2000})),
            ("values", json!({"type": "array", "items": {"type": "string"}, "description": "value ids or names"})),
            ("key_result_id", nullable("string")),
        ]),
        "AwardRequest": object(&["recipients", "points", "message"], &[
            ("recipients", json!({"type": "array", "items": {"type": "string"}})),
            ("points", json!({"type": "integer", "minimum": 1})), ("message", string()),
            ("values", json!({"type": "array", "items": {"type": "string"}})),
        ]),
        "Recognition": object(&["id", "giver_id", "recipient_ids", "points", "message", "value_ids", "created_at", "reactions", "comment_count"], &[
            ("id", string()), ("kind", json!({"type": "string", "enum": ["peer", "award", "celebration"]})),
            ("giver_id", nullable("string")), ("recipient_ids", json!({"type": "array", "items": {"type": "string"}})),
            ("points", json!({"type": "integer"})), ("message", string()),
            ("value_ids", json!({"type": "array", "items": {"type": "string"}})), ("created_at", string()),
            ("reactions", json!({"type": "array", "items": object(&["emoji", "count"], &[("emoji", string()), ("count", json!({"type": "integer"}))])})),
            ("comment_count", json!({"type": "integer"})),
        ]),
        "Addon": object(&["points"], &[("points", json!({"type": "integer", "minimum": 1}))]),
        "Reaction": object(&["emoji"], &[("emoji", string())]),
        "CommentRequest": object(&["body"], &[("body", json!({"type": "string", "minLength": 1, "maxLength": 2000}))]),
        "Comment": object(&["id", "member_id", "body", "created_at"], &[("id", string()), ("member_id", string()), ("body", string()), ("created_at", string())]),
        "AllowanceChange": object(&["amount"], &[
            ("members", json!({"type": "array", "items": {"type": "string"}, "description": "absent: everyone"})),
            ("amount", json!({"type": "integer", "minimum": 0})),
        ]),
        "NewReward": object(&["kind", "name"], &reward_fields),
        "RewardChanges": object(&[], &reward_changes),
        "Reward": object(&["id", "kind", "name", "cost_points", "face_value_minor", "currency", "stock", "per_member_monthly_limit", "requires_approval", "archived"], &reward),
        "RedeemRequest": object(&["reward_id"], &[("reward_id", string())]),
        "Redemption": object(&["id", "reward_id", "member_id", "points", "status", "created_at", "updated_at"], &[
            ("id", string()), ("reward_id", string()), ("member_id", string()), ("points", json!({"type": "integer"})),
            ("status", json!({"type": "string", "enum": ["pending", "fulfilled", "declined", "cancelled"]})),
            ("code", json!({"type": ["string", "null"], "description": "the redeeming member and admins only"})),
            ("note", nullable("string")), ("reason", nullable("string")),
            ("face_value_minor", nullable("integer")), ("currency", nullable("string")),
            ("created_at", string()), ("updated_at", string()), ("fulfilled_at", nullable("string")),
        ]),
        "TeamsSetup": object(&["security_token"], &[
            ("security_token", json!({"type": "string", "description": "base64, from Teams' outgoing-webhook setup"})),
            ("workflows_url", json!({"type": "string", "description": "the channel's Workflows webhook URL, for posts"})),
        ]),
        "TeamsStatus": object(&["configured"], &[
            ("configured", json!({"type": "boolean"})), ("webhook_url", string()),
            ("workflows_url_set", json!({"type": "boolean"})), ("workflows_host", string()),
            ("last_error", nullable("string")), ("last_error_at", nullable("string")), ("last_ok_at", nullable("string")),
        ]),
        "FulfilRequest": object(&[], &[("code", nullable("string")), ("note", nullable("string"))]),
        "DeclineRequest": object(&["reason"], &[("reason", json!({"type": "string", "minLength": 1, "maxLength": 500}))]),
        "Statement": object(&["month", "lines", "totals"], &[
            ("month", string()), ("timezone", string()), ("closed", json!({"type": "boolean"})),
            ("lines", json!({"type": "array", "items": statement_line.clone()})),
            ("culture_lines", json!({"type": "array", "items": statement_line})),
            ("totals", json!({"type": "array", "items": object(&["currency", "face_value_minor"], &[("currency", string()), ("face_value_minor", json!({"type": "integer"}))])})),
        ]),
        "ImportReport": object(&["dry_run", "rows", "created", "updated", "unchanged", "skipped"], &[
            ("dry_run", json!({"type": "boolean"})), ("rows", json!({"type": "integer"})),
            ("created", json!({"type": "integer"})), ("updated", json!({"type": "integer"})),
            ("unchanged", json!({"type": "integer"})), ("deactivated", json!({"type": "integer"})),
            ("reactivated", json!({"type": "integer"})),
            ("skipped", json!({"type": "array", "items": object(&["line", "code", "reason"], &[
                ("line", json!({"type": "integer"})), ("email", string()), ("code", string()), ("reason", string()),
            ])})),
        ]),
    })
}

pub fn spec() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, request, status, response) in ROUTES {
        let mut op = json!({
            "summary": summary,
            "operationId": format!("{method}{}", path.replace(['/', '{', '}', '.'], "_")),
            "responses": {
                "default": {"description": "an error", "content": {"application/problem+json": {"schema": schema_ref("Problem")}}},
            },
        });
        let ok = match response {
            Some(r) => json!({"description": "success", "content": {"application/json": {"schema": schema_ref(r)}}}),
            None => json!({"description": "success"}),
        };
        op["responses"][status.to_string()] = ok;
        match request {
            Some("Image") => {
                op["requestBody"] = json!({"required": true, "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/webp": {"schema": {"type": "string", "format": "binary"}},
                }})
            }
            Some("Csv") => {
                op["requestBody"] = json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}})
            }
            Some(r) => {
                op["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": schema_ref(r)}}})
            }
            None => {}
        }
        let mut params = Vec::new();
        if path.contains("{id}") {
            params.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}));
        }
        if path.contains("{month}") {
            params.push(json!({"name": "month", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}));
        }
        if *method == "get" && matches!(*response, Some("Page")) {
            params.push(
                json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}),
            );
            params.push(json!({"name": "cursor", "in": "query", "schema": {"type": "string"}}));
        }
        if *method == "post"
            && matches!(
                *path,
                "/api/v1/recognitions" | "/api/v1/awards" | "/api/v1/recognitions/{id}/addons" | "/api/v1/redemptions"
            )
        {
            params.push(
                json!({"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}}),
            );
        }
        if *path == "/api/v1/members/import" {
            params.push(json!({"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}));
        }
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        paths.entry(path.to_string()).or_insert_with(|| json!({}))[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Plaudit API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::http::SESSION_COOKIE},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
