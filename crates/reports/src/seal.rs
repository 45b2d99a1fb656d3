//! Reporter contact details, sealed with XChaCha20-Poly1305 (a 192-bit
//! random nonce per message, so random nonces never collide in practice).
//! The report's id is the associated data: a sealed contact cannot be moved
//! to another report. The key lives outside the database, from the
//! environment or a key file, and never appears in logs.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Why the report key, or sealed data, cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not 64 hex digits.
    #[error("the report key must be 64 hex digits (32 bytes)")]
    Format,
    /// The key file cannot be read or written, or others can read it.
    #[error("report {0}")]
    File(#[from] cleanweb_core::secret::SecretFileError),
    /// Wrong key, or tampered data.
    #[error("sealed data does not open with this key (wrong key, or tampered)")]
    Open,
}

/// Optional contact details a reporter leaves (for a reward, or questions).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// A name to address them by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// An account to pay a reward to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Contact(<sealed>)")
    }
}

/// Why a contact field was refused: the field (`name`, `phone`, `email`,
/// `account`) and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Over 200 characters.
    #[error("contact.{0} is longer than 200 characters")]
    TooLong(&'static str),
    /// Holds control characters.
    #[error("contact.{0} has control characters")]
    Control(&'static str),
    /// Not an e-mail address (one `@`, a name before it, a domain with a
    /// dot after it, no spaces).
    #[error("contact.{0} is not an e-mail address")]
    NotEmail(&'static str),
}

impl ContactError {
    /// The field refused.
    pub fn field(&self) -> &'static str {
        match *self {
            ContactError::TooLong(f) | ContactError::Control(f) | ContactError::NotEmail(f) => f,
        }
    }
}

impl Contact {
    /// Trims fields, drops empty ones, and refuses overlong ones.
    pub fn cleaned(self) -> Result<Option<Contact>, ContactError> {
        let clean =
            |v: Option<String>, name: &'static str| -> Result<Option<String>, ContactError> {
                let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
                match v {
                    Some(s) if s.chars().count() > 200 => Err(ContactError::TooLong(name)),
                    Some(s) if s.chars().any(char::is_control) => Err(ContactError::Control(name)),
                    v => Ok(v),
                }
            };
        let email = clean(self.email, "email")?;
        if email.as_deref().is_some_and(|e| !plausible_email(e)) {
            return Err(ContactError::NotEmail("email"));
        }
        let c = Contact {
            name: clean(self.name, "name")?,
            phone: clean(self.phone, "phone")?,
            email,
            account: clean(self.account, "account")?,
        };
        Ok((c != Contact::default()).then_some(c))
    }

    /// A stable pseudonym for reward caps, from what a reward is paid to:
    /// the account, else the phone, else the email (lower-cased, with any
    /// `+tag` dropped, so one mailbox is one reporter). Without any of them
    /// there is nobody to pay, and no pseudonym.
    fn identity(&self) -> Option<String> {
        if let Some(a) = &self.account {
            return Some(format!("account:{}", a.to_lowercase()));
        }
        if let Some(p) = &self.phone {
            let digits = phone_digits(p);
            if !digits.is_empty() {
                return Some(format!("phone:{digits}"));
            }
        }
        self.email.as_ref().map(|e| {
            let e = e.to_lowercase();
            let e = match e.split_once('@') {
                Some((local, domain)) => {
                    format!("{}@{domain}", local.split('+').next().unwrap_or(local))
                }
                None => e,
            };
            format!("email:{e}")
        })
    }
}

/// A phone number's digits in one form, so one reporter is one pseudonym:
/// full-width digits read as digits, and the international prefix (`+86`,
/// `0086`) of a Chinese mobile number is dropped.
fn phone_digits(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10),
            _ => None,
        })
        .collect();
    let national = digits.strip_prefix("00").unwrap_or(&digits);
    match national.strip_prefix("86") {
        Some(mobile) if mobile.len() == 11 && mobile.starts_with('1') => mobile.to_owned(),
        _ if digits.starts_with("00") => national.to_owned(),
        _ => digits,
    }
}

/// Whether `e` can be an e-mail address: a reporter's typo caught while
/// they can still fix it (we never send mail to check).
fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !e.chars().any(char::is_whitespace)
        && domain.split('.').filter(|p| !p.is_empty()).count() >= 2
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The 256-bit key that seals contacts.
pub struct ReportKey([u8; 32]);

impl std::fmt::Debug for ReportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReportKey(<hidden>)")
    }
}

impl ReportKey {
    /// A key from 64 hex digits.
    pub fn from_hex(hex_key: &str) -> Result<ReportKey, KeyError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| KeyError::Format)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Format)?;
        Ok(ReportKey(key))
    }

    /// Reads a key file (64 hex digits), refusing one others can read.
    pub fn load(path: &Path) -> Result<ReportKey, KeyError> {
        ReportKey::from_hex(&cleanweb_core::secret::read_private(path)?)
    }

    /// Creates a new random key file, readable by its owner only; fails if
    /// the file exists.
    pub fn create(path: &Path) -> Result<ReportKey, KeyError> {
        let key: [u8; 32] = rand::random();
        cleanweb_core::secret::create_private(path, &format!("{}\n", hex::encode(key)))?;
        Ok(ReportKey(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// nonce ‖ ciphertext ‖ tag of the contact's JSON, bound to `report_id`.
    pub fn seal(&self, report_id: &str, contact: &Contact) -> Vec<u8> {
        let nonce: [u8; 24] = rand::random();
        let plain = serde_json::to_vec(contact).unwrap_or_default();
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: report_id.as_bytes(),
                },
            )
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// Opens what [`ReportKey::seal`] sealed for the same report id.
    pub fn open(&self, report_id: &str, sealed: &[u8]) -> Result<Contact, KeyError> {
        if sealed.len() < 24 + 16 {
            return Err(KeyError::Open);
        }
        let (nonce, body) = sealed.split_at(24);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: report_id.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Open)?;
        serde_json::from_slice(&plain).map_err(|_| KeyError::Open)
    }

    /// The subkey for reporter pseudonyms: HMAC-SHA256 of the key over a
    /// fixed label. The encryption key itself never keys a MAC, so the two
    /// uses stay independent.
    fn pseudonym_key(&self) -> [u8; 32] {
        // HMAC takes keys of any length, so this cannot fail.
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        m.update(b"cleanweb report key: reporter pseudonym subkey v1");
        m.finalize().into_bytes().into()
    }

    /// The reporter's pseudonym (HMAC under a subkey), for caps.
    pub fn reporter_id(&self, contact: &Contact) -> Option<String> {
        let identity = contact.identity()?;
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.pseudonym_key())
            .unwrap_or_else(|_| unreachable!());
        m.update(b"cleanweb reporter id\0");
        m.update(identity.as_bytes());
        Some(hex::encode(&m.finalize().into_bytes()[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> Contact {
        Contact {
            name: Some("张三".into()),
            phone: Some("+86 138-0000-1234".into()),
            email: Some("Zhang@Example.com".into()),
            account: None,
        }
    }

    #[test]
    fn one_phone_in_any_spelling_is_one_reporter() {
        let key = ReportKey::from_hex(&"ab".repeat(32)).unwrap();
        let id = |p: &str| {
            key.reporter_id(&Contact {
                phone: Some(p.into()),
                ..Contact::default()
            })
        };
        let plain = id("13800001234");
        for other in [
            "+86 138-0000-1234",
            "0086 13800001234",
            "８６１３８００００１２３４",
            "(138) 0000 1234",
        ] {
            assert_eq!(id(other), plain, "{other}");
        }
        assert_ne!(id("13800001235"), plain);
        assert_eq!(id("+44 20 7946 0000"), id("0044 20 7946 0000"));
    }

    #[test]
    fn sealed_contacts_open_only_with_the_key_and_their_report() {
        let key = ReportKey::from_hex(&"ab".repeat(32)).unwrap();
        let sealed = key.seal("r1", &contact());
        assert!(!sealed.windows(6).any(|w| w == "张三".as_bytes()));
        assert!(!String::from_utf8_lossy(&sealed).contains("138"));
        assert_eq!(key.open("r1", &sealed).unwrap(), contact());
        assert!(
            matches!(key.open("r2", &sealed), Err(KeyError::Open)),
            "bound to its report"
        );
        let other = ReportKey::from_hex(&"cd".repeat(32)).unwrap();
        assert!(other.open("r1", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open("r1", &tampered).is_err());
        assert_ne!(key.seal("r1", &contact()), sealed, "fresh nonce");
        assert!(!format!("{:?} {:?}", key, contact()).contains("ab"));
    }

    #[test]
    fn key_files_are_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.key");
        let k = ReportKey::create(&path).unwrap();
        assert!(ReportKey::create(&path).is_err(), "never overwritten");
        let back = ReportKey::load(&path).unwrap();
        assert_eq!(back.0, k.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                ReportKey::load(&path),
                Err(KeyError::File(
                    cleanweb_core::secret::SecretFileError::Permissions(_)
                ))
            ));
        }
        assert!(ReportKey::from_hex("12").is_err());
    }

    #[test]
    fn contacts_are_cleaned_and_pseudonymous() {
        let key = ReportKey::from_hex(&"ab".repeat(32)).unwrap();
        let empty = Contact {
            name: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(empty.cleaned().unwrap(), None);
        let long = Contact {
            name: Some("x".repeat(201)),
            ..Default::default()
        };
        assert_eq!(long.cleaned(), Err(ContactError::TooLong("name")));
        let control = Contact {
            account: Some("a\u{7}b".into()),
            ..Default::default()
        };
        assert_eq!(control.cleaned().map_err(|e| e.field()), Err("account"));
        let email = |e: &str| {
            Contact {
                email: Some(e.into()),
                ..Default::default()
            }
            .cleaned()
        };
        for bad in [
            "me",
            "me@",
            "@x.cn",
            "me@localhost",
            "me@x..",
            "a b@x.cn",
            "a@b@x.cn",
            "me@.x.cn",
        ] {
            assert_eq!(email(bad), Err(ContactError::NotEmail("email")), "{bad}");
        }
        for good in [
            "me@x.cn",
            " Li.Lei+tips@mail.example.com ",
            "用户@例子.中国",
        ] {
            assert!(email(good).is_ok(), "{good}");
        }
        let a = key.reporter_id(&contact()).unwrap();
        let b = key
            .reporter_id(&Contact {
                phone: Some("8613800001234".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            a, b,
            "same phone, same pseudonym (the phone outranks the email)"
        );
        let tagged = |e: &str| {
            key.reporter_id(&Contact {
                email: Some(e.into()),
                ..Default::default()
            })
        };
        assert_eq!(
            tagged("Li+1@Example.org"),
            tagged("li+2@example.org"),
            "+tags are one mailbox"
        );
        let paid = Contact {
            account: Some("alipay:x".into()),
            ..contact()
        };
        assert_ne!(
            key.reporter_id(&paid).unwrap(),
            a,
            "the payee account comes first"
        );
        // Keyed by the subkey, not the encryption key itself.
        let under_key = {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).unwrap();
            m.update(b"cleanweb reporter id\0");
            m.update(b"account:alipay:x");
            hex::encode(&m.finalize().into_bytes()[..16])
        };
        assert_ne!(key.reporter_id(&paid).unwrap(), under_key);
        assert_eq!(
            key.reporter_id(&Contact {
                name: Some("n".into()),
                ..Default::default()
            }),
            None
        );
    }
}
