//! Images for cleanweb: decoding with hard limits, PDQ perceptual hashes
//! (bit-exact with Meta's reference core, all eight dihedral variants from one
//! DCT), MD5/SHA-256 of the bytes for exact-file banks, and OpenCV's
//! linear resize for the models.
//!
//! ```
//! use cleanweb_vision::{pdq, luma_from_rgb};
//! let rgb: Vec<u8> = (0..64 * 48 * 3).map(|i| (i % 251) as u8).collect();
//! let (hash, quality) = pdq(&luma_from_rgb(&rgb, 64, 48), 48, 64);
//! assert_eq!(hash.to_string().len(), 64);
//! assert!(quality <= 100);
//! ```
#![deny(missing_docs)]

mod decode;
mod digest;
mod pdq;
mod resize;
mod spread;

pub use cleanweb_core::{DecodedImage, Rgb};
pub use decode::{DecodeError, DecodeLimits, decode_image, decode_rgb, shrink};
pub use digest::{md5_hex, sha256_hex};
pub use pdq::{PdqHash, luma_from_rgb, luma_from_rgb_f32, pdq, pdq_dihedral};
pub use resize::resize_linear;
pub use spread::Spread;
