//! `cleanweb audit`: check the audit log's chain, and export it.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use cleanweb_core::audit::verify;

use crate::setup::GlobalArgs;

const PAGE: u32 = 5000;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain over every event; report the first broken link
    Verify {
        /// A chain head printed by an earlier verify and kept elsewhere: the
        /// event with this hash must still be in the log. The chain alone
        /// cannot show events cut off its end; this can.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
    },
    /// Sign the chain's head with the evidence key (the server does it hourly); verify then checks every checkpoint
    Checkpoint,
    /// Print events as JSON lines or CSV
    Export {
        /// Only events at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv"])]
        format: String,
    },
}

pub fn run(global: &GlobalArgs, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    match cmd {
        AuditCommand::Verify { expect_head } => {
            let expect_head = expect_head.map(|h| h.trim().to_ascii_lowercase());
            let mut head_seen = false;
            let mut last = None;
            let mut after = None;
            let checkpoints = rt.block_on(store.checkpoints())?;
            let wanted: std::collections::BTreeSet<u64> =
                checkpoints.iter().map(|c| c.seq).collect();
            let mut at_checkpoints = std::collections::BTreeMap::new();
            loop {
                let page = rt.block_on(store.audit_events(after, PAGE))?;
                if page.is_empty() {
                    break;
                }
                after = page.last().map(|r| r.seq);
                for r in page.iter().filter(|r| wanted.contains(&r.seq)) {
                    at_checkpoints.insert(r.seq, r.hash.clone());
                }
                head_seen = head_seen
                    || expect_head
                        .as_deref()
                        .is_some_and(|h| page.iter().any(|r| r.hash == h));
                match verify(last.as_ref(), &page) {
                    Ok(l) => last = l,
                    Err(broken) => {
                        println!("BROKEN\t{broken}");
                        return Ok(ExitCode::from(1));
                    }
                }
            }
            if let Some(h) = expect_head.as_deref()
                && !head_seen
            {
                println!(
                    "BROKEN\tthe expected head {h} is not in the log: events were removed from its end, or the log was replaced"
                );
                return Ok(ExitCode::from(1));
            }
            // Signed checkpoints: a rewrite that recomputed every hash, or a
            // cut below the newest checkpoint, fails here.
            let ours = global.evidence_key(false)?.map(|(k, _)| k.public());
            for c in &checkpoints {
                let key = cleanweb_service::evidence::checkpoint_signer(c);
                if key.is_none() {
                    println!("BROKEN\tcheckpoint #{} has no valid signature", c.seq);
                    return Ok(ExitCode::from(1));
                }
                if let (Some(ours), Some(k)) = (ours, key)
                    && ours != k
                {
                    println!(
                        "BROKEN\tcheckpoint #{} is signed by {}, not by this deployment's key {}",
                        c.seq,
                        k.fingerprint(),
                        ours.fingerprint()
                    );
                    return Ok(ExitCode::from(1));
                }
                match at_checkpoints.get(&c.seq) {
                    None => {
                        println!(
                            "BROKEN\tsigned checkpoint #{} is not in the log: events were removed",
                            c.seq
                        );
                        return Ok(ExitCode::from(1));
                    }
                    Some(h) if *h != c.hash => {
                        println!(
                            "BROKEN\tevent #{} differs from its signed checkpoint: the log was rewritten",
                            c.seq
                        );
                        return Ok(ExitCode::from(1));
                    }
                    Some(_) => {}
                }
            }
            let signed = match checkpoints.last() {
                Some(c) => format!(
                    "\t{} signed checkpoints, the last at #{}",
                    checkpoints.len(),
                    c.seq
                ),
                None => "\tno signed checkpoint yet (cleanweb audit checkpoint)".to_owned(),
            };
            match last {
                Some(l) => println!("ok\t{} events, chain head {}{signed}", l.seq, l.hash),
                None => println!("ok\t0 events{signed}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint => {
            let key = crate::evidence::key(global)?;
            match rt.block_on(cleanweb_service::evidence::checkpoint_audit(
                store.as_ref(),
                &key,
            ))? {
                Some(c) => println!(
                    "signed\t#{}\t{}\tby {}",
                    c.seq,
                    c.hash,
                    key.public().fingerprint()
                ),
                None => println!("nothing new to sign"),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export { since, format } => {
            let since_ms = match since {
                Some(t) => {
                    Some(cleanweb_service::time::parse_time(&t).map_err(anyhow::Error::msg)?)
                }
                None => None,
            };
            // Pages of events, streamed: memory stays bounded.
            let each = |f: &mut dyn FnMut(
                &cleanweb_core::AuditRecord,
            ) -> anyhow::Result<()>|
             -> anyhow::Result<()> {
                let mut after = None;
                loop {
                    let page = rt.block_on(store.audit_events(after, PAGE))?;
                    if page.is_empty() {
                        return Ok(());
                    }
                    after = page.last().map(|r| r.seq);
                    for r in page
                        .iter()
                        .filter(|r| since_ms.is_none_or(|s| r.at_ms >= s))
                    {
                        f(r)?;
                    }
                }
            };
            let stdout = std::io::stdout().lock();
            if format == "csv" {
                let mut w = csv::Writer::from_writer(stdout);
                w.write_record([
                    "seq",
                    "at_ms",
                    "actor",
                    "action",
                    "subject",
                    "details",
                    "prev_hash",
                    "hash",
                ])?;
                each(&mut |r| {
                    w.write_record([
                        r.seq.to_string(),
                        r.at_ms.to_string(),
                        r.event.actor.clone(),
                        r.event.action.clone(),
                        r.event.subject.clone(),
                        r.event.details.to_string(),
                        r.prev_hash.clone(),
                        r.hash.clone(),
                    ])?;
                    Ok(())
                })?;
                w.flush()?;
            } else {
                let mut out = std::io::BufWriter::new(stdout);
                each(&mut |r| Ok(writeln!(out, "{}", serde_json::to_string(r)?)?))?;
                out.flush()?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Who runs the CLI, for the audit log.
pub fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}
