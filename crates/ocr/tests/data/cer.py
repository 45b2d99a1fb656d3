#!/usr/bin/env python3
"""Character error rate of RapidOCR's goldens (and optionally of our outputs) against ground truth.

    python3 cer.py [goldens.json] [ours.jsonl] [--keep-spaces] [--per-picture]

ours.jsonl: one JSON object a line, {"file": ..., "lines": [{"text": ...}, ...]}.
For every picture the recognised lines are joined in the order given (reading
order) and compared with the joined truth lines by Levenshtein distance over
characters. CER = sum of distances / sum of truth characters over all pictures.
Whitespace is removed before comparing unless --keep-spaces is given (spaces
between Chinese words are not reliably produced by any CJK recogniser).
A picture whose truth is empty contributes its insertions (false text) to the
distance and nothing to the denominator. Pure Python, no dependencies.
"""

import json
import sys
from pathlib import Path


def edit_distance(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def norm(lines, keep_spaces):
    s = "".join(lines)
    return s if keep_spaces else "".join(s.split())


def score(goldens, outputs, keep_spaces=False):
    """outputs: {file: [text, ...]}; returns (cer, dist, chars, per_picture)."""
    dist = chars = 0
    per = []
    for g in goldens:
        truth = norm(g["truth"], keep_spaces)
        hyp = norm(outputs.get(g["file"], []), keep_spaces)
        d = edit_distance(truth, hyp)
        dist += d
        chars += len(truth)
        per.append((g["file"], d, len(truth)))
    return (dist / chars if chars else 0.0), dist, chars, per


def load_ours(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                o = json.loads(line)
                out[o["file"]] = [l["text"] for l in o.get("lines", [])]
    return out


def report(goldens, ours=None, keep_spaces=False, per_picture=False):
    rapid = {g["file"]: [l["text"] for l in g["lines"]] for g in goldens}
    runs = [("rapidocr", rapid)]
    if ours is not None:
        missing = [g["file"] for g in goldens if g["file"] not in ours]
        if missing:
            print(f"ours: no output for {len(missing)} pictures: {', '.join(missing)}")
        runs.append(("ours", ours))
    for name, outs in runs:
        c, d, n, per = score(goldens, outs, keep_spaces)
        print(f"CER {name}: {c:.4f} ({d} edits / {n} truth chars, {len(goldens)} pictures"
              f"{', spaces kept' if keep_spaces else ', whitespace ignored'})")
        if per_picture:
            for f, pd, pn in per:
                print(f"   {f}: {pd}/{pn}")
    if ours is not None:
        same = sum(1 for g in goldens if ours.get(g["file"]) == rapid[g["file"]])
        print(f"ours identical to rapidocr (line texts): {same}/{len(goldens)} pictures")


def main(argv):
    flags = {a for a in argv if a.startswith("--")}
    pos = [a for a in argv if not a.startswith("--")]
    gpath = Path(pos[0]) if pos else Path(__file__).resolve().parent / "goldens.json"
    goldens = json.loads(gpath.read_text(encoding="utf-8"))
    ours = load_ours(pos[1]) if len(pos) > 1 else None
    report(goldens, ours, "--keep-spaces" in flags, "--per-picture" in flags)


if __name__ == "__main__":
    main(sys.argv[1:])
