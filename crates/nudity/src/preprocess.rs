//! NudeNet's preprocessing, reproduced: pad the bottom and right with black
//! to a square, resize to the model's input with OpenCV's `INTER_LINEAR`
//! (as `cv2.dnn.blobFromImage` runs it on 8-bit pixels, see
//! [`cleanweb_vision::resize_linear`]), feed BGR planes scaled to 0..1.

use cleanweb_core::Rgb;

/// The geometry of one preprocessed image, for mapping boxes back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    /// Width of the original image, in pixels.
    pub width: u32,
    /// Height of the original image, in pixels.
    pub height: u32,
    /// The padded square's side: max(width, height).
    pub side: u32,
}

/// Writes the model input for `img` (3 planes of `size`×`size` f32, BGR,
/// 0..1) into `out`, which must hold `3 * size * size` values.
pub fn preprocess_into(img: &Rgb, size: usize, out: &mut [f32]) -> Letterbox {
    let mut planes = vec![0u8; 3 * size * size];
    resize_bgr_planes(img, size, &mut planes);
    for (o, &p) in out.iter_mut().zip(&planes) {
        *o = f32::from(p) / 255.0;
    }
    Letterbox {
        width: img.width,
        height: img.height,
        side: img.width.max(img.height),
    }
}

/// The padded, resized pixels as 8-bit BGR planes: what NudeNet's blob holds
/// before scaling (for parity tests).
pub fn resize_bgr_planes(img: &Rgb, size: usize, planes: &mut [u8]) {
    let side = img.width.max(img.height).max(1) as usize;
    let plane = size * size;
    let resized = cleanweb_vision::resize_linear(img, (side, side), (size, size));
    for (i, p) in resized.pixels.chunks_exact(3).enumerate() {
        // RGB in, BGR planes out.
        planes[i] = p[2];
        planes[plane + i] = p[1];
        planes[2 * plane + i] = p[0];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_images_stay_flat_and_padding_is_black() {
        let img = Rgb {
            width: 200,
            height: 100,
            pixels: [10u8, 20, 30].repeat(200 * 100),
        };
        let mut planes = vec![0u8; 3 * 320 * 320];
        resize_bgr_planes(&img, 320, &mut planes);
        let at = |c: usize, x: usize, y: usize| planes[c * 320 * 320 + y * 320 + x];
        // Blue first.
        assert_eq!((at(0, 5, 5), at(1, 5, 5), at(2, 5, 5)), (30, 20, 10));
        // The lower half is padding.
        assert_eq!((at(0, 5, 300), at(2, 300, 300)), (0, 0));
    }
}
