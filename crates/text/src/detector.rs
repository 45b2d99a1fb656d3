//! The lexicon matcher.
//!
//! One Aho-Corasick pass over the normalized text finds every term, allow-list
//! word and context cue; a second pass over the phonetic spelling finds
//! sound-alikes. Hits are filtered by their per-term options, mapped back to
//! original offsets, and scored:
//!
//! - A term hit scores by its severity (block 0.95, review 0.6).
//! - **Ads**: contact details (see `contact`) next to a sexual hit make it a
//!   `sexual.services` ad: with a blocking services term 0.95, with a
//!   blocking explicit or minors term 0.9, with milder terms 0.9 when two or
//!   more distinct terms hit and 0.6 (review) for a single one.
//! - **Context**: text that carries cues of news, law enforcement, medicine or
//!   education, and no contact details, has every hit lowered one step (×0.6:
//!   block → review, review → allow), or two steps with two or more distinct
//!   cues (×0.45: block → allow). A report about a crackdown on pornography
//!   is then reviewed at most, never blocked. Cues cannot launder
//!   spam: with more than twice as many distinct hits as cues (plus one), or
//!   with contact details, no discount applies, and `sexual.minors` never
//!   drops below review.

use std::collections::{HashMap, HashSet};

use cleanweb_core::{Category, DetectError, Detector, Evidence, Input, Label};
use daachorse::CharwiseDoubleArrayAhoCorasick;

use crate::contact;
use crate::fold::is_cjk;
use crate::lexicon::{
    CONTACT_GROUP, Entry, Kind, Lexicon, SENSE_WINDOW, Severity, TERM_GROUP, is_emoji,
};
use crate::normalize::{Normalized, normalize};
use crate::phonetic::{Phonetic, readings};

/// The `source` of every label the lexicon detector emits.
pub const SOURCE: &str = "text.lexicon";

/// The factor one context cue applies to hit scores (one step down).
const CONTEXT_DISCOUNT: f32 = 0.6;
/// The factor two or more distinct cues apply (two steps down).
const STRONG_CONTEXT_DISCOUNT: f32 = 0.45;
/// `sexual.minors` stays at least this high (the default review threshold is 0.2).
const MINORS_FLOOR: f32 = 0.5;
/// Most term hits, and most allow-list hits, kept per text. A hostile text of
/// a million repeated terms must not make the overlap checks quadratic, and
/// a few thousand hits settle any verdict.
const MAX_HITS: usize = 4096;
/// Rule evidence longer than this (a long link) may be missed as "near";
/// it bounds the search for nearby marks.
const MAX_MARK_CHARS: usize = 64;

/// Flags text that contains lexicon terms, however disguised.
pub struct LexiconDetector {
    entries: Vec<Entry>,
    direct: Option<Patterns>,
    /// Per direct pattern: its entry, the run lengths of its folded form, and
    /// whether it is the l-as-1 reading (see `LexiconDetector::new`).
    direct_ids: Vec<(usize, Vec<u8>, bool)>,
    phonetic: Option<Patterns>,
    phonetic_ids: Vec<usize>,
    /// Per entry, its signal group's number (signals only).
    signal_of: Vec<Option<usize>>,
    /// Emoji signals by char, sorted: they are junk to the normalizer, so
    /// they are looked up in the original text.
    emoji: Vec<(char, usize)>,
    rules: Vec<CompiledRule>,
}

/// One slot of a rule: what satisfies it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Group(usize),
    Contact,
    Term,
}

struct CompiledRule {
    name: String,
    category: Category,
    severity: Severity,
    /// Alternatives per slot, with their group names for evidence.
    slots: Vec<Vec<(Slot, String)>>,
    within: usize,
}

/// A span that can satisfy a rule's slot: (start, end, what it says).
type Mark = (usize, usize, String);

impl Default for LexiconDetector {
    /// The detector over the shipped default lexicon.
    fn default() -> Self {
        LexiconDetector::new(Lexicon::builtin())
    }
}

/// A term hit, mapped to the original text.
#[derive(Clone, Debug)]
struct Hit {
    entry: usize,
    start: usize,
    end: usize,
    phonetic: bool,
    /// Must stand as a whole word in the original.
    whole_word: bool,
}

/// What one text yields before scoring.
struct Scan {
    hits: Vec<Hit>,
    cues: usize,
    /// Sense words found, as (entry, start, end).
    senses: Vec<(usize, usize, usize)>,
    /// Signal words found, as (entry, start, end).
    signals: Vec<(usize, usize, usize)>,
}

impl LexiconDetector {
    /// Compiles a parsed lexicon into the direct and sound-alike matchers.
    pub fn new(lexicon: Lexicon) -> Self {
        let entries = lexicon.entries;
        let mut direct_pats: Vec<String> = Vec::new();
        let mut direct_ids = Vec::new();
        let mut phonetic_pats: Vec<String> = Vec::new();
        let mut phonetic_ids = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let mut forms = vec![e.term.clone()];
            if matches!(e.kind, Kind::Term(..)) {
                forms.extend(split_forms(&e.term));
            }
            for form in forms {
                let n = normalize(&form);
                if n.is_empty() {
                    continue;
                }
                let runs = n.runs(0, n.text.len()).to_vec();
                // '1' and '|' fold to 'i', yet in leetspeak they also stand
                // for 'l' ("s1ut"): a Latin term with an 'l' also gets its
                // 'i' reading, accepted only where the text has such a char.
                if matches!(e.kind, Kind::Term(..))
                    && n.text.contains('l')
                    && n.text.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    direct_ids.push((i, runs.clone(), true));
                    direct_pats.push(n.text.replace('l', "i"));
                }
                direct_ids.push((i, runs, false));
                direct_pats.push(n.text.clone());
            }
            if matches!(e.kind, Kind::Term(..)) && e.sound_alike && e.allow_junk {
                for r in readings(&e.pattern) {
                    phonetic_pats.push(r);
                    phonetic_ids.push(i);
                }
            }
        }
        // Group names to numbers; a rule naming an unknown group (which
        // `Lexicon::check_rules` reports) can never fire and is left out.
        let mut group_ids: HashMap<&str, usize> = HashMap::new();
        let signal_of: Vec<Option<usize>> = entries
            .iter()
            .map(|e| {
                let g = e.group.as_deref().filter(|_| e.kind == Kind::Signal)?;
                let next = group_ids.len();
                Some(*group_ids.entry(g).or_insert(next))
            })
            .collect();
        let rules = lexicon
            .rules
            .iter()
            .filter_map(|r| {
                let slots = r
                    .slots
                    .iter()
                    .map(|alts| {
                        alts.iter()
                            .map(|g| {
                                let slot = match g.as_str() {
                                    CONTACT_GROUP => Slot::Contact,
                                    TERM_GROUP => Slot::Term,
                                    name => Slot::Group(*group_ids.get(name)?),
                                };
                                Some((slot, g.clone()))
                            })
                            .collect::<Option<Vec<_>>>()
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(CompiledRule {
                    name: r.name.clone(),
                    category: r.category,
                    severity: r.severity,
                    slots,
                    within: r.within,
                })
            })
            .collect();
        let mut emoji: Vec<(char, usize)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == Kind::Signal)
            .filter_map(|(i, e)| {
                let mut cs = e.pattern.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) if is_emoji(c) => Some((c, i)),
                    _ => None,
                }
            })
            .collect();
        emoji.sort_unstable();
        LexiconDetector {
            emoji,
            direct: build(&direct_pats),
            direct_ids,
            phonetic: build(&phonetic_pats),
            phonetic_ids,
            signal_of,
            rules,
            entries,
        }
    }

    /// Number of term entries (variants counted one by one), excluding allow-list words, cues,
    /// senses and signals.
    pub fn term_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, Kind::Term(..)))
            .count()
    }

    fn scan(&self, text: &str, original: &mut Option<Vec<char>>) -> Scan {
        let norm = normalize(text);
        let mut hits = Vec::new();
        let mut allows: Vec<(usize, usize)> = Vec::new();
        // Cue hits as (entry, start, end): a cue inside a term hit (传播 in
        // 传播妹) is part of the term, not context.
        let mut cue_entries: Vec<(usize, usize, usize)> = Vec::new();
        let mut senses: Vec<(usize, usize, usize)> = Vec::new();
        let mut signals: Vec<(usize, usize, usize)> = Vec::new();
        if let Some(pats) = &self.direct {
            for (m_start, m_end, id) in pats.overlapping(&norm.text) {
                let (entry, pattern_runs, l_as_one) = &self.direct_ids[id];
                let Some((start, end)) = norm.original_span(m_start, m_end) else {
                    continue;
                };
                let e = &self.entries[*entry];
                if *l_as_one {
                    let original = original.get_or_insert_with(|| text.chars().collect());
                    let leet = original
                        .get(start..end)
                        .is_some_and(|s| s.iter().any(|c| matches!(c, '1' | '|' | '!')));
                    if !leet {
                        continue;
                    }
                }
                // Allow words and cues obey the same spelling rules as terms:
                // "essex" must not excuse "free sex".
                let doubling = matches!(e.kind, Kind::Term(..)) && latin_word(&e.pattern);
                if !runs_match(norm.runs(m_start, m_end), pattern_runs, doubling)
                    || (!e.allow_junk && end - start != norm.folded_len(m_start, m_end))
                {
                    continue;
                }
                if hits.len() >= MAX_HITS && allows.len() >= MAX_HITS {
                    break;
                }
                match e.kind {
                    Kind::Allow | Kind::Context | Kind::Sense | Kind::Signal if e.whole_word => {
                        let original = original.get_or_insert_with(|| text.chars().collect());
                        if is_whole_word(original, start, end) {
                            match e.kind {
                                Kind::Allow if allows.len() < MAX_HITS => {
                                    allows.push((start, end));
                                }
                                Kind::Context if cue_entries.len() < MAX_HITS => {
                                    cue_entries.push((*entry, start, end));
                                }
                                Kind::Sense if senses.len() < MAX_HITS => {
                                    senses.push((*entry, start, end));
                                }
                                Kind::Signal if signals.len() < MAX_HITS => {
                                    signals.push((*entry, start, end));
                                }
                                _ => {}
                            }
                        }
                    }
                    Kind::Sense => {
                        if senses.len() < MAX_HITS {
                            senses.push((*entry, start, end));
                        }
                    }
                    Kind::Signal => {
                        if signals.len() < MAX_HITS {
                            signals.push((*entry, start, end));
                        }
                    }
                    Kind::Allow if allows.len() < MAX_HITS => allows.push((start, end)),
                    Kind::Allow => {}
                    Kind::Context => {
                        if cue_entries.len() < MAX_HITS {
                            cue_entries.push((*entry, start, end));
                        }
                    }
                    Kind::Term(..) if hits.len() >= MAX_HITS => {}
                    Kind::Term(..) => hits.push(Hit {
                        entry: *entry,
                        start,
                        end,
                        phonetic: false,
                        whole_word: e.whole_word,
                    }),
                }
            }
        }
        if let Some(ac) = &self.phonetic {
            self.scan_phonetic(ac, text, original, &norm, &mut hits);
        }
        if !self.emoji.is_empty() {
            for (i, c) in text.chars().enumerate() {
                if signals.len() >= MAX_HITS {
                    break;
                }
                if !is_emoji(c) {
                    continue;
                }
                let from = self.emoji.partition_point(|&(e, _)| e < c);
                for &(_, entry) in self.emoji[from..].iter().take_while(|&&(e, _)| e == c) {
                    signals.push((entry, i, i + 1));
                }
            }
        }
        if hits.is_empty() && signals.is_empty() {
            return Scan {
                hits,
                cues: 0,
                senses,
                signals,
            };
        }
        let original = original.get_or_insert_with(|| text.chars().collect());
        // Sorted, so each hit looks only at the allow words that can reach
        // it (none is longer than MAX_MARK_CHARS): linear, not hits × allows.
        allows.sort_unstable();
        hits.retain(|h| {
            // An allow-list word that straddles a hit means the hit is an
            // artefact of word boundaries (颜色|情况 holds 色情): drop it. An
            // allow word wholly inside a direct hit does not excuse the hit;
            // a sound-alike hit is dropped on any overlap.
            let from = allows.partition_point(|&(s, _)| s + MAX_MARK_CHARS < h.start);
            let excused = allows[from..]
                .iter()
                .take_while(|&&(s, _)| s < h.end)
                .any(|&(s, e)| h.start < e && (h.phonetic || s < h.start || e > h.end));
            !excused && (!h.whole_word || is_whole_word(original, h.start, h.end))
        });
        // A sound-alike hit where the same span already matched directly adds nothing.
        let direct_spans: HashSet<(usize, usize)> = hits
            .iter()
            .filter(|h| !h.phonetic)
            .map(|h| (h.start, h.end))
            .collect();
        hits.retain(|h| !h.phonetic || !direct_spans.contains(&(h.start, h.end)));
        // Keep the longest hits: one inside a longer hit of the same category
        // adds nothing for the reader. Sorted by start, then longest first, a
        // hit is inside an earlier one exactly when an earlier hit of its
        // category reaches at least as far: one sweep.
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut reach: HashMap<Option<Category>, usize> = HashMap::new();
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for h in hits {
            let far = reach.entry(self.category(h.entry)).or_insert(0);
            if *far >= h.end {
                continue;
            }
            *far = (*far).max(h.end);
            kept.push(h);
        }
        // Kept hits are sorted by start: a cue lies inside one exactly when
        // the farthest end among hits starting at or before it covers it.
        let reach_by_start: Vec<(usize, usize)> = kept
            .iter()
            .scan(0, |far, h| {
                *far = (*far).max(h.end);
                Some((h.start, *far))
            })
            .collect();
        let inside_hit = |s: usize, e: usize| {
            let n = reach_by_start.partition_point(|&(start, _)| start <= s);
            n > 0 && reach_by_start[n - 1].1 >= e
        };
        let mut cues: Vec<usize> = cue_entries
            .into_iter()
            .filter(|&(_, s, e)| !inside_hit(s, e))
            .map(|(entry, _, _)| entry)
            .collect();
        cues.sort_unstable();
        cues.dedup();
        Scan {
            hits: kept,
            cues: cues.len(),
            senses,
            signals,
        }
    }

    fn scan_phonetic(
        &self,
        pats: &Patterns,
        text: &str,
        original: &mut Option<Vec<char>>,
        norm: &Normalized,
        hits: &mut Vec<Hit>,
    ) {
        // Without hanzi or Latin letters there is nothing to spell out.
        if !norm
            .text
            .chars()
            .any(|c| is_cjk(c) || c.is_ascii_lowercase())
        {
            return;
        }
        let ph = Phonetic::new(norm);
        if !ph.has_units() {
            return;
        }
        for (m_start, m_end, id) in pats.overlapping(&ph.text) {
            let entry = self.phonetic_ids[id];
            let Some(span) = ph.span(m_start, m_end) else {
                continue;
            };
            let original = original.get_or_insert_with(|| text.chars().collect());
            let Some(chars) = original.get(span.start..span.end) else {
                continue;
            };
            if !self.plausible_sound_alike(entry, chars) {
                continue;
            }
            if hits.len() >= MAX_HITS {
                break;
            }
            // Pinyin written in Latin letters must stand as its own word.
            hits.push(Hit {
                entry,
                start: span.start,
                end: span.end,
                phonetic: true,
                whole_word: span.latin_start || span.latin_end,
            });
        }
    }

    /// Sound-alikes collide with ordinary words far more than spellings do, so
    /// a sound-alike must look like evasion, not like another word:
    /// - written only in hanzi, it keeps at least one of the term's own
    ///   characters in place (涩情 keeps 情; 手教 shares nothing with 兽交);
    /// - written only in Latin letters, it is not a capitalised name
    ///   ("Yuan Jiao" is a person, "yuanjiao" is not).
    ///
    /// `span` is the hit's chars in the original: looked up by index, so
    /// each check costs the hit's length, not its offset.
    fn plausible_sound_alike(&self, entry: usize, span: &[char]) -> bool {
        let span: String = span.iter().collect();
        let has_hanzi = span.chars().any(is_cjk);
        let has_latin = span.chars().any(|c| c.is_ascii_alphabetic());
        if has_hanzi && !has_latin {
            let folded = normalize(&span).text;
            let pattern = &self.entries[entry].pattern;
            return folded.chars().zip(pattern.chars()).any(|(a, b)| a == b);
        }
        if has_latin && !has_hanzi {
            let titlecase = span
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| !w.is_empty())
                .all(|w| {
                    let mut cs = w.chars();
                    cs.next().is_some_and(|c| c.is_ascii_uppercase())
                        && cs.all(|c| c.is_ascii_lowercase())
                });
            return !titlecase;
        }
        true
    }

    /// Whether some rule could fire on a scan without term hits: every
    /// slot but contact slots has a signal. Spares the contact search on
    /// the many texts with a stray weak word.
    fn rule_possible(&self, scan: &Scan) -> bool {
        if scan.signals.is_empty() {
            return false;
        }
        let present: HashSet<usize> = scan
            .signals
            .iter()
            .filter_map(|&(e, _, _)| self.signal_of[e])
            .collect();
        self.rules.iter().any(|r| {
            r.slots.iter().all(|alts| {
                alts.iter().any(|(slot, _)| match slot {
                    Slot::Group(g) => present.contains(g),
                    Slot::Contact => true,
                    Slot::Term => false,
                })
            })
        })
    }

    /// Where rule `r` fires: for each slot the mark that satisfies it, all
    /// within `r.within` characters of the first slot's mark.
    fn fire(
        &self,
        r: &CompiledRule,
        scan: &Scan,
        contacts: &[contact::Contact],
    ) -> Option<Vec<Mark>> {
        let marks_of = |alts: &[(Slot, String)]| -> Vec<Mark> {
            let mut out: Vec<Mark> = Vec::new();
            for (slot, name) in alts {
                match slot {
                    Slot::Group(g) => out.extend(
                        scan.signals
                            .iter()
                            .filter(|&&(e, _, _)| self.signal_of[e] == Some(*g))
                            .map(|&(e, s, t)| (s, t, format!("{name}:{}", self.entries[e].term))),
                    ),
                    Slot::Contact => out.extend(
                        contacts
                            .iter()
                            .map(|c| (c.start, c.end, format!("contact:{}", c.kind))),
                    ),
                    // A sexual term: suggestive ones (写真, lingerie) are
                    // too weak to make a combination.
                    Slot::Term => out.extend(
                        scan.hits
                            .iter()
                            .filter(|h| self.category(h.entry) != Some(Category::SexualSuggestive))
                            .map(|h| {
                                (
                                    h.start,
                                    h.end,
                                    format!("term:{}", self.entries[h.entry].term),
                                )
                            }),
                    ),
                }
            }
            out.sort_by_key(|m| m.0);
            out
        };
        let slots: Vec<Vec<Mark>> = r.slots.iter().map(|a| marks_of(a)).collect();
        if slots.iter().any(Vec::is_empty) {
            return None;
        }
        let (first, rest) = slots.split_first()?;
        for anchor in first {
            let mut found = vec![anchor.clone()];
            for marks in rest {
                // Marks are sorted by start, and a mark is at most
                // MAX_MARK_CHARS long: only those starting in the window
                // around the anchor can be near it.
                let lo = anchor.0.saturating_sub(r.within + MAX_MARK_CHARS);
                let from = marks.partition_point(|m| m.0 < lo);
                let near = marks[from..]
                    .iter()
                    .take_while(|m| m.0 < anchor.1 + r.within)
                    .find(|m| {
                        m.1 + r.within > anchor.0
                            // One word satisfies one slot.
                            && !found.iter().any(|f| f.0 < m.1 && m.0 < f.1)
                    });
                match near {
                    Some(m) => found.push(m.clone()),
                    None => break,
                }
            }
            if found.len() == slots.len() {
                return Some(found);
            }
        }
        None
    }

    fn category(&self, entry: usize) -> Option<Category> {
        match self.entries[entry].kind {
            Kind::Term(c, _) => Some(c),
            _ => None,
        }
    }

    /// Scores one text's hits into labels (see the module docs).
    fn score(
        &self,
        field: &str,
        text: &str,
        mut scan: Scan,
        original: &[char],
        out: &mut Vec<Label>,
    ) {
        let contacts = contact::extract(text);
        // A term next to a word naming its benign sense (a cock and its
        // hens) is read in that sense, unless the text is an ad; so is a
        // longer term built on it (老司机带带我 on 老司机).
        if contacts.is_empty() && !scan.senses.is_empty() {
            let entries = &self.entries;
            // By start, so each hit looks only at the senses near it.
            scan.senses.sort_unstable_by_key(|&(_, start, _)| start);
            let senses = &scan.senses;
            scan.hits.retain(|h| {
                let pattern = entries[h.entry].pattern.as_str();
                let lo = h.start.saturating_sub(SENSE_WINDOW + MAX_MARK_CHARS);
                let from = senses.partition_point(|&(_, start, _)| start < lo);
                !senses[from..]
                    .iter()
                    .take_while(|&&(_, start, _)| start < h.end + SENSE_WINDOW)
                    .any(|&(s, _, end)| {
                        entries[s]
                            .group
                            .as_deref()
                            .is_some_and(|t| pattern.contains(t))
                            && h.start < end + SENSE_WINDOW
                    })
            });
        }
        let mut distinct: Vec<&str> = scan
            .hits
            .iter()
            .map(|h| self.entries[h.entry].pattern.as_str())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let discount = scan.cues > 0 && contacts.is_empty() && distinct.len() <= 2 * scan.cues + 1;
        let span = |start: usize, end: usize, term: &str| Evidence::Span {
            field: field.to_owned(),
            start,
            end,
            matched: original
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .collect(),
            term: term.to_owned(),
        };
        let mut services_floor: f32 = 0.0;
        let mut ad_terms: Vec<Evidence> = Vec::new();
        for h in &scan.hits {
            let e = &self.entries[h.entry];
            let Kind::Term(category, severity) = e.kind else {
                continue;
            };
            let mut score = severity.score();
            if discount {
                score *= if scan.cues >= 2 {
                    STRONG_CONTEXT_DISCOUNT
                } else {
                    CONTEXT_DISCOUNT
                };
                if category == Category::SexualMinors {
                    score = score.max(MINORS_FLOOR);
                }
            }
            let term = if h.phonetic {
                format!("{} (sound-alike)", e.term)
            } else {
                e.term.clone()
            };
            let ev = span(h.start, h.end, &term);
            if !contacts.is_empty() {
                let floor = match (category, severity) {
                    (Category::SexualServices, Severity::Block) => 0.95,
                    (Category::SexualExplicit | Category::SexualMinors, Severity::Block) => 0.9,
                    // A mild term next to contact details ("上门服务 电话…") is
                    // an ordinary ad; two or more sexual terms make it an ad
                    // for sex.
                    _ if distinct.len() >= 2 => 0.9,
                    _ => 0.6,
                };
                if floor > services_floor {
                    services_floor = floor;
                }
                ad_terms.push(ev.clone());
            }
            out.push(Label::new(category, score, SOURCE).with_evidence(ev));
        }
        for r in &self.rules {
            let Some(marks) = self.fire(r, &scan, &contacts) else {
                continue;
            };
            let mut score = r.severity.score();
            if discount {
                score *= if scan.cues >= 2 {
                    STRONG_CONTEXT_DISCOUNT
                } else {
                    CONTEXT_DISCOUNT
                };
                if r.category == Category::SexualMinors {
                    score = score.max(MINORS_FLOOR);
                }
            }
            let mut label = Label::new(r.category, score, SOURCE);
            for (start, end, what) in marks {
                label
                    .evidence
                    .push(span(start, end, &format!("rule:{} {what}", r.name)));
            }
            out.push(label);
        }
        if services_floor > 0.0 {
            let mut label = Label::new(Category::SexualServices, services_floor, SOURCE);
            label.evidence = ad_terms;
            for c in contacts {
                label
                    .evidence
                    .push(span(c.start, c.end, &format!("contact:{}", c.kind)));
            }
            out.push(label);
        }
    }
}

/// A set of patterns searched char by char with a double-array Aho-Corasick
/// automaton (daachorse): compact, and fast on CJK text, where a byte-wise
/// automaton takes three transitions per character. Every hit is reported,
/// overlapping ones included, which the allow-list check needs.
struct Patterns {
    automaton: CharwiseDoubleArrayAhoCorasick<u32>,
    /// Identical pattern texts share one automaton value: their pattern ids.
    ids: Vec<Vec<usize>>,
}

impl Patterns {
    /// Every hit as (byte start, byte end, pattern id).
    fn overlapping<'a>(
        &'a self,
        haystack: &'a str,
    ) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
        self.automaton
            .find_overlapping_iter(haystack)
            .flat_map(move |m| {
                let ids = self
                    .ids
                    .get(m.value() as usize)
                    .map_or(&[][..], Vec::as_slice);
                ids.iter().map(move |&id| (m.start(), m.end(), id))
            })
    }
}

fn build(patterns: &[String]) -> Option<Patterns> {
    let mut group: HashMap<&str, usize> = HashMap::new();
    let mut ids: Vec<Vec<usize>> = Vec::new();
    for (id, p) in patterns.iter().enumerate() {
        let g = *group.entry(p.as_str()).or_insert_with(|| {
            ids.push(Vec::new());
            ids.len() - 1
        });
        ids[g].push(id);
    }
    let mut unique: Vec<(&str, usize)> = group.into_iter().collect();
    unique.sort_unstable();
    let patvals = unique
        .into_iter()
        .filter_map(|(p, g)| u32::try_from(g).ok().map(|g| (p, g)));
    let automaton = CharwiseDoubleArrayAhoCorasick::with_values(patvals).ok()?;
    Some(Patterns { automaton, ids })
}

/// Whether a collapsed hit's runs fit the pattern's. Every run must be at
/// least the pattern's; then the interior runs are the pattern's exactly (the
/// edge runs may continue past the hit), or the text stretched a letter to
/// three or more ("boooobs", "pooorn"). "Bob's" is thus not "boobs", "as" not
/// "ass", and "Annals" not "anal".
fn runs_match(text: &[u8], pattern: &[u8], doubling: bool) -> bool {
    let n = pattern.len();
    if text.len() != n || !text.iter().zip(pattern).all(|(t, p)| t >= p) {
        return false;
    }
    // The first and last runs may go on past the hit: 兼职妹 inside 兼职妹妹.
    if n <= 2 || text[1..n - 1] == pattern[1..n - 1] || text.iter().any(|&t| t >= 3) {
        return true;
    }
    // One letter doubled inside a longer Latin term ("poornn", "bloowjob")
    // is a disguise; two are a different word more often than not.
    let doubled = text[1..n - 1]
        .iter()
        .zip(&pattern[1..n - 1])
        .filter(|(t, p)| t != p)
        .count();
    doubling && n >= 4 && doubled == 1
}

/// A Latin term of four or more letters, where one doubled letter is read
/// as a disguise.
fn latin_word(pattern: &str) -> bool {
    pattern.len() >= 4 && pattern.bytes().all(|b| b.is_ascii_lowercase())
}

/// True when the original span neither starts nor ends inside a word. An
/// English plural 's' may follow ("dick pics" for "dick pic").
fn is_whole_word(original: &[char], start: usize, end: usize) -> bool {
    let wordy = |c: &char| c.is_alphanumeric() && !is_cjk(*c);
    let before = start
        .checked_sub(1)
        .and_then(|i| original.get(i))
        .is_some_and(wordy);
    let after = match original.get(end) {
        Some('s' | 'S') => original.get(end + 1).is_some_and(wordy),
        other => other.is_some_and(wordy),
    };
    !before && !after
}

/// 拆字: a character written as its components, side by side. Only the
/// splits seen in evasion, for characters of sexual terms.
const SPLITS: &[(char, &str)] = &[
    ('娼', "女昌"),
    ('妓', "女支"),
    ('奸', "女干"),
    ('嫖', "女票"),
    ('射', "身寸"),
    ('炮', "火包"),
    ('操', "扌喿"),
    ('插', "扌臿"),
    ('裸', "衤果"),
    ('淫', "氵壬"),
    ('情', "忄青"),
    ('鸡', "又鸟"),
    ('逼', "辶畐"),
    ('肏', "入肉"),
    ('屌', "尸吊"),
    ('嫩', "女敕"),
    ('骚', "马蚤"),
    ('聊', "耳卯"),
    ('棒', "木奉"),
    ('做', "亻故"),
    ('约', "纟勺"),
    ('强', "弓虽"),
    ('脱', "月兑"),
    ('炮', "石包"),
    ('妈', "女马"),
    ('好', "女子"),
    ('视', "礻见"),
    ('吹', "口欠"),
    ('舔', "舌忝"),
];

/// The term with its splittable characters written split, in every
/// combination (弓虽女干 splits both characters of 强奸). Bounded: terms are
/// short, and at most 16 forms are made.
fn split_forms(term: &str) -> Vec<String> {
    const MAX_FORMS: usize = 16;
    let mut forms: Vec<String> = vec![String::new()];
    for c in term.chars() {
        let mut next = Vec::with_capacity(forms.len() * 2);
        for f in &forms {
            next.push(format!("{f}{c}"));
            for (_, sp) in SPLITS.iter().filter(|(s, _)| *s == c) {
                if next.len() < MAX_FORMS {
                    next.push(format!("{f}{sp}"));
                }
            }
        }
        next.truncate(MAX_FORMS);
        forms = next;
    }
    forms.retain(|f| f != term);
    forms
}

impl Detector for LexiconDetector {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn fields(&self) -> &'static [&'static str] {
        &["text", "html"]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
        for part in &input.texts {
            let mut original = None;
            let scan = self.scan(&part.text, &mut original);
            if scan.hits.is_empty() && !self.rule_possible(&scan) {
                continue;
            }
            // Evidence quotes the field as given (for HTML, with its markup).
            let source: Vec<char> = part.source.chars().collect();
            self.score(part.field, &part.text, scan, &source, out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::Item;

    fn detect(lex: &str, text: &str) -> Vec<Label> {
        let d = LexiconDetector::new(Lexicon::parse(lex, "t").unwrap());
        let item = Item::text(text);
        let mut out = Vec::new();
        d.detect(&Input::from_item(&item), &mut out).unwrap();
        out
    }

    fn spans(labels: &[Label]) -> Vec<String> {
        labels
            .iter()
            .flat_map(|l| &l.evidence)
            .map(|e| match e {
                Evidence::Span { matched, .. } => matched.clone(),
                _ => String::new(),
            })
            .collect()
    }

    const LEX: &str = "[sexual.explicit block]\n色情\nporn ; substr\nanal\nsex\ncunt ; substr\nboobs\nass\n约炮\n[allow]\n颜色\n情况\nscunthorpe\n[sexual.services review]\nescort\n[context]\n警方\n打击\n";

    #[test]
    fn finds_disguised_terms_with_original_spans() {
        let l = detect(LEX, "最新色 * 情视频");
        assert_eq!(spans(&l), vec!["色 * 情"]);
        match &l[0].evidence[0] {
            Evidence::Span { start, end, .. } => assert_eq!((*start, *end), (2, 7)),
            _ => unreachable!(),
        }
        assert_eq!(spans(&detect(LEX, "free P.0.R.N here")), vec!["P.0.R.N"]);
        assert_eq!(spans(&detect(LEX, "xxxpornhub")), vec!["porn"]);
        assert_eq!(spans(&detect(LEX, "pooorrn")), vec!["pooorrn"]);
        assert_eq!(spans(&detect(LEX, "色色色情情")), vec!["色色色情情"]);
        assert_eq!(spans(&detect(LEX, "女昌")), Vec::<String>::new());
        assert_eq!(
            spans(&detect(LEX, "约火包吗")),
            vec!["约火包"],
            "split character"
        );
    }

    #[test]
    fn repeated_letters_need_the_pattern_or_a_stretch() {
        assert!(detect(LEX, "Bob's car").is_empty());
        assert!(detect(LEX, "as good as").is_empty());
        assert_eq!(spans(&detect(LEX, "nice boooobs")), vec!["boooobs"]);
        assert_eq!(
            spans(&detect(LEX, "free poornn")),
            vec!["poornn"],
            "one doubled"
        );
        assert!(
            detect(LEX, "free cuuntt").len() == 1,
            "first and last runs are free"
        );
        let annals = format!("{LEX}[allow]\nannals\n");
        assert!(
            detect(&annals, "the annals of history").is_empty(),
            "an allow word"
        );
        assert_eq!(spans(&detect(LEX, "a$$")), vec!["a$$"]);
        assert_eq!(spans(&detect(LEX, "ana1 and an@l")), vec!["ana1", "an@l"]);
    }

    #[test]
    fn sound_alikes_match_by_pinyin() {
        assert_eq!(spans(&detect(LEX, "看涩情片")), vec!["涩情"]);
        assert_eq!(spans(&detect(LEX, "今晚约pao")), vec!["约pao"]);
        assert_eq!(spans(&detect(LEX, "free seqing videos")), vec!["seqing"]);
        assert!(detect(LEX, "sequins and sequoia").is_empty());
        let l = detect(LEX, "看涩情片");
        assert!(
            matches!(&l[0].evidence[0], Evidence::Span { term, .. } if term == "色情 (sound-alike)")
        );
    }

    #[test]
    fn whole_words_and_allow_list_keep_benign_text_clean() {
        assert!(detect(LEX, "I can also do analysis in Essex").is_empty());
        assert!(detect(LEX, "颜色情况都很好").is_empty());
        assert_eq!(detect(LEX, "the sex of the animal").len(), 1);
        assert!(detect(LEX, "Scunthorpe").is_empty());
    }

    #[test]
    fn allow_words_and_cues_do_not_launder_terms() {
        let lex = "[sexual.services block]\n大保健\n传播妹\n[allow]\n健全\n[context]\n传播\n";
        assert_eq!(
            detect(lex, "大保健 全套").len(),
            1,
            "no allow word across junk"
        );
        assert!(
            detect(lex, "大保健全套").is_empty(),
            "健全 straddles when written whole"
        );
        let l = detect(lex, "传播妹上门");
        assert!(l[0].score > 0.9, "传播 inside the term is no cue: {l:?}");
    }

    #[test]
    fn hostile_repetition_is_bounded() {
        let text = "色情颜色情况 p0rn ".repeat(50_000);
        let l = detect(LEX, &text);
        assert!(!l.is_empty() && l.len() <= 2 * MAX_HITS, "{}", l.len());
    }

    #[test]
    fn nested_hits_keep_the_longest() {
        let lex = "[sexual.explicit block]\n色情\n色情片\n情片\n";
        assert_eq!(spans(&detect(lex, "看色情片")), vec!["色情片"]);
        assert_eq!(spans(&detect(lex, "色情 和 情片")), vec!["色情", "情片"]);
    }

    #[test]
    fn nojunk_refuses_inserted_junk() {
        let lex = "[sexual.explicit review]\nhot ; nojunk\n";
        assert_eq!(detect(lex, "so hot").len(), 1);
        assert!(detect(lex, "h o t").is_empty());
    }

    #[test]
    fn contacts_turn_hits_into_services_ads() {
        let services = |text: &str| {
            detect(LEX, text)
                .into_iter()
                .filter(|l| l.category == Category::SexualServices)
                .map(|l| (l.score, l.evidence))
                .fold((0.0f32, Vec::new()), |a, b| if b.0 > a.0 { b } else { a })
        };
        let (one, _) = services("escort tonight, WeChat: lily_520");
        assert!(
            (0.5..0.85).contains(&one),
            "one mild term and a contact: review, {one}"
        );
        let (two, ev) = services("escort tonight, anal sex, WeChat: lily_520");
        assert!(two > 0.85, "{two}");
        assert!(
            ev.iter()
                .any(|e| matches!(e, Evidence::Span { term, .. } if term == "contact:wechat"))
        );
    }

    #[test]
    fn context_lowers_hits_but_not_for_ads() {
        let top = |text: &str| {
            detect(LEX, text)
                .iter()
                .map(|l| l.score)
                .fold(0.0f32, f32::max)
        };
        let one_cue = top("警方通报色情网站");
        assert!((0.5..0.85).contains(&one_cue), "one step down: {one_cue}");
        assert!(top("警方打击色情网站") < 0.5, "two cues: two steps down");
        assert!(
            top("警方打击色情网站 加微信 abc12345") >= 0.85,
            "contacts void the discount"
        );
    }

    #[test]
    fn a_word_naming_the_benign_sense_nearby_drops_the_hit() {
        let lex = "[sexual.explicit block]\ncock\nfuck\n[sexual.explicit review]\n老司机\n\
                   [sense cock]\nrooster | hen | hens | crowing\n[sense 老司机]\n驾照 | 货车\n";
        assert!(detect(lex, "the rooster is a loud cock at dawn").is_empty());
        assert!(detect(lex, "my cock, she said, and her hens").is_empty());
        assert!(detect(lex, "跑了三十年货车的老司机").is_empty());
        let built_on = "[sexual.explicit block]\n老司机带带我\n[sense 老司机]\n科目二\n";
        assert!(detect(built_on, "老司机带带我，科目二总是压线").is_empty());
        assert!(
            !detect(lex, "老司机带带我").is_empty(),
            "no sense word: a hit"
        );
        assert!(!detect(lex, "a cock").is_empty());
        let far = format!("rooster{} cock", " farm".repeat(16));
        assert!(!detect(lex, &far).is_empty(), "too far to explain it");
        assert!(
            !detect(lex, "rooster fuck").is_empty(),
            "a sense word explains only its own term"
        );
        assert!(
            !detect(lex, "cock and hens, WeChat: lily_520").is_empty(),
            "an ad stays an ad"
        );
        assert!(Lexicon::parse("[sense]\nrooster\n", "t").is_err());
    }

    const RULES: &str = "[sexual.explicit block]\n色情\n[signal body]\n胸 | nipples\n\
        [signal act]\n揉 | lick\n[signal price]\n元一次 | per hour\n[signal age]\n初中生\n\
        [rule sexual.explicit review]\ndescription: body + act within 10\n\
        [rule sexual.services block]\nad: price + contact within 40\n\
        [rule sexual.minors block]\nminors: age + term within 20\n\
        [sexual.suggestive review]\n写真\n[context]\n警方\n打击\n";

    #[test]
    fn rules_combine_weak_signals_that_alone_flag_nothing() {
        assert!(detect(RULES, "胸口有点闷").is_empty(), "one signal alone");
        assert!(detect(RULES, "揉面团").is_empty());
        let l = detect(RULES, "他用力揉她的胸");
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].category, Category::SexualExplicit);
        assert!((0.5..0.85).contains(&l[0].score), "review: {}", l[0].score);
        let terms: Vec<String> = l[0]
            .evidence
            .iter()
            .map(|e| match e {
                Evidence::Span { term, .. } => term.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            terms,
            vec!["rule:description body:胸", "rule:description act:揉"]
        );
        let far = format!("胸{}揉", "的".repeat(20));
        assert!(detect(RULES, &far).is_empty(), "too far apart");

        let ad = detect(RULES, "300元一次 加微信 lily_520");
        assert!(
            ad.iter()
                .any(|l| l.category == Category::SexualServices && l.score > 0.85)
        );
        assert!(detect(RULES, "300元一次").is_empty(), "no contact, no ad");

        assert!(
            detect(RULES, "初中生写真")
                .iter()
                .all(|l| l.category != Category::SexualMinors),
            "a suggestive term is too weak to combine"
        );
        let minors = detect(RULES, "初中生色情视频");
        assert!(
            minors
                .iter()
                .any(|l| l.category == Category::SexualMinors && l.score > 0.85)
        );
        let news = detect(RULES, "警方打击初中生色情视频传播");
        let m = news
            .iter()
            .find(|l| l.category == Category::SexualMinors)
            .unwrap();
        assert!(m.score >= MINORS_FLOOR, "minors never drops below review");
        assert!(news.iter().all(|l| l.score < 0.85), "news is not blocked");
    }

    #[test]
    fn emoji_are_signals_though_junk_to_terms() {
        let lex = "[sexual.explicit block]\nporn\n[signal fruit]\n🍆 | 🍑\n[signal pics]\npics\n\
                   [rule sexual.explicit review]\nemoji_pics: fruit + pics within 10\n";
        assert_eq!(
            spans(&detect(lex, "p🍆orn")),
            vec!["p🍆orn"],
            "junk inside a term"
        );
        let l = detect(lex, "🍑🍆 pics");
        assert_eq!(l.len(), 1);
        assert_eq!(spans(&l), vec!["🍑", "pics"]);
        assert!(detect(lex, "🍆 soup recipe").is_empty());
        assert!(
            Lexicon::parse("[sexual.explicit block]\n🍆\n", "t").is_err(),
            "not as a term"
        );
    }

    #[test]
    fn hostile_signal_floods_stay_bounded() {
        let text = "胸 ".repeat(100_000) + "揉";
        let l = detect(RULES, &text);
        assert_eq!(l.len(), 1, "one firing per rule");
    }
}
