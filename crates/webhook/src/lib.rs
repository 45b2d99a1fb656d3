//! Takedown webhooks: when a reviewer finds a violation, the platform is
//! told at each configured URL.
//!
//! Each delivery is a row in the store, created in the same transaction as
//! the review, so none is lost to a crash. The [`Sender`] posts due rows
//! with an HMAC-SHA256 signature (`X-Cleanweb-Signature: t=…,v1=…`, over
//! `"{t}.{body}"`, as Stripe and Slack do, so receivers can reject replays)
//! and an `Idempotency-Key` that stays the same across retries. Failures
//! back off exponentially; after `max_attempts` a delivery is dead and
//! waits in the console's dead-letter list for a person to retry it.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cleanweb_core::AuditEvent;
use cleanweb_core::config::WebhookConfig;
use cleanweb_store::{Delivery, DeliveryResult, DeliveryStore, Store, now_ms};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying `t=…,v1=…` (HMAC-SHA256 over `t.body`).
pub const SIGNATURE_HEADER: &str = "X-Cleanweb-Signature";
/// The header naming the event (`takedown`).
pub const EVENT_HEADER: &str = "X-Cleanweb-Event";
/// The header carrying the delivery id, for the receiver's deduplication.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Why webhooks cannot run.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A webhook's configuration is wrong.
    #[error("{0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] cleanweb_store::StoreError),
}

/// The signature header's value for a body sent at `timestamp` (Unix
/// seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Checks a signature header as a receiver should: a valid MAC (compared in
/// constant time) over a timestamp no further than `tolerance_secs` from
/// `now_secs`.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if now_secs.abs_diff(t) > tolerance_secs.unsigned_abs() {
        return false;
    }
    sigs.iter().any(|sig| {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
        m.update(t.to_string().as_bytes());
        m.update(b".");
        m.update(body);
        m.verify_slice(sig).is_ok()
    })
}

/// The wait after the `attempt`-th failure (1-based): `base`, doubling, at
/// most an hour.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    (base * factor).min(Duration::from_secs(3600))
}

struct Hook {
    config: WebhookConfig,
    secret: Vec<u8>,
}

/// Posts due deliveries; one per server. Several servers sharing a
/// PostgreSQL store may each run one: a delivery is leased before it is
/// sent.
pub struct Sender {
    store: Arc<dyn DeliveryStore>,
    hooks: BTreeMap<String, Hook>,
    wake: tokio::sync::Notify,
}

/// Attempts in flight at once, so one slow receiver does not hold up the
/// deliveries to the others.
const PARALLEL: usize = 8;

impl Sender {
    /// Resolves each webhook's secret; a missing one is an error now rather
    /// than a dead letter later.
    pub fn new(store: Arc<dyn Store>, configs: &[WebhookConfig]) -> Result<Sender, WebhookError> {
        Sender::with_store(Arc::new(store), configs)
    }

    /// [`Sender::new`] over any store that holds deliveries: the sender
    /// needs only [`DeliveryStore`]'s four calls.
    pub fn with_store(
        store: Arc<dyn DeliveryStore>,
        configs: &[WebhookConfig],
    ) -> Result<Sender, WebhookError> {
        let mut hooks = BTreeMap::new();
        for c in configs {
            let secret = c.secret().map_err(WebhookError::Config)?;
            if secret.is_empty() {
                return Err(WebhookError::Config(format!(
                    "webhook {}: the secret is empty",
                    c.name
                )));
            }
            hooks.insert(
                c.name.clone(),
                Hook {
                    config: c.clone(),
                    secret: secret.into_bytes(),
                },
            );
        }
        Ok(Sender {
            store,
            hooks,
            wake: tokio::sync::Notify::new(),
        })
    }

    /// The configured webhooks' names.
    pub fn names(&self) -> Vec<String> {
        self.hooks.keys().cloned().collect()
    }

    /// Asks the loop to look for due deliveries now (after a review).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers until `shutdown` resolves, looking for due rows when woken
    /// and at least once a second.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "webhook deliveries could not be read");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// One pass: attempts every due delivery once, [`PARALLEL`] at a time.
    /// Returns how many were attempted.
    pub async fn tick(self: &Arc<Self>) -> Result<usize, WebhookError> {
        let due = self.store.due_deliveries(now_ms(), 64).await?;
        let slots = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut running = tokio::task::JoinSet::new();
        for d in due {
            // A slot first, then the lease: a lease taken while waiting for
            // a slot could run out before the attempt starts.
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            // A lease longer than any attempt's timeout keeps other senders off.
            let timeout = self
                .hooks
                .get(&d.webhook)
                .map_or(10, |h| h.config.timeout_secs.max(1));
            let lease = now_ms() + i64::try_from(timeout * 3000).unwrap_or(i64::MAX / 2);
            if !self.store.lease_delivery(&d, lease).await? {
                continue;
            }
            let sender = Arc::clone(self);
            running.spawn(async move {
                let _slot = slot;
                let result = sender.attempt(&d).await;
                // A sender that lost its lease (it took more than three
                // timeouts) leaves the record to the one that took over.
                if sender.store.finish_delivery(d.id, lease, &result).await? {
                    sender.audit(&d, &result).await;
                }
                Ok::<(), WebhookError>(())
            });
        }
        let mut attempted = 0;
        while let Some(done) = running.join_next().await {
            attempted += 1;
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "a delivery's result could not be stored")
                }
                Err(e) => tracing::error!(error = %e, "a delivery task failed"),
            }
        }
        Ok(attempted)
    }

    async fn attempt(&self, d: &Delivery) -> DeliveryResult {
        let Some(hook) = self.hooks.get(&d.webhook) else {
            return DeliveryResult::Dead {
                error: format!("webhook {:?} is no longer configured", d.webhook),
            };
        };
        let url = hook.config.url.clone();
        let timeout = Duration::from_secs(hook.config.timeout_secs.max(1));
        let ts = now_ms() / 1000;
        let signature = sign(&hook.secret, ts, d.payload.as_bytes());
        let body = d.payload.clone();
        let key = d.id.to_string();
        let event = d.event.clone();
        let sent = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(timeout))
                .max_redirects(0)
                .build()
                .into();
            agent
                .post(&url)
                .header("Content-Type", "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .header(IDEMPOTENCY_HEADER, &key)
                .header(EVENT_HEADER, &event)
                .header("User-Agent", "cleanweb-webhook/1")
                .send(body.as_bytes())
                .map(|r| r.status().as_u16())
        })
        .await;
        let error = match sent {
            Ok(Ok(status)) if (200..300).contains(&status) => return DeliveryResult::Delivered,
            // 410 Gone: the receiver says it will never take this.
            Ok(Ok(410)) => {
                return DeliveryResult::Dead {
                    error: "HTTP 410 Gone".into(),
                };
            }
            Ok(Ok(status)) => format!("HTTP {status}"),
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("sender task failed: {e}"),
        };
        let attempts = d.attempts + 1;
        if attempts >= hook.config.max_attempts {
            DeliveryResult::Dead {
                error: format!("{error} (after {attempts} attempts)"),
            }
        } else {
            let base = Duration::from_secs(hook.config.retry_secs.max(1));
            // Jitter: deliveries that failed together do not retry together.
            let wait = backoff(base, attempts).mul_f64(rand::random_range(0.8..1.2));
            DeliveryResult::Retry {
                next_at_ms: now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2),
                error,
            }
        }
    }

    /// Final outcomes go in the audit log; retries only in the delivery row.
    async fn audit(&self, d: &Delivery, result: &DeliveryResult) {
        let (action, error) = match result {
            DeliveryResult::Delivered => ("webhook.delivered", None),
            DeliveryResult::Dead { error } => ("webhook.dead", Some(error.as_str())),
            DeliveryResult::Retry { .. } => return,
        };
        let event = AuditEvent {
            actor: "system".into(),
            action: action.into(),
            subject: d.subject.clone(),
            details: serde_json::json!({
                "delivery": d.id.to_string(), "webhook": d.webhook,
                "event": d.event, "attempts": d.attempts + 1, "error": error,
            }),
        };
        if let Err(e) = self.store.append_audit(&event).await {
            tracing::error!(error = %e, "the audit log could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_replays() {
        let header = sign(b"k", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify(b"k", &header, b"{\"a\":1}", 1_700_000_100, 300));
        assert!(
            !verify(b"k", &header, b"{\"a\":2}", 1_700_000_100, 300),
            "body"
        );
        assert!(
            !verify(b"x", &header, b"{\"a\":1}", 1_700_000_100, 300),
            "key"
        );
        assert!(
            !verify(b"k", &header, b"{\"a\":1}", 1_700_001_000, 300),
            "replay"
        );
        assert!(!verify(b"k", "v1=00", b"", 0, 300));
        assert!(
            !verify(b"k", &format!("t={},v1=00", i64::MIN), b"", i64::MAX, 300),
            "no overflow"
        );
        // Python: hmac.new(b"key", b"0.The quick…", sha256).hexdigest()
        assert_eq!(
            sign(b"key", 0, b"The quick brown fox jumps over the lazy dog"),
            "t=0,v1=8511f28f7a1949f0c42772b447d68b2daf760f5f0439a20a17e3b4e7cd395763"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(5);
        assert_eq!(backoff(b, 1), Duration::from_secs(5));
        assert_eq!(backoff(b, 2), Duration::from_secs(10));
        assert_eq!(backoff(b, 4), Duration::from_secs(40));
        assert_eq!(backoff(b, 30), Duration::from_secs(3600));
    }
}
