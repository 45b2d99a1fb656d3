//! What the reporting centre persists: reports (contacts sealed), cases
//! (one per target, merging reports), their triage decisions, and the
//! reward ledger. Shared SQL for both backends, like `review`.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{DecisionRecord, Result};

/// One target of a new report.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTarget {
    /// The merge key: `url:<canonical>` or `sha256:<hex>`.
    pub target: String,
    /// `url`, `image` or `text`.
    pub kind: String,
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewReport {
    pub id: Uuid,
    pub receipt_hash: String,
    pub category: String,
    pub description: String,
    /// nonce ‖ ciphertext of the contact, sealed by the caller.
    pub contact: Option<Vec<u8>>,
    pub reporter_id: Option<String>,
    pub targets: Vec<NewTarget>,
}

/// A case a report joined or opened.
#[derive(Clone, Debug, PartialEq)]
pub struct Filed {
    pub case_id: Uuid,
    pub target: String,
    /// This report opened the case, or reopened one found `not_confirmed`
    /// (so it needs triage).
    pub new: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: Uuid,
    pub target: String,
    pub kind: String,
    pub url: Option<String>,
    pub category: String,
    pub status: cleanweb_core::review::CaseStatus,
    pub report_count: u64,
    pub first_report: Uuid,
    pub decision_id: Option<Uuid>,
    pub triage_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportRecord {
    pub id: Uuid,
    pub category: String,
    pub description: String,
    /// Sealed; only an audited disclosure opens it.
    pub contact: Option<Vec<u8>>,
    pub reporter_id: Option<String>,
    pub created_at_ms: i64,
}

/// A reward to grant when a case is confirmed.
#[derive(Clone, Debug, PartialEq)]
pub struct NewReward {
    pub report_id: Uuid,
    pub reporter_id: Option<String>,
    pub category: String,
    /// The rule's amount; the store cuts it to the caps.
    pub amount: i64,
    pub currency: String,
    pub caps: cleanweb_core::rewards::RewardCaps,
}

/// What a reviewer's decision does to the case behind the item.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseSettlement {
    pub case_id: Uuid,
    /// A reward to grant if the decision confirms the case. The case's new
    /// status comes from the decision's transition (`core::review::apply`).
    pub reward: Option<NewReward>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reward {
    pub id: i64,
    pub case_id: Uuid,
    pub report_id: Uuid,
    pub reporter_id: Option<String>,
    pub category: String,
    pub amount: i64,
    pub currency: String,
    pub capped: bool,
    pub status: String,
    pub created_at_ms: i64,
    pub paid_at_ms: Option<i64>,
    pub paid_by: Option<String>,
}

/// (this reporter's, everyone's) rewards since a time, lapsed ones left
/// out: `$1` the reporter pseudonym, `$2` the start in Unix milliseconds.
pub(crate) const REWARD_TOTALS: &str = "SELECT \
     CAST(COALESCE(SUM(CASE WHEN reporter_id = $1 THEN amount ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM rewards WHERE created_at >= $2 AND status <> 'void'";

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores a report and joins or opens a case per target, in one
    /// transaction. A joined case's decision rises in the queue.
    async fn file_report(&self, r: &NewReport) -> Result<Vec<Filed>>;
    /// Keeps reported content (an uploaded image, or text) as an evidence
    /// blob under its SHA-256, which is also its case's merge key, so a
    /// triage interrupted by a restart can still read it. Returns the hash.
    async fn keep_report_content(&self, bytes: &[u8]) -> Result<String>;
    /// Records a case's triage: its decision (stored now), or why there is
    /// none; the case is then in review. `false` (and nothing stored) when
    /// the case has a decision already: another node, or a triage resumed
    /// after a restart, got there first.
    async fn set_case_triage(
        &self,
        case: Uuid,
        decision: Option<&DecisionRecord>,
        error: Option<&str>,
    ) -> Result<bool>;
    /// Cases still waiting for their triage (received, no decision), oldest
    /// first: what a restart must triage again.
    async fn untriaged_cases(&self) -> Result<Vec<Case>>;
    async fn case(&self, id: Uuid) -> Result<Option<Case>>;
    async fn case_by_decision(&self, decision: Uuid) -> Result<Option<Case>>;
    /// The cases of the report with this receipt hash (`None`: no report).
    async fn cases_for_receipt(&self, receipt_hash: &str) -> Result<Option<Vec<Case>>>;
    /// A case's reports, first first.
    async fn case_reports(&self, case: Uuid) -> Result<Vec<ReportRecord>>;
    async fn report(&self, id: Uuid) -> Result<Option<ReportRecord>>;
    /// Rewards, oldest first; `status` filters (`owed`, `paid`).
    async fn rewards(&self, status: Option<&str>) -> Result<Vec<Reward>>;
    /// (this reporter's, everyone's) granted amounts since a time (lapsed
    /// rewards do not count).
    async fn reward_totals(&self, reporter_id: Option<&str>, since_ms: i64) -> Result<(i64, i64)>;
    /// Marks an owed reward paid; false if it is not owed.
    async fn mark_reward_paid(&self, id: i64, by: &str) -> Result<bool>;
    /// (reports received, cases opened, cases confirmed) in `[since, until)`;
    /// a case counts as confirmed in the period its last change fell in.
    async fn report_counts(&self, since_ms: i64, until_ms: i64) -> Result<(u64, u64, u64)>;
}

macro_rules! reports_impl {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::reports::ReportStore for $ty {
            async fn file_report(&self, r: &NewReport) -> Result<Vec<Filed>> {
                let now = now_ms();
                let id = r.id.to_string();
                // The review lock: filing and deciding touch cases and
                // decisions in opposite orders, so on PostgreSQL they must
                // not interleave (a deadlock); on SQLite this is the write lock.
                let mut tx = self.begin_audited().await?;
                let mut targets: Vec<&$crate::reports::NewTarget> = r.targets.iter().collect();
                targets.sort_by(|a, b| a.target.cmp(&b.target));
                sqlx::query(
                    "INSERT INTO reports (id, receipt_hash, category, description, contact, reporter_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(&r.receipt_hash)
                .bind(&r.category)
                .bind(&r.description)
                .bind(r.contact.as_deref())
                .bind(r.reporter_id.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let mut filed = Vec::new();
                for t in targets {
                    let case_id = Uuid::now_v7();
                    let opened = sqlx::query(
                        "INSERT INTO cases (id, target, kind, url, category, status, report_count, first_report, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, 'received', 0, $6, $7, $7) ON CONFLICT (target) DO NOTHING",
                    )
                    .bind(case_id.to_string())
                    .bind(&t.target)
                    .bind(&t.kind)
                    .bind(t.url.as_deref())
                    .bind(&r.category)
                    .bind(&id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    let (existing, status): (String, String) =
                        sqlx::query_as("SELECT id, status FROM cases WHERE target = $1")
                            .bind(&t.target)
                            .fetch_one(&mut *tx)
                            .await?;
                    // A page found fine before may have changed: a new report
                    // reopens it for a fresh triage and review.
                    let reopened = !opened
                        && cleanweb_core::review::CaseStatus::from_str(&status)
                            .map_err(|e| $crate::rows::corrupt("cases", e))?
                            .reopens();
                    if reopened {
                        sqlx::query(
                            "UPDATE cases SET status = 'received', decision_id = NULL, triage_error = NULL, updated_at = $1 WHERE id = $2",
                        )
                        .bind(now)
                        .bind(&existing)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let joined = sqlx::query(
                        "INSERT INTO case_reports (case_id, report_id, at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(&existing)
                    .bind(&id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if joined == 1 {
                        sqlx::query("UPDATE cases SET report_count = report_count + 1, updated_at = $1 WHERE id = $2")
                            .bind(now)
                            .bind(&existing)
                            .execute(&mut *tx)
                            .await?;
                        if !opened {
                            // More reports, more urgency (bounded: ten reports at most count).
                            sqlx::query(
                                "UPDATE decisions SET priority = priority + 2 WHERE id = \
                                 (SELECT decision_id FROM cases WHERE id = $1 AND report_count <= 11)",
                            )
                            .bind(&existing)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    // A report that the content involves minors outranks what
                    // earlier reports said: the case takes its category (so
                    // every withholding check sees it) and its decision goes
                    // to escalation, unless it was already found a violation.
                    let minors = r
                        .category
                        .parse::<cleanweb_core::Category>()
                        .is_ok_and(|c| cleanweb_core::review::names_minors([c]));
                    if minors && !opened {
                        sqlx::query("UPDATE cases SET category = $1, updated_at = $2 WHERE id = $3")
                            .bind(&r.category)
                            .bind(now)
                            .bind(&existing)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "UPDATE decisions SET review_state = 'escalated' WHERE id = \
                             (SELECT decision_id FROM cases WHERE id = $1) \
                             AND (review_state IS NULL OR review_state <> 'violation')",
                        )
                        .bind(&existing)
                        .execute(&mut *tx)
                        .await?;
                    }
                    filed.push(Filed {
                        case_id: Uuid::parse_str(&existing).map_err(|e| corrupt("cases", e))?,
                        target: t.target.clone(),
                        new: opened || reopened,
                    });
                }
                tx.commit().await?;
                Ok(filed)
            }

            async fn keep_report_content(&self, bytes: &[u8]) -> Result<String> {
                let sha = $crate::sha256_hex(bytes);
                sqlx::query(
                    "INSERT INTO blobs (sha256, bytes, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(&sha)
                .bind(bytes)
                .bind(now_ms())
                .execute(&self.pool)
                .await?;
                Ok(sha)
            }

            async fn set_case_triage(
                &self,
                case: Uuid,
                decision: Option<&DecisionRecord>,
                error: Option<&str>,
            ) -> Result<bool> {
                let mut tx = self.begin_tx().await?;
                // The case first: only a case without a decision takes one,
                // so two triages of one case (two nodes resuming after a
                // restart) store one decision, not two in the queue.
                let taken = sqlx::query(
                    "UPDATE cases SET decision_id = $1, triage_error = $2, \
                     status = CASE WHEN status = 'received' THEN 'in_review' ELSE status END, updated_at = $3 \
                     WHERE id = $4 AND decision_id IS NULL",
                )
                .bind(decision.map(|d| d.id.to_string()))
                .bind(error)
                .bind(now_ms())
                .bind(case.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !taken {
                    tx.rollback().await?;
                    return Ok(false);
                }
                if let Some(d) = decision {
                    Self::insert_decision(&mut tx, d).await?;
                    // Reports that arrived before triage finished count too.
                    sqlx::query(
                        "UPDATE decisions SET priority = priority + 2 * \
                         (SELECT CASE WHEN report_count > 11 THEN 10 ELSE report_count - 1 END \
                          FROM cases WHERE id = $1) WHERE id = $2",
                    )
                    .bind(case.to_string())
                    .bind(d.id.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn untriaged_cases(&self) -> Result<Vec<Case>> {
                let rows = sqlx::query(
                    "SELECT * FROM cases WHERE status = 'received' AND decision_id IS NULL \
                     ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(case_from_row).collect()
            }

            async fn case(&self, id: Uuid) -> Result<Option<Case>> {
                let row = sqlx::query("SELECT * FROM cases WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(case_from_row).transpose()
            }

            async fn case_by_decision(&self, decision: Uuid) -> Result<Option<Case>> {
                let row = sqlx::query("SELECT * FROM cases WHERE decision_id = $1")
                    .bind(decision.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(case_from_row).transpose()
            }

            async fn cases_for_receipt(&self, receipt_hash: &str) -> Result<Option<Vec<Case>>> {
                let report: Option<(String,)> = sqlx::query_as("SELECT id FROM reports WHERE receipt_hash = $1")
                    .bind(receipt_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some((report,)) = report else { return Ok(None) };
                let rows = sqlx::query(
                    "SELECT c.* FROM cases c JOIN case_reports cr ON cr.case_id = c.id \
                     WHERE cr.report_id = $1 ORDER BY c.id",
                )
                .bind(report)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(case_from_row).collect::<Result<Vec<_>>>().map(Some)
            }

            async fn case_reports(&self, case: Uuid) -> Result<Vec<ReportRecord>> {
                let rows = sqlx::query(
                    "SELECT r.* FROM reports r JOIN case_reports cr ON cr.report_id = r.id \
                     WHERE cr.case_id = $1 ORDER BY cr.at_ms, r.id",
                )
                .bind(case.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(report_from_row).collect()
            }

            async fn report(&self, id: Uuid) -> Result<Option<ReportRecord>> {
                let row = sqlx::query("SELECT * FROM reports WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(report_from_row).transpose()
            }

            async fn rewards(&self, status: Option<&str>) -> Result<Vec<Reward>> {
                let rows = sqlx::query(
                    "SELECT * FROM rewards WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) ORDER BY id",
                )
                .bind(status)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(reward_from_row).collect()
            }

            async fn reward_totals(&self, reporter_id: Option<&str>, since_ms: i64) -> Result<(i64, i64)> {
                let (mine, all): (i64, i64) = sqlx::query_as($crate::reports::REWARD_TOTALS)
                .bind(reporter_id)
                .bind(since_ms)
                .fetch_one(&self.pool)
                .await?;
                Ok((mine, all))
            }

            async fn report_counts(&self, since_ms: i64, until_ms: i64) -> Result<(u64, u64, u64)> {
                let (received, opened, confirmed): (i64, i64, i64) = sqlx::query_as(
                    "SELECT \
                     (SELECT COUNT(*) FROM reports WHERE created_at >= $1 AND created_at < $2), \
                     (SELECT COUNT(*) FROM cases WHERE created_at >= $1 AND created_at < $2), \
                     (SELECT COUNT(*) FROM cases WHERE status = 'confirmed' AND updated_at >= $1 AND updated_at < $2)",
                )
                .bind(since_ms)
                .bind(until_ms)
                .fetch_one(&self.pool)
                .await?;
                let n = |v: i64| v.max(0) as u64;
                Ok((n(received), n(opened), n(confirmed)))
            }

            async fn mark_reward_paid(&self, id: i64, by: &str) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE rewards SET status = 'paid', paid_at = $1, paid_by = $2 WHERE id = $3 AND status = 'owed'",
                )
                .bind(now_ms())
                .bind(by)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use reports_impl;
