//! A cookie-keeping HTTP client for the console (redirects are not
//! followed, so tests see them), and a webhook receiver.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Page {
    /// The first hidden CSRF token on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field on the page:\n{}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

pub struct Client {
    pub base: String,
    agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .proxy(None)
            .build()
            .into();
        Client {
            base: base.to_owned(),
            agent,
            cookies: BTreeMap::new(),
        }
    }

    /// Signs in through the login form; panics unless it redirects.
    pub fn login(base: &str, name: &str, password: &str) -> Client {
        let mut c = Client::new(base);
        let r = c.try_login(name, password);
        assert_eq!(r.status, 303, "login as {name} failed: {}", r.body);
        c
    }

    pub fn try_login(&mut self, name: &str, password: &str) -> Page {
        let form = self.get("/console/login");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/console/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn page(&mut self, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Page {
        let mut resp = resp.expect("HTTP request failed");
        let mut headers = BTreeMap::new();
        for (k, v) in resp.headers() {
            let v = v.to_str().unwrap_or("").to_owned();
            if k.as_str() == "set-cookie" {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
            headers
                .entry(k.as_str().to_owned())
                .and_modify(|e: &mut String| {
                    e.push('\n');
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        Page {
            status: resp.status().as_u16(),
            location: headers.get("location").cloned(),
            body: resp.body_mut().read_to_string().unwrap_or_default(),
            headers,
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        let req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Accept-Language", "en");
        let resp = req.call();
        self.page(resp)
    }

    /// Opens an item (which claims it and gives the form's token) and
    /// posts a decision with `fields`.
    pub fn decide(&mut self, id: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(&format!("/console/items/{id}")).csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(&format!("/console/items/{id}/decide"), &form)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Accept-Language", "en");
        let resp = req.send_form(form.iter().copied());
        self.page(resp)
    }
}

/// `cleanweb user add` with the password on stdin.
pub fn add_user(data_dir: &Path, name: &str, role: &str, password: &str) {
    let (code, _, err) = super::cleanweb(
        data_dir,
        &["user", "add", name, "--role", role, "--password-stdin"],
        &format!("{password}\n"),
    );
    assert_eq!(code, 0, "{err}");
}

/// One request a webhook receiver got.
pub struct Hook {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A takedown receiver on a local port: answers each request with the
/// next status from `statuses` (then 200) and hands the request over.
pub struct Receiver {
    pub url: String,
    pub rx: mpsc::Receiver<Hook>,
}

impl Receiver {
    pub fn start(statuses: Vec<u16>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut statuses = statuses.into_iter();
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or(0);
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    }
                }
                let len: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap_or(());
                let status = statuses.next().unwrap_or(200);
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                if tx.send(Hook { headers, body }).is_err() {
                    break;
                }
            }
        });
        Receiver { url, rx }
    }

    pub fn next(&self, wait: Duration) -> Hook {
        self.rx
            .recv_timeout(wait)
            .expect("no webhook arrived in time")
    }
}
