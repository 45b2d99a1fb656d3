//! Persistence for cleanweb.
//!
//! [`Store`] is what the rest of the system sees; [`SqliteStore`] is the
//! embedded default (one file, WAL mode, migrations applied on open).
//! [`PgStore`] (PostgreSQL, for several machines) implements the same
//! trait with the same migrations, kept in step (`migrations/sqlite`,
//! `migrations/postgres`).

mod common;
pub mod evidence;
mod group;
mod postgres;
pub mod reports;
pub mod review;
mod rows;
mod sqlite;

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cleanweb_core::auth::Role;
use cleanweb_core::review::ReviewState;
use cleanweb_core::{
    AuditEvent, AuditRecord, Bank, BankEntry, Decision, Item, SiteEvent, SiteStatus, Source,
    Verdict,
};
use uuid::Uuid;

pub use evidence::{
    AuditQuery, Capture, CaptureQuery, Checkpoint, EvidenceStore, NewCapture, Pruned,
};
pub use group::GroupCommit;
pub use postgres::PgStore;
pub use reports::{
    Case, CaseSettlement, Filed, NewReport, NewReward, NewTarget, ReportRecord, ReportStore, Reward,
};
pub use review::{
    Claim, ClaimOutcome, Delivery, DeliveryResult, NewDelivery, NewReview, Queue, QueueEntry,
    QueueQuery, QueueSort, ReviewRecord, ReviewRefusal, ReviewStore, Session, Suggestion,
    SuggestionOutcome, SuggestionRecord,
};
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        table: &'static str,
        message: String,
    },
    #[error("the database task failed: {0}")]
    Task(String),
}

/// Begins a transaction on a task of its own, so that a caller who goes
/// away while BEGIN is on its way (a client hangs up, a timeout fires)
/// cannot leave a pooled connection inside a transaction no guard owns:
/// the task finishes, and the transaction it made is dropped, rolled back
/// and its connection returned clean. Once the caller holds the
/// transaction, dropping it rolls back as usual.
pub(crate) async fn begin_detached<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    statement: Option<&'static str>,
) -> Result<sqlx::Transaction<'static, DB>> {
    let pool = pool.clone();
    let begun = tokio::spawn(async move {
        match statement {
            Some(s) => pool.begin_with(s).await,
            None => pool.begin().await,
        }
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?;
    Ok(begun?)
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A decision as stored: the engine's answer plus where it came from and a
/// reference to the content it was about.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionRecord {
    pub id: Uuid,
    pub created_at_ms: i64,
    pub source: Source,
    pub decision: Decision,
    pub content_sha256: String,
    pub text: Option<String>,
    /// A page's HTML (spans of the field `html` point into it).
    pub html: Option<String>,
    pub url: Option<String>,
    /// SHA-256 of the item's image, kept as an evidence blob for review.
    pub image_sha256: Option<String>,
    /// The image itself, stored as a blob when the record is saved (never
    /// read back with the record: see [`Store::blob`]).
    pub image: Option<std::sync::Arc<[u8]>>,
    /// Where human review stands; `None` until someone decides.
    pub review_state: Option<ReviewState>,
}

impl DecisionRecord {
    /// A record for a decision just made; its id is a new UUIDv7.
    pub fn new(source: Source, item: &Item, decision: &Decision) -> Self {
        let id = Uuid::now_v7();
        let mut decision = decision.clone();
        decision.decision_id = Some(id.to_string());
        // Suspected CSAM skips the reviewers' queue: it goes straight to
        // the escalation queue, and its media is never shown.
        let review_state =
            cleanweb_core::review::is_minors(&decision).then_some(ReviewState::Escalated);
        DecisionRecord {
            id,
            created_at_ms: now_ms(),
            source,
            decision,
            content_sha256: item.content_sha256(),
            text: item.text.clone(),
            html: item.html.clone(),
            url: item.url.clone(),
            image_sha256: item.image.as_deref().map(sha256_hex),
            image: item.image.as_deref().map(std::sync::Arc::from),
            review_state,
        }
    }
}

/// Which decisions to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct DecisionQuery {
    pub verdict: Option<Verdict>,
    pub source: Option<Source>,
    /// Only decisions older than this one (keyset pagination).
    pub before: Option<Uuid>,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A clean-up sweep: what it reads, how, and where its outputs go.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub id: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub source: String,
    /// `dir`, `jsonl`, `csv` or `urls`.
    pub kind: String,
    /// How items are read (column mapping and the like), as JSON.
    pub options: serde_json::Value,
    /// `running` or `done`.
    pub status: String,
    pub out_dir: String,
}

/// One item of a sweep, done.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepItem {
    /// Position in the source's (deterministic) order.
    pub seq: u64,
    /// Path, id or URL.
    pub key: String,
    /// `allow`, `review`, `block`, or `error` (unreadable, over a limit).
    pub verdict: String,
    pub categories: String,
    /// For review and block: the decision, stored with the item.
    pub decision: Option<DecisionRecord>,
    /// The decision as JSON, or the error.
    pub detail: Option<String>,
}

/// A change to an existing console account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserChange {
    Disable,
    Enable,
    /// A new argon2id hash (PHC string).
    Password(String),
    Role(cleanweb_core::auth::UserRole),
}

/// A console account (never its password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: cleanweb_core::auth::UserRole,
    /// argon2id, PHC string.
    pub password_hash: String,
    pub created_at_ms: i64,
    pub disabled_at_ms: Option<i64>,
    /// Console language (`en`, `zh`); `None` follows Accept-Language.
    pub locale: Option<String>,
    /// Show media unblurred by default (reviewer protection is the default).
    pub show_media: bool,
}

/// A claimed job of a distributed sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepJob {
    pub sweep_id: String,
    pub job_no: u64,
    /// JSON array of entries, as the coordinator wrote them.
    pub payload: String,
    pub attempts: u64,
}

/// What a webhook sender needs of a store, and nothing more: due
/// deliveries, leases, results and the audit log. A sender is handed this,
/// not the whole [`Store`].
#[async_trait::async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Pending deliveries whose time has come, oldest first.
    async fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<Delivery>>;
    /// Takes a due delivery for one attempt; false if another sender did.
    async fn lease_delivery(&self, d: &Delivery, lease_until_ms: i64) -> Result<bool>;
    /// Records an attempt's result if the lease is still the sender's.
    async fn finish_delivery(
        &self,
        id: Uuid,
        lease_until_ms: i64,
        result: &DeliveryResult,
    ) -> Result<bool>;
    /// Appends an event to the audit log.
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord>;
}

#[async_trait::async_trait]
impl DeliveryStore for std::sync::Arc<dyn Store> {
    async fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<Delivery>> {
        ReviewStore::due_deliveries(self.as_ref(), now_ms, limit).await
    }
    async fn lease_delivery(&self, d: &Delivery, lease_until_ms: i64) -> Result<bool> {
        ReviewStore::lease_delivery(self.as_ref(), d, lease_until_ms).await
    }
    async fn finish_delivery(
        &self,
        id: Uuid,
        lease_until_ms: i64,
        result: &DeliveryResult,
    ) -> Result<bool> {
        ReviewStore::finish_delivery(self.as_ref(), id, lease_until_ms, result).await
    }
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord> {
        Store::append_audit(self.as_ref(), event).await
    }
}

/// Everything cleanweb persists. Implementations must be safe to share
/// between tasks and must keep a write durable once the call returns.
#[async_trait]
pub trait Store: ReviewStore + ReportStore + EvidenceStore + Send + Sync {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;

    /// A cheap round trip, for health checks.
    async fn ping(&self) -> Result<()>;
    /// Closes the connections (waiting for writes in flight).
    async fn close(&self);

    /// Stores decisions in one transaction: all or none.
    async fn save_decisions(&self, records: &[DecisionRecord]) -> Result<()>;
    async fn decision(&self, id: Uuid) -> Result<Option<DecisionRecord>>;
    async fn decisions(&self, query: &DecisionQuery) -> Result<Vec<DecisionRecord>>;
    async fn count_decisions(&self) -> Result<u64>;

    /// Creates a key and returns it with its secret, which is not stored and
    /// cannot be recovered. `audit` (its subject becomes the key's id) is
    /// appended in the same transaction, as with every audited change below:
    /// a change and its record commit together or not at all.
    async fn create_api_key(
        &self,
        name: &str,
        role: Role,
        audit: &AuditEvent,
    ) -> Result<(ApiKey, String)>;
    /// The live (not revoked) key with this secret.
    async fn api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>>;
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revokes a key; false when there is no such live key.
    async fn revoke_api_key(&self, id: Uuid, audit: &AuditEvent) -> Result<bool>;

    /// Appends a site event if the lifecycle allows it from the site's
    /// current status (checked in the same transaction); returns the refusal
    /// otherwise.
    async fn record_site_event(&self, event: &SiteEvent) -> Result<Result<(), String>>;
    /// A site's events, oldest first.
    async fn site_history(&self, domain: &str) -> Result<Vec<SiteEvent>>;
    /// Every site's latest event, optionally only those with this status.
    async fn sites(&self, status: Option<SiteStatus>) -> Result<Vec<SiteEvent>>;

    /// Creates a bank; false if one with that name exists.
    async fn create_bank(&self, bank: &Bank, audit: &AuditEvent) -> Result<bool>;
    async fn banks(&self) -> Result<Vec<Bank>>;
    /// Deletes a bank and its entries; false if there was none.
    async fn delete_bank(&self, name: &str, audit: &AuditEvent) -> Result<bool>;
    /// Adds entries (one transaction); returns how many were new. Audited
    /// only when some were, its details gaining `added`.
    async fn add_bank_entries(
        &self,
        bank: &str,
        entries: &[BankEntry],
        audit: &AuditEvent,
    ) -> Result<u64>;
    /// Removes one hash from a bank; false if it was not there.
    async fn remove_bank_entry(&self, bank: &str, hash: &str, audit: &AuditEvent) -> Result<bool>;
    async fn bank_entries(&self, bank: &str) -> Result<Vec<BankEntry>>;

    async fn create_sweep(&self, sweep: &Sweep) -> Result<()>;
    async fn sweep(&self, id: &str) -> Result<Option<Sweep>>;
    /// Every sweep, newest first.
    async fn sweeps(&self) -> Result<Vec<Sweep>>;
    async fn set_sweep_status(&self, id: &str, status: &str) -> Result<()>;
    /// The seqs already done, ascending (for resuming).
    async fn sweep_done(&self, id: &str) -> Result<Vec<u64>>;
    /// Records items and their decisions in one transaction. An item already
    /// recorded is skipped with its decision, so a replay writes nothing
    /// twice. Returns how many were new.
    async fn record_sweep_items(&self, id: &str, items: &[SweepItem]) -> Result<u64>;
    /// Items after `after_seq` in seq order, at most `limit`; with
    /// `findings_only`, only those that are not `allow`.
    async fn sweep_items(
        &self,
        id: &str,
        after_seq: Option<u64>,
        limit: u32,
        findings_only: bool,
    ) -> Result<Vec<SweepItem>>;
    /// (verdict, count) over the sweep's items.
    async fn sweep_counts(&self, id: &str) -> Result<Vec<(String, u64)>>;

    /// Adds jobs to a distributed sweep (one transaction); existing job
    /// numbers are kept, so the coordinator can be rerun.
    async fn enqueue_sweep_jobs(&self, sweep: &str, jobs: &[(u64, String)]) -> Result<()>;
    /// Claims one pending job whose lease is free or expired (of `sweep`, or
    /// of any sweep), leasing it to `owner` for `lease_ms`. Concurrent
    /// claimers never get the same job.
    async fn claim_sweep_job(
        &self,
        owner: &str,
        lease_ms: i64,
        sweep: Option<&str>,
    ) -> Result<Option<SweepJob>>;
    /// Extends the lease; false if the job is no longer this owner's.
    async fn renew_sweep_job(
        &self,
        sweep: &str,
        job_no: u64,
        owner: &str,
        lease_ms: i64,
    ) -> Result<bool>;
    /// Records the job's items and marks it done, in one transaction.
    /// Returns how many items were new (0 when another worker finished it).
    async fn finish_sweep_job(&self, sweep: &str, job_no: u64, items: &[SweepItem]) -> Result<u64>;
    /// (pending, done) job counts of a sweep.
    async fn sweep_job_counts(&self, sweep: &str) -> Result<(u64, u64)>;

    /// Creates an account; false if the name is taken.
    async fn create_user(&self, user: &User, audit: &AuditEvent) -> Result<bool>;
    async fn user(&self, name: &str) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Changes an account, ends its console sessions (a disabled account, a
    /// new password or a new role must sign in again) and appends `audit`,
    /// all in one transaction; false, with nothing written, if there is no
    /// such account.
    async fn change_user(
        &self,
        name: &str,
        change: &UserChange,
        audit: &AuditEvent,
    ) -> Result<bool>;

    /// An evidence blob by its SHA-256 (lowercase hex).
    async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;

    /// Appends an event to the audit log, chained to the last one (under a
    /// lock, so concurrent writers cannot fork the chain).
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord>;
    /// Events after `after_seq`, in order, at most `limit`.
    async fn audit_events(&self, after_seq: Option<u64>, limit: u32) -> Result<Vec<AuditRecord>>;
}

/// Opens the store a `--database` value names: a `postgres://` URL, or
/// otherwise the SQLite file in `data_dir`.
pub async fn open(
    database: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<std::sync::Arc<dyn Store>> {
    match database {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(std::sync::Arc::new(PgStore::connect(url).await?))
        }
        _ => Ok(std::sync::Arc::new(SqliteStore::open_in(data_dir).await?)),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod migrations_in_step {
    /// The PostgreSQL migrations are the SQLite ones with the type names
    /// PostgreSQL needs, nothing else: the two sets cannot drift apart.
    #[test]
    fn postgres_migrations_are_the_sqlite_ones_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut names: Vec<_> = std::fs::read_dir(dir.join("sqlite"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert!(names.len() >= 7);
        let norm = |s: &str| -> String {
            s.lines()
                .filter(|l| !l.starts_with("-- Kept in step with"))
                .collect::<Vec<_>>()
                .join("\n")
                .replace(
                    "INTEGER PRIMARY KEY AUTOINCREMENT",
                    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                )
                .replace("INTEGER", "BIGINT")
                .replace("BYTEA", "BLOB")
                .replace(") WITHOUT ROWID;", ");")
        };
        for name in names {
            let sqlite = std::fs::read_to_string(dir.join("sqlite").join(&name)).unwrap();
            let pg = std::fs::read_to_string(dir.join("postgres").join(&name))
                .unwrap_or_else(|_| panic!("{name:?} has no PostgreSQL twin"));
            // Triggers cannot be translated by type names; such files say
            // so on their first line, in both sets.
            let dialect = "-- Dialect-specific:";
            if sqlite.starts_with(dialect) || pg.starts_with(dialect) {
                assert!(
                    sqlite.starts_with(dialect) && pg.starts_with(dialect),
                    "{name:?}: only one side is marked dialect-specific"
                );
                continue;
            }
            assert_eq!(
                norm(&pg),
                norm(&sqlite),
                "{name:?} differs beyond the type names"
            );
        }
    }
}
