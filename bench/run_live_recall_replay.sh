#!/usr/bin/env bash
# Recall quality by replay (issue 18), on a generated world or on MovieLens.
#
# Generated: a world of ACCOUNTS accounts and DAYS days; a version is
# published from every day but the last (batch defaults, no ranker), then
# the last day is streamed hour by hour into a live graph and, per hour,
# recall@K of the next hour's interactions is printed for EMBEDDING (the
# stale version), WALKS and MIXED (bench/live_recall_replay).
#   bench/run_live_recall_replay.sh [ACCOUNTS] [DAYS] [USERS] [K]
#
# MovieLens (../shared/data/movielens-100k, real timestamps): ratings become
# interactions (rating >= 4 a like, else a click; item ids offset by 10^6 so
# they never meet account ids); the version is built from every rating before
# the last DAYS days, which are then streamed day by day (a day, not an hour:
# the set has a few hundred ratings a day at its end). No follows, no authors.
#   bench/run_live_recall_replay.sh movielens [DAYS] [K]
#
# Refresher (issue 19): the same world and version, the last day pushed hour
# by hour through the server's event path and refresher; per hour, recall@K
# and AUC of the next hour's interactions for the stale version, the version
# refreshed after each hour, and a version rebuilt from every event before
# the hour's end (23 more batches; bench/refresh_interaction_replay).
#   bench/run_live_recall_replay.sh refresher [ACCOUNTS] [DAYS] [USERS] [K]
#
# GR_BUILD_DIR=build-dev uses an existing build instead of scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${GR_BUILD_DIR:-build}"
[ "$bin" = build ] && bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
batch() {  # input artifacts
  "$bin/apps/graphrec" batch --input "$1" --artifacts "$2" --no-ranker --min-link-auc 0 --min-hnsw-recall 0 \
    >"$1/../batch.log" 2>&1 || { tail -5 "$1/../batch.log" >&2; exit 1; }
}

if [ "${1:-}" = movielens ]; then
  days="${2:-60}"; k="${3:-50}"
  data=../shared/data/movielens-100k/u.data
  [ -f "$data" ] || { echo "run_live_recall_replay: $data not found (see ../shared/data/README.md)" >&2; exit 1; }
  dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/replay-movielens-$days"
  rm -rf "$dir"; mkdir -p "$dir/world" "$dir/before"
  printf 'follower_id\tfollowee_id\ttimestamp\n' >"$dir/world/follows.tsv"
  printf 'post_id\tauthor_id\ttimestamp\n' >"$dir/world/posts.tsv"
  awk -F'\t' 'BEGIN { OFS = "\t"; print "account_id", "post_id", "type", "timestamp", "dwell_ms" }
    { print $1, $2 + 1000000, ($3 >= 4 ? "like" : "click"), $4, 0 }' "$data" >"$dir/world/interactions.tsv"
  newest=$(awk -F'\t' 'NR > 1 && $4 > m { m = $4 } END { print m }' "$dir/world/interactions.tsv")
  cut=$(( (newest / 86400 + 1 - days) * 86400 ))
  awk -F'\t' -v cut="$cut" 'NR == 1 || $4 < cut' "$dir/world/interactions.tsv" >"$dir/before/interactions.tsv"
  cp "$dir/world/follows.tsv" "$dir/world/posts.tsv" "$dir/before/"
  batch "$dir/before" "$dir/artifacts"
  # Every user of a day counts (USERS = all); periods of a day.
  "$bin/bench/live_recall_replay" "$dir/artifacts" "$dir/world" "$cut" "$days" 1000000 "$k" 86400
  exit 0
fi

refresher=false
if [ "${1:-}" = refresher ]; then refresher=true; shift; fi
accounts="${1:-20000}"; days="${2:-7}"; users="${3:-300}"; k="${4:-50}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/replay-$accounts-$days"
rm -rf "$dir"; mkdir -p "$dir"
start=1767225600  # day 0: 2026-01-01
"$bin/apps/graphrec" generate --out "$dir/world" --accounts "$accounts" --days "$days" --start-time "$start" >/dev/null
cut_world() {  # into, before (Unix s): the world's rows before it
  mkdir -p "$1"
  for f in follows interactions posts; do
    col=3; [ "$f" = interactions ] && col=4
    awk -F'\t' -v c="$col" -v cut="$2" 'NR == 1 || $c < cut' "$dir/world/$f.tsv" >"$1/$f.tsv"
  done
}
cut=$((start + (days - 1) * 86400))
cut_world "$dir/before" "$cut"
batch "$dir/before" "$dir/artifacts"
if ! $refresher; then
  "$bin/bench/live_recall_replay" "$dir/artifacts" "$dir/world" "$cut" 24 "$users" "$k"
  exit 0
fi
for hour in $(seq 1 23); do  # the ceiling: rebuilt from every event before each hour's end
  cut_world "$dir/before-$hour" $((cut + hour * 3600))
  batch "$dir/before-$hour" "$dir/retrained/$hour"
  rm -rf "$dir/before-$hour"
done
"$bin/bench/refresh_interaction_replay" "$dir/artifacts" "$dir/world" "$cut" 24 "$users" "$k" "$dir/retrained"
