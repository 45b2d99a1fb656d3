//! NudeNet's preprocessing, reproduced: pad the bottom and right with black
//! to a square, resize to the model's input with OpenCV's `INTER_LINEAR`
//! (its 11-bit fixed-point arithmetic, as `cv2.dnn.blobFromImage` runs it on
//! 8-bit pixels), feed BGR planes scaled to 0..1.
//!
//! Written by hand because no crate reproduces OpenCV's rounding: the `image`
//! and `fast_image_resize` filters shift the model's scores by up to 3e-2.
//! The padding is virtual (pixels outside the image read as 0), and only the
//! source rows the output needs are touched, so the cost is set by the
//! output size, not by the image's.

use cleanweb_core::Rgb;

/// OpenCV's `INTER_RESIZE_COEF_BITS`.
const COEF_BITS: u32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// Where an output pixel reads from: the first source index and the two
/// fixed-point weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tap {
    /// May be -1 or `len - 1` on the vertical axis; reads are clamped.
    src: i64,
    w0: i32,
    w1: i32,
}

impl Tap {
    /// The two source indices, clamped into `0..len`.
    fn pair(&self, len: usize) -> (usize, usize) {
        let last = len as i64 - 1;
        (
            self.src.clamp(0, last) as usize,
            (self.src + 1).clamp(0, last) as usize,
        )
    }
}

fn round_coef(c: f32) -> i32 {
    // OpenCV's saturate_cast<short>(float) is cvRound: ties to even.
    (c * COEF_SCALE).round_ties_even() as i32
}

/// The taps of `cv::resize` for one axis, from `src_len` to `dst_len`.
/// `clamp_frac` mirrors OpenCV's handling of the horizontal axis, which
/// zeroes the fraction at the borders; the vertical axis only clamps rows.
fn taps(src_len: usize, dst_len: usize, clamp_frac: bool) -> Vec<Tap> {
    let inv_scale = dst_len as f64 / src_len as f64;
    let scale = 1.0 / inv_scale;
    (0..dst_len)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor();
            let mut frac = f - s;
            let mut s = s as i64;
            if clamp_frac {
                if s < 0 {
                    frac = 0.0;
                    s = 0;
                }
                if s >= src_len as i64 - 1 {
                    frac = 0.0;
                    s = src_len as i64 - 1;
                }
            }
            // Rows (the vertical axis) are clamped into the image when read,
            // so row -1 of an upscale reads row 0 with both weights.
            Tap {
                src: s,
                w0: round_coef(1.0 - frac),
                w1: round_coef(frac),
            }
        })
        .collect()
}

/// The geometry of one preprocessed image, for mapping boxes back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    /// Width of the original image, in pixels.
    pub width: u32,
    /// Height of the original image, in pixels.
    pub height: u32,
    /// The padded square's side: max(width, height).
    pub side: u32,
}

/// Writes the model input for `img` (3 planes of `size`×`size` f32, BGR,
/// 0..1) into `out`, which must hold `3 * size * size` values.
pub fn preprocess_into(img: &Rgb, size: usize, out: &mut [f32]) -> Letterbox {
    let mut planes = vec![0u8; 3 * size * size];
    resize_bgr_planes(img, size, &mut planes);
    for (o, &p) in out.iter_mut().zip(&planes) {
        *o = f32::from(p) / 255.0;
    }
    Letterbox {
        width: img.width,
        height: img.height,
        side: img.width.max(img.height),
    }
}

/// The padded, resized pixels as 8-bit BGR planes: what NudeNet's blob holds
/// before scaling (for parity tests).
pub fn resize_bgr_planes(img: &Rgb, size: usize, planes: &mut [u8]) {
    let (w, h) = (img.width as usize, img.height as usize);
    let side = w.max(h).max(1);
    let plane = size * size;
    let pixel = |x: usize, y: usize, c: usize| -> i32 {
        if x < w && y < h {
            i32::from(img.pixels[(y * w + x) * 3 + c])
        } else {
            0
        }
    };
    if side == size {
        // blobFromImage copies an image that already has the input size.
        for y in 0..size {
            for x in 0..size {
                for (c, rgb) in [2usize, 1, 0].into_iter().enumerate() {
                    planes[c * plane + y * size + x] = pixel(x, y, rgb) as u8;
                }
            }
        }
        return;
    }
    let xt = taps(side, size, true);
    let yt = taps(side, size, false);
    // One horizontally resized source row, interleaved RGB, scaled by 2^11.
    let hrow = |y: usize, row: &mut Vec<i32>| {
        row.clear();
        for t in &xt {
            let (x0, x1) = t.pair(side);
            for c in 0..3 {
                let v = if t.w1 == 0 {
                    pixel(x0, y, c) * (1 << COEF_BITS)
                } else {
                    pixel(x0, y, c) * t.w0 + pixel(x1, y, c) * t.w1
                };
                row.push(v);
            }
        }
    };
    let (mut r0, mut r1) = (Vec::with_capacity(size * 3), Vec::with_capacity(size * 3));
    let mut cached: (usize, usize) = (usize::MAX, usize::MAX);
    for (dy, t) in yt.iter().enumerate() {
        let (y0, y1) = t.pair(side);
        if cached != (y0, y1) {
            if cached.1 == y0 {
                std::mem::swap(&mut r0, &mut r1);
            } else {
                hrow(y0, &mut r0);
            }
            hrow(y1, &mut r1);
            cached = (y0, y1);
        }
        let (b0, b1) = (t.w0, t.w1);
        for dx in 0..size {
            for c in 0..3 {
                let i = dx * 3 + c;
                let v = vmix(r0[i], r1[i], b0, b1);
                // RGB in, BGR planes out.
                planes[(2 - c) * plane + dy * size + dx] = v;
            }
        }
    }
}

/// OpenCV's vectorised vertical pass for 8-bit linear resize: 16-bit
/// high-half multiplies of the row values shifted right by 4, then a
/// rounding shift by 2.
fn vmix(s0: i32, s1: i32, b0: i32, b1: i32) -> u8 {
    let hi = |s: i32, b: i32| -> i32 { ((s >> 4) as i16 as i32 * (b as i16 as i32)) >> 16 };
    ((hi(s0, b0) + hi(s1, b1) + 2) >> 2).clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_match_opencv_at_the_borders() {
        // Downscaling 640 → 320 reads pairs with equal weights.
        let t = taps(640, 320, true);
        assert_eq!(
            t[0],
            Tap {
                src: 0,
                w0: 1024,
                w1: 1024
            }
        );
        assert_eq!(
            t[319],
            Tap {
                src: 638,
                w0: 1024,
                w1: 1024
            }
        );
        // Upscaling clamps at both ends.
        let t = taps(100, 320, true);
        assert_eq!((t[0].src, t[0].w1), (0, 0));
        assert_eq!((t[319].src, t[319].w0, t[319].w1), (99, 2048, 0));
    }

    #[test]
    fn flat_images_stay_flat_and_padding_is_black() {
        let img = Rgb {
            width: 200,
            height: 100,
            pixels: [10u8, 20, 30].repeat(200 * 100),
        };
        let mut planes = vec![0u8; 3 * 320 * 320];
        resize_bgr_planes(&img, 320, &mut planes);
        let at = |c: usize, x: usize, y: usize| planes[c * 320 * 320 + y * 320 + x];
        // Blue first.
        assert_eq!((at(0, 5, 5), at(1, 5, 5), at(2, 5, 5)), (30, 20, 10));
        // The lower half is padding.
        assert_eq!((at(0, 5, 300), at(2, 300, 300)), (0, 0));
    }
}
