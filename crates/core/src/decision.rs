use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Category, Verdict};

/// What a label points at, so a reviewer can see why it fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Evidence {
    /// A span of an item's text. `start`/`end` count Unicode scalar values
    /// (chars) of the original field, never of a normalized form.
    Span {
        /// The item field the span is in (`text`, `html`, `url`).
        #[serde(default = "default_field")]
        field: String,
        start: usize,
        end: usize,
        /// The original characters in the span.
        matched: String,
        /// The lexicon term (or rule) that matched.
        term: String,
    },
    /// A region of an image, `[x, y, w, h]` in pixels.
    #[serde(rename = "box")]
    Region {
        class: String,
        score: f32,
        #[serde(rename = "box")]
        rect: [u32; 4],
    },
    /// A region of a video frame: the frame's number and time, and the
    /// region `[x, y, w, h]` in pixels of the frame as sampled.
    Frame {
        frame: u64,
        /// Seconds from the start.
        time: f64,
        class: String,
        score: f32,
        #[serde(rename = "box")]
        rect: [u32; 4],
    },
    /// A hash-bank match.
    Hash {
        bank: String,
        distance: u32,
        entry: String,
    },
    /// A video-bank match: the shares of frames, in percent, of the item
    /// (`query_pct`) and of the banked video (`compared_pct`) that matched.
    #[serde(rename = "video_hash")]
    VideoHash {
        bank: String,
        entry: String,
        query_pct: f32,
        compared_pct: f32,
    },
    /// A URL found in the item that is on a list.
    Url {
        url: String,
        list: String,
        entry: String,
    },
    /// A code (QR) read from a picture: its payload and where it is,
    /// `[x, y, w, h]` in pixels.
    Code {
        format: String,
        payload: String,
        /// What the payload is: `contact:wechat`, `link` or `text`.
        class: String,
        #[serde(rename = "box")]
        rect: [u32; 4],
    },
    /// Text read from a picture or a video frame (OCR): the whole line as
    /// read, the span of it that matched (chars of `text`), and where the
    /// line is, `[x, y, w, h]` in pixels of the frame.
    Ocr {
        /// The video frame's number, or the animation frame's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame: Option<u64>,
        /// Seconds from the start, for a video frame.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time: Option<f64>,
        text: String,
        start: usize,
        end: usize,
        /// The characters of `text` in the span.
        matched: String,
        /// The lexicon term (or rule) that matched.
        term: String,
        #[serde(rename = "box")]
        rect: [u32; 4],
    },
}

fn default_field() -> String {
    "text".to_owned()
}

/// One finding: a category with a score in `0..=1`, the detector that produced
/// it, and the evidence behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Label {
    pub category: Category,
    pub score: f32,
    /// The detector that produced it, such as `text.lexicon`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// For a file with members (an archive, a document, a playlist), the
    /// member the label is about: `outer.zip!/dir/file.txt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

impl Label {
    pub fn new(category: Category, score: f32, source: impl Into<String>) -> Self {
        Label {
            category,
            score: score.clamp(0.0, 1.0),
            source: source.into(),
            evidence: Vec::new(),
            member: None,
        }
    }

    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }
}

/// The engine's answer for one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// The item's `id`, echoed (null when the item had none).
    pub id: Option<String>,
    pub verdict: Verdict,
    /// Labels, most severe first.
    pub labels: Vec<Label>,
    /// Time spent in the engine, in microseconds.
    pub elapsed_us: u64,
    /// Parts of the item that were not analysed, and why. An item with
    /// warnings was not fully checked; treat its `allow` accordingly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The item's `meta`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<serde_json::Value>,
    /// The stored decision's id, when it was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
}

/// One member's outcome inside a [`FileDecision`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemberOutcome {
    /// `outer.zip!/dir/file.txt`.
    pub path: String,
    /// The member's verdict; absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Why the member could not be read or moderated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The member's stored decision, when it was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
}

/// The answer for a whole file read as its members: the worst member's
/// verdict, every member's labels (each naming its member), and the
/// members that were flagged or could not be read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileDecision {
    /// The upload's `id`, echoed.
    pub id: Option<String>,
    pub verdict: Verdict,
    /// Labels of all members, most severe first; `member` names each one's.
    pub labels: Vec<Label>,
    /// Members read.
    pub members: u64,
    /// The members that are not `allow`: flagged, or not readable.
    pub flagged: Vec<MemberOutcome>,
    /// Parts of the file that were not read or analysed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Time spent, in microseconds.
    pub elapsed_us: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_json_matches_the_design() {
        let span = Evidence::Span {
            field: "text".into(),
            start: 3,
            end: 9,
            matched: "色 情".into(),
            term: "色情".into(),
        };
        let v = serde_json::to_value(&span).unwrap();
        assert_eq!(v["kind"], "span");
        assert_eq!(v["start"], 3);
        let b = Evidence::Region {
            class: "FACE_F".into(),
            score: 0.5,
            rect: [1, 2, 3, 4],
        };
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["kind"], "box");
        assert_eq!(v["box"], serde_json::json!([1, 2, 3, 4]));
        let back: Evidence = serde_json::from_value(v).unwrap();
        assert_eq!(back, b);
        let o = Evidence::Ocr {
            frame: None,
            time: None,
            text: "同城上门 加V abc".into(),
            start: 0,
            end: 4,
            matched: "同城上门".into(),
            term: "上门".into(),
            rect: [5, 6, 70, 20],
        };
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["kind"], "ocr");
        assert!(v.get("frame").is_none());
        assert_eq!(serde_json::from_value::<Evidence>(v).unwrap(), o);
    }
}
