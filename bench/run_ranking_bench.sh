#!/usr/bin/env bash
# Ranker speed on the generated 20k-account world: training examples/s with
# 1 and 2 threads (one epoch over 100k impressions, dim-128 embeddings: 416
# inputs) and the latency of scoring 500 candidates for one account, with
# its parts (features, model). Usage: bench/run_ranking_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GR_BENCH_DIR="${GR_BENCH_DIR:-/tmp/graphrec-bench}"
bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON >/dev/null
build/bench/ranking_bench --benchmark_counters_tabular=true --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true
