//! Decoding images with hard limits: the format is sniffed from the bytes,
//! the pixel count is checked from the header before any pixel buffer is
//! allocated (decompression bombs), and the decoder's own allocation limit
//! is set too.

use std::io::Cursor;
use std::time::{Duration, Instant};

use cleanweb_core::{DecodedImage, Rgb};
use image::codecs::gif::GifDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::spread::Spread;

/// Hard limits on decoding untrusted image bytes, against decompression bombs and slow decodes.
#[derive(Clone, Debug)]
pub struct DecodeLimits {
    /// Largest input accepted, in bytes (default 32 MiB).
    pub max_bytes: usize,
    /// Largest width x height accepted, checked from the header before decoding.
    pub max_pixels: u64,
    /// Largest width or height accepted, in pixels.
    pub max_side: u32,
    /// Frames kept from an animation, spread across it.
    pub max_frames: usize,
    /// Frames read from an animation before the rest is ignored.
    pub max_frames_read: usize,
    /// Pixels decoded across all frames of an animation. Every frame is
    /// composited onto the full logical screen, so this also bounds time.
    pub max_animation_pixels: u64,
    /// Largest logical screen (width x height) of a GIF or an animated WebP.
    /// The screen costs no bytes in the file, so a few hundred bytes can
    /// claim a huge one and make every frame a full-screen buffer.
    pub max_animation_screen: u64,
    /// Longest side of the frames kept after an animation's first one:
    /// they are scaled down as they are kept (the first keeps its size,
    /// since hashes are computed on it).
    pub max_kept_side: u32,
    /// Wall time for decoding, checked between frames. A still image's time
    /// is bounded by its pixel count instead (the decoders are linear).
    pub max_time: Duration,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 32 << 20,
            max_pixels: 40_000_000,
            max_side: 20_000,
            max_frames: 8,
            max_frames_read: 2_000,
            max_animation_pixels: 64_000_000,
            max_animation_screen: 8_000_000,
            max_kept_side: 1024,
            max_time: Duration::from_secs(10),
        }
    }
}

/// Why an image could not be decoded within its limits.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The input had more bytes than `max_bytes`: (size, limit).
    #[error("image is {0} bytes, the limit is {1}")]
    TooLarge(usize, usize),
    /// The bytes are not a JPEG, PNG, GIF, WebP or BMP image.
    #[error("not an image cleanweb reads (JPEG, PNG, GIF, WebP, BMP)")]
    UnknownFormat,
    /// The header's dimensions exceed `max_pixels` or `max_side`.
    #[error("image is {w}x{h} = {pixels} pixels, the limit is {limit}")]
    TooManyPixels {
        /// Width from the header.
        w: u32,
        /// Height from the header.
        h: u32,
        /// Width times height.
        pixels: u64,
        /// The `max_pixels` limit in force.
        limit: u64,
    },
    /// A GIF's or an animated WebP's logical screen exceeds `max_animation_screen`.
    #[error("animation screen is {w}x{h} = {pixels} pixels, the limit for animations is {limit}")]
    ScreenTooLarge {
        /// Screen width from the header.
        w: u32,
        /// Screen height from the header.
        h: u32,
        /// Width times height.
        pixels: u64,
        /// The `max_animation_screen` limit in force.
        limit: u64,
    },
    /// The decoder failed; the message is the decoder's own.
    #[error("image is corrupt or truncated: {0}")]
    Corrupt(String),
    /// Decoding an animation ran past `max_time`.
    #[error("decoding took longer than {0:?}")]
    TimeLimit(Duration),
}

fn corrupt(e: image::ImageError) -> DecodeError {
    DecodeError::Corrupt(e.to_string())
}

fn format_name(f: ImageFormat) -> Option<&'static str> {
    Some(match f {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::Gif => "gif",
        ImageFormat::WebP => "webp",
        ImageFormat::Bmp => "bmp",
        _ => return None,
    })
}

/// Sniffs the format and checks the header's dimensions against the limits,
/// before any pixel buffer exists.
fn sniff(bytes: &[u8], limits: &DecodeLimits) -> Result<(ImageFormat, (u32, u32)), DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge(bytes.len(), limits.max_bytes));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let format = reader.format().ok_or(DecodeError::UnknownFormat)?;
    format_name(format).ok_or(DecodeError::UnknownFormat)?;
    let (w, h) = reader.into_dimensions().map_err(corrupt)?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels || w > limits.max_side || h > limits.max_side {
        return Err(DecodeError::TooManyPixels {
            w,
            h,
            pixels,
            limit: limits.max_pixels,
        });
    }
    Ok((format, (w, h)))
}

fn check_screen((w, h): (u32, u32), limits: &DecodeLimits) -> Result<(), DecodeError> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_animation_screen {
        return Err(DecodeError::ScreenTooLarge {
            w,
            h,
            pixels,
            limit: limits.max_animation_screen,
        });
    }
    Ok(())
}

fn decoder_limits(limits: &DecodeLimits) -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(1 << 20));
    l
}

fn to_rgb(img: DynamicImage) -> Rgb {
    // Alpha is dropped, not composited, as OpenCV's imread and the PDQ
    // reference tools do. 16-bit samples keep their high byte, as imread
    // does (the image crate would round instead).
    let rgb = if img.color().bytes_per_pixel() > img.color().channel_count() {
        let wide = img.into_rgb16();
        let (w, h) = wide.dimensions();
        let narrow: Vec<u8> = wide
            .into_raw()
            .into_iter()
            .map(|v| (v >> 8) as u8)
            .collect();
        image::RgbImage::from_raw(w, h, narrow).unwrap_or_default()
    } else {
        img.into_rgb8()
    };
    Rgb {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
    }
}

/// Decodes a still image (or an animation's first frame) with its EXIF
/// orientation applied.
pub fn decode_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<Rgb, DecodeError> {
    sniff(bytes, limits)?;
    still(bytes, limits)
}

fn still(bytes: &[u8], limits: &DecodeLimits) -> Result<Rgb, DecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    reader.limits(decoder_limits(limits));
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    // A broken EXIF block only loses the rotation, not the image.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    Ok(to_rgb(img))
}

/// Decodes an image item for the detectors: a still image, or up to
/// `max_frames` frames spread evenly across an animated GIF or WebP.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    let started = Instant::now();
    let (format, screen) = sniff(bytes, limits)?;
    let name = format_name(format).unwrap_or("unknown");
    // The decoder's own limits bound every frame's buffer too: a frame may
    // claim a size far beyond the logical screen the header check saw.
    let animated = match format {
        ImageFormat::Gif => {
            // Every GIF is read as an animation, so its screen is capped
            // before the first frame is composited onto it.
            check_screen(screen, limits)?;
            let mut d = GifDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
            d.set_limits(decoder_limits(limits)).map_err(corrupt)?;
            Some(animation(d, limits, started))
        }
        ImageFormat::WebP => {
            let mut d = WebPDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
            d.set_limits(decoder_limits(limits)).map_err(corrupt)?;
            if d.has_animation() {
                check_screen(screen, limits)?;
                Some(animation(d, limits, started))
            } else {
                None
            }
        }
        _ => None,
    };
    let (frames, frames_total) = match animated {
        Some(result) => result?,
        None => (vec![still(bytes, limits)?], 1),
    };
    Ok(DecodedImage {
        frames,
        frames_total,
        format: name,
    })
}

/// Reads frames until the end or a limit, keeping an evenly spread subset
/// in bounded memory.
fn animation<'a>(
    decoder: impl AnimationDecoder<'a>,
    limits: &DecodeLimits,
    started: Instant,
) -> Result<(Vec<Rgb>, usize), DecodeError> {
    let mut spread = Spread::new(limits.max_frames);
    let mut pixels = 0u64;
    for frame in decoder.into_frames() {
        let read = spread.offered();
        if read >= limits.max_frames_read || pixels > limits.max_animation_pixels {
            break;
        }
        if started.elapsed() > limits.max_time {
            if spread.is_empty() {
                return Err(DecodeError::TimeLimit(limits.max_time));
            }
            break;
        }
        let frame = match frame {
            Ok(f) => f,
            // A truncated animation still yields the frames before the cut.
            Err(_) if !spread.is_empty() => break,
            Err(e) => return Err(corrupt(e)),
        };
        let buf = frame.into_buffer();
        pixels += u64::from(buf.width()) * u64::from(buf.height());
        spread.offer(|| {
            let rgb = to_rgb(DynamicImage::ImageRgba8(buf));
            // The first frame keeps its size: hashes are computed on it.
            if read == 0 {
                rgb
            } else {
                shrink(rgb, limits.max_kept_side)
            }
        });
    }
    if spread.is_empty() {
        return Err(DecodeError::Corrupt("animation has no frames".into()));
    }
    let read = spread.offered();
    Ok((spread.finish(), read))
}

/// Scales a picture down so that its longer side is at most `max_side`
/// (area averaging), keeping its aspect ratio; smaller ones are unchanged.
pub fn shrink(rgb: Rgb, max_side: u32) -> Rgb {
    let side = max_side.max(1);
    if rgb.width <= side && rgb.height <= side {
        return rgb;
    }
    let (w, h) = (rgb.width, rgb.height);
    let Some(img) = image::RgbImage::from_raw(w, h, rgb.pixels) else {
        return Rgb {
            width: 0,
            height: 0,
            pixels: Vec::new(),
        };
    };
    let scale = f64::from(side) / f64::from(w.max(h));
    let nw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let nh = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    let small = image::imageops::thumbnail(&img, nw, nh);
    Rgb {
        width: small.width(),
        height: small.height(),
        pixels: small.into_raw(),
    }
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

    fn gif(frames: u8) -> Vec<u8> {
        use image::codecs::gif::GifEncoder;
        let mut out = Vec::new();
        {
            let mut enc = GifEncoder::new(&mut out);
            let frames = (0..frames).map(|i| {
                let img = image::RgbaImage::from_pixel(16, 8, image::Rgba([i * 5, 0, 0, 255]));
                image::Frame::new(img)
            });
            enc.encode_frames(frames).unwrap();
        }
        out
    }

    #[test]
    fn animations_are_sampled_across_their_length() {
        let limits = DecodeLimits::default();
        let d = decode_image(&gif(40), &limits).unwrap();
        assert_eq!((d.format, d.frames_total, d.frames.len()), ("gif", 40, 8));
        let reds: Vec<u8> = d.frames.iter().map(|f| f.pixels[0] / 5).collect();
        // Evenly spread, first frame included, in order.
        assert_eq!(reds[0], 0);
        assert!(
            reds.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= 8),
            "{reds:?}"
        );
        assert!(*reds.last().unwrap() >= 28, "{reds:?}");
        // A short animation keeps every frame.
        assert_eq!(decode_image(&gif(3), &limits).unwrap().frames.len(), 3);
        // Reading stops at the frame limit.
        let few = DecodeLimits {
            max_frames_read: 10,
            ..DecodeLimits::default()
        };
        assert_eq!(decode_image(&gif(40), &few).unwrap().frames_total, 10);
        // A truncated animation keeps the frames before the cut.
        let bytes = gif(40);
        let cut = decode_image(&bytes[..bytes.len() * 2 / 3], &limits).unwrap();
        assert!(
            cut.frames_total > 5 && cut.frames_total < 40,
            "{}",
            cut.frames_total
        );
        // Out of time before the first frame is an error.
        let no_time = DecodeLimits {
            max_time: Duration::ZERO,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_image(&gif(4), &no_time),
            Err(DecodeError::TimeLimit(_))
        ));
    }

    #[test]
    fn sixteen_bit_samples_keep_their_high_byte() {
        let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(
            2,
            2,
            image::Rgb([0x12ff, 0x3480, 0xff00]),
        );
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        let rgb = decode_rgb(&out.into_inner(), &DecodeLimits::default()).unwrap();
        assert_eq!(&rgb.pixels[..3], &[0x12, 0x34, 0xff]);
    }

    #[test]
    fn a_gif_frame_larger_than_its_screen_is_refused_without_allocating() {
        // Found by fuzzing (fuzz/fuzz_targets/decode_image.rs): a 255x0
        // logical screen whose frame claims 56540x56540 pixels (12.8 GB).
        let bytes: [u8; 128] = [
            71, 73, 70, 56, 55, 97, 255, 0, 0, 0, 49, 1, 0, 44, 0, 49, 220, 220, 220, 220, 220,
            220, 220, 220, 220, 45, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220,
            220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220,
            220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220,
            220, 156, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 137,
            80, 78, 71, 13, 70, 56, 55, 97, 255, 0, 0, 0, 49, 1, 0, 44, 0, 49, 137, 80, 78, 71, 13,
            10, 77, 1, 71, 73, 70, 56, 10, 77, 1, 71, 73, 70, 56, 55, 97,
        ];
        let limits = DecodeLimits {
            max_pixels: 1 << 20,
            ..DecodeLimits::default()
        };
        let err = decode_image(&bytes, &limits).unwrap_err().to_string();
        // Refused by the limit, before the frame buffer, not by running out
        // of data after allocating it.
        assert!(err.contains("limit"), "{err}");
    }
}
