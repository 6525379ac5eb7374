#!/usr/bin/env bash
# Ranker-consistent recall on the generated world, split by time (issue 22):
# for each seed, generate a world (ACCOUNTS accounts, 60 impressions each),
# cut every input file at the start of the last impression day (follows,
# interactions, posts and impressions dated before it), run the nightly
# batch on the cut input (vectors, indices, ranker: nothing of the last day),
# then bench/consistent_recall_study at the cutoff: the towers trained
# without and with causal pairs, recall's consistency with the ranker per
# source and K, and recall@50 of the last day's clicks by popularity decile,
# coverage and mean popularity. Prints the study's JSON lines, one file per
# seed in the bench directory.
# Usage: bench/run_consistent_recall.sh [ACCOUNTS] [SEEDS...]
# GR_BUILD_DIR=build-dev reuses a build; GR_STUDY_FLAGS adds study flags
# (e.g. --causal-weights 1,3).
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-10000}"
shift || true
seeds=("${@:-1 2 3}")
read -r -a seeds <<<"${seeds[*]}"
out="${GR_BENCH_DIR:-/tmp/graphrec-bench}/consistent-recall"
mkdir -p "$out"
build="${GR_BUILD_DIR:-build}"
[[ -n "${GR_BUILD_DIR:-}" ]] || bash scripts/build.sh >/dev/null
g="$build/apps/graphrec"
study="$build/bench/consistent_recall_study"
read -r -a extra <<<"${GR_STUDY_FLAGS:-}"

for seed in "${seeds[@]}"; do
  w="$out/world-$accounts-$seed"
  if [[ ! -f "$w/impressions.tsv" ]]; then
    rm -rf "$w"
    "$g" generate --out "$w" --accounts "$accounts" --impressions-per-account 60 --seed "$seed" >/dev/null 2>&1
  fi
  # The cutoff: midnight (UTC) of the last impression's day.
  cutoff=$(awk -F'\t' 'NR > 1 && $3 > m { m = $3 } END { print int(m / 86400) * 86400 }' "$w/impressions.tsv")
  cut="$w/cut"
  v="$w/artifacts/cut"
  if [[ ! -f "$v/ranker.bin" ]]; then  # the cut input's version, reused by later runs
    rm -rf "$cut" "$w/artifacts"
    mkdir -p "$cut"
    # The timestamp's column: follows 3, interactions 4, posts 3, impressions 3.
    awk -F'\t' -v t="$cutoff" 'NR == 1 || $3 < t' "$w/follows.tsv" >"$cut/follows.tsv"
    awk -F'\t' -v t="$cutoff" 'NR == 1 || $4 < t' "$w/interactions.tsv" >"$cut/interactions.tsv"
    awk -F'\t' -v t="$cutoff" 'NR == 1 || $3 < t' "$w/posts.tsv" >"$cut/posts.tsv"
    awk -F'\t' -v t="$cutoff" 'NR == 1 || $3 < t' "$w/impressions.tsv" >"$cut/impressions.tsv"
    "$g" batch --input "$cut" --artifacts "$w/artifacts" --version cut --seed "$seed" --no-consistent-recall \
      --consistency-accounts 0 >"$w/batch.log" 2>&1
  fi
  "$study" --graph "$v/graph.snap" --embeddings "$v/accounts.emb" --ranker "$v/ranker.bin" \
    --impressions "$w/impressions.tsv" --cutoff "$cutoff" --seed "$seed" "${extra[@]}" \
    2>"$w/study.log" | tee "$w/study.jsonl"
done
