//! Recognition and orientation around the models: strips to normalised
//! tensors, the angle classifier's decision, and CTC greedy decoding.

use cleanweb_core::Rgb;

/// Model input height for recognition and the angle classifier.
pub const STRIP_HEIGHT: usize = 48;
/// Recognition's narrowest input (`rec_img_shape` 3×48×320).
pub const REC_MIN_WIDTH: usize = 320;
/// The angle classifier's input width (3×48×192).
pub const CLS_WIDTH: usize = 192;
/// Strips per model call (`rec_batch_num`, `cls_batch_num`).
pub const BATCH: usize = 6;
/// The classifier must be this sure to turn a strip (`cls_thresh`).
pub const CLS_THRESH: f32 = 0.9;

/// The width a strip takes at [`STRIP_HEIGHT`], at most `max_w`
/// (`ceil(48 × w / h)`, as the reference).
pub fn strip_width(img: &Rgb, max_w: usize) -> usize {
    let ratio = img.width as f64 / f64::from(img.height.max(1));
    let w = (STRIP_HEIGHT as f64 * ratio).ceil() as usize;
    w.clamp(1, max_w.max(1))
}

/// Writes `img` resized to `strip_width` × 48 into a `3 × 48 × width`
/// plane set (BGR, scaled to -1..1), zeros to the right.
pub fn strip_tensor(img: &Rgb, width: usize, out: &mut [f32]) {
    let w = strip_width(img, width);
    let resized = cleanweb_vision::resize_linear(
        img,
        (img.width as usize, img.height as usize),
        (w, STRIP_HEIGHT),
    );
    let plane = STRIP_HEIGHT * width;
    out[..3 * plane].fill(0.0);
    for y in 0..STRIP_HEIGHT {
        for x in 0..w {
            let p = &resized.pixels[(y * w + x) * 3..(y * w + x) * 3 + 3];
            for (c, &v) in [p[2], p[1], p[0]].iter().enumerate() {
                out[c * plane + y * width + x] = (f32::from(v) / 255.0 - 0.5) / 0.5;
            }
        }
    }
}

/// The recognition width for a batch: at least 320, and wide enough for the
/// batch's widest strip (`int(48 × max ratio)`).
pub fn batch_width(strips: &[&Rgb]) -> usize {
    let mut ratio = REC_MIN_WIDTH as f64 / STRIP_HEIGHT as f64;
    for s in strips {
        ratio = ratio.max(s.width as f64 / f64::from(s.height.max(1)));
    }
    (STRIP_HEIGHT as f64 * ratio) as usize
}

/// The recogniser's alphabet: index 0 is CTC's blank, then the model's
/// dictionary, then a space.
#[derive(Clone, Debug)]
pub struct Alphabet {
    chars: Vec<String>,
}

impl Alphabet {
    /// From the dictionary in the model's metadata, one entry per line, split
    /// as Python's `str.splitlines` does.
    pub fn from_metadata(text: &str) -> Alphabet {
        let mut chars = vec![String::new()];
        let breaks = [
            '\n', '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
            '\u{2029}',
        ];
        let mut rest = text;
        while !rest.is_empty() {
            let end = rest.find(breaks).unwrap_or(rest.len());
            chars.push(rest[..end].to_owned());
            rest = &rest[end..];
            if let Some(stripped) = rest.strip_prefix("\r\n") {
                rest = stripped;
            } else if let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
            }
        }
        chars.push(" ".to_owned());
        Alphabet { chars }
    }

    /// Classes including the blank and the space.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether there are no classes besides the blank and space.
    pub fn is_empty(&self) -> bool {
        self.chars.len() <= 2
    }
}

/// Greedy CTC decoding of one strip's `steps × classes` probabilities:
/// the best class per step, repeats merged, blanks dropped; the score is
/// the mean probability of the kept steps (each rounded to 5 places, as
/// the reference), 0 when none is kept.
pub fn ctc_decode(probs: &[f32], classes: usize, alphabet: &Alphabet) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut n) = (0.0f64, 0usize);
    let mut prev = usize::MAX;
    for step in probs.chunks_exact(classes.max(1)) {
        let (mut best, mut best_p) = (0usize, f32::MIN);
        for (i, &p) in step.iter().enumerate() {
            if p > best_p {
                (best, best_p) = (i, p);
            }
        }
        if best != 0 && best != prev {
            if let Some(c) = alphabet.chars.get(best) {
                text.push_str(c);
            }
            sum += (f64::from(best_p) * 1e5).round_ties_even() / 1e5;
            n += 1;
        }
        prev = best;
    }
    let score = if n == 0 { 0.0 } else { sum / n as f64 };
    (text, ((score * 1e5).round_ties_even() / 1e5) as f32)
}

/// The classifier's verdict for one strip from its two probabilities
/// (`0°`, `180°`): whether to turn it.
pub fn upside_down(probs: &[f32]) -> bool {
    matches!(probs, [a, b] if b > a && *b > CLS_THRESH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_blank_and_space() {
        let a = Alphabet::from_metadata("a\nb\r\nc\u{2028}d");
        assert_eq!(a.chars, vec!["", "a", "b", "c", "d", " "]);
        assert_eq!(a.len(), 6);
    }

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let a = Alphabet::from_metadata("x\ny");
        // Steps: x x blank x y y → "xxy".
        #[rustfmt::skip]
        let probs = [
            0.1, 0.8, 0.1, 0.0,
            0.1, 0.9, 0.0, 0.0,
            0.9, 0.1, 0.0, 0.0,
            0.2, 0.7, 0.1, 0.0,
            0.1, 0.0, 0.9, 0.0,
            0.0, 0.0, 1.0, 0.0,
        ];
        let (text, score) = ctc_decode(&probs, 4, &a);
        assert_eq!(text, "xxy");
        assert!((score - (0.8 + 0.7 + 0.9) / 3.0).abs() < 1e-5);
        assert_eq!(
            ctc_decode(&[1.0, 0.0, 0.0, 0.0], 4, &a),
            (String::new(), 0.0)
        );
    }

    #[test]
    fn strips_are_padded_to_the_batch_width() {
        let img = Rgb {
            width: 96,
            height: 24,
            pixels: vec![255; 96 * 24 * 3],
        };
        assert_eq!(strip_width(&img, 1000), 192);
        assert_eq!(batch_width(&[&img]), 320);
        let mut out = vec![9.0; 3 * 48 * 320];
        strip_tensor(&img, 320, &mut out);
        assert_eq!(out[0], 1.0);
        assert_eq!(out[191], 1.0);
        assert_eq!(out[192], 0.0);
        assert!(upside_down(&[0.05, 0.95]) && !upside_down(&[0.15, 0.85]));
    }
}
