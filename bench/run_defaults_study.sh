#!/usr/bin/env bash
# What walk budget should the nightly batch use by default? Held-out link
# AUC (the batch's own check: newest 5 % of follows, Hadamard features) of
# cold batches at several walk budgets, on generated worlds (WORLD_SEEDS,
# default "1 2") trained with several seeds (TRAIN_SEEDS, default "1 2"),
# then the same budgets on the real graphs of ../shared/data (node
# classification Micro-F1 and hold-out link AUC via graphrec embed/eval).
# Every run: 1 epoch, dim 128, 2 workers, no ranker.
# Usage: bench/run_defaults_study.sh [ACCOUNTS] (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-100000}"
budgets=${BUDGETS:-"10x80 4x40 2x40"}
dir="${GR_BENCH_DIR:-/tmp/graphrec-bench}/defaults-study"
data=../shared/data
bash scripts/build.sh >/dev/null
g=build/apps/graphrec
mkdir -p "$dir"

echo "== generated worlds, $accounts accounts: budget world_seed train_seed auc_hadamard auc_dot hnsw_recall train_s"
for world_seed in ${WORLD_SEEDS:-1 2}; do
  world="$dir/world-$accounts-$world_seed"
  [ -f "$world/follows.tsv" ] || "$g" generate --out "$world" --accounts "$accounts" --seed "$world_seed" >/dev/null 2>&1
  for train_seed in ${TRAIN_SEEDS:-1 2}; do
    for budget in $budgets; do
      walks=${budget%x*} length=${budget#*x}
      rm -rf "$dir/art"
      "$g" batch --input "$world" --artifacts "$dir/art" --num-walks "$walks" --walk-length "$length" \
        --seed "$train_seed" --workers 2 --no-ranker --report "$dir/report.json" >"$dir/batch.log" 2>&1 || true  # a gate rejection still reports
      /usr/bin/python3 - "$dir/report.json" "$budget" "$world_seed" "$train_seed" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m = r["metrics"]
print(sys.argv[2], sys.argv[3], sys.argv[4], f'{m["link_auc_hadamard"]:.4f}', f'{m["link_auc_dot"]:.4f}',
      f'{m["hnsw_recall_at_10"]:.3f}', f'{r["stage_seconds"]["walks + training"]:.1f}')
PY
    done
  done
done

echo "== real graphs: budget data set metric value"
for budget in $budgets; do
  walks=${budget%x*} length=${budget#*x}
  common=(--num-walks "$walks" --walk-length "$length" --workers 2 --seed 1)
  for set in "wiki $data/wiki-2405/Wiki_edgelist.txt $data/wiki-2405/wiki_labels.txt" \
             "cora $data/cora-planetoid/cora_edgelist.txt $data/cora-planetoid/cora_labels.txt" \
             "citeseer $data/citeseer-planetoid/derived/edgelist.txt $data/citeseer-planetoid/derived/labels.txt" \
             "email $data/email-eu-core/email-Eu-core.txt $data/email-eu-core/email-Eu-core-department-labels.txt"; do
    read -r name edges labels <<<"$set"
    "$g" embed --input "$edges" --output "$dir/$name.vec" "${common[@]}" >/dev/null 2>&1
    "$g" eval node-classification --embeddings "$dir/$name.vec" --labels "$labels" 2>/dev/null |
      grep -E '^(Micro|Macro)-F1' | cut -d' ' -f1,2 | tr '\n' ' ' | sed "s/^/$budget $name /"; echo
  done
  for set in "grqc $data/ca-grqc/CA-GrQc.txt" "email $data/email-eu-core/email-Eu-core.txt"; do
    read -r name edges <<<"$set"
    "$g" eval link-prediction --input "$edges" "${common[@]}" 2>/dev/null | grep '^AUC' | sed 's/AUC dot product/dot/; s/AUC Hadamard + logistic regression/Hadamard/' |
      tr '\n' ' ' | sed "s/^/$budget $name-holdout AUC /"; echo
  done
done
