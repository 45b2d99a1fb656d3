//! Text throughput, cleanweb against its peers, in one run on one core.
//!
//! Usage: bench-text CORPUS LEXICON TERMS
//! Prints one JSON line per contender: MB/s over the corpus, one post (line)
//! at a time, best of three runs.

use std::time::Instant;

use aho_corasick::AhoCorasick;
use cleanweb_core::{Detector, Input, Item};
use cleanweb_text::{Lexicon, LexiconDetector, normalize};

fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut hits = 0;
    for _ in 0..runs {
        let t = Instant::now();
        hits = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, hits)
}

fn report(name: &str, bytes: usize, (secs, hits): (f64, usize)) {
    println!(
        "{}",
        serde_json::json!({"name": name, "mb_per_s": bytes as f64 / secs / 1e6, "seconds": secs, "hits": hits})
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, corpus, lexicon, terms] = args.as_slice() else {
        eprintln!("usage: bench-text CORPUS LEXICON TERMS");
        std::process::exit(2);
    };
    let corpus = std::fs::read_to_string(corpus).expect("corpus");
    let lines: Vec<&str> = corpus.lines().collect();
    let bytes = corpus.len();
    let mut lex = Lexicon::builtin();
    lex.extend(Lexicon::load(std::path::Path::new(lexicon)).expect("lexicon"));
    let detector = LexiconDetector::new(lex);
    let raw_terms: Vec<String> = std::fs::read_to_string(terms)
        .expect("terms")
        .lines()
        .map(|t| t.to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    eprintln!("{} MB, {} lines, {} detector terms", bytes / 1_000_000, lines.len(), detector.term_count());

    report(
        "cleanweb (full normalization, lexicon, sound-alikes, contacts, context)",
        bytes,
        best_of(3, || {
            let mut n = 0;
            let mut out = Vec::new();
            for l in &lines {
                let item = Item::text(*l);
                out.clear();
                let _ = detector.detect(&Input::from_item(&item), &mut out);
                n += out.len();
            }
            n
        }),
    );
    if std::env::var_os("ONLY_CLEANWEB").is_some() {
        return;
    }
    report(
        "cleanweb normalize only",
        bytes,
        best_of(3, || lines.iter().map(|l| normalize(l).len()).sum()),
    );
    let ac = AhoCorasick::new(&raw_terms).expect("aho-corasick");
    report(
        "aho-corasick raw (no normalization)",
        bytes,
        best_of(3, || lines.iter().map(|l| ac.find_iter(*l).count()).sum()),
    );
    report(
        "rustrict (its own English lexicon)",
        bytes,
        best_of(1, || {
            lines
                .iter()
                .filter(|l| rustrict::CensorStr::is_inappropriate(**l))
                .count()
        }),
    );
}
