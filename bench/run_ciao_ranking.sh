#!/usr/bin/env bash
# Ranking on real data: ../shared/data/ciao built into a graph (trust edges +
# ratings before the ranker's period) and impressions (ratings as clicks,
# 4 popularity-drawn unrated items per rating as non-clicks, rating >= 4 as
# interaction, helpfulness as the dwell task, rating <= 2 as negative feedback;
# bench/ciao_impressions.py), then
# the ranker trained on the first 545 days of its period, fusion tuned on the
# next 180, tested on the last 365 - with and without graph features, and per
# architecture. Prints one table row per run (test-day metrics).
# Usage: bench/run_ciao_ranking.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-1}"
out="${GR_BENCH_DIR:-/tmp/graphrec-bench}/ciao-ranking"
rm -rf "$out"; mkdir -p "$out"
build="${GR_BUILD_DIR:-build}"
[[ -n "${GR_BUILD_DIR:-}" ]] || bash scripts/build.sh >/dev/null
g="$build/apps/graphrec"
/usr/bin/python3 bench/ciao_impressions.py ../shared/data/ciao/derived "$out" --seed "$seed"
"$g" ingest --follows "$out/follows.tsv" --interactions "$out/interactions.tsv" --out "$out/graph.snap" >/dev/null 2>&1
# Embeddings: uniform walks over the trust graph, and user-item-user metapath walks over the ratings.
"$g" embed --input "$out/graph.snap" --output "$out/trust.emb" --format native --dimensions 64 \
  --num-walks 10 --walk-length 40 --seed "$seed" >/dev/null 2>&1
"$g" embed --input "$out/graph.snap" --output "$out/ratings.emb" --format native --dimensions 64 \
  --num-walks 10 --walk-length 40 --metapath interacts,engaged_by --seed "$seed" >/dev/null 2>&1
run() {  # embedding, features, architecture
  "$g" rank-train --graph "$out/graph.snap" --embeddings "$out/$1.emb" --impressions "$out/impressions.tsv" \
    --output "$out/ranker.bin" --test-days 365 --validation-days 180 --features "$2" --architecture "$3" \
    --seed "$seed" --json 2>/dev/null |
    /usr/bin/python3 -c 'import json, sys
m = json.loads(sys.stdin.read().strip().splitlines()[-1])["test"]
f = lambda v: "n/a" if v is None else "%.3f" % v
print("| %s | %s | %s | %s | %s | %s | %s | %.3f | %.2f |" % (sys.argv[1], sys.argv[2], sys.argv[3], f(m["auc_click"]),
      f(m["auc_interaction"]), f(m["auc_negative"]), f(m["gauc_click"]), m["dwell_rmse_log"], m["objective"]))' "$1" "$2" "$3"
}
echo "| embedding | features | model | click AUC | interaction AUC | low-rating AUC | click GAUC | helpfulness RMSE (log) | fusion objective |"
echo "|---|---|---|---|---|---|---|---|---|"
run ratings counters mmoe
run ratings counters,social mmoe
run ratings counters,social,clusters mmoe
run ratings counters,social,similarity mmoe
run ratings all mmoe
run trust all mmoe
run ratings counters,social,similarity,embeddings,clusters mmoe
run ratings all single-task
run ratings all shared-bottom
run ratings all ple
run ratings all snr
