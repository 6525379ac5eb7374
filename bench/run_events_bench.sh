#!/usr/bin/env bash
# Real-time benchmarks (issue 18) on a published version, 2 cores shared by
# the server and its clients:
#  (a) `graphrec events push` events/s while load_gen keeps embedding recall
#      busy (one request in flight), and the live graph's bytes per delta edge;
#  (b) event -> visible in WALKS recall (bench/event_latency);
#  (c) WALKS and MIXED recall throughput and latency (load_gen, 8 in flight).
# Usage: bench/run_events_bench.sh ARTIFACTS WORLD [EVENTS] [SECONDS]
#   ARTIFACTS  artifacts with a published version of WORLD; its events/ is
#              deleted before and after
#   WORLD      the generated world: the last EVENTS (default 2000000) lines of
#              its interactions.tsv and a quarter as many of follows.tsv are pushed
# GR_BUILD_DIR=build-dev uses an existing build instead of scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$1"; world="$2"; events="${3:-2000000}"; seconds="${4:-10}"
bin="${GR_BUILD_DIR:-build}"
[ "$bin" = build ] && bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
tmp=$(mktemp -d)
rm -rf "$artifacts/events"
source bench/serve_util.sh
start_server "$bin" "$artifacts"
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp" "$artifacts/events" "$serve_log"' EXIT
address="127.0.0.1:$port"
awk -F'\t' '/^[0-9]/ && n < 10000 {if (!seen[$1]++) {print $1; n++}}' "$world/follows.tsv" >"$tmp/ids.txt"
tail -n "$events" "$world/interactions.tsv" >"$tmp/interactions.tsv"
tail -n $((events / 4)) "$world/follows.tsv" | awk -F'\t' '{print $2 "\t" $1 "\t" $3}' >"$tmp/follows.tsv"  # reversed: new edges

# (a) ingestion under query load
# (the query load runs 15 s around the push; the push starts after 1 s)
"$bin/bench/load_gen" "$address" "$tmp/ids.txt" 1 15 10 posts >"$tmp/load.json" 2>&1 &
load=$!
sleep 1
push=$("$bin/apps/graphrec" events push --address "$address" --follows "$tmp/follows.tsv" \
         --interactions "$tmp/interactions.tsv" 2>/dev/null | sed -n 's/^events: //p')
wait $load
info=$("$bin/apps/graphrec" query --address "$address" --json info)
echo "{\"ingestion\": \"$push\", \"query_load_during\": $(cat "$tmp/load.json" 2>/dev/null || echo null)}"
echo "$info" | /usr/bin/python3 -c 'import json, sys
i = json.load(sys.stdin); g = lambda k: int(i.get(k, 0))
entries = g("live_follows") * 2 + g("live_interactions") * 2  # each edge is listed from both ends
print(json.dumps({"live_follows": g("live_follows"), "live_interactions": g("live_interactions"),
                  "live_delta_bytes": g("live_delta_bytes"),
                  "bytes_per_delta_edge": round(g("live_delta_bytes") / max(1, entries / 2), 1)}))'

# (b) event -> visible in WALKS recall
author=$(awk -F'\t' '/^[0-9]/ {print $2; exit}' "$world/posts.tsv")
"$bin/bench/event_latency" "$address" "$author" 200

# (c) live recall throughput
for method in walk-posts walk-authors mixed-posts posts; do
  "$bin/bench/load_gen" "$address" "$tmp/ids.txt" 8 "$seconds" 50 "$method"
done
