#!/usr/bin/env python3
"""Hostile texts against `cleanweb check --jsonl`: each shape at n and 2n
characters; the time ratio says whether the engine is linear (about 2) or
quadratic (about 4). Usage: hostile_text.py BIN N"""
import json, subprocess, sys, tempfile, time

bin_, n = sys.argv[1], int(sys.argv[2])

SHAPES = {
    # A sound-alike that never passes the plausibility check.
    "sound-alike 涩晴": lambda k: "涩晴" * (k // 2),
    # Junk between the characters of a term.
    "split 色.情": lambda k: "色.情 " * (k // 4),
    # Links, each once a contact.
    "links": lambda k: "see x.com " * (k // 10),
    # Phone numbers.
    "phones": lambda k: "13800138000 " * (k // 12),
    # Allow words around terms.
    "allow words 颜色情况": lambda k: "颜色情况" * (k // 4),
    # Ordinary prose.
    "prose": lambda k: "今天天气很好，我们去公园散步。" * (k // 15),
}


def run(text):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write(json.dumps({"id": "x", "text": text}, ensure_ascii=False) + "\n")
        path = f.name
    best = None
    for _ in range(3):
        with open(path) as stdin:
            t = time.perf_counter()
            subprocess.run([bin_, "--data-dir", tempfile.mkdtemp(), "check", "--jsonl", "--no-store"],
                           stdin=stdin, stdout=subprocess.DEVNULL, check=True)
            d = time.perf_counter() - t
        best = d if best is None else min(best, d)
    return best


# Process start and engine build, subtracted from every time.
base = run("hello")
print(f"{'shape':<24} {'n chars':>9} {'t(n) s':>8} {'t(2n) s':>8} {'ratio':>6}")
for name, make in SHAPES.items():
    a = max(run(make(n)) - base, 1e-4)
    b = max(run(make(2 * n)) - base, 1e-4)
    print(f"{name:<24} {n:>9} {a:>8.3f} {b:>8.3f} {b / a:>6.2f}")
