#!/usr/bin/env python3
"""Python peers of the text benchmark: pyahocorasick and flashtext over the same
corpus and terms, one post (line) at a time, raw text (no normalization)."""
import json
import sys
import time

import ahocorasick
from flashtext import KeywordProcessor


def best_of(n, fn):
    best = None
    for _ in range(n):
        t = time.perf_counter()
        hits = fn()
        dt = time.perf_counter() - t
        best = dt if best is None or dt < best else best
    return best, hits


def main():
    corpus_path, terms_path = sys.argv[1], sys.argv[2]
    lines = open(corpus_path, encoding="utf-8").read().splitlines()
    size = sum(len(l.encode()) + 1 for l in lines)
    terms = [t for t in open(terms_path, encoding="utf-8").read().splitlines() if t]

    a = ahocorasick.Automaton()
    for i, t in enumerate(terms):
        a.add_word(t.lower(), i)
    a.make_automaton()

    def run_pyac():
        n = 0
        for l in lines:
            for _ in a.iter(l):
                n += 1
        return n

    kp = KeywordProcessor()
    for t in terms:
        kp.add_keyword(t)

    def run_flashtext():
        n = 0
        for l in lines:
            n += len(kp.extract_keywords(l))
        return n

    for name, fn in [("pyahocorasick", run_pyac), ("flashtext", run_flashtext)]:
        dt, hits = best_of(2, fn)
        print(json.dumps({"name": name, "mb_per_s": size / dt / 1e6, "seconds": dt, "hits": hits}))


if __name__ == "__main__":
    main()
