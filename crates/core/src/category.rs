use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The small taxonomy cleanweb works in. Sexual and obscene content only.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Category {
    /// Pornography, explicit sexual acts or nudity, obscene text.
    #[serde(rename = "sexual.explicit")]
    SexualExplicit,
    /// Partial nudity, lingerie, suggestive poses, borderline text.
    #[serde(rename = "sexual.suggestive")]
    SexualSuggestive,
    /// Prostitution ads, escort and hook-up solicitation, sexual content for sale.
    #[serde(rename = "sexual.services")]
    SexualServices,
    /// Suspected child sexual abuse material. Escalated, never shown.
    #[serde(rename = "sexual.minors")]
    SexualMinors,
    /// Links to, or embeds, a blocklisted domain or URL.
    #[serde(rename = "link.blocked")]
    LinkBlocked,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::SexualExplicit,
        Category::SexualSuggestive,
        Category::SexualServices,
        Category::SexualMinors,
        Category::LinkBlocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::SexualExplicit => "sexual.explicit",
            Category::SexualSuggestive => "sexual.suggestive",
            Category::SexualServices => "sexual.services",
            Category::SexualMinors => "sexual.minors",
            Category::LinkBlocked => "link.blocked",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown category {0:?} (expected one of sexual.explicit, sexual.suggestive, sexual.services, sexual.minors, link.blocked)"
)]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCategory(s.to_owned()))
    }
}

/// What should happen to an item. Ordered: `Allow < Review < Block`, so the
/// verdict of an item is the maximum over its labels.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    #[default]
    Allow,
    Review,
    Block,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Review => "review",
            Verdict::Block => "block",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(Verdict::Allow),
            "review" => Ok(Verdict::Review),
            "block" => Ok(Verdict::Block),
            other => Err(format!(
                "unknown verdict {other:?} (expected allow, review or block)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert!("sexual".parse::<Category>().is_err());
    }

    #[test]
    fn verdicts_are_ordered_by_severity() {
        assert!(Verdict::Allow < Verdict::Review && Verdict::Review < Verdict::Block);
    }
}
