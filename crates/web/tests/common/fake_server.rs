//! A fake HTTP service on 127.0.0.1 (Slack's Web API, a Teams Workflows
//! URL, a `response_url`): records every request and answers from a queue
//! per path, else from a default handler.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn form(&self) -> HashMap<String, String> {
        serde_urlencoded::from_bytes(&self.body).expect("a form body")
    }
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn json(body: serde_json::Value) -> Answer {
        Answer {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16) -> Answer {
        Answer { status, headers: Vec::new(), body: String::new(), delay: Duration::ZERO }
    }
    pub fn header(mut self, k: &str, v: &str) -> Answer {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn after(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&Call) -> Answer + Send + Sync;

pub struct FakeServer {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    queued: Arc<Mutex<HashMap<String, VecDeque<Answer>>>>,
}

impl FakeServer {
    pub fn start(default: impl Fn(&Call) -> Answer + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let queued: Arc<Mutex<HashMap<String, VecDeque<Answer>>>> = Arc::new(Mutex::new(HashMap::new()));
        let handler: Arc<Handler> = Arc::new(default);
        let (c, q) = (calls.clone(), queued.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (c, q, h) = (c.clone(), q.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &c, &q, &*h));
            }
        });
        FakeServer { url, calls, queued }
    }

    /// The next request to `path` gets `answer` (queued in order).
    pub fn push(&self, path: &str, answer: Answer) {
        self.queued.lock().unwrap().entry(path.to_string()).or_default().push_back(answer);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn calls_to(&self, path: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.path.split('?').next() == Some(path)).collect()
    }

    /// Waits (up to 10 s) until `path` has had `n` calls; returns them.
    #[track_caller]
    pub fn wait_for(&self, path: &str, n: usize) -> Vec<Call> {
        let start = Instant::now();
        loop {
            let calls = self.calls_to(path);
            if calls.len() >= n {
                return calls;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{path}: {} call(s), expected {n}", calls.len());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(
    mut stream: TcpStream,
    calls: &Mutex<Vec<Call>>,
    queued: &Mutex<HashMap<String, VecDeque<Answer>>>,
    handler: &Handler,
) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let (head_end, length) = loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            break (end, length);
        }
    };
    while seen.len() < head_end + 4 + length {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&seen[..head_end]).to_string();
    let mut lines = head.lines();
    let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let call = Call {
        method: first.first().unwrap_or(&"").to_string(),
        path: first.get(1).unwrap_or(&"").to_string(),
        headers,
        body: seen[head_end + 4..].to_vec(),
    };
    calls.lock().unwrap().push(call.clone());
    let path = call.path.split('?').next().unwrap_or("").to_string();
    let next = queued.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
    let answer = next.unwrap_or_else(|| handler(&call));
    std::thread::sleep(answer.delay);
    let mut out =
        format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n", answer.status, answer.body.len());
    for (k, v) in &answer.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&answer.body);
    let _ = stream.write_all(out.as_bytes());
}
