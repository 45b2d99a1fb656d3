//! Fetching pages and images from the outside world without becoming a
//! proxy into the inside one (SSRF).
//!
//! Every connection goes through [`PublicOnly`], a resolver that drops
//! loopback, private, link-local, unique-local, carrier-grade NAT,
//! multicast, documentation and other special-purpose addresses before the
//! connector sees them: the address checked is the address connected to,
//! so DNS rebinding between a check and the connect cannot slip through.
//! Redirects are followed here, one hop at a time, each hop resolved and
//! checked again. No cookies, credentials or proxies are used (a proxy
//! would resolve the target itself, past the check). Body size, total time
//! over all hops and the number of redirects are bounded.
#![deny(missing_docs)]

pub mod content;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::DefaultConnector;
use url::Url;

/// The bounds of one fetch.
#[derive(Clone, Debug)]
pub struct FetchLimits {
    /// The largest body read; a larger one is an error.
    pub max_bytes: u64,
    /// For the whole fetch: every redirect hop and reading the body.
    pub timeout: Duration,
    /// Redirect hops followed at most.
    pub max_redirects: u32,
    /// Allow private and loopback addresses: only for crawling one's own
    /// internal site, never for report triage.
    pub allow_private: bool,
    /// The `User-Agent` sent.
    pub user_agent: String,
    /// Tests only: loopback addresses to treat as public, so a local server
    /// can stand in for a public one that redirects inward.
    #[cfg(test)]
    pub test_public: Vec<IpAddr>,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            max_bytes: 8 << 20,
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            allow_private: false,
            user_agent: format!(
                "cleanweb/{} (+content moderation)",
                env!("CARGO_PKG_VERSION")
            ),
            #[cfg(test)]
            test_public: Vec::new(),
        }
    }
}

/// Why a fetch failed; each names the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not http or https.
    #[error("{0}: only http and https URLs are fetched")]
    Scheme(String),
    /// It resolves only to non-public addresses.
    #[error("{0}: refused, the address is not public")]
    NotPublic(String),
    /// Out of time (all hops and the body together).
    #[error("{0}: no answer within {1:?}")]
    TimedOut(String, Duration),
    /// Too many redirect hops.
    #[error("{0}: more than {1} redirects")]
    TooManyRedirects(String, u32),
    /// The body is over the limit.
    #[error("{0}: the body is larger than {1} bytes")]
    TooLarge(String, u64),
    /// Any other transport or protocol error.
    #[error("{0}: {1}")]
    Http(String, String),
}

/// A fetched resource (any status: the caller decides what 404 means).
#[derive(Clone, Debug)]
pub struct Fetched {
    /// After redirects.
    pub url: Url,
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, as sent.
    pub content_type: Option<String>,
    /// The body, at most `max_bytes`, transfer encoding removed.
    pub body: Vec<u8>,
    /// The final response's HTTP version, as `HTTP/1.1`.
    pub version: String,
    /// The status's reason phrase, as `Not Found` (canonical, not as sent).
    pub reason: String,
    /// The final response's headers, in the order received.
    pub headers: Vec<(String, String)>,
    /// The request sent for the final hop: its headers, as ureq writes them.
    pub request_headers: Vec<(String, String)>,
    /// The address the final hop resolved to first (what the connection
    /// tries first), when it was resolved here.
    pub ip: Option<IpAddr>,
    /// When the final hop's request was sent.
    pub fetched_at: std::time::SystemTime,
}

/// Whether an address may be connected to from a fetcher facing the
/// public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 to anything
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
                || (s[0] == 0x2001 && s[1] == 0) // Teredo embeds any IPv4
                || (s[0] == 0x2002) // 6to4 can embed private IPv4
                || s[..6] == [0; 6]) // IPv4-compatible and other ::/80 forms
        }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 192 && o[1] == 88 && o[2] == 99) // 6to4 relay anycast
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        || o[0] >= 240) // reserved
}

/// The resolver that only hands public addresses to the connector.
#[derive(Debug)]
pub struct PublicOnly {
    allow_private: bool,
    #[cfg(test)]
    test_public: Vec<IpAddr>,
}

impl PublicOnly {
    fn allows(&self, ip: IpAddr) -> bool {
        #[cfg(test)]
        if self.test_public.contains(&ip) {
            return true;
        }
        self.allow_private || is_public(ip)
    }
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = DefaultResolver::default().resolve(uri, config, timeout)?;
        let mut out = self.empty();
        for a in all.iter().filter(|a| self.allows(a.ip())) {
            out.push(*a);
        }
        if out.is_empty() {
            return Err(ureq::Error::Other(Box::new(Refused)));
        }
        // ureq resolves on the calling thread; the fetch reads this back for
        // the record of what was connected to.
        LAST_ADDRESS.with(|a| a.set(out.iter().next().map(|s| s.ip())));
        Ok(out)
    }
}

thread_local! {
    static LAST_ADDRESS: std::cell::Cell<Option<IpAddr>> = const { std::cell::Cell::new(None) };
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("address is not public")
    }
}

impl std::error::Error for Refused {}

/// Fetches URLs within its limits, public addresses only (unless allowed).
pub struct Fetcher {
    agent: ureq::Agent,
    limits: FetchLimits,
}

impl Fetcher {
    /// A fetcher with these limits.
    pub fn new(limits: FetchLimits) -> Fetcher {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(limits.timeout))
            .user_agent(limits.user_agent.as_str())
            .proxy(None)
            .build();
        let resolver = PublicOnly {
            allow_private: limits.allow_private,
            #[cfg(test)]
            test_public: limits.test_public.clone(),
        };
        Fetcher {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
            limits,
        }
    }

    /// GETs `url`, following redirects hop by hop (each one checked).
    pub fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        let deadline = Instant::now() + self.limits.timeout;
        let mut current = url.clone();
        for _ in 0..=self.limits.max_redirects {
            let shown = current.to_string();
            if !matches!(current.scheme(), "http" | "https") {
                return Err(FetchError::Scheme(shown));
            }
            // Each hop gets what is left of the one budget, so a chain of
            // slow redirects cannot hold a fetch for hops × timeout.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FetchError::TimedOut(shown, self.limits.timeout));
            }
            let request = self
                .agent
                .get(current.as_str())
                .config()
                .timeout_global(Some(left))
                .build();
            LAST_ADDRESS.with(|a| a.set(None));
            let fetched_at = std::time::SystemTime::now();
            let response = match request.call() {
                Ok(r) => r,
                Err(ureq::Error::Other(e)) if e.is::<Refused>() => {
                    return Err(FetchError::NotPublic(shown));
                }
                Err(ureq::Error::Timeout(_)) => {
                    return Err(FetchError::TimedOut(shown, self.limits.timeout));
                }
                Err(e) => return Err(FetchError::Http(shown, e.to_string())),
            };
            let status = response.status().as_u16();
            if (300..400).contains(&status)
                && let Some(location) = response.headers().get("location")
            {
                let next = location
                    .to_str()
                    .ok()
                    .and_then(|l| current.join(l).ok())
                    .ok_or_else(|| FetchError::Http(shown.clone(), "bad redirect".into()))?;
                current = next;
                continue;
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let version = format!("{:?}", response.version());
            let reason = response
                .status()
                .canonical_reason()
                .unwrap_or_default()
                .to_owned();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let host = current.host_str().unwrap_or_default();
            let host = match current.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_owned(),
            };
            let request_headers = vec![
                ("Host".to_owned(), host),
                ("User-Agent".to_owned(), self.limits.user_agent.clone()),
                ("Accept".to_owned(), "*/*".to_owned()),
            ];
            let ip = LAST_ADDRESS.with(|a| a.get());
            let mut body = Vec::new();
            response
                .into_body()
                .into_reader()
                .take(self.limits.max_bytes + 1)
                .read_to_end(&mut body)
                .map_err(|e| FetchError::Http(shown.clone(), e.to_string()))?;
            if body.len() as u64 > self.limits.max_bytes {
                return Err(FetchError::TooLarge(shown, self.limits.max_bytes));
            }
            return Ok(Fetched {
                url: current,
                status,
                content_type,
                body,
                version,
                reason,
                headers,
                request_headers,
                ip,
                fetched_at,
            });
        }
        Err(FetchError::TooManyRedirects(
            url.to_string(),
            self.limits.max_redirects,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "fe80::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "::",
            "::127.0.0.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "100::1",
            "192.88.99.1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn loopback_and_other_schemes_are_refused() {
        let f = Fetcher::new(FetchLimits::default());
        let err = f
            .get(&Url::parse("http://127.0.0.1:9/").unwrap())
            .unwrap_err();
        assert!(matches!(err, FetchError::NotPublic(_)), "{err}");
        let err = f
            .get(&Url::parse("http://localhost:9/x").unwrap())
            .unwrap_err();
        assert!(matches!(err, FetchError::NotPublic(_)), "{err}");
        let err = f
            .get(&Url::parse("file:///etc/passwd").unwrap())
            .unwrap_err();
        assert!(matches!(err, FetchError::Scheme(_)), "{err}");
        for url in [
            "http://[fe80::1]:9/",
            "http://10.0.0.1:9/",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let err = f.get(&Url::parse(url).unwrap()).unwrap_err();
            assert!(matches!(err, FetchError::NotPublic(_)), "{url}: {err}");
        }
    }

    /// A one-shot HTTP server answering every request with `reply`; counts
    /// what it was asked.
    fn server(
        ip: &str,
        reply: String,
    ) -> (
        std::net::SocketAddr,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { break };
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = c.write_all(reply.as_bytes());
            }
        });
        (addr, hits)
    }

    #[test]
    fn a_redirect_to_a_private_address_is_refused_before_connecting() {
        let (inner, inner_hits) = server(
            "127.0.0.2",
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret".into(),
        );
        let redirect =
            |to: &str| format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
        let (outer, _) = server("127.0.0.1", redirect(&format!("http://{inner}/admin")));
        // 127.0.0.1 stands in for a public site; 127.0.0.2 stays private.
        let limits = FetchLimits {
            test_public: vec![outer.ip()],
            ..FetchLimits::default()
        };
        let err = Fetcher::new(limits.clone())
            .get(&Url::parse(&format!("http://{outer}/")).unwrap())
            .unwrap_err();
        assert!(
            matches!(&err, FetchError::NotPublic(u) if u.contains("127.0.0.2")),
            "{err}"
        );
        assert_eq!(
            inner_hits.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "never connected"
        );
        // The same redirect to an address counted public is followed.
        let ok = Fetcher::new(FetchLimits {
            test_public: vec![outer.ip(), inner.ip()],
            ..limits
        })
        .get(&Url::parse(&format!("http://{outer}/")).unwrap())
        .unwrap();
        assert_eq!(ok.body, b"secret");
    }
}
