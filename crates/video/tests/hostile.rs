//! Decoding real and hostile files with the real ffmpeg: each bad file gets
//! a clear error in bounded time, and the process carries on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cleanweb_video::{Decoder, VideoError, VideoLimits};

/// A clip from ffmpeg's test sources, made once per test run.
fn clip(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg runs (scripts/deps installs it)");
    assert!(status.success(), "ffmpeg made {name}");
    out
}

fn testsrc(dir: &Path, name: &str, size: &str, rate: &str, secs: &str) -> PathBuf {
    let src = format!("testsrc2=size={size}:rate={rate}");
    clip(
        dir,
        name,
        &["-f", "lavfi", "-i", &src, "-t", secs, "-pix_fmt", "yuv420p"],
    )
}

fn decoder() -> Decoder {
    Decoder::locate(2).expect("ffmpeg and ffprobe are installed")
}

#[test]
fn a_clip_is_hashed_once_a_second_and_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = testsrc(dir.path(), "a.mp4", "320x240", "25", "3");
    let v = decoder()
        .decode_file(&mp4, &VideoLimits::default())
        .unwrap();
    let frames: Vec<u64> = v.hashes.iter().map(|h| h.index).collect();
    assert_eq!(frames, [0, 25, 50]);
    assert_eq!(v.hashes[2].time, 2.0);
    assert!(v.hashes.iter().all(|h| h.quality > 50), "{:?}", v.hashes);
    assert_eq!(
        (v.width, v.height, v.fps, v.codec.as_str()),
        (320, 240, 25.0, "h264")
    );
    assert!(v.container.contains("mp4"), "{}", v.container);
    assert!(v.truncated.is_none());
    // testsrc2 moves, so every hashed frame is distinct and sampled.
    assert_eq!(v.sampled.len(), 3);
    assert_eq!(v.sampled[1].index, 25);
    assert_eq!(
        (v.sampled[0].image.width, v.sampled[0].image.height),
        (320, 240)
    );

    // Other containers of the whitelist, at other rates and sizes.
    let webm = clip(
        dir.path(),
        "b.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=641x361:rate=30000/1001",
            "-t",
            "2.1",
            "-c:v",
            "libvpx",
            "-b:v",
            "300k",
        ],
    );
    let v = decoder()
        .decode_file(&webm, &VideoLimits::default())
        .unwrap();
    assert_eq!(
        v.hashes.iter().map(|h| h.index).collect::<Vec<_>>(),
        [0, 29, 58]
    );
    assert_eq!(v.sampled[0].image.width, v.width.min(720));
    let avi = testsrc(dir.path(), "c.avi", "176x144", "10", "1");
    assert_eq!(
        decoder()
            .decode_file(&avi, &VideoLimits::default())
            .unwrap()
            .hashes
            .len(),
        1
    );

    // Bytes take the same path through a private temporary file.
    let bytes = std::fs::read(&mp4).unwrap();
    let v = decoder()
        .decode_bytes(&bytes, &VideoLimits::default())
        .unwrap();
    assert_eq!(v.hashes.len(), 3);
}

#[test]
fn long_videos_are_read_up_to_the_limit_and_samples_spread_over_them() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = testsrc(dir.path(), "long.mp4", "160x120", "10", "40");
    let limits = VideoLimits {
        max_seconds: 30,
        max_frames: 4,
        ..VideoLimits::default()
    };
    let v = decoder().decode_file(&mp4, &limits).unwrap();
    assert_eq!(v.hashes.len(), 30, "30 s at one hash a second");
    assert!(
        v.truncated.as_deref().is_some_and(|t| t.contains("30 s")),
        "{:?}",
        v.truncated
    );
    let at: Vec<u64> = v.sampled.iter().map(|f| f.index).collect();
    assert_eq!(at.len(), 4);
    assert_eq!(at[0], 0);
    assert!(*at.last().unwrap() >= 150, "spread over the video: {at:?}");

    // A still picture held for seconds is sampled once.
    let still = clip(
        dir.path(),
        "still.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x3366cc:size=160x120:rate=10",
            "-t",
            "5",
            "-vf",
            "drawbox=x=10:y=10:w=60:h=40:color=yellow:t=fill",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let v = decoder()
        .decode_file(&still, &VideoLimits::default())
        .unwrap();
    assert_eq!((v.hashes.len(), v.sampled.len()), (5, 1));
}

fn refused(d: &Decoder, path: &Path, limits: &VideoLimits) -> VideoError {
    let started = Instant::now();
    let err = d.decode_file(path, limits).expect_err("refused");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{err} took {:?}",
        started.elapsed()
    );
    err
}

#[test]
fn hostile_files_get_clear_errors_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = decoder();
    let limits = VideoLimits::default();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };

    let empty = write("empty.mp4", b"");
    assert!(matches!(refused(&d, &empty, &limits), VideoError::Empty));

    let junk: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let junk = write("junk.mp4", &junk);
    assert!(matches!(
        refused(&d, &junk, &limits),
        VideoError::Unreadable(_)
    ));

    // A picture is no video, and its demuxer is not on the list.
    let png = write(
        "x.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde",
    );
    assert!(matches!(
        refused(&d, &png, &limits),
        VideoError::Unreadable(_)
    ));

    // Formats that open further inputs are refused before anything is read.
    let mp4 = testsrc(dir.path(), "ok.mp4", "160x120", "10", "2");
    let concat = write(
        "list.txt",
        format!("ffconcat version 1.0\nfile '{}'\n", mp4.display()).as_bytes(),
    );
    let err = refused(&d, &concat, &limits);
    assert!(matches!(err, VideoError::Unreadable(_)), "{err}");
    let hls = write(
        "list.m3u8",
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{}\n#EXT-X-ENDLIST\n",
            mp4.display()
        )
        .as_bytes(),
    );
    assert!(matches!(
        refused(&d, &hls, &limits),
        VideoError::Unreadable(_)
    ));
    // A name that reads like a protocol is only ever a local file.
    let odd = dir.path().join("concat:x|y.mp4");
    std::fs::copy(&mp4, &odd).unwrap();
    assert_eq!(d.decode_file(&odd, &limits).unwrap().hashes.len(), 2);

    // A truncated file gives the frames before the cut, or a clear error.
    let whole = std::fs::read(&mp4).unwrap();
    let cut = write("cut.mp4", &whole[..whole.len() / 2]);
    match d.decode_file(&cut, &limits) {
        Ok(v) => assert!(v.hashes.len() <= 2),
        Err(e) => assert!(matches!(e, VideoError::Unreadable(_)), "{e}"),
    }
    // The moov box lost from the front: the header lies about the rest.
    let mut lying = whole.clone();
    lying[4..8].copy_from_slice(b"moov");
    let lying = write("lying.mp4", &lying);
    let started = Instant::now();
    match d.decode_file(&lying, &limits) {
        Ok(v) => assert!(v.hashes.len() <= 2),
        Err(e) => assert!(
            matches!(e, VideoError::Unreadable(_) | VideoError::NoVideoStream),
            "{e}"
        ),
    }
    assert!(started.elapsed() < Duration::from_secs(20));

    // Size, frame size, time and memory limits.
    let small = VideoLimits {
        max_bytes: 100,
        ..VideoLimits::default()
    };
    assert!(matches!(
        refused(&d, &mp4, &small),
        VideoError::TooLarge(_, 100)
    ));
    let few_pixels = VideoLimits {
        max_pixels: 10_000,
        ..VideoLimits::default()
    };
    assert!(matches!(
        refused(&d, &mp4, &few_pixels),
        VideoError::TooManyPixels {
            width: 160,
            height: 120,
            ..
        }
    ));
    let no_time = VideoLimits {
        max_time: Duration::ZERO,
        ..VideoLimits::default()
    };
    assert!(matches!(
        refused(&d, &mp4, &no_time),
        VideoError::TimeLimit(_)
    ));
    // The address-space limit is on the child: ffprobe cannot even load.
    let no_memory = VideoLimits {
        max_memory: 4 << 20,
        ..VideoLimits::default()
    };
    let err = refused(&d, &mp4, &no_memory);
    assert!(
        matches!(err, VideoError::Unreadable(_) | VideoError::Decoder(_)),
        "{err}"
    );

    // And the process is fine afterwards.
    assert_eq!(d.decode_file(&mp4, &limits).unwrap().hashes.len(), 2);
}
