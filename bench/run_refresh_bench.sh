#!/usr/bin/env bash
# The serving refresher (issue 19) on a published version, 2 cores shared by
# the server and the client:
#  (a) event -> refreshed vector and event -> new post in the index latency
#      (bench/refresh_latency: ROUNDS follow + post pushes over SECONDS);
#  (b) refresh throughput and CPU: FOLLOWS new follows pushed at once (the
#      last lines of the world's follows.tsv, reversed), then the pass that
#      refreshes their ends: accounts refreshed, its seconds, accounts/s, and
#      the server's CPU seconds while waiting for it (otherwise idle) over
#      the pass's seconds (cores used).
# Usage: bench/run_refresh_bench.sh ARTIFACTS WORLD [REFRESH_SECONDS] [ROUNDS] [SECONDS] [FOLLOWS]
#   ARTIFACTS  artifacts with a published version of WORLD; its events/ is
#              deleted before and after
#   defaults: refresh every 10 s, 100 rounds over 60 s, 5000 follows
# GR_BUILD_DIR=build-dev uses an existing build instead of scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$1"; world="$2"; refresh="${3:-10}"; rounds="${4:-100}"; seconds="${5:-60}"; follows="${6:-5000}"
bin="${GR_BUILD_DIR:-build}"
[ "$bin" = build ] && bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
tmp=$(mktemp -d)
rm -rf "$artifacts/events"
source bench/serve_util.sh
start_server "$bin" "$artifacts" --refresh-seconds "$refresh" --metrics-address 127.0.0.1:0 --log-level debug
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp" "$artifacts/events" "$serve_log"' EXIT
address="127.0.0.1:$port"
until "$bin/apps/graphrec" query --address "$address" info >/dev/null 2>&1; do sleep 0.5; done
metrics_port=$(sed -n 's/^graphrec serve: metrics on port \([0-9]*\)$/\1/p' "$serve_log")
metric() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$server/stat"; }

# (a) latency: distinct accounts, spread over the file
awk -F'\t' '/^[0-9]/ {if (!seen[$1]++) print $1}' "$world/follows.tsv" | awk -v n=$((2 * rounds)) \
  'NR % 97 == 1 && c < n {print; c++}' >"$tmp/ids.txt"
echo "{\"refresh_seconds\": $refresh, \"latency\": $("$bin/bench/refresh_latency" "$address" "$tmp/ids.txt" "$rounds" "$seconds")}"

# (b) throughput and CPU of one pass over FOLLOWS new follows
tail -n "$follows" "$world/follows.tsv" | awk -F'\t' '{print $2 "\t" $1 "\t" $3}' >"$tmp/follows.tsv"
passes=$(metric graphrec_refresh_passes_total)
refreshed=$(metric graphrec_refreshed_accounts_total)
"$bin/apps/graphrec" events push --address "$address" --follows "$tmp/follows.tsv" >/dev/null 2>&1
# The pass after the push's: wait for two more passes, sampling the CPU.
target=$((passes + 2))
cpu_before=$(cpu_seconds); wall_before=$(date +%s.%N)
until [ "$(metric graphrec_refresh_passes_total)" -ge "$target" ]; do sleep 0.2; done
cpu_after=$(cpu_seconds); wall_after=$(date +%s.%N)
/usr/bin/python3 - "$refreshed" "$(metric graphrec_refreshed_accounts_total)" \
  "$(grep -o 'refresh pass: [0-9]* accounts touched, [0-9]* refreshed ([0-9]* new), [0-9]* pairs, [0-9]* new authors, [0-9]* posts indexed in [0-9.]* s ([a-z0-9., ]*)' "$serve_log" | awk '$6 > max {max = $6; line = $0} END {print line}')" \
  "$cpu_before" "$cpu_after" "$wall_before" "$wall_after" "$follows" <<'EOF'
import json, re, sys
before, after, line, cpu0, cpu1, wall0, wall1, follows = sys.argv[1:]
m = re.search(r"(\d+) refreshed .* in ([0-9.]+) s", line)
accounts, pass_s = (int(m.group(1)), float(m.group(2))) if m else (0, 0.0)
parts = {k: float(v) for k, v in re.findall(r"(setup|training|indices|publishing) ([0-9.]+)", line)}
print(json.dumps({"follows_pushed": int(follows), "accounts_refreshed": int(float(after) - float(before)),
                  "largest_pass": {"accounts": accounts, "seconds": pass_s,
                                   "accounts_per_s": round(accounts / pass_s, 1) if pass_s else None,
                                   "seconds_by_part": parts},
                  "server_cpu_s": round(float(cpu1) - float(cpu0), 2), "wall_s": round(float(wall1) - float(wall0), 2),
                  # the server is otherwise idle: its CPU over the wait is the pass's
                  "cores_during_pass": round((float(cpu1) - float(cpu0)) / pass_s, 2) if pass_s else None}))
EOF
