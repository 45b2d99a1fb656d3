//! `cleanweb report compliance`: the monthly accountability report.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use cleanweb_service::compliance::{Month, gather, render_csv, render_html, signed};

use crate::setup::GlobalArgs;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Html,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// One month's volumes, decision times, late reviews and rectifications, reviewers, sites and reports.
    Compliance {
        /// The calendar month (UTC), YYYY-MM
        #[arg(long)]
        month: String,
        /// What to print or write
        #[arg(long, value_enum, default_value = "html")]
        format: Format,
        /// Write here instead of stdout; a name ending in .zip writes a signed bundle of all three formats (audited)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn run(global: &GlobalArgs, cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Compliance { month, format, out } = cmd;
    let month = Month::parse(&month).map_err(anyhow::Error::msg)?;
    let config = global.config()?;
    let signing = out
        .as_ref()
        .is_some_and(|p| p.extension().is_some_and(|e| e == "zip"));
    let key = if signing {
        Some(crate::evidence::key(global)?)
    } else {
        None
    };
    crate::setup::runtime()?.block_on(async {
        let store = global.store().await?;
        let report = gather(
            store.as_ref(),
            &month,
            &config.review,
            &crate::audit::cli_actor(),
        )
        .await?;
        if let (Some(path), Some(key)) = (&out, &key) {
            let file = std::fs::File::create(path)
                .with_context(|| format!("writing {}", path.display()))?;
            let (file, sha) = signed(store.as_ref(), &report, key, file).await?;
            file.sync_all()?;
            println!(
                "{}\tmanifest sha256 {sha}\tsigned by {}",
                path.display(),
                key.public().fingerprint()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let body = match format {
            Format::Html => render_html(&report)?,
            Format::Csv => render_csv(&report),
            Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        };
        match &out {
            Some(path) => {
                std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?
            }
            None => std::io::stdout().lock().write_all(body.as_bytes())?,
        }
        Ok(ExitCode::SUCCESS)
    })
}
