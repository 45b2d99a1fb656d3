//! PDFs: each page's text is a member (`doc.pdf!/page 3`), and each JPEG
//! picture on it another (`doc.pdf!/page 3/picture 1.jpg`). Pictures held as
//! raw or Flate-packed pixels are not read yet.

use cleanweb_core::Item;

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
                if !jpeg || image.content.len() > self.limits.max_member_bytes {
                    continue;
                }
                if let Err(e) = self.budget.spend(image.content.len()) {
                    self.error(child, e)?;
                    return Flow::Break(());
                }
                let item = Item {
                    image: Some(image.content.to_vec()),
                    ..Item::default()
                };
                self.emit(format!("{child}/picture {}.jpg", n + 1), Ok(item))?;
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
