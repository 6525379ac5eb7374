#!/usr/bin/env bash
# The main job: installs what is missing, builds, generates the built-in
# synthetic world, ingests it into a graph snapshot, prints its statistics,
# and trains account embeddings from walks (word2vec text).
# Usage: scripts/run-main.sh [ACCOUNTS]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-20000}"
bash scripts/build.sh
graphrec=build/apps/graphrec
world=data/world
mkdir -p artifacts
echo "== generate: ${accounts} accounts -> ${world}"
"$graphrec" generate --out "$world" --accounts "$accounts" --seed 1
echo "== ingest -> artifacts/graph.snap"
"$graphrec" ingest --follows "$world/follows.tsv" --interactions "$world/interactions.tsv" \
  --posts "$world/posts.tsv" --out artifacts/graph.snap
echo "== stats"
"$graphrec" stats artifacts/graph.snap
echo "== embed: uniform walks (10 per account, length 80) -> skip-gram, 128 dimensions -> artifacts/accounts.vec"
"$graphrec" embed --input artifacts/graph.snap --output artifacts/accounts.vec --num-walks 10 --walk-length 80 \
  --dimensions 128 --window-size 10
