#!/usr/bin/env python3
"""The vPDQ peer: Meta's reference vpdq 0.2.5 (computeHash, one hash a
second, thread_count 0 = its own choice of threads) on one video. Prints
its hashes in the reference's text format, one line per frame."""
import sys

import vpdq

for f in vpdq.computeHash(sys.argv[1], seconds_per_hash=1.0):
    print(f"{f.frame_number},{f.quality},{f.hex},{f.timestamp:.3f}")
