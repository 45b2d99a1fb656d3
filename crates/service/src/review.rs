//! A reviewer's decision on an item: what is recorded in one transaction
//! (the review, the takedown deliveries, a lexicon suggestion, the report
//! case's settlement and reward, the audit event), and the follow-ups that
//! run after it (a bank entry, the site on the watch list).
//!
//! Whether the decision is allowed and what it changes is the pure rule
//! `cleanweb_core::review::apply`; the store persists what it says.

use std::path::Path;

use cleanweb_core::config::RewardsConfig;
use cleanweb_core::review::{CaseStatus, Outcome, names_minors};
use cleanweb_core::rewards::{RewardCaps, base_amount};
use cleanweb_core::{Action, AuditEvent, BankEntry, Category, SiteStatus, Verdict};
use cleanweb_match::SharedBanks;
use cleanweb_store::{
    CaseSettlement, DecisionRecord, NewDelivery, NewReview, NewReward, ReviewRefusal, Store,
    StoreError, Suggestion, now_ms,
};
use cleanweb_vision::DecodeLimits;
use serde::Serialize;
use uuid::Uuid;

use crate::Curator;

/// Longest reviewer note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Longest suggested lexicon term kept, in characters.
pub const MAX_TERM_CHARS: usize = 100;

/// The takedown webhook's body: the contract with the platform, so its
/// fields are named here, once.
#[derive(Clone, Debug, Serialize)]
pub struct Takedown<'a> {
    /// Always `takedown`.
    pub event: &'static str,
    /// This delivery's id: the platform's idempotency key.
    pub delivery_id: String,
    /// The stored decision the review was about.
    pub decision_id: String,
    /// The platform's own id for the item, as it was submitted.
    pub item_id: Option<&'a str>,
    /// The item's URL, if it had one.
    pub url: Option<&'a str>,
    /// SHA-256 of the item's content.
    pub content_sha256: &'a str,
    /// The category the reviewer confirmed.
    pub category: Option<&'static str>,
    /// Who decided.
    pub reviewer: &'a str,
    /// The reviewer's note.
    pub note: &'a str,
    /// When, in ms since the Unix epoch.
    pub decided_at_ms: i64,
    /// The platform's metadata, as it was submitted with the item.
    pub meta: Option<&'a serde_json::Value>,
}

/// Who decides.
#[derive(Clone, Debug)]
pub struct Reviewer {
    /// The account name (claims and reviews are kept under it).
    pub name: String,
    /// The audit log's name for it.
    pub actor: String,
    /// Admins decide escalated items and decide again.
    pub admin: bool,
}

/// A decision as a door received it, already parsed.
#[derive(Clone, Debug)]
pub struct Decide {
    /// The outcome.
    pub outcome: Outcome,
    /// The category confirmed; required for a violation, dropped otherwise.
    pub category: Option<Category>,
    /// The note (cut to [`MAX_NOTE_CHARS`]).
    pub note: String,
    /// A term to propose for the lexicon (violations only).
    pub suggest_term: Option<String>,
    /// A bank to add the item's picture to.
    pub add_to_bank: Option<String>,
    /// Put the item URL's site on the registry's watch list (violations).
    pub watch_site: bool,
}

/// Why a decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// A violation needs the category it violates.
    #[error("a violation needs a category")]
    NeedCategory,
    /// The review rule or a colleague's claim refused it.
    #[error(transparent)]
    Refused(ReviewRefusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a recorded decision did.
#[derive(Debug, Default)]
pub struct Decided {
    /// Takedowns queued (the door wakes the sender if any).
    pub deliveries: usize,
    /// Follow-ups that failed; the decision stands.
    pub warnings: Vec<String>,
}

/// The review desk: what a decision needs from the running system.
pub struct Desk<'a> {
    /// The store.
    pub store: &'a dyn Store,
    /// The live banks, refreshed when a follow-up adds a picture.
    pub banks: Option<&'a SharedBanks>,
    /// The configured webhooks; each gets a takedown on a violation.
    pub webhooks: Vec<String>,
    /// The reward rules, when the reporting centre runs.
    pub rewards: Option<&'a RewardsConfig>,
    /// The data directory (the site registry's lists live there).
    pub data_dir: Option<&'a Path>,
    /// Limits for decoding a kept picture.
    pub decode_limits: DecodeLimits,
}

impl Desk<'_> {
    /// Records `d` on `record` by `who`, then runs its follow-ups.
    pub async fn decide(
        &self,
        who: &Reviewer,
        record: &DecisionRecord,
        d: Decide,
    ) -> Result<Decided, DecideError> {
        if d.outcome == Outcome::Violation && d.category.is_none() {
            return Err(DecideError::NeedCategory);
        }
        let outcome = d.outcome;
        let category = d.category.filter(|_| outcome == Outcome::Violation);
        let note: String = d.note.chars().take(MAX_NOTE_CHARS).collect();
        let id = record.id;
        let decided_at_ms = now_ms();
        let deliveries: Vec<NewDelivery> = if outcome == Outcome::Violation {
            self.webhooks
                .iter()
                .map(|webhook| {
                    let delivery = Uuid::now_v7();
                    let body = Takedown {
                        event: "takedown",
                        delivery_id: delivery.to_string(),
                        decision_id: id.to_string(),
                        item_id: record.decision.id.as_deref(),
                        url: record.url.as_deref(),
                        content_sha256: &record.content_sha256,
                        category: category.map(|c| c.as_str()),
                        reviewer: &who.name,
                        note: &note,
                        decided_at_ms,
                        meta: record.decision.meta.as_ref(),
                    };
                    NewDelivery {
                        id: delivery,
                        webhook: webhook.clone(),
                        event: "takedown".into(),
                        subject: id.to_string(),
                        payload: serde_json::to_string(&body).unwrap_or_default(),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let suggestion = d
            .suggest_term
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && outcome == Outcome::Violation)
            .map(|t| Suggestion {
                term: t.chars().take(MAX_TERM_CHARS).collect(),
                category: category.unwrap_or(Category::SexualExplicit),
                decision_id: Some(id),
                suggested_by: who.name.clone(),
                at_ms: decided_at_ms,
            });
        let false_positive =
            outcome == Outcome::NotViolation && record.decision.verdict == Verdict::Block;
        let case = self.settlement(record, outcome, category).await?;
        let queued = deliveries.len();
        let review = NewReview {
            case: case.clone(),
            decision_id: id,
            reviewer: who.name.clone(),
            is_admin: who.admin,
            outcome,
            category,
            note: note.clone(),
            deliveries,
            suggestion: suggestion.clone(),
            audit: AuditEvent {
                actor: who.actor.clone(),
                action: "review.decide".into(),
                subject: id.to_string(),
                details: serde_json::json!({
                    "outcome": outcome.as_str(),
                    "category": category.map(|c| c.as_str()),
                    "machine_verdict": record.decision.verdict.as_str(),
                    "false_positive": false_positive,
                    "note": note,
                    "suggested_term": suggestion.as_ref().map(|s| &s.term),
                    "case": case.as_ref().map(|c| c.case_id.to_string()),
                    "case_status": case.as_ref().map(|_| CaseStatus::after(outcome).as_str()),
                    "reward": case.as_ref().and_then(|c| c.reward.as_ref()).map(|w| w.amount),
                }),
            },
        };
        self.store
            .record_review(&review)
            .await?
            .map_err(DecideError::Refused)?;
        let mut warnings = Vec::new();
        if outcome != Outcome::Escalate
            && let Some(bank) = d.add_to_bank.as_deref().filter(|b| !b.is_empty())
            && let Err(w) = self.add_to_bank(who, record, bank, outcome).await
        {
            warnings.push(w);
        }
        if outcome == Outcome::Violation
            && d.watch_site
            && let Err(w) = self.watch_site(who, record, category).await
        {
            warnings.push(w);
        }
        Ok(Decided {
            deliveries: queued,
            warnings,
        })
    }

    /// What a decision does to the public-report case behind the item: on a
    /// violation, the first reporter's reward (if they left a payable
    /// contact and the rules grant one). The status is the transition's.
    async fn settlement(
        &self,
        record: &DecisionRecord,
        outcome: Outcome,
        category: Option<Category>,
    ) -> Result<Option<CaseSettlement>, StoreError> {
        let Some(case) = self.store.case_by_decision(record.id).await? else {
            return Ok(None);
        };
        let mut reward = None;
        if let (Outcome::Violation, Some(rules)) = (outcome, self.rewards)
            && let Some(first) = self.store.report(case.first_report).await?
            && first.contact.is_some()
            // Nobody to pay without a payable contact (a name alone is not one).
            && first.reporter_id.is_some()
        {
            let category = category
                .or_else(|| case.category.parse().ok())
                .unwrap_or(Category::SexualExplicit);
            let severe = record.decision.verdict == Verdict::Block || names_minors([category]);
            reward = base_amount(rules, category, severe).map(|amount| NewReward {
                report_id: first.id,
                reporter_id: first.reporter_id.clone(),
                category: category.as_str().to_owned(),
                amount,
                currency: rules.currency.clone(),
                caps: RewardCaps {
                    per_reporter: rules.per_reporter_month,
                    per_all: rules.per_month,
                    since_ms: crate::time::month_start_ms(now_ms()),
                },
            });
        }
        Ok(Some(CaseSettlement {
            case_id: case.id,
            reward,
        }))
    }

    /// Violations feed block and review banks; false positives feed allow
    /// banks, so the same picture is not flagged again.
    async fn add_to_bank(
        &self,
        who: &Reviewer,
        record: &DecisionRecord,
        bank_name: &str,
        outcome: Outcome,
    ) -> Result<(), String> {
        let curator = Curator::new(self.store, self.banks);
        let bank = curator.bank(bank_name).await.map_err(|e| e.to_string())?;
        let allow = bank.action == Action::Allow;
        // An allow bank silences every later match of the picture: one
        // reviewer's word is not enough for that, an admin's is.
        if allow && !who.admin {
            return Err(format!(
                "bank {bank_name:?} is an allow bank: only an admin adds to it"
            ));
        }
        if allow != (outcome == Outcome::NotViolation) {
            return Err(format!(
                "bank {bank_name:?} ({}) does not take a {} decision",
                bank.action, outcome
            ));
        }
        let bytes = kept_image(self.store, record).await?;
        let template = BankEntry {
            source: Some("review".into()),
            external_id: Some(record.id.to_string()),
            ..Default::default()
        };
        curator
            .add_image_to(
                &bank,
                bytes,
                self.decode_limits.clone(),
                template,
                &who.actor,
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn watch_site(
        &self,
        who: &Reviewer,
        record: &DecisionRecord,
        category: Option<Category>,
    ) -> Result<(), String> {
        let url = record.url.as_deref().ok_or("the item has no URL")?;
        let dir = self.data_dir.ok_or("this server has no data directory")?;
        let change = crate::sites::Change {
            site: url.to_owned(),
            status: SiteStatus::Watch,
            actor: who.actor.clone(),
            reason: format!(
                "review violation ({})",
                category.map_or("unspecified", |c| c.as_str())
            ),
            evidence: vec![format!("decision:{}", record.id)],
            deadline_ms: None,
        };
        crate::sites::watch_if_new(self.store, dir, change)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// The picture kept as evidence with a decision.
pub async fn kept_image(store: &dyn Store, record: &DecisionRecord) -> Result<Vec<u8>, String> {
    let sha = record
        .image_sha256
        .as_deref()
        .ok_or("the item has no image")?;
    store
        .blob(sha)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the image was not kept".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::review::ReviewState;
    use cleanweb_core::{Decision, Item, Label, Source};

    fn item(text: &str) -> (Item, Decision) {
        let item = Item {
            id: Some("post-7".into()),
            text: Some(text.into()),
            url: Some("https://bad.example/p/1".into()),
            ..Default::default()
        };
        let decision = Decision {
            id: item.id.clone(),
            verdict: Verdict::Review,
            labels: vec![Label::new(Category::SexualExplicit, 0.7, "text.lexicon")],
            elapsed_us: 0,
            warnings: Vec::new(),
            meta: Some(serde_json::json!({"forum": 3})),
            decision_id: None,
        };
        (item, decision)
    }

    fn reviewer(name: &str, admin: bool) -> Reviewer {
        Reviewer {
            name: name.into(),
            actor: format!("user:{name}"),
            admin,
        }
    }

    fn violation() -> Decide {
        Decide {
            outcome: Outcome::Violation,
            category: Some(Category::SexualExplicit),
            note: "n".repeat(MAX_NOTE_CHARS + 5),
            suggest_term: Some("  new term  ".into()),
            add_to_bank: None,
            watch_site: true,
        }
    }

    /// A desk with no webhooks, banks, rewards or data directory.
    fn bare_desk(store: &dyn Store) -> Desk<'_> {
        Desk {
            store,
            banks: None,
            webhooks: Vec::new(),
            rewards: None,
            data_dir: None,
            decode_limits: DecodeLimits::default(),
        }
    }

    /// A real SQLite store holding one decision about `text`.
    async fn stored(text: &str) -> (tempfile::TempDir, std::sync::Arc<dyn Store>, DecisionRecord) {
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let (item, decision) = item(text);
        let record = DecisionRecord::new(Source::Api, &item, &decision);
        store
            .save_decisions(std::slice::from_ref(&record))
            .await
            .unwrap();
        (dir, store, record)
    }

    #[tokio::test]
    async fn a_violation_takes_down_once_watches_the_site_and_refuses_a_second_reviewer() {
        let (dir, store, record) = stored("some post").await;
        let desk = Desk {
            store: store.as_ref(),
            banks: None,
            webhooks: vec!["platform".into()],
            rewards: None,
            data_dir: Some(dir.path()),
            decode_limits: DecodeLimits::default(),
        };

        let mut no_category = violation();
        no_category.category = None;
        let amy = reviewer("amy", false);
        let refused = desk.decide(&amy, &record, no_category).await;
        assert!(matches!(refused, Err(DecideError::NeedCategory)));

        let done = desk
            .decide(&reviewer("amy", false), &record, violation())
            .await
            .unwrap();
        assert_eq!(done.deliveries, 1);
        assert!(done.warnings.is_empty(), "{:?}", done.warnings);

        let sent = store.deliveries_for(&record.id.to_string()).await.unwrap();
        assert_eq!(sent.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&sent[0].payload).unwrap();
        assert_eq!(body["event"], "takedown");
        assert_eq!(body["delivery_id"], sent[0].id.to_string());
        assert_eq!(body["decision_id"], record.id.to_string());
        assert_eq!(body["item_id"], "post-7");
        assert_eq!(body["url"], "https://bad.example/p/1");
        assert_eq!(body["content_sha256"], record.content_sha256.as_str());
        assert_eq!(body["category"], "sexual.explicit");
        assert_eq!(body["reviewer"], "amy");
        assert_eq!(
            body["note"].as_str().unwrap().chars().count(),
            MAX_NOTE_CHARS
        );
        assert_eq!(body["meta"]["forum"], 3);

        let kept = store.decision(record.id).await.unwrap().unwrap();
        assert_eq!(kept.review_state, Some(ReviewState::Violation));
        let suggested = store.lexicon_suggestions(10).await.unwrap();
        assert_eq!(suggested[0].suggestion.term, "new term");
        let site = store.site_history("bad.example").await.unwrap();
        assert_eq!(site.len(), 1, "the site is on the watch list");
        assert_eq!(site[0].status, SiteStatus::Watch);

        let bob = reviewer("bob", false);
        let again = desk.decide(&bob, &record, violation()).await;
        assert!(matches!(
            again,
            Err(DecideError::Refused(ReviewRefusal::AlreadyDecided))
        ));
        // An admin confirming again does not take it down twice.
        desk.decide(&reviewer("root", true), &record, violation())
            .await
            .unwrap();
        let sent = store.deliveries_for(&record.id.to_string()).await.unwrap();
        assert_eq!(sent.len(), 1, "taken down once");
    }

    #[tokio::test]
    async fn only_admins_feed_allow_banks() {
        use cleanweb_core::{Bank, Signal};
        let (_dir, store, record) = stored("a false positive").await;
        let allow = Bank {
            name: "fine".into(),
            signal: Signal::Md5,
            category: Category::SexualExplicit,
            action: Action::Allow,
            threshold: 0,
            dihedral: false,
            query_pct: 80,
            compared_pct: 0,
        };
        Curator::new(store.as_ref(), None)
            .create_bank(&allow, "admin")
            .await
            .unwrap();
        let desk = bare_desk(store.as_ref());
        let fine = || Decide {
            outcome: Outcome::NotViolation,
            category: None,
            note: String::new(),
            suggest_term: None,
            add_to_bank: Some("fine".into()),
            watch_site: false,
        };
        let done = desk
            .decide(&reviewer("amy", false), &record, fine())
            .await
            .unwrap();
        assert!(
            done.warnings[0].contains("only an admin"),
            "{:?}",
            done.warnings
        );
        // An admin passes that check (and meets the next: this item has no picture).
        let done = desk
            .decide(&reviewer("root", true), &record, fine())
            .await
            .unwrap();
        assert!(done.warnings[0].contains("no image"), "{:?}", done.warnings);
    }

    #[tokio::test]
    async fn follow_up_failures_are_warnings_and_the_decision_stands() {
        let (_dir, store, record) = stored("another post").await;
        let desk = bare_desk(store.as_ref());
        let mut d = violation();
        d.add_to_bank = Some("nope".into());
        let done = desk
            .decide(&reviewer("amy", false), &record, d)
            .await
            .unwrap();
        assert_eq!(done.deliveries, 0);
        assert_eq!(done.warnings.len(), 2, "{:?}", done.warnings);
        assert!(done.warnings[0].contains("nope"));
        assert!(done.warnings[1].contains("data directory"));
        let kept = store.decision(record.id).await.unwrap().unwrap();
        assert_eq!(kept.review_state, Some(ReviewState::Violation));
    }
}
