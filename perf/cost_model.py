#!/usr/bin/python3
"""Step-time cost model for occam's data-parallel step, fed with rates measured on this machine.

    perf/cost_model.py [--cores-per-node 8] [--node-bw GB/s] [--link-bw GB/s] [--occam PATH]
    perf/cost_model.py --network [--host-cores 32] [--alpha-us 2] [--net-gbit 25,100]
                                 [--nodes 1,8,64] [--weak-batch B]
    perf/cost_model.py --host-ranks 2 [--shm-alpha-us 1] [--shm-bw GB/s]
    perf/cost_model.py --check perf/out/mpi_scaling.csv
    common: [--occam PATH] [--rates rates.json] [--node-bw GB/s] [--allreduce ring,tree,rd,rab]
            [--allgather ring,bruck] [--no-reduce-compute]

Inputs, measured with the occam binary itself (--occam, default $OCCAM or build/occam):
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

MPI ranks (--network, --host-ranks, --check).  R ranks (`mpirun -np R`), T threads each; the
global batch B is split into R contiguous shares of b = ceil(B/R) rows and each rank's T threads
split those, m = ceil(b/T).  Inside a rank everything above holds with T threads on
N = ceil(T/C) NUMA nodes; the rank's memory bandwidth is BW_rank = N·BW_node / (ranks per host).
Between ranks, an alpha-beta (Hockney) model: n bytes in one message cost α + n·β,
β = 1/bandwidth; p = R, L = ceil(log2 p); no overlap of communication with compute:
  allreduce(n)  ring   2(p-1)α + 2(p-1)/p·n·β
                tree   2L(α + n·β)              binomial reduce, then binomial broadcast
                rd     L(α + n·β)               recursive doubling (--allreduce ...,rd)
                rab    2Lα + 2(p-1)/p·n·β       Rabenseifner: recursive-halving reduce-scatter,
                                                recursive-doubling allgather (--allreduce ...,rab)
                plus the sums (off with --no-reduce-compute), 3 bytes touched per byte summed:
                (p-1)/p·n·3 / BW_rank for ring and rab, L·n·3 / BW_rank for tree and rd.
                MPI picks the cheapest; so does the model, over --allreduce (default ring,tree)
  allgather(n)  ring   (p-1)α + (p-1)/p·n·β      n = the gathered total, (p-1)/p·n received
                bruck  Lα + (p-1)/p·n·β         (--allgather ring,bruck; default ring only)
Per layer l (in, out, P_l = in·out + out floats), with the in-rank terms above at T threads:
  shard  gemm dW (out, in, m) + reduce_hier(P_l) + allreduce(4·P_l) + update(P_l):
         every rank updates all P_l floats
  owner  gemm dW (ceil(out/(R·T)), in, B) + the in-rank owner re-read over B rows
         + allgather(4·B·out) + allgather(4·B·in) (two calls, dZ and X; layer 0 only dZ)
         + update of its ceil(out/R) rows + allgather(4·P_l) of the updated weights
  auto   the cheaper of the two per layer, by predicted time
Network crossover (GEMMs and in-rank terms left out): owner's collectives take
  c·α·λ + (p-1)/p·β·4·(B·w + P_l), c = 3 calls (2 for layer 0), w = in+out (out for layer 0),
  λ = p-1 (ring) or L (bruck), so they beat the allreduce while the global batch B is below
  B* = (allreduce(4·P_l) - c·α·λ - (p-1)/p·β·4·P_l) / ((p-1)/p·β·4·w),
  about P_l/w for large messages and a ring: in·out/(in+out), and in for layer 0.
Assumptions: one rank per host (--network: hosts of --host-cores cores, T = host cores) or all
ranks on this host, sharing its memory bandwidth (--host-ranks, --check); the hosts' cores run
GEMMs at this machine's measured rates; threads with no rows still join the reductions; one
collective call per layer and tensor (no fusion), a full-bisection network, no contention.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys

OCCAM = os.environ.get("OCCAM", "build/occam")
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


def measured_bw():
    out = subprocess.run([OCCAM, "bench", "memory"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["triad_gb_per_s"]


def reduce_flat_s(floats, T, N, bw_node, bw_link):
    """Flat reduction of T partials of `floats` floats over N NUMA nodes (GB/s bandwidths)."""
    if T == 1 or not floats:
        return 0.0
    b = floats * 4
    return (T * b + T * b / N) / (N * bw_node * 1e9) + T * b * (N - 1) / N / (N * bw_link * 1e9)


def reduce_hier_s(floats, T, N, bw_node, bw_link):
    """Hierarchical reduction: in-node owner-slice reduce, then (N-1)/N of one copy across."""
    if T == 1 or not floats:
        return 0.0
    b = floats * 4
    return 2 * (T / N) * b / (bw_node * 1e9) + (N - 1) / N * b / (bw_link * 1e9)


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
        return (reduce_flat_s(floats, T, N, bw_node, bw_link),
                reduce_hier_s(floats, T, N, bw_node, bw_link))
    t["reduce_flat"], t["reduce_hier"] = reduce(shard_p)
    t["update"] = 4 * P * 4 / (N * bw_node * 1e9)
    t["step_auto"] = t["gemm"] + t["owner"] + t["reduce_hier"] + t["update"]
    flat, hier = reduce(P)
    t["shard_flat"] = t["gemm_shard"] + flat + t["update"]
    t["shard_hier"] = t["gemm_shard"] + hier + t["update"]
    t["red_all_flat"], t["red_all_hier"] = flat, hier
    t["nodes"] = N
    return t


# ---- MPI ranks: the alpha-beta network model ------------------------------------------------

def log2c(p):
    return math.ceil(math.log2(p)) if p > 1 else 0


def allreduce_s(n, net):
    """(seconds, algorithm) of the cheapest allreduce of n bytes over net["p"] ranks."""
    p, a, beta, mem = net["p"], net["alpha"], net["beta"], net["mem_bw"]
    if p == 1 or n == 0:
        return 0.0, "-"
    L = log2c(p)
    comp = net["reduce_compute"]
    cand = {
        "ring": 2 * (p - 1) * a + 2 * (p - 1) / p * n * beta + comp * (p - 1) / p * n * 3 / mem,
        "tree": 2 * L * (a + n * beta) + comp * L * n * 3 / mem,
        "rd": L * (a + n * beta) + comp * L * n * 3 / mem,
        "rab": 2 * L * a + 2 * (p - 1) / p * n * beta + comp * (p - 1) / p * n * 3 / mem,
    }
    name = min(net["ar_algos"], key=lambda k: cand[k])
    return cand[name], name


def allgather_lat(net):
    """Latency count λ of the cheapest allgather (all share the (p-1)/p·n·β term)."""
    p = net["p"]
    lat = {"ring": p - 1, "bruck": log2c(p)}
    name = min(net["ag_algos"], key=lambda k: lat[k])
    return lat[name], name


def allgather_s(n, net):
    """Seconds of an allgather whose gathered total is n bytes."""
    p = net["p"]
    if p == 1 or n == 0:
        return 0.0
    lam, _ = allgather_lat(net)
    return lam * net["alpha"] + (p - 1) / p * n * net["beta"]


def crossover_batch(i, o, l, net):
    """B* below which owner's collectives take less wire time than shard's allreduce."""
    p, a, beta = net["p"], net["alpha"], net["beta"]
    if p == 1:
        return None
    P = i * o + o
    w = o if l == 0 else i + o
    calls = 2 if l == 0 else 3
    lam, _ = allgather_lat(net)
    ar, _ = allreduce_s(4 * P, net)
    f = (p - 1) / p
    return (ar - calls * a * lam - f * beta * 4 * P) / (f * beta * 4 * w)


def rank_step(widths, B, R, T, grad, hw, net):
    """Predicted step time of one of R ranks with T threads; grad is shard, owner or auto.

    hw: bw_node, bw_link (GB/s), C (cores per NUMA node), ranks_per_host.
    net: alpha (s), beta (s/byte), ar_algos, ag_algos, reduce_compute; p and mem_bw are set here.
    """
    N = math.ceil(T / hw["C"])
    bw_rank = N * hw["bw_node"] / hw["ranks_per_host"]          # GB/s
    net = dict(net, p=R, mem_bw=bw_rank * 1e9)
    b = math.ceil(B / R)
    m = max(1, math.ceil(b / T))
    upd = lambda floats: 4 * floats * 4 / (bw_rank * 1e9)
    t = {"base": 0.0, "total": 0.0, "mpi": 0.0, "reduce": 0.0, "layers": [], "m": m, "N": N}
    for l, (i, o) in enumerate(zip(widths, widths[1:])):
        P = i * o + o
        t["base"] += gemm_s(m, o, i) + (gemm_s(m, i, o) if l > 0 else 0.0)
        red = reduce_hier_s(P, T, N, hw["bw_node"], hw["bw_link"])
        ar, ar_name = allreduce_s(4 * P, net)
        shard = gemm_s(o, i, m) + red + ar + upd(P)
        own_rows = math.ceil(o / R)
        own_mem = ((T / N) * B * (i + o) * 4 * (N - 1) / N / (hw["bw_link"] * 1e9) + 2e-6
                   if T > 1 else 0.0)
        ag_act = allgather_s(4 * B * o, net) + (allgather_s(4 * B * i, net) if l > 0 else 0.0)
        ag_w = allgather_s(4 * P, net)
        owner = (gemm_s(max(1, math.ceil(o / (R * T))), i, B) + own_mem + ag_act
                 + upd(own_rows * (i + 1)) + ag_w)
        use = grad if grad != "auto" else ("owner" if owner < shard else "shard")
        t["layers"].append({"in": i, "out": o, "P": P, "shard": shard, "owner": owner,
                            "ar": ar, "ar_algo": ar_name, "ag": ag_act + ag_w, "use": use,
                            "bstar": crossover_batch(i, o, l, net)})
        if use == "owner":
            t["total"] += owner
            t["mpi"] += ag_act + ag_w
            t["reduce"] += own_mem
        else:
            t["total"] += shard
            t["mpi"] += ar
            t["reduce"] += red
    t["total"] += t["base"]
    return t


def net_params(a, alpha_us, beta_s_per_byte):
    return {"alpha": alpha_us * 1e-6, "beta": beta_s_per_byte,
            "ar_algos": a.allreduce, "ag_algos": a.allgather,
            "reduce_compute": 0.0 if a.no_reduce_compute else 1.0}


def fmt_bstar(x):
    if x is None:
        return "-"
    return "never" if x < 1 else f"{x:.0f}"


def cmd_network(a, bw, link):
    hw = {"bw_node": bw, "bw_link": link, "C": a.cores_per_node, "ranks_per_host": 1}
    T = a.host_cores
    nodes = [int(x) for x in a.nodes.split(",")]
    gbits = [float(x) for x in a.net_gbit.split(",")]
    N = math.ceil(T / a.cores_per_node)
    print(f"# one rank per host, hosts of {T} cores = {N} NUMA nodes of {a.cores_per_node} "
          f"(BW_node {bw:.1f} GB/s, BW_link {link:.1f} GB/s, host {N * bw:.0f} GB/s), T = {T}")
    print(f"# network: alpha {a.alpha_us:g} us, allreduce min({','.join(a.allreduce)}), "
          f"allgather min({','.join(a.allgather)}), reduce compute "
          f"{'off' if a.no_reduce_compute else 'on'}; no overlap of communication with compute")
    print("# strong: the model's batch B; weak: B = nodes x B per node "
          f"({'the model batch' if not a.weak_batch else a.weak_batch} per node)")
    print("# ms per step; s/s = samples/s; auto = per-layer choice (O owner, S shard), "
          "AR = allreduce algorithm per layer")
    for name, (widths, B0) in MODELS.items():
        P = sum(i * o + o for i, o in zip(widths, widths[1:]))
        print(f"\n## {name} {'-'.join(map(str, widths))}, P = {P:,} floats")
        print(f"{'scaling':7} {'nodes':>5} {'Gb/s':>5} {'B':>6} {'rows/T':>6} {'shard':>8} "
              f"{'owner':>8} {'auto':>8} {'shard_s/s':>10} {'owner_s/s':>10} {'auto_s/s':>10} "
              f"{'mpi%':>5} {'auto':>5} {'AR':>15}")
        settings = [("strong", 1, None)] + [("strong", n, g) for n in nodes if n > 1 for g in gbits]
        settings += [("weak", n, g) for n in nodes if n > 1 for g in gbits]
        detail = []
        for scaling, R, g in settings:
            B = B0 if scaling == "strong" else R * (a.weak_batch or B0)
            net = net_params(a, a.alpha_us, 8 / (g * 1e9) if g else 0.0)
            r = {k: rank_step(widths, B, R, T, k, hw, net) for k in ("shard", "owner", "auto")}
            au = r["auto"]
            print(f"{scaling:7} {R:5d} {f'{g:.0f}' if g else '-':>5} {B:6d} {au['m']:6d} "
                  f"{1e3 * r['shard']['total']:8.3f} {1e3 * r['owner']['total']:8.3f} "
                  f"{1e3 * au['total']:8.3f} {B / r['shard']['total']:10.0f} "
                  f"{B / r['owner']['total']:10.0f} {B / au['total']:10.0f} "
                  f"{au['mpi'] / au['total']:5.0%} "
                  f"{''.join(x['use'][0].upper() for x in au['layers']):>5} "
                  f"{'/'.join(x['ar_algo'] for x in au['layers']):>15}")
            if R > 1:
                detail.append((scaling, R, g, B, au))
        print(f"\n{'per layer':9} {'scaling':7} {'nodes':>5} {'Gb/s':>5} {'B':>6} {'layer':>13} "
              f"{'AR_us':>8} {'owner_net_us':>12} {'shard_us':>9} {'owner_us':>9} {'wins':>6} "
              f"{'B*_net':>7}")
        for scaling, R, g, B, au in detail:
            for l, x in enumerate(au["layers"]):
                label = f"{l}:{x['in']}x{x['out']}"
                print(f"{'':9} {scaling:7} {R:5d} {g:5.0f} {B:6d} {label:>13} "
                      f"{1e6 * x['ar']:8.1f} {1e6 * x['ag']:12.1f} {1e6 * x['shard']:9.1f} "
                      f"{1e6 * x['owner']:9.1f} {x['use']:>6} {fmt_bstar(x['bstar']):>7}")
        print(f"\n# {name}: where owner beats the allreduce (B*_net: owner's collectives are "
              "cheaper on the wire below this global batch)")
        for scaling, R, g, B, au in detail:
            wins = [f"layer {l} ({x['in']}x{x['out']})" for l, x in enumerate(au["layers"])
                    if x["use"] == "owner"]
            print(f"#   {scaling} {R} nodes {g:.0f} Gb/s B={B}: owner on "
                  f"{', '.join(wins) if wins else 'no layer'}; B*_net "
                  f"{' / '.join(fmt_bstar(x['bstar']) for x in au['layers'])}")


def host_rows(widths, B, R, a, bw, link, shm):
    """Predictions for R ranks x 1 thread and 1 rank x R threads on this host."""
    rows = []
    hw1 = {"bw_node": bw, "bw_link": link, "C": a.cores_per_node, "ranks_per_host": 1}
    for grad in ("shard", "owner", "auto"):
        rows.append((f"1x{R}", grad, rank_step(widths, B, 1, R, grad, hw1, shm)))
    hwR = dict(hw1, ranks_per_host=R)
    for grad in ("shard", "owner", "auto"):
        rows.append((f"{R}x1", grad, rank_step(widths, B, R, 1, grad, hwR, shm)))
    return rows


def cmd_host_ranks(a, bw, link):
    R = a.host_ranks
    shm_bw = a.shm_bw or bw / 2
    shm = net_params(a, a.shm_alpha_us, 1 / (shm_bw * 1e9))
    print(f"# {R} ranks x 1 thread on this host vs 1 rank x {R} threads; the 'network' is shared "
          f"memory: alpha {a.shm_alpha_us:g} us, {shm_bw:.1f} GB/s")
    print(f"# BW_node {bw:.1f} GB/s shared by the ranks (each rank's update and sums at "
          f"BW_node/{R}); allreduce min({','.join(a.allreduce)}), "
          f"allgather min({','.join(a.allgather)})")
    print("# layout = ranks x threads; ms per step; reduce = in-rank thread reduction (or owner "
          "re-read); mpi = allreduce/allgather time; mpi% of the step")
    print(f"{'model':6} {'B':>4} {'layout':>6} {'grad':>5} {'step_ms':>8} {'samples/s':>10} "
          f"{'reduce_ms':>9} {'mpi_ms':>8} {'mpi%':>6} {'layers':>6} {'AR':>15}")
    for name, (widths, B) in MODELS.items():
        for layout, grad, t in host_rows(widths, B, R, a, bw, link, shm):
            print(f"{name:6} {B:4d} {layout:>6} {grad:>5} {1e3 * t['total']:8.3f} "
                  f"{B / t['total']:10.0f} {1e3 * t['reduce']:9.3f} {1e3 * t['mpi']:8.3f} "
                  f"{t['mpi'] / t['total']:6.1%} "
                  f"{''.join(x['use'][0].upper() for x in t['layers']):>6} "
                  f"{'/'.join(x['ar_algo'] for x in t['layers']):>15}")


def find_col(header, *names):
    low = [h.strip().lower() for h in header]
    for n in names:
        if n in low:
            return low.index(n)
    return None


def cmd_check(a, bw, link, path):
    """Predicted vs measured samples/s for each row of a perf/mpi_scaling.sh CSV."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        print(f"cost_model.py: {path}: empty", file=sys.stderr)
        return 2
    head, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    col = {"model": find_col(head, "model", "net", "name"),
           "ranks": find_col(head, "ranks", "np", "procs", "nranks"),
           "threads": find_col(head, "threads", "omp_threads", "threads_per_rank", "t"),
           "grad": find_col(head, "grad", "runtime.grad", "mode"),
           "sps": find_col(head, "samples_per_s", "samples/s", "samples_per_sec", "sps"),
           "batch": find_col(head, "batch", "batch_size", "b")}
    missing = [k for k in ("model", "ranks", "threads", "sps") if col[k] is None]
    if missing:
        print(f"cost_model.py: {path}: no column for {', '.join(missing)} "
              f"(header: {','.join(head)})", file=sys.stderr)
        return 2
    shm_bw = a.shm_bw or bw / 2
    shm = net_params(a, a.shm_alpha_us, 1 / (shm_bw * 1e9))
    print(f"# {path}: all ranks on this host (shared memory alpha {a.shm_alpha_us:g} us, "
          f"{shm_bw:.1f} GB/s), BW_node {bw:.1f} GB/s; ratio = measured / predicted")
    print(f"{'model':6} {'B':>5} {'ranks':>5} {'threads':>7} {'grad':>5} {'predicted':>10} "
          f"{'measured':>10} {'ratio':>6}")
    for r in body:
        get = lambda k: r[col[k]].strip() if col[k] is not None and col[k] < len(r) else ""
        key = get("model").lower()
        model = next((m for m in MODELS if m in key), None)
        try:
            R, T, sps = int(get("ranks")), int(get("threads")), float(get("sps"))
            grad = get("grad").lower() or "auto"
            widths, B = MODELS[model] if model else (None, None)
            if get("batch"):
                B = int(get("batch"))
            if model is None or grad not in ("shard", "owner", "auto") or R < 1 or T < 1:
                raise ValueError
        except ValueError:
            print(f"# skipped row {','.join(r)} (unknown model or grad, or a bad number)")
            continue
        hw = {"bw_node": bw, "bw_link": link, "C": a.cores_per_node, "ranks_per_host": R}
        t = rank_step(widths, B, R, T, grad, hw, shm)
        pred = B / t["total"]
        print(f"{model:6} {B:5d} {R:5d} {T:7d} {grad:>5} {pred:10.0f} {sps:10.0f} "
              f"{sps / pred:6.2f}")
    return 0


def main():
    global OCCAM
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--occam", default=OCCAM, help="occam binary (default $OCCAM or build/occam)")
    ap.add_argument("--cores-per-node", type=int, default=8, help="cores per NUMA node")
    ap.add_argument("--node-bw", type=float, help="GB/s per NUMA node (default: measured)")
    ap.add_argument("--link-bw", type=float, help="GB/s between NUMA nodes (default: node/2)")
    ap.add_argument("--threads", default="1,2,16,64")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--network", action="store_true", help="R hosts, one rank per host")
    mode.add_argument("--host-ranks", type=int, metavar="R", help="R ranks x 1 thread, this host")
    mode.add_argument("--check", metavar="CSV", help="predicted vs measured (perf/mpi_scaling.sh)")
    ap.add_argument("--host-cores", type=int, default=32, help="cores per host (--network)")
    ap.add_argument("--nodes", default="1,8,64", help="host counts (--network)")
    ap.add_argument("--net-gbit", default="25,100", help="network bandwidths, Gbit/s")
    ap.add_argument("--alpha-us", type=float, default=2.0, help="network latency per message")
    ap.add_argument("--weak-batch", type=int, help="weak scaling: batch per host "
                    "(default: the model's batch)")
    ap.add_argument("--shm-alpha-us", type=float, default=1.0, help="shared-memory latency")
    ap.add_argument("--shm-bw", type=float, help="shared-memory GB/s (default: BW_node/2)")
    ap.add_argument("--allreduce", default="ring,tree", help="candidates: ring,tree,rd,rab")
    ap.add_argument("--allgather", default="ring", help="candidates: ring,bruck")
    ap.add_argument("--no-reduce-compute", action="store_true",
                    help="leave the allreduce's sums out")
    ap.add_argument("--rates", metavar="JSON", help="keep measured GEMM rates in this file and "
                    "reuse them (rates vary 10-20%% run to run; this makes runs comparable)")
    a = ap.parse_args()
    a.allreduce = a.allreduce.split(",")
    a.allgather = a.allgather.split(",")
    bad = ([x for x in a.allreduce if x not in ("ring", "tree", "rd", "rab")]
           + [x for x in a.allgather if x not in ("ring", "bruck")])
    if bad:
        ap.error(f"unknown collective algorithm {', '.join(bad)}")
    if a.host_ranks is not None and a.host_ranks < 1:
        ap.error("--host-ranks wants R >= 1")
    if a.check and not os.path.isfile(a.check):
        print(f"cost_model.py: {a.check}: no such file (run perf/mpi_scaling.sh first)",
              file=sys.stderr)
        sys.exit(2)
    OCCAM = a.occam
    if not (os.path.isfile(OCCAM) and os.access(OCCAM, os.X_OK)):
        print(f"cost_model.py: {OCCAM}: no occam binary (make build/occam, or --occam PATH)",
              file=sys.stderr)
        sys.exit(2)
    if a.rates and os.path.isfile(a.rates):
        with open(a.rates) as f:
            _rate_cache.update({tuple(map(int, k.split("x"))): v for k, v in json.load(f).items()})
    try:
        run(a)
    finally:
        if a.rates:
            with open(a.rates, "w") as f:
                json.dump({"x".join(map(str, k)): v for k, v in sorted(_rate_cache.items())}, f,
                          indent=0)


def run(a):
    bw = a.node_bw or measured_bw()
    link = a.link_bw or bw / 2
    if a.network:
        return cmd_network(a, bw, link)
    if a.host_ranks is not None:
        return cmd_host_ranks(a, bw, link)
    if a.check:
        sys.exit(cmd_check(a, bw, link, a.check))
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
