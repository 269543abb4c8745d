#!/usr/bin/python3
"""Step-time cost model for occam's data-parallel step, fed with rates measured on this machine.

    perf/cost_model.py [--cores-per-node 8] [--node-bw GB/s] [--link-bw GB/s] [--measure]

Inputs, measured with the occam binary itself (build/occam):
  R(m, n, k)  single-thread sgemm GFLOP/s for every GEMM shape the step runs at T threads
              (`occam bench gemm M N K`): rows per thread shrink as T grows, and so does R.
  BW_node     memory bandwidth of one NUMA node (`occam bench memory`, all cores here).
  BW_link     bandwidth between nodes: not measurable on a one-node machine; default
              BW_node / 2 (typical of UPI / Infinity Fabric), override with --link-bw.

Model of one step, T threads on N = ceil(T / C) nodes, batch B, P parameters (floats),
4-byte floats; every term is bytes / bandwidth or flops / rate, and the phases add:
  gemm      Σ_layers forward (m,out,in) + dX (m,in,out, not layer 0) + dW at the path's shape,
            each over R of its own shape, m = ceil(B / T) rows per thread (threads in parallel)
  shard dW  (out,in,m); its partials cost, for the reduction:
              flat          T·P·4 written + T·P·4 read, (N-1)/N of the reads remote:
                            (T·P·4 + T·P·4/N) / (N·BW_node) + T·P·4·(N-1)/N / (N·BW_link)
              hierarchical  per node 2·(T/N)·P·4 / BW_node, then (N-1)/N·P·4 / BW_link
  owner dW  (out/T, in, B): no partials; each thread re-reads the layer input and dZ:
            (T/N)·B·(in+out)·4·(N-1)/N / BW_link per node, plus one barrier (~2 µs) per layer
  update    w and m read and written once: 4·P·4 / (N·BW_node)
The step time is the sum with the cheaper weight-gradient path per layer (runtime.grad=auto).
"""
import argparse
import json
import math
import subprocess

OCCAM = "build/occam"
MODELS = {"lenet": ([784, 300, 100, 10], 128), "wide": ([2048, 2048, 2048, 10], 512)}
_rate_cache = {}


def rate(m, n, k):
    """Measured single-thread sgemm GFLOP/s for an m×n×k product (cached)."""
    m, n, k = max(1, int(m)), max(1, int(n)), max(1, int(k))
    key = (m, n, k)
    if key not in _rate_cache:
        out = subprocess.run([OCCAM, "bench", "gemm", str(m), str(n), str(k)],
                             check=True, capture_output=True, text=True).stdout
        _rate_cache[key] = json.loads(out)["gflops"]
    return _rate_cache[key]


def gemm_s(m, n, k):
    return 2.0 * m * n * k / (rate(m, n, k) * 1e9)


def step(widths, B, T, C, bw_node, bw_link):
    N = math.ceil(T / C)
    m = math.ceil(B / T)
    P = sum(a * b + b for a, b in zip(widths, widths[1:]))
    t = {"gemm": 0.0, "reduce_flat": 0.0, "reduce_hier": 0.0, "owner": 0.0, "gemm_shard": 0.0}
    shard_p = 0
    for l, (i, o) in enumerate(zip(widths, widths[1:])):
        base = gemm_s(m, o, i) + (gemm_s(m, i, o) if l > 0 else 0.0)
        shard = gemm_s(o, i, m)
        owner = gemm_s(max(1, math.ceil(o / T)), i, B)
        owner_mem = (T / N) * B * (i + o) * 4 * (N - 1) / N / (bw_link * 1e9) + 2e-6
        # auto: the owner path when it moves fewer bytes (always with one thread)
        use_owner = T == 1 or B * (i + o) < 2 * i * o
        t["gemm"] += base + (owner if use_owner else shard)
        t["gemm_shard"] += base + shard
        if use_owner:
            t["owner"] += owner_mem if T > 1 else 0.0
        else:
            shard_p += i * o + o
    def reduce(floats):
        if T == 1 or not floats:
            return 0.0, 0.0
        b = floats * 4
        flat = (T * b + T * b / N) / (N * bw_node * 1e9) + T * b * (N - 1) / N / (N * bw_link * 1e9)
        hier = 2 * (T / N) * b / (bw_node * 1e9) + (N - 1) / N * b / (bw_link * 1e9)
        return flat, hier
    t["reduce_flat"], t["reduce_hier"] = reduce(shard_p)
    t["update"] = 4 * P * 4 / (N * bw_node * 1e9)
    t["step_auto"] = t["gemm"] + t["owner"] + t["reduce_hier"] + t["update"]
    flat, hier = reduce(P)
    t["shard_flat"] = t["gemm_shard"] + flat + t["update"]
    t["shard_hier"] = t["gemm_shard"] + hier + t["update"]
    t["red_all_flat"], t["red_all_hier"] = flat, hier
    t["nodes"] = N
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cores-per-node", type=int, default=8)
    ap.add_argument("--node-bw", type=float, help="GB/s per node (default: measured)")
    ap.add_argument("--link-bw", type=float, help="GB/s between nodes (default: node/2)")
    ap.add_argument("--threads", default="1,2,16,64")
    a = ap.parse_args()
    bw = a.node_bw or json.loads(subprocess.run([OCCAM, "bench", "memory"], check=True,
                                                capture_output=True, text=True).stdout)["triad_gb_per_s"]
    link = a.link_bw or bw / 2
    print(f"# BW_node {bw:.1f} GB/s, BW_link {link:.1f} GB/s, {a.cores_per_node} cores per node; "
          f"R measured per shape with `{OCCAM} bench gemm`")
    print("# times in ms per step. shard_*: runtime.grad = shard for every layer, reduced flat or\n"
          "# hierarchically; auto: the per-layer choice (owner where it moves fewer bytes).")
    print(f"{'model':6} {'T':>3} {'N':>2} {'rows/T':>6} {'gemm':>8} {'red_flat':>8} {'red_hier':>8} "
          f"{'shard_flat':>10} {'shard_hier':>10} {'auto':>8} {'auto_s/s':>9} {'auto_mem%':>9}")
    for name, (widths, B) in MODELS.items():
        for T in (int(x) for x in a.threads.split(",")):
            t = step(widths, B, T, a.cores_per_node, bw, link)
            share = (t["reduce_hier"] + t["update"] + t["owner"]) / t["step_auto"]
            print(f"{name:6} {T:3d} {t['nodes']:2d} {math.ceil(B / T):6d} "
                  f"{1e3 * t['gemm_shard']:8.3f} {1e3 * t['red_all_flat']:8.3f} "
                  f"{1e3 * t['red_all_hier']:8.3f} {1e3 * t['shard_flat']:10.3f} "
                  f"{1e3 * t['shard_hier']:10.3f} {1e3 * t['step_auto']:8.3f} "
                  f"{B / t['step_auto']:9.0f} {share:9.1%}")


if __name__ == "__main__":
    main()
