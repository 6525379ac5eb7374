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
source bench/serve_util.sh
start_server "$bin" "$artifacts"
/usr/bin/python3 bench/partial_messages.py --address "127.0.0.1:$port" --server-pid "$server" --connections 40 \
  --hold $((seconds + seconds / 2)) &
partial=$!
sleep 3
/usr/bin/python3 bench/abuse_load.py --address "127.0.0.1:$port" --account "$account" --server-pid "$server" \
  --idle 2000 --slow 50 --seconds "$seconds"
wait $partial
