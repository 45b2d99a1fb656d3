//! `report.html`: a bundle's manifest as a page a prosecutor or a regulator
//! reads, in English and Chinese side by side. It is rendered from the
//! manifest alone (plus blurred thumbnails), so it cannot say anything the
//! signed manifest does not.

use std::collections::BTreeMap;

const TEMPLATE: &str = include_str!("../templates/report.html");

/// The page for `manifest`; `thumbs` maps an image's SHA-256 to a blurred
/// thumbnail as a `data:` URI; `fingerprint` is the signing key's.
pub fn render(
    manifest: &serde_json::Value,
    thumbs: &BTreeMap<String, String>,
    fingerprint: &str,
) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    // HTML escaping on (the name ends in .html): every value is hostile.
    env.add_filter("excerpt", excerpt);
    env.add_template("report.html", TEMPLATE)?;
    env.get_template("report.html")?
        .render(minijinja::context! {
            m => manifest,
            thumbs => thumbs,
            fingerprint => fingerprint,
        })
}

/// The first 800 characters of a text, the rest marked as cut (the whole
/// text is in the manifest).
fn excerpt(text: &str) -> String {
    const MAX: usize = 800;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}… [cut · 节选]", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_withheld_content_is_not_shown() {
        let m = serde_json::json!({
            "subject": {"kind": "site", "id": "bad.example"},
            "created_at": "2026-12-07T00:00:00Z", "created_by": "cli:root",
            "site": {"domain": "bad.example", "status": "closed", "history": [
                {"at": "2026-12-01T00:00:00Z", "status": "closed", "actor": "admin",
                 "reason": "<script>x</script>", "deadline": null}]},
            "cases": [], "captures": [], "withheld": [{"sha256": "ab"}],
            "decisions": [
                {"id": "d1", "verdict": "block", "categories": ["sexual.minors"],
                 "withheld": true, "text": null, "content_sha256": "c0ffee",
                 "labels": [], "reviews": []},
                {"id": "d2", "verdict": "review", "categories": ["sexual.explicit"],
                 "withheld": false, "text": "约炮 <b>", "image_sha256": "aa", "media": "media/aa.jpg",
                 "labels": [{"category": "sexual.explicit", "score": 0.9, "source": "text.lexicon"}],
                 "reviews": []}],
            "audit": {"head": {"seq": 3, "hash": "h", "at": "t"}, "events": []},
        });
        let thumbs = BTreeMap::from([("aa".to_owned(), "data:image/jpeg;base64,AAAA".to_owned())]);
        let html = render(&m, &thumbs, "SHA256:f").unwrap();
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("约炮 &lt;b&gt;"));
        assert!(html.contains("c0ffee") && html.contains("未收录"));
        assert!(
            html.contains("data:image&#x2f;jpeg;base64,AAAA"),
            "attribute-escaped"
        );
        assert!(html.contains("网站") && html.contains("Site"));
    }
}
