#!/usr/bin/python3
"""Peer for bench/graph_bench: the usual Python way to load a follow graph.

pandas.read_csv (C parser) of `follower, followee, timestamp`, dense ids by
pandas.factorize, then scipy CSR matrices for both directions (what PecanPy-
and gensim-based pipelines do). Prints one JSON line with seconds, edges/s and
peak resident bytes per edge.
Usage: /usr/bin/python3 bench/peer_ingest.py FOLLOWS.tsv
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp


def main(path):
    start = time.perf_counter()
    df = pd.read_csv(path, sep="\t", header=0, names=["src", "dst", "t"],
                     dtype={"src": np.uint64, "dst": np.uint64, "t": np.uint32})
    codes, uniques = pd.factorize(pd.concat([df["src"], df["dst"]], ignore_index=True), sort=True)
    m = len(df)
    src = codes[:m].astype(np.uint32)
    dst = codes[m:].astype(np.uint32)
    n = len(uniques)
    times = df["t"].to_numpy()
    del df, codes
    out = sp.csr_matrix((times, (src, dst)), shape=(n, n))
    out.sum_duplicates()
    inn = sp.csr_matrix((np.ones(m, dtype=np.uint8), (dst, src)), shape=(n, n))
    inn.sum_duplicates()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peer": "pandas+scipy", "edges": int(out.nnz), "accounts": int(n),
                      "seconds": round(seconds, 2), "edges_per_second": round(out.nnz / seconds),
                      "peak_bytes_per_edge": round(peak / out.nnz, 1)}))


if __name__ == "__main__":
    main(sys.argv[1])
