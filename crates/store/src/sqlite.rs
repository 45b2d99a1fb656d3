use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use cleanweb_core::auth::{Role, generate_key, hash_key};
use cleanweb_core::{
    AuditEvent, AuditRecord, Bank, BankEntry, Category, SiteEvent, SiteStatus, Verdict,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::common::store_impl;
use crate::evidence::evidence_impl;
use crate::reports::{Case, Filed, NewReport, ReportRecord, Reward, reports_impl};
use crate::review::{
    ClaimOutcome, Delivery, DeliveryResult, NewReview, QueueEntry, QueueQuery, QueueSort,
    ReviewRecord, ReviewRefusal, Session, SuggestionOutcome, SuggestionRecord, review_impl,
};
use crate::rows::{
    Get, audit_from_row, bank_from_row, capture_from_row, case_from_row, categories_of, corrupt,
    decision_from_row, delivery_from_row, key_from_row, report_from_row, review_from_row,
    reward_from_row, site_event_from_row, suggestion_from_row, sweep_from_row, user_from_row,
};
use crate::{
    ApiKey, DecisionQuery, DecisionRecord, Result, StoreError, Sweep, SweepItem, SweepJob, User,
    UserChange, now_ms,
};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The embedded store: one SQLite file in WAL mode.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// The database file inside a data directory.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("cleanweb.db")
    }

    /// Opens (creating if needed) the store in `data_dir` and applies migrations.
    pub async fn open_in(data_dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        SqliteStore::open(&Self::path_in(data_dir)).await
    }

    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL: readers never block the writer, and a killed process
            // leaves a consistent database. NORMAL sync is durable against
            // process crashes; only a power cut can lose the last commits.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Processes starting together on a new file (a server and a CLI
        // command) would both run the first migration: sqlx takes no lock on
        // SQLite, so an exclusive file lock beside the database does.
        let lock_path = path.with_extension("db.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::DataDir {
                path: lock_path.display().to_string(),
                source,
            })?;
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
            .await
            .map_err(|e| StoreError::Corrupt {
                table: "lock",
                message: e.to_string(),
            })?
            .map_err(|source| StoreError::DataDir {
                path: lock_path.display().to_string(),
                source,
            })?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATIONS.run(&pool).await?;
        drop(lock);
        Ok(SqliteStore {
            pool,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the file's integrity (`PRAGMA integrity_check`).
    pub async fn integrity_check(&self) -> Result<String> {
        let row = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<String, _>(0)?)
    }

    /// A write transaction that also holds the audit chain's lock:
    /// BEGIN IMMEDIATE takes SQLite's one write lock up front.
    async fn begin_audited(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        crate::begin_detached(&self.pool, Some("BEGIN IMMEDIATE")).await
    }

    /// A write transaction (see [`crate::begin_detached`]).
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        crate::begin_detached(&self.pool, None).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLite runs one writer at a time, so a single UPDATE with a subquery
/// claims atomically.
const CLAIM: &str = "UPDATE sweep_jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
     WHERE (sweep_id, job_no) = (SELECT sweep_id, job_no FROM sweep_jobs \
       WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
       AND ($4 IS NULL OR sweep_id = $4) ORDER BY sweep_id, job_no LIMIT 1) \
     RETURNING sweep_id, job_no, payload, attempts";

review_impl!(SqliteStore, sqlx::Sqlite);
reports_impl!(SqliteStore, sqlx::Sqlite);
evidence_impl!(SqliteStore, sqlx::Sqlite);

store_impl!(SqliteStore, sqlx::Sqlite, {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord> {
        // BEGIN IMMEDIATE: one writer reads the chain's end and appends. A
        // transaction, not raw BEGIN/COMMIT: if the caller goes away
        // mid-write, dropping it rolls back, so no pooled connection is
        // left holding the write lock.
        let mut tx = self.begin_audited().await?;
        let record = Self::append_audit_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn record_site_event(&self, e: &SiteEvent) -> Result<Result<(), String>> {
        // BEGIN IMMEDIATE takes the write lock first, so two writers cannot
        // both read the same current status and both append.
        let mut tx = self.begin_audited().await?;
        let outcome = Self::append_site_event(&mut tx, e).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use cleanweb_core::{Category, Decision, Item, Label, Source, Verdict};

    fn decision(verdict: Verdict) -> Decision {
        Decision {
            id: Some("c1".into()),
            verdict,
            labels: vec![Label::new(Category::SexualExplicit, 0.9, "text.lexicon")],
            elapsed_us: 12,
            warnings: vec![],
            meta: Some(serde_json::json!({"post": 7})),
            decision_id: None,
        }
    }

    #[tokio::test]
    async fn decisions_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        let item = Item::text("some text");
        let rec = DecisionRecord::new(Source::Cli, &item, &decision(Verdict::Block));
        store
            .save_decisions(std::slice::from_ref(&rec))
            .await
            .unwrap();
        store.close().await;

        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        let back = store.decision(rec.id).await.unwrap().unwrap();
        assert_eq!(back, rec);
        assert_eq!(store.count_decisions().await.unwrap(), 1);
        assert_eq!(store.integrity_check().await.unwrap(), "ok");
    }

    #[tokio::test]
    async fn decisions_list_newest_first_with_filters() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        let item = Item::text("x");
        let recs: Vec<_> = [Verdict::Block, Verdict::Review, Verdict::Block]
            .into_iter()
            .map(|v| DecisionRecord::new(Source::Api, &item, &decision(v)))
            .collect();
        store.save_decisions(&recs).await.unwrap();
        let all = store
            .decisions(&DecisionQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![recs[2].id, recs[1].id, recs[0].id]
        );
        let blocks = store
            .decisions(&DecisionQuery {
                verdict: Some(Verdict::Block),
                before: Some(recs[2].id),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].id, recs[0].id);
    }

    #[tokio::test]
    async fn site_status_is_the_latest_allowed_event() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        let ev = |status| SiteEvent {
            domain: "bad.test".into(),
            status,
            actor: "alice".into(),
            reason: "r".into(),
            evidence: vec!["decision:1".into()],
            deadline_ms: None,
            at_ms: 1,
            kind: Default::default(),
            proposal: None,
        };
        for s in [SiteStatus::Watch, SiteStatus::Warned, SiteStatus::Closed] {
            store.record_site_event(&ev(s)).await.unwrap().unwrap();
        }
        let refused = store
            .record_site_event(&ev(SiteStatus::Watch))
            .await
            .unwrap();
        assert!(refused.unwrap_err().contains("from closed to watch"));
        assert_eq!(store.site_history("bad.test").await.unwrap().len(), 3);
        let closed = store.sites(Some(SiteStatus::Closed)).await.unwrap();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].evidence, ["decision:1"]);
        assert!(
            store
                .sites(Some(SiteStatus::Watch))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn api_keys_are_stored_as_hashes_and_can_be_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        let ev = |action: &str| cleanweb_core::AuditEvent {
            actor: "test".into(),
            action: action.into(),
            subject: String::new(),
            details: serde_json::json!({}),
        };
        let (key, secret) = store
            .create_api_key("ci", Role::Operator, &ev("key.create"))
            .await
            .unwrap();
        assert_eq!(
            store.api_key_by_secret(&secret).await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(store.api_key_by_secret("cwk_wrong").await.unwrap(), None);
        store.close().await;
        let raw = std::fs::read(SqliteStore::path_in(dir.path())).unwrap();
        let wal = std::fs::read(dir.path().join("cleanweb.db-wal")).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        assert!(
            store
                .revoke_api_key(key.id, &ev("key.revoke"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_api_key(key.id, &ev("key.revoke"))
                .await
                .unwrap()
        );
        assert_eq!(store.api_key_by_secret(&secret).await.unwrap(), None);
    }
}
