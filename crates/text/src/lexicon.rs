//! The lexicon format.
//!
//! A lexicon is a UTF-8 text file, meant to be edited by hand:
//!
//! ```text
//! # Comments start with '#', anywhere on a line.
//! [sexual.explicit block]        # a section: category and severity (block | review)
//! 色情 | 色情片                    # a term and its variants, separated by '|'
//! porn ; substr                  # flags after ';'
//! [allow]                        # exceptions: benign words that contain a term
//! 颜色
//! ```
//!
//! Flags: `substr` matches a Latin-script term inside longer words (by default
//! Latin terms match whole words only); `word` forces whole-word matching for
//! any script; `nojunk` refuses matches with junk inserted between letters.
//! Every term is normalized like the text, so `ＰＯＲＮ` and `porn` are one term.

use std::fmt;
use std::path::Path;

use cleanweb_core::Category;

use crate::normalize::normalize;

/// How strongly a term speaks for its category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Review,
    Block,
}

impl Severity {
    /// The label score a hit of this severity gets; matched to the default
    /// policy thresholds (review 0.5, block 0.85).
    pub fn score(self) -> f32 {
        match self {
            Severity::Review => 0.6,
            Severity::Block => 0.95,
        }
    }
}

/// One searchable form of a term.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The form as written in the file (a term or one of its variants).
    pub term: String,
    /// The normalized form that is searched for.
    pub pattern: String,
    /// `None` for allow-list entries.
    pub category: Option<Category>,
    pub severity: Severity,
    pub whole_word: bool,
    pub allow_junk: bool,
    pub note: Option<String>,
    /// Where it came from, for error messages and tooling: `file:line`.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconError {
    pub origin: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LexiconError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.line, self.message)
    }
}

impl std::error::Error for LexiconError {}

/// Parsed lexicon entries, ready to be compiled into a matcher.
#[derive(Clone, Debug, Default)]
pub struct Lexicon {
    pub entries: Vec<Entry>,
    pub allow: Vec<Entry>,
}

/// The lexicon the project ships, written and curated for cleanweb.
pub const DEFAULT_LEXICON: &str = include_str!("../lexicons/default.txt");

impl Lexicon {
    /// The shipped default lexicon.
    pub fn builtin() -> Lexicon {
        // The shipped file is checked by a unit test, so this cannot fail at run time.
        Lexicon::parse(DEFAULT_LEXICON, "builtin:default.txt").unwrap_or_default()
    }

    pub fn load(path: &Path) -> Result<Lexicon, LexiconError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LexiconError {
            origin: origin.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Lexicon::parse(&text, &origin)
    }

    /// Adds another lexicon's entries (a deployer's own on top of the default).
    pub fn extend(&mut self, other: Lexicon) {
        self.entries.extend(other.entries);
        self.allow.extend(other.allow);
    }

    pub fn parse(text: &str, origin: &str) -> Result<Lexicon, LexiconError> {
        let mut lex = Lexicon::default();
        // None = no section yet; Some(None) = [allow].
        let mut section: Option<Option<(Category, Severity)>> = None;
        for (n, raw) in text.lines().enumerate() {
            let line_no = n + 1;
            let err = |message: String| LexiconError {
                origin: origin.to_owned(),
                line: line_no,
                message,
            };
            let (body, note) = match raw.split_once('#') {
                Some((b, c)) => (b, Some(c.trim()).filter(|c| !c.is_empty())),
                None => (raw, None),
            };
            let body = body.trim();
            if body.is_empty() {
                continue;
            }
            if let Some(header) = body.strip_prefix('[') {
                let header = header
                    .strip_suffix(']')
                    .ok_or_else(|| err("a section header must end with ']'".into()))?;
                section = Some(parse_section(header).map_err(err)?);
                continue;
            }
            let Some(sec) = section else {
                return Err(err(
                    "term before any section: start with a header such as [sexual.explicit block]"
                        .into(),
                ));
            };
            let (forms, flags) = match body.split_once(';') {
                Some((f, fl)) => (f, fl),
                None => (body, ""),
            };
            let mut whole_word = None;
            let mut allow_junk = true;
            for flag in flags.split_whitespace() {
                match flag {
                    "substr" => whole_word = Some(false),
                    "word" => whole_word = Some(true),
                    "nojunk" => allow_junk = false,
                    other => {
                        return Err(err(format!(
                            "unknown flag {other:?} (expected substr, word or nojunk)"
                        )));
                    }
                }
            }
            for form in forms.split('|').map(str::trim) {
                if form.is_empty() {
                    return Err(err("empty term or variant".into()));
                }
                let pattern = normalize(form).text;
                if pattern.is_empty() {
                    return Err(err(format!(
                        "{form:?} normalizes to nothing (it is all spaces, punctuation or symbols)"
                    )));
                }
                let latin = pattern.chars().all(|c| c.is_ascii_alphanumeric());
                let entry = Entry {
                    term: form.to_owned(),
                    whole_word: whole_word.unwrap_or(latin),
                    allow_junk,
                    category: sec.map(|(c, _)| c),
                    severity: sec.map_or(Severity::Review, |(_, s)| s),
                    note: note.map(str::to_owned),
                    origin: format!("{origin}:{line_no}"),
                    pattern,
                };
                if sec.is_some() {
                    lex.entries.push(entry);
                } else {
                    lex.allow.push(entry);
                }
            }
        }
        Ok(lex)
    }
}

fn parse_section(header: &str) -> Result<Option<(Category, Severity)>, String> {
    let mut words = header.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("allow"), None, None) => Ok(None),
        (Some(cat), Some(sev), None) => {
            let category: Category = cat.parse().map_err(|e| format!("{e}"))?;
            if category == Category::LinkBlocked {
                return Err("link.blocked is for URL lists, not lexicons".into());
            }
            let severity = match sev {
                "block" => Severity::Block,
                "review" => Severity::Review,
                other => {
                    return Err(format!(
                        "unknown severity {other:?} (expected block or review)"
                    ));
                }
            };
            Ok(Some((category, severity)))
        }
        _ => Err(format!(
            "bad section [{header}]: expected [CATEGORY SEVERITY] or [allow]"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_lexicon_is_valid_and_substantial() {
        let lex = Lexicon::parse(DEFAULT_LEXICON, "default").unwrap();
        assert!(lex.entries.len() > 150, "{}", lex.entries.len());
        assert!(lex.allow.len() > 20);
        for cat in [
            Category::SexualExplicit,
            Category::SexualSuggestive,
            Category::SexualServices,
            Category::SexualMinors,
        ] {
            assert!(lex.entries.iter().any(|e| e.category == Some(cat)), "{cat}");
        }
    }

    #[test]
    fn parses_variants_flags_and_notes() {
        let lex = Lexicon::parse(
            "[sexual.explicit review]\nＰorn | p0rn ; substr nojunk # films\n[allow]\nscunthorpe\n",
            "t",
        )
        .unwrap();
        assert_eq!(lex.entries.len(), 2);
        let e = &lex.entries[1];
        assert_eq!((e.term.as_str(), e.pattern.as_str()), ("p0rn", "porn"));
        assert!(!e.whole_word && !e.allow_junk);
        assert_eq!(e.note.as_deref(), Some("films"));
        assert_eq!(e.origin, "t:2");
        assert_eq!(lex.allow[0].pattern, "scunthorpe");
    }

    #[test]
    fn errors_name_the_line() {
        let err =
            Lexicon::parse("[sexual.explicit block]\nok\nbad ; fuzzy\n", "f.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.txt:3: unknown flag \"fuzzy\" (expected substr, word or nojunk)"
        );
        assert!(Lexicon::parse("orphan\n", "f").is_err());
        assert!(Lexicon::parse("[sexual.politics block]\n", "f").is_err());
        assert!(Lexicon::parse("[sexual.explicit block]\n!!!\n", "f").is_err());
    }
}
