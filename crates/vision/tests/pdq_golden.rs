//! PDQ against the reference core: every fixture's hash, quality and eight
//! dihedral hashes equal the goldens `scripts/pdq-goldens` made with the
//! `pdqhash` package (Meta's C++ core) from the same pixels.

use cleanweb_vision::{DecodeLimits, decode_rgb, luma_from_rgb, pdq, pdq_dihedral};

#[test]
fn hashes_are_bit_exact_with_the_reference() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pdq");
    let goldens: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("goldens.json")).unwrap()).unwrap();
    let goldens = goldens.as_object().unwrap();
    assert!(goldens.len() >= 10);
    let mut low_quality = 0;
    for (name, g) in goldens {
        let bytes = std::fs::read(dir.join(g["file"].as_str().unwrap())).unwrap();
        let rgb = decode_rgb(&bytes, &DecodeLimits::default()).unwrap();
        let (w, h) = (rgb.width as usize, rgb.height as usize);
        let luma = luma_from_rgb(&rgb.pixels, w, h);
        let (hash, quality) = pdq(&luma, h, w);
        assert_eq!(hash.to_string(), g["pdq"].as_str().unwrap(), "{name}: hash");
        assert_eq!(
            u64::from(quality),
            g["quality"].as_u64().unwrap(),
            "{name}: quality"
        );
        let (variants, _) = pdq_dihedral(&luma, h, w);
        let want: Vec<&str> = g["dihedral"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
        assert_eq!(got, want, "{name}: dihedral");
        if quality < 50 {
            low_quality += 1;
        }
    }
    assert!(low_quality >= 2, "the fixtures include low-quality images");
}
