#!/usr/bin/env bash
# cmake --install of this build into a fresh prefix, then examples/cmake_consumer
# built against it with find_package(graphrec), run on karate: each member's
# nearest neighbours must be from its own faction (Zachary's split).
# Usage: install_consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/examples/cmake_consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
out=$("$work/consumer/karate_neighbours" "$source/tests/data/karate.edgelist" 1 34)
echo "$out"
grep -qx "34 vectors of 16" <<<"$out" || { echo "FAIL: expected 34 vectors of 16"; exit 1; }
# The two factions after the split (Zachary 1977): Mr. Hi's (1) and the officer's (34).
hi=" 1 2 3 4 5 6 7 8 11 12 13 14 17 18 20 22 "
for member in 1 34; do
  neighbours=$(sed -n "s/^nearest to $member: //p" <<<"$out")
  [ -n "$neighbours" ] || { echo "FAIL: no neighbours of $member"; exit 1; }
  for n in $neighbours; do
    in_hi=0; [[ "$hi" == *" $n "* ]] && in_hi=1
    want=1; [ "$member" = 34 ] && want=0
    [ "$in_hi" = "$want" ] || { echo "FAIL: $n is a neighbour of $member across the split"; exit 1; }
  done
done
[ -x "$work/prefix/bin/graphrec" ] || { echo "FAIL: graphrec binary not installed"; exit 1; }
echo "ok"
