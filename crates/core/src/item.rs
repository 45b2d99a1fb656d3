use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::config::Limits;

/// One piece of content to moderate. Any combination of fields may be set; an
/// ad, for example, is text plus an image plus a link and gets one verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The caller's own id, echoed back in the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Plain text: a post, comment, title, ad copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An HTML page or fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The URL relative links in `html` resolve against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// A URL the item is, or links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Image bytes, base64 in JSON.
    #[serde(
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Byte)]
    pub image: Option<Vec<u8>>,
    /// Video bytes, base64 in JSON.
    #[serde(
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Byte)]
    pub video: Option<Vec<u8>>,
    /// Free JSON the platform wants back in the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<serde_json::Value>,
}

/// Why an item was refused before any detector saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("the item has no content: set at least one of text, html, url, image or video")]
    Empty,
    #[error("{field} is too long: {len} characters, the limit is {limit}")]
    TooLong {
        field: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("{field} is too large: {len} bytes, the limit is {limit}")]
    TooLarge {
        field: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("id is too long: {len} bytes, the limit is {limit}")]
    IdTooLong { len: usize, limit: usize },
}

impl Item {
    /// An item holding only text.
    pub fn text(text: impl Into<String>) -> Self {
        Item {
            text: Some(text.into()),
            ..Item::default()
        }
    }

    /// Checks the item against the limits before any work is done on it.
    pub fn validate(&self, limits: &Limits) -> Result<(), ItemError> {
        if self.text.is_none()
            && self.html.is_none()
            && self.url.is_none()
            && self.image.is_none()
            && self.video.is_none()
        {
            return Err(ItemError::Empty);
        }
        if let Some(id) = &self.id
            && id.len() > limits.max_id_bytes
        {
            return Err(ItemError::IdTooLong {
                len: id.len(),
                limit: limits.max_id_bytes,
            });
        }
        // Byte length bounds char count from above, so count chars only when needed.
        let chars = |field: &'static str, s: &Option<String>, limit: usize| match s {
            Some(s) if s.len() > limit && s.chars().count() > limit => Err(ItemError::TooLong {
                field,
                len: s.chars().count(),
                limit,
            }),
            _ => Ok(()),
        };
        chars("text", &self.text, limits.max_text_chars)?;
        chars("html", &self.html, limits.max_html_chars)?;
        chars("url", &self.url, limits.max_url_chars)?;
        chars("base_url", &self.base_url, limits.max_url_chars)?;
        let bytes = |field: &'static str, b: &Option<Vec<u8>>, limit: usize| match b {
            Some(b) if b.len() > limit => Err(ItemError::TooLarge {
                field,
                len: b.len(),
                limit,
            }),
            _ => Ok(()),
        };
        bytes("image", &self.image, limits.max_image_bytes)?;
        bytes("video", &self.video, limits.max_video_bytes)?;
        Ok(())
    }

    /// SHA-256 over the item's content fields (not `id` or `meta`), with each
    /// field framed by name and length so that different splits never collide.
    /// Two submissions of the same content share this reference.
    pub fn content_sha256(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |name: &str, bytes: Option<&[u8]>| {
            if let Some(b) = bytes {
                h.update(name.as_bytes());
                h.update((b.len() as u64).to_le_bytes());
                h.update(b);
            }
        };
        field("text", self.text.as_deref().map(str::as_bytes));
        field("html", self.html.as_deref().map(str::as_bytes));
        field("base_url", self.base_url.as_deref().map(str::as_bytes));
        field("url", self.url.as_deref().map(str::as_bytes));
        field("image", self.image.as_deref());
        field("video", self.video.as_deref());
        hex::encode(h.finalize())
    }
}

/// Which front door an item came through; stored with each decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Api,
    Cli,
    Sweep,
    Report,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Cli => "cli",
            Source::Sweep => "sweep",
            Source::Report => "report",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "api" => Ok(Source::Api),
            "cli" => Ok(Source::Cli),
            "sweep" => Ok(Source::Sweep),
            "report" => Ok(Source::Report),
            other => Err(format!("unknown source {other:?}")),
        }
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            STANDARD
                .decode(s.as_bytes())
                .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_is_base64_in_json() {
        let item: Item = serde_json::from_str(r#"{"id":"x","image":"AAEC"}"#).unwrap();
        assert_eq!(item.image.as_deref(), Some(&[0u8, 1, 2][..]));
        let back = serde_json::to_value(&item).unwrap();
        assert_eq!(back["image"], "AAEC");
        assert!(serde_json::from_str::<Item>(r#"{"image":"!!"}"#).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<Item>(r#"{"txt":"typo"}"#).unwrap_err();
        assert!(err.to_string().contains("txt"), "{err}");
    }

    #[test]
    fn validate_bounds_every_field() {
        let limits = Limits {
            max_text_chars: 3,
            ..Limits::default()
        };
        assert_eq!(Item::default().validate(&limits), Err(ItemError::Empty));
        assert!(
            Item::text("色情色").validate(&limits).is_ok(),
            "chars, not bytes"
        );
        assert!(matches!(
            Item::text("abcd").validate(&limits),
            Err(ItemError::TooLong {
                field: "text",
                len: 4,
                limit: 3
            })
        ));
    }

    #[test]
    fn content_hash_frames_fields() {
        let a = Item {
            text: Some("ab".into()),
            url: Some("c".into()),
            ..Item::default()
        };
        let b = Item {
            text: Some("a".into()),
            url: Some("bc".into()),
            ..Item::default()
        };
        assert_ne!(a.content_sha256(), b.content_sha256());
        let mut c = a.clone();
        c.id = Some("other".into());
        assert_eq!(a.content_sha256(), c.content_sha256());
    }
}
