//! PDQ: a 256-bit perceptual hash, bit-exact with Meta's reference core
//! (`pdqHash256FromFloatLuma`) for the same float luma.
//!
//! Steps: two passes of a Jarosz box filter (windows of ceil(dim / 128),
//! averaging over the pixels actually inside the window at the edges),
//! decimation to 64x64, a quality score from the gradients of that 64x64
//! image, a 16x16 DCT (two small matrix products, DC dropped), and a bit per
//! coefficient above the (lower) median. Arithmetic order and precision follow
//! the reference, since the goal is equality, not just closeness.

use std::fmt;
use std::sync::LazyLock;

/// Smaller images hash to zeros with quality 0, as in the reference.
const MIN_DIM: usize = 5;

/// A PDQ hash: 16 words of 16 bits; bit k is bit (k % 16) of word k / 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PdqHash(pub [u16; 16]);

impl fmt::Display for PdqHash {
    /// Hex, most significant word (15) first, as the reference prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in self.0.iter().rev() {
            write!(f, "{w:04x}")?;
        }
        Ok(())
    }
}

impl PdqHash {
    /// Parses 64 hex digits as printed by `Display` (word 15 first); `None` for any other input.
    pub fn parse(hex: &str) -> Option<PdqHash> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut w = [0u16; 16];
        for (i, chunk) in hex.as_bytes().chunks(4).enumerate() {
            let s = std::str::from_utf8(chunk).ok()?;
            w[15 - i] = u16::from_str_radix(s, 16).ok()?;
        }
        Some(PdqHash(w))
    }

    /// Hamming distance: the number of the 256 bits that differ.
    pub fn distance(&self, other: &PdqHash) -> u32 {
        self.0
            .iter()
            .zip(other.0)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }
}

/// Luma as the reference bindings compute it: 0.299 R + 0.587 G + 0.114 B in
/// double precision, stored as float.
pub fn luma_from_rgb(rgb: &[u8], width: usize, height: usize) -> Vec<f32> {
    rgb.chunks_exact(3)
        .take(width * height)
        .map(|p| {
            (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32
        })
        .collect()
}

/// Luma as vPDQ's reference computes it for video frames: the same weights
/// in single precision, summed left to right.
pub fn luma_from_rgb_f32(rgb: &[u8], width: usize, height: usize) -> Vec<f32> {
    rgb.chunks_exact(3)
        .take(width * height)
        .map(|p| {
            0.299f32 * f32::from(p[0]) + 0.587f32 * f32::from(p[1]) + 0.114f32 * f32::from(p[2])
        })
        .collect()
}

/// The 16x64 DCT-II basis without the DC row.
static DCT: LazyLock<[[f32; 64]; 16]> = LazyLock::new(|| {
    let scale = (2.0f64 / 64.0).sqrt() as f32;
    let mut d = [[0f32; 64]; 16];
    for (i, row) in d.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let angle =
                (std::f64::consts::PI / 2.0 / 64.0) * (i as f64 + 1.0) * (2.0 * j as f64 + 1.0);
            *v = (f64::from(scale) * angle.cos()) as f32;
        }
    }
    d
});

/// Hash and quality of a luma image (`rows` x `cols`, row-major).
pub fn pdq(luma: &[f32], rows: usize, cols: usize) -> (PdqHash, u8) {
    match dct16(luma, rows, cols) {
        Some((b, quality)) => (bits(&b), quality),
        None => (PdqHash::default(), 0),
    }
}

/// The hashes of the image and its seven rotations and flips, computed from
/// one DCT, in the reference's order: original, rotate 90, rotate 180, rotate
/// 270, flip X, flip Y, flip +1 (transpose), flip -1 (anti-transpose).
pub fn pdq_dihedral(luma: &[f32], rows: usize, cols: usize) -> ([PdqHash; 8], u8) {
    let Some((b, quality)) = dct16(luma, rows, cols) else {
        return ([PdqHash::default(); 8], 0);
    };
    let odd = |k: usize| k & 1 == 1;
    // Each variant as (transpose?, negate coefficient (i, j)?).
    let variant = |transpose: bool, negate: &dyn Fn(usize, usize) -> bool| {
        let mut out = [[0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                let v = if negate(i, j) { -b[i][j] } else { b[i][j] };
                if transpose {
                    out[j][i] = v;
                } else {
                    out[i][j] = v;
                }
            }
        }
        bits(&out)
    };
    (
        [
            bits(&b),
            variant(true, &|_, j| !odd(j)),
            variant(false, &|i, j| odd(i + j)),
            variant(true, &|i, _| !odd(i)),
            variant(false, &|i, _| !odd(i)),
            variant(false, &|_, j| !odd(j)),
            variant(true, &|_, _| false),
            variant(true, &|i, j| odd(i + j)),
        ],
        quality,
    )
}

/// Blur, decimate, score and transform; None for images too small to hash.
fn dct16(luma: &[f32], rows: usize, cols: usize) -> Option<([[f32; 16]; 16], u8)> {
    if rows < MIN_DIM || cols < MIN_DIM || luma.len() < rows * cols {
        return None;
    }
    let mut a64 = [[0f32; 64]; 64];
    if rows == 64 && cols == 64 {
        for (i, row) in a64.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..i * 64 + 64]);
        }
    } else {
        let mut buf1 = luma[..rows * cols].to_vec();
        let mut buf2 = vec![0f32; rows * cols];
        let window_rows = jarosz_window(cols);
        let window_cols = jarosz_window(rows);
        for _ in 0..2 {
            for r in 0..rows {
                let span = r * cols..r * cols + cols;
                box_1d(&buf1[span.clone()], &mut buf2[span], cols, 1, window_rows);
            }
            box_columns(&buf2, &mut buf1, rows, cols, window_cols);
        }
        for (i, row) in a64.iter_mut().enumerate() {
            let ri = (((i as f64 + 0.5) * rows as f64) / 64.0) as usize;
            for (j, v) in row.iter_mut().enumerate() {
                let ci = (((j as f64 + 0.5) * cols as f64) / 64.0) as usize;
                *v = buf1[ri * cols + ci];
            }
        }
    }
    let quality = quality(&a64);
    // T = D · A (16x64), then B = T · Dᵀ (16x16), summing in index order.
    let d = &*DCT;
    let mut t = [[0f32; 64]; 16];
    for i in 0..16 {
        for j in 0..64 {
            let mut sum = 0f32;
            for k in 0..64 {
                sum += d[i][k] * a64[k][j];
            }
            t[i][j] = sum;
        }
    }
    let mut b = [[0f32; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            let mut sum = 0f32;
            for k in 0..64 {
                sum += t[i][k] * d[j][k];
            }
            b[i][j] = sum;
        }
    }
    Some((b, quality))
}

/// The reference's window: ceil(dim / 128) for a 64-wide target.
fn jarosz_window(dim: usize) -> usize {
    dim.div_ceil(2 * 64)
}

/// The reference's running box filter over `len` samples `stride` apart:
/// the window is centred, and at the edges the average is over the samples
/// inside it.
fn box_1d(input: &[f32], output: &mut [f32], len: usize, stride: usize, window: usize) {
    let half = (window + 2) / 2;
    let (mut read, mut left, mut out) = (0usize, 0usize, 0usize);
    let mut sum = 0f32;
    let mut count = 0usize;
    for _ in 0..half - 1 {
        sum += input[read];
        count += 1;
        read += stride;
    }
    for _ in 0..(window - half + 1) {
        sum += input[read];
        count += 1;
        output[out] = sum / count as f32;
        read += stride;
        out += stride;
    }
    for _ in 0..len.saturating_sub(window) {
        sum += input[read];
        sum -= input[left];
        output[out] = sum / count as f32;
        left += stride;
        read += stride;
        out += stride;
    }
    for _ in 0..half - 1 {
        sum -= input[left];
        count -= 1;
        output[out] = sum / count as f32;
        left += stride;
        out += stride;
    }
}

/// `box_1d` down every column at once: row by row, each column's running
/// sum sees the same operations in the same order as `box_1d` would give it
/// (so results are bit-identical), but memory is read in rows, which keeps
/// the cache warm and lets the compiler vectorise across columns.
fn box_columns(input: &[f32], output: &mut [f32], rows: usize, cols: usize, window: usize) {
    let half = (window + 2) / 2;
    let mut sum = vec![0f32; cols];
    let row = |r: usize| &input[r * cols..r * cols + cols];
    let (mut read, mut left, mut out) = (0usize, 0usize, 0usize);
    let mut count = 0usize;
    for _ in 0..half - 1 {
        for (s, &v) in sum.iter_mut().zip(row(read)) {
            *s += v;
        }
        count += 1;
        read += 1;
    }
    for _ in 0..(window - half + 1) {
        count += 1;
        let n = count as f32;
        let dst = &mut output[out * cols..out * cols + cols];
        for ((s, &v), o) in sum.iter_mut().zip(row(read)).zip(dst) {
            *s += v;
            *o = *s / n;
        }
        read += 1;
        out += 1;
    }
    for _ in 0..rows.saturating_sub(window) {
        let n = count as f32;
        let (add, sub) = (row(read), row(left));
        let dst = &mut output[out * cols..out * cols + cols];
        for (((s, &a), &b), o) in sum.iter_mut().zip(add).zip(sub).zip(dst) {
            *s += a;
            *s -= b;
            *o = *s / n;
        }
        left += 1;
        read += 1;
        out += 1;
    }
    for _ in 0..half - 1 {
        count -= 1;
        let n = count as f32;
        let dst = &mut output[out * cols..out * cols + cols];
        for ((s, &b), o) in sum.iter_mut().zip(row(left)).zip(dst) {
            *s -= b;
            *o = *s / n;
        }
        left += 1;
        out += 1;
    }
}

/// Gradient energy of the 64x64 image, in the reference's integer steps.
fn quality(a: &[[f32; 64]; 64]) -> u8 {
    let step = |u: f32, v: f32| ((((u - v) * 100.0) / 255.0) as i32).abs();
    let mut sum: i32 = 0;
    for pair in a.windows(2) {
        for (u, v) in pair[0].iter().zip(&pair[1]) {
            sum += step(*u, *v);
        }
    }
    for row in a {
        for uv in row.windows(2) {
            sum += step(uv[0], uv[1]);
        }
    }
    (sum / 90).min(100) as u8
}

/// One bit per coefficient above the lower median.
fn bits(b: &[[f32; 16]; 16]) -> PdqHash {
    let mut all: Vec<f32> = b.iter().flatten().copied().collect();
    all.sort_by(f32::total_cmp);
    let median = all[127];
    let mut w = [0u16; 16];
    // Bit i * 16 + j is bit j of word i.
    for (word, row) in w.iter_mut().zip(b) {
        for (j, &v) in row.iter().enumerate() {
            if v > median {
                *word |= 1 << j;
            }
        }
    }
    PdqHash(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_distance_counts_bits() {
        let h = PdqHash([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x8000]);
        let s = h.to_string();
        assert_eq!(&s[..4], "8000");
        assert_eq!(&s[60..], "0001");
        assert_eq!(PdqHash::parse(&s), Some(h));
        assert_eq!(h.distance(&PdqHash::default()), 2);
        assert!(PdqHash::parse("zz").is_none());
    }

    #[test]
    fn tiny_images_hash_to_zero_with_no_quality() {
        let (h, q) = pdq(&[0.0; 16], 4, 4);
        assert_eq!((h, q), (PdqHash::default(), 0));
    }
}
