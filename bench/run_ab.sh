#!/usr/bin/env bash
# A/B of two builds of graphrec on this machine, alternating A and B in each
# round so that the machine's drift hits both alike:
#   walk   walk_bench (uniform and node2vec, 1 and 2 threads; GR_BENCH_WALKS per vertex)
#   embed  graphrec embed on the same snapshot (tokens/s, 2 workers)
#   serve  graphrec serve of the same artifacts under bench/load_gen
#          (SimilarAccounts k 10, concurrency 8, SECONDS each)
# Both builds need -DGR_BUILD_BENCHMARKS=ON. Prints one line per run; odd
# rounds run A first, even rounds B first.
# Usage: bench/run_ab.sh BUILD_A BUILD_B [ROUNDS] [ACCOUNTS] [SECONDS]
set -euo pipefail
a="$1"; b="$2"; rounds="${3:-3}"; accounts="${4:-100000}"; seconds="${5:-10}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/ab-$accounts"
mkdir -p "$dir"
export GR_BENCH_ACCOUNTS="$accounts" GR_BENCH_WALKS="${GR_BENCH_WALKS:-4}"
g="$a/apps/graphrec"
if [ ! -f "$dir/artifacts/v1/accounts.hnsw" ]; then
  "$g" generate --out "$dir/world" --accounts "$accounts" >/dev/null
  "$g" ingest --follows "$dir/world/follows.tsv" --out "$dir/follows.snap" >/dev/null
  mkdir -p "$dir/artifacts/v1"
  "$g" embed --input "$dir/follows.snap" --output "$dir/artifacts/v1/accounts.emb" --format native \
    --num-walks 2 --walk-length 40 --workers 2 2>/dev/null >/dev/null
  cp "$dir/follows.snap" "$dir/artifacts/v1/graph.snap"
  "$g" index --embeddings "$dir/artifacts/v1/accounts.emb" --graph "$dir/follows.snap" --out "$dir/artifacts/v1" \
    --workers 2 --kinds similar 2>/dev/null | tail -1
  echo v1 >"$dir/artifacts/CURRENT"
  awk -F'\t' '/^[0-9]/ && n < 10000 {print $1; n++}' "$dir/world/account_topics.tsv" >"$dir/ids.txt"
fi

walk() {  # build label: steps per second of wall time
  "$1/bench/walk_bench" --benchmark_filter='Walk' --benchmark_format=csv 2>/dev/null |
    /usr/bin/python3 -c 'import csv, sys
rows = [r for r in csv.reader(sys.stdin)]
head = next(i for i, r in enumerate(rows) if r and r[0] == "name")
names = rows[head]
for r in rows[head + 1:]:
    v = dict(zip(names, r))
    seconds = float(v["real_time"]) * {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[v["time_unit"]]
    print("walk", sys.argv[1], v["name"].split("/iterations")[0], "%.2f M steps/s" % (float(v["steps"]) / seconds / 1e6))' "$2"
}
embed() {
  "$1/apps/graphrec" embed --input "$dir/follows.snap" --output "$dir/ab.vec" --num-walks 4 --walk-length 80 \
    --dimensions 128 --window-size 10 --epochs 1 --workers 2 2>/dev/null |
    awk -v label="$2" '/tokens\/s/ {for (i = 1; i <= NF; ++i) if ($(i) ~ /tokens\/s/) print "embed", label, $(i - 1), "tokens/s"}'
}
serve() {
  "$1/apps/graphrec" serve --artifacts "$dir/artifacts" --address 127.0.0.1:0 --stats-log-seconds 0 \
    >"$dir/serve.out" 2>"$dir/serve.log" &
  local server=$!
  for _ in $(seq 600); do grep -q "listening on port" "$dir/serve.out" 2>/dev/null && break; sleep 0.2; done
  local port
  port=$(grep -o 'port [0-9]*' "$dir/serve.out" | awk '{print $2}')
  "$1/bench/load_gen" "127.0.0.1:$port" "$dir/ids.txt" 8 "$seconds" | tail -1 |
    /usr/bin/python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); print("serve", sys.argv[1], round(r["qps"]), "qps p50", r.get("p50_ms"), "ms p99", r.get("p99_ms"), "ms")' "$2"
  kill "$server"; wait "$server" 2>/dev/null || true
}
# Odd rounds run A first, even rounds B first, so that an order effect
# (warm caches, page cache, clock) does not always favour the same build.
for round in $(seq "$rounds"); do
  echo "# round $round"
  if [ $((round % 2)) -eq 1 ]; then first=("$a" A); second=("$b" B); else first=("$b" B); second=("$a" A); fi
  walk "${first[@]}"; walk "${second[@]}"
  embed "${first[@]}"; embed "${second[@]}"
  serve "${first[@]}"; serve "${second[@]}"
done
