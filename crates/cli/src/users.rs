//! `cleanweb user`: console accounts, passwords stored only as argon2id.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use cleanweb_core::auth::{UserRole, hash_password};
use cleanweb_store::{User, now_ms};

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; asks for the password (or reads one line from stdin with --password-stdin)
    Add {
        name: String,
        /// admin, reviewer or auditor
        #[arg(long)]
        role: UserRole,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts (never their passwords)
    List,
}

/// Shortest password accepted.
const MIN_PASSWORD: usize = 12;

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !from_stdin && stdin.is_terminal() {
        eprint!("password for the new account (at least {MIN_PASSWORD} characters): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn run(global: &GlobalArgs, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            if name.is_empty()
                || name.len() > 64
                || name.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                bail!("a user name is 1 to 64 characters, no spaces or control characters");
            }
            let password = read_password(password_stdin)?;
            if password.chars().count() < MIN_PASSWORD {
                bail!("the password must have at least {MIN_PASSWORD} characters");
            }
            let user = User {
                name: name.clone(),
                role,
                password_hash: hash_password(&password).map_err(anyhow::Error::msg)?,
                created_at_ms: now_ms(),
                disabled_at_ms: None,
                locale: None,
                show_media: false,
            };
            if !rt.block_on(store.create_user(&user))? {
                bail!("a user named {name:?} exists");
            }
            rt.block_on(store.append_audit(&cleanweb_core::AuditEvent {
                actor: crate::audit::cli_actor(),
                action: "user.create".into(),
                subject: name.clone(),
                details: serde_json::json!({"role": role.as_str()}),
            }))?;
            eprintln!("created {role} account {name:?}");
        }
        UserCommand::List => {
            for u in rt.block_on(store.users())? {
                let state = if u.disabled_at_ms.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}", u.name, u.role, state);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
