//! `cleanweb eval text FILE.jsonl`: precision, recall and false-positive
//! rates of the text engine on a labelled set, per bucket.
//!
//! Each line is `{"id", "bucket", "expected": "allow|review|block",
//! "category", "text"}`. An item counts as *flagged* when its verdict is not
//! `allow`. Recall is flagged positives over positives; the block rate of a
//! benign bucket is what the false-positive budget is about.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use cleanweb_core::{Category, Item, Verdict};
use cleanweb_engine::Engine;
use serde::Deserialize;

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Evaluate the text engine on a labelled JSONL file.
    Text {
        file: PathBuf,
        /// Print every miss and every false positive.
        #[arg(long)]
        verbose: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Deserialize)]
struct Example {
    #[serde(default)]
    id: Option<String>,
    bucket: String,
    expected: Verdict,
    #[serde(default)]
    category: Option<Category>,
    text: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Bucket {
    pub n: usize,
    pub positives: usize,
    /// Positives with a verdict other than allow.
    pub flagged_positives: usize,
    /// Positives whose verdict equals the expected one.
    pub exact: usize,
    /// Positives flagged with the expected category among the labels.
    pub right_category: usize,
    pub benign: usize,
    pub benign_blocked: usize,
    pub benign_reviewed: usize,
}

impl Bucket {
    pub fn recall(&self) -> Option<f64> {
        (self.positives > 0).then(|| self.flagged_positives as f64 / self.positives as f64)
    }
    pub fn block_rate(&self) -> Option<f64> {
        (self.benign > 0).then(|| self.benign_blocked as f64 / self.benign as f64)
    }
}

pub fn run(global: &GlobalArgs, cmd: EvalCommand) -> anyhow::Result<ExitCode> {
    let EvalCommand::Text {
        file,
        verbose,
        json,
    } = cmd;
    let config = global.config()?;
    let engine = global.engine(&config)?;
    let reader = std::io::BufReader::new(
        std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?,
    );
    let mut examples = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let ex: Example = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not an eval example", file.display(), n + 1))?;
        examples.push(ex);
    }
    let (buckets, misses) = evaluate(&engine, &examples);
    if json {
        println!("{}", serde_json::to_string_pretty(&buckets)?);
        return Ok(ExitCode::SUCCESS);
    }
    if verbose {
        for m in &misses {
            println!("{m}");
        }
        println!();
    }
    print_report(&buckets);
    Ok(ExitCode::SUCCESS)
}

fn evaluate(engine: &Engine, examples: &[Example]) -> (BTreeMap<String, Bucket>, Vec<String>) {
    let items: Vec<Item> = examples
        .iter()
        .map(|e| Item::text(e.text.clone()))
        .collect();
    let decisions = engine.moderate_batch(&items);
    let mut buckets: BTreeMap<String, Bucket> = BTreeMap::new();
    let mut misses = Vec::new();
    for (ex, d) in examples.iter().zip(decisions) {
        let b = buckets.entry(ex.bucket.clone()).or_default();
        b.n += 1;
        let (verdict, cats) = match &d {
            Ok(d) => (
                d.verdict,
                d.labels.iter().map(|l| l.category).collect::<Vec<_>>(),
            ),
            Err(_) => (Verdict::Allow, Vec::new()),
        };
        let id = ex.id.as_deref().unwrap_or("-");
        if ex.expected == Verdict::Allow {
            b.benign += 1;
            match verdict {
                Verdict::Block => {
                    b.benign_blocked += 1;
                    misses.push(format!("FP block  {id:<28} {cats:?} {}", ex.text));
                }
                Verdict::Review => {
                    b.benign_reviewed += 1;
                    misses.push(format!("FP review {id:<28} {cats:?} {}", ex.text));
                }
                Verdict::Allow => {}
            }
        } else {
            b.positives += 1;
            if verdict != Verdict::Allow {
                b.flagged_positives += 1;
            } else {
                misses.push(format!("MISS      {id:<28} {}", ex.text));
            }
            if verdict == ex.expected {
                b.exact += 1;
            }
            if ex.category.is_some_and(|c| cats.contains(&c)) {
                b.right_category += 1;
            }
        }
    }
    (buckets, misses)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn print_report(buckets: &BTreeMap<String, Bucket>) {
    println!(
        "{:<26} {:>5} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "bucket", "n", "recall", "exact", "category", "blocked", "reviewed"
    );
    let mut total = Bucket::default();
    for (name, b) in buckets {
        let of = |x: usize, n: usize| (n > 0).then(|| x as f64 / n as f64);
        println!(
            "{:<26} {:>5} {:>8} {:>10} {:>10} {:>10} {:>10}",
            name,
            b.n,
            pct(b.recall()),
            pct(of(b.exact, b.positives)),
            pct(of(b.right_category, b.positives)),
            pct(b.block_rate()),
            pct(of(b.benign_reviewed, b.benign)),
        );
        total.n += b.n;
        total.positives += b.positives;
        total.flagged_positives += b.flagged_positives;
        total.exact += b.exact;
        total.right_category += b.right_category;
        total.benign += b.benign;
        total.benign_blocked += b.benign_blocked;
        total.benign_reviewed += b.benign_reviewed;
    }
    let flagged = total.flagged_positives + total.benign_blocked + total.benign_reviewed;
    let precision = (flagged > 0).then(|| total.flagged_positives as f64 / flagged as f64);
    println!();
    println!(
        "overall: n {}  precision {}  recall {}  benign blocked {}  benign reviewed {}",
        total.n,
        pct(precision),
        pct(total.recall()),
        pct(total.block_rate()),
        pct((total.benign > 0).then(|| total.benign_reviewed as f64 / total.benign as f64)),
    );
}
