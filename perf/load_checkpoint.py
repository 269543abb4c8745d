#!/usr/bin/python3
"""Load an occam checkpoint (safetensors, written by `occam train --save`) with numpy alone and
recompute the test accuracy on the IDX data its config names (the held-out training rows
under data.holdout), scaled as occam scales it, so models can be taken elsewhere without
occam.

    /usr/bin/python3 perf/load_checkpoint.py MODEL.safetensors [--data DIR]

The effective config travels in the file's __metadata__ ("config"); the tensors are
layers.L.weight (out x in), layers.L.bias and, for pruned models, layers.L.weight_mask (u8).
Prints one JSON line: {"layers": [...], "test_samples": N, "test_accuracy": A}.
"""
import argparse
import gzip
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "U8": "u1", "U32": "<u4", "I64": "<i8",
          "U64": "<u8"}


def read_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    meta = head.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, v in head.items():
        s, e = v["data_offsets"]
        tensors[name] = np.frombuffer(b[base + s:base + e], DTYPES[v["dtype"]]).reshape(v["shape"])
    return tensors, meta


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        b = f.read()
    magic, = struct.unpack(">I", b[:4])
    dims = magic & 0xff
    shape = struct.unpack(">" + "I" * dims, b[4:4 + 4 * dims])
    return np.frombuffer(b[4 + 4 * dims:], np.uint8).reshape(shape)


def find(d, stem):
    import os
    for p in (f"{d}/{stem}", f"{d}/{stem}.gz"):
        if os.path.exists(p):
            return p
    sys.exit(f"load_checkpoint: neither {d}/{stem} nor {d}/{stem}.gz exists")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--data", help="IDX folder (default: data.path from the checkpoint's config)")
    a = ap.parse_args()
    t, meta = read_safetensors(a.checkpoint)
    cfg = json.loads(meta["config"])
    if cfg["data"]["source"] != "idx":
        sys.exit("load_checkpoint: only data.source = idx is supported by this script")
    d = a.data or cfg["data"]["path"]
    xtr = read_idx(find(d, "train-images-idx3-ubyte")).astype(np.float32)
    xtr = xtr.reshape(xtr.shape[0], -1)
    holdout = int(cfg["data"].get("holdout", 0))
    if holdout > 0:  # the last K training rows test, and the statistics are the others'
        ytr = read_idx(find(d, "train-labels-idx1-ubyte")).astype(np.int64)
        xte, yte = xtr[-holdout:], ytr[-holdout:]
        xtr = xtr[:-holdout]
    else:
        xte = read_idx(find(d, "t10k-images-idx3-ubyte")).astype(np.float32)
        xte = xte.reshape(xte.shape[0], -1)
        yte = read_idx(find(d, "t10k-labels-idx1-ubyte")).astype(np.int64)
    norm = cfg["data"]["normalize"]
    if norm == "scale":  # the training set's max |x|, as occam does
        m = float(np.abs(xtr).max()) or 1.0
        xte = xte / np.float32(m)
    elif norm == "standardize":  # per feature, training statistics, population std
        mu = xtr.astype(np.float64).mean(0)
        sd = xtr.astype(np.float64).std(0)
        # a feature constant over the training rows is 0 in every row, as occam makes it
        z = np.divide(xte - mu, sd, out=np.zeros(xte.shape), where=sd > 0)
        xte = z.astype(np.float32)
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
           "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[cfg["model"]["activation"]]
    L = sum(1 for k in t if k.endswith(".weight"))
    h = xte
    widths = [h.shape[1]]
    for l in range(L):
        w = t[f"layers.{l}.weight"].astype(np.float32)
        if f"layers.{l}.weight_mask" in t:
            w = w * t[f"layers.{l}.weight_mask"]
        h = h @ w.T + t[f"layers.{l}.bias"]
        widths.append(w.shape[0])
        if l + 1 < L:
            h = act(h)
    acc = float((h.argmax(1) == yte).mean())
    print(json.dumps({"layers": widths, "test_samples": int(len(yte)), "test_accuracy": acc}))


if __name__ == "__main__":
    main()
