//! QR codes in pictures through the whole engine, with the shipped lexicon:
//! a messenger code next to sexual text is an ad; a code alone, or next to
//! ordinary text, is not.

mod common;

use std::sync::Arc;

use cleanweb_core::{
    Category, DetectError, Detector, Evidence, Input, Item, Label, Limits, Policy, Verdict,
};
use cleanweb_engine::{CODES_SOURCE, Engine};
use cleanweb_text::LexiconDetector;

/// Reads pictures and finds nothing: stands in for the image detectors
/// (nudity needs its model), so the engine decodes the picture.
struct SeesPictures;
impl Detector for SeesPictures {
    fn name(&self) -> &'static str {
        "test.pictures"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["image"]
    }
    fn detect(&self, _: &Input<'_>, _: &mut Vec<Label>) -> Result<(), DetectError> {
        Ok(())
    }
}

fn engine() -> Engine {
    Engine::new(Policy::default(), Limits::default())
        .with_detector(Arc::new(LexiconDetector::default()))
        .with_detector(Arc::new(SeesPictures))
}

/// A PNG of `payload` as a QR code on a white picture.
fn qr_png(payload: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    common::qr_image(payload, 5, 40)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn item(text: &str, payload: &str) -> Item {
    Item {
        text: Some(text.into()),
        image: Some(qr_png(payload)),
        ..Item::default()
    }
}

#[test]
fn a_messenger_code_next_to_sexual_text_is_an_ad() {
    let d = engine()
        .moderate(&item(
            "同城上门 全套服务 包夜",
            "https://u.wechat.com/EFxyz123",
        ))
        .unwrap();
    assert_eq!(d.verdict, Verdict::Block, "{d:?}");
    let ad = d
        .labels
        .iter()
        .find(|l| l.source == CODES_SOURCE)
        .expect("an image.codes label");
    assert_eq!(ad.category, Category::SexualServices);
    assert!(ad.evidence.iter().any(|e| matches!(
        e,
        Evidence::Code { payload, class, rect, .. }
            if payload == "https://u.wechat.com/EFxyz123" && class == "contact:wechat" && rect[2] > 50
    )));
    assert!(
        ad.evidence
            .iter()
            .any(|e| matches!(e, Evidence::Span { field, .. } if field == "text")),
        "the text that made it an ad"
    );
}

#[test]
fn codes_alone_or_next_to_ordinary_text_are_allowed() {
    let e = engine();
    for (text, payload) in [
        (
            "扫码加我微信，周末一起去爬山",
            "https://u.wechat.com/EFxyz123",
        ),
        ("Scan for our lunch menu", "https://example.test/menu"),
        ("店铺收款码", "https://qr.alipay.com/fkx12345"),
    ] {
        let d = e.moderate(&item(text, payload)).unwrap();
        assert_eq!(d.verdict, Verdict::Allow, "{text}: {d:?}");
    }
}

#[test]
fn a_payload_is_read_like_text() {
    let d = engine()
        .moderate(&item("", "免费看黄片 https://x.test"))
        .unwrap();
    assert_eq!(d.verdict, Verdict::Block, "{d:?}");
    assert!(d.labels.iter().flat_map(|l| &l.evidence).any(
        |e| matches!(e, Evidence::Span { field, matched, .. } if field == "qr" && matched == "黄片")
    ));
}
