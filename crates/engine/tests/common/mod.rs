//! What the engine's behaviour tests share.

/// `payload` as a QR code of `px`-pixel modules on a white picture with a
/// `margin`-pixel quiet zone.
pub fn qr_image(payload: &str, px: u32, margin: u32) -> image::RgbImage {
    let code = qrcode::QrCode::new(payload.as_bytes()).unwrap();
    let n = code.width() as u32;
    let colors = code.to_colors();
    let side = n * px + 2 * margin;
    image::RgbImage::from_fn(side, side, |x, y| {
        let inside = x >= margin && y >= margin && x < margin + n * px && y < margin + n * px;
        let dark = inside
            && colors[(((y - margin) / px) * n + (x - margin) / px) as usize]
                == qrcode::Color::Dark;
        image::Rgb(if dark { [0, 0, 0] } else { [255, 255, 255] })
    })
}
