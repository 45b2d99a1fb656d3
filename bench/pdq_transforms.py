#!/usr/bin/env python3
"""How far common benign edits move a PDQ hash, on the photo fixtures.

For each photo_*.jpg in crates/vision/tests/data/pdq, applies the usual
transforms with Pillow and prints, as a markdown table, the Hamming distance
between the PDQ hash (pdqhash, Meta's reference core) of the original and of
the transformed image, and how many photos stay matched at the threshold.
For the rotation and the flip, a second row gives the smallest distance over
the eight dihedral variants of the transformed image, as a matcher that also
tries those variants would see it.

Run: scripts/bench-pdq-transforms
"""
import argparse
import io
import pathlib

import numpy as np
import pdqhash
from PIL import Image, ImageEnhance, ImageOps

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/vision/tests/data/pdq"


def resize(f):
    def t(im):
        w, h = im.size
        return im.resize((max(1, round(w * f)), max(1, round(h * f))), Image.LANCZOS)
    return t


def jpeg(q):
    def t(im):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q)  # Pillow's defaults: 4:2:0 chroma
        buf.seek(0)
        return Image.open(buf).convert("RGB")
    return t


def crop(f):
    """Cuts f of the width from the left and from the right, f of the height
    from the top and from the bottom."""
    def t(im):
        w, h = im.size
        dx, dy = round(w * f), round(h * f)
        return im.crop((dx, dy, w - dx, h - dy))
    return t


def border(f, colour=(0, 0, 0)):
    """Adds a black frame, f of the width left and right, f of the height
    top and bottom."""
    def t(im):
        w, h = im.size
        return ImageOps.expand(im, (round(w * f), round(h * f)) * 2, fill=colour)
    return t


TRANSFORMS = [
    ("resize 50% (Lanczos)", resize(0.5)),
    ("resize 25% (Lanczos)", resize(0.25)),
    ("JPEG q90", jpeg(90)),
    ("JPEG q70", jpeg(70)),
    ("JPEG q50", jpeg(50)),
    ("crop 2% each side", crop(0.02)),
    ("crop 5% each side", crop(0.05)),
    ("crop 10% each side", crop(0.10)),
    ("rotate 90°", lambda im: im.transpose(Image.Transpose.ROTATE_90)),
    ("horizontal flip", lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    ("5% black border", border(0.05)),
    ("grayscale", lambda im: im.convert("L").convert("RGB")),
    ("brightness +20%", lambda im: ImageEnhance.Brightness(im).enhance(1.2)),
]
DIHEDRAL = {"rotate 90°", "horizontal flip"}


def as_int(bits):
    return int("".join(str(int(b)) for b in bits), 2)


def pdq(im):
    bits, quality = pdqhash.compute(np.asarray(im.convert("RGB")))
    return as_int(bits), int(quality)


def dihedral(im):
    variants, _ = pdqhash.compute_dihedral(np.asarray(im.convert("RGB")))
    return [as_int(v) for v in variants]


def distance(a, b):
    return bin(a ^ b).count("1")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=pathlib.Path, default=FIXTURES)
    ap.add_argument("--threshold", type=int, default=31)
    args = ap.parse_args()

    photos = sorted(args.fixtures.glob("photo_*.jpg"))
    if not photos:
        raise SystemExit(f"no photo_*.jpg in {args.fixtures}: run scripts/pdq-goldens")
    originals = {}
    for p in photos:
        with Image.open(p) as im:
            originals[p.stem.removeprefix("photo_")] = im.convert("RGB")
    names = list(originals)
    base = {n: pdq(im) for n, im in originals.items()}

    rows = []
    for label, transform in TRANSFORMS:
        changed = {n: transform(im) for n, im in originals.items()}
        rows.append((label, [distance(base[n][0], pdq(changed[n])[0]) for n in names]))
        if label in DIHEDRAL:
            rows.append((
                f"{label}, min over 8 dihedral",
                [min(distance(base[n][0], v) for v in dihedral(changed[n])) for n in names],
            ))

    t = args.threshold
    print(f"PDQ Hamming distance, original vs transformed (pdqhash {pdqhash_version()}); "
          f"matched = distance ≤ {t}\n")
    print("| transform | " + " | ".join(names) + f" | matched at ≤{t} |")
    print("| --- | " + " | ".join("---:" for _ in names) + " | ---: |")
    for label, ds in rows:
        matched = sum(d <= t for d in ds)
        print(f"| {label} | " + " | ".join(str(d) for d in ds) + f" | {matched}/{len(ds)} |")
    print("\nOriginals: " + ", ".join(
        f"{n} {originals[n].size[0]}x{originals[n].size[1]} quality {base[n][1]}" for n in names))


def pdqhash_version():
    try:
        from importlib.metadata import version
        return version("pdqhash")
    except Exception:  # noqa: BLE001 - only a label
        return "?"


if __name__ == "__main__":
    main()
