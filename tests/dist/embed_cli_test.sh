#!/usr/bin/env bash
# `mpirun -np 2 graphrec embed`: vectors for exactly the accounts a plain run
# gives vectors to, written once (by rank 0), finite; kinds of walks that are
# not distributed yet are refused with a usage error naming them.
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

status=0
mpirun "$graphrec" embed "${flags[@]}" --kind weighted --output "$dir/weighted.txt" 2> "$dir/weighted.err" || status=$?
[[ $status != 0 ]] || fail "weighted walks were accepted under mpirun"
grep -q "weighted walks are not distributed yet" "$dir/weighted.err" || fail "unclear refusal: $(cat "$dir/weighted.err")"
[[ ! -e "$dir/weighted.txt" ]] || fail "a refused run wrote vectors"
echo "PASS"
