//! Receipt codes: 80 random bits in Crockford's base32, grouped by four
//! (`K7Q2-9XMA-3PDF-HT6W`): unguessable, and easy to read aloud and type,
//! since the alphabet has no I, L, O or U and reading forgives them.

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 16;

/// A reporter's receipt code (Crockford base32); only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Receipt(String);

impl Receipt {
    /// A new random receipt (80 bits).
    pub fn generate() -> Receipt {
        let bytes: [u8; 10] = rand::random();
        let mut bits: u128 = 0;
        for b in bytes {
            bits = (bits << 8) | u128::from(b);
        }
        let code: String = (0..LEN)
            .rev()
            .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
            .collect();
        Receipt(code)
    }

    /// The code as stored and compared: 16 characters, no dashes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps: a holder can look a case up, a reader of the
    /// database cannot.
    pub fn hash(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!("cleanweb-receipt:{}", self.0)))
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, chunk) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receipt(<hidden>)")
    }
}

/// Reads a code as a person typed it: any case, with or without dashes and
/// spaces, O for 0 and I or L for 1. `None` if it cannot be a code.
pub fn normalize_receipt(typed: &str) -> Option<Receipt> {
    let mut code = String::with_capacity(LEN);
    for c in typed.chars().take(64) {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        code.push(c);
    }
    (code.len() == LEN).then_some(Receipt(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_readable_and_forgiving() {
        let r = Receipt::generate();
        let shown = r.to_string();
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.matches('-').count(), 3);
        assert!(!shown.contains(['I', 'L', 'O', 'U']));
        assert_ne!(Receipt::generate(), r);
        let typed = shown.to_lowercase().replace('-', " ");
        assert_eq!(normalize_receipt(&typed), Some(r.clone()));
        assert_eq!(
            normalize_receipt("0000-1111-2222-3333"),
            normalize_receipt("oooo-iILl-2222-3333")
        );
        assert_eq!(normalize_receipt("K7Q2-9XMA-3PDF-HT6"), None, "too short");
        assert_eq!(
            normalize_receipt("K7Q2-9XMA-3PDF-HT6U"),
            None,
            "U is not a digit"
        );
        assert_eq!(normalize_receipt("K7Q2-9XMA-3PDF-HT6€"), None);
        assert_eq!(r.hash().len(), 64);
        assert!(!format!("{r:?}").contains(r.as_str()));
    }
}
