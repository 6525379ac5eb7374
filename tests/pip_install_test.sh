#!/usr/bin/env bash
# pip install . of the repository into a fresh virtual environment (reusing
# this build's compiled libraries through GRAPHREC_BUILD_DIR), then the
# installed package, imported from elsewhere, embeds karate.
# Usage: pip_install_test.sh BUILD_DIR SOURCE_DIR PYTHON
set -euo pipefail
build=$1 source=$2 python=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m venv --system-site-packages "$work/env"
GRAPHREC_BUILD_DIR="$build" "$work/env/bin/pip" install --no-index --no-build-isolation -q "$source"
cd "$work"
"$work/env/bin/python" - "$source/tests/data/karate.edgelist" "$work/env" <<'PY'
import sys
import graphrec
assert graphrec.__file__.startswith(sys.argv[2]), f"imported {graphrec.__file__}, not the installed package"
vectors = graphrec.embed(graphrec.Graph.from_edge_list(sys.argv[1]), dimensions=8, workers=1)
assert vectors.vectors.shape == (34, 8), vectors.vectors.shape
from graphrec import Client  # the generated gRPC stubs were installed too
print("installed at", graphrec.__file__)
PY
