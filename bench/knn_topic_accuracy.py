#!/usr/bin/python3
"""Quality check on the generated world: 10-nearest-neighbour majority vote of the
hidden main topic (account_topics.tsv) from word2vec text vectors, 2,000 random
queries, cosine on the vectors. Usage: knn_topic_accuracy.py TOPICS.tsv VEC [VEC ...]"""
import sys

import numpy as np
from collections import Counter
topic = {}
for i, line in enumerate(open(sys.argv[1])):
    if i: a, t = line.split(); topic[a] = int(t)
def load(path):
    with open(path) as f:
        n, d = map(int, f.readline().split())
        keys, vecs = [], np.zeros((n, d), dtype=np.float32)
        for i, line in enumerate(f):
            parts = line.rstrip().split(' ')
            keys.append(parts[0]); vecs[i] = np.array(parts[1:], dtype=np.float32)
    return keys, vecs
for path in sys.argv[2:]:
    keys, v = load(path)
    v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-12
    y = np.array([topic[k] for k in keys])
    rng = np.random.default_rng(0); q = rng.choice(len(keys), 2000, replace=False)
    sims = v[q] @ v.T
    sims[np.arange(len(q)), q] = -2
    nn = np.argsort(-sims, axis=1)[:, :10]
    acc = np.mean([Counter(y[row]).most_common(1)[0][0] == y[i] for i, row in zip(q, nn)])
    print(path.split('/')[-1], "10-NN topic accuracy", round(float(acc), 3))
