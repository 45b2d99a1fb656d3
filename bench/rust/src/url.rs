//! Blocklist size and URL-check speed, cleanweb's FST lists against a
//! `HashSet<String>` of the same hosts, in one run on one core.
//!
//! Usage: bench-url build DIR N   (writes a list of N generated domains)
//!        bench-url query DIR     (loads it; reports RSS and checks/s for both)

use std::collections::HashSet;
use std::time::Instant;

use cleanweb_url::{Action, Blocklist, ListMeta, canonicalize, host_suffixes};

#[path = "common.rs"]
mod common;
use common::{Rng, rss_kb};

trait Words {
    fn word(&mut self, min: usize, max: usize) -> String;
}

impl Words for Rng {
    fn word(&mut self, min: usize, max: usize) -> String {
        let len = min + (self.next() as usize) % (max - min + 1);
        (0..len).map(|_| (b'a' + (self.next() % 26) as u8) as char).collect()
    }
}

const TLDS: [&str; 8] = ["com", "net", "org", "xyz", "top", "cn", "ru", "info"];

fn domain(rng: &mut Rng) -> String {
    let tld = TLDS[(rng.next() % 8) as usize];
    format!("{}.{tld}", rng.word(5, 14))
}

fn urls(n: usize) -> Vec<String> {
    // Half of the queries hit listed domains (as subdomains with paths).
    let mut listed = Rng(42);
    let mut other = Rng(7);
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!("http://www.{}/video/{}.html?id={i}", domain(&mut listed), other.word(3, 8))
            } else {
                format!("https://{}.{}/a/b/{}", other.word(3, 6), domain(&mut other), other.word(3, 8))
            }
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") => {
            let n: usize = args[3].parse().expect("N");
            let mut rng = Rng(42);
            let hosts: Vec<String> = (0..n).map(|_| domain(&mut rng)).collect();
            let meta = ListMeta {
                name: "bench".into(),
                category: "link.blocked".into(),
                action: Action::Block,
                serial: 1,
                hosts: 0,
                urls: 0,
                exceptions: 0,
            };
            let t = Instant::now();
            let list = Blocklist::build(meta, hosts, Vec::new(), Vec::new());
            list.save(std::path::Path::new(&args[2])).expect("save");
            eprintln!("built {} domains in {:.1} s", list.meta.hosts, t.elapsed().as_secs_f64());
        }
        Some("query") => {
            let root = std::path::Path::new(&args[2]);
            let queries = urls(1_000_000);
            let base = rss_kb();
            let t = Instant::now();
            let list = Blocklist::load(root, "bench").expect("load");
            let load_ms = t.elapsed().as_secs_f64() * 1e3;
            let fst_kb = rss_kb().saturating_sub(base);
            let mut hits = 0usize;
            let t = Instant::now();
            for q in &queries {
                if let Ok(c) = canonicalize(q) {
                    hits += usize::from(list.lookup(&c).is_some());
                }
            }
            let ours = queries.len() as f64 / t.elapsed().as_secs_f64();

            let before = rss_kb();
            let set: HashSet<String> = list.domains().collect();
            let set_kb = rss_kb().saturating_sub(before);
            let mut set_hits = 0usize;
            let t = Instant::now();
            for q in &queries {
                if let Ok(c) = canonicalize(q) {
                    set_hits += usize::from(host_suffixes(&c).iter().any(|h| set.contains(h)));
                }
            }
            let theirs = queries.len() as f64 / t.elapsed().as_secs_f64();
            assert_eq!(hits, set_hits, "both find the same hits");
            println!(
                "{}",
                serde_json::json!({
                    "domains": list.meta.hosts, "fst_load_ms": load_ms,
                    "fst_rss_mb": fst_kb as f64 / 1024.0, "hashset_rss_mb": set_kb as f64 / 1024.0,
                    "fst_checks_per_s": ours, "hashset_checks_per_s": theirs, "hits": hits
                })
            );
        }
        _ => {
            eprintln!("usage: bench-url build DIR N | bench-url query DIR");
            std::process::exit(2);
        }
    }
}
