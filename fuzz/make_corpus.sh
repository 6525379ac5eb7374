#!/usr/bin/env bash
# Regenerates the seed corpora of fuzz/corpus from a 60-account generated
# world: the first lines of each text input, and the binary files of one
# tiny published version. Usage: fuzz/make_corpus.sh [GRAPHREC_BINARY]
set -euo pipefail
cd "$(dirname "$0")"
g="$(realpath "${1:-../build/apps/graphrec}")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$g" generate --out "$tmp/world" --accounts 60 --days 3 --seed 3 >/dev/null 2>&1
"$g" batch --input "$tmp/world" --artifacts "$tmp/art" --version v --dimensions 4 --num-walks 1 --walk-length 5 \
  --ranker-epochs 1 --ranker-validation-days 0 --min-link-auc 0 --min-hnsw-recall 0 --min-ranker-auc 0 \
  --workers 1 >/dev/null 2>&1
v="$tmp/art/v"
mkdir -p corpus/{text_input,snapshot,embeddings,index,ranker,config_file}
# text_input: the first byte selects the reader (text_input_fuzz.cc).
selector=(edges follows interactions posts impressions)
for i in 0 1 2 3 4; do
  name=${selector[$i]}
  file="$tmp/world/$name.tsv"
  [ "$name" = edges ] && file="$tmp/world/follows.tsv"
  { printf "\\x$(printf %02x $i)"; head -n 12 "$file"; } >"corpus/text_input/$name"
done
cp "$v/graph.snap" corpus/snapshot/graph.snap
cp "$v/accounts.emb" corpus/embeddings/accounts.emb
"$g" embed --input "$tmp/world/follows.tsv" --output "$tmp/w2v.txt" --dimensions 3 --num-walks 1 --walk-length 4 \
  >/dev/null 2>&1
head -n 6 "$tmp/w2v.txt" | awk 'NR == 1 {print "5 3"; next} {print}' >corpus/embeddings/word2vec.txt
cp "$v/accounts.hnsw" corpus/index/accounts.hnsw
"$g" index --embeddings "$v/accounts.emb" --graph "$v/graph.snap" --out "$tmp/exact" --kinds similar --exact \
  >/dev/null 2>&1
cp "$tmp/exact/accounts.hnsw" corpus/index/exact.idx
cp "$v/ranker.bin" corpus/ranker/ranker.bin
ls -la corpus/*/
