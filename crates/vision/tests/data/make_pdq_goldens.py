#!/usr/bin/env python3
"""Makes the benign PDQ fixtures and their golden hashes.

Two kinds of fixture:

- synthetic (gradients, shapes, noise, text-free), generated here with a
  fixed seed, saved as PNG;
- photographs: public-domain and CC0 sample photos shipped in the
  scikit-image wheel (see LICENSES.md), downscaled to at most 512 px and
  saved as JPEG (photo_*.jpg), plus one CMYK JPEG (cmyk_*.jpg) that Pillow
  writes Adobe-style (inverted CMYK, APP14 transform 0).

Golden hashes come from the `pdqhash` package, which wraps Meta's reference
C++ core (pdqHash256FromFloatLuma), fed the RGB pixels Pillow decodes from
each saved file (alpha dropped, grayscale replicated). Each entry also keeps
`rgb_sha256`, the SHA-256 of those RGB bytes (row-major, 3 bytes a pixel),
so a test can tell a decoder that disagrees with Pillow (JPEG decoders may
differ by an LSB here and there) from a hash that disagrees with the core.

Run: scripts/pdq-goldens   (installs pinned pdqhash, numpy, Pillow and
scikit-image in a venv)
"""
import hashlib
import json
import pathlib
import sys

import numpy as np
import pdqhash
import skimage.data
from PIL import Image, ImageDraw

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "pdq"

# Photos from scikit-image's data folder: fixture stem, file there.
PHOTOS = [
    ("astronaut", "astronaut.png"),
    ("coffee", "coffee.png"),
    ("chelsea", "chelsea.png"),
    ("rocket", "rocket.jpg"),
    ("camera", "camera.png"),
]
# The photo the CMYK fixture is made from.
CMYK_FROM = "chelsea"
JPEG_QUALITY = 88
MAX_SIDE = 512


def fixtures(rng):
    def gradient(w, h):
        x = np.linspace(0, 255, w)[None, :].repeat(h, 0)
        y = np.linspace(0, 255, h)[:, None].repeat(w, 1)
        return np.stack([x, y, (x + y) / 2], -1).astype(np.uint8)

    yield "gradient_1024x768", Image.fromarray(gradient(1024, 768))
    yield "gradient_tall_200x900", Image.fromarray(gradient(200, 900))
    img = Image.new("RGB", (640, 480), (30, 60, 90))
    d = ImageDraw.Draw(img)
    for k in range(40):
        x, y = int(rng.integers(0, 600)), int(rng.integers(0, 440))
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        d.ellipse([x, y, x + int(rng.integers(10, 120)), y + int(rng.integers(10, 120))], fill=c)
    yield "shapes_640x480", img
    yield "noise_300x300", Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))
    yield "flat_gray_256x256", Image.new("RGB", (256, 256), (128, 128, 128))
    yield "tiny_4x4", Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    yield "small_5x7", Image.fromarray(rng.integers(0, 256, (7, 5, 3), dtype=np.uint8))
    g = Image.fromarray(gradient(333, 211)).convert("L")
    yield "grayscale_333x211", g
    rgba = Image.fromarray(gradient(257, 129)).convert("RGBA")
    a = np.array(rgba)
    a[:, :, 3] = rng.integers(0, 256, (129, 257), dtype=np.uint8)
    yield "alpha_257x129", Image.fromarray(a, "RGBA")
    stripes = np.zeros((512, 512, 3), dtype=np.uint8)
    stripes[:, ::16] = 255
    stripes[::32, :] = (200, 40, 40)
    yield "stripes_512x512", Image.fromarray(stripes)
    yield "checker_129x65", Image.fromarray((np.indices((65, 129)).sum(0) % 2 * 255).astype(np.uint8)).convert("RGB")


def load_photo(filename):
    """A sample photo from scikit-image's wheel, longest side at most
    MAX_SIDE, as RGB (or L for a grayscale one), without its metadata."""
    src = pathlib.Path(skimage.data.__file__).resolve().parent / filename
    with Image.open(src) as im:
        im = im.convert("L" if im.mode in ("L", "I;16", "I") else "RGB")
    w, h = im.size
    if max(w, h) > MAX_SIDE:
        s = MAX_SIDE / max(w, h)
        im = im.resize((round(w * s), round(h * s)), Image.LANCZOS)
    # Pillow would carry the source's JPEG comment (camera firmware) along.
    im.info = {}
    return im


def photos():
    """(stem, image, JPEG save options). Chroma is kept at full resolution
    (4:4:4): JPEG decoders differ most in chroma upsampling, and the goldens
    are taken from Pillow's decode while the Rust side uses zune-jpeg."""
    loaded = {}
    for stem, filename in PHOTOS:
        im = load_photo(filename)
        loaded[stem] = im
        w, h = im.size
        yield f"photo_{stem}_{w}x{h}", im, {"quality": JPEG_QUALITY, "subsampling": 0}
    im = loaded[CMYK_FROM]
    w, h = im.size
    # Pillow writes CMYK JPEGs inverted, with an Adobe APP14 marker, as
    # Photoshop does; all four channels at full resolution.
    yield f"cmyk_{CMYK_FROM}_{w}x{h}", im.convert("CMYK"), {"quality": JPEG_QUALITY}


def hex256(bits):
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}"


def golden(path):
    # Hash exactly what a decoder gets back: RGB, alpha dropped.
    with Image.open(path) as im:
        rgb = np.ascontiguousarray(np.array(im.convert("RGB")), dtype=np.uint8)
    bits, quality = pdqhash.compute(rgb)
    dihedral, _ = pdqhash.compute_dihedral(rgb)
    return {
        "file": path.name,
        "pdq": hex256(bits),
        "quality": int(quality),
        "dihedral": [hex256(v) for v in dihedral],
        "rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261129)
    goldens = {}
    for name, img in fixtures(rng):
        path = OUT / f"{name}.png"
        img.save(path, optimize=True)
        goldens[name] = golden(path)
    for name, img, options in photos():
        path = OUT / f"{name}.jpg"
        img.save(path, "JPEG", **options)
        goldens[name] = golden(path)
    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(goldens)} fixtures and goldens to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
