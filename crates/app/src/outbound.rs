//! Outbound HTTP: every call Plaudit makes to another service (Slack, Teams,
//! webhook receivers, OpenID providers) goes through one client with bounded
//! timeouts. Base URLs come from configuration, so tests point them at local
//! servers.

use std::time::Duration;

/// The answer of a remote server, read whole (bodies are capped).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_slice(&self.body).map_err(|e| Failure(format!("the answer is not the JSON expected: {e}")))
    }
}

/// A call that got no HTTP answer: refused connection, timeout, TLS, bad URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// Largest answer body read; more is an error (a misbehaving peer cannot fill memory).
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// The shared HTTP client. Any status is an answer (not an error), so
/// callers decide what 4xx/5xx and `Retry-After` mean for them.
#[derive(Clone)]
pub struct Outbound {
    agent: ureq::Agent,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbound")
    }
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound::new(Duration::from_secs(10))
    }
}

impl Outbound {
    /// A client whose every call, connection to last byte, ends within `timeout`.
    pub fn new(timeout: Duration) -> Outbound {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("Plaudit/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Outbound { agent }
    }

    /// A client that connects only to addresses `allowed` accepts. The
    /// check is on the addresses a name resolves to at connection time, so
    /// a name cannot be re-pointed at a private address between a check
    /// and the call. No proxy: the check must see the real destination.
    pub fn with_address_check(timeout: Duration, allowed: fn(std::net::IpAddr) -> bool) -> Outbound {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .user_agent(concat!("Plaudit/", env!("CARGO_PKG_VERSION")))
            .build();
        let resolver = CheckedResolver { allowed, inner: ureq::unversioned::resolver::DefaultResolver::default() };
        let agent = ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::new(), resolver);
        Outbound { agent }
    }

    /// Sends any request (used by the OpenID Connect client).
    pub fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Failure> {
        let mut response = self.agent.run(request).map_err(|e| Failure(e.to_string()))?;
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| Failure(format!("cannot read the answer: {e}")))?;
        let (parts, _) = response.into_parts();
        Ok(http::Response::from_parts(parts, body))
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Reply, Failure> {
        self.call(http::Method::GET, url, headers, Vec::new())
    }

    /// POSTs a JSON body.
    pub fn post_json(&self, url: &str, headers: &[(&str, &str)], body: &serde_json::Value) -> Result<Reply, Failure> {
        let mut all = vec![("content-type", "application/json; charset=utf-8")];
        all.extend_from_slice(headers);
        self.call(http::Method::POST, url, &all, body.to_string().into_bytes())
    }

    /// POSTs raw bytes with the given headers (the caller sets Content-Type).
    pub fn post_bytes(&self, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Reply, Failure> {
        self.call(http::Method::POST, url, headers, body)
    }

    /// POSTs an `application/x-www-form-urlencoded` body.
    pub fn post_form(&self, url: &str, headers: &[(&str, &str)], form: &[(&str, &str)]) -> Result<Reply, Failure> {
        let body =
            form.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&");
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.call(http::Method::POST, url, &all, body.into_bytes())
    }

    fn call(&self, method: http::Method, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Reply, Failure> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body).map_err(|e| Failure(format!("bad request to {url}: {e}")))?;
        let response = self.send(request)?;
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect();
        Ok(Reply { status: response.status().as_u16(), headers, body: response.into_body() })
    }
}

/// The words of a refusal by [`Outbound::with_address_check`], so callers can tell it from a network failure.
pub const REFUSED_ADDRESS: &str = "resolves only to private or local addresses";

/// Resolves names as usual, then keeps only the addresses `allowed` accepts.
#[derive(Debug)]
struct CheckedResolver {
    allowed: fn(std::net::IpAddr) -> bool,
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let all = self.inner.resolve(uri, config, timeout)?;
        let mut kept = self.empty();
        for addr in all.iter().filter(|a| (self.allowed)(a.ip())) {
            kept.push(*addr);
        }
        if kept.is_empty() {
            let host = uri.host().unwrap_or("");
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("refused: {host} {REFUSED_ADDRESS}"),
            )));
        }
        Ok(kept)
    }
}

/// Percent-encodes a form field (RFC 3986 unreserved characters stay).
pub fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-shot HTTP server on 127.0.0.1 that answers `answer` and hands back the request it read.
    fn serve_once(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            stream.write_all(answer.as_bytes()).unwrap();
            String::from_utf8_lossy(&seen).into_owned()
        });
        (url, handle)
    }

    #[test]
    fn an_error_status_is_an_answer_with_its_headers_and_body() {
        let (url, server) = serve_once(
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno",
        );
        let reply = Outbound::default()
            .post_json(&format!("{url}/hook"), &[("x-test", "1")], &serde_json::json!({"a": 1}))
            .unwrap();
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("7"));
        assert_eq!(reply.body, b"no");
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
        assert!(request.to_ascii_lowercase().contains("x-test: 1"), "{request}");
        assert!(request.ends_with(r#"{"a":1}"#), "{request}");
    }

    #[test]
    fn form_bodies_are_encoded() {
        let (url, server) = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let reply = Outbound::default().post_form(&url, &[], &[("code", "a b&c"), ("é", "/")]).unwrap();
        assert!(reply.is_success());
        assert!(server.join().unwrap().ends_with("code=a%20b%26c&%C3%A9=%2F"));
    }

    #[test]
    fn an_address_check_refuses_before_connecting() {
        let (url, server) = serve_once("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        let refused = Outbound::with_address_check(Duration::from_secs(5), |ip| !ip.is_loopback())
            .post_bytes(&format!("{url}/hook"), &[], b"{}".to_vec())
            .unwrap_err();
        assert!(refused.0.contains("private or local"), "{refused}");
        let allowed = Outbound::with_address_check(Duration::from_secs(5), |_| true);
        assert_eq!(allowed.post_bytes(&url, &[], b"{}".to_vec()).unwrap().status, 204);
        server.join().unwrap();
    }

    #[test]
    fn a_refused_connection_is_a_failure() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert!(Outbound::default().get(&format!("http://127.0.0.1:{port}/"), &[]).is_err());
    }
}
