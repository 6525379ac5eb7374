#!/usr/bin/env bash
# graphrec serve on a version the batch published (all three indices and
# the ranker): QPS and latency of SimilarAccounts, RecallAuthors,
# RecallPosts (k 10) and Rank (100 and 500 candidates drawn from POSTS) at
# concurrency 1 and 8, from bench/load_gen on the same 2 cores, with the
# server's CPU time per request (from /proc/PID/stat).
# ARTIFACTS: e.g. the directory bench/run_batch_bench.sh publishes into;
# IDS: account ids in the first column (e.g. account_topics.tsv); POSTS:
# post ids in the first column (posts.tsv).
# Usage: bench/run_serve_methods_bench.sh ARTIFACTS IDS POSTS [SECONDS] [EF_SEARCH]
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$1"; ids="$2"; posts="$3"; seconds="${4:-10}"; ef="${5:-0}"
out="$(mktemp -d)"
trap 'kill $server 2>/dev/null || true; rm -rf "$out"' EXIT
cmake -S . -B build -G Ninja -DGR_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build --target graphrec load_gen >/dev/null
build/apps/graphrec serve --artifacts "$artifacts" --address 127.0.0.1:0 --stats-log-seconds 0 --ef-search "$ef" \
  >"$out/serve.out" 2>"$out/serve.log" &
server=$!
for _ in $(seq 600); do grep -q "listening on port" "$out/serve.out" 2>/dev/null && break; sleep 0.5; done
port=$(grep -o 'port [0-9]*' "$out/serve.out" | awk '{print $2}')
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
for run in "similar 10" "authors 10" "posts 10" "rank 100" "rank 500"; do
  set -- $run
  for c in 1 8; do
    before=$(ticks)
    result=$(build/bench/load_gen "127.0.0.1:$port" "$ids" "$c" "$seconds" "$2" "$1" "$posts")
    after=$(ticks)
    echo "$result" | /usr/bin/python3 -c 'import json, sys
r = json.loads(sys.stdin.read()); ticks, hz = (float(a) for a in sys.argv[1:])
r["server_cpu_us_per_request"] = round(1e6 * ticks / hz / max(1, r["requests"]), 1)
print(json.dumps(r))' "$((after - before))" "$(getconf CLK_TCK)"
  done
done
