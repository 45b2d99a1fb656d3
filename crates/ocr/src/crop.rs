//! Cutting a text box out of a picture as an upright strip: a perspective
//! warp with bicubic sampling and replicated borders (the reference's
//! `get_rotate_crop_image`), and the quarter and half turns.

use cleanweb_core::Rgb;

use crate::geom::Point;

/// OpenCV's bicubic kernel parameter.
const CUBIC_A: f32 = -0.75;
/// OpenCV's remap quantises source positions to 1/32 of a pixel.
const SUBPIXELS: f32 = 32.0;

/// The strip for `quad` (top-left, top-right, bottom-right, bottom-left):
/// as wide as its longer horizontal edge and as high as its longer
/// vertical one, turned a quarter counter-clockwise when it is at least
/// 1.5 times as high as wide (vertical text). `None` for an empty strip.
pub fn crop(img: &Rgb, quad: &[Point; 4]) -> Option<Rgb> {
    let dist = |a: Point, b: Point| (a[0] - b[0]).hypot(a[1] - b[1]);
    let w = dist(quad[0], quad[1]).max(dist(quad[2], quad[3])) as usize;
    let h = dist(quad[0], quad[3]).max(dist(quad[1], quad[2])) as usize;
    if w == 0 || h == 0 || img.width == 0 || img.height == 0 {
        return None;
    }
    let target = [
        [0.0, 0.0],
        [w as f32, 0.0],
        [w as f32, h as f32],
        [0.0, h as f32],
    ];
    // The map from strip pixels back to picture pixels.
    let m = perspective(&target, quad)?;
    let (iw, ih) = (img.width as i64, img.height as i64);
    let px = |x: i64, y: i64, c: usize| -> f32 {
        let (x, y) = (x.clamp(0, iw - 1) as usize, y.clamp(0, ih - 1) as usize);
        f32::from(img.pixels[(y * iw as usize + x) * 3 + c])
    };
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f64, y as f64);
            let d = m[6] * xf + m[7] * yf + 1.0;
            let (sx, sy) = if d.abs() > 1e-12 {
                (
                    (m[0] * xf + m[1] * yf + m[2]) / d,
                    (m[3] * xf + m[4] * yf + m[5]) / d,
                )
            } else {
                (0.0, 0.0)
            };
            let qx = (sx as f32 * SUBPIXELS).round();
            let qy = (sy as f32 * SUBPIXELS).round();
            let (ix, iy) = ((qx / SUBPIXELS).floor(), (qy / SUBPIXELS).floor());
            let (fx, fy) = (qx / SUBPIXELS - ix, qy / SUBPIXELS - iy);
            let (wx, wy) = (cubic_weights(fx), cubic_weights(fy));
            let (ix, iy) = (ix as i64, iy as i64);
            for c in 0..3 {
                let mut v = 0.0f32;
                for (j, wyj) in wy.iter().enumerate() {
                    let mut row = 0.0f32;
                    for (i, wxi) in wx.iter().enumerate() {
                        row += wxi * px(ix + i as i64 - 1, iy + j as i64 - 1, c);
                    }
                    v += wyj * row;
                }
                out[(y * w + x) * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    let strip = Rgb {
        width: w as u32,
        height: h as u32,
        pixels: out,
    };
    Some(if h as f32 / w as f32 >= 1.5 {
        quarter_turn(&strip)
    } else {
        strip
    })
}

/// OpenCV's `interpolateCubic` weights for the four taps around a fraction.
fn cubic_weights(x: f32) -> [f32; 4] {
    let a = CUBIC_A;
    let w0 = ((a * (x + 1.0) - 5.0 * a) * (x + 1.0) + 8.0 * a) * (x + 1.0) - 4.0 * a;
    let w1 = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    let w2 = ((a + 2.0) * (1.0 - x) - (a + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// The projective map taking each `from` corner to the `to` corner, as the
/// eight coefficients of `[[m0 m1 m2] [m3 m4 m5] [m6 m7 1]]`; `None` when
/// the corners are degenerate.
fn perspective(from: &[Point; 4], to: &[Point; 4]) -> Option<[f64; 8]> {
    let mut a = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let (x, y) = (f64::from(from[i][0]), f64::from(from[i][1]));
        let (u, v) = (f64::from(to[i][0]), f64::from(to[i][1]));
        a[i] = [x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u, u];
        a[i + 4] = [0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v, v];
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (v, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut m = [0.0f64; 8];
    for (i, mi) in m.iter_mut().enumerate() {
        *mi = a[i][8] / a[i][i];
    }
    m.iter().all(|v| v.is_finite()).then_some(m)
}

/// `np.rot90`: a quarter turn counter-clockwise.
pub fn quarter_turn(img: &Rgb) -> Rgb {
    let (w, h) = (img.width as usize, img.height as usize);
    let mut out = vec![0u8; w * h * 3];
    // Output is h wide and w high; out(x, y) = in(w - 1 - y, x).
    for y in 0..w {
        for x in 0..h {
            let s = (x * w + (w - 1 - y)) * 3;
            let d = (y * h + x) * 3;
            out[d..d + 3].copy_from_slice(&img.pixels[s..s + 3]);
        }
    }
    Rgb {
        width: h as u32,
        height: w as u32,
        pixels: out,
    }
}

/// A half turn.
pub fn half_turn(img: &Rgb) -> Rgb {
    let mut pixels: Vec<u8> = Vec::with_capacity(img.pixels.len());
    for p in img.pixels.chunks_exact(3).rev() {
        pixels.extend_from_slice(p);
    }
    Rgb {
        width: img.width,
        height: img.height,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Rgb {
        let mut pixels = Vec::new();
        for y in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(&[(x * 10) as u8, (y * 10) as u8, 7]);
            }
        }
        Rgb {
            width: w,
            height: h,
            pixels,
        }
    }

    #[test]
    fn an_axis_aligned_box_is_a_plain_cut() {
        let img = gradient(20, 10);
        let strip = crop(&img, &[[4.0, 2.0], [14.0, 2.0], [14.0, 6.0], [4.0, 6.0]]).unwrap();
        assert_eq!((strip.width, strip.height), (10, 4));
        // Strip pixel (0, 0) is picture pixel (4, 2).
        assert_eq!(&strip.pixels[0..3], &[40, 20, 7]);
        let last = ((3 * 10) + 9) * 3;
        assert_eq!(&strip.pixels[last..last + 3], &[130, 50, 7]);
    }

    #[test]
    fn tall_boxes_are_turned_and_degenerate_ones_refused() {
        let img = gradient(20, 20);
        let strip = crop(&img, &[[2.0, 0.0], [6.0, 0.0], [6.0, 12.0], [2.0, 12.0]]).unwrap();
        assert_eq!((strip.width, strip.height), (12, 4));
        assert!(crop(&img, &[[2.0, 2.0]; 4]).is_none());
        let t = quarter_turn(&gradient(3, 2));
        assert_eq!((t.width, t.height), (2, 3));
        // The top-right pixel comes to the top left.
        assert_eq!(&t.pixels[0..3], &[20, 0, 7]);
        let h = half_turn(&gradient(3, 2));
        assert_eq!(&h.pixels[0..3], &[20, 10, 7]);
    }
}
