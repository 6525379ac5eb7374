#!/usr/bin/env bash
# graphrec's HNSW index next to Faiss IndexHNSWFlat on the same vectors:
# EMB's input vectors (default: the 1M-account world's, made by
# `graphrec embed --format native`), cosine, M 16, ef_construction 200,
# 10,000 queries drawn from the vectors, exact top-10 from Faiss IndexFlatIP.
# Prints build time, and QPS and recall@10 per ef_search with 1 and 2 threads,
# for graphrec's index with float32 vectors and again with float16.
# Usage: bench/run_index_bench.sh EMB [PRECISIONS]   (default "float32 float16")
set -euo pipefail
cd "$(dirname "$0")/.."
emb="$1"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/index-bench"
mkdir -p "$dir"
cmake -S . -B build -G Ninja -DGR_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build --target index_bench >/dev/null
/usr/bin/python3 -c "import faiss" 2>/dev/null || apt-get install -y -qq python3-faiss libopenblas0-openmp >/dev/null
[ -f "$dir/vectors.f32" ] || build/bench/index_bench export "$emb" "$dir"
/usr/bin/python3 bench/peer_faiss.py "$dir"
for precision in ${2:-float32 float16}; do
  build/bench/index_bench run "$dir" 16 200 "$precision"
done
