//! QR codes inside pictures: decoded with `rqrr` (pure Rust, MIT/Apache-2.0
//! and ISC; no C++ toolchain or GPL code in the build), bounded, and their
//! payloads classified, so the engine can read them like text.
//!
//! A code alone is not a violation. Its payload joins the item's texts (the
//! lexicon and the URL lists read it), and a messenger or payment contact
//! code counts as contact details next to sexual text (an ad).
#![deny(missing_docs)]

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cleanweb_core::Rgb;

/// Most codes read from one picture: a sheet of hundreds is not an ad, and
/// each decode costs time.
pub const MAX_CODES: usize = 8;
/// Most payload bytes kept per code (a QR code holds at most 2,953).
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// Pictures are scaled down to this long side before the search: QR finder
/// patterns survive it, and the search stays bounded on huge pictures.
pub const MAX_SIDE: u32 = 1600;

/// A code found in a picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// `qr`.
    pub format: &'static str,
    /// The payload, as text (invalid UTF-8 is replaced).
    pub payload: String,
    /// `[x, y, w, h]` in the picture's pixels: the box around the code.
    pub rect: [u32; 4],
    /// What the payload is.
    pub kind: Kind,
}

/// What a payload points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A messenger, group or payment contact (WeChat, QQ, Telegram,
    /// WhatsApp, Alipay, LINE): contact details for the ads rule.
    Contact(&'static str),
    /// Any other link.
    Link,
    /// Plain text.
    Text,
}

/// Contact payloads by prefix (after the scheme, lower-cased). WeChat's
/// personal and group codes, QQ's, Telegram's, WhatsApp's, Alipay's and
/// LINE's are how a picture ad hands over its seller.
const CONTACTS: &[(&str, &str)] = &[
    ("weixin://", "wechat"),
    ("u.wechat.com/", "wechat"),
    ("weixin.qq.com/g/", "wechat"),
    ("weixin.qq.com/r/", "wechat"),
    ("wxp://", "wechat"),
    ("qm.qq.com/", "qq"),
    ("mqqapi://", "qq"),
    ("t.me/", "telegram"),
    ("tg://", "telegram"),
    ("telegram.me/", "telegram"),
    ("wa.me/", "whatsapp"),
    ("api.whatsapp.com/", "whatsapp"),
    ("chat.whatsapp.com/", "whatsapp"),
    ("qr.alipay.com/", "alipay"),
    ("line.me/", "line"),
];

/// Classifies a payload.
pub fn classify(payload: &str) -> Kind {
    let p = payload.trim().to_ascii_lowercase();
    let rest = p
        .strip_prefix("https://")
        .or_else(|| p.strip_prefix("http://"))
        .unwrap_or(&p);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    if let Some((_, kind)) = CONTACTS.iter().find(|(prefix, _)| rest.starts_with(prefix)) {
        return Kind::Contact(kind);
    }
    if p.starts_with("http://") || p.starts_with("https://") {
        Kind::Link
    } else {
        Kind::Text
    }
}

/// A writer that refuses bytes past a cap, so a hostile payload cannot grow
/// without bound.
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_PAYLOAD_BYTES {
            return Err(std::io::Error::other("payload too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Finds and decodes the QR codes in a picture (at most [`MAX_CODES`]).
/// Codes that do not decode are skipped; a decoder panic on a hostile
/// picture is caught and reads as "no codes".
pub fn decode(rgb: &Rgb) -> Vec<Code> {
    let (w, h) = (rgb.width as usize, rgb.height as usize);
    if w == 0 || h == 0 || rgb.pixels.len() < w * h * 3 {
        return Vec::new();
    }
    // Nearest-neighbour scale: luma of the pixel each scaled pixel falls on.
    let long = rgb.width.max(rgb.height);
    let scale = if long > MAX_SIDE {
        f64::from(long) / f64::from(MAX_SIDE)
    } else {
        1.0
    };
    let sw = ((w as f64 / scale) as usize).max(1);
    let sh = ((h as f64 / scale) as usize).max(1);
    let luma = |x: usize, y: usize| -> u8 {
        let ox = ((x as f64 * scale) as usize).min(w - 1);
        let oy = ((y as f64 * scale) as usize).min(h - 1);
        let i = (oy * w + ox) * 3;
        let (r, g, b) = (
            u32::from(rgb.pixels[i]),
            u32::from(rgb.pixels[i + 1]),
            u32::from(rgb.pixels[i + 2]),
        );
        // BT.601 luma in integers.
        ((r * 299 + g * 587 + b * 114) / 1000) as u8
    };
    let found = catch_unwind(AssertUnwindSafe(|| {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(sw, sh, luma);
        let mut out = Vec::new();
        for grid in img.detect_grids().into_iter() {
            if out.len() >= MAX_CODES {
                break;
            }
            let mut payload = Capped(Vec::new());
            if grid.decode_to(&mut payload).is_err() {
                continue;
            }
            let (xs, ys) = (grid.bounds.map(|p| p.x), grid.bounds.map(|p| p.y));
            let clamp = |v: i32, max: usize| (f64::from(v.max(0)) * scale).min(max as f64) as u32;
            let (x0, x1) = (
                clamp(*xs.iter().min().unwrap_or(&0), w),
                clamp(*xs.iter().max().unwrap_or(&0), w),
            );
            let (y0, y1) = (
                clamp(*ys.iter().min().unwrap_or(&0), h),
                clamp(*ys.iter().max().unwrap_or(&0), h),
            );
            let payload = String::from_utf8_lossy(&payload.0).into_owned();
            out.push(Code {
                format: "qr",
                kind: classify(&payload),
                payload,
                rect: [x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)],
            });
        }
        out
    }));
    found.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture of `payload` as a QR code, `px` pixels per module, on a
    /// `canvas`-wide white square with the code at (`at`, `at`).
    fn picture(payload: &str, px: u32, canvas: u32, at: u32) -> Rgb {
        let code = qrcode::QrCode::new(payload.as_bytes()).unwrap();
        let n = code.width() as u32;
        let modules = code.to_colors();
        let mut pixels = vec![255u8; (canvas * canvas * 3) as usize];
        for y in 0..n * px {
            for x in 0..n * px {
                let dark = modules[((y / px) * n + x / px) as usize] == qrcode::Color::Dark;
                let (cx, cy) = (x + at, y + at);
                if dark && cx < canvas && cy < canvas {
                    let i = ((cy * canvas + cx) * 3) as usize;
                    pixels[i..i + 3].copy_from_slice(&[20, 20, 20]);
                }
            }
        }
        Rgb {
            width: canvas,
            height: canvas,
            pixels,
        }
    }

    #[test]
    fn codes_decode_with_their_box_and_kind() {
        let pic = picture("https://u.wechat.com/EAbc123", 6, 400, 60);
        let codes = decode(&pic);
        assert_eq!(codes.len(), 1);
        let c = &codes[0];
        assert_eq!(c.payload, "https://u.wechat.com/EAbc123");
        assert_eq!(c.kind, Kind::Contact("wechat"));
        let [x, y, w, h] = c.rect;
        assert!(
            (50..=70).contains(&x) && (50..=70).contains(&y),
            "{:?}",
            c.rect
        );
        assert!(
            w > 100 && h > 100 && x + w <= 400 && y + h <= 400,
            "{:?}",
            c.rect
        );
    }

    #[test]
    fn huge_pictures_are_scaled_down_first() {
        let pic = picture("hello there", 40, 3000, 200);
        let codes = decode(&pic);
        assert_eq!(codes.len(), 1, "found after scaling");
        assert_eq!(codes[0].kind, Kind::Text);
        assert!(
            codes[0].rect[0] >= 150 && codes[0].rect[2] > 600,
            "{:?}",
            codes[0].rect
        );
    }

    #[test]
    fn pictures_without_codes_or_pixels_give_nothing() {
        let blank = Rgb {
            width: 64,
            height: 64,
            pixels: vec![128; 64 * 64 * 3],
        };
        assert!(decode(&blank).is_empty());
        let short = Rgb {
            width: 64,
            height: 64,
            pixels: vec![0; 10],
        };
        assert!(decode(&short).is_empty(), "a buffer shorter than its size");
        let noise = Rgb {
            width: 300,
            height: 300,
            pixels: (0..300 * 300 * 3)
                .map(|i| ((i * 7919) % 251) as u8)
                .collect(),
        };
        assert!(decode(&noise).len() <= MAX_CODES);
    }

    #[test]
    fn payloads_are_classified() {
        for (p, k) in [
            ("weixin://dl/chat?x", Kind::Contact("wechat")),
            ("https://weixin.qq.com/g/AbC", Kind::Contact("wechat")),
            ("http://qm.qq.com/cgi-bin/qm/qr?k=1", Kind::Contact("qq")),
            ("https://t.me/some_channel", Kind::Contact("telegram")),
            ("https://wa.me/15550001", Kind::Contact("whatsapp")),
            ("HTTPS://QR.ALIPAY.COM/fkx1", Kind::Contact("alipay")),
            ("https://example.test/menu", Kind::Link),
            ("WIFI:S:cafe;T:WPA;P:pw;;", Kind::Text),
        ] {
            assert_eq!(classify(p), k, "{p}");
        }
    }
}
