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
                eprintln!("revoked key {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
