#!/usr/bin/python3
"""Opens `graphrec export` files with the tools users come from, and checks
they answer as graphrec does: Python's hnswlib on the exported accounts index
gives `graphrec recall --kind similar`'s top 10, numpy reads the vectors and
ids, and gensim (when installed) reads the word2vec binary export.

Usage: export_interop.py EXPORT_DIR RECALL_JSONL
EXPORT_DIR holds vectors.npy (+ .ids.npy), vectors.bin (word2vec binary),
accounts.hnswlib (+ .ids.npy, .json); RECALL_JSONL is `graphrec --json recall
--kind similar --k 10` output. Exit 0: all agree; 1: a difference (printed);
77: numpy or hnswlib is not installed (the caller skips).
"""
import json
import os
import sys

try:
    import hnswlib
    import numpy as np
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)


def main():
    export_dir, recall_path = sys.argv[1], sys.argv[2]
    path = lambda name: os.path.join(export_dir, name)  # noqa: E731
    vectors = np.load(path("vectors.npy"))
    ids = np.load(path("vectors.ids.npy"))
    assert vectors.dtype == np.float32 and ids.dtype == np.uint64, (vectors.dtype, ids.dtype)
    assert vectors.shape[0] == ids.shape[0], (vectors.shape, ids.shape)
    row_of = {int(i): r for r, i in enumerate(ids)}

    about = json.load(open(path("accounts.json")))
    index = hnswlib.Index(space=about["space"], dim=about["dim"])
    index.load_index(path("accounts.hnswlib"))
    index.set_ef(about["ef_search"])
    labels_to_ids = np.load(path("accounts.ids.npy"))
    assert index.get_current_count() == about["count"] == len(labels_to_ids)

    failures = 0
    queries = [json.loads(line) for line in open(recall_path) if line.strip()]
    assert queries, "no recall results to compare with"
    for q in queries:
        account = int(q["query"])
        expected = [int(i) for i in q["ids"]]
        labels, _ = index.knn_query(vectors[row_of[account]], k=len(expected) + 1)
        got = [int(labels_to_ids[l]) for l in labels[0] if int(labels_to_ids[l]) != account][: len(expected)]
        if got != expected:
            failures += 1
            print(f"account {account}: hnswlib {got}\n  graphrec {expected}")

    try:
        from gensim.models import KeyedVectors
    except ImportError:
        print("gensim not installed: word2vec binary not checked with gensim")
    else:
        kv = KeyedVectors.load_word2vec_format(path("vectors.bin"), binary=True)
        for key in (str(int(ids[0])), str(int(ids[-1]))):
            if not np.array_equal(kv[key], vectors[row_of[int(key)]]):
                failures += 1
                print(f"gensim's vector of {key} differs from the npy export")
    print(f"{len(queries)} queries compared, {failures} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
