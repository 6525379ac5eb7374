#!/usr/bin/python3
"""Peer for bench/run_batch_bench.sh: the batch's core done with the peers.

  ingest  pandas reads follows.tsv into an undirected CSR (bench/peer_walks.py)
  walks   numba, uniform, NUM_WALKS x WALK_LENGTH per vertex, 2 threads,
          written as a text corpus (one walk per line) for gensim
  train   gensim Word2Vec (compiled routines) on the corpus: dim 128,
          window 10, 5 negatives, 1 epoch, 2 workers
  index   Faiss IndexHNSWFlat, cosine (normalised, inner product), M 16,
          ef_construction 100 (the batch's settings), 2 threads

No hold-out, evaluation, post vectors or ranker: graphrec's batch does more.
Prints one JSON line: seconds per stage, total, peak RSS.
Usage: /usr/bin/python3 bench/peer_batch.py FOLLOWS.tsv WORK_DIR [NUM_WALKS WALK_LENGTH]
"""
import json
import os
import resource
import sys
import time

import faiss
import numpy as np
from gensim.models import Word2Vec
from numba import njit, prange

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_walks import load  # noqa: E402


@njit(parallel=True, cache=False)
def uniform_walks(indptr, indices, num_vertices, num_walks, walk_length, seed):
    walks = np.full((num_walks * num_vertices, walk_length), -1, dtype=np.int32)
    for w in prange(num_walks * num_vertices):
        np.random.seed(seed + w)
        v = w % num_vertices
        walks[w, 0] = v
        for step in range(1, walk_length):
            lo, hi = indptr[v], indptr[v + 1]
            if lo == hi:
                break
            v = indices[lo + np.random.randint(hi - lo)]
            walks[w, step] = v
    return walks


def main():
    follows, work = sys.argv[1], sys.argv[2]
    num_walks = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    walk_length = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    os.makedirs(work, exist_ok=True)
    seconds = {}
    start = time.perf_counter()
    indptr, indices, n = load(follows)
    seconds["ingest"] = time.perf_counter() - start

    uniform_walks(indptr, indices, 2, 1, 3, 1)  # JIT compile outside the timing
    start = time.perf_counter()
    walks = uniform_walks(indptr, indices, n, num_walks, walk_length, 1)
    corpus = os.path.join(work, "walks.txt")
    with open(corpus, "w") as out:
        for lo in range(0, len(walks), 100000):
            block = walks[lo:lo + 100000]
            out.write("\n".join(" ".join(map(str, row[row >= 0])) for row in block))
            out.write("\n")
    del walks
    seconds["walks"] = time.perf_counter() - start

    start = time.perf_counter()
    model = Word2Vec(corpus_file=corpus, vector_size=128, window=10, negative=5, sg=1, hs=0, sample=1e-3,
                     alpha=0.025, min_count=0, workers=2, epochs=1, seed=1)
    seconds["train"] = time.perf_counter() - start
    tokens = model.corpus_total_words

    start = time.perf_counter()
    x = np.ascontiguousarray(model.wv.vectors, dtype=np.float32)
    faiss.normalize_L2(x)
    faiss.omp_set_num_threads(2)
    index = faiss.IndexHNSWFlat(128, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 100
    index.add(x)
    faiss.write_index(index, os.path.join(work, "accounts.faiss"))
    seconds["index"] = time.perf_counter() - start
    os.remove(corpus)
    print(json.dumps({"peer": "numba + gensim + faiss", "vertices": int(n), "tokens": int(tokens),
                      "stage_seconds": {k: round(v, 1) for k, v in seconds.items()},
                      "total_seconds": round(sum(seconds.values()), 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
