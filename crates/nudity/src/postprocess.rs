//! NudeNet's postprocessing, reproduced: per anchor the best class, kept at
//! score ≥ 0.2; boxes from centre form to corner form, scaled from the model
//! input to the padded square and clamped to the image; then OpenCV's
//! class-agnostic `NMSBoxes` (score > 0.25, IoU ≤ 0.45 kept), and finally
//! the box truncated to whole pixels.

use serde::Serialize;

pub const CANDIDATE_SCORE: f32 = 0.2;
pub const NMS_SCORE: f32 = 0.25;
pub const NMS_IOU: f64 = 0.45;

/// One detected region, in the reference's terms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detection {
    /// NudeNet class name, such as `FEMALE_BREAST_EXPOSED`.
    pub class: String,
    /// The model's confidence for that class, 0 to 1; kept detections score above 0.25.
    pub score: f32,
    /// `[x, y, w, h]` in pixels of the (oriented) image.
    #[serde(rename = "box")]
    pub rect: [u32; 4],
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    class: usize,
    score: f32,
    // f32 like NumPy's float32 arithmetic in the reference, compared as f64
    // like OpenCV's Rect2d.
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

/// Decodes one image's output: 4 box rows then one row per class, with
/// `anchors` columns, as YOLOv8 writes it.
pub fn postprocess(
    output: &[f32],
    anchors: usize,
    input_size: usize,
    (width, height): (u32, u32),
    classes: &[String],
) -> Vec<Detection> {
    let rows = 4 + classes.len();
    if classes.is_empty() || output.len() < rows * anchors {
        return Vec::new();
    }
    let at = |r: usize, a: usize| output[r * anchors + a];
    let side = width.max(height) as f32;
    let (wf, hf) = (width as f32, height as f32);
    let mut cands = Vec::new();
    for a in 0..anchors {
        let (mut class, mut best) = (0usize, f32::NEG_INFINITY);
        for c in 0..classes.len() {
            // First maximum wins, as numpy's argmax.
            let s = at(4 + c, a);
            if s > best {
                best = s;
                class = c;
            }
        }
        if best < CANDIDATE_SCORE || best.is_nan() {
            continue;
        }
        let (cx, cy, w, h) = (at(0, a), at(1, a), at(2, a), at(3, a));
        let scale = |v: f32| v * side / input_size as f32;
        let x = scale(cx - w / 2.0);
        let y = scale(cy - h / 2.0);
        let (w, h) = (scale(w), scale(h));
        let x = x.min(wf).max(0.0);
        let y = y.min(hf).max(0.0);
        let w = w.min(wf - x);
        let h = h.min(hf - y);
        cands.push(Candidate {
            class,
            score: best,
            x,
            y,
            w,
            h,
        });
    }
    nms(&cands)
        .into_iter()
        .map(|c| Detection {
            class: classes[c.class].clone(),
            score: c.score,
            // Python's int() truncates toward zero; negative sizes become 0.
            rect: [c.x, c.y, c.w, c.h].map(|v| v.trunc().max(0.0) as u32),
        })
        .collect()
}

fn area(w: f64, h: f64) -> f64 {
    w * h
}

/// OpenCV's Rect2d intersection over union.
fn iou(a: &Candidate, b: &Candidate) -> f64 {
    let (ax, ay, aw, ah) = (
        f64::from(a.x),
        f64::from(a.y),
        f64::from(a.w),
        f64::from(a.h),
    );
    let (bx, by, bw, bh) = (
        f64::from(b.x),
        f64::from(b.y),
        f64::from(b.w),
        f64::from(b.h),
    );
    let (aa, ab) = (area(aw, ah), area(bw, bh));
    if aa + ab <= f64::EPSILON {
        return 1.0;
    }
    let x1 = ax.max(bx);
    let y1 = ay.max(by);
    let iw = (ax + aw).min(bx + bw) - x1;
    let ih = (ay + ah).min(by + bh) - y1;
    let inter = if iw <= 0.0 || ih <= 0.0 {
        0.0
    } else {
        area(iw, ih)
    };
    inter / (aa + ab - inter)
}

fn nms(cands: &[Candidate]) -> Vec<Candidate> {
    let mut order: Vec<&Candidate> = cands.iter().filter(|c| c.score > NMS_SCORE).collect();
    // Stable, descending, as OpenCV's GetMaxScoreIndex.
    order.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Candidate> = Vec::new();
    for c in order {
        if kept.iter().all(|k| iou(c, k) <= NMS_IOU) {
            kept.push(*c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::CLASSES;

    fn names() -> Vec<String> {
        CLASSES.iter().map(|c| c.to_string()).collect()
    }

    /// A fake output with the given anchors: (cx, cy, w, h, class, score).
    fn output(anchors: &[(f32, f32, f32, f32, usize, f32)]) -> Vec<f32> {
        let n = anchors.len();
        let mut out = vec![0.0f32; (4 + CLASSES.len()) * n];
        for (a, &(cx, cy, w, h, class, score)) in anchors.iter().enumerate() {
            out[a] = cx;
            out[n + a] = cy;
            out[2 * n + a] = w;
            out[3 * n + a] = h;
            out[(4 + class) * n + a] = score;
        }
        out
    }

    #[test]
    fn overlapping_boxes_are_suppressed_across_classes() {
        let out = output(&[
            (100.0, 100.0, 40.0, 40.0, 1, 0.9),
            (102.0, 100.0, 40.0, 40.0, 12, 0.8), // same region, other class
            (200.0, 200.0, 20.0, 20.0, 7, 0.5),
            (50.0, 50.0, 10.0, 10.0, 3, 0.22), // a candidate, below NMS score
        ]);
        let d = postprocess(&out, 4, 320, (640, 320), &names());
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].class, CLASSES[1]);
        // Scaled by 640/320 from the padded square.
        assert_eq!(d[0].rect, [160, 160, 80, 80]);
        assert_eq!(d[1].class, CLASSES[7]);
    }

    #[test]
    fn boxes_are_clamped_to_the_image() {
        let out = output(&[(310.0, 10.0, 40.0, 40.0, 0, 0.7)]);
        // A 320x160 image: the padded half below is not part of it.
        let d = postprocess(&out, 1, 320, (320, 160), &names());
        // As the reference: x and y are clamped, the size only to the far edge.
        assert_eq!(d[0].rect, [290, 0, 30, 40]);
        assert!(postprocess(&out[..3], 1, 320, (320, 160), &names()).is_empty());
    }
}
