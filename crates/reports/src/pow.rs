//! Proof of work for bursts. When one address sends reports faster than the
//! free rate, it must first solve a challenge: find a counter such that
//! SHA-256("{challenge}:{counter}") starts with `difficulty` zero bits. The
//! challenge is stateless (time, nonce and a MAC with a per-process key),
//! expires after five minutes, and is accepted once.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const MAX_AGE_SECS: i64 = 300;

/// Proof-of-work challenges: stateless (MAC'd with a per-process key),
/// each solution accepted once.
pub struct Pow {
    key: [u8; 32],
    /// Leading zero bits a solution's hash needs.
    pub difficulty: u8,
    used: Mutex<HashMap<String, i64>>,
}

impl Pow {
    /// Challenges of this difficulty, under a fresh random key.
    pub fn new(difficulty: u8) -> Pow {
        Pow {
            key: rand::random(),
            difficulty: difficulty.min(32),
            used: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, body: &str) -> String {
        // HMAC takes keys of any length, so this cannot fail.
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        m.update(body.as_bytes());
        hex::encode(&m.finalize().into_bytes()[..16])
    }

    /// A fresh challenge.
    pub fn challenge(&self, now_secs: i64) -> String {
        let body = format!("v1.{now_secs}.{}", hex::encode(rand::random::<[u8; 12]>()));
        let mac = self.mac(&body);
        format!("{body}.{mac}")
    }

    /// Whether `counter` solves `challenge`, which this server issued less
    /// than five minutes ago and nobody has used yet.
    pub fn verify(&self, challenge: &str, counter: u64, now_secs: i64) -> bool {
        let Some((body, mac)) = challenge.rsplit_once('.') else {
            return false;
        };
        let ok_mac = {
            let want = self.mac(body);
            want.len() == mac.len()
                && want
                    .bytes()
                    .zip(mac.bytes())
                    .fold(0u8, |a, (x, y)| a | (x ^ y))
                    == 0
        };
        let issued = body.split('.').nth(1).and_then(|t| t.parse::<i64>().ok());
        let fresh =
            issued.is_some_and(|t| (0..=MAX_AGE_SECS).contains(&now_secs.saturating_sub(t)));
        if !(ok_mac && fresh && leading_zero_bits(challenge, counter) >= u32::from(self.difficulty))
        {
            return false;
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() > 100_000 {
            used.retain(|_, t| now_secs.saturating_sub(*t) <= MAX_AGE_SECS);
        }
        used.insert(challenge.to_owned(), now_secs).is_none()
    }
}

/// Leading zero bits of SHA-256("{challenge}:{counter}").
pub fn leading_zero_bits(challenge: &str, counter: u64) -> u32 {
    let h = Sha256::digest(format!("{challenge}:{counter}").as_bytes());
    let mut bits = 0;
    for b in h {
        if b == 0 {
            bits += 8;
        } else {
            bits += b.leading_zeros();
            break;
        }
    }
    bits
}

/// Finds a counter (what the form's script and API clients do).
pub fn solve(challenge: &str, difficulty: u8) -> u64 {
    (0..)
        .find(|c| leading_zero_bits(challenge, *c) >= u32::from(difficulty))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_solved_once_and_expire() {
        let pow = Pow::new(12);
        let c = pow.challenge(1000);
        let n = solve(&c, 12);
        assert!(leading_zero_bits(&c, n) >= 12);
        assert!(!pow.verify(&c, n, 1000 + MAX_AGE_SECS + 1), "expired");
        assert!(pow.verify(&c, n, 1010));
        assert!(!pow.verify(&c, n, 1011), "used once");
        let c2 = pow.challenge(1000);
        let wrong = (0..).find(|x| leading_zero_bits(&c2, *x) < 12).unwrap();
        assert!(!pow.verify(&c2, wrong, 1001));
        let forged = c2.replace("v1.1000", "v1.1001");
        assert!(!pow.verify(&forged, solve(&forged, 12), 1002), "MAC");
        assert!(
            !Pow::new(12).verify(&c2, solve(&c2, 12), 1002),
            "another server's key"
        );
    }
}
