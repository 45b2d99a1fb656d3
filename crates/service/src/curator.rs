//! The curator: the one way banks change. Each change is written to the
//! store with its audit event in one transaction, then applied to the live
//! index the running engine matches against, so a new hash matches at once
//! and a removed one stops at once (HMA's curator plays the same part).
//!
//! Validation lives here too, so the API, the console and the CLI refuse the
//! same inputs with the same words.

use cleanweb_core::{AuditEvent, Bank, BankEntry, Signal};
use cleanweb_match::SharedBanks;
use cleanweb_store::{Store, StoreError};
use cleanweb_vision::DecodeLimits;

/// Why a bank change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CurateError {
    /// The bank name is empty, too long or has characters a path or a log
    /// line would trip on.
    #[error(
        "{0:?} is not a bank name: 1 to 64 characters, no slashes, control characters or edge spaces"
    )]
    BadName(String),
    /// A PDQ threshold above the hash's 256 bits.
    #[error("a PDQ threshold is at most 256 bits (got {0})")]
    BadThreshold(u32),
    /// A video bank's match share above 100 percent.
    #[error("a share of frames is at most 100 percent (got {0})")]
    BadShare(u32),
    /// A bank of that name exists.
    #[error("a bank named {0:?} exists")]
    Exists(String),
    /// No bank of that name.
    #[error("no bank named {0:?}")]
    NoBank(String),
    /// The hash to remove is not in the bank.
    #[error("{hash} is not in bank {bank:?}")]
    NotInBank {
        /// The bank.
        bank: String,
        /// The hash, lower-cased.
        hash: String,
    },
    /// A hash that is not hex of the bank's length.
    #[error("{hash:?} is not a {signal} hash")]
    BadHash {
        /// The hash as given.
        hash: String,
        /// The bank's signal.
        signal: Signal,
    },
    /// The bytes could not be hashed for the bank (not an image, too flat).
    #[error("{0}")]
    BadImage(String),
    /// The bank does not take this kind of decision.
    #[error("{0}")]
    WrongBank(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Bank changes by one actor, through the store and the live index.
pub struct Curator<'a> {
    store: &'a dyn Store,
    live: Option<&'a SharedBanks>,
}

impl<'a> Curator<'a> {
    /// A curator over `store`; `live` is the running engine's index, or
    /// `None` where no engine runs (the CLI: a server picks changes up on
    /// reload).
    pub fn new(store: &'a dyn Store, live: Option<&'a SharedBanks>) -> Self {
        Curator { store, live }
    }

    /// The bank called `name`.
    pub async fn bank(&self, name: &str) -> Result<Bank, CurateError> {
        self.store
            .banks()
            .await?
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| CurateError::NoBank(name.to_owned()))
    }

    /// Creates a bank; it matches at once.
    pub async fn create_bank(&self, bank: &Bank, actor: &str) -> Result<(), CurateError> {
        check_name(&bank.name)?;
        if bank.threshold > 256 {
            return Err(CurateError::BadThreshold(bank.threshold));
        }
        if bank.query_pct > 100 || bank.compared_pct > 100 {
            return Err(CurateError::BadShare(bank.query_pct.max(bank.compared_pct)));
        }
        let details = serde_json::to_value(bank).unwrap_or_default();
        let event = audit(actor, "bank.create", &bank.name, details);
        if !self.store.create_bank(bank, &event).await? {
            return Err(CurateError::Exists(bank.name.clone()));
        }
        self.with_live(|b| b.upsert_bank(bank.clone()));
        Ok(())
    }

    /// Deletes a bank and its entries.
    pub async fn delete_bank(&self, name: &str, actor: &str) -> Result<(), CurateError> {
        let event = audit(actor, "bank.delete", name, serde_json::json!({}));
        if !self.store.delete_bank(name, &event).await? {
            return Err(CurateError::NoBank(name.to_owned()));
        }
        self.with_live(|b| {
            b.remove_bank(name);
        });
        Ok(())
    }

    /// Adds hashes to a bank; answers how many were new. Hashes are checked
    /// against the bank's signal and lower-cased; an entry without an
    /// `added_by` gets the actor.
    pub async fn add_entries(
        &self,
        name: &str,
        entries: Vec<BankEntry>,
        actor: &str,
    ) -> Result<u64, CurateError> {
        let (bank, entries) = self.checked(name, entries, actor).await?;
        let hashes: Vec<&str> = entries.iter().map(|e| e.hash.as_str()).collect();
        let details = serde_json::json!({"hashes": hashes});
        self.add(
            &bank,
            &entries,
            audit(actor, "bank.entries.add", name, details),
        )
        .await
    }

    /// Adds hashes read from a file (`bank import`); the audit event names
    /// the file rather than every hash.
    pub async fn import_entries(
        &self,
        name: &str,
        entries: Vec<BankEntry>,
        actor: &str,
        file: &str,
    ) -> Result<u64, CurateError> {
        let (bank, entries) = self.checked(name, entries, actor).await?;
        let details = serde_json::json!({"file": file, "read": entries.len()});
        self.add(
            &bank,
            &entries,
            audit(actor, "bank.entries.import", name, details),
        )
        .await
    }

    /// Hashes a file for a bank (PDQ of the decoded image, or MD5/SHA-256 of
    /// the bytes) and adds it. `template` carries the note, source and
    /// external id. Decoding runs on the blocking pool, within `limits`.
    pub async fn add_image(
        &self,
        name: &str,
        bytes: Vec<u8>,
        limits: DecodeLimits,
        template: BankEntry,
        actor: &str,
    ) -> Result<(BankEntry, bool), CurateError> {
        let bank = self.bank(name).await?;
        self.add_image_to(&bank, bytes, limits, template, actor)
            .await
    }

    /// [`Curator::add_image`] for a bank already read; answers the entry
    /// and whether it was new.
    pub async fn add_image_to(
        &self,
        bank: &Bank,
        bytes: Vec<u8>,
        limits: DecodeLimits,
        template: BankEntry,
        actor: &str,
    ) -> Result<(BankEntry, bool), CurateError> {
        let for_bank = bank.clone();
        let hashed = move || cleanweb_match::entry_for_image(&for_bank, &bytes, &limits, template);
        self.add_hashed(bank, hashed, actor).await
    }

    /// Hashes a file on the blocking pool with `hash` and adds the entry,
    /// with its audit event; answers the entry and whether it was new.
    async fn add_hashed(
        &self,
        bank: &Bank,
        hash: impl FnOnce() -> Result<BankEntry, String> + Send + 'static,
        actor: &str,
    ) -> Result<(BankEntry, bool), CurateError> {
        let mut entry = tokio::task::spawn_blocking(hash)
            .await
            .map_err(|_| CurateError::BadImage("the hashing task failed".into()))?
            .map_err(CurateError::BadImage)?;
        entry.added_by.get_or_insert_with(|| actor.to_owned());
        let details = serde_json::json!({
            "hash": entry.hash, "note": entry.note, "source": entry.source,
            "external_id": entry.external_id,
        });
        let event = audit(actor, "bank.entries.add", &bank.name, details);
        let added = self.add(bank, std::slice::from_ref(&entry), event).await?;
        Ok((entry, added == 1))
    }

    /// Decodes a video for a bank (vPDQ of its frames, or MD5/SHA-256 of
    /// the bytes) and adds it; answers the entry and whether it was new.
    /// Decoding runs on the blocking pool, within `limits`.
    pub async fn add_video(
        &self,
        name: &str,
        bytes: Vec<u8>,
        decoder: std::sync::Arc<cleanweb_engine::video::Decoder>,
        limits: cleanweb_engine::video::VideoLimits,
        template: BankEntry,
        actor: &str,
    ) -> Result<(BankEntry, bool), CurateError> {
        let bank = self.bank(name).await?;
        let for_bank = bank.clone();
        let hashed = move || {
            let video = decoder
                .decode_bytes(&bytes, &limits)
                .map_err(|e| e.to_string())?;
            cleanweb_match::entry_for_video(&for_bank, &bytes, &video, template)
        };
        self.add_hashed(&bank, hashed, actor).await
    }

    /// Removes one hash; it stops matching at once.
    pub async fn remove_entry(
        &self,
        name: &str,
        hash: &str,
        actor: &str,
    ) -> Result<(), CurateError> {
        let hash = hash.to_ascii_lowercase();
        let event = audit(
            actor,
            "bank.entries.remove",
            name,
            serde_json::json!({"hash": hash}),
        );
        if !self.store.remove_bank_entry(name, &hash, &event).await? {
            return Err(CurateError::NotInBank {
                bank: name.to_owned(),
                hash,
            });
        }
        self.with_live(|b| {
            b.remove_entry(name, &hash);
        });
        Ok(())
    }

    async fn checked(
        &self,
        name: &str,
        mut entries: Vec<BankEntry>,
        actor: &str,
    ) -> Result<(Bank, Vec<BankEntry>), CurateError> {
        let bank = self.bank(name).await?;
        for e in &mut entries {
            if bank.signal == Signal::Vpdq {
                canonical_video(e)?;
            }
            e.hash = e.hash.to_ascii_lowercase();
            if !is_hash(bank.signal, &e.hash) {
                return Err(CurateError::BadHash {
                    hash: e.hash.clone(),
                    signal: bank.signal,
                });
            }
            e.added_by.get_or_insert_with(|| actor.to_owned());
        }
        Ok((bank, entries))
    }

    async fn add(
        &self,
        bank: &Bank,
        entries: &[BankEntry],
        event: AuditEvent,
    ) -> Result<u64, CurateError> {
        let added = self
            .store
            .add_bank_entries(&bank.name, entries, &event)
            .await?;
        self.with_live(|b| {
            b.add_entries(&bank.name, entries);
        });
        Ok(added)
    }

    fn with_live(&self, change: impl FnOnce(&mut cleanweb_match::Banks)) {
        if let Some(live) = self.live {
            // A poisoned lock still holds a usable index: the writer that
            // panicked changed at most one bank.
            change(&mut live.write().unwrap_or_else(|p| p.into_inner()));
        }
    }
}

/// A vPDQ entry in its one canonical form: its frames parsed and written
/// again, and its hash the SHA-256 of that text, so the same video imported
/// twice (in HMA's spelling or ours) is one entry.
fn canonical_video(e: &mut BankEntry) -> Result<(), CurateError> {
    let bad = |why: String| CurateError::BadHash {
        hash: why,
        signal: Signal::Vpdq,
    };
    let text = e
        .frames
        .as_deref()
        .ok_or_else(|| bad("a vpdq entry without frames".into()))?;
    let features = cleanweb_match::vpdq::parse_signal(text).map_err(bad)?;
    if cleanweb_match::vpdq::prepare(&features).is_empty() {
        return Err(bad(
            "a vpdq entry with no frame of quality 50 or more".into()
        ));
    }
    let canonical = cleanweb_match::vpdq::signal_text(&features);
    e.hash = cleanweb_store::sha256_hex(canonical.as_bytes());
    e.frames = Some(canonical);
    Ok(())
}

/// Whether `hash` is lower-case hex of the signal's length.
pub fn is_hash(signal: Signal, hash: &str) -> bool {
    hash.len() == signal.hex_len()
        && hash
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

fn check_name(name: &str) -> Result<(), CurateError> {
    let ok = (1..=64).contains(&name.chars().count())
        && name.trim() == name
        && !name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\');
    if ok {
        Ok(())
    } else {
        Err(CurateError::BadName(name.to_owned()))
    }
}

fn audit(actor: &str, action: &str, subject: &str, details: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Action, Category};

    async fn store(dir: &tempfile::TempDir) -> std::sync::Arc<dyn Store> {
        cleanweb_store::open(None, dir.path()).await.unwrap()
    }

    fn bank(name: &str) -> Bank {
        Bank {
            name: name.into(),
            signal: Signal::Md5,
            category: Category::SexualExplicit,
            action: Action::Block,
            threshold: 31,
            dihedral: true,
            query_pct: 80,
            compared_pct: 0,
        }
    }

    #[tokio::test]
    async fn changes_reach_the_store_the_audit_log_and_the_live_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let live = SharedBanks::default();
        let curator = Curator::new(store.as_ref(), Some(&live));
        curator.create_bank(&bank("known"), "admin").await.unwrap();
        assert!(matches!(
            curator.create_bank(&bank("known"), "admin").await,
            Err(CurateError::Exists(_))
        ));
        let hash = "D41D8CD98F00B204E9800998ECF8427E";
        let entry = BankEntry {
            hash: hash.into(),
            ..BankEntry::default()
        };
        let added = curator
            .add_entries("known", vec![entry.clone()], "admin")
            .await
            .unwrap();
        assert_eq!(added, 1);
        let stored = store.bank_entries("known").await.unwrap();
        assert_eq!(stored[0].hash, hash.to_ascii_lowercase());
        assert_eq!(stored[0].added_by.as_deref(), Some("admin"));
        let hashes = cleanweb_match::ImageHashes {
            pdq: [cleanweb_vision::PdqHash::default(); 8],
            quality: 0,
            md5: hash.to_ascii_lowercase(),
            sha256: String::new(),
        };
        let read = |l: &SharedBanks| l.read().unwrap().match_image(&hashes).len();
        assert_eq!(read(&live), 1, "an added hash matches at once");
        curator.remove_entry("known", hash, "admin").await.unwrap();
        assert_eq!(read(&live), 0, "a removed hash stops at once");
        assert!(matches!(
            curator.remove_entry("known", hash, "admin").await,
            Err(CurateError::NotInBank { .. })
        ));
        let actions: Vec<String> = store
            .audit_events(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event.action)
            .collect();
        for a in ["bank.create", "bank.entries.add", "bank.entries.remove"] {
            assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
        }
    }

    #[tokio::test]
    async fn bad_names_hashes_and_thresholds_are_refused_before_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let curator = Curator::new(store.as_ref(), None);
        for name in ["", " edge", "a/b", "tab\there", &"x".repeat(65)] {
            assert!(matches!(
                curator.create_bank(&bank(name), "admin").await,
                Err(CurateError::BadName(_))
            ));
        }
        let mut wide = bank("wide");
        wide.threshold = 300;
        assert!(matches!(
            curator.create_bank(&wide, "admin").await,
            Err(CurateError::BadThreshold(300))
        ));
        curator.create_bank(&bank("md5s"), "admin").await.unwrap();
        let short = BankEntry {
            hash: "abc".into(),
            ..BankEntry::default()
        };
        assert!(matches!(
            curator.add_entries("md5s", vec![short], "admin").await,
            Err(CurateError::BadHash { .. })
        ));
        assert!(store.bank_entries("md5s").await.unwrap().is_empty());
        assert!(matches!(
            curator.add_entries("nope", vec![], "admin").await,
            Err(CurateError::NoBank(_))
        ));
    }
}
