//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a small
//! parser and an evaluator over a resource's JSON.
//!
//! Attribute names are case-insensitive; string comparisons are too, except
//! for `id` and `externalId`, which RFC 7643 makes case-exact.

use super::{invalid_filter, invalid_path};
use crate::Result;
use serde_json::Value;
use std::cmp::Ordering;

/// `[urn:]attr[.sub]`, e.g. `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Present(AttrPath),
    Compare(AttrPath, CompareOp, Value),
    /// `emails[type eq "work"]`: some value of a multi-valued attribute matches.
    ValuePath(AttrPath, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// A PATCH target: `attrPath`, `attrPath[filter]` or `attrPath[filter].sub`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

fn tokenize(input: &str, err: fn(String) -> crate::Error) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                // A JSON string, escapes included.
                let mut raw = String::from('"');
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    raw.push(c);
                    if c == '\\' {
                        match chars.next() {
                            Some(e) => raw.push(e),
                            None => break,
                        }
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(err(format!("unterminated string in '{input}'")));
                }
                let s: String =
                    serde_json::from_str(&raw).map_err(|_| err(format!("bad escape in the string {raw}")))?;
                out.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

/// Parses `[urn:]attr[.sub]`.
pub fn parse_attr_path(s: &str) -> Option<AttrPath> {
    let (urn, rest) = match s.rfind(':') {
        Some(i) if s[..i].to_ascii_lowercase().starts_with("urn:") => (Some(s[..i].to_string()), &s[i + 1..]),
        Some(_) => return None,
        None => (None, s),
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    if !is_name(attr) || sub.is_some_and(|s| !is_name(s)) {
        return None;
    }
    Some(AttrPath { urn, attr: attr.to_string(), sub: sub.map(str::to_string) })
}

/// Bounds on what a client may send, so that parsing, matching and dropping
/// a filter never recurse deeply enough to exhaust the stack.
const MAX_FILTER_CHARS: usize = 4_000;
const MAX_FILTER_TOKENS: usize = 400;
const MAX_FILTER_DEPTH: usize = 32;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    err: fn(String) -> crate::Error,
}

impl Parser {
    fn new(input: &str, err: fn(String) -> crate::Error) -> Result<Parser> {
        if input.chars().count() > MAX_FILTER_CHARS {
            return Err(err(format!("the filter is longer than {MAX_FILTER_CHARS} characters")));
        }
        let tokens = tokenize(input, err)?;
        if tokens.len() > MAX_FILTER_TOKENS {
            return Err(err(format!("the filter has more than {MAX_FILTER_TOKENS} parts")));
        }
        Ok(Parser { tokens, pos: 0, depth: 0, err })
    }

    /// Enters a nested group (`(`, `not (`, `[`), refusing deep nesting.
    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return self.fail(&format!("the filter nests more than {MAX_FILTER_DEPTH} levels deep"));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn fail<T>(&self, what: &str) -> Result<T> {
        Err((self.err)(what.to_string()))
    }

    fn or(&mut self) -> Result<Filter> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter> {
        if self.peek_keyword("not") && self.tokens.get(self.pos + 1) == Some(&Token::Open) {
            self.pos += 1;
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.pos += 1;
                self.nest()?;
                let inner = self.or()?;
                self.depth -= 1;
                if self.peek() != Some(&Token::Close) {
                    return self.fail("a '(' is never closed");
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) => {
                self.pos += 1;
                let Some(path) = parse_attr_path(&w) else {
                    return self.fail(&format!("'{w}' is not an attribute name"));
                };
                if self.peek() == Some(&Token::OpenBracket) {
                    self.pos += 1;
                    self.nest()?;
                    let inner = self.or()?;
                    self.depth -= 1;
                    if self.peek() != Some(&Token::CloseBracket) {
                        return self.fail("a '[' is never closed");
                    }
                    self.pos += 1;
                    return Ok(Filter::ValuePath(path, Box::new(inner)));
                }
                self.comparison(path)
            }
            Some(t) => self.fail(&format!("unexpected {t:?}")),
            None => self.fail("the filter ends too early"),
        }
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Filter> {
        let Some(Token::Word(op)) = self.peek().cloned() else {
            return self.fail("an operator (eq, ne, co, sw, ew, pr, gt, ge, lt, le) must follow the attribute");
        };
        self.pos += 1;
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            other => return self.fail(&format!("unknown operator '{other}'")),
        };
        let value = match self.peek().cloned() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<serde_json::Number>(&w) {
                    Ok(n) => Value::Number(n),
                    Err(_) => return self.fail(&format!("'{w}' is not a value: quote strings")),
                },
            },
            _ => return self.fail("a value must follow the operator"),
        };
        self.pos += 1;
        Ok(Filter::Compare(path, op, value))
    }
}

/// Parses a `filter` query parameter.
pub fn parse_filter(input: &str) -> Result<Filter> {
    let mut p = Parser::new(input, invalid_filter)?;
    let f = p.or()?;
    if p.pos != p.tokens.len() {
        return p.fail("unexpected text after the end of the filter");
    }
    Ok(f)
}

/// Parses a PATCH operation's `path`.
pub fn parse_patch_path(input: &str) -> Result<PatchPath> {
    let bad = || invalid_path(format!("'{input}' is not a valid path"));
    let input = input.trim();
    let Some(open) = input.find('[') else {
        return parse_attr_path(input).map(|attr| PatchPath { attr, filter: None }).ok_or_else(bad);
    };
    let close = input.rfind(']').ok_or_else(bad)?;
    if close < open {
        return Err(bad());
    }
    let mut attr = parse_attr_path(&input[..open]).ok_or_else(bad)?;
    if attr.sub.is_some() {
        return Err(bad());
    }
    let after = &input[close + 1..];
    if !after.is_empty() {
        let sub = after.strip_prefix('.').filter(|s| is_name(s)).ok_or_else(bad)?;
        attr.sub = Some(sub.to_string());
    }
    let mut p = Parser::new(&input[open + 1..close], invalid_path)?;
    let filter = p.or()?;
    if p.pos != p.tokens.len() {
        return Err(bad());
    }
    Ok(PatchPath { attr, filter: Some(filter) })
}

/// The value of `key` in an object, found case-insensitively.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// Every value a path names in `resource` (multi-valued attributes flattened;
/// a complex value compared as a whole stands for its `value`).
fn values_at<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let scope = match &path.urn {
        Some(urn) => match get_ci(resource, urn) {
            Some(v) => v,
            None => return Vec::new(),
        },
        None => resource,
    };
    let Some(v) = get_ci(scope, &path.attr) else { return Vec::new() };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .filter_map(|item| match (&path.sub, item) {
            (Some(sub), item) => get_ci(item, sub),
            (None, Value::Object(_)) => get_ci(item, "value"),
            (None, item) => Some(item),
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn case_exact(path: &AttrPath) -> bool {
    path.urn.is_none() && path.sub.is_none() && (path.attr.eq_ignore_ascii_case("id") || path.attr == "externalId")
}

fn compare(actual: &Value, op: CompareOp, expected: &Value, exact: bool) -> bool {
    use CompareOp::*;
    match (actual, expected) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = if exact { (a.clone(), b.clone()) } else { (a.to_lowercase(), b.to_lowercase()) };
            match op {
                Eq => a == b,
                Ne => a != b,
                Co => a.contains(&b),
                Sw => a.starts_with(&b),
                Ew => a.ends_with(&b),
                Gt => a > b,
                Ge => a >= b,
                Lt => a < b,
                Le => a <= b,
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let ord = a.as_f64().partial_cmp(&b.as_f64());
            match op {
                Eq => ord == Some(Ordering::Equal),
                Ne => ord != Some(Ordering::Equal),
                Gt => ord == Some(Ordering::Greater),
                Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                Lt => ord == Some(Ordering::Less),
                Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                Co | Sw | Ew => false,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            Eq => a == b,
            Ne => a != b,
            _ => false,
        },
        // Entra sends booleans as strings; compare them as booleans.
        (Value::Bool(a), Value::String(b)) | (Value::String(b), Value::Bool(a)) => {
            match b.to_ascii_lowercase().as_str() {
                "true" | "false" => compare(&Value::Bool(*a), op, &Value::Bool(b.eq_ignore_ascii_case("true")), exact),
                _ => op == Ne,
            }
        }
        _ => op == Ne,
    }
}

impl Filter {
    /// Whether `resource` (a SCIM resource or, inside `[...]`, one value of
    /// a multi-valued attribute) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::Present(path) => values_at(resource, path).iter().any(|v| match v {
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            }),
            Filter::Compare(path, op, expected) => {
                let values = values_at(resource, path);
                let exact = case_exact(path);
                if expected.is_null() {
                    return match op {
                        CompareOp::Eq => values.is_empty(),
                        CompareOp::Ne => !values.is_empty(),
                        _ => false,
                    };
                }
                if *op == CompareOp::Ne {
                    return !values.iter().any(|v| compare(v, CompareOp::Eq, expected, exact));
                }
                values.iter().any(|v| compare(v, *op, expected, exact))
            }
            Filter::ValuePath(path, inner) => {
                let scope = match &path.urn {
                    Some(urn) => get_ci(resource, urn),
                    None => Some(resource),
                };
                match scope.and_then(|s| get_ci(s, &path.attr)) {
                    Some(Value::Array(items)) => items.iter().any(|item| inner.matches(item)),
                    Some(item @ Value::Object(_)) => inner.matches(item),
                    _ => false,
                }
            }
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(a) => !a.matches(resource),
        }
    }

    /// The string of a filter that is only `attr eq "…"` on a core
    /// attribute, so a look-up can replace a scan.
    pub fn eq_string(&self, attr: &str) -> Option<&str> {
        match self {
            Filter::Compare(AttrPath { urn: None, attr: a, sub: None }, CompareOp::Eq, Value::String(v))
                if a.eq_ignore_ascii_case(attr) =>
            {
                Some(v)
            }
            _ => None,
        }
    }

    /// For `eq` filters on one sub-attribute (`type eq "work"`), that
    /// sub-attribute and value: a PATCH that finds no such item creates one.
    pub fn simple_eq(&self) -> Option<(&str, &Value)> {
        match self {
            Filter::Compare(AttrPath { urn: None, attr, sub: None }, CompareOp::Eq, v) => Some((attr, v)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "0190-ABC",
            "userName": "Ana.Lima@Example.com",
            "displayName": "Ana Lima",
            "active": true,
            "title": "Engineer \"Staff\"",
            "name": {"givenName": "Ana", "familyName": "Lima"},
            "emails": [{"value": "ana@example.com", "type": "work", "primary": true},
                       {"value": "ana@home.example", "type": "home"}],
            "meta": {"lastModified": "2026-11-02T10:00:00Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "employeeNumber": "42"},
        })
    }

    fn m(filter: &str) -> bool {
        parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&user())
    }

    #[test]
    fn operators_compare_case_insensitively() {
        assert!(m(r#"userName eq "ana.lima@example.com""#));
        assert!(m(r#"USERNAME Eq "ANA.LIMA@EXAMPLE.COM""#));
        assert!(!m(r#"userName ne "ana.lima@example.com""#));
        assert!(m(r#"userName ne "li@example.com""#));
        assert!(m(r#"displayName co "a li""#));
        assert!(m(r#"displayName sw "ana""#) && m(r#"displayName ew "LIMA""#));
        assert!(m("title pr") && !m("nickName pr"));
        assert!(m(r#"meta.lastModified gt "2026-11-01T00:00:00Z""#));
        assert!(!m(r#"meta.lastModified lt "2026-11-01T00:00:00Z""#));
        assert!(
            m(r#"meta.lastModified ge "2026-11-02T10:00:00Z""#) && m(r#"meta.lastModified le "2026-11-02T10:00:00Z""#)
        );
        assert!(m("active eq true") && !m("active eq false") && m(r#"active eq "True""#));
        assert!(m(r#"name.givenName eq "ana""#) && m(r#"Name.FamilyName sw "li""#));
        // ids are case-exact
        assert!(m(r#"id eq "0190-ABC""#) && !m(r#"id eq "0190-abc""#));
    }

    #[test]
    fn logic_precedence_and_parentheses() {
        assert!(m(r#"userName eq "x" or displayName co "ana" and active eq true"#));
        assert!(!m(r#"(userName eq "x" or displayName co "ana") and active eq false"#));
        assert!(m(r#"not (userName eq "x")"#));
        assert!(!m(r#"not(active eq true)"#));
        assert!(m(r#"not (userName eq "x") and (title co "staff")"#));
    }

    #[test]
    fn multi_valued_extensions_and_value_paths() {
        assert!(m(r#"emails co "home.example""#));
        assert!(m(r#"emails.value eq "ana@example.com""#));
        assert!(m(r#"emails[type eq "work" and value ew "example.com"]"#));
        assert!(!m(r#"emails[type eq "other"]"#));
        assert!(m(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#));
        assert!(m(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#));
        assert!(!m(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr"#));
    }

    #[test]
    fn strings_take_json_escapes() {
        assert!(m(r#"title eq "engineer \"staff\"""#));
        assert!(m(r#"title co "\u0022STAFF""#));
    }

    #[test]
    fn bad_filters_are_refused_with_invalid_filter() {
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName zz "x""#,
            r#"userName eq unquoted"#,
            r#"(userName eq "x""#,
            r#"userName eq "x" and"#,
            r#"userName eq "open"#,
            r#"emails[type eq "work""#,
            r#"userName eq "x" extra"#,
            r#"1abc eq "x""#,
            r#"title eq "\q""#,
        ] {
            let e = parse_filter(bad).expect_err(bad);
            assert_eq!(e.code, "invalid_filter", "{bad}");
        }
    }

    #[test]
    fn deep_long_or_huge_filters_are_refused_not_recursed_into() {
        let code = |f: &str| parse_filter(f).unwrap_err().code;
        let nested = format!("{}userName pr{}", "(".repeat(300), ")".repeat(300));
        assert_eq!(code(&nested), "invalid_filter");
        let chain = vec!["userName pr"; 20_000].join(" and ");
        assert_eq!(code(&chain), "invalid_filter");
        let nots = format!("{}(userName pr){}", "not (".repeat(40), ")".repeat(40));
        assert_eq!(code(&nots), "invalid_filter");
        let path = format!("emails[{}type eq \"work\"{}].value", "(".repeat(2000), ")".repeat(2000));
        assert_eq!(parse_patch_path(&path).unwrap_err().code, "invalid_path");
        // Within the bounds, nesting and long chains still work.
        let ok = format!("{}userName pr{}", "(".repeat(30), ")".repeat(30));
        assert!(m(&ok));
        assert!(m(&vec!["userName pr"; 100].join(" and ")));
    }

    #[test]
    fn patch_paths() {
        let p = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr, AttrPath { urn: None, attr: "emails".into(), sub: Some("value".into()) });
        assert_eq!(p.filter.as_ref().unwrap().simple_eq(), Some(("type", &json!("work"))));
        assert_eq!(parse_filter(r#"USERNAME eq "a@b.co""#).unwrap().eq_string("userName"), Some("a@b.co"));
        assert_eq!(parse_filter(r#"userName eq "a" and active eq true"#).unwrap().eq_string("userName"), None);
        let p = parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
        assert_eq!(p.attr.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(p.attr.attr, "manager");
        let p = parse_patch_path(r#"members[value eq "abc"]"#).unwrap();
        assert!(p.filter.unwrap().matches(&json!({"value": "abc"})));
        assert_eq!(parse_patch_path("name.givenName").unwrap().attr.sub.as_deref(), Some("givenName"));
        for bad in ["", "emails[", "emails]x[", "a.b.c", r#"emails[type eq "x"]value"#, "bad path"] {
            assert_eq!(parse_patch_path(bad).expect_err(bad).code, "invalid_path", "{bad}");
        }
    }
}
