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
//! any script; `nojunk` refuses matches with junk inserted between letters;
//! `nopinyin` turns off sound-alike matching for a Chinese term whose reading
//! is shared by common words (阴道 yindao sounds like 引导).
//!
//! A `[context]` section lists cue words of news, law enforcement, medicine
//! and education (打击, 警方, 乳腺, 性教育). Text with cues and no contact
//! details gets its hits lowered one step; see the detector's docs.
//!
//! A `[sense TERM]` section lists words that name a listed term's benign
//! sense (`[sense cock]`: rooster, hen, crowing; `[sense hooker]`: rugby,
//! scrum). A hit on TERM (or on a longer term that contains it) with one of
//! them within [`SENSE_WINDOW`] characters, in text with no contact
//! details, is read in that sense and dropped.
//!
//! Weak words that flag text only together are grouped in `[signal NAME]`
//! sections and combined in `[rule CATEGORY SEVERITY]` sections, one rule a
//! line:
//!
//! ```text
//! [signal body]
//! 胸 | 屁股 | nipples
//! [signal act]
//! 舔 | 揉 | lick
//! [rule sexual.explicit review]
//! description: body + act within 20     # every group within 20 chars of the first
//! ad: price + place + time|tonight within 40
//! ```
//!
//! `contact` (contact details) and `term` (a hit of any listed term but a
//! `sexual.suggestive` one) are
//! built-in groups. A rule fires when each of its slots has a hit within
//! `within` characters (default 30) of a hit of its first slot.
//! Every term is normalized like the text, so `ＰＯＲＮ` and `porn` are one term.
//! Allow-list words match only as written, with no junk inside them.

use std::fmt;
use std::path::Path;

use cleanweb_core::Category;

use crate::normalize::normalize;

/// How strongly a term speaks for its category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth a human look: scores 0.6.
    Review,
    /// Enough to block on its own: scores 0.95.
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

/// What an entry is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A term that flags text.
    Term(Category, Severity),
    /// A benign word that contains a term.
    Allow,
    /// A cue of news, law enforcement, medical or educational context.
    Context,
    /// A word naming the benign sense of one term ([`Entry::group`]).
    Sense,
    /// A weak word of a signal group ([`Entry::group`]): alone it flags
    /// nothing; rules combine groups.
    Signal,
}

/// The pseudo-group satisfied by contact details in the text.
pub const CONTACT_GROUP: &str = "contact";
/// The pseudo-group satisfied by any hit of a listed term.
pub const TERM_GROUP: &str = "term";
/// The default and the largest `within` of a rule, in characters.
pub const RULE_WITHIN: usize = 30;
const MAX_RULE_WITHIN: usize = 200;
const MAX_RULE_SLOTS: usize = 6;

/// A combination of signals that flags text together: every slot has a hit
/// within `within` characters of a hit of the first slot.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Its name, shown in evidence as `rule:NAME`.
    pub name: String,
    /// Category the rule's labels carry.
    pub category: Category,
    /// Severity the rule's labels carry, as for a term.
    pub severity: Severity,
    /// Each slot is one or more group names (alternatives).
    pub slots: Vec<Vec<String>>,
    /// How far, in characters, each slot's hit may be from a first-slot hit:
    /// [`RULE_WITHIN`] unless the line says `within N` (at most 200).
    pub within: usize,
    /// `file:line`.
    pub origin: String,
}

/// How near (in characters, either side) a sense word must be to the term
/// it explains: about a sentence.
pub const SENSE_WINDOW: usize = 64;

/// One searchable form of a term.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The form as written in the file (a term or one of its variants).
    pub term: String,
    /// The normalized form that is searched for.
    pub pattern: String,
    /// Term, allow-list word, context cue, sense word or signal.
    pub kind: Kind,
    /// Must stand as a whole word: by default for Latin-script forms, or set with `word` /
    /// `substr`.
    pub whole_word: bool,
    /// Matches even with junk between its letters; off with `nojunk`, and for single-word
    /// allow-list entries.
    pub allow_junk: bool,
    /// Also match same-sound spellings (pinyin, homophones).
    pub sound_alike: bool,
    /// The comment after `#` on the entry's line, if any.
    pub note: Option<String>,
    /// For a sense word, the normalized term whose benign sense it names;
    /// for a signal, its group's name.
    pub group: Option<String>,
    /// Where it came from, for error messages and tooling: `file:line`.
    pub origin: String,
}

/// A lexicon that could not be read or parsed, and where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconError {
    /// File or source name, as given to `parse` or `load`.
    pub origin: String,
    /// Line number, from 1; 0 when the file could not be read.
    pub line: usize,
    /// What is wrong, in plain English.
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
    /// Terms, allow-list words and context cues, in file order.
    pub entries: Vec<Entry>,
    /// Signal combinations.
    pub rules: Vec<Rule>,
}

/// The lexicon the project ships, written and curated for cleanweb.
pub const DEFAULT_LEXICON: &str = include_str!("../lexicons/default.txt");
/// Its extension: platform slang, regional service terms, and the allow-list
/// words and cues that keep them quiet on ordinary text.
pub const EXTENDED_LEXICON: &str = include_str!("../lexicons/extended.txt");
/// Slang: sex-act and fetish vocabulary, the sex trade's and porn sharing's
/// code words, algospeak, and coded trade in child sexual abuse material.
pub const SLANG_LEXICON: &str = include_str!("../lexicons/slang.txt");
/// Signals and rules: weak words that flag text only together (a
/// description of a sex act, a price-place-time ad, age words next to sexual
/// ones).
pub const RULES_LEXICON: &str = include_str!("../lexicons/rules.txt");
/// Recall families: pinyin initials and homophones, algospeak, trade and
/// porn-sharing rules, sugar dating, and grooming and trade words next to
/// age words.
pub const FAMILIES_LEXICON: &str = include_str!("../lexicons/families.txt");

impl Lexicon {
    /// The shipped lexicon: default.txt, extended.txt, slang.txt, rules.txt
    /// and families.txt.
    pub fn builtin() -> Lexicon {
        // The shipped files are checked by a unit test, so this cannot fail at run time.
        let mut lex = Lexicon::parse(DEFAULT_LEXICON, "builtin:default.txt").unwrap_or_default();
        lex.extend(Lexicon::parse(EXTENDED_LEXICON, "builtin:extended.txt").unwrap_or_default());
        lex.extend(Lexicon::parse(SLANG_LEXICON, "builtin:slang.txt").unwrap_or_default());
        lex.extend(Lexicon::parse(RULES_LEXICON, "builtin:rules.txt").unwrap_or_default());
        lex.extend(Lexicon::parse(FAMILIES_LEXICON, "builtin:families.txt").unwrap_or_default());
        lex
    }

    /// Reads and parses a lexicon file; the path becomes the entries' origin.
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
        self.rules.extend(other.rules);
    }

    /// The signal groups its entries define.
    pub fn groups(&self) -> std::collections::BTreeSet<&str> {
        self.entries
            .iter()
            .filter(|e| e.kind == Kind::Signal)
            .filter_map(|e| e.group.as_deref())
            .collect()
    }

    /// Checks that every rule names groups that exist (in this lexicon or
    /// in `also`, for a file checked on top of the built-in one).
    pub fn check_rules(&self, also: Option<&Lexicon>) -> Result<(), LexiconError> {
        let mut known = self.groups();
        if let Some(other) = also {
            known.extend(other.groups());
        }
        for r in &self.rules {
            for g in r.slots.iter().flatten() {
                if g != CONTACT_GROUP && g != TERM_GROUP && !known.contains(g.as_str()) {
                    let (origin, line) = r.origin.rsplit_once(':').unwrap_or((&r.origin, "0"));
                    return Err(LexiconError {
                        origin: origin.to_owned(),
                        line: line.parse().unwrap_or(0),
                        message: format!(
                            "rule {}: no [signal {g}] section defines {g:?} (built-in groups: {CONTACT_GROUP}, {TERM_GROUP})",
                            r.name
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Counts of (terms, allow-list words, context cues).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for e in &self.entries {
            match e.kind {
                Kind::Term(..) => c.0 += 1,
                Kind::Allow | Kind::Sense => c.1 += 1,
                Kind::Context | Kind::Signal => c.2 += 1,
            }
        }
        c
    }

    /// Parses lexicon text (format in the module docs); `origin` names it in errors and in each
    /// entry's `origin`.
    pub fn parse(text: &str, origin: &str) -> Result<Lexicon, LexiconError> {
        let mut lex = Lexicon::default();
        let mut section: Option<Section> = None;
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
            let Some(sec) = &section else {
                return Err(err(
                    "term before any section: start with a header such as [sexual.explicit block]"
                        .into(),
                ));
            };
            if let Some((category, severity)) = sec.2 {
                let rule = parse_rule(body, category, severity).map_err(err)?;
                lex.rules.push(Rule {
                    origin: format!("{origin}:{line_no}"),
                    ..rule
                });
                continue;
            }
            let (forms, flags) = match body.split_once(';') {
                Some((f, fl)) => (f, fl),
                None => (body, ""),
            };
            let mut whole_word = None;
            let mut allow_junk = true;
            let mut sound_alike = true;
            for flag in flags.split_whitespace() {
                match flag {
                    "substr" => whole_word = Some(false),
                    "word" => whole_word = Some(true),
                    "nojunk" => allow_junk = false,
                    "nopinyin" => sound_alike = false,
                    other => {
                        return Err(err(format!(
                            "unknown flag {other:?} (expected substr, word, nojunk or nopinyin)"
                        )));
                    }
                }
            }
            for form in forms.split('|').map(str::trim) {
                let line_flags = Flags {
                    whole_word,
                    allow_junk,
                    sound_alike,
                };
                let entry = Entry::new(
                    form,
                    sec.0,
                    sec.1.clone(),
                    line_flags,
                    &format!("{origin}:{line_no}"),
                )
                .map_err(err)?;
                lex.entries.push(Entry {
                    note: note.map(str::to_owned),
                    ..entry
                });
            }
        }
        Ok(lex)
    }

    /// The terms admins accepted from reviewers' suggestions, as term
    /// entries with the default flags: built directly, not written out as
    /// lexicon text and parsed again. Terms the format could not hold
    /// (`lexicon_safe`) or that normalize to nothing are skipped and
    /// counted.
    pub fn accepted(terms: &[(String, Category, bool)]) -> (Lexicon, usize) {
        let mut lex = Lexicon::default();
        let mut skipped = 0;
        for (i, (term, category, block)) in terms.iter().enumerate() {
            let severity = if *block {
                Severity::Block
            } else {
                Severity::Review
            };
            let kind = Kind::Term(*category, severity);
            let origin = format!("accepted suggestions:{}", i + 1);
            match Entry::new(term.trim(), kind, None, Flags::default(), &origin) {
                Ok(e) if lexicon_safe(term) => lex.entries.push(e),
                _ => skipped += 1,
            }
        }
        (lex, skipped)
    }
}

/// A line's flags, before defaults apply.
#[derive(Clone, Copy)]
struct Flags {
    /// `Some` when `word` or `substr` was given.
    whole_word: Option<bool>,
    allow_junk: bool,
    sound_alike: bool,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            whole_word: None,
            allow_junk: true,
            sound_alike: true,
        }
    }
}

impl Entry {
    /// One form of a line, normalized, with its flags' defaults applied.
    fn new(
        form: &str,
        kind: Kind,
        group: Option<String>,
        flags: Flags,
        origin: &str,
    ) -> Result<Entry, String> {
        if form.is_empty() {
            return Err("empty term or variant".into());
        }
        let mut pattern = normalize(form).text;
        // An emoji (🍆, 🔞) is junk to the normalizer, yet as a signal it says
        // something: it is matched as the char itself.
        let mut chars = form.chars();
        if pattern.is_empty()
            && kind == Kind::Signal
            && let (Some(c), None) = (chars.next(), chars.next())
            && is_emoji(c)
        {
            pattern = form.to_owned();
        }
        if pattern.is_empty() {
            return Err(format!(
                "{form:?} normalizes to nothing (it is all spaces, punctuation or symbols)"
            ));
        }
        let latin = pattern.chars().all(|c| c.is_ascii_alphanumeric());
        // Allow words are real words: written with junk inside they are
        // evasion, not the benign word ("大保健 全套" must not read as 健全).
        // A multi-word allow entry may keep its spaces.
        let junk_ok = flags.allow_junk && (kind != Kind::Allow || form.contains(' '));
        Ok(Entry {
            term: form.to_owned(),
            whole_word: flags.whole_word.unwrap_or(latin),
            allow_junk: junk_ok,
            sound_alike: flags.sound_alike,
            kind,
            group,
            note: None,
            origin: origin.to_owned(),
            pattern,
        })
    }
}

/// A section's kind; for `[sense TERM]` the normalized term and for
/// `[signal NAME]` the group; for `[rule CATEGORY SEVERITY]` what its rules
/// flag.
#[derive(Clone)]
struct Section(Kind, Option<String>, Option<(Category, Severity)>);

/// Whether a char is an emoji or pictograph a signal may name (the
/// Miscellaneous Symbols blocks and the supplementary pictographs).
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x1F000..=0x1FAFF)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `NAME: slot + slot|alt [+ ...] [within K]`.
fn parse_rule(body: &str, category: Category, severity: Severity) -> Result<Rule, String> {
    let (name, rest) = body
        .split_once(':')
        .ok_or("a rule is NAME: group + group [within K]")?;
    let name = name.trim();
    if !is_name(name) {
        return Err(format!(
            "rule name {name:?}: lowercase letters, digits and underscores"
        ));
    }
    let (slots_text, within) = match rest.rsplit_once("within") {
        Some((s, k)) => {
            let k: usize = k
                .trim()
                .parse()
                .map_err(|_| format!("rule {name}: within takes a number of characters"))?;
            if k == 0 || k > MAX_RULE_WITHIN {
                return Err(format!(
                    "rule {name}: within is 1 to {MAX_RULE_WITHIN} characters"
                ));
            }
            (s, k)
        }
        None => (rest, RULE_WITHIN),
    };
    let mut slots = Vec::new();
    for slot in slots_text.split('+') {
        let alts: Vec<String> = slot.split('|').map(|g| g.trim().to_owned()).collect();
        if let Some(bad) = alts.iter().find(|g| !is_name(g)) {
            return Err(format!("rule {name}: {bad:?} is not a group name"));
        }
        slots.push(alts);
    }
    if slots.len() < 2 || slots.len() > MAX_RULE_SLOTS {
        return Err(format!(
            "rule {name}: 2 to {MAX_RULE_SLOTS} groups joined by '+'"
        ));
    }
    Ok(Rule {
        name: name.to_owned(),
        category,
        severity,
        slots,
        within,
        origin: String::new(),
    })
}

fn parse_section(header: &str) -> Result<Section, String> {
    let mut words = header.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("allow"), None, None) => Ok(Section(Kind::Allow, None, None)),
        (Some("context"), None, None) => Ok(Section(Kind::Context, None, None)),
        (Some("signal"), Some(name), None) => {
            if !is_name(name) {
                return Err(format!(
                    "[signal {name}]: a group name is lowercase letters, digits and underscores"
                ));
            }
            if name == CONTACT_GROUP || name == TERM_GROUP {
                return Err(format!("[signal {name}]: {name} is a built-in group"));
            }
            Ok(Section(Kind::Signal, Some(name.to_owned()), None))
        }
        (Some("rule"), Some(cat), Some(sev)) => match parse_section(&format!("{cat} {sev}"))? {
            Section(Kind::Term(c, s), ..) => Ok(Section(Kind::Signal, None, Some((c, s)))),
            _ => Err(format!("bad section [{header}]")),
        },
        (Some("sense"), Some(_), _) => {
            let term = header.trim_start().trim_start_matches("sense").trim();
            let pattern = normalize(term).text;
            if pattern.is_empty() {
                return Err(format!("[sense {term}]: the term normalizes to nothing"));
            }
            Ok(Section(Kind::Sense, Some(pattern), None))
        }
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
            Ok(Section(Kind::Term(category, severity), None, None))
        }
        _ => Err(format!(
            "bad section [{header}]: expected [CATEGORY SEVERITY], [allow], [context], [sense TERM], [signal NAME] or [rule CATEGORY SEVERITY]"
        )),
    }
}

/// Whether `term` can stand as one term of a lexicon line: not empty, one
/// line, and none of the characters the format gives a meaning (`|`
/// between variants, `;` before flags, `#` before a note, `[` `]` around a
/// section). For terms that come from people (reviewers' suggestions).
pub fn lexicon_safe(term: &str) -> bool {
    let t = term.trim();
    !t.is_empty()
        && t.chars().count() <= 100
        && !t
            .chars()
            .any(|c| c.is_control() || matches!(c, '|' | ';' | '#' | '[' | ']'))
        // And the compiler takes it (a term of punctuation alone, say,
        // normalizes to nothing): one bad term must never stop a build.
        && Lexicon::parse(&format!("[sexual.explicit review]\n{t}\n"), "term").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_terms_the_format_and_compiler_take_are_safe() {
        assert!(lexicon_safe("zorblax"));
        assert!(lexicon_safe(" 约炮 "));
        for bad in [
            "",
            "  ",
            "a|b",
            "x;word",
            "#x",
            "[x]",
            "a\nb",
            &"x".repeat(101),
        ] {
            assert!(!lexicon_safe(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_default_lexicon_is_valid_and_substantial() {
        Lexicon::parse(EXTENDED_LEXICON, "extended").unwrap();
        Lexicon::parse(SLANG_LEXICON, "slang").unwrap();
        assert!(Lexicon::parse(RULES_LEXICON, "rules").unwrap().rules.len() >= 20);
        assert!(
            Lexicon::parse(FAMILIES_LEXICON, "families")
                .unwrap()
                .rules
                .len()
                >= 20
        );
        Lexicon::builtin().check_rules(None).unwrap();
        Lexicon::parse(SLANG_LEXICON, "slang").unwrap();
        let lex = Lexicon::parse(DEFAULT_LEXICON, "default").unwrap();
        let (terms, allow, context) = lex.counts();
        assert!(terms > 300, "{terms}");
        assert!(allow > 50 && context > 30, "{allow} {context}");
        for cat in [
            Category::SexualExplicit,
            Category::SexualSuggestive,
            Category::SexualServices,
            Category::SexualMinors,
        ] {
            assert!(
                lex.entries
                    .iter()
                    .any(|e| matches!(e.kind, Kind::Term(c, _) if c == cat)),
                "{cat}"
            );
        }
    }

    #[test]
    fn parses_variants_flags_and_notes() {
        let lex = Lexicon::parse(
            "[sexual.explicit review]\nＰorn | p0rn ; substr nojunk # films\n[allow]\nscunthorpe\n",
            "t",
        )
        .unwrap();
        assert_eq!(lex.counts(), (2, 1, 0));
        let e = &lex.entries[1];
        assert_eq!((e.term.as_str(), e.pattern.as_str()), ("p0rn", "porn"));
        assert!(!e.whole_word && !e.allow_junk);
        assert_eq!(e.note.as_deref(), Some("films"));
        assert_eq!(e.origin, "t:2");
        assert_eq!(lex.entries[2].kind, Kind::Allow);
    }

    #[test]
    fn errors_name_the_line() {
        let err =
            Lexicon::parse("[sexual.explicit block]\nok\nbad ; fuzzy\n", "f.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.txt:3: unknown flag \"fuzzy\" (expected substr, word, nojunk or nopinyin)"
        );
        assert!(Lexicon::parse("orphan\n", "f").is_err());
        assert!(Lexicon::parse("[sexual.politics block]\n", "f").is_err());
        assert!(Lexicon::parse("[sexual.explicit block]\n!!!\n", "f").is_err());
    }

    #[test]
    fn rules_parse_and_name_their_groups() {
        let text = "[signal body]\n胸\n[signal act]\n揉\n[rule sexual.explicit review]\n\
                    d: body + act|contact within 12\nplain: body + term\n";
        let lex = Lexicon::parse(text, "r").unwrap();
        assert_eq!(lex.rules.len(), 2);
        assert_eq!(
            lex.rules[0].slots,
            vec![vec!["body"], vec!["act", "contact"]]
        );
        assert_eq!(
            (lex.rules[0].within, lex.rules[1].within),
            (12, RULE_WITHIN)
        );
        assert_eq!(lex.rules[0].origin, "r:6");
        assert_eq!(
            lex.groups().into_iter().collect::<Vec<_>>(),
            vec!["act", "body"]
        );
        lex.check_rules(None).unwrap();
        let unknown =
            Lexicon::parse("[rule sexual.explicit block]\nx: body + nope\n", "u").unwrap();
        let e = unknown.check_rules(Some(&lex)).unwrap_err();
        assert!(e.message.contains("nope"), "{e}");
        assert_eq!(e.line, 2);
        for bad in [
            "[rule sexual.explicit block]\nx: body\n",
            "[rule sexual.explicit block]\nx body + act\n",
            "[rule sexual.explicit block]\nX: body + act\n",
            "[rule sexual.explicit block]\nx: body + act within 0\n",
            "[rule sexual.explicit block]\nx: body + act within 999\n",
            "[rule sexual.explicit sometimes]\nx: body + act\n",
            "[signal Body]\n胸\n",
            "[signal contact]\n胸\n",
        ] {
            assert!(Lexicon::parse(bad, "b").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accepted_terms_become_entries_without_a_text_round_trip() {
        let terms = vec![
            ("新黑话".to_owned(), Category::SexualServices, true),
            ("mild one".to_owned(), Category::SexualExplicit, false),
            ("bad | term".to_owned(), Category::SexualExplicit, true),
            ("!!!".to_owned(), Category::SexualExplicit, true),
        ];
        let (lex, skipped) = Lexicon::accepted(&terms);
        assert_eq!(
            skipped, 2,
            "format characters and nothing-at-all are skipped"
        );
        assert_eq!(lex.entries.len(), 2);
        assert_eq!(
            lex.entries[0].kind,
            Kind::Term(Category::SexualServices, Severity::Block)
        );
        assert_eq!(
            lex.entries[1].kind,
            Kind::Term(Category::SexualExplicit, Severity::Review)
        );
        assert!(lex.entries[1].whole_word, "Latin terms are whole words");
        assert_eq!(lex.entries[0].origin, "accepted suggestions:1");
    }
}
