//! The `url.blocklist` detector: the item's `url` and every link in its text
//! are canonicalized and checked against the lists.

use cleanweb_core::{Category, DetectError, Detector, Evidence, Input, Label};

use cleanweb_core::Action;

use crate::blocklist::Lists;
use crate::canonical::canonicalize;
use crate::links::extract_links;

pub const SOURCE: &str = "url.blocklist";

/// The `url.blocklist` detector: labels items whose URL or text links hit a list.
pub struct UrlDetector {
    lists: Lists,
}

impl UrlDetector {
    /// A detector that checks against these lists.
    pub fn new(lists: Lists) -> Self {
        UrlDetector { lists }
    }

    /// `span` is where the link stands in a text field, and its original text.
    fn check(
        &self,
        url: &str,
        field: &str,
        span: Option<(usize, usize, &str)>,
        out: &mut Vec<Label>,
    ) {
        let Ok(c) = canonicalize(url) else { return };
        for hit in self.lists.check(&c) {
            let score = match hit.action {
                Action::Block => 0.95,
                Action::Review => 0.6,
                Action::Allow => continue,
            };
            let category = hit.category.parse().unwrap_or(Category::LinkBlocked);
            let mut label = Label::new(category, score, SOURCE).with_evidence(Evidence::Url {
                url: c.to_string(),
                list: hit.list.clone(),
                entry: hit.entry.clone(),
            });
            if let Some((start, end, matched)) = span {
                label.evidence.push(Evidence::Span {
                    field: field.to_owned(),
                    start,
                    end,
                    matched: matched.to_owned(),
                    term: format!("{}:{}", hit.list, hit.entry),
                });
            }
            out.push(label);
        }
    }
}

impl UrlDetector {
    /// Checks links found in `source` at the given char spans.
    fn check_links(
        &self,
        source: &str,
        field: &str,
        links: impl Iterator<Item = (usize, usize, String)>,
        out: &mut Vec<Label>,
    ) {
        let mut chars: Option<Vec<char>> = None;
        for (start, end, url) in links {
            let chars = chars.get_or_insert_with(|| source.chars().collect());
            let matched: String = chars.get(start..end).unwrap_or_default().iter().collect();
            self.check(&url, field, Some((start, end, &matched)), out);
        }
    }
}

impl Detector for UrlDetector {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn fields(&self) -> &'static [&'static str] {
        &["url", "html"]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
        if self.lists.lists.is_empty() {
            return Ok(());
        }
        if let Some(url) = input.item.url.as_deref() {
            self.check(url, "url", None, out);
        }
        if let Some(html) = input.item.html.as_deref() {
            let links = cleanweb_html::links(html, input.item.base_url.as_deref());
            self.check_links(
                html,
                "html",
                links.into_iter().map(|l| (l.start, l.end, l.url)),
                out,
            );
        }
        for part in &input.texts {
            let links = extract_links(&part.text);
            let spans = links.into_iter().map(|l| (l.start, l.end, l.url));
            self.check_links(&part.source, part.field, spans, out);
        }
        Ok(())
    }
}
