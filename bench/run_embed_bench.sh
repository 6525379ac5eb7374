#!/usr/bin/env bash
# graphrec embed next to gensim's Word2Vec on the same walks: the generated
# world's follow graph (ACCOUNTS, default 20000), uniform walks, length 80,
# NUM_WALKS per vertex (default 10), dim 128, window 10, 5 negatives, 1 epoch,
# 2 threads. Prints tokens/s for both, then the 10-NN topic accuracy of both.
# Usage: bench/run_embed_bench.sh [ACCOUNTS] [NUM_WALKS]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
walks="${2:-10}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/embed-$accounts"
bash scripts/build.sh >/dev/null
/usr/bin/python3 -c "import gensim" 2>/dev/null || apt-get install -y -qq python3-gensim libopenblas0-openmp >/dev/null
g=build/apps/graphrec
mkdir -p "$dir"
[ -f "$dir/follows.snap" ] || { "$g" generate --out "$dir" --accounts "$accounts" >/dev/null;
  "$g" ingest --follows "$dir/follows.tsv" --out "$dir/follows.snap" >/dev/null; }
"$g" walk --input "$dir/follows.snap" --output "$dir/walks.txt" --num-walks "$walks" --walk-length 80 --workers 2 >/dev/null
"$g" embed --input "$dir/follows.snap" --output "$dir/graphrec.vec" --num-walks "$walks" --walk-length 80 \
  --dimensions 128 --window-size 10 --epochs 1 --workers 2 2>/dev/null
/usr/bin/python3 bench/peer_word2vec.py "$dir/walks.txt" 128 1 2 "$dir/gensim.vec"
/usr/bin/python3 bench/knn_topic_accuracy.py "$dir/account_topics.tsv" "$dir/graphrec.vec" "$dir/gensim.vec"
