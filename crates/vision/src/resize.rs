//! OpenCV's `cv::resize` with `INTER_LINEAR` on 8-bit RGB, reproduced: its
//! 11-bit fixed-point weights and its vectorised vertical pass.
//!
//! Written by hand because no crate reproduces OpenCV's rounding: the `image`
//! and `fast_image_resize` filters shift NudeNet's scores by up to 3e-2, and
//! the OCR models were trained and are judged on OpenCV's output. The image
//! may sit on a larger black canvas (a letterbox): pixels outside it read as
//! 0, and only the source rows the output needs are touched, so the cost is
//! set by the output size.

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

/// Resizes `img`, placed at the top left of a black `canvas` (width,
/// height) at least as large as it, to `size` (width, height), as
/// `cv2.resize(canvas, size)` does. A zero side gives an empty image.
pub fn resize_linear(img: &Rgb, canvas: (usize, usize), size: (usize, usize)) -> Rgb {
    let (w, h) = (img.width as usize, img.height as usize);
    let (cw, ch) = (canvas.0.max(w).max(1), canvas.1.max(h).max(1));
    let (dw, dh) = size;
    let mut out = vec![0u8; dw * dh * 3];
    let pixel = |x: usize, y: usize, c: usize| -> i32 {
        if x < w && y < h {
            i32::from(img.pixels[(y * w + x) * 3 + c])
        } else {
            0
        }
    };
    let done = |pixels| Rgb {
        width: dw as u32,
        height: dh as u32,
        pixels,
    };
    if dw == 0 || dh == 0 {
        return done(Vec::new());
    }
    if (cw, ch) == (dw, dh) {
        // cv::resize copies an image that already has the size.
        for y in 0..dh {
            for x in 0..dw {
                for c in 0..3 {
                    out[(y * dw + x) * 3 + c] = pixel(x, y, c) as u8;
                }
            }
        }
        return done(out);
    }
    let xt = taps(cw, dw, true);
    let yt = taps(ch, dh, false);
    // One horizontally resized source row, interleaved RGB, scaled by 2^11.
    let hrow = |y: usize, row: &mut Vec<i32>| {
        row.clear();
        for t in &xt {
            let (x0, x1) = t.pair(cw);
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
    let (mut r0, mut r1) = (Vec::with_capacity(dw * 3), Vec::with_capacity(dw * 3));
    let mut cached: (usize, usize) = (usize::MAX, usize::MAX);
    for (dy, t) in yt.iter().enumerate() {
        let (y0, y1) = t.pair(ch);
        if cached != (y0, y1) {
            if cached.1 == y0 {
                std::mem::swap(&mut r0, &mut r1);
            } else {
                hrow(y0, &mut r0);
            }
            hrow(y1, &mut r1);
            cached = (y0, y1);
        }
        let row = &mut out[dy * dw * 3..(dy + 1) * dw * 3];
        for (o, (&a, &b)) in row.iter_mut().zip(r0.iter().zip(&r1)) {
            *o = vmix(a, b, t.w0, t.w1);
        }
    }
    done(out)
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
    fn flat_images_stay_flat_and_the_canvas_is_black() {
        let img = Rgb {
            width: 200,
            height: 100,
            pixels: [10u8, 20, 30].repeat(200 * 100),
        };
        let out = resize_linear(&img, (200, 200), (320, 320));
        let at = |x: usize, y: usize| &out.pixels[(y * 320 + x) * 3..(y * 320 + x) * 3 + 3];
        assert_eq!(at(5, 5), [10, 20, 30]);
        // The lower half is the canvas.
        assert_eq!(at(5, 300), [0, 0, 0]);
        // Not square: 200×100 to 64×32.
        let small = resize_linear(&img, (200, 100), (64, 32));
        assert_eq!((small.width, small.height), (64, 32));
        assert!(small.pixels.chunks(3).all(|p| p == [10, 20, 30]));
        assert!(resize_linear(&img, (200, 100), (0, 5)).pixels.is_empty());
    }
}
