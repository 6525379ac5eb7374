#!/usr/bin/env bash
# Recall quality by replay (issue 18): generates a world of ACCOUNTS accounts
# and DAYS days, publishes a version from every day but the last (batch
# defaults, no ranker), then streams the last day hour by hour into a live
# graph and prints, per hour, recall@K of the next hour's interactions for
# EMBEDDING (the stale version), WALKS and MIXED (bench/live_recall_replay).
# Usage: bench/run_live_recall_replay.sh [ACCOUNTS] [DAYS] [USERS] [K]
# GR_BUILD_DIR=build-dev uses an existing build instead of scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"; days="${2:-7}"; users="${3:-300}"; k="${4:-50}"
bin="${GR_BUILD_DIR:-build}"
[ "$bin" = build ] && bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/replay-$accounts-$days"
rm -rf "$dir"; mkdir -p "$dir"
start=1767225600  # day 0: 2026-01-01
"$bin/apps/graphrec" generate --out "$dir/world" --accounts "$accounts" --days "$days" --start-time "$start" >/dev/null
cut=$((start + (days - 1) * 86400))
mkdir -p "$dir/before"
for f in follows interactions posts; do
  col=3; [ "$f" = interactions ] && col=4
  awk -F'\t' -v c="$col" -v cut="$cut" 'NR == 1 || $c < cut' "$dir/world/$f.tsv" >"$dir/before/$f.tsv"
done
"$bin/apps/graphrec" batch --input "$dir/before" --artifacts "$dir/artifacts" --no-ranker --min-link-auc 0 \
  --min-hnsw-recall 0 >/dev/null 2>&1
"$bin/bench/live_recall_replay" "$dir/artifacts" "$dir/world" "$cut" 24 "$users" "$k"
