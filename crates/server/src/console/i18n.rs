//! The console's message catalogues (`console/i18n/*.toml`, one per
//! language, the same keys in each) and language negotiation.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The languages the console speaks; the first is the fallback.
pub const LOCALES: [&str; 2] = ["en", "zh"];

type Catalogue = BTreeMap<String, String>;

static CATALOGUES: LazyLock<BTreeMap<&'static str, Catalogue>> = LazyLock::new(|| {
    let parse = |text: &str| -> Catalogue {
        // The catalogues ship inside the binary and a unit test parses them,
        // so a broken one cannot reach a release.
        toml::from_str(text).unwrap_or_default()
    };
    BTreeMap::from([
        ("en", parse(include_str!("../../console/i18n/en.toml"))),
        ("zh", parse(include_str!("../../console/i18n/zh.toml"))),
    ])
});

/// A language's catalogue (English for an unknown one).
pub fn catalogue(locale: &str) -> &'static Catalogue {
    CATALOGUES
        .get(locale)
        .or_else(|| CATALOGUES.get("en"))
        .unwrap_or_else(|| unreachable!("the English catalogue is built in"))
}

/// One message, with `{name}` placeholders filled in.
pub fn message(locale: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = catalogue(locale)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_owned());
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// The user's choice if set and known, else the best match in
/// Accept-Language (by q-value, then order), else English.
pub fn negotiate(preferred: Option<&str>, accept_language: Option<&str>) -> &'static str {
    if let Some(p) = preferred
        && let Some(l) = LOCALES.iter().find(|l| **l == p)
    {
        return l;
    }
    let mut best: Option<(f32, usize, &'static str)> = None;
    for (i, part) in accept_language
        .unwrap_or("")
        .split(',')
        .take(32)
        .enumerate()
    {
        let mut bits = part.trim().split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .find_map(|b| {
                b.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let Some(l) = LOCALES.iter().find(|l| **l == primary) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(bq, _, _)| q > bq) {
            best = Some((q, i, l));
        }
    }
    best.map_or(LOCALES[0], |(_, _, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let parse = |t: &str| toml::from_str::<Catalogue>(t).expect("catalogue parses");
        let en = parse(include_str!("../../console/i18n/en.toml"));
        let zh = parse(include_str!("../../console/i18n/zh.toml"));
        assert!(en.len() > 40, "{} messages", en.len());
        let missing: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        let extra: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "zh lacks {missing:?}, has extra {extra:?}"
        );
        for (k, v) in &zh {
            assert!(!v.trim().is_empty(), "zh {k} is empty");
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let en = catalogue("en");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console/templates");
        let re = regex_lite_keys();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for key in re(&text) {
                assert!(
                    en.contains_key(&key),
                    "{} uses t.{key}, which no catalogue has",
                    path.display()
                );
            }
        }
    }

    /// The `t.some_key` references in a template.
    fn regex_lite_keys() -> impl Fn(&str) -> Vec<String> {
        |text: &str| {
            let mut keys = Vec::new();
            let bytes = text.as_bytes();
            let mut i = 0;
            while let Some(pos) = text[i..].find("t.") {
                let start = i + pos;
                let before_ok = start == 0
                    || !(bytes[start - 1].is_ascii_alphanumeric()
                        || bytes[start - 1] == b'_'
                        || bytes[start - 1] == b'.');
                let key: String = text[start + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if before_ok && !key.is_empty() {
                    keys.push(key.clone());
                }
                i = start + 2 + key.len();
            }
            keys
        }
    }

    #[test]
    fn negotiation_follows_choice_then_quality() {
        assert_eq!(negotiate(Some("zh"), Some("en")), "zh");
        assert_eq!(negotiate(Some("fr"), Some("zh-CN,zh;q=0.9,en;q=0.8")), "zh");
        assert_eq!(negotiate(None, Some("en-US,en;q=0.9,zh;q=0.8")), "en");
        assert_eq!(negotiate(None, Some("fr, zh;q=0.5, en;q=0.4")), "zh");
        assert_eq!(negotiate(None, Some("de")), "en");
        assert_eq!(negotiate(None, None), "en");
        assert_eq!(message("zh", "nope.missing", &[]), "nope.missing");
        assert_eq!(
            message("en", "queue_claimed_by", &[("name", "amy")]),
            "claimed by amy"
        );
    }
}
