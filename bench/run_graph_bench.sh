#!/usr/bin/env bash
# graph/ benchmark next to its peer, on the same generated follow file:
# graphrec ingest + snapshot load (bench/graph_bench) and pandas+scipy CSR
# (bench/peer_ingest.py). Usage: bench/run_graph_bench.sh [ACCOUNTS] (default 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
export GR_BENCH_ACCOUNTS="${1:-1000000}"
export GR_BENCH_DIR="${GR_BENCH_DIR:-/tmp/graphrec-bench}"
bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c "import pandas, scipy" 2>/dev/null || \
  apt-get install -y -qq python3-pandas python3-scipy libopenblas0-openmp >/dev/null
build/bench/graph_bench --benchmark_counters_tabular=true
follows="$GR_BENCH_DIR/world-$GR_BENCH_ACCOUNTS/follows.tsv"
/usr/bin/python3 bench/peer_ingest.py "$follows"
