//! The `Store` methods whose SQL is the same on SQLite and PostgreSQL,
//! written once: numbered placeholders (`$1`, which SQLite also takes, in
//! order), `ON CONFLICT DO NOTHING`, and 64-bit integers everywhere. Each
//! backend adds what differs: its name, the site lifecycle's locking, and
//! the job-claiming statement (`CLAIM`, a constant in its module).

macro_rules! store_impl {
    ($ty:ty, $db:ty, { $($backend:tt)* }) => {
        impl $ty {
        /// Chains and inserts an audit event; the caller holds the lock.
        async fn append_audit_in(
            conn: &mut <$db as sqlx::Database>::Connection,
            event: &AuditEvent,
        ) -> Result<AuditRecord> {
            let row = sqlx::query("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *conn)
                .await?;
            let last = row.as_ref().map(audit_from_row).transpose()?;
            let record = AuditRecord::chain(last.as_ref(), now_ms(), event.clone());
            sqlx::query(
                "INSERT INTO audit_events (seq, at_ms, actor, action, subject, details, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(i64::try_from(record.seq).map_err(|e| corrupt("audit_events", e))?)
            .bind(record.at_ms)
            .bind(&record.event.actor)
            .bind(&record.event.action)
            .bind(&record.event.subject)
            .bind(record.event.details.to_string())
            .bind(&record.prev_hash)
            .bind(&record.hash)
            .execute(&mut *conn)
            .await?;
            Ok(record)
        }

        /// Ends an audited change: with `changed`, appends `audit` and commits
        /// (returning true); otherwise rolls back, writing nothing.
        async fn commit_audited(
            mut tx: sqlx::Transaction<'_, $db>,
            changed: bool,
            audit: &AuditEvent,
        ) -> Result<bool> {
            if !changed {
                tx.rollback().await?;
                return Ok(false);
            }
            Self::append_audit_in(&mut tx, audit).await?;
            tx.commit().await?;
            Ok(true)
        }

        /// Records sweep items in `tx`: each item once, with its decision.
        async fn record_items_in(
            tx: &mut sqlx::Transaction<'_, $db>,
            id: &str,
            items: &[SweepItem],
        ) -> Result<u64> {
            let mut added = 0;
            for it in items {
                let seq = i64::try_from(it.seq).map_err(|e| corrupt("sweep_items", e))?;
                let inserted = sqlx::query(
                    "INSERT INTO sweep_items \
                     (sweep_id, seq, key, verdict, categories, decision_id, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(seq)
                .bind(&it.key)
                .bind(&it.verdict)
                .bind(&it.categories)
                .bind(it.decision.as_ref().map(|d| d.id.to_string()))
                .bind(it.detail.as_deref())
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if inserted == 1 {
                    added += 1;
                    if let Some(d) = &it.decision {
                        Self::insert_decision(tx, d).await?;
                    }
                }
            }
            sqlx::query("UPDATE sweeps SET updated_at = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(id)
                .execute(&mut **tx)
                .await?;
            Ok(added)
        }

        /// Appends a site event if the lifecycle allows it from the current
        /// status; the caller holds the lock that makes read-then-write safe.
        async fn append_site_event(
            conn: &mut <$db as sqlx::Database>::Connection,
            e: &SiteEvent,
        ) -> Result<Result<(), String>> {
            let current: Option<String> = sqlx::query_scalar(
                "SELECT status FROM site_events WHERE domain = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(&e.domain)
            .fetch_optional(&mut *conn)
            .await?;
            let current = current
                .map(|s| SiteStatus::from_str(&s).map_err(|m| corrupt("site_events", m)))
                .transpose()?;
            match (e.kind, current) {
                // An inspection changes nothing: it carries the status as is.
                (cleanweb_core::SiteEventKind::Inspection, Some(cur)) if cur != e.status => {
                    return Ok(Err(format!(
                        "{} is {cur}, not {}; an inspection keeps the status",
                        e.domain, e.status
                    )));
                }
                (cleanweb_core::SiteEventKind::Inspection, None) => {
                    return Ok(Err(format!("{} is not in the registry", e.domain)));
                }
                (cleanweb_core::SiteEventKind::Status, Some(cur)) if !cur.can_become(e.status) => {
                    return Ok(Err(format!(
                        "{} is {cur}; the lifecycle does not go from {cur} to {}",
                        e.domain, e.status
                    )));
                }
                _ => {}
            }
            let evidence =
                serde_json::to_string(&e.evidence).map_err(|m| corrupt("site_events", m))?;
            sqlx::query(
                "INSERT INTO site_events (domain, status, actor, reason, evidence, deadline_ms, at_ms, kind, proposal) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&e.domain)
            .bind(e.status.as_str())
            .bind(&e.actor)
            .bind(&e.reason)
            .bind(evidence)
            .bind(e.deadline_ms)
            .bind(e.at_ms)
            .bind(e.kind.as_str())
            .bind(e.proposal.map(|p| p.as_str()))
            .execute(&mut *conn)
            .await?;
            Ok(Ok(()))
        }

        async fn insert_decision(
            tx: &mut sqlx::Transaction<'_, $db>,
            r: &DecisionRecord,
        ) -> Result<()> {
            let d = &r.decision;
            let labels = serde_json::to_string(&d.labels).map_err(|e| corrupt("decisions", e))?;
            let warnings = serde_json::to_string(&d.warnings).map_err(|e| corrupt("decisions", e))?;
            let meta = d.meta.as_ref().map(|m| m.to_string());
            sqlx::query(
                "INSERT INTO decisions (id, created_at, source, client_id, verdict, categories, \
                 labels, warnings, meta, content_sha256, text, url, elapsed_us, \
                 priority, qc_bucket, image_sha256, review_state, html) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
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
            .bind(cleanweb_core::review::priority(d))
            .bind(i64::from(cleanweb_core::review::qc_bucket(&r.id.to_string())))
            .bind(r.image_sha256.as_deref())
            .bind(r.review_state.map(|s| s.as_str()))
            .bind(r.html.as_deref())
            .execute(&mut **tx)
            .await?;
            if let (Some(sha), Some(bytes)) = (&r.image_sha256, &r.image) {
                sqlx::query(
                    "INSERT INTO blobs (sha256, bytes, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(sha)
                .bind(&bytes[..])
                .bind(r.created_at_ms)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
        }

        #[async_trait::async_trait]
        impl crate::Store for $ty {
            $($backend)*

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn save_decisions(&self, records: &[DecisionRecord]) -> Result<()> {
                if records.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_tx().await?;
                for r in records {
                    Self::insert_decision(&mut tx, r).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn decision(&self, id: Uuid) -> Result<Option<DecisionRecord>> {
                let row = sqlx::query("SELECT * FROM decisions WHERE id = $1")
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

            async fn create_api_key(
                &self,
                name: &str,
                role: Role,
                audit: &AuditEvent,
            ) -> Result<(ApiKey, String)> {
                let new = generate_key();
                let key = ApiKey {
                    id: Uuid::now_v7(),
                    name: name.to_owned(),
                    role,
                    created_at_ms: now_ms(),
                    revoked_at_ms: None,
                };
                let mut tx = self.begin_audited().await?;
                sqlx::query(
                    "INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(key.id.to_string())
                .bind(&key.name)
                .bind(role.as_str())
                .bind(&new.hash)
                .bind(key.created_at_ms)
                .execute(&mut *tx)
                .await?;
                let mut event = audit.clone();
                event.subject = key.id.to_string();
                Self::append_audit_in(&mut tx, &event).await?;
                tx.commit().await?;
                Ok((key, new.secret))
            }

            async fn api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>> {
                let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
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

            async fn revoke_api_key(&self, id: Uuid, audit: &AuditEvent) -> Result<bool> {
                let mut tx = self.begin_audited().await?;
                let done =
                    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                        .bind(now_ms())
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                Self::commit_audited(tx, done.rows_affected() == 1, audit).await
            }

            async fn create_bank(&self, b: &Bank, audit: &AuditEvent) -> Result<bool> {
                let mut tx = self.begin_audited().await?;
                let done = sqlx::query(
                    "INSERT INTO banks (name, signal, category, action, threshold, dihedral, created_at, query_pct, compared_pct) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                )
                .bind(&b.name)
                .bind(b.signal.as_str())
                .bind(b.category.as_str())
                .bind(b.action.to_string())
                .bind(i64::from(b.threshold))
                .bind(i64::from(b.dihedral))
                .bind(now_ms())
                .bind(i64::from(b.query_pct))
                .bind(i64::from(b.compared_pct))
                .execute(&mut *tx)
                .await?;
                Self::commit_audited(tx, done.rows_affected() == 1, audit).await
            }

            async fn banks(&self) -> Result<Vec<Bank>> {
                let rows = sqlx::query("SELECT * FROM banks ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(bank_from_row).collect()
            }

            async fn delete_bank(&self, name: &str, audit: &AuditEvent) -> Result<bool> {
                let mut tx = self.begin_audited().await?;
                let done = sqlx::query("DELETE FROM banks WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                Self::commit_audited(tx, done.rows_affected() == 1, audit).await
            }

            async fn add_bank_entries(
                &self,
                bank: &str,
                entries: &[BankEntry],
                audit: &AuditEvent,
            ) -> Result<u64> {
                let mut tx = self.begin_audited().await?;
                let mut added = 0;
                for e in entries {
                    let done = sqlx::query(
                        "INSERT INTO bank_entries (bank, hash, source, external_id, note, added_by, added_at, frames) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    )
                    .bind(bank)
                    .bind(e.hash.to_ascii_lowercase())
                    .bind(e.source.as_deref())
                    .bind(e.external_id.as_deref())
                    .bind(e.note.as_deref())
                    .bind(e.added_by.as_deref())
                    .bind(if e.added_at_ms > 0 { e.added_at_ms } else { now_ms() })
                    .bind(e.frames.as_deref())
                    .execute(&mut *tx)
                    .await?;
                    added += done.rows_affected();
                }
                let mut event = audit.clone();
                if let serde_json::Value::Object(m) = &mut event.details {
                    m.insert("added".into(), added.into());
                }
                Self::commit_audited(tx, added > 0, &event).await?;
                Ok(added)
            }

            async fn remove_bank_entry(
                &self,
                bank: &str,
                hash: &str,
                audit: &AuditEvent,
            ) -> Result<bool> {
                let mut tx = self.begin_audited().await?;
                let done = sqlx::query("DELETE FROM bank_entries WHERE bank = $1 AND hash = $2")
                    .bind(bank)
                    .bind(hash.to_ascii_lowercase())
                    .execute(&mut *tx)
                    .await?;
                Self::commit_audited(tx, done.rows_affected() == 1, audit).await
            }

            async fn bank_entries(&self, bank: &str) -> Result<Vec<BankEntry>> {
                let rows = sqlx::query("SELECT * FROM bank_entries WHERE bank = $1 ORDER BY id")
                    .bind(bank)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(BankEntry {
                            hash: r.col("hash")?,
                            source: r.col("source")?,
                            external_id: r.col("external_id")?,
                            note: r.col("note")?,
                            added_by: r.col("added_by")?,
                            added_at_ms: r.col("added_at")?,
                            frames: r.col("frames")?,
                        })
                    })
                    .collect()
            }

            async fn site_history(&self, domain: &str) -> Result<Vec<SiteEvent>> {
                let rows = sqlx::query("SELECT * FROM site_events WHERE domain = $1 ORDER BY id")
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
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
                let row = sqlx::query("SELECT * FROM sweeps WHERE id = $1")
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
                sqlx::query("UPDATE sweeps SET status = $1, updated_at = $2 WHERE id = $3")
                    .bind(status)
                    .bind(now_ms())
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn sweep_done(&self, id: &str) -> Result<Vec<u64>> {
                let rows: Vec<(i64,)> =
                    sqlx::query_as("SELECT seq FROM sweep_items WHERE sweep_id = $1 ORDER BY seq")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(s,)| s.max(0) as u64).collect())
            }

            async fn record_sweep_items(&self, id: &str, items: &[SweepItem]) -> Result<u64> {
                let mut tx = self.begin_tx().await?;
                let added = Self::record_items_in(&mut tx, id, items).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn enqueue_sweep_jobs(&self, sweep: &str, jobs: &[(u64, String)]) -> Result<()> {
                let mut tx = self.begin_tx().await?;
                for (no, payload) in jobs {
                    sqlx::query(
                        "INSERT INTO sweep_jobs (sweep_id, job_no, payload, status) \
                         VALUES ($1, $2, $3, 'pending') ON CONFLICT DO NOTHING",
                    )
                    .bind(sweep)
                    .bind(i64::try_from(*no).map_err(|e| corrupt("sweep_jobs", e))?)
                    .bind(payload)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn renew_sweep_job(
                &self,
                sweep: &str,
                job_no: u64,
                owner: &str,
                lease_ms: i64,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE sweep_jobs SET lease_until = $1 \
                     WHERE sweep_id = $2 AND job_no = $3 AND lease_owner = $4 AND status = 'pending'",
                )
                .bind(now_ms() + lease_ms)
                .bind(sweep)
                .bind(i64::try_from(job_no).map_err(|e| corrupt("sweep_jobs", e))?)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_sweep_job(
                &self,
                sweep: &str,
                job_no: u64,
                items: &[SweepItem],
            ) -> Result<u64> {
                let mut tx = self.begin_tx().await?;
                let added = Self::record_items_in(&mut tx, sweep, items).await?;
                sqlx::query(
                    "UPDATE sweep_jobs SET status = 'done', lease_until = NULL \
                     WHERE sweep_id = $1 AND job_no = $2",
                )
                .bind(sweep)
                .bind(i64::try_from(job_no).map_err(|e| corrupt("sweep_jobs", e))?)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(added)
            }

async fn claim_sweep_job(
                &self,
                owner: &str,
                lease_ms: i64,
                sweep: Option<&str>,
            ) -> Result<Option<SweepJob>> {
                let now = now_ms();
                let row = sqlx::query(CLAIM)
                    .bind(owner)
                    .bind(now + lease_ms)
                    .bind(now)
                    .bind(sweep)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref()
                    .map(|r| {
                        Ok(SweepJob {
                            sweep_id: r.col("sweep_id")?,
                            job_no: r.col::<i64>("job_no")?.max(0) as u64,
                            payload: r.col("payload")?,
                            attempts: r.col::<i64>("attempts")?.max(0) as u64,
                        })
                    })
                    .transpose()
            }

            async fn create_user(&self, u: &User, audit: &AuditEvent) -> Result<bool> {
                let mut tx = self.begin_audited().await?;
                let done = sqlx::query(
                    "INSERT INTO users (name, role, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(&u.name)
                .bind(u.role.as_str())
                .bind(&u.password_hash)
                .bind(u.created_at_ms)
                .execute(&mut *tx)
                .await?;
                Self::commit_audited(tx, done.rows_affected() == 1, audit).await
            }

            async fn user(&self, name: &str) -> Result<Option<User>> {
                let row = sqlx::query("SELECT * FROM users WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn users(&self) -> Result<Vec<User>> {
                let rows = sqlx::query("SELECT * FROM users ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(user_from_row).collect()
            }

            async fn change_user(
                &self,
                name: &str,
                change: &UserChange,
                audit: &AuditEvent,
            ) -> Result<bool> {
                let mut tx = self.begin_audited().await?;
                let query = match change {
                    UserChange::Disable => {
                        sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE name = $1")
                            .bind(name)
                            .bind(now_ms())
                    }
                    UserChange::Enable => {
                        sqlx::query("UPDATE users SET disabled_at = NULL WHERE name = $1").bind(name)
                    }
                    UserChange::Password(hash) => {
                        sqlx::query("UPDATE users SET password_hash = $2 WHERE name = $1")
                            .bind(name)
                            .bind(hash.as_str())
                    }
                    UserChange::Role(role) => sqlx::query("UPDATE users SET role = $2 WHERE name = $1")
                        .bind(name)
                        .bind(role.as_str()),
                };
                let changed = query.execute(&mut *tx).await?.rows_affected() == 1;
                if changed {
                    sqlx::query("DELETE FROM sessions WHERE user_name = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::commit_audited(tx, changed, audit).await
            }

            async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
                let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT bytes FROM blobs WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(b,)| b))
            }

            async fn audit_events(
                &self,
                after_seq: Option<u64>,
                limit: u32,
            ) -> Result<Vec<AuditRecord>> {
                let after = after_seq.map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX));
                let rows = sqlx::query("SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(audit_from_row).collect()
            }

            async fn sweep_job_counts(&self, sweep: &str) -> Result<(u64, u64)> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT status, COUNT(*) FROM sweep_jobs WHERE sweep_id = $1 GROUP BY status",
                )
                .bind(sweep)
                .fetch_all(&self.pool)
                .await?;
                let get = |s: &str| {
                    rows.iter()
                        .find(|(k, _)| k == s)
                        .map_or(0, |(_, n)| (*n).max(0) as u64)
                };
                Ok((get("pending"), get("done")))
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
                     WHERE sweep_id = $1 AND seq > $2{filter} ORDER BY seq LIMIT $3"
                ))
                .bind(id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let seq: i64 = r.col("seq")?;
                        Ok(SweepItem {
                            seq: seq.max(0) as u64,
                            key: r.col("key")?,
                            verdict: r.col("verdict")?,
                            categories: r.col("categories")?,
                            decision: None,
                            detail: r.col("detail")?,
                        })
                    })
                    .collect()
            }

            async fn sweep_counts(&self, id: &str) -> Result<Vec<(String, u64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT verdict, COUNT(*) FROM sweep_items WHERE sweep_id = $1 GROUP BY verdict ORDER BY verdict",
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
    };
}

pub(crate) use store_impl;
