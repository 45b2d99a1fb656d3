//! Text detection around the model: the picture's sizes (the reference's
//! bounds, padding and multiple-of-32 resize) and DB post-processing, from
//! the model's probability map to text boxes in reading order.

use crate::geom::{self, Point};

/// Whole-picture bounds before detection (RapidOCR's `min_side_len`,
/// `max_side_len`).
pub const MIN_SIDE: usize = 30;
/// See [`MIN_SIDE`].
pub const MAX_SIDE: usize = 2000;
/// Detection's short-side target (`limit_side_len`, `limit_type: min`).
pub const LIMIT_SIDE: usize = 736;
/// Vertical padding applies to pictures this low or lower (`min_height`).
pub const MIN_HEIGHT: usize = 30;
/// ...or wider than this ratio (`width_height_ratio`).
pub const WIDTH_HEIGHT_RATIO: f64 = 8.0;

/// Python's `round` (ties to even) of `v / 32`, times 32.
fn round32(v: usize) -> usize {
    ((v as f64 / 32.0).round_ties_even() as usize) * 32
}

/// The size the reference resizes a `w` × `h` picture to before anything
/// else (`resize_image_within_bounds`), or `None` to keep it; and the
/// ratios from that size back to the original.
pub fn bounded_size(w: usize, h: usize) -> Option<((usize, usize), [f64; 2])> {
    let (mut cw, mut ch) = (w, h);
    let mut resized = None;
    let scale = |cw: usize, ch: usize, ratio: f64| {
        let rw = round32((cw as f64 * ratio) as usize);
        let rh = round32((ch as f64 * ratio) as usize);
        (rw, rh)
    };
    if cw.max(ch) > MAX_SIDE {
        let ratio = MAX_SIDE as f64 / cw.max(ch) as f64;
        let (rw, rh) = scale(cw, ch, ratio);
        if rw == 0 || rh == 0 {
            return None;
        }
        resized = Some(((rw, rh), [cw as f64 / rw as f64, ch as f64 / rh as f64]));
        (cw, ch) = (rw, rh);
    }
    if cw.min(ch) < MIN_SIDE {
        let ratio = MIN_SIDE as f64 / cw.min(ch).max(1) as f64;
        let (rw, rh) = scale(cw, ch, ratio);
        if rw == 0 || rh == 0 {
            return None;
        }
        // The reference keeps only this step's ratios.
        resized = Some(((rw, rh), [cw as f64 / rw as f64, ch as f64 / rh as f64]));
    }
    resized
}

/// Rows of black added above and below a `w` × `h` picture before
/// detection (`apply_vertical_padding`): low or very wide pictures get room
/// so their text is not at the edge of the map.
pub fn vertical_padding(w: usize, h: usize) -> usize {
    let wide = h > 0 && w as f64 / h as f64 > WIDTH_HEIGHT_RATIO;
    if h > MIN_HEIGHT && !wide {
        return 0;
    }
    let new_h = ((w as f64 / WIDTH_HEIGHT_RATIO) as usize).max(MIN_HEIGHT) * 2;
    new_h.abs_diff(h) / 2
}

/// [`DetectSize::Fast`]'s bound on the long side (PaddleOCR's classic
/// `limit_type: max`, `limit_side_len: 960`).
pub const FAST_MAX_SIDE: usize = 960;

/// The size detection runs at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DetectSize {
    /// RapidOCR 3.10's default: the short side scaled up to [`LIMIT_SIDE`].
    #[default]
    Reference,
    /// The long side scaled down to [`FAST_MAX_SIDE`], never up: about four
    /// times cheaper on the parity set, whose lines it reads as well, but
    /// small text in large pictures is found less often.
    Fast,
}

/// The detection model's input size for a `w` × `h` picture (see
/// [`DetectSize`]), both sides rounded to multiples of 32; `None` when a
/// side rounds to zero.
pub fn det_size(w: usize, h: usize, mode: DetectSize) -> Option<(usize, usize)> {
    let ratio = match mode {
        DetectSize::Reference if w.min(h) < LIMIT_SIDE => {
            LIMIT_SIDE as f64 / w.min(h).max(1) as f64
        }
        DetectSize::Fast if w.max(h) > FAST_MAX_SIDE => FAST_MAX_SIDE as f64 / w.max(h) as f64,
        _ => 1.0,
    };
    let rw = round32((w as f64 * ratio) as usize);
    let rh = round32((h as f64 * ratio) as usize);
    (rw > 0 && rh > 0).then_some((rw, rh))
}

/// DB post-processing settings (RapidOCR's defaults for PP-OCRv6).
#[derive(Clone, Copy, Debug)]
pub struct DbParams {
    /// A map value above this is text.
    pub thresh: f32,
    /// A box's mean probability must reach this.
    pub box_thresh: f32,
    /// Regions considered, at most.
    pub max_candidates: usize,
    /// How far a box grows: area × ratio / perimeter.
    pub unclip_ratio: f32,
}

impl Default for DbParams {
    fn default() -> Self {
        DbParams {
            thresh: 0.3,
            box_thresh: 0.5,
            max_candidates: 1000,
            unclip_ratio: 1.6,
        }
    }
}

/// The smallest side a region's rectangle may have (`min_size`).
const MIN_BOX_SIDE: f32 = 3.0;
/// Boxes in reading order share a line when their tops differ by less.
const SAME_LINE: f32 = 10.0;

/// One detected text box: corners clockwise from the top-left, in pixels of
/// the picture the map was computed for, and its mean probability.
#[derive(Clone, Debug, PartialEq)]
pub struct DetBox {
    /// Corners: top-left, top-right, bottom-right, bottom-left.
    pub quad: [Point; 4],
    /// The map's mean over the box before it was grown.
    pub score: f32,
}

/// Text boxes from the model's probability map (`map_w` × `map_h`), mapped
/// to a `dest_w` × `dest_h` picture, in reading order.
pub fn boxes(
    map: &[f32],
    map_w: usize,
    map_h: usize,
    dest: (usize, usize),
    params: &DbParams,
) -> Vec<DetBox> {
    if map_w == 0 || map_h == 0 || map.len() < map_w * map_h {
        return Vec::new();
    }
    let (dest_w, dest_h) = dest;
    // Threshold, then dilate with a 2×2 kernel anchored at its bottom right.
    let bits: Vec<u8> = map[..map_w * map_h]
        .iter()
        .map(|&v| u8::from(v > params.thresh))
        .collect();
    let mut mask = bits.clone();
    for y in 0..map_h {
        for x in 0..map_w {
            let at = |dx: usize, dy: usize| bits[(y - dy) * map_w + (x - dx)];
            let mut v = bits[y * map_w + x];
            if x > 0 {
                v |= at(1, 0);
            }
            if y > 0 {
                v |= at(0, 1);
                if x > 0 {
                    v |= at(1, 1);
                }
            }
            mask[y * map_w + x] = v;
        }
    }
    let mut out = Vec::new();
    for points in geom::regions(&mask, map_w, params.max_candidates) {
        let Some(rect) = geom::min_area_rect(&geom::hull(&points)) else {
            continue;
        };
        if rect.short_side() < MIN_BOX_SIDE {
            continue;
        }
        let mini = geom::mini_box_order(rect.corners);
        let score = geom::quad_mean(map, map_w, map_h, &mini);
        // A NaN score (a broken model) is dropped too.
        if score.is_nan() || score < params.box_thresh {
            continue;
        }
        // Unclip: the reference offsets the box (its corners as integers)
        // by area × ratio / perimeter with round joins; the offset polygon's
        // minimum rectangle is the box grown by that distance on each side.
        let (area, perimeter) = geom::area_perimeter(&mini);
        if perimeter <= 0.0 {
            continue;
        }
        let distance = area * params.unclip_ratio / perimeter;
        let truncated: Vec<[i32; 2]> = mini.iter().map(|p| [p[0] as i32, p[1] as i32]).collect();
        let Some(base) = geom::min_area_rect(&geom::hull(&truncated)) else {
            continue;
        };
        let grown = base.grown(distance);
        if grown.short_side() < MIN_BOX_SIDE + 2.0 {
            continue;
        }
        let scaled = geom::mini_box_order(grown.corners).map(|p| {
            [
                (p[0] / map_w as f32 * dest_w as f32)
                    .round_ties_even()
                    .clamp(0.0, dest_w as f32),
                (p[1] / map_h as f32 * dest_h as f32)
                    .round_ties_even()
                    .clamp(0.0, dest_h as f32),
            ]
        });
        // `filter_det_res`: clockwise, clipped into the picture, and at
        // least 4 pixels each way.
        let quad = geom::clockwise(scaled).map(|p| {
            [
                p[0].clamp(0.0, dest_w.saturating_sub(1) as f32).trunc(),
                p[1].clamp(0.0, dest_h.saturating_sub(1) as f32).trunc(),
            ]
        });
        let len = |a: Point, b: Point| (a[0] - b[0]).hypot(a[1] - b[1]) as i32;
        if len(quad[0], quad[1]) <= 3 || len(quad[0], quad[3]) <= 3 {
            continue;
        }
        out.push(DetBox { quad, score });
    }
    reading_order(out)
}

/// Top to bottom by each box's top-left corner; boxes whose tops are within
/// [`SAME_LINE`] pixels of the previous one's share its line and go left to
/// right (the reference's `sorted_boxes`).
pub fn reading_order(mut boxes: Vec<DetBox>) -> Vec<DetBox> {
    boxes.sort_by(|a, b| a.quad[0][1].total_cmp(&b.quad[0][1]));
    let mut line = 0usize;
    let mut keyed: Vec<(usize, f32, DetBox)> = Vec::with_capacity(boxes.len());
    let mut prev_y: Option<f32> = None;
    for b in boxes {
        let y = b.quad[0][1];
        if let Some(p) = prev_y
            && y - p >= SAME_LINE
        {
            line += 1;
        }
        prev_y = Some(y);
        keyed.push((line, b.quad[0][0], b));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    keyed.into_iter().map(|(_, _, b)| b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_reference() {
        // A small picture is scaled up so its short side is 736.
        assert_eq!(det_size(640, 480, DetectSize::Reference), Some((992, 736)));
        assert_eq!(
            det_size(1280, 960, DetectSize::Reference),
            Some((1280, 960))
        );
        // Fast mode only scales down.
        assert_eq!(det_size(640, 480, DetectSize::Fast), Some((640, 480)));
        assert_eq!(det_size(1920, 1080, DetectSize::Fast), Some((960, 544)));
        assert_eq!(det_size(10, 10, DetectSize::Fast), None);
        assert_eq!(bounded_size(640, 480), None);
        // Too large: the long side to 2000, rounded to 32.
        let ((w, h), r) = bounded_size(4000, 3000).unwrap();
        assert_eq!((w, h), (1984, 1504));
        assert!((r[0] - 4000.0 / 1984.0).abs() < 1e-9);
        // Too small: the short side to 30 (rounded to 32).
        assert_eq!(bounded_size(100, 20).unwrap().0, (160, 32));
        assert_eq!(vertical_padding(640, 480), 0);
        // 1000×40 is wider than 8:1: padded to 2 × 125 rows.
        assert_eq!(vertical_padding(1000, 40), 105);
    }

    #[test]
    fn a_bar_of_text_becomes_one_grown_box() {
        let (w, h) = (64usize, 32usize);
        let mut map = vec![0.0f32; w * h];
        for y in 10..16 {
            for x in 8..40 {
                map[y * w + x] = 0.9;
            }
        }
        let b = boxes(&map, w, h, (128, 64), &DbParams::default());
        assert_eq!(b.len(), 1, "{b:?}");
        let q = b[0].quad;
        // The dilated edge (zeros in the map) lowers the mean.
        assert!(b[0].score > 0.6 && b[0].score <= 0.9, "{}", b[0].score);
        // Grown beyond the bar and scaled ×2.
        assert!(q[0][0] < 16.0 && q[1][0] > 80.0, "{q:?}");
        assert!(q[0][1] < 20.0 && q[3][1] > 32.0, "{q:?}");
        // A faint bar is dropped.
        let faint: Vec<f32> = map.iter().map(|v| v * 0.5).collect();
        assert!(boxes(&faint, w, h, (128, 64), &DbParams::default()).is_empty());
    }

    #[test]
    fn hostile_maps_give_bounded_work() {
        // Isolated dots every 3 pixels: 17,777 regions, all too small.
        let (w, h) = (400usize, 400usize);
        let dots: Vec<f32> = (0..w * h)
            .map(|i| {
                if (i % w) % 3 == 0 && (i / w) % 3 == 0 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let started = std::time::Instant::now();
        assert!(boxes(&dots, w, h, (w, h), &DbParams::default()).is_empty());
        // 6×6 blobs every 8 pixels: 2,500 boxable regions, 1,000 kept.
        let blobs: Vec<f32> = (0..w * h)
            .map(|i| {
                if (i % w) % 8 < 6 && (i / w) % 8 < 6 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let found = boxes(&blobs, w, h, (w, h), &DbParams::default());
        assert_eq!(found.len(), 1000);
        // NaN and infinite maps neither panic nor give boxes outside.
        let broken = vec![f32::NAN; w * h];
        assert!(boxes(&broken, w, h, (w, h), &DbParams::default()).is_empty());
        let inf = vec![f32::INFINITY; 64 * 64];
        for b in boxes(&inf, 64, 64, (64, 64), &DbParams::default()) {
            assert!(b.quad.iter().all(|p| p[0] < 64.0 && p[1] < 64.0));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // A map shorter than it claims is refused.
        assert!(boxes(&[0.9; 10], 64, 64, (64, 64), &DbParams::default()).is_empty());
    }

    #[test]
    fn reading_order_is_lines_then_left_to_right() {
        let b = |x: f32, y: f32| DetBox {
            quad: [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]],
            score: 1.0,
        };
        let sorted = reading_order(vec![b(50.0, 3.0), b(0.0, 40.0), b(10.0, 0.0)]);
        let xs: Vec<f32> = sorted.iter().map(|d| d.quad[0][0]).collect();
        assert_eq!(xs, vec![10.0, 50.0, 0.0]);
    }
}
