#!/usr/bin/python3
"""Peer for bench/index_bench: Faiss IndexHNSWFlat (Debian python3-faiss) on
the exported vectors, cosine (normalised vectors, inner product), same M and
ef_construction. Writes DIR/truth.u32 (exact top-10 by IndexFlatIP) if
absent, then prints one JSON line per (ef_search, threads): QPS, recall@10.
Usage: peer_faiss.py DIR [M EF_CONSTRUCTION]"""
import json
import os
import sys
import time

import faiss
import numpy as np

K = 10


def main():
    d = sys.argv[1]
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    efc = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    x = np.fromfile(f"{d}/vectors.f32", dtype=np.float32).reshape(-1, 128)
    faiss.normalize_L2(x)
    qidx = np.fromfile(f"{d}/queries.u32", dtype=np.uint32)
    q = x[qidx]
    faiss.omp_set_num_threads(2)
    if not os.path.exists(f"{d}/truth.u32"):
        flat = faiss.IndexFlatIP(128)
        flat.add(x)
        _, truth = flat.search(q, K)
        truth.astype(np.uint32).tofile(f"{d}/truth.u32")
        del flat
    truth = np.fromfile(f"{d}/truth.u32", dtype=np.uint32).reshape(-1, K)
    index = faiss.IndexHNSWFlat(128, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = efc
    start = time.perf_counter()
    index.add(x)
    build = time.perf_counter() - start
    print(json.dumps({"engine": "faiss", "version": faiss.__version__, "n": len(x), "M": m,
                      "ef_construction": efc, "build_seconds": build, "build_threads": 2}), flush=True)
    for ef in (16, 32, 64, 128, 256):
        index.hnsw.efSearch = ef
        for threads in (1, 2):
            faiss.omp_set_num_threads(threads)
            start = time.perf_counter()
            _, found = index.search(q, K)
            seconds = time.perf_counter() - start
            hits = sum(len(set(found[i]) & set(truth[i])) for i in range(len(q)))
            print(json.dumps({"engine": "faiss", "ef_search": ef, "threads": threads,
                              "qps": len(q) / seconds, "recall_at_10": hits / (len(q) * K)}), flush=True)


if __name__ == "__main__":
    main()
