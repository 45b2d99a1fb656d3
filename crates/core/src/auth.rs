//! API keys: generated here, shown to the user once, stored only as a hash.
//!
//! Keys carry 256 random bits, so a plain SHA-256 is a sound one-way store for
//! them (argon2 is for low-entropy passwords, and would cost milliseconds on
//! every request).

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Every key starts with this, so leaked keys are easy to grep for.
pub const KEY_PREFIX: &str = "cwk_";

/// What a principal may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: users, keys, policy, lexicons, banks, sites.
    Admin,
    /// The moderation API only.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            other => Err(format!(
                "unknown role {other:?} (expected admin or operator)"
            )),
        }
    }
}

/// A freshly generated key: the secret (to show once) and what to store.
pub struct NewKey {
    pub secret: String,
    pub hash: String,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

pub fn generate_key() -> NewKey {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let hash = hash_key(&secret);
    NewKey { secret, hash }
}

/// The stored form of a key.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hash_stably() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_eq!(hash_key(&a.secret), a.hash);
        assert!(
            !format!("{a:?}").contains(&a.secret),
            "Debug must not leak the secret"
        );
    }
}

/// What a console account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    /// Users, keys, policy, lexicons, banks, sites.
    Admin,
    /// Queues and decisions.
    Reviewer,
    /// Read-only: the audit log and statistics.
    Auditor,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Reviewer => "reviewer",
            UserRole::Auditor => "auditor",
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(UserRole::Admin),
            "reviewer" => Ok(UserRole::Reviewer),
            "auditor" => Ok(UserRole::Auditor),
            other => Err(format!(
                "unknown role {other:?} (expected admin, reviewer or auditor)"
            )),
        }
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a PHC hash from [`hash_password`].
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod password_tests {
    #[test]
    fn passwords_hash_with_salt_and_verify() {
        let a = super::hash_password("correct horse").unwrap();
        let b = super::hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$") && a != b, "salted");
        assert!(super::verify_password("correct horse", &a));
        assert!(!super::verify_password("wrong", &a));
        assert!(!super::verify_password("correct horse", "not a hash"));
    }
}
