#!/usr/bin/env bash
# Ranker architectures and fusion on the generated world (issue 21): for each
# seed, generate a world (ACCOUNTS accounts, 60 impressions each, 14 days),
# ingest it, train dim-64 embeddings, then `graphrec rank-train` with every
# architecture (single-task, shared-bottom, MMoE, PLE, SNR) and print the
# test day's per-task AUCs and dwell RMSE, and MMoE without the matching
# features (their gain). Then, for MMoE, the fusion on the
# test day (which no search saw) with the start weights, click only, CEM and
# ES (search on validation day 1, guard on validation day 2).
# Usage: bench/run_ranker_architectures.sh [ACCOUNTS] [SEEDS...]
# GR_BUILD_DIR=build-dev reuses a build; extra rank-train flags in GR_RANK_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-10000}"
shift || true
seeds=("${@:-1 2 3}")
read -r -a seeds <<<"${seeds[*]}"
out="${GR_BENCH_DIR:-/tmp/graphrec-bench}/ranker-architectures"
mkdir -p "$out"
build="${GR_BUILD_DIR:-build}"
[[ -n "${GR_BUILD_DIR:-}" ]] || bash scripts/build.sh >/dev/null
g="$build/apps/graphrec"
read -r -a extra <<<"${GR_RANK_FLAGS:-}"

row() {  # label seed json-file: one table row of the test-day metrics
  /usr/bin/python3 - "$@" <<'EOF'
import json, sys
label, seed, path = sys.argv[1:4]
j = json.loads(open(path).read().strip().splitlines()[-1])
m = j["test"]
f = lambda v: "n/a" if v is None else "%.4f" % v
print("| %s | %s | %s | %s | %s | %s | %s | %s | %.4f | %.4f |" % (label, seed, f(m["auc_click"]),
      f(m["auc_interaction"]), f(m["auc_negative"]), f(m["auc_profile_visit"]), f(m["auc_completion"]),
      f(m["gauc_click"]), m["dwell_rmse_log"], m["objective"]))
EOF
}

echo "| model | seed | click AUC | interaction AUC | negative AUC | profile visit AUC | completion AUC | click GAUC | dwell RMSE (log) | test objective |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for seed in "${seeds[@]}"; do
  w="$out/world-$accounts-$seed"
  if [[ ! -f "$w/ranker-input.emb" ]]; then
    rm -rf "$w"
    "$g" generate --out "$w" --accounts "$accounts" --impressions-per-account 60 --seed "$seed" >/dev/null 2>&1
    "$g" ingest --follows "$w/follows.tsv" --interactions "$w/interactions.tsv" --posts "$w/posts.tsv" \
      --out "$w/graph.snap" >/dev/null 2>&1
    "$g" embed --input "$w/graph.snap" --output "$w/ranker-input.emb" --format native --dimensions 64 \
      --num-walks 10 --walk-length 40 --seed "$seed" >/dev/null 2>&1
  fi
  train() {  # output-name, rank-train flags...
    local name="$1"
    shift
    "$g" rank-train --graph "$w/graph.snap" --embeddings "$w/ranker-input.emb" --impressions "$w/impressions.tsv" \
      --output "$w/$name.bin" --seed "$seed" --json "${extra[@]}" "$@" >"$w/$name.json" 2>"$w/$name.log"
  }
  for architecture in single-task shared-bottom mmoe ple snr; do
    train "$architecture" --architecture "$architecture"
    row "$architecture" "$seed" "$w/$architecture.json"
  done
  train no-matching --features counters,social,similarity,embeddings,clusters
  row "mmoe without matching" "$seed" "$w/no-matching.json"
  # Fusion on the test day: the same MMoE (same seed: identical weights) under four fusions.
  train fusion-start --no-fusion-search
  row "mmoe, fusion: start" "$seed" "$w/fusion-start.json"
  train fusion-click --no-fusion-search --alpha 0 0 0 0 0 0 --beta 1 0 0 0 0 0
  row "mmoe, fusion: click only" "$seed" "$w/fusion-click.json"
  for method in cem es; do
    train "fusion-$method" --fusion-search "$method"
    row "mmoe, fusion: $method" "$seed" "$w/fusion-$method.json"
    /usr/bin/python3 -c 'import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["training"]["fusion_search"]
print("|  | guard day: start %.4f, best %.4f, %s | | | | | | | | |" % (s.get("guard_start", float("nan")),
      s.get("guard_best", float("nan")), "kept the start" if s["kept_start"] else "kept the search"))' "$w/fusion-$method.json"
  done
done
