//! The tamper-evident audit log: each event stores the SHA-256 of the
//! previous event's hash and its own canonical content, so editing,
//! removing or reordering any stored event breaks every link after it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first event chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, before it is chained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Who: `user:NAME`, `key:NAME`, `cli:USER`, `system`.
    pub actor: String,
    /// What, dotted: `key.create`, `bank.entries.add`, `site.status`, …
    pub action: String,
    /// What it was done to: a key id, a bank name, a domain, …
    pub subject: String,
    /// Anything else worth keeping, as JSON.
    pub details: serde_json::Value,
}

/// An event as stored: numbered, timed and chained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub at_ms: i64,
    #[serde(flatten)]
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The next record after `prev` (or the first, with `None`).
    pub fn chain(prev: Option<&AuditRecord>, at_ms: i64, event: AuditEvent) -> AuditRecord {
        let (seq, prev_hash) = match prev {
            Some(p) => (p.seq + 1, p.hash.clone()),
            None => (1, GENESIS.to_owned()),
        };
        let hash = content_hash(&prev_hash, seq, at_ms, &event);
        AuditRecord {
            seq,
            at_ms,
            event,
            prev_hash,
            hash,
        }
    }
}

/// SHA-256 over the previous hash and the canonical JSON of the content
/// (keys sorted, no spaces), hex.
pub fn content_hash(prev_hash: &str, seq: u64, at_ms: i64, e: &AuditEvent) -> String {
    // serde_json's map is ordered by key, so this serialisation is canonical.
    let content = serde_json::json!({
        "seq": seq, "at_ms": at_ms, "actor": e.actor, "action": e.action,
        "subject": e.subject, "details": canonical(&e.details),
    });
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(content.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// The value with every object's keys sorted (serde_json keeps maps
/// sorted already; this also normalises values built elsewhere).
fn canonical(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let sorted: std::collections::BTreeMap<_, _> =
                m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            serde_json::to_value(sorted).unwrap_or(serde_json::Value::Null)
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The first broken link of a chain.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("audit log broken at event {seq}: {reason}")]
pub struct Broken {
    pub seq: u64,
    pub reason: String,
}

/// Checks records in order, continuing from `prev` (the last record checked
/// before, for paging). Returns the last record checked.
pub fn verify<'a>(
    prev: Option<&AuditRecord>,
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<Option<AuditRecord>, Broken> {
    let mut last = prev.cloned();
    for r in records {
        let (want_seq, want_prev) = match &last {
            Some(p) => (p.seq + 1, p.hash.as_str()),
            None => (1, GENESIS),
        };
        let broken = |reason: String| Broken { seq: r.seq, reason };
        if r.seq != want_seq {
            return Err(Broken {
                seq: want_seq,
                reason: format!(
                    "expected event {want_seq}, found {} (removed or reordered)",
                    r.seq
                ),
            });
        }
        if r.prev_hash != want_prev {
            return Err(broken(
                "its link to the previous event does not match".into(),
            ));
        }
        if content_hash(&r.prev_hash, r.seq, r.at_ms, &r.event) != r.hash {
            return Err(broken(
                "its content does not match its hash (edited)".into(),
            ));
        }
        last = Some(r.clone());
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u32) -> AuditEvent {
        AuditEvent {
            actor: "key:admin".into(),
            action: "bank.create".into(),
            subject: format!("bank{n}"),
            details: serde_json::json!({"b": 2, "a": [1, {"z": 0, "y": 1}]}),
        }
    }

    #[test]
    fn a_chain_verifies_and_any_edit_removal_or_swap_breaks_it() {
        let mut chain: Vec<AuditRecord> = Vec::new();
        for n in 0..5 {
            let r = AuditRecord::chain(chain.last(), 1000 + i64::from(n), ev(n));
            chain.push(r);
        }
        assert_eq!(verify(None, &chain).unwrap().unwrap().seq, 5);
        // Paging: verify the tail from the head's last record.
        let head = verify(None, &chain[..2]).unwrap();
        assert!(verify(head.as_ref(), &chain[2..]).is_ok());

        let mut edited = chain.clone();
        edited[2].event.subject = "other".into();
        assert_eq!(verify(None, &edited).unwrap_err().seq, 3);
        let mut removed = chain.clone();
        removed.remove(1);
        assert_eq!(verify(None, &removed).unwrap_err().seq, 2);
        let mut rehashed = chain.clone();
        rehashed[3].event.actor = "forger".into();
        rehashed[3].hash = content_hash(
            &rehashed[3].prev_hash,
            4,
            rehashed[3].at_ms,
            &rehashed[3].event,
        );
        assert_eq!(
            verify(None, &rehashed).unwrap_err().seq,
            5,
            "a re-hashed edit breaks the next link"
        );
    }
}
