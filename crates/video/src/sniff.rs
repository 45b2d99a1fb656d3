//! Telling a video file by its first bytes, for sweeps that meet files of
//! every kind. Only the containers the decoder accepts are recognised.

/// Whether `bytes` start like a container on the decoder's list: MP4/MOV/3GP
/// (`ftyp`, or a QuickTime `moov`/`mdat`/`free`/`wide` box first),
/// Matroska/WebM (EBML), AVI (RIFF AVI), FLV, or MPEG-TS (sync bytes every
/// 188).
pub fn is_video(bytes: &[u8]) -> bool {
    let at = |i: usize, tag: &[u8]| bytes.get(i..i + tag.len()) == Some(tag);
    if at(4, b"ftyp") {
        // Still-image brands (HEIF/AVIF) share the box; they are pictures.
        let brand = bytes.get(8..12).unwrap_or_default();
        return !matches!(
            brand,
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"avif" | b"avis"
        );
    }
    if ["moov", "mdat", "free", "wide"]
        .iter()
        .any(|t| at(4, t.as_bytes()))
    {
        return true;
    }
    if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) || at(0, b"FLV\x01") {
        return true;
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return true;
    }
    bytes.len() >= 188 * 3 && (0..3).all(|k| bytes[k * 188] == 0x47)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_from_pictures_and_text() {
        assert!(is_video(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"));
        assert!(is_video(b"\0\0\0\x14ftyp3gp4\0\0\0\0"));
        assert!(!is_video(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"));
        assert!(is_video(&[0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]));
        assert!(is_video(b"RIFF\x10\0\0\0AVI LIST"));
        assert!(!is_video(b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(is_video(b"FLV\x01\x05\0\0\0\x09"));
        let mut ts = vec![0u8; 188 * 3];
        (0..3).for_each(|k| ts[k * 188] = 0x47);
        assert!(is_video(&ts));
        assert!(!is_video(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_video(b"hello world, this is text"));
        assert!(!is_video(b""));
    }
}
