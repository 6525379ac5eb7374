#!/usr/bin/env bash
# The combined abuse test (issue 23): 2,000 idle connections + 50 slow-header
# clients (bench/abuse_load.py) and 40 partial 16 MB messages
# (bench/partial_messages.py) at once against `graphrec serve` on ARTIFACTS,
# while a well-behaved client calls SimilarAccounts; prints its p50/p99 and
# failures and the server's peak RSS.
# Usage: bench/run_abuse_bench.sh ARTIFACTS ACCOUNT_ID [SECONDS]
# GR_BUILD_DIR=build-dev uses an existing build instead of scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$1"; account="$2"; seconds="${3:-30}"
bin="${GR_BUILD_DIR:-build}"
[ "$bin" = build ] && bash scripts/build.sh
log=$(mktemp)
"$bin/apps/graphrec" serve --artifacts "$artifacts" --address 127.0.0.1:0 --stats-log-seconds 0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 600); do
  port=$(sed -n 's/^graphrec serve: listening on port \([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  sleep 0.5
done
[ -n "$port" ] || { cat "$log"; exit 1; }
/usr/bin/python3 bench/partial_messages.py --address "127.0.0.1:$port" --server-pid "$server" --connections 40 \
  --hold $((seconds + seconds / 2)) &
partial=$!
sleep 3
/usr/bin/python3 bench/abuse_load.py --address "127.0.0.1:$port" --account "$account" --server-pid "$server" \
  --idle 2000 --slow 50 --seconds "$seconds"
wait $partial
