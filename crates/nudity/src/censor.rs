//! Censored copies: regions blurred, pixelated or blacked out. The review
//! console serves previews made by the same function.

use cleanweb_core::Rgb;

/// How `censor` hides a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CensorMode {
    /// A strong box blur (three passes, close to a Gaussian).
    #[default]
    Blur,
    /// Blocks of one colour, about a twelfth of the region's longer side.
    Pixelate,
    /// Solid black.
    Black,
}

impl std::str::FromStr for CensorMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "blur" => Ok(CensorMode::Blur),
            "pixelate" => Ok(CensorMode::Pixelate),
            "black" => Ok(CensorMode::Black),
            _ => Err(format!("unknown mode {s:?}: use blur, pixelate or black")),
        }
    }
}

/// Censors each `[x, y, w, h]` region of `img` in place; regions are clipped
/// to the image.
pub fn censor(img: &mut Rgb, regions: &[[u32; 4]], mode: CensorMode) {
    for &[x, y, w, h] in regions {
        let x0 = x.min(img.width) as usize;
        let y0 = y.min(img.height) as usize;
        let x1 = x.saturating_add(w).min(img.width) as usize;
        let y1 = y.saturating_add(h).min(img.height) as usize;
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let r = Region { x0, y0, x1, y1 };
        match mode {
            CensorMode::Black => fill(img, &r, |_, _, _| 0),
            CensorMode::Pixelate => pixelate(img, &r),
            CensorMode::Blur => blur(img, &r),
        }
    }
}

struct Region {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

fn fill(img: &mut Rgb, r: &Region, f: impl Fn(usize, usize, usize) -> u8) {
    let w = img.width as usize;
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            for c in 0..3 {
                img.pixels[(y * w + x) * 3 + c] = f(x, y, c);
            }
        }
    }
}

fn pixelate(img: &mut Rgb, r: &Region) {
    let w = img.width as usize;
    let block = ((r.x1 - r.x0).max(r.y1 - r.y0) / 12).max(8);
    let mut by = r.y0;
    while by < r.y1 {
        let ey = (by + block).min(r.y1);
        let mut bx = r.x0;
        while bx < r.x1 {
            let ex = (bx + block).min(r.x1);
            let mut sum = [0u64; 3];
            for y in by..ey {
                for x in bx..ex {
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += u64::from(img.pixels[(y * w + x) * 3 + c]);
                    }
                }
            }
            let n = ((ey - by) * (ex - bx)) as u64;
            let mean = sum.map(|s| (s / n) as u8);
            let block = Region {
                x0: bx,
                y0: by,
                x1: ex,
                y1: ey,
            };
            fill(img, &block, |_, _, c| mean[c]);
            bx = ex;
        }
        by = ey;
    }
}

/// Three passes of a box blur along each axis, radius a sixth of the
/// region's longer side, reading only inside the region (so nothing from
/// outside leaks in and nothing inside leaks out).
fn blur(img: &mut Rgb, r: &Region) {
    let (rw, rh) = (r.x1 - r.x0, r.y1 - r.y0);
    let radius = (rw.max(rh) / 6).max(3);
    let w = img.width as usize;
    let mut buf: Vec<f32> = Vec::with_capacity(rw * rh * 3);
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            for c in 0..3 {
                buf.push(f32::from(img.pixels[(y * w + x) * 3 + c]));
            }
        }
    }
    let mut line = Vec::new();
    for _ in 0..3 {
        for row in 0..rh {
            box_pass(&mut buf, row * rw * 3, 3, rw, radius, &mut line);
        }
        for col in 0..rw {
            box_pass(&mut buf, col * 3, rw * 3, rh, radius, &mut line);
        }
    }
    let mut i = 0;
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            for c in 0..3 {
                img.pixels[(y * w + x) * 3 + c] = buf[i].round().clamp(0.0, 255.0) as u8;
                i += 1;
            }
        }
    }
}

/// One moving-average pass over `n` pixels starting at `start`, `step`
/// apart, for each of the 3 channels; edges average over what exists.
fn box_pass(
    buf: &mut [f32],
    start: usize,
    step: usize,
    n: usize,
    radius: usize,
    line: &mut Vec<f32>,
) {
    for c in 0..3 {
        line.clear();
        line.extend((0..n).map(|k| buf[start + k * step + c]));
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0.0f64);
        for v in line.iter() {
            let last = prefix.last().copied().unwrap_or(0.0);
            prefix.push(last + f64::from(*v));
        }
        for k in 0..n {
            let lo = k.saturating_sub(radius);
            let hi = (k + radius + 1).min(n);
            buf[start + k * step + c] = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32) -> Rgb {
        let mut state = 12345u32;
        let pixels = (0..w * h * 3)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        Rgb {
            width: w,
            height: h,
            pixels,
        }
    }

    fn region_differs(a: &Rgb, b: &Rgb, r: [u32; 4]) -> (usize, usize) {
        let (mut inside, mut outside) = (0, 0);
        for y in 0..a.height {
            for x in 0..a.width {
                let i = ((y * a.width + x) * 3) as usize;
                let differs = a.pixels[i..i + 3] != b.pixels[i..i + 3];
                let within = x >= r[0] && x < r[0] + r[2] && y >= r[1] && y < r[1] + r[3];
                match (differs, within) {
                    (true, true) => inside += 1,
                    (true, false) => outside += 1,
                    _ => {}
                }
            }
        }
        (inside, outside)
    }

    #[test]
    fn every_mode_changes_the_region_and_nothing_else() {
        let original = noise(120, 80);
        let r = [30, 20, 50, 40];
        for mode in [CensorMode::Blur, CensorMode::Pixelate, CensorMode::Black] {
            let mut img = original.clone();
            censor(&mut img, &[r], mode);
            let (inside, outside) = region_differs(&original, &img, r);
            assert_eq!(outside, 0, "{mode:?} leaked outside");
            assert!(inside > 50 * 40 * 9 / 10, "{mode:?} changed only {inside}");
        }
        // Out-of-range regions are clipped, not a panic.
        let mut img = original.clone();
        censor(
            &mut img,
            &[[110, 70, 1000, 1000], [500, 500, 5, 5]],
            CensorMode::Blur,
        );
        assert_eq!(region_differs(&original, &img, [110, 70, 10, 10]).1, 0);
    }
}
