//! The evidence store: captures of what was fetched (WARC segments), kept
//! content-addressed in `blobs` and linked to the case, sweep, site and
//! decision they are evidence for; retention under a legal hold; and the
//! reads an evidence bundle gathers. Shared SQL for both backends.

use async_trait::async_trait;
use cleanweb_core::{AuditEvent, AuditRecord};
use uuid::Uuid;

use crate::{DecisionRecord, Result};

/// A capture to keep: its bytes and what they are evidence for.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCapture {
    /// The WARC segment (request and response records, gzip members).
    pub bytes: Vec<u8>,
    pub url: String,
    /// The URL's registrable domain.
    pub domain: Option<String>,
    pub case_id: Option<Uuid>,
    pub sweep_id: Option<String>,
    pub decision_id: Option<Uuid>,
}

/// A kept capture, without its bytes (read them with [`crate::Store::blob`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    pub id: i64,
    pub sha256: String,
    /// `warc`.
    pub kind: String,
    pub url: String,
    pub domain: Option<String>,
    pub case_id: Option<Uuid>,
    pub sweep_id: Option<String>,
    pub decision_id: Option<Uuid>,
    pub bytes: u64,
    pub captured_at_ms: i64,
}

/// Which captures to list: every field given must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaptureQuery {
    pub domain: Option<String>,
    pub case_id: Option<Uuid>,
    pub sweep_id: Option<String>,
    pub decision_id: Option<Uuid>,
}

/// Which audit events to list, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditQuery {
    /// Only events before this number (the next older page).
    pub before: Option<u64>,
    /// Only events after this number (the next newer page; the answer is
    /// still newest first).
    pub after: Option<u64>,
    /// The actor contains this.
    pub actor: Option<String>,
    /// The action starts with this (`site.` for every registry event).
    pub action: Option<String>,
    /// The subject is exactly this.
    pub subject: Option<String>,
    /// At or after, Unix milliseconds.
    pub since_ms: Option<i64>,
    /// Before, Unix milliseconds.
    pub until_ms: Option<i64>,
    pub limit: u32,
}

/// A signed checkpoint of the audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The event checkpointed (the head when it was signed).
    pub seq: u64,
    /// That event's hash.
    pub hash: String,
    /// The signing key, hex.
    pub public_key: String,
    /// Ed25519 over [`Checkpoint::message`], hex.
    pub signature: String,
    pub at_ms: i64,
}

impl Checkpoint {
    /// What is signed: the event's number and hash, under a domain tag.
    pub fn message(seq: u64, hash: &str) -> Vec<u8> {
        format!("cleanweb-audit-checkpoint:{seq}:{hash}").into_bytes()
    }
}

/// What a retention run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Captures past retention that were deleted.
    pub removed: u64,
    /// Captures past retention kept by the legal hold.
    pub held: u64,
}

/// Captures past `$1` that the legal hold keeps: their case is open, or
/// their site is in the registry with any status but `restored`.
pub(crate) const HELD: &str = "(EXISTS (SELECT 1 FROM cases c WHERE c.id = captures.case_id \
       AND c.status IN ('received', 'in_review')) \
     OR EXISTS (SELECT 1 FROM site_events s WHERE s.domain = captures.domain AND s.status <> 'restored' \
       AND s.id = (SELECT MAX(l.id) FROM site_events l WHERE l.domain = s.domain)))";

#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Keeps captures: each blob once by its SHA-256, each capture a row,
    /// all in one transaction.
    async fn save_captures(&self, captures: &[NewCapture]) -> Result<Vec<Capture>>;
    /// Captures matching `q`, oldest first, at most `limit`.
    async fn captures(&self, q: &CaptureQuery, limit: u32) -> Result<Vec<Capture>>;
    /// Deletes captures made before `before_ms` unless the legal hold keeps
    /// them, with their blobs when nothing else refers to them, and appends
    /// `audit` (its details gain the counts), in one transaction.
    async fn prune_captures(&self, before_ms: i64, audit: &AuditEvent) -> Result<Pruned>;
    /// Audit events about `subject`, in order, at most `limit`.
    async fn audit_about(&self, subject: &str, limit: u32) -> Result<Vec<AuditRecord>>;
    /// The audit chain's last event.
    async fn audit_head(&self) -> Result<Option<AuditRecord>>;
    /// Keeps a checkpoint (once per event number).
    async fn save_checkpoint(&self, c: &Checkpoint) -> Result<()>;
    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>>;
    /// Audit events matching `q`, newest first.
    async fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>>;
    /// Decisions whose URL contains `needle`, newest first, at most `limit`
    /// (a scan: evidence exports are rare; callers check the host).
    async fn decisions_with_url(&self, needle: &str, limit: u32) -> Result<Vec<DecisionRecord>>;
    /// Cases whose URL contains `needle`, oldest first, at most `limit`.
    async fn cases_with_url(&self, needle: &str, limit: u32) -> Result<Vec<crate::Case>>;
}

/// `%needle%` for LIKE, with the pattern characters in `needle` escaped.
pub(crate) fn like_contains(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

macro_rules! evidence_impl {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::evidence::EvidenceStore for $ty {
            async fn save_captures(
                &self,
                captures: &[$crate::evidence::NewCapture],
            ) -> Result<Vec<$crate::evidence::Capture>> {
                let now = now_ms();
                let mut tx = self.begin_tx().await?;
                let mut saved = Vec::with_capacity(captures.len());
                for c in captures {
                    let sha = $crate::sha256_hex(&c.bytes);
                    sqlx::query(
                        "INSERT INTO blobs (sha256, bytes, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(&sha)
                    .bind(&c.bytes)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let size = i64::try_from(c.bytes.len()).unwrap_or(i64::MAX);
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO captures (sha256, kind, url, domain, case_id, sweep_id, decision_id, bytes, captured_at) \
                         VALUES ($1, 'warc', $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(&sha)
                    .bind(&c.url)
                    .bind(&c.domain)
                    .bind(c.case_id.map(|u| u.to_string()))
                    .bind(&c.sweep_id)
                    .bind(c.decision_id.map(|u| u.to_string()))
                    .bind(size)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    saved.push($crate::evidence::Capture {
                        id,
                        sha256: sha,
                        kind: "warc".into(),
                        url: c.url.clone(),
                        domain: c.domain.clone(),
                        case_id: c.case_id,
                        sweep_id: c.sweep_id.clone(),
                        decision_id: c.decision_id,
                        bytes: c.bytes.len() as u64,
                        captured_at_ms: now,
                    });
                }
                tx.commit().await?;
                Ok(saved)
            }

            async fn captures(
                &self,
                q: &$crate::evidence::CaptureQuery,
                limit: u32,
            ) -> Result<Vec<$crate::evidence::Capture>> {
                let rows = sqlx::query(
                    "SELECT * FROM captures WHERE ($1 IS NULL OR domain = $1) AND ($2 IS NULL OR case_id = $2) \
                     AND ($3 IS NULL OR sweep_id = $3) AND ($4 IS NULL OR decision_id = $4) ORDER BY id LIMIT $5",
                )
                .bind(&q.domain)
                .bind(q.case_id.map(|u| u.to_string()))
                .bind(&q.sweep_id)
                .bind(q.decision_id.map(|u| u.to_string()))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(capture_from_row).collect()
            }

            async fn prune_captures(
                &self,
                before_ms: i64,
                audit: &AuditEvent,
            ) -> Result<$crate::evidence::Pruned> {
                use $crate::evidence::HELD;
                let mut tx = self.begin_audited().await?;
                let (held,): (i64,) = sqlx::query_as(&format!(
                    "SELECT COUNT(*) FROM captures WHERE captured_at < $1 AND {HELD}"
                ))
                .bind(before_ms)
                .fetch_one(&mut *tx)
                .await?;
                let gone: Vec<(String,)> = sqlx::query_as(&format!(
                    "DELETE FROM captures WHERE captured_at < $1 AND NOT {HELD} RETURNING sha256"
                ))
                .bind(before_ms)
                .fetch_all(&mut *tx)
                .await?;
                let mut shas: Vec<&str> = gone.iter().map(|(s,)| s.as_str()).collect();
                shas.sort_unstable();
                shas.dedup();
                for sha in shas {
                    // A blob goes only when nothing else refers to it: a
                    // decision's picture or a report's content stays.
                    sqlx::query(
                        "DELETE FROM blobs WHERE sha256 = $1 \
                         AND NOT EXISTS (SELECT 1 FROM captures WHERE sha256 = $1) \
                         AND NOT EXISTS (SELECT 1 FROM decisions WHERE image_sha256 = $1) \
                         AND NOT EXISTS (SELECT 1 FROM cases WHERE target = 'sha256:' || $1)",
                    )
                    .bind(sha)
                    .execute(&mut *tx)
                    .await?;
                }
                let pruned = $crate::evidence::Pruned {
                    removed: gone.len() as u64,
                    held: held.max(0) as u64,
                };
                let mut event = audit.clone();
                if let serde_json::Value::Object(m) = &mut event.details {
                    m.insert("removed".into(), pruned.removed.into());
                    m.insert("held".into(), pruned.held.into());
                }
                Self::append_audit_in(&mut tx, &event).await?;
                tx.commit().await?;
                Ok(pruned)
            }

            async fn audit_about(&self, subject: &str, limit: u32) -> Result<Vec<AuditRecord>> {
                let rows = sqlx::query("SELECT * FROM audit_events WHERE subject = $1 ORDER BY seq LIMIT $2")
                    .bind(subject)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(audit_from_row).collect()
            }

            async fn audit_head(&self) -> Result<Option<AuditRecord>> {
                let row = sqlx::query("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(audit_from_row).transpose()
            }

            async fn save_checkpoint(&self, c: &$crate::evidence::Checkpoint) -> Result<()> {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (seq, hash, public_key, signature, at_ms) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(i64::try_from(c.seq).unwrap_or(i64::MAX))
                .bind(&c.hash)
                .bind(&c.public_key)
                .bind(&c.signature)
                .bind(c.at_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn checkpoints(&self) -> Result<Vec<$crate::evidence::Checkpoint>> {
                let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
                    "SELECT seq, hash, public_key, signature, at_ms FROM audit_checkpoints ORDER BY seq",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(seq, hash, public_key, signature, at_ms)| $crate::evidence::Checkpoint {
                        seq: seq.max(0) as u64,
                        hash,
                        public_key,
                        signature,
                        at_ms,
                    })
                    .collect())
            }

            async fn audit_search(&self, q: &$crate::evidence::AuditQuery) -> Result<Vec<AuditRecord>> {
                let seq = |s: Option<u64>| s.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
                // Newer pages are read oldest first from their start, then turned.
                let order = if q.after.is_some() && q.before.is_none() { "ASC" } else { "DESC" };
                let rows = sqlx::query(&format!(
                    "SELECT * FROM audit_events WHERE ($1 IS NULL OR seq < $1) AND ($2 IS NULL OR seq > $2) \
                     AND ($3 IS NULL OR actor LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR action LIKE $4 ESCAPE '\\') \
                     AND ($5 IS NULL OR subject = $5) AND ($6 IS NULL OR at_ms >= $6) AND ($7 IS NULL OR at_ms < $7) \
                     ORDER BY seq {order} LIMIT $8"
                ))
                .bind(seq(q.before))
                .bind(seq(q.after))
                .bind(q.actor.as_deref().map($crate::evidence::like_contains))
                .bind(q.action.as_deref().map(|a| {
                    let mut p = $crate::evidence::like_contains(a);
                    p.remove(0);
                    p
                }))
                .bind(q.subject.as_deref())
                .bind(q.since_ms)
                .bind(q.until_ms)
                .bind(i64::from(q.limit.clamp(1, 1000)))
                .fetch_all(&self.pool)
                .await?;
                let mut out = rows.iter().map(audit_from_row).collect::<Result<Vec<_>>>()?;
                if order == "ASC" {
                    out.reverse();
                }
                Ok(out)
            }

            async fn decisions_with_url(&self, needle: &str, limit: u32) -> Result<Vec<DecisionRecord>> {
                let rows = sqlx::query(
                    "SELECT * FROM decisions WHERE url LIKE $1 ESCAPE '\\' ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind($crate::evidence::like_contains(needle))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(decision_from_row).collect()
            }

            async fn cases_with_url(&self, needle: &str, limit: u32) -> Result<Vec<$crate::Case>> {
                let rows = sqlx::query(
                    "SELECT * FROM cases WHERE url LIKE $1 ESCAPE '\\' OR target LIKE $1 ESCAPE '\\' \
                     ORDER BY created_at, id LIMIT $2",
                )
                .bind($crate::evidence::like_contains(needle))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(case_from_row).collect()
            }
        }
    };
}

pub(crate) use evidence_impl;
