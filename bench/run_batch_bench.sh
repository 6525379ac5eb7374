#!/usr/bin/env bash
# The whole nightly batch on the generated 1M-account world (~33M follows,
# 20M impressions), 2 cores: graphrec batch (stage times and peak RSS from its
# report) and then the same core job done with the peers (bench/peer_batch.py:
# pandas + numba walks + gensim + Faiss HNSW). Walks: NUM_WALKS x WALK_LENGTH
# per account (default 2 x 40: the 10 x 80 default corpus is 10x larger).
# Extra graphrec batch flags: GR_BATCH_FLAGS, e.g.
# GR_BATCH_FLAGS="--index-precision float16 --ef-construction 64".
# Usage: bench/run_batch_bench.sh [ACCOUNTS] [NUM_WALKS] [WALK_LENGTH]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-1000000}"; walks="${2:-2}"; length="${3:-40}"
root="${GR_BENCH_DIR:-/tmp/graphrec-bench}"
world="$root/world-$accounts"
out="$root/batch-bench-$accounts"
bash scripts/build.sh >/dev/null
[ -f "$world/impressions.tsv" ] || build/apps/graphrec generate --out "$world" --accounts "$accounts" --seed 1
rm -rf "$out"; mkdir -p "$out"
/usr/bin/time -v build/apps/graphrec batch --input "$world" --artifacts "$out/artifacts" --version day1 \
  --num-walks "$walks" --walk-length "$length" --workers 2 --report "$out/report.json" ${GR_BATCH_FLAGS:-} \
  >"$out/batch.out" 2>"$out/batch.log" || true
grep -A30 "^version day1" "$out/batch.out"
grep -E "Maximum resident|Elapsed" "$out/batch.log"
/usr/bin/python3 -c "import numba, gensim, faiss, pandas" 2>/dev/null ||
  apt-get install -y -qq python3-numba python3-gensim python3-faiss python3-pandas libopenblas0-openmp >/dev/null
/usr/bin/python3 bench/peer_batch.py "$world/follows.tsv" "$out/peer" "$walks" "$length"
