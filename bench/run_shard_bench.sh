#!/usr/bin/env bash
# Sharded serving against one server on the same version: a batch with
# --index-shards 2 on WORLD (a `graphrec generate` directory), then one
# unsharded server, two shard servers and a front on loopback. Prints each
# server's RSS, the overlap@10 of the front's SimilarAccounts lists with the
# unsharded server's for 300 accounts (HNSW on both sides), and QPS/latency
# of both under bench/load_gen (k 10, concurrency 8), alternating ROUNDS
# times, then event -> answer latency through the front and on the writer. Everything shares this machine's cores: the front's figure is the
# cost of three processes and three rpcs per request, not a scaled-out one.
# Usage: bench/run_shard_bench.sh WORLD [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
world="$1"; rounds="${2:-3}"; seconds="${3:-10}"
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/shard-bench"
build="${GR_BUILD_DIR:-build}"
[ -n "${GR_BUILD_DIR:-}" ] || bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON >/dev/null
g="$build/apps/graphrec"
rm -rf "$dir"; mkdir -p "$dir"
"$g" batch --input "$world" --artifacts "$dir/artifacts" --index-shards 2 --no-ranker >/dev/null 2>"$dir/batch.log"
grep "stage index: done" "$dir/batch.log"

pids=(); names=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# serve NAME FLAGS...: starts a server on a free port; sets $port.
serve() {
  local name="$1"; shift
  "$g" serve --address 127.0.0.1:0 "$@" >"$dir/$name.out" 2>"$dir/$name.log" &
  pids+=($!); names+=("$name")
  port=""
  for _ in $(seq 600); do
    port=$(sed -n 's/^graphrec serve: .*listening on port \([0-9]*\)$/\1/p' "$dir/$name.out")
    [ -n "$port" ] && return 0
    sleep 0.5
  done
  cat "$dir/$name.log"; exit 1
}
# Shard 0 writes the event log; the unsharded server and shard 1 follow it.
serve whole --artifacts "$dir/artifacts" --stats-log-seconds 0 --events follow; whole=$port
serve shard0 --artifacts "$dir/artifacts" --shard 0/2 --stats-log-seconds 0; shard0=$port
serve shard1 --artifacts "$dir/artifacts" --shard 1/2 --stats-log-seconds 0; shard1=$port
serve front --front --shards "127.0.0.1:$shard0,127.0.0.1:$shard1"; front=$port
for i in "${!pids[@]}"; do
  echo "${names[$i]} rss_mb $(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/${pids[$i]}/status")"
done

awk -F'\t' 'NR > 1 {print $1}' "$world/follows.tsv" | sort -u | shuf -n 300 --random-source=<(yes) >"$dir/ids.txt"
ids_of() { "$g" query --address "127.0.0.1:$1" --json similar --id "$2" --k 10 | /usr/bin/python3 -c \
  'import json, sys; print(" ".join(json.load(sys.stdin)["ids"]))'; }
while read -r id; do
  /usr/bin/python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(len(set(a) & set(b)), len(b), int(a == b))' \
    "$(ids_of "$front" "$id")" "$(ids_of "$whole" "$id")"
done <"$dir/ids.txt" | awk '{o += $1; n += $2; s += $3} END {printf "front vs one server: overlap@10 %.4f, identical lists %d of %d\n", o / n, s, NR}'

for _ in $(seq "$rounds"); do
  for target in "one_server $whole" "front_2_shards $front"; do
    set -- $target
    echo "$1 $("$build/bench/load_gen" "127.0.0.1:$2" "$dir/ids.txt" 8 "$seconds" 10 similar 2>/dev/null | tail -1)"
  done
done

# Event -> answer: a post and a follow pushed, then WALKS recall for the new
# account until the post shows. Through the front, the push goes to shard 0
# (the log's writer) and the recall to the account's shard, a follower for
# about half the rounds; straight to shard 0, everything is on the writer.
author=$(awk -F'\t' '/^[0-9]/ {print $2; exit}' "$world/posts.tsv")
for round in $(seq "$rounds"); do
  echo "event_latency writer_shard0 $("$build/bench/event_latency" "127.0.0.1:$shard0" "$author" 100 $((round * 1000)))"
  echo "event_latency front_2_shards $("$build/bench/event_latency" "127.0.0.1:$front" "$author" 100 $((round * 1000 + 500)))"
done
