#!/usr/bin/env python3
"""Generates the image benchmark inputs, deterministically for a seed:
N benign photos of mixed sizes (short side ~200-1500 px, long side up to
2500, aspect 0.5-2), ~80% JPEG q85 and ~20% PNG, made by random crops,
rescales and flips of public-domain and CC0 sample photos that ship in the
scikit-image wheel (astronaut, coffee, chelsea, rocket, camera, Hubble deep
field, retina; motorcycle_left states no licence, so it is left out).

Run: gen_images.py DIR N SEED   (needs numpy, Pillow, scikit-image)
Does nothing but report if DIR already holds the N images.
"""
import math
import pathlib
import random
import sys

import skimage.data
from PIL import Image, ImageOps

SAMPLES = pathlib.Path(skimage.data.__file__).resolve().parent
# All PD or CC0 per the docstrings in skimage/data/_fetchers.py.
SOURCES = [
    "astronaut.png",          # NASA, public domain
    "coffee.png",             # Rachel Michetti, CC0
    "chelsea.png",            # Stefan van der Walt, CC0
    "rocket.jpg",             # SpaceX, public domain
    "camera.png",             # Lav Varshney, CC0 (grayscale)
    "hubble_deep_field.jpg",  # NASA, public domain
    "retina.jpg",             # Mikael Häggström, CC0
]


def names(n, seed):
    # Decided before any image is made, so an existing set can be recognised.
    rng = random.Random(f"formats-{seed}")
    return [f"img_{i:05d}.{'png' if rng.random() < 0.2 else 'jpg'}" for i in range(n)]


def make(rng, sources):
    src = sources[rng.randrange(len(sources))]
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))  # width / height
    short = rng.uniform(200, 1500)
    long_ = min(short * max(aspect, 1 / aspect), 2500)
    short = long_ / max(aspect, 1 / aspect)
    w, h = (long_, short) if aspect >= 1 else (short, long_)
    w, h = max(1, round(w)), max(1, round(h))
    # The largest crop of the source with the target aspect, scaled by 0.4-1.
    sw, sh = src.size
    cw = min(sw, sh * w / h)
    ch = cw * h / w
    f = rng.uniform(0.4, 1.0)
    cw, ch = max(1, cw * f), max(1, ch * f)
    x0, y0 = rng.uniform(0, sw - cw), rng.uniform(0, sh - ch)
    img = src.crop((round(x0), round(y0), round(x0 + cw), round(y0 + ch)))
    filt = rng.choice([Image.BILINEAR, Image.BICUBIC, Image.LANCZOS])
    img = img.resize((w, h), filt)
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
    if rng.random() < 0.15:
        img = ImageOps.flip(img)
    return img


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, n, seed = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    files = names(n, seed)
    if all((out / f).exists() for f in files):
        print(f"{out} already holds the {n} images", file=sys.stderr)
    else:
        sources = [Image.open(SAMPLES / s) for s in SOURCES]
        for s in sources:
            s.load()
        sources = [s if s.mode in ("RGB", "L") else s.convert("RGB") for s in sources]
        rng = random.Random(seed)
        for f in files:
            img = make(rng, sources)
            if f.endswith(".jpg"):
                img.save(out / f, quality=85)
            else:
                img.save(out / f, compress_level=6)
    pixels = nbytes = 0
    for f in files:
        with Image.open(out / f) as im:
            pixels += im.width * im.height
        nbytes += (out / f).stat().st_size
    print(f"{n} images, {pixels} pixels ({pixels / 1e6:.1f} MP), {nbytes} bytes ({nbytes / 1e6:.1f} MB) in {out}")


if __name__ == "__main__":
    main()
