#!/usr/bin/env bash
# `mpirun -np 2 graphrec embed`: vectors for exactly the accounts a plain run
# gives vectors to, written once (by rank 0), finite; --init starts them as a
# plain run does (the model replicated or partitioned); weighted walks read the
# third field as a weight; a snapshot is read by rank 0 and scattered
# (metapath walks too), an input directory by every rank (the same vectors
# as from its snapshot); metapath walks over an edge list are refused;
# eval link-prediction holds out and scores on the ranks.
# Usage: embed_cli_test.sh GRAPHREC MPIEXEC
set -euo pipefail
graphrec=$1
mpiexec=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpirun() { "$mpiexec" --allow-run-as-root --oversubscribe --bind-to none -np 2 "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

"$graphrec" generate --out "$dir/w" --accounts 800 --days 1 > /dev/null
flags=(--input "$dir/w/follows.tsv" --directed --direction both --num-walks 4 --walk-length 20 --dimensions 16
       --workers 1)
mpirun "$graphrec" embed "${flags[@]}" --output "$dir/ranks.txt" > "$dir/ranks.out"
"$graphrec" embed "${flags[@]}" --output "$dir/plain.txt" > /dev/null

[[ $(grep -c '^vectors: ' "$dir/ranks.out") == 1 ]] || fail "the summary was not printed once: $(cat "$dir/ranks.out")"
[[ $(head -1 "$dir/ranks.txt") == $(head -1 "$dir/plain.txt") ]] ||
  fail "header $(head -1 "$dir/ranks.txt") vs $(head -1 "$dir/plain.txt") in a plain run"
diff <(tail -n +2 "$dir/ranks.txt" | cut -d' ' -f1 | sort) <(tail -n +2 "$dir/plain.txt" | cut -d' ' -f1 | sort) > /dev/null ||
  fail "the accounts differ from a plain run's"
! grep -qi 'nan\|inf' "$dir/ranks.txt" || fail "non-finite vectors"
[[ $(tail -n +2 "$dir/ranks.txt" | awk '{ for (i = 2; i <= NF; ++i) if ($i != 0) { print "set"; exit } }') == set ]] ||
  fail "all vectors are zero"

# --init: the ranks' warm start is a plain run's (accounts copied, those
# missing from the file from their neighbours): at a learning rate too small
# to move anything, both runs' vectors are their starts.
{ head -1 "$dir/plain.txt" | awk '{ print $1 - 100, $2 }'; tail -n +102 "$dir/plain.txt"; } > "$dir/init.txt"
"$graphrec" embed "${flags[@]}" --init "$dir/init.txt" --learning-rate 1e-7 --output "$dir/plain_warm.txt" > /dev/null
for model in replicated partitioned; do
mpirun "$graphrec" embed "${flags[@]}" --training-model "$model" --init "$dir/init.txt" --learning-rate 1e-7 \
  --output "$dir/ranks_warm.txt" > /dev/null
python3 - "$dir/plain_warm.txt" "$dir/ranks_warm.txt" "$dir/init.txt" <<'PY' || fail "warm start under mpirun, $model model"
import sys
def load(path):
    rows = [line.split() for line in open(path).read().splitlines()[1:]]
    return {r[0]: [float(x) for x in r[1:]] for r in rows}
plain, ranks, init = (load(p) for p in sys.argv[1:4])
assert plain.keys() == ranks.keys(), "different accounts"
new = [a for a in plain if a not in init]
assert len(new) == 100, len(new)
worst = max(abs(a - b) for k in plain for a, b in zip(plain[k], ranks[k]))
scale = max(abs(x) for v in plain.values() for x in v)
assert worst < 1e-3 * scale, f"largest difference {worst} (vectors up to {scale})"
moved = max(abs(a - b) for k in init for a, b in zip(init[k], ranks[k]))
assert moved < 1e-3 * scale, f"copied accounts moved by {moved}"
print(f"warm start: {len(init)} copied, {len(new)} from neighbours; largest difference {worst:.2e} of {scale:.2f}")
PY
done

# Weighted walks, first order and node2vec (the third field a weight, as
# without mpirun): the same accounts as a plain run of the same kind.
awk 'NR > 1 { print $1, $2, 1 + NR % 4 }' "$dir/w/follows.tsv" > "$dir/weighted_edges.txt"
wflags=(--input "$dir/weighted_edges.txt" --directed --direction both --num-walks 4 --walk-length 20 --dimensions 16
        --workers 1)
for kind in weighted node2vec; do
  kflags=("${wflags[@]}" --kind "$kind")
  [[ $kind == node2vec ]] && kflags+=(--p 0.5 --q 2 --weighted)
  mpirun "$graphrec" embed "${kflags[@]}" --output "$dir/$kind.txt" > /dev/null
  "$graphrec" embed "${kflags[@]}" --output "$dir/${kind}_plain.txt" > /dev/null
  diff <(tail -n +2 "$dir/$kind.txt" | cut -d' ' -f1 | sort) <(tail -n +2 "$dir/${kind}_plain.txt" | cut -d' ' -f1 | sort) \
    > /dev/null || fail "weighted $kind: the accounts differ from a plain run's"
done

# A snapshot: rank 0 reads it and sends every rank its part, as the batch
# does; an input directory: every rank reads a byte range of each file.
# Account walks and metapath walks over the interactions give the accounts
# (and posts) of a plain run and walk as many tokens, and the directory
# gives the snapshot's vectors; over an edge list, which has no posts,
# metapath walks are refused.
"$graphrec" ingest --follows "$dir/w/follows.tsv" --interactions "$dir/w/interactions.tsv" --posts "$dir/w/posts.tsv" \
  --out "$dir/g.snap" > /dev/null 2>&1
for input in g.snap w; do
sflags=(--input "$dir/$input" --num-walks 4 --walk-length 20 --dimensions 16 --workers 1)
for kind in "--direction both" "--kind metapath --metapath interacts,engaged_by"; do
  read -ra kflags <<< "$kind"
  name="$input ${kflags[*]}"
  mpirun "$graphrec" embed "${sflags[@]}" "${kflags[@]}" --output "$dir/snap.txt" > "$dir/snap.out"
  "$graphrec" embed "${sflags[@]}" "${kflags[@]}" --output "$dir/snap_plain.txt" > "$dir/snap_plain.out"
  diff <(tail -n +2 "$dir/snap.txt" | cut -d' ' -f1 | sort) <(tail -n +2 "$dir/snap_plain.txt" | cut -d' ' -f1 | sort) \
    > /dev/null || fail "$name: the rows differ from a plain run's"
  [[ $(grep '^corpus' "$dir/snap.out" | cut -d';' -f1) == $(grep '^corpus' "$dir/snap_plain.out" | cut -d';' -f1) ]] ||
    fail "$name: $(grep '^corpus' "$dir/snap.out") against a plain run's $(grep '^corpus' "$dir/snap_plain.out")"
  if [[ $input == g.snap ]]; then
    cp "$dir/snap.txt" "$dir/from_snapshot_${kflags[1]}.txt"
  else
    cmp -s "$dir/snap.txt" "$dir/from_snapshot_${kflags[1]}.txt" || fail "$name: not the snapshot's vectors"
  fi
done
done
grep -q '^p' "$dir/snap.txt" || fail "metapath walks from a snapshot: no post rows"
status=0
mpirun "$graphrec" embed "${flags[@]}" --kind metapath --metapath interacts,engaged_by --output "$dir/metapath.txt" \
  2> "$dir/metapath.err" || status=$?
[[ $status != 0 ]] || fail "metapath walks over an edge list were accepted under mpirun"
grep -q "metapath walks need the interactions and posts" "$dir/metapath.err" || fail "unclear refusal: $(cat "$dir/metapath.err")"
[[ ! -e "$dir/metapath.txt" ]] || fail "a refused run wrote vectors"

# eval link-prediction from an input directory: the ranks hold out exactly
# the follows a plain run holds out (the same split files) and score about
# as well; a snapshot is refused (one process would hold it whole).
eflags=(--input "$dir/w" --hold-out newest --test-fraction 0.1 --num-walks 4 --walk-length 20 --dimensions 16
        --workers 1 --json)
mpirun "$graphrec" eval link-prediction "${eflags[@]}" --write-split "$dir/split_ranks" > "$dir/eval_ranks.json"
"$graphrec" eval link-prediction "${eflags[@]}" --write-split "$dir/split_plain" > "$dir/eval_plain.json"
for f in train_edges test_edges; do
  cmp -s "$dir/split_ranks/$f.txt" "$dir/split_plain/$f.txt" || fail "eval under mpirun: $f.txt differs from a plain run's"
done
python3 - "$dir/eval_ranks.json" "$dir/eval_plain.json" <<'PY' || fail "eval under mpirun: $(cat "$dir/eval_ranks.json")"
import json, sys
ranks, plain = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("train_edges", "train_non_edges", "test_edges", "test_non_edges"):
    assert ranks[key] == plain[key], (key, ranks[key], plain[key])
assert ranks["test_edges"] > 0
assert abs(ranks["auc_dot"] - plain["auc_dot"]) < 0.05, (ranks["auc_dot"], plain["auc_dot"])
print(f"eval: dot AUC {ranks['auc_dot']:.4f} on 2 ranks, {plain['auc_dot']:.4f} in one process")
PY
for run in mpirun ""; do
  $run "$graphrec" eval link-prediction "${eflags[@]}" --max-pairs 200 > "$dir/eval_sampled.json"
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert all(r[k] == 200 for k in
    ("train_edges", "train_non_edges", "test_edges", "test_non_edges")), r' "$dir/eval_sampled.json" ||
    fail "eval --max-pairs 200 ${run:-without mpirun}: $(cat "$dir/eval_sampled.json")"
done
status=0
mpirun "$graphrec" eval link-prediction "${eflags[@]}" --max-pairs 200 --write-split "$dir/x" > /dev/null \
  2> "$dir/eval_split.err" || status=$?
[[ $status != 0 ]] && grep -q "needs every pair" "$dir/eval_split.err" || fail "--write-split with --max-pairs under mpirun"
status=0
mpirun "$graphrec" eval link-prediction "${eflags[@]/$dir\/w/$dir/g.snap}" > /dev/null 2> "$dir/eval_snap.err" || status=$?
[[ $status != 0 ]] && grep -q "not the snapshot" "$dir/eval_snap.err" ||
  fail "eval of a snapshot under mpirun: $(tail -3 "$dir/eval_snap.err")"
echo "PASS"
