//! Group commit for decisions. Each API request used to store its decision
//! in a transaction of its own, so flagged traffic ran at the speed of the
//! disk's syncs. Here concurrent requests hand their records to one writer
//! task, which stores everything waiting in one transaction and then answers
//! each request: a request still returns only after its decision is
//! committed, but a thousand requests share a few commits.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::{DecisionRecord, Result, Store, StoreError};

/// Most records in one transaction.
const MAX_GROUP: usize = 1024;
/// Requests waiting for the writer before senders wait too.
const QUEUE: usize = 4096;

struct Pending {
    records: Vec<DecisionRecord>,
    done: oneshot::Sender<std::result::Result<(), String>>,
}

/// Saves decisions through one writer task per store (started on first
/// use, on the runtime of its first caller).
pub struct GroupCommit {
    store: Arc<dyn Store>,
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl GroupCommit {
    /// A group committer over `store`.
    pub fn new(store: Arc<dyn Store>) -> GroupCommit {
        GroupCommit {
            store,
            queue: OnceLock::new(),
        }
    }

    /// Stores `records`, sharing a transaction with whatever other callers
    /// are waiting; returns once they are committed.
    pub async fn save(&self, records: Vec<DecisionRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let queue = self
            .queue
            .get_or_init(|| start_writer(Arc::clone(&self.store)));
        let (done, committed) = oneshot::channel();
        let stopped = || StoreError::Task("the decision writer stopped".into());
        queue
            .send(Pending { records, done })
            .await
            .map_err(|_| stopped())?;
        committed
            .await
            .map_err(|_| stopped())?
            .map_err(StoreError::Task)
    }
}

fn start_writer(store: Arc<dyn Store>) -> mpsc::Sender<Pending> {
    let (tx, mut rx) = mpsc::channel::<Pending>(QUEUE);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // Everything already waiting joins; nothing waits to be joined.
            let mut group = vec![first];
            let mut n = group[0].records.len();
            while n < MAX_GROUP {
                match rx.try_recv() {
                    Ok(p) => {
                        n += p.records.len();
                        group.push(p);
                    }
                    Err(_) => break,
                }
            }
            commit(store.as_ref(), group).await;
        }
    });
    tx
}

/// Commits a group; if the shared transaction fails, each caller's records
/// are tried alone, so one bad record fails only its own request.
async fn commit(store: &dyn Store, group: Vec<Pending>) {
    let mut sizes = Vec::with_capacity(group.len());
    let mut all = Vec::new();
    let mut answers = Vec::with_capacity(group.len());
    for p in group {
        sizes.push(p.records.len());
        all.extend(p.records);
        answers.push(p.done);
    }
    match store.save_decisions(&all).await {
        Ok(()) => {
            for a in answers {
                let _ = a.send(Ok(()));
            }
        }
        Err(e) if answers.len() == 1 => {
            for a in answers {
                let _ = a.send(Err(e.to_string()));
            }
        }
        Err(_) => {
            let mut rest = all.as_slice();
            for (a, size) in answers.into_iter().zip(sizes) {
                let (mine, others) = rest.split_at(size.min(rest.len()));
                rest = others;
                let r = store.save_decisions(mine).await.map_err(|e| e.to_string());
                let _ = a.send(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use cleanweb_core::{Category, Decision, Item, Label, Source, Verdict};

    fn record(text: &str) -> DecisionRecord {
        let d = Decision {
            id: None,
            verdict: Verdict::Block,
            labels: vec![Label::new(Category::SexualExplicit, 0.9, "text.lexicon")],
            elapsed_us: 1,
            warnings: vec![],
            meta: None,
            decision_id: None,
        };
        DecisionRecord::new(Source::Api, &Item::text(text), &d)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_saves_share_commits_and_a_bad_record_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
        let group = Arc::new(GroupCommit::new(Arc::clone(&store)));
        let dup = record("first");
        group.save(vec![dup.clone()]).await.unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let g = Arc::clone(&group);
                // One caller stores a record that is already there.
                let r = if i == 100 {
                    dup.clone()
                } else {
                    record(&format!("t{i}"))
                };
                tokio::spawn(async move { g.save(vec![r]).await.is_ok() })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            ok += usize::from(t.await.unwrap());
        }
        assert_eq!(ok, 199, "only the duplicate fails");
        assert_eq!(store.count_decisions().await.unwrap(), 200);
    }
}
