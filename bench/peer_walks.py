#!/usr/bin/python3
"""Peer for bench/walk_bench: the same walks in numba, the way PecanPy does.

The graph is the generated follow file read as an undirected view: each
vertex's neighbours are its followees then its followers (a reciprocal pair
counts twice), CSR with sorted neighbour lists, as graphrec's "both" view.
Uniform walks and node2vec walks by rejection sampling (KnightKing's method;
PecanPy's SparseOTF computes the same distribution by scanning), one walk per
(start, round), numba prange over 2 threads. Prints one JSON line per kind.
Usage: /usr/bin/python3 bench/peer_walks.py FOLLOWS.tsv [walk_length num_walks p q]
"""
import json
import os
import sys
import time

import numba
import numpy as np
import pandas as pd
from numba import njit, prange


@njit(cache=False)
def _has_edge(indptr, indices, u, x):
    lo, hi = indptr[u], indptr[u + 1]
    while lo < hi:  # sorted, possibly with repeats
        mid = (lo + hi) // 2
        if indices[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo < indptr[u + 1] and indices[lo] == x


@njit(parallel=True, cache=False)
def uniform_walks(indptr, indices, starts, walk_length, seed):
    n = starts.shape[0]
    steps = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        np.random.seed(seed + i)
        cur = starts[i]
        k = 1
        while k < walk_length:
            deg = indptr[cur + 1] - indptr[cur]
            if deg == 0:
                break
            cur = indices[indptr[cur] + np.random.randint(deg)]
            k += 1
        steps[i] = k
    return steps.sum()


@njit(parallel=True, cache=False)
def node2vec_walks(indptr, indices, starts, walk_length, p, q, seed):
    n = starts.shape[0]
    steps = np.zeros(n, dtype=np.int64)
    inv_p, inv_q = 1.0 / p, 1.0 / q
    max_bias = max(inv_p, 1.0, inv_q)
    for i in prange(n):
        np.random.seed(seed + i)
        prev = -1
        cur = starts[i]
        k = 1
        while k < walk_length:
            deg = indptr[cur + 1] - indptr[cur]
            if deg == 0:
                break
            while True:
                nxt = indices[indptr[cur] + np.random.randint(deg)]
                if prev < 0:
                    break
                if nxt == prev:
                    bias = inv_p
                elif _has_edge(indptr, indices, prev, nxt):
                    bias = 1.0
                else:
                    bias = inv_q
                if np.random.random() * max_bias < bias:
                    break
            prev = cur
            cur = nxt
            k += 1
        steps[i] = k
    return steps.sum()


def load(path):
    df = pd.read_csv(path, sep="\t", header=0, usecols=[0, 1], names=["src", "dst"],
                     dtype={"src": np.uint64, "dst": np.uint64})
    codes, uniques = pd.factorize(pd.concat([df["src"], df["dst"]], ignore_index=True), sort=True)
    m = len(df)
    src = np.concatenate([codes[:m], codes[m:]]).astype(np.int64)
    dst = np.concatenate([codes[m:], codes[:m]]).astype(np.int32)
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    n = len(uniques)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return np.cumsum(indptr), dst, n


def main():
    path = sys.argv[1]
    walk_length = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    num_walks = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    p = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
    q = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    numba.set_num_threads(int(os.environ.get("GR_BENCH_THREADS", "2")))
    indptr, indices, n = load(path)
    starts = np.tile(np.arange(n, dtype=np.int32), num_walks)
    np.random.default_rng(1).shuffle(starts)
    warm = starts[:1000]
    uniform_walks(indptr, indices, warm, walk_length, 1)  # JIT compile outside the timing
    node2vec_walks(indptr, indices, warm, walk_length, p, q, 1)
    for kind in ("uniform", "node2vec"):
        t0 = time.perf_counter()
        if kind == "uniform":
            steps = uniform_walks(indptr, indices, starts, walk_length, 7)
        else:
            steps = node2vec_walks(indptr, indices, starts, walk_length, p, q, 7)
        seconds = time.perf_counter() - t0
        print(json.dumps({"peer": "numba", "kind": kind, "vertices": n, "edges": int(len(indices)),
                          "walks": len(starts), "steps": int(steps), "seconds": round(seconds, 2),
                          "steps_per_second": round(steps / seconds)}))


if __name__ == "__main__":
    main()
