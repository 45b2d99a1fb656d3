#!/usr/bin/env python3
"""Generates the sweep benchmark tree, deterministically: N small files in
100 folders, 85% text posts (10% of them explicit), 10% HTML pages (10%
explicit), 4% benign images (copies of the project's PD/CC0 fixtures), 1%
binary junk (counted as errors). Writes DIR.expect.json with the planted
counts. Does nothing if DIR already exists.

Run: gen_sweep_tree.py DIR N
"""
import json
import pathlib
import random
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMAGES = sorted((ROOT / "crates/nudity/tests/data/images").glob("*.png"))


def main():
    out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    if out.exists():
        print(f"{out} exists")
        return
    rng = random.Random(7)
    words = "the a market weather recipe bread garden school travel photo city river music book".split()
    explicit = ["hot porn videos", "hardcore sex tonight", "约炮 上门服务", "nude photos of her"]
    counts = {"explicit": 0, "binary": 0, "images": 0, "files": n}
    tmp = out.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for i in range(n):
        d = tmp / f"f{i % 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        r = rng.random()
        body = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
        bad = rng.random() < 0.10
        if bad and r < 0.95:
            body += " " + rng.choice(explicit)
            counts["explicit"] += 1
        if r < 0.85:
            (d / f"post{i:07d}.txt").write_text(body)
        elif r < 0.95:
            (d / f"page{i:07d}.html").write_text(f"<!doctype html><html><body><p>{body}</p></body></html>")
        elif r < 0.99:
            shutil.copy(IMAGES[i % len(IMAGES)], d / f"img{i:07d}.png")
            counts["images"] += 1
        else:
            (d / f"blob{i:07d}.bin").write_bytes(bytes([0xFF, 0xFE]) + rng.randbytes(64))
            counts["binary"] += 1
    tmp.rename(out)
    pathlib.Path(str(out) + ".expect.json").write_text(json.dumps(counts))
    print(f"{n} files in {out}: {counts}")


if __name__ == "__main__":
    main()
