//! What human review persists: the queue (derived from decisions), claims,
//! reviewer decisions, takedown webhook deliveries, console sessions and
//! lexicon suggestions. The SQL is shared by both backends, like `common`.

use async_trait::async_trait;
use cleanweb_core::review::Outcome;
use cleanweb_core::{AuditEvent, Category, Source, Verdict};
use uuid::Uuid;

use crate::{DecisionRecord, Result, User};

/// Which queue to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Queue {
    /// Unreviewed `review` decisions and the sampled `block` ones.
    #[default]
    Open,
    /// Items a reviewer escalated; admins decide them.
    Escalated,
    /// Items decided (violation or not), for looking back.
    Decided,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueSort {
    /// Severity and confidence first, then the oldest.
    #[default]
    Priority,
    Oldest,
    Newest,
}

#[derive(Clone, Debug, Default)]
pub struct QueueQuery {
    pub queue: Queue,
    pub category: Option<Category>,
    pub source: Option<Source>,
    /// Only items at least this old.
    pub min_age_ms: Option<i64>,
    /// Only items at most this old.
    pub max_age_ms: Option<i64>,
    pub sort: QueueSort,
    /// The QC sample of machine blocks, per 10,000.
    pub block_sample_per_10k: u32,
    pub limit: u32,
    /// Rows skipped (a page's start).
    pub offset: u32,
    /// Finds items by id, platform id, content or image hash (exact), or
    /// URL, text or the item's `meta` (contains).
    pub search: Option<String>,
    /// Items to match besides (a receipt's decisions), with `search`.
    pub search_ids: Vec<Uuid>,
    /// Only items this reviewer reviewed.
    pub reviewer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub reviewer: String,
    pub until_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueEntry {
    pub record: DecisionRecord,
    /// Its place in the queue: the stored priority (severity, confidence,
    /// reports) plus a point per hour waited.
    pub priority: i64,
    /// A live claim (expired claims are not shown).
    pub claim: Option<Claim>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller holds the claim until then.
    Mine(Claim),
    /// Someone else holds a live claim.
    Held(Claim),
}

/// A reviewer decision as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewRecord {
    pub id: i64,
    pub decision_id: Uuid,
    pub reviewer: String,
    pub outcome: Outcome,
    pub category: Option<Category>,
    pub note: String,
    pub machine_verdict: Verdict,
    /// When the engine decided the item.
    pub decided_at_ms: i64,
    pub at_ms: i64,
}

/// A webhook delivery to create with a review.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDelivery {
    /// Also the Idempotency-Key.
    pub id: Uuid,
    pub webhook: String,
    pub event: String,
    pub subject: String,
    pub payload: String,
}

/// A term a reviewer proposes for the lexicon.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub term: String,
    pub category: Category,
    pub decision_id: Option<Uuid>,
    pub suggested_by: String,
    pub at_ms: i64,
}

/// Why a reviewer decision was not recorded (the console words it in the
/// reviewer's language; `Display` is the English).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("no such decision")]
    NoDecision,
    #[error("this item is escalated: an admin decides it")]
    Escalated,
    #[error("this item is already decided")]
    AlreadyDecided,
    #[error("{0} is working on this item")]
    ClaimedBy(String),
}

impl From<cleanweb_core::review::Refusal> for ReviewRefusal {
    fn from(r: cleanweb_core::review::Refusal) -> Self {
        match r {
            cleanweb_core::review::Refusal::Escalated => ReviewRefusal::Escalated,
            cleanweb_core::review::Refusal::AlreadyDecided => ReviewRefusal::AlreadyDecided,
        }
    }
}

/// A suggestion as stored, with where an admin's review of it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct SuggestionRecord {
    pub id: i64,
    pub suggestion: Suggestion,
    /// `pending`, `accepted` or `dismissed`.
    pub status: String,
    /// `block` or `review`, once accepted.
    pub severity: Option<String>,
    pub decided_by: Option<String>,
}

/// An admin's answer to a suggestion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuggestionOutcome {
    /// Into the store's lexicon, with this severity.
    Accept {
        block: bool,
    },
    Dismiss,
}

/// Everything one reviewer decision writes, in one transaction.
#[derive(Clone, Debug)]
pub struct NewReview {
    pub decision_id: Uuid,
    pub reviewer: String,
    /// Admins may decide escalated items and re-decide decided ones.
    pub is_admin: bool,
    pub outcome: Outcome,
    pub category: Option<Category>,
    pub note: String,
    pub deliveries: Vec<NewDelivery>,
    pub suggestion: Option<Suggestion>,
    /// The audit event (its details gain the review id).
    pub audit: AuditEvent,
    /// The public-report case behind the item, if any.
    pub case: Option<crate::CaseSettlement>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook: String,
    pub event: String,
    pub subject: String,
    pub payload: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: u32,
    pub next_at_ms: i64,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub done_at_ms: Option<i64>,
}

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryResult {
    Delivered,
    Retry { next_at_ms: i64, error: String },
    Dead { error: String },
}

/// A live console session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at_ms: i64,
}

#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Queue entries in the query's order.
    async fn queue(&self, q: &QueueQuery) -> Result<Vec<QueueEntry>>;
    /// (open, escalated) backlog sizes.
    async fn queue_counts(&self, block_sample_per_10k: u32) -> Result<(u64, u64)>;
    /// (day start, decisions, of them not `allow`) per UTC day since `since_ms`.
    async fn decisions_per_day(&self, since_ms: i64) -> Result<Vec<(i64, u64, u64)>>;
    /// How many items the query matches, all pages together.
    async fn queue_total(&self, q: &QueueQuery) -> Result<u64>;
    /// Claims an item for `ttl_ms` unless someone else holds a live claim;
    /// renewing one's own claim extends it.
    async fn claim(&self, decision: Uuid, reviewer: &str, ttl_ms: i64) -> Result<ClaimOutcome>;
    async fn release_claim(&self, decision: Uuid, reviewer: &str) -> Result<()>;
    /// Records a decision with its deliveries, suggestion and audit event,
    /// all or nothing. Refuses (inner `Err`) when the item is claimed by
    /// someone else, already decided, or escalated and the reviewer is not
    /// an admin.
    async fn record_review(&self, r: &NewReview) -> Result<Result<ReviewRecord, ReviewRefusal>>;
    /// The reviews of one decision, oldest first.
    async fn reviews_of(&self, decision: Uuid) -> Result<Vec<ReviewRecord>>;
    /// Reviews since a time, oldest first, at most `limit`.
    async fn reviews_since(&self, since_ms: i64, limit: u32) -> Result<Vec<ReviewRecord>>;
    /// (source, categories, verdict, count) of decisions since a time.
    async fn decision_volume(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, String, String, u64)>>;
    /// Other decisions about the same content, newest first.
    async fn decisions_by_content(&self, sha256: &str, limit: u32) -> Result<Vec<DecisionRecord>>;
    /// Whether any decision, review or report about this image (by the
    /// SHA-256 of its bytes) involves minors: then it is never shown,
    /// whichever decision a reviewer opened it from.
    async fn image_involves_minors(&self, image_sha256: &str) -> Result<bool>;

    /// Deliveries, newest first; `status` filters.
    async fn deliveries(&self, status: Option<&str>, limit: u32) -> Result<Vec<Delivery>>;
    async fn deliveries_for(&self, subject: &str) -> Result<Vec<Delivery>>;
    /// Pending deliveries whose time has come, oldest first.
    async fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<Delivery>>;
    /// Takes a due delivery for one attempt by moving its next time to
    /// `lease_until_ms`; false if another sender took it first.
    async fn lease_delivery(&self, d: &Delivery, lease_until_ms: i64) -> Result<bool>;
    /// Records an attempt's result (attempts + 1), if the lease taken with
    /// `lease_until_ms` is still the sender's; false if another sender took
    /// the delivery over meanwhile (its result is the one that counts).
    async fn finish_delivery(
        &self,
        id: Uuid,
        lease_until_ms: i64,
        result: &DeliveryResult,
    ) -> Result<bool>;
    /// Puts a dead delivery back in line; false if it is not dead.
    async fn retry_delivery(&self, id: Uuid) -> Result<bool>;

    async fn create_session(
        &self,
        token_hash: &str,
        user: &str,
        csrf: &str,
        expires_at_ms: i64,
    ) -> Result<()>;
    /// The live session with this token hash, its user enabled, created
    /// after `created_after_ms` (an absolute limit); extends it to
    /// `extend_to_ms` (sliding expiry).
    async fn session(
        &self,
        token_hash: &str,
        extend_to_ms: i64,
        created_after_ms: i64,
    ) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn set_user_prefs(
        &self,
        name: &str,
        locale: Option<&str>,
        show_media: bool,
    ) -> Result<()>;

    /// Suggestions, newest first.
    async fn lexicon_suggestions(&self, limit: u32) -> Result<Vec<SuggestionRecord>>;
    async fn suggestion(&self, id: i64) -> Result<Option<SuggestionRecord>>;
    /// Settles a pending suggestion and appends `audit`, in one
    /// transaction; `None` (nothing written) if it is not pending.
    async fn decide_suggestion(
        &self,
        id: i64,
        outcome: SuggestionOutcome,
        admin: &str,
        audit: &AuditEvent,
    ) -> Result<Option<SuggestionRecord>>;
    /// The accepted terms, oldest first: (term, category, block?).
    async fn accepted_terms(&self) -> Result<Vec<(String, Category, bool)>>;
}

/// The claim another reviewer holds, if live.
pub(crate) fn live_claim(reviewer: Option<String>, until: Option<i64>, now: i64) -> Option<Claim> {
    match (reviewer, until) {
        (Some(reviewer), Some(until_ms)) if until_ms > now => Some(Claim { reviewer, until_ms }),
        _ => None,
    }
}

/// The queue's WHERE clause, shared by the page and its total.
pub(crate) fn push_queue_filter<'a, DB>(
    b: &mut sqlx::QueryBuilder<'a, DB>,
    q: &'a QueueQuery,
    now: i64,
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match q.queue {
        Queue::Open => {
            b.push("d.review_state IS NULL AND (d.verdict = 'review' OR d.source = 'report' OR (d.verdict = 'block' AND d.qc_bucket < ")
                .push_bind(i64::from(q.block_sample_per_10k))
                .push("))");
        }
        Queue::Escalated => {
            b.push("d.review_state = 'escalated'");
        }
        Queue::Decided => {
            b.push("d.review_state IN ('violation', 'not_violation')");
        }
    }
    if let Some(r) = &q.reviewer {
        b.push(" AND EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.id AND r.reviewer = ")
            .push_bind(r.clone())
            .push(")");
    }
    if let Some(c) = q.category {
        b.push(" AND (' ' || d.categories || ' ') LIKE ")
            .push_bind(format!("% {} %", c.as_str()));
    }
    if let Some(s) = q.source {
        b.push(" AND d.source = ").push_bind(s.as_str());
    }
    if let Some(a) = q.min_age_ms {
        b.push(" AND d.created_at <= ").push_bind(now - a);
    }
    if let Some(a) = q.max_age_ms {
        b.push(" AND d.created_at >= ").push_bind(now - a);
    }
    if let Some(term) = q.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = crate::evidence::like_contains(term);
        b.push(" AND (d.id = ").push_bind(term.to_owned());
        b.push(" OR d.client_id = ").push_bind(term.to_owned());
        b.push(" OR d.content_sha256 = ")
            .push_bind(term.to_ascii_lowercase());
        b.push(" OR d.image_sha256 = ")
            .push_bind(term.to_ascii_lowercase());
        b.push(" OR d.url LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\'");
        b.push(" OR d.text LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\'");
        // The platform's own fields (user, board): everything from one user.
        b.push(" OR d.meta LIKE ")
            .push_bind(like)
            .push(" ESCAPE '\\'");
        for id in &q.search_ids {
            b.push(" OR d.id = ").push_bind(id.to_string());
        }
        b.push(")");
    }
}

macro_rules! review_impl {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::review::ReviewStore for $ty {
            async fn queue(&self, q: &QueueQuery) -> Result<Vec<QueueEntry>> {
                let now = now_ms();
                let mut b = QueryBuilder::new(
                    "SELECT d.*, c.reviewer AS claim_reviewer, c.until_ms AS claim_until \
                     FROM decisions d LEFT JOIN review_claims c ON c.decision_id = d.id WHERE ",
                );
                $crate::review::push_queue_filter(&mut b, q, now);
                let aging = cleanweb_core::review::AGING_MS;
                match q.sort {
                    QueueSort::Priority => b
                        .push(" ORDER BY d.priority + (")
                        .push_bind(now)
                        .push(" - d.created_at) / ")
                        .push_bind(aging)
                        .push(" * (CASE WHEN d.source = 'report' THEN ")
                        .push_bind(cleanweb_core::review::REPORT_AGING)
                        .push(" ELSE 1 END) DESC, d.created_at ASC, d.id ASC"),
                    QueueSort::Oldest => b.push(" ORDER BY d.created_at ASC, d.id ASC"),
                    QueueSort::Newest => b.push(" ORDER BY d.created_at DESC, d.id DESC"),
                };
                b.push(" LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
                b.push(" OFFSET ").push_bind(i64::from(q.offset));
                let rows = b.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let record = decision_from_row(r)?;
                        let stored: i64 = r.col("priority")?;
                        Ok(QueueEntry {
                            priority: stored
                                + (now - record.created_at_ms).max(0) / aging
                                    * if record.source == cleanweb_core::Source::Report {
                                        cleanweb_core::review::REPORT_AGING
                                    } else {
                                        1
                                    },
                            record,
                            claim: $crate::review::live_claim(
                                r.col("claim_reviewer")?,
                                r.col("claim_until")?,
                                now,
                            ),
                        })
                    })
                    .collect()
            }

            async fn decisions_per_day(&self, since_ms: i64) -> Result<Vec<(i64, u64, u64)>> {
                let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
                    "SELECT created_at / 86400000 AS day, COUNT(*), \
                     CAST(COALESCE(SUM(CASE WHEN verdict <> 'allow' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                     FROM decisions WHERE created_at >= $1 GROUP BY created_at / 86400000 ORDER BY 1",
                )
                .bind(since_ms)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(d, n, f)| (d * 86_400_000, n.max(0) as u64, f.max(0) as u64))
                    .collect())
            }

            async fn queue_total(&self, q: &QueueQuery) -> Result<u64> {
                let mut b = QueryBuilder::new("SELECT COUNT(*) FROM decisions d WHERE ");
                $crate::review::push_queue_filter(&mut b, q, now_ms());
                let (n,): (i64,) = b.build_query_as().fetch_one(&self.pool).await?;
                Ok(n.max(0) as u64)
            }

            async fn queue_counts(&self, sample: u32) -> Result<(u64, u64)> {
                let (open, escalated): (i64, i64) = sqlx::query_as(
                    "SELECT \
                     COALESCE(SUM(CASE WHEN review_state IS NULL AND (verdict = 'review' OR source = 'report' OR (verdict = 'block' AND qc_bucket < $1)) THEN 1 ELSE 0 END), 0), \
                     COALESCE(SUM(CASE WHEN review_state = 'escalated' THEN 1 ELSE 0 END), 0) \
                     FROM decisions WHERE verdict <> 'allow' OR source = 'report'",
                )
                .bind(i64::from(sample))
                .fetch_one(&self.pool)
                .await?;
                Ok((open.max(0) as u64, escalated.max(0) as u64))
            }

            async fn claim(&self, decision: Uuid, reviewer: &str, ttl_ms: i64) -> Result<ClaimOutcome> {
                let now = now_ms();
                let id = decision.to_string();
                // One statement: insert, or take over a claim that is ours or expired.
                sqlx::query(
                    "INSERT INTO review_claims (decision_id, reviewer, until_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (decision_id) DO UPDATE SET reviewer = $2, until_ms = $3 \
                     WHERE review_claims.reviewer = $2 OR review_claims.until_ms <= $4",
                )
                .bind(&id)
                .bind(reviewer)
                .bind(now + ttl_ms)
                .bind(now)
                .execute(&self.pool)
                .await?;
                let (who, until): (String, i64) = sqlx::query_as(
                    "SELECT reviewer, until_ms FROM review_claims WHERE decision_id = $1",
                )
                .bind(&id)
                .fetch_one(&self.pool)
                .await?;
                let claim = $crate::review::Claim { reviewer: who, until_ms: until };
                Ok(if claim.reviewer == reviewer {
                    ClaimOutcome::Mine(claim)
                } else {
                    ClaimOutcome::Held(claim)
                })
            }

            async fn release_claim(&self, decision: Uuid, reviewer: &str) -> Result<()> {
                sqlx::query("DELETE FROM review_claims WHERE decision_id = $1 AND reviewer = $2")
                    .bind(decision.to_string())
                    .bind(reviewer)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn record_review(
                &self,
                r: &NewReview,
            ) -> Result<Result<ReviewRecord, ReviewRefusal>> {
                let now = now_ms();
                let id = r.decision_id.to_string();
                let mut tx = self.begin_audited().await?;
                let row = sqlx::query(
                    "SELECT d.verdict, d.created_at, d.review_state, c.reviewer, c.until_ms \
                     FROM decisions d LEFT JOIN review_claims c ON c.decision_id = d.id WHERE d.id = $1",
                )
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(Err(ReviewRefusal::NoDecision));
                };
                let verdict: String = row.col("verdict")?;
                let machine_verdict = Verdict::from_str(&verdict).map_err(|e| corrupt("decisions", e))?;
                let decided_at_ms: i64 = row.col("created_at")?;
                let state: Option<String> = row.col("review_state")?;
                let current = state
                    .as_deref()
                    .map(cleanweb_core::review::ReviewState::from_str)
                    .transpose()
                    .map_err(|e| corrupt("decisions", e))?;
                let t = match cleanweb_core::review::apply(current, r.outcome, r.is_admin) {
                    Ok(t) => t,
                    Err(refusal) => return Ok(Err(refusal.into())),
                };
                if let Some(c) = $crate::review::live_claim(row.col("reviewer")?, row.col("until_ms")?, now)
                    && c.reviewer != r.reviewer
                {
                    return Ok(Err(ReviewRefusal::ClaimedBy(c.reviewer)));
                }
                let rid: i64 = sqlx::query_scalar(
                    "INSERT INTO reviews (decision_id, reviewer, outcome, category, note, machine_verdict, decided_at, at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&id)
                .bind(&r.reviewer)
                .bind(r.outcome.as_str())
                .bind(r.category.map(|c| c.as_str()))
                .bind(&r.note)
                .bind(machine_verdict.as_str())
                .bind(decided_at_ms)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("UPDATE decisions SET review_state = $1 WHERE id = $2")
                    .bind(t.state.as_str())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM review_claims WHERE decision_id = $1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                for d in r.deliveries.iter().filter(|_| t.act) {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries (id, webhook, event, subject, payload, status, attempts, next_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                    )
                    .bind(d.id.to_string())
                    .bind(&d.webhook)
                    .bind(&d.event)
                    .bind(&d.subject)
                    .bind(&d.payload)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(s) = &r.suggestion {
                    sqlx::query(
                        "INSERT INTO lexicon_suggestions (term, category, decision_id, suggested_by, at_ms) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.term)
                    .bind(s.category.as_str())
                    .bind(s.decision_id.map(|u| u.to_string()))
                    .bind(&s.suggested_by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(c) = &r.case {
                    sqlx::query("UPDATE cases SET status = $1, updated_at = $2 WHERE id = $3")
                        .bind(t.case.as_str())
                        .bind(now)
                        .bind(c.case_id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    if t.void_rewards {
                        sqlx::query("UPDATE rewards SET status = 'void' WHERE case_id = $1 AND status = 'owed'")
                            .bind(c.case_id.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    if let Some(w) = &c.reward {
                        // Caps are read under the review lock, so concurrent
                        // confirmations cannot both fit under one cap.
                        let (mine, all): (i64, i64) = sqlx::query_as($crate::reports::REWARD_TOTALS)
                        .bind(w.reporter_id.as_deref())
                        .bind(w.caps.since_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                        let (amount, capped) = cleanweb_core::rewards::apply_caps(w.amount, &w.caps, mine, all);
                        // One entry per case, ever: a re-decision cannot pay twice.
                        sqlx::query(
                            "INSERT INTO rewards (case_id, report_id, reporter_id, category, amount, currency, capped, status, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 'owed', $8) ON CONFLICT (case_id) DO NOTHING",
                        )
                        .bind(c.case_id.to_string())
                        .bind(w.report_id.to_string())
                        .bind(w.reporter_id.as_deref())
                        .bind(&w.category)
                        .bind(amount)
                        .bind(&w.currency)
                        .bind(i64::from(capped))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                let mut event = r.audit.clone();
                if let serde_json::Value::Object(m) = &mut event.details {
                    m.insert("review_id".into(), rid.into());
                }
                Self::append_audit_in(&mut tx, &event).await?;
                tx.commit().await?;
                Ok(Ok(ReviewRecord {
                    id: rid,
                    decision_id: r.decision_id,
                    reviewer: r.reviewer.clone(),
                    outcome: r.outcome,
                    category: r.category,
                    note: r.note.clone(),
                    machine_verdict,
                    decided_at_ms,
                    at_ms: now,
                }))
            }

            async fn reviews_of(&self, decision: Uuid) -> Result<Vec<ReviewRecord>> {
                let rows = sqlx::query("SELECT * FROM reviews WHERE decision_id = $1 ORDER BY id")
                    .bind(decision.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(review_from_row).collect()
            }

            async fn reviews_since(&self, since_ms: i64, limit: u32) -> Result<Vec<ReviewRecord>> {
                let rows = sqlx::query("SELECT * FROM reviews WHERE at_ms >= $1 ORDER BY id LIMIT $2")
                    .bind(since_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(review_from_row).collect()
            }

            async fn decision_volume(&self, since_ms: i64, until_ms: i64) -> Result<Vec<(String, String, String, u64)>> {
                let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT source, categories, verdict, COUNT(*) FROM decisions WHERE created_at >= $1 AND created_at < $2 \
                     GROUP BY source, categories, verdict",
                )
                .bind(since_ms)
                .bind(until_ms)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(s, c, v, n)| (s, c, v, n.max(0) as u64)).collect())
            }

            async fn decisions_by_content(&self, sha256: &str, limit: u32) -> Result<Vec<DecisionRecord>> {
                let rows = sqlx::query("SELECT * FROM decisions WHERE content_sha256 = $1 ORDER BY id DESC LIMIT $2")
                    .bind(sha256)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(decision_from_row).collect()
            }

            async fn image_involves_minors(&self, image_sha256: &str) -> Result<bool> {
                let row = sqlx::query(
                    "SELECT 1 FROM decisions d WHERE d.image_sha256 = $1 AND ( \
                        (' ' || d.categories || ' ') LIKE '% sexual.minors %' \
                        OR EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.id AND r.category = 'sexual.minors') \
                        OR EXISTS (SELECT 1 FROM cases c WHERE c.decision_id = d.id AND c.category = 'sexual.minors')) \
                     UNION ALL SELECT 1 FROM cases WHERE target = 'sha256:' || $1 AND category = 'sexual.minors' \
                     LIMIT 1",
                )
                .bind(image_sha256)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.is_some())
            }

            async fn deliveries(&self, status: Option<&str>, limit: u32) -> Result<Vec<Delivery>> {
                let rows = sqlx::query(
                    "SELECT * FROM webhook_deliveries WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(status)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn deliveries_for(&self, subject: &str) -> Result<Vec<Delivery>> {
                let rows = sqlx::query("SELECT * FROM webhook_deliveries WHERE subject = $1 ORDER BY created_at, id")
                    .bind(subject)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<Delivery>> {
                let rows = sqlx::query(
                    "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn lease_delivery(&self, d: &Delivery, lease_until_ms: i64) -> Result<bool> {
                // Optimistic: only the sender that saw this next_at moves it.
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET next_at = $1 WHERE id = $2 AND status = 'pending' AND next_at = $3",
                )
                .bind(lease_until_ms)
                .bind(d.id.to_string())
                .bind(d.next_at_ms)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_delivery(
                &self,
                id: Uuid,
                lease_until_ms: i64,
                result: &DeliveryResult,
            ) -> Result<bool> {
                let now = now_ms();
                let (status, next_at, error, done_at) = match result {
                    DeliveryResult::Delivered => ("delivered", now, None, Some(now)),
                    DeliveryResult::Retry { next_at_ms, error } => ("pending", *next_at_ms, Some(error.as_str()), None),
                    DeliveryResult::Dead { error } => ("dead", now, Some(error.as_str()), Some(now)),
                };
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, next_at = $2, last_error = $3, done_at = $4, \
                     attempts = attempts + 1 WHERE id = $5 AND status = 'pending' AND next_at = $6",
                )
                .bind(status)
                .bind(next_at)
                .bind(error)
                .bind(done_at)
                .bind(id.to_string())
                .bind(lease_until_ms)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn retry_delivery(&self, id: Uuid) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = $1, done_at = NULL \
                     WHERE id = $2 AND status = 'dead'",
                )
                .bind(now_ms())
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_session(&self, token_hash: &str, user: &str, csrf: &str, expires_at_ms: i64) -> Result<()> {
                let now = now_ms();
                // Expired sessions go whenever a new one comes.
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token_hash)
                .bind(user)
                .bind(csrf)
                .bind(now)
                .bind(expires_at_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
                extend_to_ms: i64,
                created_after_ms: i64,
            ) -> Result<Option<Session>> {
                let row = sqlx::query(
                    "SELECT s.csrf, s.expires_at, u.* FROM sessions s JOIN users u ON u.name = s.user_name \
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.created_at > $3 AND u.disabled_at IS NULL",
                )
                .bind(token_hash)
                .bind(now_ms())
                .bind(created_after_ms)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
                    .bind(extend_to_ms)
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(Some(Session {
                    user: user_from_row(&row)?,
                    csrf: row.col("csrf")?,
                    expires_at_ms: extend_to_ms,
                }))
            }

            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_user_prefs(&self, name: &str, locale: Option<&str>, show_media: bool) -> Result<()> {
                sqlx::query("UPDATE users SET locale = $1, show_media = $2 WHERE name = $3")
                    .bind(locale)
                    .bind(i64::from(show_media))
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn lexicon_suggestions(&self, limit: u32) -> Result<Vec<SuggestionRecord>> {
                let rows = sqlx::query("SELECT * FROM lexicon_suggestions ORDER BY id DESC LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(suggestion_from_row).collect()
            }

            async fn decide_suggestion(
                &self,
                id: i64,
                outcome: SuggestionOutcome,
                admin: &str,
                audit: &AuditEvent,
            ) -> Result<Option<SuggestionRecord>> {
                let (status, severity) = match outcome {
                    SuggestionOutcome::Accept { block: true } => ("accepted", Some("block")),
                    SuggestionOutcome::Accept { block: false } => ("accepted", Some("review")),
                    SuggestionOutcome::Dismiss => ("dismissed", None),
                };
                let mut tx = self.begin_audited().await?;
                let done = sqlx::query(
                    "UPDATE lexicon_suggestions SET status = $1, severity = $2, decided_by = $3, decided_at = $4 \
                     WHERE id = $5 AND status = 'pending'",
                )
                .bind(status)
                .bind(severity)
                .bind(admin)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let changed = done.rows_affected() == 1;
                let row = if changed {
                    let row = sqlx::query("SELECT * FROM lexicon_suggestions WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                    Some(suggestion_from_row(&row)?)
                } else {
                    None
                };
                Self::commit_audited(tx, changed, audit).await?;
                Ok(row)
            }

            async fn suggestion(&self, id: i64) -> Result<Option<SuggestionRecord>> {
                let row = sqlx::query("SELECT * FROM lexicon_suggestions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(suggestion_from_row).transpose()
            }

            async fn accepted_terms(&self) -> Result<Vec<(String, Category, bool)>> {
                let rows = sqlx::query(
                    "SELECT * FROM lexicon_suggestions WHERE status = 'accepted' ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let s = suggestion_from_row(r)?;
                        Ok((
                            s.suggestion.term,
                            s.suggestion.category,
                            s.severity.as_deref() == Some("block"),
                        ))
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use review_impl;
