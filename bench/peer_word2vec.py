#!/usr/bin/python3
"""Peer for graphrec embed: gensim's Word2Vec (compiled routines) on a walk file.

Skip-gram with negative sampling, the same settings graphrec embed uses by
default (window 10, 5 negatives, sample 1e-3, lr 0.025, min_count 0).
Prints one JSON line: corpus tokens, training seconds, tokens/s.

Mind when comparing quality: in corpus_file mode each gensim worker decays the
learning rate by its own progress measured against the whole corpus, so with
W workers it ends at about (1 - 1/W) x alpha instead of min_alpha (2 workers:
0.025 -> 0.0125, a 1.5x larger mean rate than graphrec's linear decay to ~0).
With workers=1 both schedules are the same.

Usage: /usr/bin/python3 bench/peer_word2vec.py WALKS.txt [dim epochs workers OUT.vec]
"""
import json
import sys
import time

from gensim.models import Word2Vec


def main():
    path = sys.argv[1]
    dim = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    out = sys.argv[5] if len(sys.argv) > 5 else None
    model = Word2Vec(vector_size=dim, window=10, negative=5, sg=1, hs=0, sample=1e-3, alpha=0.025,
                     min_alpha=0.0001 * 0.025, min_count=0, workers=workers, seed=1)
    model.build_vocab(corpus_file=path)
    tokens = model.corpus_total_words
    start = time.perf_counter()
    model.train(corpus_file=path, total_examples=model.corpus_count, total_words=tokens, epochs=epochs)
    seconds = time.perf_counter() - start
    if out:
        model.wv.save_word2vec_format(out)
    print(json.dumps({"peer": "gensim", "version": __import__("gensim").__version__, "tokens": tokens,
                      "epochs": epochs, "seconds": round(seconds, 2),
                      "tokens_per_second": round(tokens * epochs / seconds)}))


if __name__ == "__main__":
    main()
