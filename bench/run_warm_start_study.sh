#!/usr/bin/env bash
# Does a nightly warm start pay? A generated world (ACCOUNTS, default 20000,
# 14 days) is cut at the end of day 13 (every record with a timestamp in the
# last day removed) to make "yesterday"; yesterday's batch is published cold;
# then today's full world is run warm (from yesterday's version) and cold,
# each with 10, 5 and 2 walks per account. Prints link-prediction AUC on
# today's newest follows, drift and training time for each.
# Usage: bench/run_warm_start_study.sh [ACCOUNTS]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/warm-start-$accounts"
bash scripts/build.sh >/dev/null
g=build/apps/graphrec
rm -rf "$dir"; mkdir -p "$dir/today" "$dir/yesterday"
"$g" generate --out "$dir/today" --accounts "$accounts" --days 14 --seed 1 >/dev/null 2>&1
# Day 14 starts 13 days after the generator's start time (2026-01-01 00:00 UTC).
cut=$((1767225600 + 13 * 86400))
awk -F'\t' -v cut=$cut 'NR == 1 || $3 < cut' "$dir/today/follows.tsv" >"$dir/yesterday/follows.tsv"
awk -F'\t' -v cut=$cut 'NR == 1 || $3 < cut' "$dir/today/posts.tsv" >"$dir/yesterday/posts.tsv"
awk -F'\t' -v cut=$cut 'NR == 1 || $4 < cut' "$dir/today/interactions.tsv" >"$dir/yesterday/interactions.tsv"
run() {  # name artifacts input walks [flags...]
  local name=$1 artifacts=$2 input=$3 walks=$4; shift 4
  "$g" batch --input "$input" --artifacts "$artifacts" --version "$name" --num-walks "$walks" --workers 2 \
    --report "$dir/$name.json" "$@" >/dev/null 2>&1 || true
  /usr/bin/python3 - "$dir/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m = r["metrics"]
print(f'{sys.argv[2]:24s} AUC dot {m["link_auc_dot"]:.4f} Hadamard {m["link_auc_hadamard"]:.4f}  '
      f'train {r["stage_seconds"].get("walks + training", 0):6.1f} s  '
      f'drift cos {m.get("drift_mean_cosine", float("nan")):.3f} overlap {m.get("drift_neighbour_overlap", float("nan")):.3f}')
PY
}
for walks in 10 5 2; do
  rm -rf "$dir/art-warm-$walks"
  run "yesterday-cold-$walks" "$dir/art-warm-$walks" "$dir/yesterday" 10
  run "today-warm-$walks" "$dir/art-warm-$walks" "$dir/today" "$walks"
  run "today-cold-$walks" "$dir/art-cold-$walks" "$dir/today" "$walks"
done
