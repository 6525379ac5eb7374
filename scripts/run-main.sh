#!/usr/bin/env bash
# The main job: installs what is missing, builds, generates the built-in
# synthetic world, ingests it into a graph snapshot and prints its statistics.
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
