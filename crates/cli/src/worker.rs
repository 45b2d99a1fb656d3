//! `cleanweb worker`: claims jobs of distributed sweeps from the shared
//! store and processes them. Stateless: run as many as you like, on as many
//! machines; kill any of them at any time.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use cleanweb_sweep::WorkerOptions;

use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Only this sweep's jobs [default: any distributed sweep's]
    #[arg(long, value_name = "ID")]
    sweep: Option<String>,
    /// Lease on a claimed job, renewed while it runs; a worker that dies
    /// loses its job to another after this long
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    lease_secs: u64,
    /// Exit when the sweep has no pending job left (with --sweep)
    #[arg(long, requires = "sweep")]
    exit_when_idle: bool,
    /// Test hook: pause after claiming a job
    #[arg(long, hide = true, default_value_t = 0)]
    pause_after_claim_ms: u64,
}

/// A worker's options; its owner name is unique per process.
pub fn options(
    sweep: Option<String>,
    lease_secs: u64,
    exit_when_idle: bool,
    pause_ms: u64,
) -> WorkerOptions {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    WorkerOptions {
        owner: format!(
            "{host}:{}:{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ),
        lease: Duration::from_secs(lease_secs.max(1)),
        sweep,
        exit_when_idle,
        pause_after_claim: Duration::from_millis(pause_ms),
    }
}

pub fn run(global: &GlobalArgs, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    let engine = Arc::new(global.engine(&config)?);
    let options = options(
        args.sweep,
        args.lease_secs,
        args.exit_when_idle,
        args.pause_after_claim_ms,
    );
    tracing::info!(owner = %options.owner, "worker started");
    let jobs = rt.block_on(cleanweb_sweep::work(engine, store, &options, &mut |job, added| {
        tracing::info!(sweep = %job.sweep_id, job = job.job_no, attempt = job.attempts, added, "job done");
    }))?;
    eprintln!("cleanweb: worker finished {jobs} jobs");
    Ok(ExitCode::SUCCESS)
}
