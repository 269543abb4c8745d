#!/usr/bin/python3
"""numpy peer for `occam bench select`: the k-th smallest of the same scores by
numpy.partition (introselect), timed the same way (median of R runs).

The scores come from a raw little-endian float32 file, normally the one that
`occam bench select --dump FILE` wrote, which already holds |x|; like occam's
--input, this takes absolute values again (a no-op then), so both select on the
same bits. Prints exactly one JSON line on stdout:

  {"peer": "numpy.partition", "n": ..., "k": ..., "kth_value": ..., "kth_bits": "0x...",
   "seconds": ...}

kth_value uses %.9g like occam, which identifies a float32 uniquely; kth_bits is
the exact bit pattern for a bitwise comparison.

  /usr/bin/python3 perf/select_peer.py --input /tmp/x.f32 [--k K] [--repeats R]
"""

import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True, help="raw little-endian float32 scores")
    ap.add_argument("--k", type=int, default=None, help="select the k smallest (default n/2)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
    args = ap.parse_args()

    size = os.path.getsize(args.input)
    if size == 0 or size % 4:
        sys.exit(f"select_peer: {args.input}: size {size} is not a positive multiple of 4")
    a = np.abs(np.fromfile(args.input, dtype="<f4"))
    n = a.size
    if np.isnan(a).any():
        sys.exit(f"select_peer: {args.input}: contains NaN")
    k = n // 2 if args.k is None else args.k
    if not 1 <= k <= n:
        sys.exit(f"select_peer: k = {k} must lie in [1, {n}]")
    if args.repeats < 1:
        sys.exit("select_peer: --repeats must be >= 1")

    seconds, kth = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        v = np.partition(a, k - 1)[k - 1]  # partition copies; a stays as read
        seconds.append(time.perf_counter() - t0)
        if kth is not None and v != kth:
            sys.exit("select_peer: runs disagree")
        kth = v

    bits = struct.unpack("<I", struct.pack("<f", float(kth)))[0]
    print(json.dumps({
        "peer": "numpy.partition",
        "numpy": np.__version__,
        "n": n,
        "k": k,
        "kth_value": float("%.9g" % kth),
        "kth_bits": f"0x{bits:08x}",
        "seconds": statistics.median(seconds),
    }))


if __name__ == "__main__":
    main()
