//! Animations whose logical screen is far larger than their frames: a few
//! hundred bytes that made the decoder composite every frame onto a
//! full-screen buffer and keep the copies (1.6 GB for 292 bytes). The peak
//! heap is measured by a counting allocator, so this file holds one test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cleanweb_vision::{DecodeError, DecodeLimits, decode_image};

struct Peak;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Peak = Peak;

/// `frames` frames of 1x1 pixel on a `side` x `side` logical screen.
fn screen_bomb(side: u16, frames: u8) -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        let frames = (0..frames).map(|i| {
            image::Frame::new(image::RgbaImage::from_pixel(
                1,
                1,
                image::Rgba([i, 0, 0, 255]),
            ))
        });
        enc.encode_frames(frames).unwrap();
    }
    // The logical screen descriptor follows the 6-byte signature.
    out[6..8].copy_from_slice(&side.to_le_bytes());
    out[8..10].copy_from_slice(&side.to_le_bytes());
    out
}

fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

#[test]
fn screen_bombs_are_refused_or_read_in_bounded_memory() {
    let limits = DecodeLimits::default();

    // The reported file: 6324 x 6324 screen, 11 frames of one pixel.
    let bomb = screen_bomb(6324, 11);
    assert!(bomb.len() < 400, "{}", bomb.len());
    let (result, peak) = peak_during(|| decode_image(&bomb, &limits));
    assert!(
        matches!(
            result,
            Err(DecodeError::ScreenTooLarge {
                pixels: 39_992_976,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(peak < 1 << 20, "refusing it used {peak} bytes");

    // Just under the screen cap, with many frames: read until the pixel
    // budget, and the frames kept are scaled down as they are kept.
    let big = screen_bomb(2800, 60);
    let (result, peak) = peak_during(|| decode_image(&big, &limits));
    let decoded = result.unwrap();
    let screen = 2800 * 2800;
    assert!(
        decoded.frames_total as u64 <= limits.max_animation_pixels / screen + 1,
        "read {} frames",
        decoded.frames_total
    );
    assert_eq!(
        decoded.frames[0].width, 2800,
        "the first frame keeps its size"
    );
    assert!(
        decoded.frames[1..]
            .iter()
            .all(|f| f.width.max(f.height) <= limits.max_kept_side),
        "later frames are scaled down"
    );
    // The decoder's two RGBA screens (the composite and what disposal
    // restores), the first frame in RGBA and in RGB, and small copies. Kept
    // at full size, the sixteen frames held would need more than twice this.
    let bound = 5 * 4 * screen as usize;
    assert!(peak < bound, "peak {peak} bytes, bound {bound}");
}
