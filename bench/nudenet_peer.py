#!/usr/bin/env python3
"""The NudeNet peer: nudenet 3.4.2's NudeDetector.detect_batch (OpenCV
decode and preprocessing, onnxruntime on the CPU) over every image in DIR,
in file-name order, after a warm-up on three of them. Prints one JSON line
with the timing and each file's detections.

Run: nudenet_peer.py DIR [--batch-size 4] [--threads T]
(--threads sets onnxruntime's intra-op thread count; by default the session
options are NudeNet's own, i.e. onnxruntime's defaults.)
"""
import argparse
import json
import os
import pathlib
import time

import onnxruntime

import nudenet
import nudenet.nudenet as nn_module

EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=pathlib.Path)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    files = sorted(p.name for p in args.dir.iterdir() if p.suffix.lower() in EXTS)
    paths = [str(args.dir / f) for f in files]
    if not paths:
        raise SystemExit(f"no images in {args.dir}")

    detector = nudenet.NudeDetector()
    if args.threads is not None:
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = args.threads
        model = os.path.join(os.path.dirname(nn_module.__file__), "320n.onnx")
        detector.onnx_session = onnxruntime.InferenceSession(
            model, sess_options=opts, providers=detector.onnx_session.get_providers()
        )

    detector.detect_batch(paths[:3], batch_size=args.batch_size)
    t = time.perf_counter()
    results = detector.detect_batch(paths, batch_size=args.batch_size)
    seconds = time.perf_counter() - t

    print(json.dumps({
        "peer": "nudenet 3.4.2 detect_batch",
        "images": len(paths),
        "seconds": seconds,
        "images_per_s": len(paths) / seconds,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "detections": dict(zip(files, results)),
    }))


if __name__ == "__main__":
    main()
