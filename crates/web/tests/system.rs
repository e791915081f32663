//! The OpenAPI document against the router, health, readiness and metrics.

mod common;

use axum::http::Method;
use common::*;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use plaudit_web::api::openapi::ROUTES;
use serde_json::json;

fn method(m: &str) -> Method {
    Method::from_bytes(m.to_uppercase().as_bytes()).unwrap()
}

fn openapi_lists_every_route_and_every_route_exists(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let token =
        t.post(&o.auth, "/api/v1/tokens", &json!({"name": "probe"})).ok(201)["token"].as_str().unwrap().to_string();

    let spec = t.get(&Auth::None, "/api/v1/openapi.json").ok(200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let mut operations = 0;
    for (m, path, summary, _, status, _) in ROUTES {
        let op = &spec["paths"][*path][*m];
        assert!(op.is_object(), "{m} {path} is missing from openapi.json");
        assert_eq!(op["summary"], *summary);
        assert!(op["responses"][status.to_string()].is_object(), "{m} {path}: no {status} answer");
        assert!(path.starts_with("/api/v1/"), "{path}");
        operations += 1;
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, operations, "openapi.json documents only the table's routes");
    // Every schema reference resolves.
    let text = spec.to_string();
    for name in text.split("#/components/schemas/").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(spec["components"]["schemas"][name].is_object(), "dangling $ref {name}");
    }

    // The probe sees the fallback for an unknown path…
    let unknown = t.get(&Auth::Bearer(token.clone()), "/api/v1/no-such-route");
    let fallback = unknown.problem(404, "not_found");
    // …and never for a documented one, signed in or not.
    for auth in [Auth::None, Auth::Bearer(token)] {
        for (m, path, ..) in ROUTES {
            let concrete = path.replace("{id}", "00000000-0000-7000-8000-000000000000").replace("{month}", "2026-11");
            let resp = t.request(method(m), &concrete, &auth, Some("application/json"), b"{}".to_vec());
            assert_ne!(resp.status.as_u16(), 405, "{m} {path}: method not routed");
            let is_fallback = resp.status.as_u16() == 404 && resp.json()["detail"] == fallback["detail"];
            assert!(!is_fallback, "{m} {path} falls through to the 404 page: {}", resp.text());
            if matches!(auth, Auth::None)
                && !matches!(
                    *path,
                    "/api/v1/openapi.json"
                        | "/api/v1/signup"
                        | "/api/v1/session"
                        | "/api/v1/password_resets"
                        | "/api/v1/password_resets/confirm"
                )
            {
                resp.problem(401, "unauthenticated");
            }
        }
    }
}

fn health_readiness_and_metrics(db: &TestDb) {
    let t = TestApp::new(db);
    let health = t.get(&Auth::None, "/healthz");
    assert_eq!((health.status.as_u16(), health.text().as_str()), (200, "ok"));
    let ready = t.get(&Auth::None, "/readyz");
    assert_eq!(ready.status.as_u16(), 200, "{}", ready.text());
    t.get(&Auth::None, "/api/v1/me").problem(401, "unauthenticated");

    let metrics = t.get(&Auth::None, "/metrics");
    assert_eq!(metrics.status.as_u16(), 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
    let text = metrics.text();
    let requests: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("plaudit_http_requests_total "))
        .expect("plaudit_http_requests_total")
        .parse()
        .unwrap();
    assert!(requests >= 4, "{text}");
    assert!(text.contains("# TYPE plaudit_http_requests_total counter"));
    assert!(text.contains("plaudit_http_responses_total{class=\"4xx\"} 1"), "{text}");
    // Every answer carries the security headers.
    assert_eq!(metrics.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(health.header("x-frame-options"), Some("DENY"));
}

/// The framework's own refusals on API paths are problem+json too.
fn wrong_methods_and_oversized_bodies_are_problems(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let put = t.request(Method::PUT, "/api/v1/org", &o.auth, Some("application/json"), b"{}".to_vec());
    let p = put.problem(405, "method_not_allowed");
    assert_eq!(p["status"], 405);
    let huge = format!("{{\"recipients\":[],\"message\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
    t.request(Method::POST, "/api/v1/recognitions", &o.auth, Some("application/json"), huge.into_bytes())
        .problem(413, "payload_too_large");
}

backend_tests!(
    wrong_methods_and_oversized_bodies_are_problems,
    openapi_lists_every_route_and_every_route_exists,
    health_readiness_and_metrics
);
