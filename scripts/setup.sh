#!/usr/bin/env bash
# Installs graphrec's build and test dependencies from Debian's archive.
# Idempotent: packages already present are skipped, so a second run is a no-op.
# Usage: scripts/setup.sh            (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-graph-dev            # CSR graph + connected components (graph/)
  libhnswlib-dev                # HNSW recall indices (recall/)
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc   # service/ and the query client
  python3-grpcio python3-protobuf        # examples/python_client.py (run by the service tests)
  python3-numpy python3-hnswlib          # graphrec export's files opened from Python (tests/python)
  pybind11-dev python3-dev python3-pytest python3-venv python3-setuptools   # the Python package (python/)
  libgtest-dev libgmock-dev libbenchmark-dev
  libeigen3-dev                 # ranker linear algebra
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  zlib1g-dev                    # .gz inputs
  libssl-dev                    # bearer tokens: SHA-256 and constant-time compare (service/auth)
  libopenmpi-dev openmpi-bin    # dist/: the MPI scale-out and its tests under mpirun
  libcpp-httplib-dev            # the /metrics endpoint (service/metrics)
  clang-14 libclang-rt-14-dev libomp-14-dev   # the fuzzing build (scripts/fuzz.sh)
  chromium                      # renders the nightly report in its test (headless)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
