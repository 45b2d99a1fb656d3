//! Reading rows the same way from SQLite and PostgreSQL: one typed column
//! accessor for both row types, and the row → record mappers on top of it.

use std::str::FromStr;

use cleanweb_core::auth::Role;
use cleanweb_core::review::ReviewState;
use cleanweb_core::{
    Action, AuditEvent, AuditRecord, Bank, Category, Decision, Signal, SiteEvent, SiteStatus,
    Source, Verdict,
};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::{ApiKey, DecisionRecord, Result, StoreError, Sweep, User};

/// A column value either backend can read.
pub(crate) trait FromCol: Sized {
    fn sqlite(row: &SqliteRow, col: &str) -> Result<Self>;
    fn pg(row: &PgRow, col: &str) -> Result<Self>;
}

macro_rules! from_col {
    ($($t:ty),*) => {$(
        impl FromCol for $t {
            fn sqlite(row: &SqliteRow, col: &str) -> Result<Self> {
                Ok(row.try_get(col)?)
            }
            fn pg(row: &PgRow, col: &str) -> Result<Self> {
                Ok(row.try_get(col)?)
            }
        }
    )*};
}
from_col!(String, Option<String>, i64, Option<i64>, Option<Vec<u8>>);

/// `row.col::<T>("name")` on either backend's rows.
pub(crate) trait Get {
    fn col<T: FromCol>(&self, col: &str) -> Result<T>;
}

impl Get for SqliteRow {
    fn col<T: FromCol>(&self, col: &str) -> Result<T> {
        T::sqlite(self, col)
    }
}

impl Get for PgRow {
    fn col<T: FromCol>(&self, col: &str) -> Result<T> {
        T::pg(self, col)
    }
}

pub(crate) fn corrupt(table: &'static str, message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.to_string(),
    }
}

pub(crate) fn decision_from_row(row: &impl Get) -> Result<DecisionRecord> {
    let c = |m: &dyn std::fmt::Display| corrupt("decisions", m);
    let id: String = row.col("id")?;
    let id = Uuid::parse_str(&id).map_err(|e| c(&e))?;
    let source: String = row.col("source")?;
    let verdict: String = row.col("verdict")?;
    let labels: String = row.col("labels")?;
    let warnings: String = row.col("warnings")?;
    let meta: Option<String> = row.col("meta")?;
    let elapsed: i64 = row.col("elapsed_us")?;
    let decision = Decision {
        id: row.col("client_id")?,
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
        created_at_ms: row.col("created_at")?,
        source: Source::from_str(&source).map_err(|e| c(&e))?,
        decision,
        content_sha256: row.col("content_sha256")?,
        text: row.col("text")?,
        html: row.col("html")?,
        url: row.col("url")?,
        image_sha256: row.col("image_sha256")?,
        image: None,
        review_state: row
            .col::<Option<String>>("review_state")?
            .map(|s| ReviewState::from_str(&s).map_err(|e| c(&e)))
            .transpose()?,
    })
}

pub(crate) fn key_from_row(row: &impl Get) -> Result<ApiKey> {
    let id: String = row.col("id")?;
    let role: String = row.col("role")?;
    Ok(ApiKey {
        id: Uuid::parse_str(&id).map_err(|e| corrupt("api_keys", e))?,
        name: row.col("name")?,
        role: Role::from_str(&role).map_err(|e| corrupt("api_keys", e))?,
        created_at_ms: row.col("created_at")?,
        revoked_at_ms: row.col("revoked_at")?,
    })
}

pub(crate) fn site_event_from_row(row: &impl Get) -> Result<SiteEvent> {
    let status: String = row.col("status")?;
    let evidence: String = row.col("evidence")?;
    Ok(SiteEvent {
        domain: row.col("domain")?,
        status: SiteStatus::from_str(&status).map_err(|e| corrupt("site_events", e))?,
        actor: row.col("actor")?,
        reason: row.col("reason")?,
        evidence: serde_json::from_str(&evidence).map_err(|e| corrupt("site_events", e))?,
        deadline_ms: row.col("deadline_ms")?,
        at_ms: row.col("at_ms")?,
        kind: {
            let k: String = row.col("kind")?;
            cleanweb_core::SiteEventKind::from_str(&k).map_err(|e| corrupt("site_events", e))?
        },
        proposal: row
            .col::<Option<String>>("proposal")?
            .map(|p| SiteStatus::from_str(&p).map_err(|e| corrupt("site_events", e)))
            .transpose()?,
    })
}

pub(crate) fn bank_from_row(row: &impl Get) -> Result<Bank> {
    let signal: String = row.col("signal")?;
    let category: String = row.col("category")?;
    let threshold: i64 = row.col("threshold")?;
    let dihedral: i64 = row.col("dihedral")?;
    let query_pct: i64 = row.col("query_pct")?;
    let compared_pct: i64 = row.col("compared_pct")?;
    Ok(Bank {
        name: row.col("name")?,
        signal: Signal::from_str(&signal).map_err(|e| corrupt("banks", e))?,
        category: Category::from_str(&category).map_err(|e| corrupt("banks", e))?,
        action: Action::from_str(&row.col::<String>("action")?).map_err(|e| corrupt("banks", e))?,
        threshold: u32::try_from(threshold).unwrap_or(31),
        dihedral: dihedral != 0,
        query_pct: u32::try_from(query_pct).unwrap_or(80).min(100),
        compared_pct: u32::try_from(compared_pct).unwrap_or(0).min(100),
    })
}

pub(crate) fn sweep_from_row(row: &impl Get) -> Result<Sweep> {
    let options: String = row.col("options")?;
    Ok(Sweep {
        id: row.col("id")?,
        created_at_ms: row.col("created_at")?,
        updated_at_ms: row.col("updated_at")?,
        source: row.col("source")?,
        kind: row.col("kind")?,
        options: serde_json::from_str(&options).map_err(|e| corrupt("sweeps", e))?,
        status: row.col("status")?,
        out_dir: row.col("out_dir")?,
    })
}

pub(crate) fn categories_of(d: &Decision) -> String {
    let mut cats: Vec<&str> = d.labels.iter().map(|l| l.category.as_str()).collect();
    cats.sort_unstable();
    cats.dedup();
    cats.join(" ")
}

pub(crate) fn audit_from_row(row: &impl Get) -> Result<AuditRecord> {
    let details: String = row.col("details")?;
    Ok(AuditRecord {
        seq: row.col::<i64>("seq")?.max(0) as u64,
        at_ms: row.col("at_ms")?,
        event: AuditEvent {
            actor: row.col("actor")?,
            action: row.col("action")?,
            subject: row.col("subject")?,
            // Kept as text if it is not JSON: verification then reports the
            // edit instead of the read failing.
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        },
        prev_hash: row.col("prev_hash")?,
        hash: row.col("hash")?,
    })
}

pub(crate) fn user_from_row(row: &impl Get) -> Result<User> {
    let role: String = row.col("role")?;
    Ok(User {
        name: row.col("name")?,
        role: cleanweb_core::auth::UserRole::from_str(&role).map_err(|e| corrupt("users", e))?,
        password_hash: row.col("password_hash")?,
        created_at_ms: row.col("created_at")?,
        disabled_at_ms: row.col("disabled_at")?,
        locale: row.col("locale")?,
        show_media: row.col::<i64>("show_media")? != 0,
    })
}

pub(crate) fn review_from_row(row: &impl Get) -> Result<crate::ReviewRecord> {
    let c = |m: &dyn std::fmt::Display| corrupt("reviews", m);
    let decision: String = row.col("decision_id")?;
    let outcome: String = row.col("outcome")?;
    let category: Option<String> = row.col("category")?;
    let verdict: String = row.col("machine_verdict")?;
    Ok(crate::ReviewRecord {
        id: row.col("id")?,
        decision_id: Uuid::parse_str(&decision).map_err(|e| c(&e))?,
        reviewer: row.col("reviewer")?,
        outcome: outcome.parse().map_err(|e: String| c(&e))?,
        category: category
            .map(|s| Category::from_str(&s).map_err(|e| c(&e)))
            .transpose()?,
        note: row.col("note")?,
        machine_verdict: Verdict::from_str(&verdict).map_err(|e| c(&e))?,
        decided_at_ms: row.col("decided_at")?,
        at_ms: row.col("at_ms")?,
    })
}

pub(crate) fn suggestion_from_row(row: &impl Get) -> Result<crate::SuggestionRecord> {
    let category: String = row.col("category")?;
    let decision: Option<String> = row.col("decision_id")?;
    Ok(crate::SuggestionRecord {
        id: row.col("id")?,
        suggestion: crate::Suggestion {
            term: row.col("term")?,
            category: Category::from_str(&category)
                .map_err(|e| corrupt("lexicon_suggestions", e))?,
            decision_id: decision.and_then(|d| Uuid::parse_str(&d).ok()),
            suggested_by: row.col("suggested_by")?,
            at_ms: row.col("at_ms")?,
        },
        status: row.col("status")?,
        severity: row.col("severity")?,
        decided_by: row.col("decided_by")?,
    })
}

pub(crate) fn delivery_from_row(row: &impl Get) -> Result<crate::Delivery> {
    let id: String = row.col("id")?;
    Ok(crate::Delivery {
        id: Uuid::parse_str(&id).map_err(|e| corrupt("webhook_deliveries", e))?,
        webhook: row.col("webhook")?,
        event: row.col("event")?,
        subject: row.col("subject")?,
        payload: row.col("payload")?,
        status: row.col("status")?,
        attempts: u32::try_from(row.col::<i64>("attempts")?).unwrap_or(u32::MAX),
        next_at_ms: row.col("next_at")?,
        last_error: row.col("last_error")?,
        created_at_ms: row.col("created_at")?,
        done_at_ms: row.col("done_at")?,
    })
}

fn uuid_col(row: &impl Get, col: &str, table: &'static str) -> Result<Uuid> {
    let s: String = row.col(col)?;
    Uuid::parse_str(&s).map_err(|e| corrupt(table, e))
}

pub(crate) fn case_from_row(row: &impl Get) -> Result<crate::Case> {
    Ok(crate::Case {
        id: uuid_col(row, "id", "cases")?,
        target: row.col("target")?,
        kind: row.col("kind")?,
        url: row.col("url")?,
        category: row.col("category")?,
        status: {
            let s: String = row.col("status")?;
            cleanweb_core::review::CaseStatus::from_str(&s).map_err(|e| corrupt("cases", e))?
        },
        report_count: row.col::<i64>("report_count")?.max(0) as u64,
        first_report: uuid_col(row, "first_report", "cases")?,
        decision_id: opt_uuid_col(row, "decision_id", "cases")?,
        triage_error: row.col("triage_error")?,
        created_at_ms: row.col("created_at")?,
        updated_at_ms: row.col("updated_at")?,
    })
}

pub(crate) fn report_from_row(row: &impl Get) -> Result<crate::ReportRecord> {
    Ok(crate::ReportRecord {
        id: uuid_col(row, "id", "reports")?,
        category: row.col("category")?,
        description: row.col("description")?,
        contact: row.col("contact")?,
        reporter_id: row.col("reporter_id")?,
        created_at_ms: row.col("created_at")?,
    })
}

pub(crate) fn reward_from_row(row: &impl Get) -> Result<crate::Reward> {
    Ok(crate::Reward {
        id: row.col("id")?,
        case_id: uuid_col(row, "case_id", "rewards")?,
        report_id: uuid_col(row, "report_id", "rewards")?,
        reporter_id: row.col("reporter_id")?,
        category: row.col("category")?,
        amount: row.col("amount")?,
        currency: row.col("currency")?,
        capped: row.col::<i64>("capped")? != 0,
        status: row.col("status")?,
        created_at_ms: row.col("created_at")?,
        paid_at_ms: row.col("paid_at")?,
        paid_by: row.col("paid_by")?,
    })
}

fn opt_uuid_col(row: &impl Get, col: &str, table: &'static str) -> Result<Option<Uuid>> {
    let s: Option<String> = row.col(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| corrupt(table, e)))
        .transpose()
}

pub(crate) fn capture_from_row(row: &impl Get) -> Result<crate::Capture> {
    Ok(crate::Capture {
        id: row.col("id")?,
        sha256: row.col("sha256")?,
        kind: row.col("kind")?,
        url: row.col("url")?,
        domain: row.col("domain")?,
        case_id: opt_uuid_col(row, "case_id", "captures")?,
        sweep_id: row.col("sweep_id")?,
        decision_id: opt_uuid_col(row, "decision_id", "captures")?,
        bytes: row.col::<i64>("bytes")?.max(0) as u64,
        captured_at_ms: row.col("captured_at")?,
    })
}
