#!/usr/bin/env bash
# Embedding quality on the real data sets of ../shared/data, graphrec next to
# gensim's Word2Vec trained on the very same walk file (graphrec walk and
# graphrec embed with one seed produce the same walks). Defaults as in the
# papers' DeepWalk settings: uniform walks, 10 per vertex, length 80, dim
# 128, window 10, 5 negatives; EPOCHS (default 1). 2 threads.
#   node classification: wiki-2405, cora (OpenNE edge list), citeseer,
#     email-eu-core (undirected view), train fraction 0.5, 10 splits;
#   link prediction: ca-grqc's fixed GraphGAN split, and hold-out splits
#     (50% of edges, spanning forest kept) of ca-grqc and email-eu-core.
# Usage: bench/run_quality.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-1}"
data=../shared/data
out="${GR_BENCH_DIR:-/tmp/graphrec-bench}/quality"
mkdir -p "$out"
bash scripts/build.sh >/dev/null
/usr/bin/python3 -c "import gensim" 2>/dev/null || apt-get install -y -qq python3-gensim libopenblas0-openmp >/dev/null
g=build/apps/graphrec
common=(--num-walks 10 --walk-length 80 --workers 2 --seed 1)

# Trains both on EDGES; leaves $out/NAME.graphrec.vec and $out/NAME.gensim.vec.
train_both() {
  local name=$1 edges=$2
  "$g" walk --input "$edges" --output "$out/$name.walks" "${common[@]}" 2>/dev/null
  "$g" embed --input "$edges" --output "$out/$name.graphrec.vec" "${common[@]}" --epochs "$epochs" 2>/dev/null |
    grep -o 'training: .*' | sed "s/^/$name graphrec /"
  /usr/bin/python3 bench/peer_word2vec.py "$out/$name.walks" 128 "$epochs" 2 "$out/$name.gensim.vec" |
    sed "s/^/$name gensim /"
}

node_classification() {
  local name=$1 edges=$2 labels=$3
  train_both "$name" "$edges"
  for who in graphrec gensim; do
    echo "== $name node classification, $who"
    "$g" eval node-classification --embeddings "$out/$name.$who.vec" --labels "$labels" 2>/dev/null | tail -2
  done
}

link_prediction() {
  local name=$1 train=$2 test=$3 test_neg=$4
  train_both "$name" "$train"
  for who in graphrec gensim; do
    echo "== $name link prediction, $who"
    "$g" eval link-prediction --embeddings "$out/$name.$who.vec" --train-edges "$train" --test-edges "$test" \
      --test-non-edges "$test_neg" 2>/dev/null | tail -3
  done
}

node_classification wiki "$data/wiki-2405/Wiki_edgelist.txt" "$data/wiki-2405/wiki_labels.txt"
node_classification cora "$data/cora-planetoid/cora_edgelist.txt" "$data/cora-planetoid/cora_labels.txt"
node_classification citeseer "$data/citeseer-planetoid/derived/edgelist.txt" "$data/citeseer-planetoid/derived/labels.txt"
node_classification email "$data/email-eu-core/email-Eu-core.txt" "$data/email-eu-core/email-Eu-core-department-labels.txt"
split="$data/ca-grqc/graphgan-split"
link_prediction grqc-fixed "$split/CA-GrQc_train.txt" "$split/CA-GrQc_test.txt" "$split/CA-GrQc_test_neg.txt"
for set in "grqc-holdout $data/ca-grqc/CA-GrQc.txt" "email-holdout $data/email-eu-core/email-Eu-core.txt"; do
  read -r name edges <<<"$set"
  "$g" eval link-prediction --input "$edges" --write-split "$out/$name" "${common[@]}" --epochs "$epochs" 2>/dev/null |
    sed "s/^/$name graphrec (hold-out mode) /"
  link_prediction "$name" "$out/$name/train_edges.txt" "$out/$name/test_edges.txt" "$out/$name/test_non_edges.txt"
done
