//! PDFs: each page's text is a member (`doc.pdf!/page 3`), and each picture
//! on it another: JPEGs as they are (`doc.pdf!/page 3/picture 1.jpg`), and
//! 8-bit grey or RGB pixels, raw or Flate-packed, as PNG (`…/picture 2.png`).
//! Other encodings (JPEG 2000, CCITT, JBIG2, indexed colour) are skipped.

use std::io::Cursor;

use cleanweb_core::Item;

/// Pixels a raw picture may have, so a hostile width and height cannot ask for more.
const MAX_PIXELS: i64 = 40_000_000;
/// Pictures smaller than this on both sides are rules and ornaments.
const MIN_SIDE: i64 = 48;

/// A picture of raw or Flate-packed 8-bit grey or RGB pixels, as PNG.
fn raw_picture(
    doc: &lopdf::Document,
    image: &lopdf::xobject::PdfImage<'_>,
    limit: usize,
) -> Option<Vec<u8>> {
    let filters = image.filters.as_deref().unwrap_or_default();
    let packed = match filters {
        [] => false,
        [f] if f == "FlateDecode" => true,
        _ => return None,
    };
    let channels = match image.color_space.as_deref()? {
        "DeviceRGB" => 3,
        "DeviceGray" => 1,
        _ => return None,
    };
    let (w, h) = (image.width, image.height);
    if image.bits_per_component != Some(8)
        || w <= 0
        || h <= 0
        || w.checked_mul(h)? > MAX_PIXELS
        || (w < MIN_SIDE && h < MIN_SIDE)
    {
        return None;
    }
    let pixels = if packed {
        let stream = doc.get_object(image.id).ok()?.as_stream().ok()?;
        stream.decompressed_content_with_limit(limit).ok()?
    } else {
        image.content.to_vec()
    };
    let (w, h) = (u32::try_from(w).ok()?, u32::try_from(h).ok()?);
    if pixels.len() != w as usize * h as usize * channels {
        return None;
    }
    let picture = if channels == 3 {
        image::DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, pixels)?)
    } else {
        image::DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, pixels)?)
    };
    let mut png = Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png).ok()?;
    Some(png.into_inner())
}

use crate::{Flow, SEP, Walk};

impl Walk<'_> {
    pub(crate) fn pdf(&mut self, path: String, bytes: Vec<u8>) -> Flow {
        let options = lopdf::LoadOptions {
            max_decompressed_size: Some(self.limits.max_member_bytes),
            ..lopdf::LoadOptions::default()
        };
        let doc = match lopdf::Document::load_mem_with_options(&bytes, options) {
            Ok(d) => d,
            Err(e) => {
                let why = e.to_string();
                let why = if why.to_ascii_lowercase().contains("encrypt")
                    || why.to_ascii_lowercase().contains("password")
                {
                    "an encrypted PDF: not read".to_owned()
                } else {
                    format!("not a readable PDF: {why}")
                };
                return self.error(path, why);
            }
        };
        drop(bytes);
        if doc.objects.len() > self.limits.max_pdf_objects {
            return self.error(
                path,
                format!(
                    "more than {} objects in the PDF: not read",
                    self.limits.max_pdf_objects
                ),
            );
        }
        let pages = doc.get_pages();
        let max = self.limits.max_pdf_pages;
        for (&number, &id) in pages.iter().take(max) {
            if let Err(e) = self.budget.check_time() {
                self.error(path, e)?;
                return Flow::Break(());
            }
            let child = format!("{path}{SEP}page {number}");
            match doc.extract_text_with_limit(&[number], self.limits.max_member_bytes) {
                Ok(text) if !text.trim().is_empty() => {
                    if let Err(e) = self.budget.spend(text.len()) {
                        self.error(child, e)?;
                        return Flow::Break(());
                    }
                    self.emit(child.clone(), Ok(Item::text(text.trim())))?
                }
                Ok(_) => {}
                Err(e) => self.error(child.clone(), format!("cannot read the page's text: {e}"))?,
            }
            let Ok(images) = doc.get_page_images(id) else {
                continue;
            };
            for (n, image) in images.iter().enumerate() {
                let jpeg = image
                    .filters
                    .as_ref()
                    .is_some_and(|f| f.len() == 1 && f[0] == "DCTDecode");
                let (bytes, ext) = if jpeg {
                    (Some(image.content.to_vec()), "jpg")
                } else {
                    (
                        raw_picture(&doc, image, self.limits.max_member_bytes),
                        "png",
                    )
                };
                let Some(bytes) = bytes.filter(|b| b.len() <= self.limits.max_member_bytes) else {
                    continue;
                };
                if let Err(e) = self.budget.spend(bytes.len()) {
                    self.error(child, e)?;
                    return Flow::Break(());
                }
                let item = Item {
                    image: Some(bytes),
                    ..Item::default()
                };
                self.emit(format!("{child}/picture {}.{ext}", n + 1), Ok(item))?;
            }
        }
        if pages.len() > max {
            self.error(
                format!("{path}{SEP}page {}", max + 1),
                format!("{} pages; only the first {max} were read", pages.len()),
            )?;
        }
        Flow::Continue(())
    }
}
