#!/usr/bin/env python3
"""Makes the benign NudeNet fixtures and the reference detector's goldens.

Fixtures are built from the public-domain and CC0 sample photos that ship in
the scikit-image wheel, plus a few synthetic images, to cover the decode
paths NudeNet meets in practice: JPEG and PNG, grayscale, RGBA, 16-bit,
EXIF orientation, wide, tall and tiny images. A fixture that already exists
is kept as it is (so the goldens stay put) unless --force is given.

Goldens come from NudeNet 3.4.2's own code on each fixture file:
`NudeDetector().detect(path)` for the detections, and its `_read_image` for
the 320x320 model input, hashed as the 8-bit values it was scaled from
(BGR planes, C order). Versions are pinned by the wrapper.

Run: scripts/nudenet-goldens   (makes a venv with the pinned packages)
"""
import argparse
import hashlib
import importlib.metadata
import json
import pathlib
import shutil
import sys

import cv2
import numpy as np
import onnxruntime
import skimage.data
from PIL import Image

import nudenet
import nudenet.nudenet as nn_module

HERE = pathlib.Path(__file__).resolve().parent
IMAGES = HERE / "images"
SAMPLES = pathlib.Path(skimage.data.__file__).resolve().parent

PD_NASA = "public domain (NASA; \"No known copyright restrictions, released into the public domain\")"
CC0 = "CC0"


def sample(name):
    return Image.open(SAMPLES / name)


def copy_sample(name):
    def make(path):
        shutil.copyfile(SAMPLES / name, path)
    return make


def astronaut_jpg(path):
    sample("astronaut.png").convert("RGB").save(path, quality=90)


def astronaut_256(path):
    # Saved as a 256-colour palette PNG: smaller, and it covers that decode path.
    img = sample("astronaut.png").convert("RGB").resize((256, 256), Image.LANCZOS)
    img.quantize(256).save(path, optimize=True)


def astronaut_exif6(path):
    # Upright: the top 384 rows (non-square, so the width/height swap shows).
    # Stored turned a quarter turn counter-clockwise; Orientation=6 tells a
    # viewer to turn it back clockwise, which shows the upright picture.
    upright = sample("astronaut.png").convert("RGB").crop((0, 0, 512, 384))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, quality=90, exif=exif.tobytes())


def coffee_jpg(path):
    sample("coffee.png").convert("RGB").save(path, quality=85)


def wide(path):
    # A 600x133 band of the cup, stretched to 900x200 (aspect 4.5).
    band = sample("coffee.png").convert("RGB").crop((0, 140, 600, 273))
    band.resize((900, 200), Image.LANCZOS).save(path, quality=85)


def tall(path):
    # A 122x427 strip around the rocket, upscaled to 180x700. Colours are
    # cut to 5 bits a channel so the PNG stays small.
    strip = sample("rocket.jpg").convert("RGB").crop((262, 0, 384, 427))
    a = np.array(strip.resize((180, 700), Image.LANCZOS)) & 0xF8
    Image.fromarray(a).save(path, optimize=True)


def tiny(path):
    rng = np.random.default_rng(3005)
    Image.fromarray(rng.integers(0, 256, (5, 3, 3), dtype=np.uint8)).save(path)


def sixteen_bit(path):
    # 16-bit RGB gradients whose low bytes vary, so truncating to 8 bits and
    # rounding to 8 bits give different pixels. cv2.imwrite takes BGR.
    h, w = 150, 200
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    r = x * 329
    g = y * 439
    b = 65535 - (x * 163 + y * 217)
    rgb = np.stack([r, g, b], -1).astype(np.uint16)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 9, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_DEFAULT]
    assert cv2.imwrite(str(path), rgb[:, :, ::-1].copy(), params)


# name -> (builder, source, licence)
FIXTURES = {
    "astronaut.jpg": (astronaut_jpg,
                      "scikit-image astronaut.png (Eileen Collins, NASA Great Images database), JPEG q90",
                      PD_NASA),
    "astronaut_256.png": (astronaut_256,
                          "scikit-image astronaut.png (Eileen Collins, NASA), resized to 256x256 (Lanczos), 256-colour palette",
                          PD_NASA),
    "astronaut_exif6.jpg": (astronaut_exif6,
                            "scikit-image astronaut.png (NASA), top 512x384 crop, stored rotated 90 degrees "
                            "counter-clockwise with EXIF Orientation=6, JPEG q90",
                            PD_NASA),
    "camera_gray.png": (copy_sample("camera.png"),
                        "scikit-image camera.png, unchanged (photographer Lav Varshney)",
                        CC0),
    "chelsea.png": (copy_sample("chelsea.png"),
                    "scikit-image chelsea.png, unchanged (photographer Stefan van der Walt)",
                    CC0),
    "chessboard_16bit.png": (sixteen_bit,
                             "synthetic, made by make_goldens.py (16-bit RGB gradients; scikit-image's "
                             "chessboard_RGB.png states no licence, so it is not used)",
                             "synthetic"),
    "coffee.jpg": (coffee_jpg,
                   "scikit-image coffee.png (photographer Rachel Michetti, courtesy of Pikolo Espresso Bar), JPEG q85",
                   CC0),
    "horse_rgba.png": (copy_sample("horse.png"),
                       "scikit-image horse.png, unchanged (openclipart, Andreas Preuss (marauder))",
                       CC0),
    "rocket.jpg": (copy_sample("rocket.jpg"),
                   "scikit-image rocket.jpg, unchanged (DSCOVR launch on Falcon 9, SpaceX Photos on Flickr)",
                   "public domain (released into the public domain by SpaceX)"),
    "tall_180x700.png": (tall,
                         "scikit-image rocket.jpg (SpaceX), 122x427 crop upscaled to 180x700, 5 bits a channel",
                         "public domain (released into the public domain by SpaceX)"),
    "tiny_3x5.png": (tiny, "synthetic, made by make_goldens.py (random RGB, fixed seed)", "synthetic"),
    "wide_900x200.jpg": (wide,
                         "scikit-image coffee.png (Rachel Michetti), 600x133 crop resized to 900x200, JPEG q85",
                         CC0),
}


def write_licenses():
    lines = [
        "# Fixture images: sources and licences",
        "",
        "All are benign. Sample photos come from the data folder of the scikit-image",
        "wheel (skimage/data); authors and licences as stated in the docstrings of",
        "skimage/data/_fetchers.py. Made by make_goldens.py.",
        "",
        "| File | Source | Licence |",
        "| --- | --- | --- |",
    ]
    for name, (_, source, licence) in sorted(FIXTURES.items()):
        lines.append(f"| `{name}` | {source} | {licence} |")
    (IMAGES / "LICENSES.md").write_text("\n".join(lines) + "\n")


def make_fixtures(force):
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, (build, _, _) in sorted(FIXTURES.items()):
        path = IMAGES / name
        if force or not path.exists():
            build(path)
            print(f"made {name}", file=sys.stderr)
    write_licenses()


def golden(detector, path):
    mat = cv2.imread(str(path))
    blob = nn_module._read_image(str(path), 320)[0]
    assert blob.shape == (1, 3, 320, 320), blob.shape
    scaled = blob[0].astype(np.float64) * 255
    levels = np.rint(scaled)
    assert np.abs(scaled - levels).max() < 1e-3, f"{path.name}: blob is not 8-bit levels"
    return {
        "width": int(mat.shape[1]),
        "height": int(mat.shape[0]),
        "blob_sha256": hashlib.sha256(levels.astype(np.uint8).tobytes()).hexdigest(),
        "detections": detector.detect(str(path)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild fixtures that exist")
    args = ap.parse_args()
    make_fixtures(args.force)
    detector = nudenet.NudeDetector()
    fixtures = {}
    for name in sorted(FIXTURES):
        fixtures[name] = golden(detector, IMAGES / name)
        dets = ", ".join(f"{d['class']} {d['score']:.3f}" for d in fixtures[name]["detections"])
        print(f"{name}: {fixtures[name]['width']}x{fixtures[name]['height']} [{dets}]", file=sys.stderr)
    out = {
        "generator": {
            "nudenet": importlib.metadata.version("nudenet"),
            "onnxruntime": onnxruntime.__version__,
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
        "fixtures": fixtures,
    }
    (HERE / "goldens.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(fixtures)} goldens to {HERE / 'goldens.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
