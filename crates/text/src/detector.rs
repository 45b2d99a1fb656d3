//! The lexicon matcher: one Aho-Corasick pass over the normalized text finds
//! every term and allow-list hit; hits are then filtered by their per-term
//! options and mapped back to original offsets.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use cleanweb_core::{Category, DetectError, Detector, Evidence, Input, Label};

use crate::lexicon::{Entry, Lexicon};
use crate::normalize::{Normalized, normalize};

pub const SOURCE: &str = "text.lexicon";

/// Flags text that contains lexicon terms, however disguised.
pub struct LexiconDetector {
    automaton: Option<AhoCorasick>,
    /// Pattern ids `0..entries.len()` are terms, the rest allow-list entries.
    entries: Vec<Entry>,
    n_terms: usize,
}

impl Default for LexiconDetector {
    /// The detector over the shipped default lexicon.
    fn default() -> Self {
        LexiconDetector::new(Lexicon::builtin())
    }
}

/// A term hit, as a byte range of the normalized text.
struct Hit {
    entry: usize,
    start: usize,
    end: usize,
}

impl LexiconDetector {
    pub fn new(lexicon: Lexicon) -> Self {
        let n_terms = lexicon.entries.len();
        let mut entries = lexicon.entries;
        entries.extend(lexicon.allow);
        let automaton = if entries.is_empty() {
            None
        } else {
            // Standard semantics so that overlapping iteration sees every hit,
            // which the allow-list check needs.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(entries.iter().map(|e| e.pattern.as_str()))
                .ok()
        };
        LexiconDetector {
            automaton,
            entries,
            n_terms,
        }
    }

    pub fn term_count(&self) -> usize {
        self.n_terms
    }

    /// Finds the accepted term hits in one text.
    fn scan(&self, text: &str) -> (Normalized, Vec<Hit>) {
        let norm = normalize(text);
        let Some(ac) = &self.automaton else {
            return (norm, Vec::new());
        };
        let mut hits = Vec::new();
        let mut allows = Vec::new();
        for m in ac.find_overlapping_iter(norm.text.as_str()) {
            let id = m.pattern().as_usize();
            // Byte offsets of the normalized text; they order like char offsets.
            let (start, end) = (m.start(), m.end());
            if id < self.n_terms {
                hits.push(Hit {
                    entry: id,
                    start,
                    end,
                });
            } else {
                allows.push((start, end));
            }
        }
        if hits.is_empty() {
            return (norm, hits);
        }
        let original: Vec<char> = text.chars().collect();
        hits.retain(|h| {
            let entry = &self.entries[h.entry];
            let Some((os, oe)) = span_of(&norm, h) else {
                return false;
            };
            // An allow-list word that straddles the hit means the hit is an
            // artefact of word boundaries (颜色|情况 contains 色情), so drop
            // it. An allow word lying wholly inside the hit does not excuse it.
            let straddled = allows
                .iter()
                .any(|&(s, e)| s < h.end && h.start < e && (s < h.start || e > h.end));
            if straddled {
                return false;
            }
            if entry.whole_word && !is_whole_word(&original, os, oe) {
                return false;
            }
            if !entry.allow_junk && oe - os != norm.char_index(h.end) - norm.char_index(h.start) {
                return false;
            }
            true
        });
        // Keep the longest hits: a hit inside a longer hit of the same
        // category adds nothing for the reader.
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for h in hits {
            let cat = self.entries[h.entry].category;
            let inside = kept.iter().any(|k| {
                k.start <= h.start && h.end <= k.end && self.entries[k.entry].category == cat
            });
            if !inside {
                kept.push(h);
            }
        }
        (norm, kept)
    }
}

fn span_of(norm: &Normalized, h: &Hit) -> Option<(usize, usize)> {
    norm.original_span(h.start, h.end)
}

/// True when the original span neither starts nor ends inside a word.
fn is_whole_word(original: &[char], start: usize, end: usize) -> bool {
    let wordy = |c: &char| c.is_alphanumeric() && !is_cjk(*c);
    let before = start
        .checked_sub(1)
        .and_then(|i| original.get(i))
        .is_some_and(wordy);
    let after = original.get(end).is_some_and(wordy);
    !before && !after
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

impl Detector for LexiconDetector {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn fields(&self) -> &'static [&'static str] {
        &["text"]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
        for part in &input.texts {
            let (norm, hits) = self.scan(part.text);
            let original: Vec<char> = if hits.is_empty() {
                Vec::new()
            } else {
                part.text.chars().collect()
            };
            for h in hits {
                let entry = &self.entries[h.entry];
                let (Some(category), Some((start, end))) = (entry.category, span_of(&norm, &h))
                else {
                    continue;
                };
                out.push(label(category, entry, part.field, start, end, &original));
            }
        }
        Ok(())
    }
}

fn label(
    category: Category,
    entry: &Entry,
    field: &str,
    start: usize,
    end: usize,
    original: &[char],
) -> Label {
    let matched: String = original
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .collect();
    Label::new(category, entry.severity.score(), SOURCE).with_evidence(Evidence::Span {
        field: field.to_owned(),
        start,
        end,
        matched,
        term: entry.term.clone(),
    })
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

    const LEX: &str = "[sexual.explicit block]\n色情\nporn ; substr\nanal\nsex\ncunt ; substr\n[allow]\n颜色\n情况\nscunthorpe\n";

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
    }

    #[test]
    fn whole_words_and_allow_list_keep_benign_text_clean() {
        assert!(detect(LEX, "I can also do analysis in Essex").is_empty());
        assert!(detect(LEX, "颜色情况都很好").is_empty());
        assert!(detect(LEX, "the sex of the animal").len() == 1);
        assert!(detect(LEX, "Scunthorpe").is_empty());
    }

    #[test]
    fn nojunk_refuses_inserted_junk() {
        let lex = "[sexual.explicit review]\nhot ; nojunk\n";
        assert_eq!(detect(lex, "so hot").len(), 1);
        assert!(detect(lex, "h o t").is_empty());
    }
}
