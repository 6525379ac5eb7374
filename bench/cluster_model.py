#!/usr/bin/env python3
"""Predicted time of graphrec's distributed walks and training on a cluster.

Scales the rates measured on the 2-core development machine (bench/README.md,
"Distributed") to 100M accounts / 10B follows on 16, 64 and 256 machines over
a stated network, for the data-parallel trainer that is built and for a model
partitioned by account (PyTorch-BigGraph's buckets) that is not. Every figure
is a model: compute at the measured per-core rate, network at the link's
bandwidth with per-superstep latency, no overlap of the two.

Usage: bench/cluster_model.py [--accounts 1e8] [--edges 1e10] [--walks 2] [--length 40]
       [--dim 128] [--cores 32] [--gbit 25] [--latency-us 10] [--sync-tokens-per-row 1.5]
"""
import argparse
import math

# Measured on this machine (bench/README.md; dated there).
WALK_STEPS_PER_CORE = 6.2e6      # distributed uniform walker, 1 rank (80M steps in 12.96 s)
WALK_BYTES_PER_MOVE = 48.0       # walker + its token to the assembler: 23.8 B/step at 0.494 moves/step (2 ranks)
TRAIN_TOKENS_PER_CORE = 430e3    # skip-gram, dim 128, window 10, 5 negatives (861k tokens/s on 2 threads)
CHANGED_ROW_SHARE = 0.73         # rows changed between syncs at 1.5 tokens/row (990 of 1365 B/token, 2 ranks)
ROUTED_BYTES_PER_TOKEN = 48.0    # partitioned model: a centre and its ~11 contexts sent to the centre's owner


def model(args, machines):
    m = machines
    bandwidth = args.gbit * 1e9 / 8                      # bytes/s each way per machine
    tokens = args.accounts * args.walks * args.length    # one epoch = walk steps
    off = (m - 1) / m                                    # share of moves that leave the machine (hash partition)
    ranks = m * args.cores                               # the walker is single-threaded: a rank per core
    walk_compute = tokens / (ranks * WALK_STEPS_PER_CORE)
    walk_network = tokens * off * WALK_BYTES_PER_MOVE / m / bandwidth
    walk_latency = args.length * math.log2(max(m, 2)) * args.latency_us * 1e-6 * 2
    train_compute = tokens / (m * args.cores * TRAIN_TOKENS_PER_CORE)
    model_bytes = 2 * args.accounts * args.dim * 4       # input + output matrices
    # Data-parallel (built): each sync all-reduces the changed rows (ring: 2x the data per machine).
    syncs = tokens / (args.sync_tokens_per_row * args.accounts)
    dp_network = syncs * 2 * CHANGED_ROW_SHARE * model_bytes * off / bandwidth
    dp_memory = 2 * model_bytes                           # replica + last synchronised copy
    # Partitioned by account (not built): M rounds an epoch, each machine passes its
    # output partition on; the (centre, contexts) records travel once to the centre's owner.
    pbg_network = (model_bytes / 2 * off + tokens * ROUTED_BYTES_PER_TOKEN * off / m) / bandwidth
    pbg_memory = 2 * model_bytes / m / 2 + tokens * ROUTED_BYTES_PER_TOKEN / m
    graph_memory = args.edges * 2 * 8 / m                 # followees + followers, 8-byte ids
    return {
        "machines": m,
        "graph GB/machine": graph_memory / 1e9,
        "walks s": walk_compute + walk_network + walk_latency,
        "walk net share": (walk_network + walk_latency) / (walk_compute + walk_network + walk_latency),
        "train compute s": train_compute,
        "data-parallel s": train_compute + dp_network,
        "data-parallel model GB/machine": dp_memory / 1e9,
        "partitioned s": train_compute + pbg_network,
        "partitioned GB/machine": pbg_memory / 1e9,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accounts", type=float, default=1e8)
    p.add_argument("--edges", type=float, default=1e10)
    p.add_argument("--walks", type=float, default=2, help="walks per account (the batch's default)")
    p.add_argument("--length", type=float, default=40)
    p.add_argument("--dim", type=float, default=128)
    p.add_argument("--cores", type=float, default=32, help="cores per machine")
    p.add_argument("--gbit", type=float, default=25, help="link bandwidth per machine, Gbit/s")
    p.add_argument("--latency-us", type=float, default=10)
    p.add_argument("--sync-tokens-per-row", type=float, default=1.5)
    p.add_argument("--machines", default="16,64,256")
    args = p.parse_args()
    rows = [model(args, int(m)) for m in args.machines.split(",")]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
