//! `cleanweb rewards`: the reward ledger for accountants. Listing names
//! opens sealed contacts, so an export needs a reason and is audited as a
//! disclosure.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use cleanweb_core::AuditEvent;

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum RewardsCommand {
    /// Write the ledger as CSV with the reporters' contact details (audited)
    Export {
        /// Why the details are needed (written to the audit log)
        #[arg(long)]
        reason: String,
        /// owed, paid, or all
        #[arg(long, default_value = "owed", value_parser = ["owed", "paid", "all"])]
        status: String,
        /// Write here instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Mark an owed reward as paid (audited)
    Pay { id: i64 },
}

pub fn run(global: &GlobalArgs, cmd: RewardsCommand) -> anyhow::Result<ExitCode> {
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    match cmd {
        RewardsCommand::Export {
            reason,
            status,
            out,
        } => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() {
                bail!("--reason must say why the reporters' details are needed");
            }
            let (key, _) = global.report_key(false)?.context(
                "no report key: set CLEANWEB_REPORT_KEY or --report-key-file (the one the server uses)",
            )?;
            let filter = (status != "all").then_some(status.as_str());
            let rewards = rt.block_on(store.rewards(filter))?;
            // The disclosure is recorded before anything is decrypted.
            let ids: Vec<i64> = rewards.iter().map(|r| r.id).collect();
            rt.block_on(store.append_audit(&AuditEvent {
                actor: crate::audit::cli_actor(),
                action: "rewards.export".into(),
                subject: format!("{} entries", ids.len()),
                details: serde_json::json!({"reason": reason, "status": status, "rewards": ids}),
            }))?;
            let sink: Box<dyn std::io::Write> = match &out {
                Some(path) => Box::new(
                    private_file(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut w = csv::Writer::from_writer(sink);
            w.write_record([
                "id", "case", "report", "category", "amount", "currency", "capped", "status",
                "created", "paid", "paid_by", "name", "phone", "email", "account",
            ])?;
            for r in &rewards {
                let report = rt.block_on(store.report(r.report_id))?;
                let contact = report
                    .and_then(|rep| rep.contact.map(|c| (rep.id, c)))
                    .map(|(id, sealed)| key.open(&id.to_string(), &sealed))
                    .transpose()
                    .context("a contact did not open with this key")?
                    .unwrap_or_default();
                let when = |ms: i64| {
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_millis(ms.max(0).unsigned_abs()),
                    )
                    .to_string()
                };
                w.write_record([
                    r.id.to_string(),
                    r.case_id.to_string(),
                    r.report_id.to_string(),
                    r.category.clone(),
                    cleanweb_core::rewards::format_amount(r.amount),
                    r.currency.clone(),
                    r.capped.to_string(),
                    r.status.clone(),
                    when(r.created_at_ms),
                    r.paid_at_ms.map(when).unwrap_or_default(),
                    cell(r.paid_by.clone().unwrap_or_default()),
                    // Typed by reporters: never a formula in a spreadsheet.
                    cell(contact.name.unwrap_or_default()),
                    cell(contact.phone.unwrap_or_default()),
                    cell(contact.email.unwrap_or_default()),
                    cell(contact.account.unwrap_or_default()),
                ])?;
            }
            w.flush()?;
            eprintln!(
                "exported {} reward(s); the disclosure is in the audit log",
                rewards.len()
            );
        }
        RewardsCommand::Pay { id } => {
            let by = crate::audit::cli_actor();
            if !rt.block_on(store.mark_reward_paid(id, &by))? {
                bail!("reward {id} is not owed (unknown, or already paid)");
            }
            rt.block_on(store.append_audit(&AuditEvent {
                actor: by,
                action: "reward.paid".into(),
                subject: id.to_string(),
                details: serde_json::json!({}),
            }))?;
            eprintln!("reward {id} marked paid");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens `path` for the export, readable by its owner only: it holds
/// reporters' names and accounts. An existing file is truncated and made
/// private too (the mode given at creation applies to new files only).
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// A CSV cell a spreadsheet shows as text: one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return would be read as a formula (CSV
/// injection), so it gets a leading single quote.
fn cell(value: String) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for (typed, cell_text) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+86 139 1234 5678", "'+86 139 1234 5678"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("alipay:first@example.org", "alipay:first@example.org"),
            ("张三", "张三"),
            ("", ""),
        ] {
            assert_eq!(cell(typed.to_owned()), cell_text, "{typed:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_export_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rewards.csv");
        drop(private_file(&path).unwrap());
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.as_path()), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(private_file(&path).unwrap());
        assert_eq!(
            mode(path.as_path()),
            0o600,
            "an existing file is made private"
        );
    }
}
