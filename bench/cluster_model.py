#!/usr/bin/env python3
"""Predicted time of graphrec's distributed read, hold-out, walks and training on a cluster.

Scales the rates measured on the 2-core development machine (bench/README.md,
"Distributed") to 100M accounts / 10B follows on 16, 64 and 256 machines over
a stated network, for both layouts of the model: replicated (data-parallel,
pWord2Vec) and partitioned by account (PyTorch-BigGraph's buckets on a ring,
`--training-model partitioned`). Every figure
is a model: compute at the measured per-core rate, network at the link's
bandwidth with per-superstep latency, no overlap of the two.

Usage: bench/cluster_model.py [--accounts 1e8] [--edges 1e10] [--walks 2] [--length 40]
       [--dim 128] [--cores 32] [--gbit 25] [--latency-us 10] [--sync-tokens-per-row 1.5]
       [--passes-per-epoch 8] [--machines 16,64,256] [--node2vec] [--walk-rate-scale 1] [--read-gbyte 1]

--node2vec: the walks are node2vec's (p 0.5, q 2; the adjacency test routed to
prev's owner) at their measured rates instead of uniform walks'.
--walk-rate-scale: the per-core walk rates (measured with 100k accounts a rank)
times this; 1M accounts a rank ran at 0.6 of them (cache misses). A rank holds
accounts / (machines x cores): ~200k at 100M on 16 x 32, 1M for UK-Union on 8 x 16.
"""
import argparse
import math

# Measured on this machine (bench/README.md; dated there).
WALK_STEPS_PER_CORE = 6.2e6      # distributed uniform walker, 1 rank (80M steps in 12.96 s)
WALK_BYTES_PER_MOVE = 48.0       # walker + its token to the assembler: 23.8 B/step at 0.494 moves/step (2 ranks)
TRAIN_TOKENS_PER_CORE = 430e3    # skip-gram, dim 128, window 10, 5 negatives (861k tokens/s on 2 threads)
CHANGED_ROW_SHARE = 0.73         # rows changed between syncs at 1.5 tokens/row (990 of 1365 B/token, 2 ranks)
RECORD_BYTES_PER_TOKEN = 45.0    # partitioned: a kept centre and its window to the centre's rank (window 10, 100k world)
# node2vec (p 0.5, q 2), 100k world: 32M steps in 14.9-17.8 s on 1 rank; 94.7 B a step at 2 ranks and 142.0 at 4
# (walkers, routed adjacency tests and tokens: 189 B x the off-machine share); 250 and 297 supersteps for 79 steps.
NODE2VEC_STEPS_PER_CORE = 2.0e6
# The partitioned read (dist::IngestPartitioned), 100k world: 3.33M follows + 3.30M interactions read, sent to
# both ends' owners and built in 1.79-1.95 s on 2 ranks of 1 thread; 24-byte records, 70 MB sent a rank.
READ_RECORDS_PER_CORE = 1.8e6
READ_RECORD_BYTES = 24.0
# The hold-out (dist::SplitPartitioned): 3.33M follows ordered in 0.70 s on 1 rank (hash, sort, forest, removal);
# a forest step (graph::SpanningForestFromBack) took 3.33M follows in 0.086 s with 100k accounts (in cache);
# at 100M accounts the union-find leaves the cache: this model assumes 4x slower. Forest edges are 32 bytes.
HOLDOUT_FOLLOWS_PER_CORE = 4.8e6
FOREST_EDGES_PER_S = 39e6 / 4
FOREST_EDGE_BYTES = 32.0
NODE2VEC_BYTES_PER_OFF_STEP = 189.0
NODE2VEC_SUPERSTEPS_PER_STEP = 3.8


def model(args, machines):
    m = machines
    bandwidth = args.gbit * 1e9 / 8                      # bytes/s each way per machine
    tokens = args.accounts * args.walks * args.length    # one epoch = walk steps
    off = (m - 1) / m                                    # share of moves that leave the machine (hash partition)
    ranks = m * args.cores                               # the walker is single-threaded: a rank per core
    steps_per_core = NODE2VEC_STEPS_PER_CORE if args.node2vec else WALK_STEPS_PER_CORE
    bytes_per_off_step = NODE2VEC_BYTES_PER_OFF_STEP if args.node2vec else WALK_BYTES_PER_MOVE
    supersteps = args.length * (NODE2VEC_SUPERSTEPS_PER_STEP if args.node2vec else 1)
    walk_compute = tokens / (ranks * steps_per_core * args.walk_rate_scale)
    walk_network = tokens * off * bytes_per_off_step / m / bandwidth
    walk_latency = supersteps * math.log2(max(m, 2)) * args.latency_us * 1e-6 * 2
    train_compute = tokens / (m * args.cores * TRAIN_TOKENS_PER_CORE)
    model_bytes = 2 * args.accounts * args.dim * 4       # input + output matrices
    # Data-parallel (built): each sync all-reduces the changed rows (ring: 2x the data per machine).
    syncs = tokens / (args.sync_tokens_per_row * args.accounts)
    dp_network = syncs * 2 * CHANGED_ROW_SHARE * model_bytes * off / bandwidth
    dp_memory = 2 * model_bytes                           # replica + last synchronised copy
    # Partitioned by account: the records travel once an epoch to the centre's machine;
    # each pass sends the input matrix once around the ring (M rounds of 1/M of it
    # per machine), one latency per round.
    input_bytes = model_bytes / 2
    pbg_network = (tokens * RECORD_BYTES_PER_TOKEN * off / m + args.passes_per_epoch * input_bytes * off) / bandwidth
    pbg_latency = args.passes_per_epoch * m * args.latency_us * 1e-6
    # Output rows, the input partition trained and the one arriving; one pass's records.
    pbg_memory = 3 * input_bytes / m + tokens * RECORD_BYTES_PER_TOKEN / m / args.passes_per_epoch
    graph_memory = args.edges * 2 * 8 / m                 # followees + followers, 8-byte ids
    # Read: each record (a follow, or an interaction: as many as follows here) parsed once and sent to its two
    # ends' owners; the text read from shared storage at --read-gbyte GB/s a machine (~42 bytes a line).
    records = 2 * args.edges
    read_s = (records / (ranks * READ_RECORDS_PER_CORE) + records * 2 * READ_RECORD_BYTES * off / m / bandwidth +
              records * 42 / m / (args.read_gbyte * 1e9))
    # Hold-out: each rank orders its follows in parallel; the forests then merge pairwise up a binary tree to
    # rank 0, one merge at a time per level. A rank's forest is about its follows (sparse parts are nearly
    # forests already), so level k merges two forests of min(2^k x follows a rank, accounts) edges.
    per_rank = args.edges / ranks
    levels = math.ceil(math.log2(max(ranks, 2)))
    merge_s = sum(2 * min(2 ** k * per_rank, args.accounts) * (1 / FOREST_EDGES_PER_S + FOREST_EDGE_BYTES / bandwidth)
                  for k in range(levels))
    holdout_s = args.edges / (ranks * HOLDOUT_FOLLOWS_PER_CORE) + merge_s
    return {
        "machines": m,
        "graph GB/machine": graph_memory / 1e9,
        "read s": read_s,
        "hold-out s": holdout_s,
        "walks s": walk_compute + walk_network + walk_latency,
        "walk net share": (walk_network + walk_latency) / (walk_compute + walk_network + walk_latency),
        "train compute s": train_compute,
        "data-parallel s": train_compute + dp_network,
        "data-parallel model GB/machine": dp_memory / 1e9,
        "partitioned s": train_compute + pbg_network + pbg_latency,
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
    p.add_argument("--read-gbyte", type=float, default=1.0, help="input read from shared storage, GB/s per machine")
    p.add_argument("--sync-tokens-per-row", type=float, default=1.5,
                   help="replicated: the interval CHANGED_ROW_SHARE was measured at (the default 0.1 sends ~2x more)")
    p.add_argument("--passes-per-epoch", type=float, default=8, help="partitioned: ring passes an epoch")
    p.add_argument("--machines", default="16,64,256")
    p.add_argument("--node2vec", action="store_true", help="node2vec walks (p 0.5, q 2) instead of uniform ones")
    p.add_argument("--walk-rate-scale", type=float, default=1.0,
                   help="per-core walk rates x this (0.6: measured at 1M accounts a rank instead of 100k)")
    args = p.parse_args()
    rows = [model(args, int(m)) for m in args.machines.split(",")]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
