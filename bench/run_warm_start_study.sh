#!/usr/bin/env bash
# Does a nightly warm start pay? A generated world (ACCOUNTS, default 20000,
# 14 days) is cut at the end of day 13 (every record with a timestamp in the
# last day removed) to make "yesterday"; yesterday's batch is published cold
# with 3 epochs; then today's full world is trained cold with 1, 2 and 3
# epochs and warm (from yesterday's version) with 1 and 2. Every run walks
# WALKS (default 2) walks of LENGTH (default 40) per account per epoch, the
# nightly budget of the 1M benchmark (bench/run_batch_bench.sh). Prints the
# link-prediction AUC on today's newest follows, drift from yesterday and the
# training time of each run. SEED (default 1) seeds the walks and training.
# Usage: bench/run_warm_start_study.sh [ACCOUNTS] [WALKS] [LENGTH] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
walks="${2:-2}"
length="${3:-40}"
seed="${4:-1}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/warm-start-$accounts-$seed"
bash scripts/build.sh >/dev/null
g=build/apps/graphrec
rm -rf "$dir"; mkdir -p "$dir/today" "$dir/yesterday"
"$g" generate --out "$dir/today" --accounts "$accounts" --days 14 --seed 1 >/dev/null 2>&1
# Day 14 starts 13 days after the generator's start time (2026-01-01 00:00 UTC).
cut=$((1767225600 + 13 * 86400))
awk -F'\t' -v cut=$cut 'NR == 1 || $3 < cut' "$dir/today/follows.tsv" >"$dir/yesterday/follows.tsv"
awk -F'\t' -v cut=$cut 'NR == 1 || $3 < cut' "$dir/today/posts.tsv" >"$dir/yesterday/posts.tsv"
awk -F'\t' -v cut=$cut 'NR == 1 || $4 < cut' "$dir/today/interactions.tsv" >"$dir/yesterday/interactions.tsv"
run() {  # name artifacts input epochs [flags...]
  local name=$1 artifacts=$2 input=$3 epochs=$4; shift 4
  "$g" batch --input "$input" --artifacts "$artifacts" --version "$name" --num-walks "$walks" \
    --walk-length "$length" --epochs "$epochs" --seed "$seed" --workers 2 --no-ranker --report "$dir/$name.json" "$@" \
    >"$dir/$name.log" 2>&1 || true
  /usr/bin/python3 - "$dir/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m = r["metrics"]
print(f'{sys.argv[2]:24s} AUC dot {m["link_auc_dot"]:.4f} Hadamard {m["link_auc_hadamard"]:.4f}  '
      f'train {r["stage_seconds"].get("walks + training", 0):6.1f} s  '
      f'drift cos {m.get("drift_mean_cosine", float("nan")):.3f} overlap {m.get("drift_neighbour_overlap", float("nan")):.3f}')
PY
}
run yesterday "$dir/art-warm" "$dir/yesterday" 3
for epochs in 1 2; do
  rm -rf "$dir/art-warm-$epochs"; cp -r "$dir/art-warm" "$dir/art-warm-$epochs"
  run "today-warm-$epochs-epochs" "$dir/art-warm-$epochs" "$dir/today" "$epochs"
done
for epochs in 1 2 3; do run "today-cold-$epochs-epochs" "$dir/art-cold-$epochs" "$dir/today" "$epochs"; done
