use std::process::ExitCode;

use clap::Subcommand;
use cleanweb_core::auth::Role;

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print its secret (shown only once).
    Create {
        /// operator (moderation API only) or admin
        #[arg(long, default_value = "operator")]
        role: Role,
        /// A name to recognise the key by
        #[arg(long, default_value = "unnamed")]
        name: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id.
    Revoke { id: uuid::Uuid },
}

pub fn run(global: &GlobalArgs, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    crate::setup::runtime()?.block_on(async {
        let store = global.store().await?;
        match cmd {
            KeyCommand::Create { role, name } => {
                // The store names the new key's id as the event's subject.
                let created = cleanweb_core::AuditEvent {
                    actor: crate::audit::cli_actor(),
                    action: "key.create".into(),
                    subject: String::new(),
                    details: serde_json::json!({"name": name, "role": role.as_str()}),
                };
                let (key, secret) = store.create_api_key(&name, role, &created).await?;
                eprintln!(
                    "created {} key {:?} (id {}); the secret is shown only once:",
                    key.role, key.name, key.id
                );
                println!("{secret}");
            }
            KeyCommand::List => {
                for k in store.api_keys().await? {
                    let state = if k.revoked_at_ms.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    println!("{}\t{}\t{}\t{}", k.id, k.role, state, k.name);
                }
            }
            KeyCommand::Revoke { id } => {
                let revoked = cleanweb_core::AuditEvent {
                    actor: crate::audit::cli_actor(),
                    action: "key.revoke".into(),
                    subject: id.to_string(),
                    details: serde_json::json!({}),
                };
                if !store.revoke_api_key(id, &revoked).await? {
                    anyhow::bail!("no live key with id {id}");
                }
                eprintln!("revoked key {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
