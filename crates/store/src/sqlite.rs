use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cleanweb_core::auth::{Role, generate_key, hash_key};
use cleanweb_core::{
    Action, Bank, BankEntry, Category, Decision, Signal, SiteEvent, SiteStatus, Source, Verdict,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::{
    ApiKey, DecisionQuery, DecisionRecord, Result, Store, StoreError, Sweep, SweepItem, now_ms,
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
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATIONS.run(&pool).await?;
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

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn corrupt(table: &'static str, message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.to_string(),
    }
}

fn decision_from_row(row: &SqliteRow) -> Result<DecisionRecord> {
    let c = |m: &dyn std::fmt::Display| corrupt("decisions", m);
    let id: String = row.try_get("id")?;
    let id = Uuid::parse_str(&id).map_err(|e| c(&e))?;
    let source: String = row.try_get("source")?;
    let verdict: String = row.try_get("verdict")?;
    let labels: String = row.try_get("labels")?;
    let warnings: String = row.try_get("warnings")?;
    let meta: Option<String> = row.try_get("meta")?;
    let elapsed: i64 = row.try_get("elapsed_us")?;
    let decision = Decision {
        id: row.try_get("client_id")?,
        verdict: Verdict::from_str(&verdict).map_err(|e| c(&e))?,
        labels: serde_json::from_str(&labels).map_err(|e| c(&e))?,
        elapsed_us: u64::try_from(elapsed).unwrap_or(0),
        warnings: serde_json::from_str(&warnings).map_err(|e| c(&e))?,
        meta: meta
            .map(|m| serde_json::from_str(&m))
            .transpose()
            .map_err(|e| c(&e))?,
        decision_id: Some(id.to_string()),
    };
    Ok(DecisionRecord {
        id,
        created_at_ms: row.try_get("created_at")?,
        source: Source::from_str(&source).map_err(|e| c(&e))?,
        decision,
        content_sha256: row.try_get("content_sha256")?,
        text: row.try_get("text")?,
        url: row.try_get("url")?,
    })
}

fn key_from_row(row: &SqliteRow) -> Result<ApiKey> {
    let id: String = row.try_get("id")?;
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: Uuid::parse_str(&id).map_err(|e| corrupt("api_keys", e))?,
        name: row.try_get("name")?,
        role: Role::from_str(&role).map_err(|e| corrupt("api_keys", e))?,
        created_at_ms: row.try_get("created_at")?,
        revoked_at_ms: row.try_get("revoked_at")?,
    })
}

fn site_event_from_row(row: &SqliteRow) -> Result<SiteEvent> {
    let status: String = row.try_get("status")?;
    let evidence: String = row.try_get("evidence")?;
    Ok(SiteEvent {
        domain: row.try_get("domain")?,
        status: SiteStatus::from_str(&status).map_err(|e| corrupt("site_events", e))?,
        actor: row.try_get("actor")?,
        reason: row.try_get("reason")?,
        evidence: serde_json::from_str(&evidence).map_err(|e| corrupt("site_events", e))?,
        deadline_ms: row.try_get("deadline_ms")?,
        at_ms: row.try_get("at_ms")?,
    })
}

fn bank_from_row(row: &SqliteRow) -> Result<Bank> {
    let signal: String = row.try_get("signal")?;
    let category: String = row.try_get("category")?;
    let threshold: i64 = row.try_get("threshold")?;
    let dihedral: i64 = row.try_get("dihedral")?;
    Ok(Bank {
        name: row.try_get("name")?,
        signal: Signal::from_str(&signal).map_err(|e| corrupt("banks", e))?,
        category: Category::from_str(&category).map_err(|e| corrupt("banks", e))?,
        action: Action::from_str(&row.try_get::<String, _>("action")?)
            .map_err(|e| corrupt("banks", e))?,
        threshold: u32::try_from(threshold).unwrap_or(31),
        dihedral: dihedral != 0,
    })
}

async fn insert_decision(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    r: &DecisionRecord,
) -> Result<()> {
    let d = &r.decision;
    let labels = serde_json::to_string(&d.labels).map_err(|e| corrupt("decisions", e))?;
    let warnings = serde_json::to_string(&d.warnings).map_err(|e| corrupt("decisions", e))?;
    let meta = d.meta.as_ref().map(|m| m.to_string());
    sqlx::query(
        "INSERT INTO decisions (id, created_at, source, client_id, verdict, categories, \
         labels, warnings, meta, content_sha256, text, url, elapsed_us) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.id.to_string())
    .bind(r.created_at_ms)
    .bind(r.source.as_str())
    .bind(d.id.as_deref())
    .bind(d.verdict.as_str())
    .bind(categories_of(d))
    .bind(labels)
    .bind(warnings)
    .bind(meta)
    .bind(&r.content_sha256)
    .bind(r.text.as_deref())
    .bind(r.url.as_deref())
    .bind(i64::try_from(d.elapsed_us).unwrap_or(i64::MAX))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn sweep_from_row(row: &SqliteRow) -> Result<Sweep> {
    let options: String = row.try_get("options")?;
    Ok(Sweep {
        id: row.try_get("id")?,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
        source: row.try_get("source")?,
        kind: row.try_get("kind")?,
        options: serde_json::from_str(&options).map_err(|e| corrupt("sweeps", e))?,
        status: row.try_get("status")?,
        out_dir: row.try_get("out_dir")?,
    })
}

fn categories_of(d: &Decision) -> String {
    let mut cats: Vec<&str> = d.labels.iter().map(|l| l.category.as_str()).collect();
    cats.sort_unstable();
    cats.dedup();
    cats.join(" ")
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn save_decisions(&self, records: &[DecisionRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for r in records {
            insert_decision(&mut tx, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn decision(&self, id: Uuid) -> Result<Option<DecisionRecord>> {
        let row = sqlx::query("SELECT * FROM decisions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decision_from_row).transpose()
    }

    async fn decisions(&self, query: &DecisionQuery) -> Result<Vec<DecisionRecord>> {
        let mut q = QueryBuilder::new("SELECT * FROM decisions WHERE 1=1");
        if let Some(v) = query.verdict {
            q.push(" AND verdict = ").push_bind(v.as_str());
        }
        if let Some(s) = query.source {
            q.push(" AND source = ").push_bind(s.as_str());
        }
        if let Some(before) = query.before {
            // UUIDv7 strings sort by time, so they page like the timestamp.
            q.push(" AND id < ").push_bind(before.to_string());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.limit.clamp(1, 1000)));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decision_from_row).collect()
    }

    async fn count_decisions(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decisions")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_api_key(&self, name: &str, role: Role) -> Result<(ApiKey, String)> {
        let new = generate_key();
        let key = ApiKey {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            role,
            created_at_ms: now_ms(),
            revoked_at_ms: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(key.id.to_string())
        .bind(&key.name)
        .bind(role.as_str())
        .bind(&new.hash)
        .bind(key.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok((key, new.secret))
    }

    async fn api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
            .bind(hash_key(secret))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, id: Uuid) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_site_event(&self, e: &SiteEvent) -> Result<Result<(), String>> {
        // BEGIN IMMEDIATE takes the write lock first, so two writers cannot
        // both read the same current status and both append.
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let outcome = async {
            let current: Option<String> = sqlx::query_scalar(
                "SELECT status FROM site_events WHERE domain = ? ORDER BY id DESC LIMIT 1",
            )
            .bind(&e.domain)
            .fetch_optional(&mut *conn)
            .await?;
            let current = current
                .map(|s| SiteStatus::from_str(&s).map_err(|m| corrupt("site_events", m)))
                .transpose()?;
            if let Some(cur) = current
                && !cur.can_become(e.status)
            {
                return Ok(Err(format!(
                    "{} is {cur}; the lifecycle does not go from {cur} to {}",
                    e.domain, e.status
                )));
            }
            let evidence =
                serde_json::to_string(&e.evidence).map_err(|m| corrupt("site_events", m))?;
            sqlx::query(
                "INSERT INTO site_events (domain, status, actor, reason, evidence, deadline_ms, at_ms) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&e.domain)
            .bind(e.status.as_str())
            .bind(&e.actor)
            .bind(&e.reason)
            .bind(evidence)
            .bind(e.deadline_ms)
            .bind(e.at_ms)
            .execute(&mut *conn)
            .await?;
            Ok::<_, StoreError>(Ok(()))
        }
        .await;
        let end = if matches!(outcome, Ok(Ok(()))) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        sqlx::query(end).execute(&mut *conn).await?;
        outcome
    }

    async fn create_bank(&self, b: &Bank) -> Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO banks (name, signal, category, action, threshold, dihedral, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&b.name)
        .bind(b.signal.as_str())
        .bind(b.category.as_str())
        .bind(b.action.to_string())
        .bind(i64::from(b.threshold))
        .bind(i64::from(b.dihedral))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn banks(&self) -> Result<Vec<Bank>> {
        let rows = sqlx::query("SELECT * FROM banks ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(bank_from_row).collect()
    }

    async fn delete_bank(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM banks WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn add_bank_entries(&self, bank: &str, entries: &[BankEntry]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for e in entries {
            let done = sqlx::query(
                "INSERT OR IGNORE INTO bank_entries (bank, hash, source, external_id, note, added_by, added_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(bank)
            .bind(e.hash.to_ascii_lowercase())
            .bind(e.source.as_deref())
            .bind(e.external_id.as_deref())
            .bind(e.note.as_deref())
            .bind(e.added_by.as_deref())
            .bind(if e.added_at_ms > 0 { e.added_at_ms } else { now_ms() })
            .execute(&mut *tx)
            .await?;
            added += done.rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn remove_bank_entry(&self, bank: &str, hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bank_entries WHERE bank = ? AND hash = ?")
            .bind(bank)
            .bind(hash.to_ascii_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn bank_entries(&self, bank: &str) -> Result<Vec<BankEntry>> {
        let rows = sqlx::query("SELECT * FROM bank_entries WHERE bank = ? ORDER BY id")
            .bind(bank)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(BankEntry {
                    hash: r.try_get("hash")?,
                    source: r.try_get("source")?,
                    external_id: r.try_get("external_id")?,
                    note: r.try_get("note")?,
                    added_by: r.try_get("added_by")?,
                    added_at_ms: r.try_get("added_at")?,
                })
            })
            .collect()
    }

    async fn site_history(&self, domain: &str) -> Result<Vec<SiteEvent>> {
        let rows = sqlx::query("SELECT * FROM site_events WHERE domain = ? ORDER BY id")
            .bind(domain)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(site_event_from_row).collect()
    }

    async fn sites(&self, status: Option<SiteStatus>) -> Result<Vec<SiteEvent>> {
        let rows = sqlx::query(
            "SELECT e.* FROM site_events e \
             JOIN (SELECT domain, MAX(id) AS id FROM site_events GROUP BY domain) last \
             ON e.id = last.id ORDER BY e.domain",
        )
        .fetch_all(&self.pool)
        .await?;
        let all: Vec<SiteEvent> = rows
            .iter()
            .map(site_event_from_row)
            .collect::<Result<_>>()?;
        Ok(all
            .into_iter()
            .filter(|e| status.is_none_or(|s| e.status == s))
            .collect())
    }

    async fn create_sweep(&self, w: &Sweep) -> Result<()> {
        sqlx::query(
            "INSERT INTO sweeps (id, created_at, updated_at, source, kind, options, status, out_dir) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&w.id)
        .bind(w.created_at_ms)
        .bind(w.updated_at_ms)
        .bind(&w.source)
        .bind(&w.kind)
        .bind(w.options.to_string())
        .bind(&w.status)
        .bind(&w.out_dir)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sweep(&self, id: &str) -> Result<Option<Sweep>> {
        let row = sqlx::query("SELECT * FROM sweeps WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(sweep_from_row).transpose()
    }

    async fn sweeps(&self) -> Result<Vec<Sweep>> {
        let rows = sqlx::query("SELECT * FROM sweeps ORDER BY created_at DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sweep_from_row).collect()
    }

    async fn set_sweep_status(&self, id: &str, status: &str) -> Result<()> {
        sqlx::query("UPDATE sweeps SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sweep_done(&self, id: &str) -> Result<Vec<u64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT seq FROM sweep_items WHERE sweep_id = ? ORDER BY seq")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(s,)| s.max(0) as u64).collect())
    }

    async fn record_sweep_items(&self, id: &str, items: &[SweepItem]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for it in items {
            let seq = i64::try_from(it.seq).map_err(|e| corrupt("sweep_items", e))?;
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO sweep_items \
                 (sweep_id, seq, key, verdict, categories, decision_id, detail) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(seq)
            .bind(&it.key)
            .bind(&it.verdict)
            .bind(&it.categories)
            .bind(it.decision.as_ref().map(|d| d.id.to_string()))
            .bind(it.detail.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                added += 1;
                if let Some(d) = &it.decision {
                    insert_decision(&mut tx, d).await?;
                }
            }
        }
        sqlx::query("UPDATE sweeps SET updated_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn sweep_items(
        &self,
        id: &str,
        after_seq: Option<u64>,
        limit: u32,
        findings_only: bool,
    ) -> Result<Vec<SweepItem>> {
        let after = after_seq.map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX));
        let filter = if findings_only {
            " AND verdict NOT IN ('allow')"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "SELECT seq, key, verdict, categories, detail FROM sweep_items \
             WHERE sweep_id = ? AND seq > ?{filter} ORDER BY seq LIMIT ?"
        ))
        .bind(id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq")?;
                Ok(SweepItem {
                    seq: seq.max(0) as u64,
                    key: r.try_get("key")?,
                    verdict: r.try_get("verdict")?,
                    categories: r.try_get("categories")?,
                    decision: None,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    async fn sweep_counts(&self, id: &str) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT verdict, COUNT(*) FROM sweep_items WHERE sweep_id = ? GROUP BY verdict ORDER BY verdict",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(v, n)| (v, n.max(0) as u64))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Category, Item, Label};

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
        let (key, secret) = store.create_api_key("ci", Role::Operator).await.unwrap();
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
        assert!(store.revoke_api_key(key.id).await.unwrap());
        assert!(!store.revoke_api_key(key.id).await.unwrap());
        assert_eq!(store.api_key_by_secret(&secret).await.unwrap(), None);
    }
}
