//! The PostgreSQL store, for several machines sharing one database: the
//! same trait, tables and meaning as the SQLite store (migrations in
//! `migrations/postgres`, kept in step with `migrations/sqlite`).

use std::str::FromStr;
use std::time::Duration;

use cleanweb_core::auth::{Role, generate_key, hash_key};
use cleanweb_core::{
    AuditEvent, AuditRecord, Bank, BankEntry, Category, SiteEvent, SiteStatus, Verdict,
};
use sqlx::QueryBuilder;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
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

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) and applies migrations.
    pub async fn connect(url: &str) -> Result<PgStore> {
        Self::connect_in_schema(url, None).await
    }

    /// As [`connect`](Self::connect), with every table in `schema` (created
    /// if missing): separate deployments, or tests, share one database.
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<PgStore> {
        // Notices such as "relation already exists, skipping" from the
        // migrator are not worth a log line on every start.
        let mut options =
            PgConnectOptions::from_str(url)?.options([("client_min_messages", "warning")]);
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Corrupt {
                    table: "schema",
                    message: format!("{schema:?}: use letters, digits and _"),
                });
            }
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATIONS.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// A transaction that holds the audit chain's advisory lock.
    async fn begin_audited(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.begin_tx().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7250116)")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A write transaction (see [`crate::begin_detached`]).
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        crate::begin_detached(&self.pool, None).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `FOR UPDATE SKIP LOCKED`: concurrent workers each lock a different
/// pending job without waiting on each other.
const CLAIM: &str = "UPDATE sweep_jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
     WHERE (sweep_id, job_no) = (SELECT sweep_id, job_no FROM sweep_jobs \
       WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
       AND ($4::text IS NULL OR sweep_id = $4) ORDER BY sweep_id, job_no LIMIT 1 \
       FOR UPDATE SKIP LOCKED) \
     RETURNING sweep_id, job_no, payload, attempts";

review_impl!(PgStore, sqlx::Postgres);
reports_impl!(PgStore, sqlx::Postgres);
evidence_impl!(PgStore, sqlx::Postgres);

store_impl!(PgStore, sqlx::Postgres, {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord> {
        // One appender at a time across every connection and machine.
        let mut tx = self.begin_tx().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7250116)")
            .execute(&mut *tx)
            .await?;
        let record = Self::append_audit_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn record_site_event(&self, e: &SiteEvent) -> Result<Result<(), String>> {
        // A transaction-scoped advisory lock per domain: two writers cannot
        // both read the same current status and both append.
        let mut tx = self.begin_tx().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&e.domain)
            .execute(&mut *tx)
            .await?;
        let outcome = Self::append_site_event(&mut tx, e).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }
});
