#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors,
# and runs every test with ctest. Tests that need ../shared/data skip with a
# message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh -DGR_BUILD_TESTS=ON -DGR_WERROR=ON
cd build
ctest --output-on-failure --parallel "$(nproc)" --timeout 600
