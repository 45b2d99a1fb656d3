//! The `url.blocklist` detector: the item's `url` and every link in its text
//! are canonicalized and checked against the lists.

use cleanweb_core::{Category, DetectError, Detector, Evidence, Input, Label};

use crate::blocklist::{Action, Lists};
use crate::canonical::canonicalize;
use crate::links::extract_links;

pub const SOURCE: &str = "url.blocklist";

pub struct UrlDetector {
    lists: Lists,
}

impl UrlDetector {
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
            let chars: Vec<char> = html.chars().collect();
            for link in cleanweb_html::links(html, input.item.base_url.as_deref()) {
                let matched: String = chars
                    .get(link.start..link.end)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                self.check(
                    &link.url,
                    "html",
                    Some((link.start, link.end, &matched)),
                    out,
                );
            }
        }
        for part in &input.texts {
            let links = extract_links(&part.text);
            if links.is_empty() {
                continue;
            }
            let chars: Vec<char> = part.source.chars().collect();
            for link in links {
                let matched: String = chars
                    .get(link.start..link.end)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                self.check(
                    &link.url,
                    part.field,
                    Some((link.start, link.end, &matched)),
                    out,
                );
            }
        }
        Ok(())
    }
}
