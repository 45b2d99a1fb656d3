//! One behaviour for every store: the same checks run against the embedded
//! SQLite store and against a real PostgreSQL server (a fresh schema per
//! run, dropped afterwards). `scripts/deps` makes sure PostgreSQL runs;
//! `CLEANWEB_TEST_PG` overrides its URL.

use cleanweb_core::auth::Role;
use cleanweb_core::{
    Action, Bank, BankEntry, Category, Decision, Item, Label, Signal, SiteEvent, SiteStatus,
    Source, Verdict,
};
use cleanweb_store::{
    DecisionQuery, DecisionRecord, PgStore, SqliteStore, Store, Sweep, SweepItem,
};

fn pg_url() -> String {
    std::env::var("CLEANWEB_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn record(text: &str, verdict: Verdict, source: Source) -> DecisionRecord {
    let item = Item::text(text);
    let decision = Decision {
        id: Some(text.into()),
        verdict,
        labels: vec![Label::new(Category::SexualExplicit, 0.9, "text.lexicon")],
        elapsed_us: 5,
        warnings: vec!["w".into()],
        meta: Some(serde_json::json!({"k": 1})),
        decision_id: None,
    };
    DecisionRecord::new(source, &item, &decision)
}

fn event(domain: &str, status: SiteStatus) -> SiteEvent {
    SiteEvent {
        domain: domain.into(),
        status,
        actor: "tester".into(),
        reason: "test".into(),
        evidence: vec!["d1".into()],
        deadline_ms: None,
        at_ms: 1,
        kind: Default::default(),
        proposal: None,
    }
}

async fn exercise(store: &dyn Store) {
    store.ping().await.unwrap();

    // Decisions: round trip, filters, keyset paging, count.
    let a = record("one", Verdict::Block, Source::Api);
    let b = record("two", Verdict::Review, Source::Sweep);
    let c = record("three", Verdict::Block, Source::Cli);
    store
        .save_decisions(&[a.clone(), b.clone(), c.clone()])
        .await
        .unwrap();
    assert_eq!(store.decision(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.count_decisions().await.unwrap(), 3);
    let q = |verdict, before, limit| DecisionQuery {
        verdict,
        source: None,
        before,
        limit,
    };
    let blocks = store
        .decisions(&q(Some(Verdict::Block), None, 10))
        .await
        .unwrap();
    assert_eq!(
        blocks.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![c.id, a.id]
    );
    let page = store.decisions(&q(None, Some(c.id), 1)).await.unwrap();
    assert_eq!(page[0].id, b.id);

    // Keys: only hashes stored; revocation. Each change and its audit
    // event commit together; a change that did not happen records nothing.
    let ev = |action: &str, details: serde_json::Value| cleanweb_core::AuditEvent {
        actor: "key:admin".into(),
        action: action.into(),
        subject: "s".into(),
        details,
    };
    let none = || serde_json::json!({});
    let (key, secret) = store
        .create_api_key("ops", Role::Operator, &ev("key.create", none()))
        .await
        .unwrap();
    assert_eq!(
        store
            .api_key_by_secret(&secret)
            .await
            .unwrap()
            .map(|k| k.id),
        Some(key.id)
    );
    assert!(
        store
            .revoke_api_key(key.id, &ev("key.revoke", none()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key(key.id, &ev("key.revoke", none()))
            .await
            .unwrap()
    );
    assert_eq!(store.api_key_by_secret(&secret).await.unwrap(), None);
    assert_eq!(store.api_keys().await.unwrap().len(), 1);

    // Sites: the lifecycle is enforced; the status is the latest event.
    for status in [SiteStatus::Watch, SiteStatus::Warned] {
        store
            .record_site_event(&event("x.example", status))
            .await
            .unwrap()
            .unwrap();
    }
    let refused = store
        .record_site_event(&event("x.example", SiteStatus::Warned))
        .await
        .unwrap();
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.site_history("x.example").await.unwrap().len(), 2);
    let sites = store.sites(Some(SiteStatus::Warned)).await.unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].evidence, vec!["d1".to_string()]);

    // Banks: names unique, entries deduplicated, deletion cascades.
    let bank = Bank {
        name: "known".into(),
        signal: Signal::Md5,
        category: Category::SexualMinors,
        action: Action::Block,
        threshold: 31,
        dihedral: true,
        query_pct: 80,
        compared_pct: 0,
    };
    assert!(
        store
            .create_bank(&bank, &ev("bank.create", none()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_bank(&bank, &ev("bank.create", none()))
            .await
            .unwrap()
    );
    assert_eq!(store.banks().await.unwrap(), vec![bank.clone()]);
    let entry = |h: &str| BankEntry {
        hash: h.into(),
        note: Some("n".into()),
        ..BankEntry::default()
    };
    let (h1, h2) = ("a".repeat(32), "B".repeat(32));
    let added = store
        .add_bank_entries(
            "known",
            &[entry(&h1), entry(&h2), entry(&h1)],
            &ev("bank.entries.add", none()),
        )
        .await
        .unwrap();
    assert_eq!(added, 2);
    let again = store
        .add_bank_entries("known", &[entry(&h1)], &ev("bank.entries.add", none()))
        .await
        .unwrap();
    assert_eq!(again, 0, "nothing new, nothing recorded");
    assert!(
        store
            .remove_bank_entry("known", &"b".repeat(32), &ev("bank.entries.remove", none()))
            .await
            .unwrap()
    );
    let entries = store.bank_entries("known").await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].hash.as_str(), entries[0].note.as_deref()),
        (h1.as_str(), Some("n"))
    );
    assert!(
        store
            .delete_bank("known", &ev("bank.delete", none()))
            .await
            .unwrap()
    );
    assert!(store.bank_entries("known").await.unwrap().is_empty());
    let recorded = store.audit_events(None, 100).await.unwrap();
    let actions: Vec<&str> = recorded.iter().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "key.create",
            "key.revoke",
            "bank.create",
            "bank.entries.add",
            "bank.entries.remove",
            "bank.delete"
        ]
    );
    assert_eq!(
        recorded[0].event.subject,
        key.id.to_string(),
        "the new key's id"
    );
    assert_eq!(recorded[3].event.details["added"], 2);

    // Sweeps: items are recorded once, with their decisions.
    let sweep = Sweep {
        id: "s1".into(),
        created_at_ms: 1,
        updated_at_ms: 1,
        source: "/data".into(),
        kind: "dir".into(),
        options: serde_json::json!({"kind": "dir"}),
        status: "running".into(),
        out_dir: "/out".into(),
    };
    store.create_sweep(&sweep).await.unwrap();
    let item = |seq: u64, verdict: &str, decision: Option<DecisionRecord>| SweepItem {
        seq,
        key: format!("k{seq}"),
        verdict: verdict.into(),
        categories: String::new(),
        detail: decision
            .as_ref()
            .map(|d| format!("{{\"id\":\"{}\"}}", d.id)),
        decision,
    };
    let d = record("swept", Verdict::Block, Source::Sweep);
    let batch = vec![
        item(0, "allow", None),
        item(2, "block", Some(d.clone())),
        item(1, "error", None),
    ];
    assert_eq!(store.record_sweep_items("s1", &batch).await.unwrap(), 3);
    assert_eq!(
        store.record_sweep_items("s1", &batch).await.unwrap(),
        0,
        "a replay adds nothing"
    );
    assert_eq!(
        store.count_decisions().await.unwrap(),
        4,
        "the decision once"
    );
    assert_eq!(store.sweep_done("s1").await.unwrap(), vec![0, 1, 2]);
    let findings = store.sweep_items("s1", None, 10, true).await.unwrap();
    assert_eq!(
        findings.iter().map(|i| i.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let after = store.sweep_items("s1", Some(0), 1, false).await.unwrap();
    assert_eq!(after[0].key, "k1");
    assert_eq!(
        store.sweep_counts("s1").await.unwrap(),
        vec![
            ("allow".into(), 1),
            ("block".into(), 1),
            ("error".into(), 1)
        ]
    );
    store.set_sweep_status("s1", "done").await.unwrap();
    let got = store.sweep("s1").await.unwrap().unwrap();
    assert_eq!(
        (got.status.as_str(), got.options.clone()),
        ("done", sweep.options.clone())
    );
    assert_eq!(store.sweeps().await.unwrap().len(), 1);

    // The audit log: chained in order, readable in pages, verifiable. The
    // six audited changes above come first.
    for n in 0..3 {
        let e = cleanweb_core::AuditEvent {
            actor: "key:admin".into(),
            action: "bank.create".into(),
            subject: format!("b{n}"),
            details: serde_json::json!({"n": n}),
        };
        assert_eq!(store.append_audit(&e).await.unwrap().seq, n + 7);
    }
    let all = store.audit_events(None, 20).await.unwrap();
    assert_eq!(all.len(), 9);
    assert_eq!(all[1].prev_hash, all[0].hash);
    assert!(cleanweb_core::audit::verify(None, &all).is_ok());
    assert_eq!(store.audit_events(Some(8), 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_store_behaves() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    assert_eq!(store.kind(), "sqlite");
    exercise(&store).await;
}

#[tokio::test]
async fn postgres_store_behaves_the_same() {
    let schema = format!("cw_test_{:016x}", rand::random::<u64>());
    let url = pg_url();
    let store = PgStore::connect_in_schema(&url, Some(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e} (scripts/deps starts it)"));
    assert_eq!(store.kind(), "postgres");
    exercise(&store).await;
    // Migrations are idempotent on reconnect, and the data is there.
    store.close().await;
    let again = PgStore::connect_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    assert_eq!(again.count_decisions().await.unwrap(), 4);
    again.close().await;
    assert!(drop_schema(&url, &schema).await, "schema dropped");
}

async fn drop_schema(url: &str, schema: &str) -> bool {
    use sqlx::Connection;
    let Ok(mut conn) = sqlx::PgConnection::connect(url).await else {
        return false;
    };
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut conn)
        .await
        .is_ok()
}

/// The review workflow: queue, claims, decisions with deliveries and audit,
/// webhook delivery states, sessions and preferences.
async fn review_flow(store: &dyn Store) {
    use cleanweb_core::auth::UserRole;
    use cleanweb_core::review::{Outcome, ReviewState};
    use cleanweb_store::{
        ClaimOutcome, DeliveryResult, NewDelivery, NewReview, Queue, QueueQuery, Suggestion, User,
    };

    let review = record("r1", Verdict::Review, Source::Api);
    let block = record("b1", Verdict::Block, Source::Sweep);
    let allow = record("a1", Verdict::Allow, Source::Api);
    store
        .save_decisions(&[review.clone(), block.clone(), allow.clone()])
        .await
        .unwrap();
    let q = |queue, sample| QueueQuery {
        queue,
        block_sample_per_10k: sample,
        limit: 10,
        ..Default::default()
    };
    let ids = |es: Vec<cleanweb_store::QueueEntry>| {
        es.into_iter().map(|e| e.record.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.queue(&q(Queue::Open, 0)).await.unwrap()),
        [review.id]
    );
    // A full sample brings the block in too; the allow never.
    let all = ids(store.queue(&q(Queue::Open, 10_000)).await.unwrap());
    assert_eq!(all.len(), 2);
    assert!(all.contains(&block.id) && !all.contains(&allow.id));
    assert_eq!(store.queue_counts(0).await.unwrap(), (1, 0));
    let filtered = QueueQuery {
        category: Some(Category::SexualServices),
        ..q(Queue::Open, 10_000)
    };
    assert!(store.queue(&filtered).await.unwrap().is_empty());

    // Claims: one holder at a time, renewable, free once expired.
    assert!(matches!(
        store.claim(review.id, "amy", 60_000).await.unwrap(),
        ClaimOutcome::Mine(_)
    ));
    assert!(
        matches!(store.claim(review.id, "bob", 60_000).await.unwrap(), ClaimOutcome::Held(c) if c.reviewer == "amy")
    );
    assert!(matches!(
        store.claim(block.id, "amy", -1).await.unwrap(),
        ClaimOutcome::Mine(_)
    ));
    assert!(
        matches!(
            store.claim(block.id, "bob", 60_000).await.unwrap(),
            ClaimOutcome::Mine(_)
        ),
        "expired claims are free"
    );
    let claimed = store.queue(&q(Queue::Open, 0)).await.unwrap();
    assert_eq!(claimed[0].claim.as_ref().unwrap().reviewer, "amy");

    let new_review = |who: &str, outcome, admin| NewReview {
        decision_id: review.id,
        reviewer: who.into(),
        is_admin: admin,
        outcome,
        category: Some(Category::SexualSuggestive),
        note: "n".into(),
        deliveries: vec![NewDelivery {
            id: uuid::Uuid::now_v7(),
            webhook: "platform".into(),
            event: "takedown".into(),
            subject: review.id.to_string(),
            payload: "{}".into(),
        }],
        suggestion: Some(Suggestion {
            term: "lingerie".into(),
            category: Category::SexualSuggestive,
            decision_id: Some(review.id),
            suggested_by: who.into(),
            at_ms: 0,
        }),
        case: None,
        audit: cleanweb_core::AuditEvent {
            actor: format!("user:{who}"),
            action: "review.decide".into(),
            subject: review.id.to_string(),
            details: serde_json::json!({}),
        },
    };
    // Bob may not decide Amy's claimed item; Amy escalates; then only an admin decides.
    let refused = store
        .record_review(&new_review("bob", Outcome::Violation, false))
        .await
        .unwrap();
    assert_eq!(
        refused.unwrap_err(),
        cleanweb_store::ReviewRefusal::ClaimedBy("amy".into())
    );
    store
        .record_review(&NewReview {
            deliveries: vec![],
            suggestion: None,
            ..new_review("amy", Outcome::Escalate, false)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.queue_counts(0).await.unwrap(), (0, 1));
    assert_eq!(
        ids(store.queue(&q(Queue::Escalated, 0)).await.unwrap()),
        [review.id]
    );
    let refused = store
        .record_review(&new_review("amy", Outcome::Violation, false))
        .await
        .unwrap();
    assert_eq!(
        refused.unwrap_err(),
        cleanweb_store::ReviewRefusal::Escalated
    );
    let done = store
        .record_review(&new_review("root", Outcome::Violation, true))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.machine_verdict, Verdict::Review);
    assert_eq!(
        store
            .decision(review.id)
            .await
            .unwrap()
            .unwrap()
            .review_state,
        Some(ReviewState::Violation)
    );
    assert_eq!(store.queue_counts(0).await.unwrap(), (0, 0));
    assert_eq!(store.reviews_of(review.id).await.unwrap().len(), 2);
    assert_eq!(store.reviews_since(0, 10).await.unwrap().len(), 2);
    let suggested = &store.lexicon_suggestions(10).await.unwrap()[0];
    assert_eq!(
        (
            suggested.suggestion.term.as_str(),
            suggested.status.as_str()
        ),
        ("lingerie", "pending")
    );
    assert!(store.accepted_terms().await.unwrap().is_empty());
    let audit = store.audit_events(None, 100).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.event.action, "review.decide");
    assert_eq!(last.event.details["review_id"], done.id);
    assert!(cleanweb_core::audit::verify(None, &audit).is_ok());
    // An admin settles a suggestion once; accepted terms are the store's
    // lexicon.
    use cleanweb_store::SuggestionOutcome;
    let accept = cleanweb_core::AuditEvent {
        actor: "user:root".into(),
        action: "lexicon.accept".into(),
        subject: "lingerie".into(),
        details: serde_json::json!({}),
    };
    let settled = store
        .decide_suggestion(
            suggested.id,
            SuggestionOutcome::Accept { block: false },
            "root",
            &accept,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            settled.status.as_str(),
            settled.severity.as_deref(),
            settled.decided_by.as_deref()
        ),
        ("accepted", Some("review"), Some("root"))
    );
    assert_eq!(
        store.suggestion(suggested.id).await.unwrap().as_ref(),
        Some(&settled)
    );
    assert!(
        store
            .decide_suggestion(suggested.id, SuggestionOutcome::Dismiss, "root", &accept)
            .await
            .unwrap()
            .is_none(),
        "settled once"
    );
    assert_eq!(
        store.accepted_terms().await.unwrap(),
        [("lingerie".to_owned(), suggested.suggestion.category, false)]
    );
    let audit = store.audit_events(None, 100).await.unwrap();
    assert_eq!(audit.last().unwrap().event.action, "lexicon.accept");
    let volume = store.decision_volume(0, i64::MAX).await.unwrap();
    assert_eq!(volume.iter().map(|v| v.3).sum::<u64>(), 3);

    // Deliveries: due, leased once, retried, dead, put back.
    let due = store
        .due_deliveries(cleanweb_store::now_ms() + 1, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let d = &due[0];
    let first_lease = i64::MAX / 4;
    assert!(store.lease_delivery(d, first_lease).await.unwrap());
    assert!(
        !store.lease_delivery(d, first_lease).await.unwrap(),
        "leased once"
    );
    assert!(
        store
            .finish_delivery(
                d.id,
                first_lease,
                &DeliveryResult::Retry {
                    next_at_ms: 0,
                    error: "HTTP 500".into(),
                },
            )
            .await
            .unwrap()
    );
    let again = store
        .due_deliveries(cleanweb_store::now_ms(), 10)
        .await
        .unwrap();
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (1, Some("HTTP 500"))
    );
    let second_lease = first_lease - 1;
    assert!(store.lease_delivery(&again[0], second_lease).await.unwrap());
    assert!(
        !store
            .finish_delivery(d.id, first_lease, &DeliveryResult::Delivered)
            .await
            .unwrap(),
        "a sender whose lease was taken over records nothing"
    );
    assert!(
        store
            .finish_delivery(
                d.id,
                second_lease,
                &DeliveryResult::Dead {
                    error: "gone".into(),
                },
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .due_deliveries(cleanweb_store::now_ms(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.deliveries(Some("dead"), 10).await.unwrap().len(), 1);
    assert!(store.retry_delivery(d.id).await.unwrap());
    assert!(!store.retry_delivery(d.id).await.unwrap());
    let back = store
        .due_deliveries(cleanweb_store::now_ms() + 1, 10)
        .await
        .unwrap();
    assert_eq!(back[0].attempts, 0, "a fresh start");
    assert!(store.lease_delivery(&back[0], first_lease).await.unwrap());
    assert!(
        store
            .finish_delivery(d.id, first_lease, &DeliveryResult::Delivered)
            .await
            .unwrap()
    );
    assert_eq!(
        store.deliveries_for(&review.id.to_string()).await.unwrap()[0].status,
        "delivered"
    );

    // Sessions: live ones find their user; expired or deleted ones do not.
    let user = User {
        name: "amy".into(),
        role: UserRole::Reviewer,
        password_hash: "x".into(),
        created_at_ms: 1,
        disabled_at_ms: None,
        locale: None,
        show_media: false,
    };
    let created = cleanweb_core::AuditEvent {
        actor: "cli:root".into(),
        action: "user.create".into(),
        subject: "amy".into(),
        details: serde_json::json!({}),
    };
    assert!(store.create_user(&user, &created).await.unwrap());
    assert!(!store.create_user(&user, &created).await.unwrap(), "taken");
    let far = cleanweb_store::now_ms() + 60_000;
    store.create_session("h1", "amy", "c1", far).await.unwrap();
    store.create_session("h2", "amy", "c2", 1).await.unwrap();
    let s = store.session("h1", far, 0).await.unwrap().unwrap();
    assert_eq!((s.user.name.as_str(), s.csrf.as_str()), ("amy", "c1"));
    assert!(
        store.session("h2", far, 0).await.unwrap().is_none(),
        "expired"
    );
    assert!(
        store.session("h1", far, far).await.unwrap().is_none(),
        "past its absolute limit, however recently used"
    );
    store.set_user_prefs("amy", Some("zh"), true).await.unwrap();
    let s = store.session("h1", far, 0).await.unwrap().unwrap();
    assert_eq!(
        (s.user.locale.as_deref(), s.user.show_media),
        (Some("zh"), true)
    );
    store.delete_session("h1").await.unwrap();
    assert!(store.session("h1", far, 0).await.unwrap().is_none());

    // Account changes end the account's sessions and are audited with them.
    use cleanweb_store::UserChange;
    let event = |action: &str| cleanweb_core::AuditEvent {
        actor: "test".into(),
        action: action.into(),
        subject: "amy".into(),
        details: serde_json::json!({}),
    };
    store.create_session("h3", "amy", "c3", far).await.unwrap();
    assert!(
        store
            .change_user(
                "amy",
                &UserChange::Role(UserRole::Auditor),
                &event("user.role")
            )
            .await
            .unwrap()
    );
    assert!(
        store.session("h3", far, 0).await.unwrap().is_none(),
        "ended"
    );
    assert_eq!(
        store.user("amy").await.unwrap().unwrap().role,
        UserRole::Auditor
    );
    assert!(
        store
            .change_user("amy", &UserChange::Disable, &event("user.disable"))
            .await
            .unwrap()
    );
    assert!(
        store
            .user("amy")
            .await
            .unwrap()
            .unwrap()
            .disabled_at_ms
            .is_some()
    );
    assert!(
        !store
            .change_user("nobody", &UserChange::Enable, &event("user.enable"))
            .await
            .unwrap()
    );
    let actions: Vec<String> = store
        .audit_events(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event.action)
        .filter(|a| a.starts_with("user."))
        .collect();
    assert_eq!(actions, ["user.create", "user.role", "user.disable"]);
    assert_eq!(
        store
            .decisions_by_content(&review.content_sha256, 5)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Reports merge into cases, triage puts them in the queue, a decision
/// settles the case and pays the first reporter once.
async fn reports_flow(store: &dyn Store) {
    use cleanweb_core::review::Outcome;
    use cleanweb_store::{CaseSettlement, NewReport, NewReview, NewReward, NewTarget};
    let target = NewTarget {
        target: "url:http://bad.example/x".into(),
        kind: "url".into(),
        url: Some("HTTP://Bad.Example/x".into()),
    };
    let report = |n: u8, contact: Option<Vec<u8>>| NewReport {
        id: uuid::Uuid::now_v7(),
        receipt_hash: format!("receipt-{n}"),
        category: "sexual.explicit".into(),
        description: format!("seen {n}"),
        contact,
        reporter_id: Some(format!("who-{n}")),
        targets: vec![target.clone()],
    };
    let first = report(1, Some(vec![1, 2, 3]));
    let filed = store.file_report(&first).await.unwrap();
    assert!(filed[0].new);
    let case_id = filed[0].case_id;
    for n in 2..=3 {
        let f = store.file_report(&report(n, None)).await.unwrap();
        assert_eq!((f[0].case_id, f[0].new), (case_id, false));
    }
    let case = store.case(case_id).await.unwrap().unwrap();
    assert_eq!(
        (case.report_count, case.first_report, case.status.as_str()),
        (3, first.id, "received")
    );
    assert_eq!(
        store.cases_for_receipt("receipt-2").await.unwrap().unwrap()[0].id,
        case_id
    );
    assert!(store.cases_for_receipt("nope").await.unwrap().is_none());
    let reports = store.case_reports(case_id).await.unwrap();
    assert_eq!(reports.len(), 3);
    assert_eq!(
        (reports[0].id, reports[0].contact.as_deref()),
        (first.id, Some(&[1u8, 2, 3][..]))
    );

    // Uploads are kept for a triage a restart interrupts.
    let sha = store.keep_report_content(b"reported bytes").await.unwrap();
    assert_eq!(sha, cleanweb_store::sha256_hex(b"reported bytes"));
    assert_eq!(
        store.blob(&sha).await.unwrap().as_deref(),
        Some(&b"reported bytes"[..])
    );
    assert_eq!(
        store.keep_report_content(b"reported bytes").await.unwrap(),
        sha
    );
    let waiting: Vec<_> = store
        .untriaged_cases()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(waiting, [case_id], "what a restart must triage");

    // Triage: even an `allow` from a report is queued, above a lone review.
    let d = record("reported page", Verdict::Allow, Source::Report);
    assert!(
        store
            .set_case_triage(case_id, Some(&d), Some("slow"))
            .await
            .unwrap()
    );
    // A second triage of the same case (another node resuming it) stores
    // nothing: one decision per case in the queue.
    let twice = record("reported page again", Verdict::Review, Source::Report);
    assert!(
        !store
            .set_case_triage(case_id, Some(&twice), None)
            .await
            .unwrap()
    );
    assert!(store.decision(twice.id).await.unwrap().is_none());
    assert!(store.untriaged_cases().await.unwrap().is_empty());
    let case = store.case_by_decision(d.id).await.unwrap().unwrap();
    assert_eq!(
        (case.status.as_str(), case.triage_error.as_deref()),
        ("in_review", Some("slow"))
    );
    let lone = record("lone", Verdict::Review, Source::Api);
    store
        .save_decisions(std::slice::from_ref(&lone))
        .await
        .unwrap();
    let queue = open_queue(store).await;
    let ids: Vec<_> = queue.iter().map(|e| e.record.id).collect();
    assert!(ids.contains(&d.id), "reported items are queued");
    // A fourth report after triage raises it further.
    store.file_report(&report(4, None)).await.unwrap();

    let settle = |amount| CaseSettlement {
        case_id,
        reward: Some(NewReward {
            report_id: first.id,
            reporter_id: Some("who-1".into()),
            category: "sexual.explicit".into(),
            amount,
            currency: "CNY".into(),
            caps: cleanweb_core::rewards::RewardCaps {
                per_reporter: Some(6000),
                per_all: Some(5000),
                since_ms: 0,
            },
        }),
    };
    let review = |amount, admin| NewReview {
        decision_id: d.id,
        reviewer: "root".into(),
        is_admin: admin,
        outcome: Outcome::Violation,
        category: Some(Category::SexualExplicit),
        note: String::new(),
        deliveries: vec![],
        suggestion: None,
        audit: cleanweb_core::AuditEvent {
            actor: "user:root".into(),
            action: "review.decide".into(),
            subject: d.id.to_string(),
            details: serde_json::json!({}),
        },
        case: Some(settle(amount)),
    };
    store
        .record_review(&review(5000, true))
        .await
        .unwrap()
        .unwrap();
    store
        .record_review(&review(9999, true))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.case(case_id).await.unwrap().unwrap().status,
        cleanweb_core::review::CaseStatus::Confirmed
    );
    let rewards = store.rewards(Some("owed")).await.unwrap();
    assert_eq!(rewards.len(), 1, "one reward per case, ever");
    assert_eq!((rewards[0].amount, rewards[0].report_id), (5000, first.id));
    assert_eq!(
        store.reward_totals(Some("who-1"), 0).await.unwrap(),
        (5000, 5000)
    );
    assert_eq!(
        store.reward_totals(Some("who-2"), 0).await.unwrap(),
        (0, 5000)
    );
    assert!(store.mark_reward_paid(rewards[0].id, "root").await.unwrap());
    assert!(!store.mark_reward_paid(rewards[0].id, "root").await.unwrap());
    assert_eq!(
        store.rewards(Some("paid")).await.unwrap()[0]
            .paid_by
            .as_deref(),
        Some("root")
    );

    // Another case: the monthly cap (5000 in all, already granted) cuts its
    // reward to nothing; confirming twice takes down once; overturning
    // voids the unpaid entry; a page found fine is reopened by its next
    // report.
    let other = NewTarget {
        target: "url:http://bad.example/y".into(),
        kind: "url".into(),
        url: None,
    };
    let mut r5 = report(5, Some(vec![9]));
    r5.targets = vec![other.clone()];
    let case2 = store.file_report(&r5).await.unwrap()[0].case_id;
    let d2 = record("page y", Verdict::Review, Source::Report);
    store.set_case_triage(case2, Some(&d2), None).await.unwrap();
    let decide = |outcome| NewReview {
        decision_id: d2.id,
        case: Some(CaseSettlement {
            case_id: case2,
            reward: Some(NewReward {
                report_id: r5.id,
                reporter_id: Some("who-5".into()),
                category: "sexual.explicit".into(),
                amount: 100,
                currency: "CNY".into(),
                caps: cleanweb_core::rewards::RewardCaps {
                    per_reporter: None,
                    per_all: Some(5000),
                    since_ms: 0,
                },
            }),
        }),
        outcome,
        deliveries: vec![cleanweb_store::NewDelivery {
            id: uuid::Uuid::now_v7(),
            webhook: "w".into(),
            event: "takedown".into(),
            subject: d2.id.to_string(),
            payload: "{}".into(),
        }],
        ..review(0, true)
    };
    for _ in 0..2 {
        store
            .record_review(&decide(Outcome::Violation))
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        store
            .deliveries_for(&d2.id.to_string())
            .await
            .unwrap()
            .len(),
        1,
        "taken down once"
    );
    let mine =
        |all: Vec<cleanweb_store::Reward>| all.into_iter().find(|w| w.case_id == case2).unwrap();
    let capped = mine(store.rewards(None).await.unwrap());
    assert_eq!(
        (capped.amount, capped.capped, capped.status.as_str()),
        (0, true, "owed")
    );
    store
        .record_review(&decide(Outcome::NotViolation))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine(store.rewards(None).await.unwrap()).status, "void");
    let mut r6 = report(6, None);
    r6.targets = vec![other];
    let f = store.file_report(&r6).await.unwrap();
    assert_eq!(
        (f[0].case_id, f[0].new),
        (case2, true),
        "reopened for triage"
    );
    let c2 = store.case(case2).await.unwrap().unwrap();
    assert_eq!(
        (c2.status.as_str(), c2.decision_id, c2.report_count),
        ("received", None, 2)
    );
}

/// The same picture reported as explicit, triaged, then reported as
/// involving minors: the case and its decision follow the graver report.
async fn a_minors_report_joining_a_case_escalates_it(store: &dyn Store) {
    use cleanweb_core::review::ReviewState;
    use cleanweb_store::{NewReport, NewTarget};
    let report = |n: u8, category: &str| NewReport {
        id: uuid::Uuid::now_v7(),
        receipt_hash: format!("minors-receipt-{n}"),
        category: category.into(),
        description: String::new(),
        contact: None,
        reporter_id: None,
        targets: vec![NewTarget {
            target: "sha256:abcd".into(),
            kind: "image".into(),
            url: None,
        }],
    };
    let case_id = store
        .file_report(&report(1, "sexual.explicit"))
        .await
        .unwrap()[0]
        .case_id;
    let d = record("reported picture", Verdict::Review, Source::Report);
    assert!(
        store
            .set_case_triage(case_id, Some(&d), None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.decision(d.id).await.unwrap().unwrap().review_state,
        None
    );
    assert!(!store.image_involves_minors("abcd").await.unwrap());

    store
        .file_report(&report(2, "sexual.minors"))
        .await
        .unwrap();
    let case = store.case(case_id).await.unwrap().unwrap();
    assert_eq!(case.category, "sexual.minors");
    assert_eq!(
        store.decision(d.id).await.unwrap().unwrap().review_state,
        Some(ReviewState::Escalated)
    );
    assert!(
        store.image_involves_minors("abcd").await.unwrap(),
        "media withheld"
    );
    // A later explicit report does not lower it again.
    store
        .file_report(&report(3, "sexual.explicit"))
        .await
        .unwrap();
    assert_eq!(
        store.case(case_id).await.unwrap().unwrap().category,
        "sexual.minors"
    );
}

/// Callers go away mid-write (a client hangs up, a timeout fires). With
/// raw BEGIN/COMMIT, or a BEGIN cancelled on its way, such a connection went
/// back to the pool inside a transaction no one owned: later writers waited
/// and failed (SQLite), or wrote into it and were never committed.
async fn writes_dropped_midway_leave_nothing_behind(store: &dyn Store) {
    use std::time::Duration;
    let audit = cleanweb_core::AuditEvent {
        actor: "test".into(),
        action: "test.write".into(),
        subject: "s".into(),
        details: serde_json::json!({}),
    };
    let site = event("dropped.test", SiteStatus::Watch);
    // Dropped at many points, some inside the transaction.
    for i in 0..300u64 {
        let wait = Duration::from_micros(i * 7);
        let _ = tokio::time::timeout(wait, store.append_audit(&audit)).await;
        let _ = tokio::time::timeout(wait, store.record_site_event(&site)).await;
        let _ = tokio::time::timeout(
            wait,
            store.save_decisions(&[record("x", Verdict::Block, Source::Api)]),
        )
        .await;
    }
    // Every later write gets through at once and is there afterwards.
    let before = store.count_decisions().await.unwrap();
    for _ in 0..5 {
        tokio::time::timeout(Duration::from_secs(3), store.append_audit(&audit))
            .await
            .expect("a writer waited for a lock nobody holds")
            .unwrap();
        tokio::time::timeout(
            Duration::from_secs(3),
            store.save_decisions(&[record("y", Verdict::Block, Source::Api)]),
        )
        .await
        .expect("a writer waited for a lock nobody holds")
        .unwrap();
    }
    assert_eq!(store.count_decisions().await.unwrap(), before + 5);
}

#[tokio::test]
async fn sqlite_dropped_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    writes_dropped_midway_leave_nothing_behind(&store).await;
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn postgres_dropped_writes() {
    in_fresh_schema(async |store| writes_dropped_midway_leave_nothing_behind(store).await).await;
}

#[tokio::test]
async fn sqlite_minors_report_escalates() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    a_minors_report_joining_a_case_escalates_it(&store).await;
}

#[tokio::test]
async fn postgres_minors_report_escalates() {
    in_fresh_schema(async |store| a_minors_report_joining_a_case_escalates_it(store).await).await;
}

#[tokio::test]
async fn sqlite_reports_flow() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    reports_flow(&store).await;
}

#[tokio::test]
async fn postgres_reports_flow() {
    in_fresh_schema(async |store| reports_flow(store).await).await;
}

#[tokio::test]
async fn sqlite_review_flow() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    review_flow(&store).await;
}

#[tokio::test]
async fn postgres_review_flow() {
    in_fresh_schema(async |store| review_flow(store).await).await;
}

/// Waiting raises an item: a mild one queued long ago comes before a
/// severe one that just arrived, and the shown priority says why.
async fn queue_aging(store: &dyn Store) {
    let labelled = |text: &str, category: Category, age_hours: i64| {
        let mut r = record(text, Verdict::Review, Source::Api);
        r.decision.labels = vec![Label::new(category, 0.9, "text.lexicon")];
        r.created_at_ms -= age_hours * cleanweb_core::review::AGING_MS;
        r
    };
    let fresh = labelled("fresh", Category::SexualExplicit, 0);
    let waiting = labelled("waiting", Category::SexualSuggestive, 100);
    let recent = labelled("recent", Category::SexualSuggestive, 1);
    store
        .save_decisions(&[fresh.clone(), waiting.clone(), recent.clone()])
        .await
        .unwrap();
    let queue = open_queue(store).await;
    let order: Vec<_> = queue.iter().map(|e| e.record.id).collect();
    assert_eq!(order, [waiting.id, fresh.id, recent.id]);
    let base = cleanweb_core::review::priority(&waiting.decision);
    assert!(
        (base + 100..=base + 101).contains(&queue[0].priority),
        "{}",
        queue[0].priority
    );
}

#[tokio::test]
async fn sqlite_queue_aging() {
    let dir = tempfile::tempdir().unwrap();
    queue_aging(&SqliteStore::open_in(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_queue_aging() {
    in_fresh_schema(async |store| queue_aging(store).await).await;
}

/// The first ten entries of the open queue, in its order.
async fn open_queue(store: &dyn Store) -> Vec<cleanweb_store::QueueEntry> {
    use cleanweb_store::{Queue, QueueQuery};
    store
        .queue(&QueueQuery {
            queue: Queue::Open,
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Runs `test` on a PostgreSQL store in a schema of its own, dropped after.
async fn in_fresh_schema(test: impl AsyncFnOnce(&PgStore)) {
    let schema = format!("cw_test_{:016x}", rand::random::<u64>());
    let url = pg_url();
    let store = PgStore::connect_in_schema(&url, Some(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e} (scripts/deps starts it)"));
    test(&store).await;
    store.close().await;
    assert!(drop_schema(&url, &schema).await, "schema dropped");
}

/// Captures are kept content-addressed and found by what they are evidence
/// for; retention removes old ones except those under the legal hold (an
/// open case, a site in the registry that is not restored), and a blob
/// goes only with the last thing referring to it.
async fn evidence_flow(store: &dyn Store) {
    use cleanweb_core::AuditEvent;
    use cleanweb_store::{CaptureQuery, NewCapture, NewReport, NewTarget};
    let report = NewReport {
        id: uuid::Uuid::now_v7(),
        receipt_hash: "r-evidence".into(),
        category: "sexual.explicit".into(),
        description: "seen".into(),
        contact: None,
        reporter_id: None,
        targets: vec![NewTarget {
            target: "url:http://open-case.example/".into(),
            kind: "url".into(),
            url: Some("http://open-case.example/".into()),
        }],
    };
    let case_id = store.file_report(&report).await.unwrap()[0].case_id;
    store
        .record_site_event(&event("held.example", SiteStatus::Watch))
        .await
        .unwrap()
        .unwrap();
    // An inspection keeps the status it finds, and may propose another.
    let mut inspection = event("held.example", SiteStatus::Closed);
    inspection.kind = cleanweb_core::SiteEventKind::Inspection;
    inspection.proposal = Some(SiteStatus::Closed);
    assert!(store.record_site_event(&inspection).await.unwrap().is_err());
    inspection.status = SiteStatus::Watch;
    store.record_site_event(&inspection).await.unwrap().unwrap();
    let mut none = inspection.clone();
    none.domain = "never-listed.example".into();
    assert!(store.record_site_event(&none).await.unwrap().is_err());
    let latest = store
        .site_history("held.example")
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(latest, inspection);
    assert_eq!(
        cleanweb_core::site::pending_proposal(&latest),
        Some(SiteStatus::Closed)
    );
    for s in [SiteStatus::Watch, SiteStatus::Warned, SiteStatus::Restored] {
        let mut e = event("done.example", s);
        e.reason = format!("{s:?}");
        store.record_site_event(&e).await.unwrap().unwrap();
    }
    let capture = |url: &str, domain: &str, bytes: &[u8]| NewCapture {
        bytes: bytes.to_vec(),
        url: url.into(),
        domain: Some(domain.into()),
        case_id: None,
        sweep_id: None,
        decision_id: None,
    };
    let mut in_case = capture(
        "http://open-case.example/",
        "open-case.example",
        b"case warc",
    );
    in_case.case_id = Some(case_id);
    let mut in_sweep = capture("http://done.example/a", "done.example", b"restored warc");
    in_sweep.sweep_id = Some("sweep-1".into());
    // The same bytes as a decision's picture: pruning the capture keeps it.
    let shared = b"picture bytes".to_vec();
    let mut rec = record("pictured", Verdict::Review, Source::Api);
    rec.image_sha256 = Some(cleanweb_store::sha256_hex(&shared));
    rec.image = Some(shared.clone().into());
    rec.url = Some("http://a_b.example/x".into());
    store.save_decisions(&[rec.clone()]).await.unwrap();
    let saved = store
        .save_captures(&[
            in_case,
            capture("http://held.example/", "held.example", b"held warc"),
            in_sweep,
            capture("http://other.example/", "other.example", &shared),
        ])
        .await
        .unwrap();
    assert_eq!(saved.len(), 4);
    assert_eq!(saved[0].sha256, cleanweb_store::sha256_hex(b"case warc"));
    assert_eq!(
        store.blob(&saved[1].sha256).await.unwrap().as_deref(),
        Some(&b"held warc"[..])
    );
    let found = |q: CaptureQuery| async move {
        store
            .captures(&q, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.url)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        found(CaptureQuery {
            case_id: Some(case_id),
            ..Default::default()
        })
        .await,
        ["http://open-case.example/"]
    );
    assert_eq!(
        found(CaptureQuery {
            sweep_id: Some("sweep-1".into()),
            domain: Some("done.example".into()),
            ..Default::default()
        })
        .await,
        ["http://done.example/a"]
    );
    assert_eq!(found(CaptureQuery::default()).await.len(), 4);

    // Nothing is past a retention that starts before the captures.
    let audit = AuditEvent {
        actor: "cli:test".into(),
        action: "evidence.prune".into(),
        subject: "captures".into(),
        details: serde_json::json!({}),
    };
    let none = store.prune_captures(0, &audit).await.unwrap();
    assert_eq!((none.removed, none.held), (0, 0));
    let later = cleanweb_store::now_ms() + 1000;
    let pruned = store.prune_captures(later, &audit).await.unwrap();
    assert_eq!((pruned.removed, pruned.held), (2, 2), "{pruned:?}");
    let left = found(CaptureQuery::default()).await;
    assert_eq!(left, ["http://open-case.example/", "http://held.example/"]);
    assert_eq!(store.blob(&saved[2].sha256).await.unwrap(), None);
    assert_eq!(
        store.blob(&saved[3].sha256).await.unwrap().as_deref(),
        Some(&shared[..]),
        "a decision's picture outlives the capture"
    );
    let head = store.audit_head().await.unwrap().unwrap();
    assert_eq!(head.event.action, "evidence.prune");
    assert_eq!(head.event.details["removed"], 2);
    assert_eq!(store.audit_about("captures", 10).await.unwrap().len(), 2);

    // Signed checkpoints: kept once per event number, oldest first.
    let cp = |seq: u64| cleanweb_store::Checkpoint {
        seq,
        hash: format!("h{seq}"),
        public_key: "k".into(),
        signature: "s".into(),
        at_ms: 5,
    };
    store.save_checkpoint(&cp(9)).await.unwrap();
    store.save_checkpoint(&cp(3)).await.unwrap();
    let mut again = cp(3);
    again.hash = "other".into();
    store.save_checkpoint(&again).await.unwrap();
    assert_eq!(store.checkpoints().await.unwrap(), vec![cp(3), cp(9)]);
    // Decisions per UTC day: one day, today's start, the one decision.
    let days = store.decisions_per_day(0).await.unwrap();
    assert_eq!(days.len(), 1, "{days:?}");
    assert_eq!(days[0].0 % 86_400_000, 0);
    assert_eq!((days[0].1, days[0].2), (1, 1));
    // URL searches take `_` and `%` literally.
    let by_url = store.decisions_with_url("a_b.example", 10).await.unwrap();
    assert_eq!(by_url.len(), 1);
    assert!(
        store
            .decisions_with_url("a%b", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let cases = store.cases_with_url("open-case.example", 10).await.unwrap();
    assert_eq!(cases[0].id, case_id);
}

#[tokio::test]
async fn sqlite_evidence_flow() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    evidence_flow(&store).await;
}

#[tokio::test]
async fn postgres_evidence_flow() {
    in_fresh_schema(async |store| evidence_flow(store).await).await;
}
