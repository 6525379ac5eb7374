#!/usr/bin/env bash
# walk/ benchmark next to its numba peer on the same generated graph:
# uniform and node2vec (p=0.5, q=2) walks, length 80, 10 per vertex, 2 threads.
# Then the whole `graphrec walk` process, text in (follows.tsv, both
# directions as the peer's view) and walks out as text, in steps per second
# of wall time, next to the peer doing the same as a process (its loading,
# walks kept, text formatted and written, fsync'd and renamed), and the ratio.
# Usage: bench/run_walk_bench.sh [ACCOUNTS] (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
export GR_BENCH_ACCOUNTS="${1:-100000}"
export GR_BENCH_DIR="${GR_BENCH_DIR:-/tmp/graphrec-bench}"
bash scripts/build.sh -DGR_BUILD_BENCHMARKS=ON
/usr/bin/python3 -c "import numba, pandas" 2>/dev/null || \
  apt-get install -y -qq python3-numba python3-pandas libopenblas0-openmp >/dev/null
build/bench/walk_bench --benchmark_counters_tabular=true
/usr/bin/python3 bench/peer_walks.py "$GR_BENCH_DIR/world-$GR_BENCH_ACCOUNTS/follows.tsv" 80 10 0.5 2
follows="$GR_BENCH_DIR/world-$GR_BENCH_ACCOUNTS/follows.tsv"
: > "$GR_BENCH_DIR/graphrec_process.json"
for kind in uniform node2vec; do
  pq=(); [ "$kind" = node2vec ] && pq=(--p 0.5 --q 2)
  start=$(date +%s.%N)
  steps=$(build/apps/graphrec walk --input "$follows" --directed --direction both --output "$GR_BENCH_DIR/walks.txt" \
            --num-walks 10 --walk-length 80 --workers 2 "${pq[@]}" 2>/dev/null | awk '/^walks:/ {gsub(/\(/, "", $3); print $3}')
  end=$(date +%s.%N)
  /usr/bin/python3 -c 'import json, sys; steps, secs = int(sys.argv[2]), float(sys.argv[3]) - float(sys.argv[4])
print(json.dumps({"graphrec_walk_process": sys.argv[1], "steps": steps, "seconds": round(secs, 2),
                  "steps_per_second": round(steps / secs), "bytes": int(sys.argv[5])}))' \
    "$kind" "$steps" "$end" "$start" "$(stat -c %s "$GR_BENCH_DIR/walks.txt")" | tee -a "$GR_BENCH_DIR/graphrec_process.json"
done
rm -f "$GR_BENCH_DIR/walks.txt"
/usr/bin/python3 bench/peer_walks.py "$follows" 80 10 0.5 2 --whole-process "$GR_BENCH_DIR/peer_walks.txt" | tee "$GR_BENCH_DIR/peer_process.json"
rm -f "$GR_BENCH_DIR/peer_walks.txt"
/usr/bin/python3 - "$GR_BENCH_DIR" <<'PY'
import json, sys
read = lambda name: [json.loads(line) for line in open(f"{sys.argv[1]}/{name}")]
ours = {r["graphrec_walk_process"]: r["seconds"] for r in read("graphrec_process.json")}
for r in read("peer_process.json"):
    kind = r["whole_process"]
    print(json.dumps({"whole_process_ratio": kind, "graphrec_seconds": ours[kind], "peer_seconds": r["seconds"],
                      "peer_over_graphrec": round(r["seconds"] / ours[kind], 2)}))
PY
