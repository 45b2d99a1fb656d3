//! Matching survives the usual transforms of a photo: resizing, JPEG
//! re-encoding, greyscale and brightness within the default threshold (31),
//! and rotations and flips through the dihedral variants. Benign PD/CC0
//! photos; the table for the reference is in BENCHMARKS.md.

use std::io::Cursor;

use cleanweb_vision::{DecodeLimits, PdqHash, decode_rgb, luma_from_rgb, pdq_dihedral};
use image::{DynamicImage, ImageFormat, RgbImage, imageops::FilterType};

const PHOTOS: [&str; 5] = [
    "photo_astronaut_512x512.jpg",
    "photo_camera_512x512.jpg",
    "photo_chelsea_451x300.jpg",
    "photo_coffee_512x341.jpg",
    "photo_rocket_512x342.jpg",
];

fn hashes(img: &RgbImage) -> [PdqHash; 8] {
    let (w, h) = (img.width() as usize, img.height() as usize);
    pdq_dihedral(&luma_from_rgb(img.as_raw(), w, h), h, w).0
}

fn load(name: &str) -> RgbImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pdq")
        .join(name);
    let rgb = decode_rgb(&std::fs::read(path).unwrap(), &DecodeLimits::default()).unwrap();
    RgbImage::from_raw(rgb.width, rgb.height, rgb.pixels).unwrap()
}

fn jpeg(img: &RgbImage, quality: u8) -> RgbImage {
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    image::load_from_memory_with_format(out.get_ref(), ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8()
}

#[test]
fn matching_survives_resizing_reencoding_and_rotation() {
    for name in PHOTOS {
        let original = load(name);
        let base = hashes(&original)[0];
        let (w, h) = original.dimensions();
        let dynamic = DynamicImage::ImageRgb8(original.clone());
        let same_orientation: Vec<(&str, RgbImage)> = vec![
            (
                "resize 50%",
                dynamic
                    .resize_exact(w / 2, h / 2, FilterType::Lanczos3)
                    .to_rgb8(),
            ),
            (
                "resize 25%",
                dynamic
                    .resize_exact(w / 4, h / 4, FilterType::Lanczos3)
                    .to_rgb8(),
            ),
            ("jpeg q70", jpeg(&original, 70)),
            ("jpeg q50", jpeg(&original, 50)),
            (
                "greyscale",
                DynamicImage::ImageLuma8(dynamic.to_luma8()).to_rgb8(),
            ),
            ("brightness +20", dynamic.brighten(20).to_rgb8()),
        ];
        for (what, img) in &same_orientation {
            let d = hashes(img)[0].distance(&base);
            assert!(d <= 31, "{name}: {what} is {d} bits away");
        }
        // Rotations and flips match only through the dihedral variants.
        for (what, img) in [
            ("rotate 90", dynamic.rotate90().to_rgb8()),
            ("flip", dynamic.fliph().to_rgb8()),
        ] {
            let variants = hashes(&img);
            let plain = variants[0].distance(&base);
            let best = variants
                .iter()
                .map(|v| v.distance(&base))
                .min()
                .unwrap_or(256);
            assert!(
                plain > 31,
                "{name}: {what} matched without rotations ({plain})"
            );
            assert!(best <= 31, "{name}: {what} is {best} bits away at best");
        }
    }
}
