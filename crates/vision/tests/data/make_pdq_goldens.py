#!/usr/bin/env python3
"""Makes the benign PDQ fixtures and their golden hashes.

Fixtures are synthetic (gradients, shapes, noise, text-free), generated here
with a fixed seed, saved as PNG. Golden hashes come from the `pdqhash`
package, which wraps Meta's reference C++ core (pdqHash256FromFloatLuma),
fed the same RGB pixels the Rust side decodes.

Run: scripts/pdq-goldens   (installs pdqhash, numpy and Pillow in a venv)
"""
import json
import pathlib
import sys

import numpy as np
import pdqhash
from PIL import Image, ImageDraw

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "pdq"


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


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261129)
    goldens = {}
    for name, img in fixtures(rng):
        path = OUT / f"{name}.png"
        img.save(path, optimize=True)
        # Hash exactly what a decoder gets back: RGB, alpha dropped.
        rgb = np.array(Image.open(path).convert("RGB"))
        bits, quality = pdqhash.compute(rgb)
        hex_hash = f"{int(''.join(str(int(b)) for b in bits), 2):064x}"
        dihedral, _ = pdqhash.compute_dihedral(rgb)
        goldens[name] = {
            "file": path.name,
            "pdq": hex_hash,
            "quality": int(quality),
            "dihedral": [f"{int(''.join(str(int(b)) for b in v), 2):064x}" for v in dihedral],
        }
    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(goldens)} fixtures and goldens to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
