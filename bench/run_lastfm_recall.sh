#!/usr/bin/env bash
# User -> artist recall on ../shared/data/lastfm-hetrec2011-2k: 20% of each
# user's artists held out, the rest plus the friendship graph embedded
# (uniform walks over the undirected view, 10 x 80, dim 128, EPOCHS epochs),
# author recall (user input vector vs artist output vectors, HNSW, the
# user's kept artists excluded) scored against the held-out artists, next to
# a popularity baseline. Usage: bench/run_lastfm_recall.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-1}"
out="${GR_BENCH_DIR:-/tmp/graphrec-bench}/lastfm-recall"
rm -rf "$out"; mkdir -p "$out"
bash scripts/build.sh >/dev/null
g=build/apps/graphrec
/usr/bin/python3 bench/lastfm_recall.py prepare ../shared/data/lastfm-hetrec2011-2k "$out"
"$g" ingest --follows "$out/follows.tsv" --posts "$out/posts.tsv" --out "$out/graph.snap" >/dev/null 2>&1
"$g" embed --input "$out/graph.snap" --output "$out/vectors.emb" --format native --epochs "$epochs" \
  --workers 2 2>/dev/null | grep -o 'training: .*'
"$g" index --embeddings "$out/vectors.emb" --graph "$out/graph.snap" --out "$out/index" 2>/dev/null | tail -1
"$g" recall --embeddings "$out/vectors.emb" --graph "$out/graph.snap" --index "$out/index" --kind authors \
  --ids-file "$out/users.txt" --k 50 --exclude-known --json >"$out/authors_hnsw.jsonl" 2>/dev/null
"$g" index --embeddings "$out/vectors.emb" --graph "$out/graph.snap" --out "$out/index-exact" --exact >/dev/null 2>&1
"$g" recall --embeddings "$out/vectors.emb" --graph "$out/graph.snap" --index "$out/index-exact" --kind authors \
  --ids-file "$out/users.txt" --k 50 --exclude-known --json >"$out/authors_exact.jsonl" 2>/dev/null
/usr/bin/python3 bench/lastfm_recall.py score "$out" "$out/authors_hnsw.jsonl" "$out/authors_exact.jsonl"
