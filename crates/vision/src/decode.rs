//! Decoding images with hard limits: the format is sniffed from the bytes,
//! the pixel count is checked from the header before any pixel buffer is
//! allocated (decompression bombs), and the decoder's own allocation limit
//! is set too.

use std::io::Cursor;

use image::{ImageReader, Limits};

#[derive(Clone, Debug)]
pub struct DecodeLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 32 << 20,
            max_pixels: 40_000_000,
            max_side: 20_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("image is {0} bytes, the limit is {1}")]
    TooLarge(usize, usize),
    #[error("not an image cleanweb reads (JPEG, PNG, GIF, WebP, BMP)")]
    UnknownFormat,
    #[error("image is {w}x{h} = {pixels} pixels, the limit is {limit}")]
    TooManyPixels {
        w: u32,
        h: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("image is corrupt or truncated: {0}")]
    Corrupt(String),
}

/// 8-bit RGB pixels, row-major.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgb({}x{})", self.width, self.height)
    }
}

pub fn decode_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<Rgb, DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge(bytes.len(), limits.max_bytes));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    if reader.format().is_none() {
        return Err(DecodeError::UnknownFormat);
    }
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels || w > limits.max_side || h > limits.max_side {
        return Err(DecodeError::TooManyPixels {
            w,
            h,
            pixels,
            limit: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_pixels.saturating_mul(4).saturating_add(1 << 20));
    reader.limits(l);
    let img = reader
        .decode()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    // Alpha is dropped, not composited, as the reference hashers do.
    let rgb = img.to_rgb8();
    Ok(Rgb {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn refuses_bombs_truncation_and_other_types() {
        let ok = decode_rgb(&png(8, 6), &DecodeLimits::default()).unwrap();
        assert_eq!((ok.width, ok.height, ok.pixels.len()), (8, 6, 144));
        let small = DecodeLimits {
            max_pixels: 100,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_rgb(&png(20, 20), &small),
            Err(DecodeError::TooManyPixels { .. })
        ));
        let bytes = png(64, 64);
        assert!(matches!(
            decode_rgb(&bytes[..bytes.len() / 2], &DecodeLimits::default()),
            Err(DecodeError::Corrupt(_))
        ));
        assert!(matches!(
            decode_rgb(b"%PDF-1.4 not an image", &DecodeLimits::default()),
            Err(DecodeError::UnknownFormat)
        ));
    }

    #[test]
    fn a_forged_header_is_refused_before_allocation() {
        // A PNG header claiming 100000 x 100000 pixels, with no data behind it.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let err = decode_rgb(&bytes, &DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooManyPixels { .. } | DecodeError::Corrupt(_)
            ),
            "{err}"
        );
    }
}
