//! A proxy from the environment would resolve the target itself, past the
//! public-address check, so the fetcher must never use one. This binary
//! holds one test because it sets process-wide environment variables.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cleanweb_fetch::{FetchLimits, Fetcher};

fn serve(body: &'static str) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { break };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = c.write_all(reply.as_bytes());
        }
    });
    (addr, hits)
}

#[test]
fn proxies_in_the_environment_are_ignored() {
    let (proxy, proxy_hits) = serve("via proxy");
    let (target, _) = serve("direct");
    let proxy_url = format!("http://{proxy}");
    // SAFETY: the only test in this binary, and no other thread reads the
    // environment while it is set.
    unsafe {
        for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
            std::env::set_var(var, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    // Loopback stands in for a public site here.
    let fetcher = Fetcher::new(FetchLimits {
        allow_private: true,
        ..FetchLimits::default()
    });
    let got = fetcher
        .get(&url::Url::parse(&format!("http://{target}/page")).unwrap())
        .unwrap();
    assert_eq!(got.body, b"direct");
    assert_eq!(proxy_hits.load(Ordering::SeqCst), 0, "the proxy was used");
}
