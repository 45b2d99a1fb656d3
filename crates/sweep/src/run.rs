//! Running a sweep: entries in batches, moderated in parallel, each batch
//! recorded in one transaction with its decisions. A resumed sweep skips
//! the seqs the store already holds, so nothing is skipped or done twice.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use cleanweb_core::{Decision, Item, ItemError, Source, Verdict};
use cleanweb_engine::Engine;
use cleanweb_store::{DecisionRecord, Store, Sweep, SweepItem};

use crate::SweepError;
use crate::source::{Entry, Options, entries};

/// Items per transaction: large enough to amortise the commit, small
/// enough that a crash loses little work.
pub const BATCH: usize = 256;

/// Counts so far, for progress displays.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Items done in this run.
    pub done: u64,
    /// Items done in earlier runs of the same sweep (skipped now).
    pub resumed: u64,
    /// All items of the source, when known.
    pub total: Option<u64>,
    /// Items whose verdict was allow.
    pub allow: u64,
    /// Items whose verdict was review.
    pub review: u64,
    /// Items whose verdict was block.
    pub block: u64,
    /// Items that could not be read or moderated.
    pub error: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, verdict: &str) {
        self.done += 1;
        match verdict {
            "allow" => self.allow += 1,
            "review" => self.review += 1,
            "block" => self.block += 1,
            _ => self.error += 1,
        }
    }
}

/// The records of a moderated batch: errors for unreadable entries, the
/// decision for review and block.
pub fn to_sweep_items(
    batch: Vec<Entry>,
    items: &[Item],
    decisions: Vec<Result<Decision, ItemError>>,
) -> Result<Vec<SweepItem>, SweepError> {
    let mut records = Vec::with_capacity(batch.len());
    for ((entry, item), decision) in batch.into_iter().zip(items).zip(decisions) {
        let (verdict, categories, decision, detail) = match (&entry.item, decision) {
            (Err(e), _) => ("error".to_owned(), String::new(), None, Some(e.clone())),
            (Ok(_), Err(e)) => ("error".to_owned(), String::new(), None, Some(e.to_string())),
            (Ok(_), Ok(d)) => {
                let mut cats: Vec<&str> = d.labels.iter().map(|l| l.category.as_str()).collect();
                cats.dedup();
                let categories = cats.join(" ");
                if d.verdict == Verdict::Allow {
                    ("allow".to_owned(), categories, None, None)
                } else {
                    let record = DecisionRecord::new(Source::Sweep, item, &d);
                    let detail = serde_json::to_string(&record.decision)
                        .map_err(|e| SweepError::Invalid(e.to_string()))?;
                    (
                        d.verdict.as_str().to_owned(),
                        categories,
                        Some(record),
                        Some(detail),
                    )
                }
            }
        };
        records.push(SweepItem {
            seq: entry.seq,
            key: entry.key,
            verdict,
            categories,
            decision,
            detail,
        });
    }
    Ok(records)
}

/// Runs (or resumes) `sweep` to the end of its source. `progress` sees the
/// counts after every batch and returns false to stop early (the sweep can
/// be resumed).
pub async fn run(
    engine: Arc<Engine>,
    store: &dyn Store,
    sweep: &Sweep,
    total: Option<u64>,
    progress: &mut (dyn FnMut(&Counts, Instant) -> bool + Send),
) -> Result<Counts, SweepError> {
    let options: Options = serde_json::from_value(sweep.options.clone())
        .map_err(|e| SweepError::Invalid(format!("sweep {} has bad options: {e}", sweep.id)))?;
    let done = Arc::new(store.sweep_done(&sweep.id).await?);
    let mut counts = Counts {
        resumed: done.len() as u64,
        total,
        ..Counts::default()
    };
    let started = Instant::now();
    let mut source = entries(Path::new(&sweep.source), &options)?;
    loop {
        let mut batch: Vec<Entry> = Vec::with_capacity(BATCH);
        let (engine2, done2) = (engine.clone(), done.clone());
        let (rest, results) = tokio::task::spawn_blocking(move || {
            for e in source.by_ref() {
                // Done in an earlier run (`done` is sorted).
                if done2.binary_search(&e.seq).is_ok() {
                    continue;
                }
                batch.push(e);
                if batch.len() == BATCH {
                    break;
                }
            }
            let items: Vec<Item> = batch
                .iter()
                .map(|e| e.item.as_ref().cloned().unwrap_or_default())
                .collect();
            let decisions = engine2.moderate_batch(&items);
            (source, (batch, items, decisions))
        })
        .await
        .map_err(|e| SweepError::Invalid(format!("a sweep worker failed: {e}")))?;
        source = rest;
        let (batch, items, decisions) = results;
        if batch.is_empty() {
            break;
        }
        let records = to_sweep_items(batch, &items, decisions)?;
        store.record_sweep_items(&sweep.id, &records).await?;
        for r in &records {
            counts.add(&r.verdict);
        }
        if !progress(&counts, started) {
            return Ok(counts);
        }
    }
    store.set_sweep_status(&sweep.id, "done").await?;
    Ok(counts)
}
