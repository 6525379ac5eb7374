#!/usr/bin/env bash
# Ranker-consistent recall on real data (issue 22): Ciao built as in
# bench/run_ciao_ranking.sh (trust edges + ratings before the ranker's
# period as the graph, ratings in the period as clicked impressions with 4
# popularity-drawn unrated items each as non-clicks), metapath vectors over
# the ratings, the MMoE ranker trained on the period's first 545 days and
# tuned on the next 180; then bench/consistent_recall_study at the start of
# the last 365 days (the held-out clicks): towers without and with causal
# pairs, consistency per source and K, recall@50 of the held-out ratings by
# popularity decile, coverage and mean popularity. Ciao items have no
# authors and no dates: the catalogue is every item the graph holds.
# Usage: bench/run_consistent_recall_ciao.sh [SEED]
# GR_BUILD_DIR=build-dev reuses a build; GR_STUDY_FLAGS adds study flags.
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-1}"
out="${GR_BENCH_DIR:-/tmp/graphrec-bench}/consistent-recall-ciao-$seed"
rm -rf "$out"; mkdir -p "$out"
build="${GR_BUILD_DIR:-build}"
[[ -n "${GR_BUILD_DIR:-}" ]] || bash scripts/build.sh >/dev/null
g="$build/apps/graphrec"
read -r -a extra <<<"${GR_STUDY_FLAGS:-}"
/usr/bin/python3 bench/ciao_impressions.py ../shared/data/ciao/derived "$out" --seed "$seed" >"$out/build.log"
"$g" ingest --follows "$out/follows.tsv" --interactions "$out/interactions.tsv" --out "$out/graph.snap" >/dev/null 2>&1
"$g" embed --input "$out/graph.snap" --output "$out/ratings.emb" --format native --dimensions 64 \
  --num-walks 10 --walk-length 40 --metapath interacts,engaged_by --seed "$seed" >/dev/null 2>&1
"$g" rank-train --graph "$out/graph.snap" --embeddings "$out/ratings.emb" --impressions "$out/impressions.tsv" \
  --output "$out/ranker.bin" --test-days 365 --validation-days 180 --seed "$seed" >"$out/rank-train.log" 2>&1
# The test period's start, as rank-train's split: the newest impression's day + 1 minus 365 days.
cutoff=$(awk -F'\t' 'NR > 1 && $3 > m { m = $3 } END { print (int(m / 86400) + 1 - 365) * 86400 }' "$out/impressions.tsv")
"$build/bench/consistent_recall_study" --graph "$out/graph.snap" --embeddings "$out/ratings.emb" \
  --ranker "$out/ranker.bin" --impressions "$out/impressions.tsv" --cutoff "$cutoff" --window-days 0 \
  --seed "$seed" "${extra[@]}" 2>"$out/study.log" | tee "$out/study.jsonl"
