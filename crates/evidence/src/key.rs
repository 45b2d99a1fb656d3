//! The deployment's evidence key: Ed25519 (RFC 8032), kept in a file
//! beside the data like the report key, never in the database. Bundles
//! carry the public key; its fingerprint is what a court or a regulator
//! compares against the one the deployment publishes.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not 64 hex digits.
    #[error("an evidence key must be 64 hex digits (32 bytes)")]
    Format,
    /// The key file cannot be read or created, or others can read it.
    #[error("evidence {0}")]
    File(#[from] cleanweb_core::secret::SecretFileError),
}

fn bytes32(hex_text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = hex::decode(hex_text.trim()).map_err(|_| KeyError::Format)?;
    bytes.try_into().map_err(|_| KeyError::Format)
}

/// The secret signing key.
pub struct EvidenceKey(SigningKey);

impl std::fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EvidenceKey({})", self.public().fingerprint())
    }
}

impl EvidenceKey {
    /// A key from its 32-byte seed in hex.
    pub fn from_hex(hex_text: &str) -> Result<EvidenceKey, KeyError> {
        Ok(EvidenceKey(SigningKey::from_bytes(&bytes32(hex_text)?)))
    }

    /// Reads a key file (the seed, 64 hex digits), refusing one others can read.
    pub fn load(path: &Path) -> Result<EvidenceKey, KeyError> {
        EvidenceKey::from_hex(&cleanweb_core::secret::read_private(path)?)
    }

    /// Creates a new random key file, mode 600; fails if the file exists.
    pub fn create(path: &Path) -> Result<EvidenceKey, KeyError> {
        let seed: [u8; 32] = rand::random();
        cleanweb_core::secret::create_private(path, &format!("{}\n", hex::encode(seed)))?;
        Ok(EvidenceKey(SigningKey::from_bytes(&seed)))
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// An Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

/// A public evidence key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// A key from 64 hex digits; refused if it is not a valid curve point.
    pub fn from_hex(hex_text: &str) -> Result<PublicKey, KeyError> {
        VerifyingKey::from_bytes(&bytes32(hex_text)?)
            .map(PublicKey)
            .map_err(|_| KeyError::Format)
    }

    /// The key in hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// `SHA256:` and the hex SHA-256 of the key's 32 bytes: what to compare
    /// against the deployment's published fingerprint.
    pub fn fingerprint(&self) -> String {
        format!("SHA256:{}", hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// Whether `signature` is this key's over `message` (strict: no
    /// malleable or small-order forms).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.0
            .verify_strict(message, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1: the empty message.
        let key = EvidenceKey::from_hex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .unwrap();
        assert_eq!(
            key.public().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(key.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        let public = key.public();
        assert!(public.verifies(b"", &key.sign(b"")));
        assert!(!public.verifies(b"x", &key.sign(b"")));
        assert!(!public.verifies(b"", &[0; 12]));
    }

    #[test]
    fn key_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidence.key");
        let made = EvidenceKey::create(&path).unwrap();
        let read = EvidenceKey::load(&path).unwrap();
        assert_eq!(made.public(), read.public());
        assert!(EvidenceKey::create(&path).is_err(), "never overwritten");
        let p = PublicKey::from_hex(&made.public().to_hex()).unwrap();
        assert_eq!(p.fingerprint(), made.public().fingerprint());
        assert!(p.fingerprint().starts_with("SHA256:"));
    }
}
