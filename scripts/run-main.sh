#!/usr/bin/env bash
# The main job: installs what is missing, builds, generates the built-in
# synthetic world, runs the nightly batch on it (ingest, walks, skip-gram,
# recall indices, ranker, evaluation, quality gate, publish into artifacts/), starts
# the gRPC server on loopback, makes a few queries of each kind with
# graphrec query, and stops the server.
# Usage: scripts/run-main.sh [ACCOUNTS]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
bash scripts/build.sh
graphrec=build/apps/graphrec
world=data/world
echo "== generate: ${accounts} accounts -> ${world}"
"$graphrec" generate --out "$world" --accounts "$accounts" --seed 1
echo "== batch: ${world} -> artifacts/ (a new version, published if it passes the quality gate)"
"$graphrec" batch --input "$world" --artifacts artifacts --report artifacts/last-report.json
echo "== serve artifacts/ on loopback"
"$graphrec" serve --artifacts artifacts --address 127.0.0.1:0 >artifacts/serve.out 2>artifacts/serve.log &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q "listening on port" artifacts/serve.out 2>/dev/null && break; sleep 0.2; done
port=$(grep -o 'port [0-9]*' artifacts/serve.out | awk '{print $2}')
q=("$graphrec" query --address "127.0.0.1:$port")
# A user who follows and interacts: the first follower in the world's follows file.
user=$(awk -F'\t' 'NR == 2 {print $1}' "$world/follows.tsv")
echo "== query info";                         "${q[@]}" info | grep -v manifest_json
echo "== query similar --id $user --k 5";     "${q[@]}" --json similar --id "$user" --k 5
echo "== query authors --id $user --k 5 --exclude (not yet followed)"; "${q[@]}" --json authors --id "$user" --k 5 --exclude
echo "== query posts --id $user --k 5 --exclude (not yet seen)";       "${q[@]}" --json posts --id "$user" --k 5 --exclude
echo "== query posts --id $user --k 5 --exclude --source consistent (the towers distilled from the ranker)"
"${q[@]}" --json posts --id "$user" --k 5 --exclude --source consistent
posts=$("${q[@]}" --json posts --id "$user" --k 10 --exclude |
  /usr/bin/python3 -c 'import json, sys; print(" ".join("--id " + i for i in json.load(sys.stdin)["ids"]))')
echo "== query rank --id $user (the 10 recalled posts, ranked by the multi-task ranker)"
# shellcheck disable=SC2086  # $posts is a list of flags
"${q[@]}" --json rank --id "$user" $posts
echo "== query embeddings --id $user";        "${q[@]}" --json embeddings --id "$user" | cut -c1-200
echo "== query stats";                        "${q[@]}" --json stats
echo "== nightly report: artifacts/$(cat artifacts/CURRENT)/report.html (open it in a browser)"
