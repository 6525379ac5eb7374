#!/usr/bin/python3
"""Peer for bench/walk_bench: the same walks in numba, the way PecanPy does.

The graph is the generated follow file read as an undirected view: each
vertex's neighbours are its followees then its followers (a reciprocal pair
counts twice), CSR with sorted neighbour lists, as graphrec's "both" view.
Uniform walks and node2vec walks by rejection sampling (KnightKing's method;
PecanPy's SparseOTF computes the same distribution by scanning), one walk per
(start, round), numba prange over 2 threads. Prints one JSON line per kind.

By default only the walks are timed (no loading, walks counted, not kept).
With --whole-process OUT.txt the peer does what `graphrec walk` does as a
process, text in and walks out: it times loading the edge list, the walks
kept in an array, and writing them as text (external ids, one walk per
line; formatted in parallel by numba into one buffer, written at once,
fsync'd and renamed into place), and prints the phases. Numba's JIT
compilation happens before the clock starts (in the peer's favour).
Usage: /usr/bin/python3 bench/peer_walks.py FOLLOWS.tsv [walk_length num_walks p q] [--whole-process OUT.txt]
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


@njit(cache=False)
def _node2vec_next(indptr, indices, prev, cur, deg, inv_p, inv_q, max_bias):
    """One node2vec step from cur (degree deg > 0) after prev (-1: none) by rejection sampling."""
    while True:
        nxt = indices[indptr[cur] + np.random.randint(deg)]
        if prev < 0:
            return nxt
        if nxt == prev:
            bias = inv_p
        elif _has_edge(indptr, indices, prev, nxt):
            bias = 1.0
        else:
            bias = inv_q
        if np.random.random() * max_bias < bias:
            return nxt


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
            nxt = _node2vec_next(indptr, indices, prev, cur, deg, inv_p, inv_q, max_bias)
            prev = cur
            cur = nxt
            k += 1
        steps[i] = k
    return steps.sum()


@njit(parallel=True, cache=False)
def uniform_walks_kept(indptr, indices, starts, walk_length, seed, out, lengths):
    for i in prange(starts.shape[0]):
        np.random.seed(seed + i)
        cur = starts[i]
        out[i, 0] = cur
        k = 1
        while k < walk_length:
            deg = indptr[cur + 1] - indptr[cur]
            if deg == 0:
                break
            cur = indices[indptr[cur] + np.random.randint(deg)]
            out[i, k] = cur
            k += 1
        lengths[i] = k


@njit(parallel=True, cache=False)
def node2vec_walks_kept(indptr, indices, starts, walk_length, p, q, seed, out, lengths):
    inv_p, inv_q = 1.0 / p, 1.0 / q
    max_bias = max(inv_p, 1.0, inv_q)
    for i in prange(starts.shape[0]):
        np.random.seed(seed + i)
        prev = -1
        cur = starts[i]
        out[i, 0] = cur
        k = 1
        while k < walk_length:
            deg = indptr[cur + 1] - indptr[cur]
            if deg == 0:
                break
            nxt = _node2vec_next(indptr, indices, prev, cur, deg, inv_p, inv_q, max_bias)
            prev = cur
            cur = nxt
            out[i, k] = cur
            k += 1
        lengths[i] = k


@njit(cache=False)
def _digits(x):
    d = 1
    while x >= 10:
        x //= 10
        d += 1
    return d


@njit(parallel=True, cache=False)
def format_walks(walks, lengths, external_ids):
    """One walk per line, ids separated by spaces: sizes first, then each
    walk written at its offset in parallel."""
    n = walks.shape[0]
    sizes = np.zeros(n + 1, dtype=np.int64)
    for i in prange(n):
        total = 0
        for k in range(lengths[i]):
            total += _digits(external_ids[walks[i, k]]) + 1  # a space or the newline
        sizes[i + 1] = total
    offsets = np.cumsum(sizes)
    buf = np.empty(offsets[n], dtype=np.uint8)
    for i in prange(n):
        pos = offsets[i]
        for k in range(lengths[i]):
            x = external_ids[walks[i, k]]
            d = _digits(x)
            for j in range(d - 1, -1, -1):
                buf[pos + j] = 48 + x % 10
                x //= 10
            pos += d
            buf[pos] = 32 if k + 1 < lengths[i] else 10
            pos += 1
    return buf


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
    # int64: numba turns uint64 arithmetic with int constants into float64
    return np.cumsum(indptr), dst, n, np.asarray(uniques, dtype=np.uint64).astype(np.int64)


def whole_process(path, out_path, walk_length, num_walks, p, q):
    # Compile on a two-line graph first so that the clock sees no JIT.
    tiny_indptr, tiny_indices = np.array([0, 1, 2], dtype=np.int64), np.array([1, 0], dtype=np.int32)
    tiny_starts = np.array([0, 1], dtype=np.int32)
    tiny_out, tiny_len = np.empty((2, 3), dtype=np.int32), np.empty(2, dtype=np.int32)
    uniform_walks_kept(tiny_indptr, tiny_indices, tiny_starts, 3, 1, tiny_out, tiny_len)
    node2vec_walks_kept(tiny_indptr, tiny_indices, tiny_starts, 3, p, q, 1, tiny_out, tiny_len)
    format_walks(tiny_out, tiny_len, np.array([5, 7], dtype=np.int64))
    for kind in ("uniform", "node2vec"):
        t0 = time.perf_counter()
        indptr, indices, n, external_ids = load(path)
        starts = np.tile(np.arange(n, dtype=np.int32), num_walks)
        np.random.default_rng(1).shuffle(starts)
        t1 = time.perf_counter()
        walks = np.empty((len(starts), walk_length), dtype=np.int32)
        lengths = np.empty(len(starts), dtype=np.int32)
        if kind == "uniform":
            uniform_walks_kept(indptr, indices, starts, walk_length, 7, walks, lengths)
        else:
            node2vec_walks_kept(indptr, indices, starts, walk_length, p, q, 7, walks, lengths)
        t2 = time.perf_counter()
        text = format_walks(walks, lengths, external_ids)
        t_formatted = time.perf_counter()
        temporary = out_path + ".tmp"
        with open(temporary, "wb") as f:
            f.write(memoryview(text))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, out_path)
        t3 = time.perf_counter()
        steps = int(lengths.sum())
        print(json.dumps({"peer": "numba", "whole_process": kind, "steps": steps, "bytes": int(text.shape[0]),
                          "load_seconds": round(t1 - t0, 2), "walk_seconds": round(t2 - t1, 2),
                          "format_seconds": round(t_formatted - t2, 2),
                          "output_seconds": round(t3 - t2, 2), "seconds": round(t3 - t0, 2),
                          "steps_per_second": round(steps / (t3 - t0))}))
        del walks, text


def main():
    args = sys.argv[1:]
    out_path = None
    if "--whole-process" in args:
        at = args.index("--whole-process")
        out_path = args[at + 1]
        del args[at:at + 2]
    sys.argv[1:] = args
    path = sys.argv[1]
    walk_length = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    num_walks = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    p = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
    q = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    numba.set_num_threads(int(os.environ.get("GR_BENCH_THREADS", "2")))
    if out_path is not None:
        whole_process(path, out_path, walk_length, num_walks, p, q)
        return
    indptr, indices, n, _ = load(path)
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
