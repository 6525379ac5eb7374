#!/usr/bin/env bash
# walk/ benchmark next to its numba peer on the same generated graph:
# uniform and node2vec (p=0.5, q=2) walks, length 80, 10 per vertex, 2 threads.
# Usage: bench/run_walk_bench.sh [ACCOUNTS] (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
export GR_BENCH_ACCOUNTS="${1:-100000}"
export GR_BENCH_DIR="${GR_BENCH_DIR:-/tmp/graphrec-bench}"
bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
/usr/bin/python3 -c "import numba, pandas" 2>/dev/null || \
  apt-get install -y -qq python3-numba python3-pandas libopenblas0-openmp >/dev/null
build/bench/walk_bench --benchmark_counters_tabular=true
/usr/bin/python3 bench/peer_walks.py "$GR_BENCH_DIR/world-$GR_BENCH_ACCOUNTS/follows.tsv" 80 10 0.5 2
