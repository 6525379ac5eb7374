#!/usr/bin/env bash
# graphrec serve under load: SimilarAccounts (k 10) QPS and latency at
# concurrency 1, 8 and 64 on 2 cores, from bench/load_gen (async gRPC
# client) running on the same machine (so client and server share the 2 cores).
# Artifacts: GRAPH (snapshot) and EMB (graphrec embed --format native),
# indexed with graphrec index into a version directory published by hand;
# query ids: the first column of IDS (header allowed), e.g. the world's
# account_topics.tsv.
# After each load level the server's own CPU time is printed (from
# /proc/PID/stat): with the client on the same cores, QPS / server core
# share estimates what the server alone would sustain.
# PRECISION: the index's vector storage (graphrec index --precision), float32
# by default; each precision keeps its own artifacts.
# Usage: bench/run_serve_bench.sh GRAPH EMB IDS [SECONDS] [EF_SEARCH] [PRECISION]   (EF 0 = the stored 64)
set -euo pipefail
cd "$(dirname "$0")/.."
graph="$1"; emb="$2"; ids="$3"; seconds="${4:-20}"; ef="${5:-0}"; precision="${6:-float32}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/serve-bench"
artifacts="$dir/artifacts"
[ "$precision" = float32 ] || artifacts="$dir/artifacts-$precision"
cmake -S . -B build -G Ninja -DGR_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build --target graphrec load_gen >/dev/null
g=build/apps/graphrec
if [ ! -f "$artifacts/v1/accounts.hnsw" ]; then
  rm -rf "$artifacts"; mkdir -p "$artifacts/v1"
  cp "$graph" "$artifacts/v1/graph.snap"
  cp "$emb" "$artifacts/v1/accounts.emb"
  "$g" index --embeddings "$emb" --graph "$graph" --out "$artifacts/v1" --workers 2 --kinds similar \
    --precision "$precision" 2>/dev/null | tail -1
  echo v1 >"$artifacts/CURRENT"
fi
awk -F'\t' '/^[0-9]/ && n < 10000 {print $1; n++}' "$ids" >"$dir/ids.txt"
"$g" serve --artifacts "$artifacts" --address 127.0.0.1:0 --stats-log-seconds 0 --ef-search "$ef" >"$dir/serve.out" 2>"$dir/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q "listening on port" "$dir/serve.out" 2>/dev/null && break; sleep 0.5; done
port=$(grep -o 'port [0-9]*' "$dir/serve.out" | awk '{print $2}')
server_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
for c in 1 8 64; do
  before=$(server_ticks)
  result=$(build/bench/load_gen "127.0.0.1:$port" "$dir/ids.txt" "$c" "$seconds")
  after=$(server_ticks)
  echo "$result"
  echo "$result" | /usr/bin/python3 -c 'import json, sys
r = json.loads(sys.stdin.read().strip().splitlines()[-1]); ticks, hz, secs = (float(a) for a in sys.argv[1:])
cpu = ticks / hz
print(json.dumps({"concurrency": r.get("concurrency"), "server_cpu_seconds": round(cpu, 2),
                  "server_cores_used": round(cpu / secs, 2),
                  "server_cpu_us_per_request": round(1e6 * cpu / max(1, r["qps"] * secs), 1),
                  "qps_if_server_had_2_cores": round(r["qps"] * 2 / max(1e-9, cpu / secs))}))' "$((after - before))" "$hz" "$seconds"
done
"$g" query --address "127.0.0.1:$port" --json stats
