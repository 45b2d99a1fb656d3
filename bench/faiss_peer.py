#!/usr/bin/env python3
"""The PDQ-index peer: FAISS, the library behind Meta's HMA (hasher-matcher-
actioner, via python-threatexchange), on the exact hashes and queries that
`bench-mih N DATA --dump DIR` benchmarks.

Usage: faiss_peer.py DIR [--flat-queries K] [--mih-queries K]
       faiss_peer.py --selftest

DIR holds hashes.bin (N x 32 bytes) and queries.bin (2000 x 32 bytes), as
the Rust benchmark writes them (each hash sixteen little-endian u16 words).

Two indexes, built and measured one after the other (the first freed before
the second is built, so each RSS delta is its own):

* `faiss.IndexBinaryFlat(256)`: exhaustive, exact; the ground truth.
* `faiss.IndexBinaryMultiHash(256, 16, 16)` with `nflip = 1`: HMA's
  configuration. python-threatexchange's `PDQMultiHashIndex` (what its
  `PDQIndex`, threshold 31, wraps) builds `IndexBinaryMultiHash(256, nhash=16,
  b=256 // 16)` and, before each search, sets `nflip = threshold // nhash`,
  which at threshold 31 is 31 // 16 = 1. That is also the smallest exact
  setting: 16 chunks of 16 bits, and if every chunk differed in 2 bits or more
  the distance would be at least 32, so any hash within 31 bits agrees with
  the query to within 1 bit in some chunk, and probing each chunk's bucket
  plus its 16 one-bit neighbours finds it. Expected recall is therefore 1.0.
  (FAISS's 16-bit chunks are bytes 2h..2h+1 read little-endian: the same
  words our index splits on.)

Radius: FAISS's binary `range_search(x, radius)` keeps hits with distance
strictly below `radius` (`dis < radius` in IndexBinaryHash.cpp and the flat
Hamming range search), so distance <= 31 is `range_search(q, 32)`, which is
also what HMA passes (`threshold + 1`). `--selftest` checks this on planted
hashes at 0, 1, 30, 31, 32 and 33 bits, including a 31-bit one spread as
2 bits in 15 chunks and 1 in the last (the worst case for nflip = 1).

Timing: one core (`faiss.omp_set_num_threads(1)`; the script also runs under
`taskset -c 0`). Each index answers the first K queries in one batched
`range_search` call: FAISS's most favourable path (HMA calls it per query,
plus hex decoding), and at these per-query costs Python's per-call overhead
would not matter anyway. Defaults: flat 50 queries, MIH 200.

Recall: MIH against flat on the queries both answered (the first
min(Kflat, Kmih)). Flat is exact by construction; it is cross-checked against
a numpy brute force on its first 3 queries (`flat_recall`, `flat_false_hits`
over `flat_checked` queries).

Memory: VmRSS from /proc/self/status, the delta around constructing and
filling each index (the input array itself is loaded before, and is not
counted, like the Rust side's), and VmHWM (peak RSS of the whole process).

Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time

import faiss
import numpy as np

RADIUS = 32  # strict "<": distance <= 31
NHASH, B, NFLIP = 16, 16, 1  # HMA: nhash 16, b = 256 // 16, nflip = 31 // 16


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise KeyError(field)


def load(path):
    a = np.fromfile(path, dtype=np.uint8)
    assert a.size % 32 == 0, f"{path}: not a whole number of 32-byte hashes"
    return a.reshape(-1, 32)


def make_mih():
    index = faiss.IndexBinaryMultiHash(256, NHASH, B)
    index.nflip = NFLIP
    return index


def build(make, hashes):
    base = status_mb("VmRSS")
    t = time.perf_counter()
    index = make()
    index.add(hashes)
    return index, time.perf_counter() - t, status_mb("VmRSS") - base


def query(index, queries):
    t = time.perf_counter()
    lims, _dist, ids = index.range_search(queries, RADIUS)
    elapsed = time.perf_counter() - t
    hits = [set(ids[lims[i]:lims[i + 1]].tolist()) for i in range(len(queries))]
    return hits, len(queries) / elapsed


def brute(hashes, q, chunk=1 << 20):
    """Ids within 31 bits of q, by numpy (bitwise_count of XOR), in chunks."""
    out = set()
    for s in range(0, len(hashes), chunk):
        d = np.bitwise_count(hashes[s:s + chunk] ^ q).sum(axis=1, dtype=np.int32)
        out.update((np.nonzero(d <= 31)[0] + s).tolist())
    return out


def selftest():
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(1)
    q = rng.integers(0, 256, (1, 32), dtype=np.uint8)
    qbits = np.unpackbits(q[0])
    db, dists = [], []
    for d in (0, 1, 30, 31, 32, 33):
        b = qbits.copy()
        b[rng.choice(256, d, replace=False)] ^= 1
        db.append(np.packbits(b))
        dists.append(d)
    # Worst case for nflip = 1: two bits in each of 15 16-bit chunks, one in
    # the 16th (31 bits), and two in every chunk (32 bits).
    for last in (1, 2):
        b = qbits.copy()
        for c in range(16):
            for k in rng.choice(16, 2 if c < 15 else last, replace=False):
                b[16 * c + k] ^= 1
        db.append(np.packbits(b))
        dists.append(30 + last)
    db = np.array(db, dtype=np.uint8)
    assert np.bitwise_count(db ^ q).sum(axis=1).tolist() == dists
    want = sorted(i for i, d in enumerate(dists) if d <= 31)
    for name, make in (("flat", lambda: faiss.IndexBinaryFlat(256)), ("mih", make_mih)):
        index = make()
        index.add(db)
        for radius, expect in ((31, [i for i in want if dists[i] < 31]), (32, want)):
            lims, _d, ids = index.range_search(q, radius)
            got = sorted(ids.tolist())
            print(f"{name} range_search radius {radius}: distances "
                  f"{sorted(dists[i] for i in got)}")
            assert got == expect, (name, radius, got, expect)
    print("selftest passed: radius is strict, 32 keeps <= 31; nflip=1 finds the 31-bit worst case")


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--flat-queries", type=int, default=50)
    ap.add_argument("--mih-queries", type=int, default=200)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    hashes = load(os.path.join(args.dir, "hashes.bin"))
    queries = load(os.path.join(args.dir, "queries.bin"))
    kf, km = min(args.flat_queries, len(queries)), min(args.mih_queries, len(queries))

    flat, flat_build, flat_mb = build(lambda: faiss.IndexBinaryFlat(256), hashes)
    flat_hits, flat_qps = query(flat, queries[:kf])
    del flat

    checked = min(3, kf)
    truth = [brute(hashes, queries[i]) for i in range(checked)]
    truth_n = sum(len(t) for t in truth)
    flat_recall = sum(len(t & flat_hits[i]) for i, t in enumerate(truth)) / truth_n if truth_n else 1.0
    flat_extra = sum(len(flat_hits[i] - t) for i, t in enumerate(truth))

    mih, mih_build, mih_mb = build(make_mih, hashes)
    mih_hits, mih_qps = query(mih, queries[:km])
    del mih

    k = min(kf, km)
    expected = sum(len(flat_hits[i]) for i in range(k))
    found = sum(len(flat_hits[i] & mih_hits[i]) for i in range(k))
    print(json.dumps({
        "peer": f"faiss {faiss.__version__}",
        "n": len(hashes),
        "flat_qps": flat_qps, "flat_queries": kf,
        "mih_qps": mih_qps, "mih_queries": km,
        "mih_config": {"nhash": NHASH, "b": B, "nflip": NFLIP, "radius": RADIUS},
        "flat_recall": flat_recall, "flat_checked": checked,
        "flat_false_hits": flat_extra,
        "mih_recall": found / expected if expected else 1.0,
        "recall_queries": k, "recall_expected": expected,
        "mih_matches": sum(len(h) for h in mih_hits),
        "flat_index_mb": flat_mb, "mih_index_mb": mih_mb,
        "peak_rss_mb": status_mb("VmHWM"),
        "build_s": {"flat": flat_build, "mih": mih_build},
    }))


if __name__ == "__main__":
    main()
