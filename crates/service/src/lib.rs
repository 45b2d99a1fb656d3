//! cleanweb's use cases, with no HTTP in them.
//!
//! The doors (the HTTP API, the review console, the CLI and the sweeps)
//! parse a request, call one function here and render its answer. What a
//! decision, a bank change or a site change *means* (what is stored, what is
//! audited, which live index is updated) is written once, in this crate:
//!
//! - [`engine`]: the engine, built from the config and its sources;
//! - [`evidence`]: signed evidence bundles about a site, a case or a sweep;
//! - [`files`]: a whole file (an archive, a document) moderated as its members;
//! - [`record`]: which decisions the store keeps;
//! - [`compliance`]: the monthly accountability report (HTML with SVG charts, CSV, JSON);
//! - [`curator`]: bank changes, through the store and the live index;
//! - [`reports`]: taking a public report and triaging its cases;
//! - [`review`]: a reviewer's decision, its settlement and follow-ups;
//! - [`sites`]: the site registry's one write path;
//! - [`time`]: the times doors take and show.
//!
//! It does no detection (that is the engine's) and decides no state
//! transition (those are pure functions in `cleanweb-core`); it sequences
//! them with the store.
#![deny(missing_docs)]

pub mod compliance;
pub mod curator;
pub mod engine;
pub mod evidence;
pub mod files;
pub mod record;
pub mod reports;
pub mod review;
pub mod sites;
pub mod time;

pub use curator::{CurateError, Curator};
pub use record::Keeper;

/// What the use cases' tests share.
#[cfg(test)]
pub(crate) mod testing {
    /// A loopback web site for tests: `answer(request line)` gives the
    /// status line, the content type and the body of each response.
    pub fn site(
        answer: impl Fn(&str) -> (&'static str, &'static str, Vec<u8>) + Send + 'static,
    ) -> std::net::SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { break };
                let mut buf = [0u8; 2048];
                let n = c.read(&mut buf).unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let (status, kind, body) = answer(request.lines().next().unwrap_or(""));
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(&body);
            }
        });
        addr
    }

    /// A stand-in for the models and the lexicon: flags as explicit every
    /// item `pick` chooses, reading `fields`.
    pub struct FlagIf {
        pub fields: &'static [&'static str],
        pub pick: fn(&cleanweb_core::Item) -> bool,
    }

    impl cleanweb_core::Detector for FlagIf {
        fn name(&self) -> &'static str {
            "test.flag"
        }
        fn fields(&self) -> &'static [&'static str] {
            self.fields
        }
        fn detect(
            &self,
            input: &cleanweb_core::Input<'_>,
            out: &mut Vec<cleanweb_core::Label>,
        ) -> Result<(), cleanweb_core::DetectError> {
            if (self.pick)(input.item) {
                out.push(cleanweb_core::Label::new(
                    cleanweb_core::Category::SexualExplicit,
                    0.99,
                    "test.flag",
                ));
            }
            Ok(())
        }
    }
}
