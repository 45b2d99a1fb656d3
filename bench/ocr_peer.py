"""RapidOCR 3.10.0 (Python, onnxruntime) over pictures, as the OCR peer.

Usage: ocr_peer.py ROUNDS OUT.jsonl PICTURE...

With PEER_DET=max:960 in the environment, detection runs as cleanweb's
`ocr_detect = "fast"` does (limit_type max, limit_side_len 960).

Loads the engine once, reads every picture ROUNDS times in order, and
prints the seconds spent (model loading excluded) and pictures per second.
The last round's lines go to OUT.jsonl as {"file", "lines": [{"text"}]},
the form crates/ocr/tests/data/cer.py reads.
"""
import json
import os
import sys
import time

from rapidocr import RapidOCR


def main():
    rounds = int(sys.argv[1])
    out_path = sys.argv[2]
    files = sys.argv[3:]
    params = {"Global.log_level": "error"}
    if os.environ.get("PEER_DET"):
        kind, side = os.environ["PEER_DET"].split(":")
        params.update({"Det.limit_type": kind, "Det.limit_side_len": int(side)})
    engine = RapidOCR(params=params)
    engine(files[0])  # warm-up: first-call allocations
    results = {}
    started = time.perf_counter()
    for _ in range(rounds):
        for f in files:
            r = engine(f)
            results[f] = list(r.txts) if r.txts is not None else []
    spent = time.perf_counter() - started
    with open(out_path, "w", encoding="utf-8") as out:
        for f in files:
            out.write(json.dumps({"file": os.path.basename(f),
                                  "lines": [{"text": t} for t in results[f]]},
                                 ensure_ascii=False) + "\n")
    n = rounds * len(files)
    print(f"rapidocr {n} pictures in {spent:.2f} s: {n / spent:.2f} pictures/s")


if __name__ == "__main__":
    main()
