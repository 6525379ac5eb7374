#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer configuration (clang-14; every library
# instrumented for coverage, AddressSanitizer and UBSan) in build-fuzz/,
# runs every target of fuzz/ for SECONDS (default 600, a campaign) on a
# working copy of its seed corpus (fuzz/corpus/NAME), and prints each
# target's executions. Any crash, hang (> 10 s), leak, sanitizer report or
# exception other than gr::Error fails the run; the input is saved under
# build-fuzz/crashes/. Then, unless GR_FUZZ_SKIP_TESTS=1, the unit tests of
# those libraries run in the same sanitized build (GR_FUZZ_TEST_EXCLUDE, a
# ctest -E regex, leaves some out).
# GR_FUZZ_RUNS=N stops each target after N inputs instead (within SECONDS).
# Leaks are checked once at the end of each target's run, not after every
# input: libFuzzer's per-input check (an LSan scan of the heap) made runs
# 10-100x slower. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(text_input snapshot embeddings index ranker config_file event_log manifest)

bash scripts/setup.sh >/dev/null

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DGR_BUILD_FUZZERS=ON -DGR_BUILD_TESTS=ON -DGR_WERROR=ON >/dev/null
cmake --build build-fuzz --parallel "$(nproc)"

mkdir -p build-fuzz/crashes
status=0
for target in "${targets[@]}"; do
  work="build-fuzz/corpus/$target"
  mkdir -p "$work"
  log="build-fuzz/$target.log"
  runs=()
  [ -n "${GR_FUZZ_RUNS:-}" ] && runs=(-runs="$GR_FUZZ_RUNS")
  if ! "build-fuzz/fuzz/${target}_fuzz" -max_total_time="$seconds" "${runs[@]}" -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
       -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$target-" "$work" "fuzz/corpus/$target" \
       >"$log" 2>&1; then
    echo "FUZZ FAILURE in $target (log: $log):"
    grep -E "ERROR|runtime error|uncaught|==[0-9]+==|Test unit written" "$log" | head -20
    status=1
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  echo "{\"fuzz_target\": \"$target\", \"seconds\": $seconds, \"executions\": ${execs:-0}, \"corpus\": $(ls "$work" | wc -l)}"
done

if [ "${GR_FUZZ_SKIP_TESTS:-0}" != 1 ]; then
  # GR_FUZZ_TEST_EXCLUDE: a ctest -E regex (CI leaves out the slowest suites).
  # fuzz/lsan.supp: allocations LLVM's OpenMP runtime keeps until exit.
  (cd build-fuzz &&
   LSAN_OPTIONS="suppressions=$PWD/../fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
     ctest --output-on-failure --parallel "$(nproc)" --timeout 900 -E "${GR_FUZZ_TEST_EXCLUDE:-^$}") ||
    status=1
fi
exit $status
