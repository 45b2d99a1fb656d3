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
                let (key, secret) = store.create_api_key(&name, role).await?;
                store
                    .append_audit(&cleanweb_core::AuditEvent {
                        actor: crate::audit::cli_actor(),
                        action: "key.create".into(),
                        subject: key.id.to_string(),
                        details: serde_json::json!({"name": key.name, "role": key.role.as_str()}),
                    })
                    .await?;
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
                if !store.revoke_api_key(id).await? {
                    anyhow::bail!("no live key with id {id}");
                }
                store
                    .append_audit(&cleanweb_core::AuditEvent {
                        actor: crate::audit::cli_actor(),
                        action: "key.revoke".into(),
                        subject: id.to_string(),
                        details: serde_json::json!({}),
                    })
                    .await?;
                eprintln!("revoked key {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
