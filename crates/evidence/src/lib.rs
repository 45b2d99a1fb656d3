//! Evidence that holds up: what cleanweb fetched, kept as WARC 1.1.
//!
//! A prosecutor or a regulator needs what a page was when it was judged,
//! not what it is now. [`WarcWriter`] keeps each fetch as a `request` and a
//! `response` record (ISO 28500:2017, WARC 1.1) with `WARC-Date`,
//! `WARC-Target-URI`, `WARC-IP-Address`, and SHA-256 `WARC-Block-Digest`
//! and `WARC-Payload-Digest`, each record its own gzip member, so a file
//! can be appended to across resumed crawls and read by any WARC tool.
//!
//! Written here rather than with a crate: the WARC crates on crates.io
//! read well but write neither digests nor the HTTP blocks we need, and a
//! record is a few header lines over bytes we already hold.
//!
//! The fetcher removes transfer encoding (chunking) before we see a body,
//! so a response block is written with the body as received after that,
//! a `Content-Length` for it, and no `Transfer-Encoding` header; every
//! other header is kept as sent. The request block holds the request line
//! and the headers the fetcher sends.
#![deny(missing_docs)]

pub mod bundle;
pub mod key;
pub mod report;

use std::io::{self, Write};
use std::time::SystemTime;

use cleanweb_fetch::Fetched;
use sha2::{Digest, Sha256};

/// `sha256:` and the digest in base 32 (RFC 4648, padded), as WARC tools compare it.
pub fn warc_digest(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::BASE32.encode(&Sha256::digest(bytes))
    )
}

fn warc_date(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::now_v7())
}

/// One fetch as a WARC segment: its request and response records (two gzip
/// members), what the evidence store keeps per fetch. Segments concatenate
/// into a valid WARC file.
pub fn capture(f: &Fetched) -> io::Result<Vec<u8>> {
    let mut w = WarcWriter::new(Vec::new());
    w.exchange(f)?;
    Ok(w.into_inner())
}

/// Writes WARC 1.1 records, each a gzip member, to `out`.
pub struct WarcWriter<W: Write> {
    out: W,
}

impl<W: Write> WarcWriter<W> {
    /// A writer appending to `out`.
    pub fn new(out: W) -> Self {
        WarcWriter { out }
    }

    /// The writer's output.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The writer's output, to flush it.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// One record under a new id; see [`WarcWriter::record_with_id`].
    fn record(
        &mut self,
        kind: &str,
        headers: &[(&str, String)],
        content_type: &str,
        block: &[u8],
    ) -> io::Result<String> {
        self.record_with_id(record_id(), kind, headers, content_type, block)
    }

    /// One record: the WARC headers given (plus type, id, length and block
    /// digest), then `block`. Returns the record's id.
    fn record_with_id(
        &mut self,
        id: String,
        kind: &str,
        headers: &[(&str, String)],
        content_type: &str,
        block: &[u8],
    ) -> io::Result<String> {
        let mut head = format!("WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Record-ID: {id}\r\n");
        for (k, v) in headers {
            // A header value never carries a line break into the record.
            let v: String = v.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "WARC-Block-Digest: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            warc_digest(block),
            block.len()
        ));
        let mut gz = flate2::write::GzEncoder::new(&mut self.out, flate2::Compression::default());
        gz.write_all(head.as_bytes())?;
        gz.write_all(block)?;
        gz.write_all(b"\r\n\r\n")?;
        gz.finish()?;
        Ok(id)
    }

    /// A `warcinfo` record naming the software and what the file holds.
    pub fn warcinfo(&mut self, filename: &str, description: &str) -> io::Result<String> {
        let fields = format!(
            "software: cleanweb/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\ndescription: {}\r\n",
            env!("CARGO_PKG_VERSION"),
            description.replace(['\r', '\n'], " ")
        );
        self.record(
            "warcinfo",
            &[
                ("WARC-Date", warc_date(SystemTime::now())),
                ("WARC-Filename", filename.to_owned()),
            ],
            "application/warc-fields",
            fields.as_bytes(),
        )
    }

    /// The request and the response of one fetch. Returns the response
    /// record's id.
    pub fn exchange(&mut self, f: &Fetched) -> io::Result<String> {
        let date = warc_date(f.fetched_at);
        let target = f.url.to_string();
        let mut common = vec![("WARC-Date", date), ("WARC-Target-URI", target)];
        if let Some(ip) = f.ip {
            common.push(("WARC-IP-Address", ip.to_string()));
        }
        let response_id = record_id();
        let mut path = f.url.path().to_owned();
        if let Some(q) = f.url.query() {
            path.push('?');
            path.push_str(q);
        }
        let mut request = format!("GET {path} {}\r\n", f.version);
        for (k, v) in &f.request_headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");

        let mut response = format!("{} {} {}\r\n", f.version, f.status, f.reason);
        for (k, v) in &f.headers {
            if k.eq_ignore_ascii_case("transfer-encoding")
                || k.eq_ignore_ascii_case("content-length")
            {
                continue;
            }
            let v: String = v.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            response.push_str(&format!("{k}: {v}\r\n"));
        }
        response.push_str(&format!("Content-Length: {}\r\n\r\n", f.body.len()));
        let mut block = response.into_bytes();
        block.extend_from_slice(&f.body);

        let mut response_headers = common.clone();
        response_headers.push(("WARC-Payload-Digest", warc_digest(&f.body)));
        // The response's id is fixed first so the request can point at it.
        let id = self.record_with_id(
            response_id,
            "response",
            &response_headers,
            "application/http; msgtype=response",
            &block,
        )?;
        let mut request_headers = common;
        request_headers.push(("WARC-Concurrent-To", id.clone()));
        self.record(
            "request",
            &request_headers,
            "application/http; msgtype=request",
            request.as_bytes(),
        )?;
        Ok(id)
    }
}
