#!/usr/bin/python3
"""PyTorch peer benchmark for occam: the same MLP, data, optimiser and FLOP
model, so occam's throughput and accuracy can be compared like for like.

Prints exactly one JSON line on stdout; diagnostics go to stderr.

Use the Debian interpreter (python3-torch lives there, not in pyenv), and set
OMP_NUM_THREADS to match --threads so the OpenMP runtime does not start more
workers than torch will use:

  # Fashion-MNIST, one epoch, 1 and 2 threads
  OMP_NUM_THREADS=1 /usr/bin/python3 perf/torch_peer.py --threads 1 --batch 128 --epochs 1
  OMP_NUM_THREADS=2 /usr/bin/python3 perf/torch_peer.py --threads 2 --batch 128 --epochs 1

  # reference accuracy: 20 epochs, cosine schedule
  OMP_NUM_THREADS=2 /usr/bin/python3 perf/torch_peer.py --threads 2 --epochs 20 \\
      --schedule cosine --lr 0.1 --momentum 0.9

  # wide-MLP throughput on synthetic data (no evaluation)
  OMP_NUM_THREADS=2 /usr/bin/python3 perf/torch_peer.py --threads 2 \\
      --synthetic 16384 --layers 2048,2048,2048,10 --batch 512
"""

import argparse
import copy
import gzip
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension
FMNIST_IN, FMNIST_CLASSES = 28 * 28, 10


def read_idx(path, magic, ndim):
    """Read a gzipped IDX file into a uint8 array, refusing anything whose
    header does not match what we expect (wrong file, truncated download)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: too short for an IDX header")
    got_magic = struct.unpack(">I", raw[:4])[0]
    if got_magic != magic:
        raise ValueError(f"{path}: bad magic {got_magic:#010x}, expected {magic:#010x}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(dims)):
        raise ValueError(f"{path}: payload is {len(raw) - header} bytes, header says {dims}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_fashion_mnist(split):
    """Return (x float32 [n, 784] scaled to [0, 1], y int64 [n]).

    Dividing by 255 matches occam's default data.normalize = scale."""
    images = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"),
                      IDX_IMAGES_MAGIC, 3)
    labels = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"),
                      IDX_LABELS_MAGIC, 1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"{split}: images {images.shape} do not match labels {labels.shape}")
    if labels.max() >= FMNIST_CLASSES:
        raise ValueError(f"{split}: label {labels.max()} out of range")
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def make_synthetic(n, width, classes, seed):
    # A separate generator keeps the data independent of the model init stream.
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, width, generator=g, dtype=torch.float32)
    y = torch.randint(0, classes, (n,), generator=g, dtype=torch.int64)
    return x, y


def make_mlp(layers):
    mods = []
    for i, (fan_in, fan_out) in enumerate(zip(layers[:-1], layers[1:])):
        lin = nn.Linear(fan_in, fan_out)
        # He init as in occam; biases start at zero rather than torch's
        # uniform default so both start from the same family of weights.
        nn.init.kaiming_normal_(lin.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        mods.append(lin)
        if i < len(layers) - 2:  # logits go straight into the loss
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def flops_per_sample(layers):
    """FLOP model shared with occam's benchmark (per training sample):
      forward           2 * sum(in*out)                 over all layers
      weight gradients  2 * sum(in*out)                 over all layers
      input gradients   2 * sum(in*out)                 over all layers but the
                                                        first (nobody needs dL/dx)
    Biases, activations, loss and the optimiser update are not counted; they
    are O(sum(out)) or O(params) per batch and vanish next to the GEMMs."""
    macs = [i * o for i, o in zip(layers[:-1], layers[1:])]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])


def make_optimizer(model, args):
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay)
    sched = None
    if args.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    return opt, sched


def train_step(model, loss_fn, opt, x, y, idx):
    # The gather is part of the timed step on purpose: occam also assembles
    # each shuffled minibatch from the resident training set.
    xb = x.index_select(0, idx)
    yb = y.index_select(0, idx)
    loss = loss_fn(model(xb), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def warm_up(model, loss_fn, x, y, args):
    """Run a few untimed steps so thread-pool start-up, first-touch page faults
    and kernel selection are not billed to the first epoch, then put the model
    back exactly as it was so the timed run trains from the seeded init."""
    if args.warmup_steps <= 0:
        return
    saved = copy.deepcopy(model.state_dict())
    opt, _ = make_optimizer(model, args)
    g = torch.Generator().manual_seed(args.seed + 2)  # leave the shuffle stream alone
    perm = torch.randperm(len(x), generator=g)
    for s in range(args.warmup_steps):
        idx = perm[(s * args.batch) % len(x):][:args.batch]
        train_step(model, loss_fn, opt, x, y, idx)
    model.load_state_dict(saved)


def train(model, loss_fn, x, y, args):
    """Train for args.epochs; return (per-epoch seconds, last epoch mean loss)."""
    opt, sched = make_optimizer(model, args)
    g = torch.Generator().manual_seed(args.seed)
    n = len(x)
    times, epoch_loss = [], float("nan")
    for _ in range(args.epochs):
        perm = torch.randperm(n, generator=g)  # outside the timer: not training work
        loss_sum = 0.0
        t0 = time.perf_counter()
        for start in range(0, n, args.batch):  # the partial last batch is kept
            idx = perm[start:start + args.batch]
            loss = train_step(model, loss_fn, opt, x, y, idx)
            # Weight by batch size so the partial batch does not skew the mean.
            loss_sum += loss.item() * len(idx)
        times.append(time.perf_counter() - t0)
        epoch_loss = loss_sum / n
        if sched is not None:
            sched.step()
    return times, epoch_loss


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for start in range(0, len(x), batch):
        correct += (model(x[start:start + batch]).argmax(1) == y[start:start + batch]).sum().item()
    model.train()
    return correct / len(x)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--layers", default="784,300,100,10",
                   help="comma-separated layer widths, input first")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="cosine anneals to 0 over --epochs, stepped once per epoch")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--synthetic", type=int, metavar="N", default=0,
                   help="train on N random samples instead of Fashion-MNIST")
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--repeats", type=int, default=1,
                   help="rerun the whole training from the same init this many "
                        "times; seconds is the median over all timed epochs")
    p.add_argument("--eval", action=argparse.BooleanOptionalAction, default=None,
                   help="report test accuracy (default: on for Fashion-MNIST)")
    args = p.parse_args(argv)

    try:
        args.layers = [int(w) for w in args.layers.split(",")]
    except ValueError:
        p.error(f"--layers: expected comma-separated integers, got {args.layers!r}")
    if len(args.layers) < 2 or min(args.layers) < 1:
        p.error("--layers needs at least two positive widths")
    for name in ("threads", "batch", "epochs", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    if args.synthetic < 0 or args.warmup_steps < 0:
        p.error("--synthetic and --warmup-steps must be >= 0")
    if args.synthetic:
        if args.eval:
            p.error("--eval needs Fashion-MNIST: random labels have no test set")
        args.eval = False
    else:
        if args.layers[0] != FMNIST_IN or args.layers[-1] != FMNIST_CLASSES:
            p.error(f"Fashion-MNIST needs layers {FMNIST_IN},...,{FMNIST_CLASSES}")
        if args.eval is None:
            args.eval = True
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    omp = os.environ.get("OMP_NUM_THREADS")
    if omp != str(args.threads):
        print(f"torch_peer: warning: OMP_NUM_THREADS={omp} but --threads {args.threads}",
              file=sys.stderr)

    if args.synthetic:
        x, y = make_synthetic(args.synthetic, args.layers[0], args.layers[-1], args.seed)
        x_test = y_test = None
    else:
        x, y = load_fashion_mnist("train")
        x_test, y_test = load_fashion_mnist("t10k")

    torch.manual_seed(args.seed)
    model = make_mlp(args.layers)
    loss_fn = nn.CrossEntropyLoss()
    warm_up(model, loss_fn, x, y, args)

    # Each repeat restarts from the same init so every run is the same
    # training job; the reported loss/accuracy come from the last one.
    init_state = copy.deepcopy(model.state_dict())
    epoch_times = []
    for _ in range(args.repeats):
        model.load_state_dict(init_state)
        times, train_loss = train(model, loss_fn, x, y, args)
        epoch_times.extend(times)

    seconds = statistics.median(epoch_times)
    sps = len(x) / seconds
    result = {
        "peer": "pytorch",
        "torch_version": torch.__version__,
        "threads": args.threads,
        "layers": args.layers,
        "batch": args.batch,
        "epochs": args.epochs,
        "samples": len(x) * len(epoch_times),
        "seconds": round(seconds, 6),
        "samples_per_second": round(sps, 1),
        "gflops": round(flops_per_sample(args.layers) * sps / 1e9, 3),
        "test_accuracy": round(accuracy(model, x_test, y_test), 4) if args.eval else None,
        "train_loss": round(train_loss, 6),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
