//! Distributed sweeps: a coordinator cuts the source into jobs stored with
//! their items; stateless workers on any number of machines claim jobs with
//! a lease (renewed while they work), moderate them, and record the results
//! and the job's completion in one transaction. A worker that dies loses
//! its lease and another takes the job over; the (sweep, seq) key of every
//! item makes the replay write nothing twice.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cleanweb_core::Item;
use cleanweb_engine::Engine;
use cleanweb_store::{Store, Sweep, SweepJob};
use serde::{Deserialize, Serialize};

use crate::source::{Entry, Options, entries};
use crate::{BATCH, SweepError, run::to_sweep_items};

/// One entry as a job carries it.
#[derive(Serialize, Deserialize)]
struct JobEntry {
    seq: u64,
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    item: Option<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Jobs written per transaction by the coordinator.
const JOBS_PER_COMMIT: usize = 16;

/// Reads the sweep's source and enqueues it as jobs of [`BATCH`] items.
/// Rerunning it adds nothing already there. Returns the number of jobs.
pub async fn distribute(store: &dyn Store, sweep: &Sweep) -> Result<u64, SweepError> {
    let options: Options = serde_json::from_value(sweep.options.clone())
        .map_err(|e| SweepError::Invalid(format!("sweep {} has bad options: {e}", sweep.id)))?;
    let mut source = entries(Path::new(&sweep.source), &options)?;
    let mut job_no = 0u64;
    loop {
        // Reading files is blocking work; a commit's worth at a time.
        let (rest, jobs) = tokio::task::spawn_blocking(move || {
            let mut jobs = Vec::new();
            while jobs.len() < JOBS_PER_COMMIT {
                let batch: Vec<JobEntry> = source
                    .by_ref()
                    .take(BATCH)
                    .map(|e| {
                        let (item, error) = match e.item {
                            Ok(i) => (Some(i), None),
                            Err(m) => (None, Some(m)),
                        };
                        JobEntry {
                            seq: e.seq,
                            key: e.key,
                            item,
                            error,
                        }
                    })
                    .collect();
                if batch.is_empty() {
                    break;
                }
                jobs.push(serde_json::to_string(&batch));
            }
            (source, jobs)
        })
        .await
        .map_err(|e| SweepError::Invalid(format!("reading the source failed: {e}")))?;
        source = rest;
        if jobs.is_empty() {
            return Ok(job_no);
        }
        let mut numbered = Vec::with_capacity(jobs.len());
        for payload in jobs {
            let payload = payload.map_err(|e| SweepError::Invalid(e.to_string()))?;
            numbered.push((job_no, payload));
            job_no += 1;
        }
        store.enqueue_sweep_jobs(&sweep.id, &numbered).await?;
    }
}

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// A name unique among running workers (host, process, random).
    pub owner: String,
    /// How long a claimed job stays this worker's; renewed every third of it while working.
    pub lease: Duration,
    /// Only this sweep's jobs.
    pub sweep: Option<String>,
    /// Return when the sweep has no pending job left (needs `sweep`);
    /// otherwise poll for new jobs forever.
    pub exit_when_idle: bool,
    /// Test hook: wait this long after claiming a job, to be killed mid-job.
    pub pause_after_claim: Duration,
}

/// Claims and processes jobs until idle (see [`WorkerOptions`]). Returns the
/// number of jobs this worker finished.
pub async fn work(
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    options: &WorkerOptions,
    on_job: &mut (dyn FnMut(&SweepJob, u64) + Send),
) -> Result<u64, SweepError> {
    let lease_ms = i64::try_from(options.lease.as_millis()).unwrap_or(i64::MAX);
    let mut finished = 0;
    loop {
        let claimed = store
            .claim_sweep_job(&options.owner, lease_ms, options.sweep.as_deref())
            .await?;
        let Some(job) = claimed else {
            if options.exit_when_idle {
                let Some(sweep) = options.sweep.as_deref() else {
                    return Ok(finished);
                };
                // Jobs leased by others may still come back (their worker
                // died); stop only when none is pending.
                if store.sweep_job_counts(sweep).await?.0 == 0 {
                    return Ok(finished);
                }
            }
            tokio::time::sleep(Duration::from_millis(500).min(options.lease / 2)).await;
            continue;
        };
        // Keep the lease while working; a worker that stops renewing (it
        // died, or hung) loses the job to another.
        let renew = {
            let (store, owner, job) = (store.clone(), options.owner.clone(), job.clone());
            let period = options.lease / 3;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(period).await;
                    match store
                        .renew_sweep_job(&job.sweep_id, job.job_no, &owner, lease_ms)
                        .await
                    {
                        Ok(true) => {}
                        _ => break,
                    }
                }
            })
        };
        // The test hook pauses with the lease held and renewed, as a long
        // job would: killing the worker then is killing it mid-job.
        if !options.pause_after_claim.is_zero() {
            tokio::time::sleep(options.pause_after_claim).await;
        }
        let result = process(engine.clone(), store.as_ref(), &job).await;
        renew.abort();
        let added = result?;
        finished += 1;
        on_job(&job, added);
    }
}

async fn process(
    engine: Arc<Engine>,
    store: &dyn Store,
    job: &SweepJob,
) -> Result<u64, SweepError> {
    let entries: Vec<JobEntry> = serde_json::from_str(&job.payload).map_err(|e| {
        SweepError::Invalid(format!(
            "job {} of sweep {} is corrupt: {e}",
            job.job_no, job.sweep_id
        ))
    })?;
    let (batch, items, decisions) = tokio::task::spawn_blocking(move || {
        let batch: Vec<Entry> = entries
            .into_iter()
            .map(|e| Entry {
                seq: e.seq,
                key: e.key,
                item: match (e.item, e.error) {
                    (Some(i), _) => Ok(i),
                    (None, e) => Err(e.unwrap_or_else(|| "no item".into())),
                },
            })
            .collect();
        let items: Vec<Item> = batch
            .iter()
            .map(|e| e.item.as_ref().cloned().unwrap_or_default())
            .collect();
        let decisions = engine.moderate_batch(&items);
        (batch, items, decisions)
    })
    .await
    .map_err(|e| SweepError::Invalid(format!("a sweep worker failed: {e}")))?;
    let records = to_sweep_items(batch, &items, decisions)?;
    Ok(store
        .finish_sweep_job(&job.sweep_id, job.job_no, &records)
        .await?)
}
