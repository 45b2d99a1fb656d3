use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use cleanweb_core::{SiteEvent, SiteStatus};
use cleanweb_service::sites::{Change, change_status};

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// Put a site in the registry (status watch unless --status says otherwise).
    Add {
        /// A domain or URL; its registrable domain is the site
        site: String,
        #[arg(long, default_value = "watch")]
        status: SiteStatus,
        #[command(flatten)]
        why: Why,
    },
    /// Change a site's status: warned, rectification (needs --deadline), closed, restored.
    Status {
        site: String,
        status: SiteStatus,
        #[command(flatten)]
        why: Why,
    },
    /// A site's history, oldest first.
    History { site: String },
    /// Every site with its current status.
    List {
        #[arg(long)]
        status: Option<SiteStatus>,
    },
    /// Re-inspect a site now: a bounded crawl keeping WARC evidence, then a proposal (closed or restored) for an admin to confirm.
    Inspect {
        site: String,
        /// Start here instead of https://DOMAIN/ (a URL on the site)
        #[arg(long)]
        url: Option<String>,
        /// Most pages and pictures fetched
        #[arg(long, default_value_t = 200)]
        max_pages: u64,
        /// Milliseconds between requests (robots.txt may ask for more)
        #[arg(long, default_value_t = 500)]
        delay_ms: u64,
        /// Allow private and loopback addresses (only for a site of your own)
        #[arg(long)]
        allow_private: bool,
        /// Who asks [default: the OS user]
        #[arg(long)]
        actor: Option<String>,
    },
    /// Confirm the latest inspection's proposal (closed or restored), with a reason.
    Confirm {
        site: String,
        #[arg(long)]
        reason: String,
        /// Who decides [default: the OS user]
        #[arg(long)]
        actor: Option<String>,
    },
    /// Sites past their rectification deadline with no decision, and their count.
    Overdue,
}

#[derive(Debug, clap::Args)]
pub struct Why {
    /// Why the status changes (required)
    #[arg(long)]
    reason: String,
    /// Who decides [default: the OS user]
    #[arg(long)]
    actor: Option<String>,
    /// Evidence references: decision ids, report receipts, URLs (repeatable)
    #[arg(long)]
    evidence: Vec<String>,
    /// Deadline for a rectification (RFC 3339 date or time)
    #[arg(long)]
    deadline: Option<String>,
}

fn print_event(e: &SiteEvent) {
    let at = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH
            + std::time::Duration::from_millis(u64::try_from(e.at_ms).unwrap_or(0)),
    );
    let deadline = e
        .deadline_ms
        .map(|d| {
            let t = std::time::UNIX_EPOCH
                + std::time::Duration::from_millis(u64::try_from(d).unwrap_or(0));
            format!("\tdeadline {}", humantime::format_rfc3339_seconds(t))
        })
        .unwrap_or_default();
    let kind = match (e.kind, e.proposal) {
        (cleanweb_core::SiteEventKind::Inspection, Some(p)) => {
            format!(" (inspection, proposes {p})")
        }
        (cleanweb_core::SiteEventKind::Inspection, None) => " (inspection)".to_owned(),
        _ => String::new(),
    };
    println!(
        "{at}\t{}\t{}{kind}\tby {}\t{}{deadline}{}",
        e.domain,
        e.status,
        e.actor,
        e.reason,
        if e.evidence.is_empty() {
            String::new()
        } else {
            format!("\tevidence {}", e.evidence.join(","))
        }
    );
}

pub fn run(global: &GlobalArgs, cmd: SitesCommand) -> anyhow::Result<ExitCode> {
    let data = global.data_dir();
    // Built outside the runtime: building reads the store on one of its own.
    let engine = match &cmd {
        SitesCommand::Inspect { .. } => {
            Some(std::sync::Arc::new(global.engine(&global.config()?)?))
        }
        _ => None,
    };
    crate::setup::runtime()?.block_on(async {
        let store = global.store().await?;
        match cmd {
            SitesCommand::Add { site, status, why }
            | SitesCommand::Status { site, status, why } => {
                let deadline_ms = why
                    .deadline
                    .as_deref()
                    .map(cleanweb_service::time::parse_time)
                    .transpose()
                    .map_err(anyhow::Error::msg)?;
                let actor = why
                    .actor
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "cli".into());
                let change = Change {
                    site,
                    status,
                    actor,
                    reason: why.reason,
                    evidence: why.evidence,
                    deadline_ms,
                };
                let event = change_status(store.as_ref(), &data, change).await?;
                print_event(&event);
            }
            SitesCommand::History { site } => {
                let domain = cleanweb_url::registrable_domain(&site)
                    .ok_or_else(|| anyhow::anyhow!("{site:?} is not a site"))?;
                let events = store.site_history(&domain).await?;
                if events.is_empty() {
                    anyhow::bail!("{domain} is not in the registry");
                }
                events.iter().for_each(print_event);
            }
            SitesCommand::List { status } => {
                store.sites(status).await?.iter().for_each(print_event);
            }
            SitesCommand::Inspect {
                site,
                url,
                max_pages,
                delay_ms,
                allow_private,
                actor,
            } => {
                let engine = engine.context("no engine")?;
                let defaults = cleanweb_service::sites::InspectOptions::default();
                let options = cleanweb_service::sites::InspectOptions {
                    start: url,
                    max_pages,
                    delay: std::time::Duration::from_millis(delay_ms),
                    fetch: cleanweb_fetch::FetchLimits {
                        allow_private,
                        ..defaults.fetch.clone()
                    },
                    ..defaults
                };
                let actor = actor
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "cli".into());
                let event = cleanweb_service::sites::inspect(
                    store.as_ref(),
                    engine,
                    &data,
                    &site,
                    &actor,
                    &options,
                )
                .await?;
                print_event(&event);
            }
            SitesCommand::Confirm {
                site,
                reason,
                actor,
            } => {
                let actor = actor
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "cli".into());
                let event =
                    cleanweb_service::sites::confirm(store.as_ref(), &data, &site, &actor, &reason)
                        .await?;
                print_event(&event);
            }
            SitesCommand::Overdue => {
                let now = cleanweb_store::now_ms();
                let overdue = cleanweb_service::sites::overdue(store.as_ref(), now).await?;
                overdue.iter().for_each(print_event);
                eprintln!("{} overdue", overdue.len());
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
