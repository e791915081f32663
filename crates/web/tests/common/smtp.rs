//! A local SMTP sink for the mail tests: a 127.0.0.1 server on a free port
//! speaking just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT) to accept what Plaudit sends, and recording every message. It can
//! be switched "down" (every connection is answered 421), as a server that
//! is unavailable for a while.

use base64::Engine;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    down: AtomicBool,
}

pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
                });
            }
        });
        SmtpSink { port, shared }
    }

    /// `smtp://127.0.0.1:PORT`, for `PLAUDIT_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Every message so far, parsed.
    pub fn mails(&self) -> Vec<Mail> {
        self.shared.messages.lock().unwrap().iter().map(Mail::parse).collect()
    }

    /// The messages so far, forgetting them.
    pub fn take(&self) -> Vec<Mail> {
        let taken: Vec<Received> = std::mem::take(&mut *self.shared.messages.lock().unwrap());
        taken.iter().map(Mail::parse).collect()
    }
}

fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    if shared.down.load(Ordering::SeqCst) {
        out.write_all(b"421 sink.test Service not available, try again later\r\n")?;
        return Ok(());
    }
    out.write_all(b"220 sink.test ESMTP ready\r\n")?;
    let mut reader = BufReader::new(stream);
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            out.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&cmd["MAIL FROM:".len()..]);
            to.clear();
            out.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&cmd["RCPT TO:".len()..]));
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l)? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                // Undo dot-stuffing.
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            shared.messages.lock().unwrap().push(Received { from: from.clone(), to: to.clone(), data });
            out.write_all(b"250 OK queued\r\n")?;
        } else if upper == "RSET" || upper == "NOOP" {
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 Command not implemented\r\n")?;
        }
    }
}

/// `<ana@x>` with any parameters after it → `ana@x`.
fn address(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or("");
    s.trim_start_matches('<').trim_end_matches('>').to_string()
}

/// A received message: envelope, unfolded headers and decoded parts.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub raw: String,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
}

impl Mail {
    fn parse(r: &Received) -> Mail {
        let (head, body) = split_head(&r.data);
        let headers = parse_headers(head);
        let mut mail = Mail {
            from: r.from.clone(),
            to: r.to.clone(),
            raw: r.data.clone(),
            headers: headers.clone(),
            text: String::new(),
            html: String::new(),
        };
        let content_type = header_of(&headers, "content-type").unwrap_or_default();
        if let Some(boundary) = boundary(&content_type) {
            for part in body.split(&format!("--{boundary}")).skip(1) {
                if part.starts_with("--") {
                    break;
                }
                let (h, b) = split_head(part.trim_start_matches("\r\n"));
                let h = parse_headers(h);
                let decoded = decode_body(&h, b);
                let ct = header_of(&h, "content-type").unwrap_or_default().to_ascii_lowercase();
                if ct.starts_with("text/plain") {
                    mail.text = decoded;
                } else if ct.starts_with("text/html") {
                    mail.html = decoded;
                }
            }
        } else {
            mail.text = decode_body(&headers, body);
        }
        mail
    }

    /// A header's value (RFC 2047 words decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        header_of(&self.headers, name).map(|v| decode_words(&v))
    }

    pub fn subject(&self) -> String {
        self.header("subject").unwrap_or_default()
    }

    /// The first link in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let at = self.text.find(prefix)?;
        let rest = &self.text[at..];
        Some(rest.split_whitespace().next().unwrap_or("").to_string())
    }
}

fn split_head(s: &str) -> (&str, &str) {
    match s.find("\r\n\r\n") {
        Some(i) => (&s[..i], &s[i + 4..]),
        None => (s, ""),
    }
}

fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn header_of(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

fn boundary(content_type: &str) -> Option<String> {
    let at = content_type.find("boundary=")?;
    let b = &content_type[at + "boundary=".len()..];
    let b = b.split(';').next().unwrap_or("").trim().trim_matches('"');
    Some(b.to_string())
}

fn decode_body(headers: &[(String, String)], body: &str) -> String {
    let encoding = header_of(headers, "content-transfer-encoding").unwrap_or_default().to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact).expect("a base64 body");
            String::from_utf8(bytes).expect("a UTF-8 body")
        }
        "quoted-printable" => decode_qp(body, false),
        _ => body.to_string(),
    }
}

fn decode_qp(s: &str, underscores: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'_' if underscores => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`).
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        if parts.len() < 3 {
            out.push_str(&rest[start..]);
            return out;
        }
        let Some(end) = parts[2].find("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let decoded = if parts[1].eq_ignore_ascii_case("b") {
            String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default())
                .into_owned()
        } else {
            decode_qp(text, true)
        };
        out.push_str(&decoded);
        last_was_word = true;
        let consumed = start + 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    out
}
