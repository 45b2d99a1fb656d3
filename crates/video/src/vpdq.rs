//! vPDQ as Meta's reference (`vpdq` 0.2.5) computes and writes it: which
//! frames are hashed, how they are converted, and the text format.

use cleanweb_core::FrameHash;
use cleanweb_vision::PdqHash;

/// Hash every `frame_mod`-th frame: `int(seconds_per_hash × fps)`, at least 1.
pub fn frame_mod(seconds_per_hash: f64, fps: f64) -> u64 {
    let m = seconds_per_hash * fps;
    if m.is_finite() && m >= 1.0 {
        m as u64
    } else {
        1
    }
}

/// The ffmpeg filters that convert a frame to RGB24 as the reference's
/// swscale context does: the stream's own size, area scaling, and the
/// colour rules swscale applies when nobody sets them: the BT.601 matrix
/// always, full range only for `yuvj*` formats. The reference never reads
/// a frame's colour tags; the CLI would, so they are overridden.
pub(crate) fn conversion(width: u32, height: u32, pix_fmt: &str) -> String {
    let range = if pix_fmt.starts_with("yuvj") {
        "pc"
    } else {
        "tv"
    };
    format!("scale={width}:{height}:flags=area:in_color_matrix=bt601:in_range={range},format=rgb24")
}

/// A hashed frame's time as the reference computes it: a float division.
pub fn timestamp(index: u64, fps: f64) -> f64 {
    f64::from(index as f32 / fps as f32)
}

/// One line of the reference's text format: `frame,quality,hex,timestamp`.
pub fn line(f: &FrameHash) -> String {
    format!(
        "{},{},{},{:.3}",
        f.index,
        f.quality,
        PdqHash(f.hash()),
        f.time
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_mod_follows_the_reference() {
        assert_eq!(frame_mod(1.0, 25.0), 25);
        assert_eq!(frame_mod(1.0, 30000.0 / 1001.0), 29);
        assert_eq!(frame_mod(0.5, 30.0), 15);
        assert_eq!(
            line(&FrameHash {
                index: 29,
                time: timestamp(29, 30000.0 / 1001.0),
                variants: [[0; 16]; 8],
                quality: 100,
            })
            .rsplit(',')
            .next(),
            Some("0.968")
        );
        // Below one frame a hash, or a nonsense rate: every frame.
        assert_eq!(frame_mod(1.0, 0.5), 1);
        assert_eq!(frame_mod(1.0, f64::NAN), 1);
    }
}
