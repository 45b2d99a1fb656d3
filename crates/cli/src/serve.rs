use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use cleanweb_core::auth::Role;
use cleanweb_server::AppState;
use cleanweb_store::Store;

use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: server.addr from the config, 127.0.0.1:8080]
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<SocketAddr>,
}

pub fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    if config.image.nudity {
        // Fetch and load now, not on the first image request.
        match crate::models::load(&global.models_dir(), &config.image) {
            Ok(m) => tracing::info!(classes = m.classes().len(), "nudity model loaded"),
            Err(e) => tracing::warn!(
                "image nudity detection is unavailable ({e:#}); image items will carry a warning"
            ),
        }
    }
    let banks = cleanweb_match::SharedBanks::default();
    let video = crate::setup::video_decoder(&config);
    let engine = global.engine_sharing(&config, &banks, video.clone())?;
    let addr: SocketAddr =
        match args.addr {
            Some(a) => a,
            None => config.server.addr.parse().with_context(|| {
                format!("server.addr {:?} is not HOST:PORT", config.server.addr)
            })?,
        };
    // Before anything is written: a node that could not open reporters'
    // contacts (no shared key on PostgreSQL, two keys given) must not start.
    let report_key = if config.reports.enabled {
        Some(
            global
                .report_key(true)?
                .ok_or_else(|| anyhow::anyhow!("no report key"))?,
        )
    } else {
        None
    };
    crate::setup::runtime()?.block_on(async {
        let store = global.store().await?;
        tracing::info!(kind = store.kind(), "store open");
        first_admin_key(store.as_ref()).await?;
        let mut state = AppState::new(engine, store);
        let (g, c, b) = (global.clone(), config.clone(), banks.clone());
        state.rebuild = Some(Arc::new(move || {
            g.engine_sharing(&c, &b, video.clone())
                .map_err(|e| format!("{e:#}"))
        }));
        state.banks = banks;
        reload_on_sighup(state.clone());
        state.store_allow = config.store.store_allow;
        state.data_dir = Some(global.data_dir());
        state.request_timeout = Duration::from_secs(config.server.request_timeout_secs.max(1));
        state.console.review = config.review.clone();
        state.trusted_proxies = Arc::new(config.server.trusted_proxies.clone());
        let tasks = cleanweb_server::engine_tasks(config.server.engine_tasks);
        state.engine_slots = Arc::new(tokio::sync::Semaphore::new(tasks));
        state.engine_wait = Duration::from_millis(config.server.engine_wait_ms);
        state.console.console = config.console.clone();
        if let Some((key, source)) = report_key {
            match &source {
                crate::setup::KeySource::Created(path) => {
                    tracing::warn!(path = %path.display(), "created a report key beside the database");
                    eprintln!(
                        "cleanweb: WARNING: created the key that encrypts reporters' contact details at {}.\n\
                         cleanweb: WARNING: back it up and keep it off the database's backups; production\n\
                         cleanweb: WARNING: deployments should supply their own (CLEANWEB_REPORT_KEY or --report-key-file).",
                        path.display()
                    );
                }
                crate::setup::KeySource::DefaultFile(path) => {
                    tracing::warn!(path = %path.display(), "using the report key file beside the database; production deployments should supply their own");
                }
                _ => tracing::info!(source = ?source, "report key loaded"),
            }
            let mut reports = cleanweb_service::reports::ReportsState::new(
                config.reports.clone(),
                config.rewards.clone(),
                key,
            );
            reports.capture = config.evidence.capture_triage;
            state.reports = Some(Arc::new(reports));
        }
        // Bundles are signed with the deployment's key; nodes sharing
        // PostgreSQL must be given it (none is made), else they export none.
        match global.evidence_key(!global.uses_postgres())? {
            Some((key, source)) => {
                if let crate::setup::KeySource::Created(path) = &source {
                    eprintln!(
                        "cleanweb: created the evidence key {} (mode 600); bundles are signed with it, keep a copy",
                        path.display()
                    );
                }
                tracing::info!(fingerprint = %key.public().fingerprint(), "evidence key loaded");
                let key = Arc::new(key);
                checkpoint_hourly(Arc::clone(&state.store), Arc::clone(&key));
                state.evidence_key = Some(key);
            }
            None => tracing::warn!(
                "no evidence key (CLEANWEB_EVIDENCE_KEY or --evidence-key-file): evidence exports are off"
            ),
        }
        prune_daily(Arc::clone(&state.store), config.evidence.retain_days);
        inspect_at_deadlines(&state, global.data_dir());
        if !config.webhooks.is_empty() {
            let sender = Arc::new(cleanweb_webhook::Sender::new(
                Arc::clone(&state.store),
                &config.webhooks,
            )?);
            tracing::info!(webhooks = ?sender.names(), "takedown webhooks on");
            // Runs until the runtime stops, after the server.
            tokio::spawn(Arc::clone(&sender).run(std::future::pending::<()>()));
            state.console.webhooks = Some(sender);
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        // Triage runs in memory: cases a stop or crash left untriaged are
        // queued again (content and URLs are in the store).
        let resumed = match state.report_desk() {
            Some(desk) => desk.resume_triage().await,
            None => Ok(0),
        };
        match resumed {
            Ok(0) => {}
            Ok(n) => tracing::info!(cases = n, "resuming the triage of reported cases"),
            Err(e) => tracing::error!(error = %e, "untriaged cases could not be listed; they wait for the next start"),
        }
        println!("cleanweb: listening on http://{local}");
        tracing::info!(%local, detectors = ?state.engine.load().detector_names(), "serving");
        cleanweb_server::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Retention: once a day (the first an hour after start), captures past
/// `retain_days` are deleted unless the legal hold keeps them. Several
/// nodes may each run it; a second run finds nothing to delete.
fn prune_daily(store: Arc<dyn Store>, retain_days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(
            tokio::time::Instant::now() + std::time::Duration::from_secs(3600),
            std::time::Duration::from_secs(86_400),
        );
        loop {
            every.tick().await;
            match cleanweb_service::evidence::prune(store.as_ref(), retain_days, "system").await {
                Ok(p) => tracing::info!(removed = p.removed, held = p.held, "evidence retention"),
                Err(e) => {
                    tracing::error!(error = %e, "evidence retention failed; retried tomorrow")
                }
            }
        }
    });
}

/// Once an hour, the audit chain's head is signed with the evidence key, so
/// `audit verify` catches a rewrite of everything up to it.
fn checkpoint_hourly(store: Arc<dyn Store>, key: Arc<cleanweb_evidence::key::EvidenceKey>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = cleanweb_service::evidence::checkpoint_audit(store.as_ref(), &key).await
            {
                tracing::error!(error = %e, "the audit checkpoint could not be signed");
            }
        }
    });
}

/// Every ten minutes, sites past their rectification deadline and not
/// inspected since are re-inspected (one at a time), and their proposals
/// wait for an admin in the console or `cleanweb sites confirm`.
fn inspect_at_deadlines(state: &AppState, data_dir: std::path::PathBuf) {
    let (store, engine) = (Arc::clone(&state.store), Arc::clone(&state.engine));
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(
            tokio::time::Instant::now() + std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(600),
        );
        let options = cleanweb_service::sites::InspectOptions::default();
        loop {
            every.tick().await;
            let now = cleanweb_store::now_ms();
            match cleanweb_service::sites::inspect_due(
                store.as_ref(),
                engine.load_full(),
                &data_dir,
                &options,
                now,
            )
            .await
            {
                Ok(done) if !done.is_empty() => {
                    tracing::info!(sites = done.len(), "re-inspected sites past their deadline")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "re-inspections could not be listed"),
            }
        }
    });
}

/// On an empty store, creates an admin key and prints it once.
async fn first_admin_key(store: &dyn Store) -> anyhow::Result<()> {
    if !store.api_keys().await?.is_empty() {
        return Ok(());
    }
    let created = cleanweb_core::AuditEvent {
        actor: "system".into(),
        action: "key.create".into(),
        subject: String::new(),
        details: serde_json::json!({"name": "first admin", "role": Role::Admin.as_str(), "first": true}),
    };
    let (key, secret) = store
        .create_api_key("first admin", Role::Admin, &created)
        .await?;
    println!(
        "cleanweb: created the first admin API key (id {}). It is shown only this once; keep it safe:",
        key.id
    );
    println!("admin key: {secret}");
    Ok(())
}

/// SIGHUP re-reads the lexicon files, like `POST /v1/admin/reload`.
fn reload_on_sighup(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            if let Err(e) = state.reload_audited("signal:SIGHUP").await {
                tracing::error!(error = %e, "reload refused; the previous engine keeps serving");
            }
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
