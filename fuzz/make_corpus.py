#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora in fuzz/corpus/<harness>/ (run from the repository root
after `make`; uses build/occam for the checkpoint and .occ seeds).

(It also builds build/fuzz_seed_grid, from fuzz/seed_grid.c, for the grid-coded .occ seeds.)
Each harness reads its own input layout (see the comment at the top of fuzz/fuzz_<name>.c):
  config      the INI file
  idx         mode byte (bit 0 gzip, bits 1..7 classes-1), u16 split, images file, labels file
  csv         options byte, classes-1 byte, the CSV file
  checkpoint  the safetensors (or .occ) file (the harness also fixes up its checksum)
  occ         mode byte (bit 0: harness fixes the file length and CRC-64), the .occ file
Seeds are small valid inputs; the whole corpus stays well under 100 KB."""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

OCCAM = "build/occam"
BLOBS = "configs/blobs.ini"
OUT = "fuzz/corpus"


def put(name, fname, data):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


def config_seeds():
    for c in ("blobs.ini", "default.ini", "mdl_prune.ini"):
        with open(os.path.join("configs", c), "rb") as f:
            put("config", c, f.read())
    # Every key at its default, from the key table, so the fuzzer starts from all the names.
    table = subprocess.run([OCCAM, "--config-keys"], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    lines, section = [], None
    for row in table:
        f = row.split()
        if len(f) < 3 or "." not in f[0] or f[0].endswith("."):
            continue
        sec, key = f[0].split(".", 1)
        value = f[3] if f[2] == "list" else f[2]
        if value == '""':
            value = ""
        if sec != section:
            lines.append(f"\n[{sec}]")
            section = sec
        lines.append(f"{key} = {value}")
    put("config", "all_keys.ini", ("\n".join(lines).lstrip() + "\n").encode())
    put("config", "csv.ini", b"; csv regression\n[data]\nsource = csv\ntrain = a.csv\n"
        b"task = regress\nlabel = first\n[model]\nlayers = 3,1\n")


def idx_pair(n, rows, cols, classes):
    img = struct.pack(">IIII", 0x803, n, rows, cols) + bytes((i * 37) & 0xFF
                                                            for i in range(n * rows * cols))
    lab = struct.pack(">II", 0x801, n) + bytes(i % classes for i in range(n))
    return img, lab


def idx_seeds():
    for n, r, c, classes in ((3, 2, 2, 10), (1, 1, 1, 1), (5, 3, 1, 2)):
        img, lab = idx_pair(n, r, c, classes)
        for gz in (0, 1):
            mode = (classes - 1) << 1 | gz
            put("idx", f"n{n}_{r}x{c}_c{classes}_{'gz' if gz else 'raw'}",
                bytes([mode]) + struct.pack(">H", len(img)) + img + lab)
    # Raw mode carrying gzip files: the reader inflates them, and mutations give damaged gzip
    # streams (the gzip mode always writes intact ones).
    img, lab = idx_pair(3, 2, 2, 10)
    img, lab = gzip.compress(img, mtime=0), gzip.compress(lab, mtime=0)
    put("idx", "n3_2x2_c10_gz_in_raw", bytes([9 << 1]) + struct.pack(">H", len(img)) + img + lab)


def csv_seeds():
    # options byte: bits 0-1 header (0 auto, 1 yes, 2 no), bit 2 regress, bits 3-7 label (0 last)
    seeds = {
        "classify_header_last": (0, 3, b"a,b,label\n1.5,2,0\n-3,4e-2,2\n\n0,0,1\n"),
        "classify_noheader_first": (2 | 1 << 3, 2, b"1,0.5,0.25\r\n0,1e3,-7\r\n"),
        "regress_bom_header": (1 | 4, 1, b"\xef\xbb\xbfx, y ,t\n 1 ,\t2,3.5\n4,5,-6e1\n"),
        "regress_col2": (4 | 2 << 3, 1, b"1,2,3,4\n5,6,7,8\n"),
    }
    for name, (opt, classes, text) in seeds.items():
        put("csv", name, bytes([opt, classes - 1]) + text)


def rows_checkpoint(path, tmp):
    """A copy of the 4-3-2 checkpoint at path whose first layer's mask is row by row's to send
    (hidden unit 0 keeps every input, units 1 and 2 none but a weight going out: 3 log2 5 bits
    against log2 C(12, 4) all at once), its checksum made anew (src/base/safetensors.c: CRC-32
    over the length, the header with its digits as 00000000, and the data)."""
    with open(path, "rb") as f:
        b = bytearray(f.read())
    hlen = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + hlen])
    base = 8 + hlen

    def put_tensor(name, values):
        lo, hi = head[name]["data_offsets"]
        fmt = {"F32": "<f", "U8": "<B"}[head[name]["dtype"]]
        for i, v in enumerate(values):
            struct.pack_into(fmt, b, base + lo + i * struct.calcsize(fmt), v)

    masks = {"layers.0.weight_mask": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
             "layers.1.weight_mask": [1, 1, 0, 0, 0, 1]}
    for name, mask in masks.items():
        put_tensor(name, mask)
        w = name.replace("_mask", "")
        lo, _ = head[w]["data_offsets"]
        put_tensor(w, [struct.unpack_from("<f", b, base + lo + 4 * i)[0] * m or 0.0
                       for i, m in enumerate(mask)])
    text = bytes(b[8:8 + hlen])
    at = text.index(b'"occam.checksum":"') + len(b'"occam.checksum":"') \
        if b'"occam.checksum":"' in text else text.index(b'"occam.checksum": "') + 19
    crc = zlib.crc32(bytes(b[:8]) + text[:at] + b"00000000" + text[at + 8:] + bytes(b[base:]))
    b[8 + at:8 + at + 8] = b"%08x" % crc
    out = os.path.join(tmp, "st_4_3_2_rows.safetensors")
    with open(out, "wb") as f:
        f.write(b)
    return out


def occ_seeds(name, args, checkpoint, occ):
    """Compresses checkpoint to occ with BLOBS and args, and puts the file as two seeds: with
    the harness fixing its length and checksum, and as it is. Returns its bytes."""
    subprocess.run([OCCAM, "compress", BLOBS, *args, "--checkpoint", checkpoint, "--out", occ],
                   check=True, capture_output=True)
    with open(occ, "rb") as f:
        data = f.read()
    put("occ", name + "_fixcrc", b"\x01" + data)
    put("occ", name + "_raw", b"\x00" + data)
    return data


def as_version(data, v):
    """A version 9 file of a 4-3-2 model without an image grid (width 0) as version v: the
    same stream without the training rows (12 bytes after the image width, at 68), before
    version 8 without the image width (after the 64-byte front) either, and before version 4
    without the data scaling either. The harness fixes the length and checksum."""
    front = 24 + 8 * 3 + 8
    keep = front + 8 if v < 8 else front + 12 if v < 9 else len(data)
    out = bytearray(data[:keep] + data[front + 24:]) if v < 9 else bytearray(data)
    if v == 3:
        out = out[:front] + out[front + 8:]
    out[8] = v
    return bytes(out)


def grid_seeds(tmp):
    """A pruned 4-3-2 model on 2 × 2 images (IDX): its .occ file sends layer 0's mask and
    values by their grid neighbours (version 8), when shorter."""
    d = os.path.join(tmp, "idx22")
    os.makedirs(d)
    for stem, n in (("train", 60), ("t10k", 10)):
        img, lab = idx_pair(n, 2, 2, 2)
        with open(os.path.join(d, stem + "-images-idx3-ubyte"), "wb") as f:
            f.write(img)
        with open(os.path.join(d, stem + "-labels-idx1-ubyte"), "wb") as f:
            f.write(lab)
    args = ["--set", "data.source=idx", "--set", "data.path=" + d, "--set",
            "model.layers=4,3,2", "--set", "train.epochs=1", "--set", "data.normalize=scale"]
    st, occ = os.path.join(tmp, "grid.safetensors"), os.path.join(tmp, "grid.occ")
    subprocess.run([OCCAM, "train", BLOBS, *args, "--set", "prune.schedule=oneshot", "--set",
                    "prune.target=0.5", "--save", st], check=True, capture_output=True)
    occ_seeds("idx_4_3_2_grid", args, st, occ)
    # that model finds the grid codes longer, so it sends neither; these send them, chosen by
    # hand (fuzz/seed_grid.c)
    subprocess.run(["make", "-s", "build/fuzz_seed_grid"], check=True, capture_output=True)
    prefix = os.path.join(tmp, "seed_grid")
    subprocess.run(["build/fuzz_seed_grid", prefix], check=True, capture_output=True)
    for which in ("mask", "signs", "both"):
        with open(f"{prefix}_{which}.occ", "rb") as f:
            put("occ", f"grid_4_3_2_{which}_fixcrc", b"\x01" + f.read())


def model_seeds(tmp):
    small = ["--set", "model.layers=4,3,2", "--set", "data.features=4", "--set",
             "data.classes=2", "--set", "train.epochs=1", "--set", "data.samples=40",
             "--set", "data.test_samples=10"]
    runs = {
        "st_20_3_3": ["--set", "model.layers=20,3,3", "--set", "train.epochs=1"],
        "st_4_3_2": small,
        "st_4_3_2_mask": small + ["--set", "prune.schedule=oneshot", "--set", "prune.target=0.5"],
        "st_4_2_2_neuron": small + ["--set", "prune.schedule=oneshot", "--set",
                                    "prune.granularity=neuron", "--set", "prune.target=0.34"],
        # dead units: the mask code sends the live units first (version 6), and no bias of a
        # unit without an outgoing weight (version 7)
        "st_4_3_2_dead": small + ["--set", "prune.schedule=oneshot", "--set", "prune.target=0.8"],
    }
    for name, args in runs.items():
        path = os.path.join(tmp, name + ".safetensors")
        subprocess.run([OCCAM, "train", BLOBS, *args, "--save", path], check=True,
                       capture_output=True)
        with open(path, "rb") as f:
            put("checkpoint", name + ".safetensors", f.read())
        if name == "st_20_3_3":
            continue
        occ = os.path.join(tmp, name + ".occ")
        data = occ_seeds(name, small, path, occ)
        # version 8: version 9 without the training rows; version 7: version 8 without the
        # inputs' image width (0 here), the same stream
        put("occ", name + "_v8_fixcrc", b"\x01" + as_version(data, 8))
        put("occ", name + "_v7_fixcrc", b"\x01" + as_version(data, 7))
        if name == "st_4_3_2":
            # version 3, still read: version 4 without the data scaling
            put("occ", name + "_v3_fixcrc", b"\x01" + as_version(data, 3))
            # version 4: version 7 without groups of bins or the unit-first mask code, the
            # same bytes for an unpruned model at these spans
            put("occ", name + "_v4_fixcrc", b"\x01" + as_version(data, 4))
            # spans wider than a table (2^16 symbols), whose bins go in groups
            fine = os.path.join(tmp, name + "_fine.occ")
            subprocess.run([OCCAM, "compress", BLOBS, *small, "--set",
                            "mdl.weight_precision=1e-6", "--checkpoint", path, "--out", fine],
                           check=True, capture_output=True)
            with open(fine, "rb") as f:
                put("occ", name + "_fine_fixcrc", b"\x01" + f.read())
        if name == "st_4_3_2_mask":
            put("checkpoint", name + ".occ", data)
    # a first layer sent row by row (version 7), from the pruned checkpoint
    rows = rows_checkpoint(os.path.join(tmp, "st_4_3_2_mask.safetensors"), tmp)
    occ = os.path.join(tmp, "st_4_3_2_rows.occ")
    occ_seeds("st_4_3_2_rows", small, rows, occ)
    # versions 5 and 6, still read: pruned 4-3-2 models' files from those writers, kept in
    # tests/data/ (the corpora of the commits before versions 6 and 7), so that the harness's
    # 4-3-2 model reaches their decoders
    for name in ("v5_432_mask", "v6_432_mask", "v6_432_dead"):
        with open(f"tests/data/{name}.occ", "rb") as f:
            put("occ", name + "_fixcrc", b"\x01" + f.read())


def state_seeds(tmp):
    """Training states (train.checkpoint_every) of the 4-3-2 blobs runs the harness resumes."""
    small = ["--set", "model.layers=4,3,2", "--set", "data.features=4", "--set",
             "data.classes=2", "--set", "train.epochs=2", "--set", "data.samples=40",
             "--set", "data.test_samples=10", "--set", "train.checkpoint_every=1"]
    runs = {"state_sgd": [], "state_noisy_adam": ["--set", "noise.enabled=true", "--set",
                                                  "train.optimizer=adam"]}
    for name, args in runs.items():
        d = os.path.join(tmp, name)
        subprocess.run([OCCAM, "train", BLOBS, *small, *args, "--set",
                        "train.checkpoint_dir=" + d], check=True, capture_output=True)
        with open(os.path.join(d, "ckpt-e0001-s000000002.safetensors"), "rb") as f:
            put("checkpoint", name + ".safetensors", f.read())


def main():
    if not os.path.exists(OCCAM):
        sys.exit(f"{OCCAM} not found: run make first")
    # only the corpora made here: json/ and plot/ hold hand-made seeds (removing the whole of
    # OUT deleted them)
    for harness in ("config", "idx", "csv", "checkpoint", "occ"):
        shutil.rmtree(os.path.join(OUT, harness), ignore_errors=True)
    config_seeds()
    idx_seeds()
    csv_seeds()
    with tempfile.TemporaryDirectory() as tmp:
        model_seeds(tmp)
        grid_seeds(tmp)
        state_seeds(tmp)


if __name__ == "__main__":
    main()
