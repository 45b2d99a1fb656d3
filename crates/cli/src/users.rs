//! `cleanweb user`: console accounts, passwords stored only as argon2id.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use cleanweb_core::auth::{UserRole, hash_password};
use cleanweb_store::{User, UserChange, now_ms};

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
    /// Set a new password; the account's console sessions end
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account's role; its console sessions end
    Role { name: String, role: UserRole },
    /// Lock an account out of the console; its sessions end at once
    Disable { name: String },
    /// Let a disabled account sign in again
    Enable { name: String },
}

/// Shortest password accepted.
const MIN_PASSWORD: usize = 12;

/// A new password: typed twice without echo on a terminal, or one line
/// from stdin (scripts, `--password-stdin`); checked for length.
fn read_password(from_stdin: bool, name: &str) -> anyhow::Result<String> {
    let password = if !from_stdin && std::io::stdin().is_terminal() {
        let prompt = format!("password for {name} (at least {MIN_PASSWORD} characters): ");
        let first = rpassword::prompt_password(prompt).context("cannot read the password")?;
        let again = rpassword::prompt_password("again: ").context("cannot read the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.chars().count() < MIN_PASSWORD {
        bail!("the password must have at least {MIN_PASSWORD} characters");
    }
    Ok(password)
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
            let password = read_password(password_stdin, &name)?;
            let user = User {
                name: name.clone(),
                role,
                password_hash: hash_password(&password).map_err(anyhow::Error::msg)?,
                created_at_ms: now_ms(),
                disabled_at_ms: None,
                locale: None,
                show_media: false,
            };
            let created = cleanweb_core::AuditEvent {
                actor: crate::audit::cli_actor(),
                action: "user.create".into(),
                subject: name.clone(),
                details: serde_json::json!({"role": role.as_str()}),
            };
            if !rt.block_on(store.create_user(&user, &created))? {
                bail!("a user named {name:?} exists");
            }
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
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let password = read_password(password_stdin, &name)?;
            let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
            // The hash is not audited: only that the password changed.
            change(
                &rt,
                &*store,
                &name,
                UserChange::Password(hash),
                "user.password",
                serde_json::json!({}),
            )?;
            eprintln!("changed the password of {name:?}; its sessions ended");
        }
        UserCommand::Role { name, role } => {
            let details = serde_json::json!({"role": role.as_str()});
            change(
                &rt,
                &*store,
                &name,
                UserChange::Role(role),
                "user.role",
                details,
            )?;
            eprintln!("{name:?} is now {role}; its sessions ended");
        }
        UserCommand::Disable { name } => {
            change(
                &rt,
                &*store,
                &name,
                UserChange::Disable,
                "user.disable",
                serde_json::json!({}),
            )?;
            eprintln!("disabled {name:?}; its sessions ended");
        }
        UserCommand::Enable { name } => {
            change(
                &rt,
                &*store,
                &name,
                UserChange::Enable,
                "user.enable",
                serde_json::json!({}),
            )?;
            eprintln!("enabled {name:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies and audits one account change, in one transaction.
fn change(
    rt: &tokio::runtime::Runtime,
    store: &dyn cleanweb_store::Store,
    name: &str,
    change: UserChange,
    action: &str,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let event = cleanweb_core::AuditEvent {
        actor: crate::audit::cli_actor(),
        action: action.into(),
        subject: name.into(),
        details,
    };
    if !rt.block_on(store.change_user(name, &change, &event))? {
        bail!("no user named {name:?}");
    }
    Ok(())
}
