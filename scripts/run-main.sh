#!/usr/bin/env bash
# The main job: installs what is missing, builds, generates the built-in
# synthetic world, ingests it into a graph snapshot, trains account
# embeddings from walks, builds the recall indices, publishes them as an
# artifact version, starts the gRPC server on loopback, makes a few queries
# of each kind with graphrec query, and stops the server.
# (The steps up to publishing become `graphrec batch` when the pipeline lands.)
# Usage: scripts/run-main.sh [ACCOUNTS]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
bash scripts/build.sh
graphrec=build/apps/graphrec
world=data/world
version="v$(date -u +%Y%m%d-%H%M%S)"
out="artifacts/$version"
mkdir -p "$out"
echo "== generate: ${accounts} accounts -> ${world}"
"$graphrec" generate --out "$world" --accounts "$accounts" --seed 1
echo "== ingest -> $out/graph.snap"
"$graphrec" ingest --follows "$world/follows.tsv" --interactions "$world/interactions.tsv" \
  --posts "$world/posts.tsv" --out "$out/graph.snap"
echo "== stats"
"$graphrec" stats "$out/graph.snap"
echo "== embed: uniform walks (10 per account, length 80) -> skip-gram, 128 dimensions -> $out/accounts.emb"
"$graphrec" embed --input "$out/graph.snap" --output "$out/accounts.emb" --format native --num-walks 10 \
  --walk-length 80 --dimensions 128 --window-size 10
echo "== index: similar accounts, authors, posts -> $out/*.hnsw"
"$graphrec" index --embeddings "$out/accounts.emb" --graph "$out/graph.snap" --out "$out"
echo "== publish: artifacts/CURRENT -> $version"
echo "$version" >artifacts/CURRENT.tmp && mv artifacts/CURRENT.tmp artifacts/CURRENT
echo "== serve on loopback"
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
echo "== query stats";                        "${q[@]}" --json stats
