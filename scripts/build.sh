#!/usr/bin/env bash
# Installs dependencies (scripts/setup.sh) and builds graphrec into build/.
# Extra arguments go to cmake's configure step, e.g. -DGR_NATIVE_ARCH=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
